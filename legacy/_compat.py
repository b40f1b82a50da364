"""Makes legacy/'s TF1-era programs importable on TensorFlow 2 (no original's code).

Importing this module -- before tensorflow, as the first import of every
legacy program -- does three things and nothing else:

1. Sets ``TF_USE_LEGACY_KERAS=1`` (unless set) and checks that ``tf_keras`` is
   installed: with Keras 3, ``tf.compat.v1.nn.rnn_cell.BasicLSTMCell`` & co.
   raise "not available with Keras 3".  TensorFlow reads the variable when
   tf.keras is first touched, so it must be set before tensorflow is imported.
2. Installs stand-ins for the two TF1 modules that TF 2 removed, so that the
   originals' import lines run unchanged:

     tensorflow.contrib.rnn                          legacy/_contrib_rnn.py
     tensorflow.examples.tutorials.mnist.input_data  legacy/_input_data.py

   (``tensorflow.contrib`` and the ``examples`` packages above them are empty
   packages).  An import finder placed first on ``sys.meta_path`` serves these
   names only; every other name resolves as usual.
3. Offers ``data_dir_flag()``: the ``--data_dir`` flag (or ``MNIST_DATA_DIR``)
   that replaces a hard-coded data path.
"""

from __future__ import absolute_import, division, print_function

import argparse
import importlib.abc
import importlib.machinery
import importlib.util
import os
import sys

_HERE = os.path.dirname(os.path.abspath(__file__))

_LEGACY_KERAS_MESSAGE = (
    "legacy/ needs the tf-keras package: pip install tf-keras==2.21.0 "
    "(use the tf-keras version matching your TensorFlow version). "
    "The TF1 RNN cells (tf.compat.v1.nn.rnn_cell.*) are not available with "
    "Keras 3; legacy/ programs run them through tf_keras with "
    "TF_USE_LEGACY_KERAS=1.")

# TF1 module name -> file that stands in for it (None: an empty package).
SHIMS = {
    "tensorflow.contrib": None,
    "tensorflow.contrib.rnn": os.path.join(_HERE, "_contrib_rnn.py"),
    "tensorflow.examples": None,
    "tensorflow.examples.tutorials": None,
    "tensorflow.examples.tutorials.mnist": None,
    "tensorflow.examples.tutorials.mnist.input_data":
        os.path.join(_HERE, "_input_data.py"),
}


def require_legacy_keras():
  """Sets TF_USE_LEGACY_KERAS=1 (unless set) and checks tf_keras exists.

  Exits the process with a clear message when tf_keras is not importable or
  when the environment explicitly disables legacy Keras.
  """
  if os.environ.get("LEGACY_RNN") == "tf_lstm":
    return  # a copy whose rnn import reads `import tf_lstm as rnn` (tests/test_tf1_programs.py)
  os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")
  if os.environ["TF_USE_LEGACY_KERAS"] not in ("1", "true", "True"):
    sys.exit("legacy/ needs TF_USE_LEGACY_KERAS=1 (found TF_USE_LEGACY_KERAS=%r"
             "); unset it or set it to 1." % os.environ["TF_USE_LEGACY_KERAS"])
  if importlib.util.find_spec("tf_keras") is None:
    sys.exit(_LEGACY_KERAS_MESSAGE)
  if "tensorflow" in sys.modules:
    # TF resolves Keras lazily, so this usually still works, but not if
    # tf.keras / rnn_cell was already touched with Keras 3 in this process.
    print("WARNING: tensorflow was imported before legacy/_compat; if "
          "tf.keras was already used with Keras 3, the TF1 RNN cells will "
          "fail. Import _compat before tensorflow.", file=sys.stderr)


class _EmptyPackage(importlib.abc.Loader):

  def create_module(self, spec):
    return None  # the default module object

  def exec_module(self, module):
    pass


class _ShimFinder(importlib.abc.MetaPathFinder):
  """Finds the names in SHIMS (and only those)."""

  def find_spec(self, fullname, path=None, target=None):
    if fullname not in SHIMS:
      return None
    source = SHIMS[fullname]
    if source is None:
      return importlib.machinery.ModuleSpec(fullname, _EmptyPackage(),
                                            is_package=True)
    return importlib.util.spec_from_file_location(fullname, source)


def install_shims():
  if not any(isinstance(f, _ShimFinder) for f in sys.meta_path):
    sys.meta_path.insert(0, _ShimFinder())


def data_dir_flag(default="/tmp/data/", argv=None):
  """The data directory: ``--data_dir=DIR``, else $MNIST_DATA_DIR, else default.

  For the originals, whose only flag this is: any other argument is an error.
  """
  parser = argparse.ArgumentParser(
      description="A legacy/ program; its one flag replaces its hard-coded "
      "data path.")
  parser.add_argument("--data_dir",
                      default=os.environ.get("MNIST_DATA_DIR", default),
                      help="directory with the MNIST IDX files (.gz or plain; "
                      "default: $MNIST_DATA_DIR, else %s)" % default)
  return parser.parse_args(sys.argv[1:] if argv is None else argv).data_dir


require_legacy_keras()
install_shims()
