"""tf-lstm-predict (bin/predict): classifies 28x28 digits with an exported SavedModel
only (this file imports nothing of tf_lstm).

  tf-lstm-predict --export_dir=/tmp/mnist_export/1 --data_dir=../shared/data/mnist-5k
  tf-lstm-predict --export_dir=/tmp/mnist_export --input=t10k-images-idx3-ubyte.gz
  tf-lstm-predict --export_dir=/tmp/mnist_export/1 --input=digit.png

--data_dir reads the test split (t10k-images/labels-idx?-ubyte[.gz]); --input
reads one IDX image file (labels from --labels, or the matching
*-labels-idx1-ubyte[.gz] beside it) or one grayscale PNG.  An --export_dir
without saved_model.pb means its newest version.  Uses ``predict_uint8``.
Prints the first --show predictions and, with labels, the accuracy.
"""

import gzip
import os
import re
import sys

from absl import app
from absl import flags


FLAGS = flags.FLAGS


def define_flags(flag_values=FLAGS):
  kw = dict(flag_values=flag_values)
  flags.DEFINE_string("export_dir", None,
                      "A version dir (E/1) or a base dir (newest version).", **kw)
  flags.DEFINE_string("data_dir", None,
                      "Directory with t10k-images-idx3-ubyte[.gz] (+labels).", **kw)
  flags.DEFINE_string("input", None, "An IDX image file or a PNG.", **kw)
  flags.DEFINE_string("labels", None,
                      "IDX label file for --input (default: found beside it).", **kw)
  flags.DEFINE_integer("batch_size", 500, "Examples per request.", lower_bound=1, **kw)
  flags.DEFINE_integer("show", 10, "Print this many predictions.", lower_bound=0, **kw)
  flags.DEFINE_string("signature", "predict_uint8",
                      "Signature taking uint8 [None, 28, 28].", **kw)
  flags.mark_flag_as_required("export_dir", **kw)
  flags.register_validator("export_dir", os.path.isdir, "--export_dir must be a directory", **kw)
  flags.register_validator("data_dir", lambda v: v is None or os.path.isdir(v),
                           "--data_dir must be an existing directory", **kw)
  flags.register_validator("input", lambda v: v is None or os.path.isfile(v),
                           "--input must be an existing file (IDX or PNG)", **kw)
  flags.register_validator("labels", lambda v: v is None or os.path.isfile(v),
                           "--labels must be an existing IDX label file", **kw)
  flags.register_multi_flags_validator(
      ["data_dir", "input"], lambda f: (f["data_dir"] is None) != (f["input"] is None),
      "give exactly one of --data_dir or --input", **kw)


class InputError(ValueError):
  """An input file is missing or not what was expected."""


def read_idx(path, ndim):
  """A uint8 IDX file (plain or .gz) with ``ndim`` dims, as a numpy array."""
  import numpy as np
  try:
    with (gzip.open if path.endswith(".gz") else open)(path, "rb") as f:
      raw = f.read()
  except (OSError, EOFError) as e:
    raise InputError(f"{path}: cannot read ({e})") from e
  magic = 0x0800 | ndim
  if len(raw) < 4 + 4 * ndim or int.from_bytes(raw[:4], "big") != magic:
    raise InputError(f"{path}: not an unsigned-byte IDX file with {ndim} dims "
                     f"(expected magic 0x{magic:08x})")
  dims = [int.from_bytes(raw[4 + 4 * k:8 + 4 * k], "big") for k in range(ndim)]
  data = raw[4 + 4 * ndim:]
  if len(data) != int(np.prod(dims)):
    raise InputError(f"{path}: {len(data)} data bytes, expected {int(np.prod(dims))} "
                     f"for dims {dims}")
  return np.frombuffer(data, np.uint8).reshape(dims)


def find(directory, name):
  for candidate in (name, name + ".gz"):
    if os.path.isfile(os.path.join(directory, candidate)):
      return os.path.join(directory, candidate)
  return None


def read_png(path):
  import tensorflow as tf
  try:
    image = tf.io.decode_png(tf.io.read_file(path), channels=1).numpy()[..., 0]
  except tf.errors.InvalidArgumentError as e:
    raise InputError(f"{path}: not a PNG image ({_first_line(e)})") from e
  if image.shape != (28, 28):
    raise InputError(f"{path}: image is {image.shape[1]}x{image.shape[0]}, expected 28x28")
  return image[None]


def load_inputs():
  """(uint8 images [N, 28, 28], int labels [N] or None)."""
  if FLAGS.data_dir:
    path = find(FLAGS.data_dir, "t10k-images-idx3-ubyte")
    if path is None:
      raise InputError(f"{FLAGS.data_dir}: no t10k-images-idx3-ubyte[.gz]")
    label_path = find(FLAGS.data_dir, "t10k-labels-idx1-ubyte")
  elif FLAGS.input.lower().endswith(".png"):
    return read_png(FLAGS.input), None
  else:
    path = FLAGS.input
    name = os.path.basename(path).replace(".gz", "")
    label_path = FLAGS.labels or (
        find(os.path.dirname(path), name.replace("images-idx3", "labels-idx1"))
        if "images-idx3" in name else None)
  images = read_idx(path, 3)
  if images.shape[1:] != (28, 28):
    raise InputError(f"{path}: images of shape {images.shape[1:]}, expected (28, 28)")
  labels = read_idx(label_path, 1) if label_path else None
  if labels is not None and len(labels) != len(images):
    raise InputError(f"{label_path} has {len(labels)} labels for {len(images)} images")
  return images, labels


def resolve_export(export_dir):
  if os.path.isfile(os.path.join(export_dir, "saved_model.pb")):
    return export_dir
  try:
    names = os.listdir(export_dir)
  except OSError as e:
    raise InputError(f"{export_dir}: cannot list the directory ({e})") from e
  versions = sorted(
      int(d) for d in names
      if d.isdigit() and os.path.isfile(os.path.join(export_dir, d, "saved_model.pb")))
  if not versions:
    raise InputError(f"{export_dir} has no saved_model.pb and no version directories")
  return os.path.join(export_dir, str(versions[-1]))


# TensorFlow's preamble and traces around what failed: "Graph execution error:",
# "Detected at node ... defined at", the traces (indented) or their stand-in.
_NOT_THE_REASON = re.compile(r"^(Graph execution error:|Detected at node |<stack traces |\s)")


def _first_line(error):
  """The error's first line that says what failed, without an eager op's
  ``{{function_node ...}}`` and ``[Op:...]`` decorations."""
  text = str(getattr(error, "message", None) or error)
  lines = [l for l in text.splitlines() if l.strip() and not _NOT_THE_REASON.match(l)]
  line = lines[0] if lines else ""
  line = re.sub(r"\s*\[Op:\w+\].*$", "", re.sub(r"^\{\{function_node [^}]*\}\}\s*", "", line))
  return line or type(error).__name__


def load_export(export):
  """The loaded SavedModel; ``InputError`` if ``export`` is damaged or not one."""
  import tensorflow as tf
  try:
    return tf.saved_model.load(export)
  # A damaged export fails in TensorFlow's loader with many types (OSError for a
  # corrupt saved_model.pb, ValueError, FileNotFoundError, IndexError for truncated
  # variables, tf.errors.*): each one means the same to the user.
  except Exception as e:  # pylint: disable=broad-except
    raise InputError(f"{export}: cannot load the SavedModel ({type(e).__name__}: "
                     f"{_first_line(e)}); expected saved_model.pb and variables/ as "
                     "bin/export writes them") from e


def main(argv):
  if len(argv) > 1:
    raise app.UsageError(f"unexpected arguments: {argv[1:]}")
  import numpy as np
  try:
    export = resolve_export(FLAGS.export_dir)
    images, labels = load_inputs()
    model = load_export(export)
  except InputError as e:
    print(f"error: {e}", file=sys.stderr)
    return 1
  import tensorflow as tf
  if FLAGS.signature not in model.signatures:
    print(f"error: {export} has no signature {FLAGS.signature!r}; "
          f"it has {sorted(model.signatures)}", file=sys.stderr)
    return 1
  serve = model.signatures[FLAGS.signature]
  classes, probs = [], []
  try:
    for start in range(0, len(images), FLAGS.batch_size):
      out = serve(images=tf.constant(images[start:start + FLAGS.batch_size]))
      classes.append(out["classes"].numpy())
      probs.append(out["probabilities"].numpy().max(axis=1))
  except (tf.errors.OpError, TypeError, ValueError, KeyError) as e:
    # A signature of another contract (inputs, outputs) or a damaged graph.
    print(f"error: {export}: signature {FLAGS.signature!r} failed on uint8 images "
          f"[N, 28, 28] ({type(e).__name__}: {_first_line(e)})", file=sys.stderr)
    return 1
  classes, probs = np.concatenate(classes), np.concatenate(probs)
  print(f"model {export}, {len(images)} images")
  for i in range(min(FLAGS.show, len(images))):
    label = "" if labels is None else f" label {labels[i]}"
    print(f"{i}: class {classes[i]} probability {probs[i]:.4f}{label}")
  if labels is not None:
    correct = int((classes == labels).sum())
    print(f"accuracy {correct / len(labels):.4f} ({correct}/{len(labels)})")
  return 0


def run():
  """Console-script entry point."""
  from tf_lstm.app import commands  # pylint: disable=g-import-not-at-top
  commands.run_command(__doc__, define_flags, main)


def _commands_from_file():
  """``tf_lstm.app.commands`` (the commands' quiet start-up, standard library only)
  loaded from its file beside this one, not as part of the tf_lstm package."""
  import importlib.util  # pylint: disable=g-import-not-at-top
  path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "__init__.py")
  spec = importlib.util.spec_from_file_location("_tf_lstm_commands", path)
  module = importlib.util.module_from_spec(spec)
  spec.loader.exec_module(module)
  return module


if __name__ == "__main__":
  # bin/predict runs this file alone: it imports nothing of tf_lstm, as a serving
  # client would not (tests/export/test_cli.py runs it where tf_lstm is not installed),
  # yet starts as every command does (TensorFlow's start-up lines hidden).
  _commands_from_file().run_command(__doc__, define_flags, main)
