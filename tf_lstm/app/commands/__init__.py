"""The command-line programs: ``tf-lstm-train``, ``tf-lstm-export``, ... (setup.cfg).

Each module has ``define_flags(flag_values)``, ``main(argv)`` and ``run()``
(``run_command(__doc__, define_flags, main)``).  The console scripts and
``bin/<name>`` call ``launch.<name>()``, which runs ``start()`` before the
command's module (and with it TensorFlow) is imported.
Only these modules talk in ``--flags``; the application below them takes
plain values.

``start()`` sets the process environment before TensorFlow loads:

* ``TF_ENABLE_ONEDNN_OPTS=1``: oneDNN matrix kernels.  TensorFlow turns them
  on by default only on some Intel CPUs; on the AVX2 AMD EPYC measured here
  they make a training step faster too (figures: docs/benchmarks.md).
* TensorFlow's C++ start-up messages (oneDNN banner, CUDA probing on a machine
  without GPUs, CPU-feature notes) are hidden: ``TF_CPP_MIN_LOG_LEVEL=2`` and
  TensorFlow's loading and device discovery run with stderr captured, and
  only lines other than those messages are passed on.  Python-side INFO
  records show with ``--verbosity=0``.

A value the user sets wins: ``TF_ENABLE_ONEDNN_OPTS=0`` gets Eigen's kernels,
any ``TF_CPP_MIN_LOG_LEVEL`` (e.g. 0) shows TensorFlow's messages as they are.
"""

import os
import re
import sys
import tempfile

ENV_DEFAULTS = {"TF_ENABLE_ONEDNN_OPTS": "1"}
QUIET_LOG_LEVEL = "2"   # C++ INFO and WARNING off; errors after start-up still show
# Start-up lines that say nothing about the run: absl's pre-init notice, C++
# INFO/WARNING records, the CPU-feature note and the CUDA probe of a CPU-only host.
_NOISE = re.compile(r"^(WARNING: All log messages before absl::InitializeLog\(\)"
                    r"|[IW]\d{4} |To enable the following instructions"
                    r"|E\d{4} .*(cuInit|cuda_|Unable to register cu))")


def start():
  """Applies the environment defaults and loads TensorFlow quietly (see module docstring).

  Must run before anything imports TensorFlow to take full effect; later,
  it only sets the variables TensorFlow reads at run time.
  """
  for key, value in ENV_DEFAULTS.items():
    os.environ.setdefault(key, value)
  if "TF_CPP_MIN_LOG_LEVEL" in os.environ or "tensorflow" in sys.modules:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", QUIET_LOG_LEVEL)
    return
  os.environ["TF_CPP_MIN_LOG_LEVEL"] = QUIET_LOG_LEVEL
  sys.stderr.flush()
  saved = os.dup(2)
  with tempfile.TemporaryFile(mode="w+b") as captured:
    os.dup2(captured.fileno(), 2)
    try:
      import tensorflow as tf  # pylint: disable=g-import-not-at-top
      tf.config.list_physical_devices()   # the device probe logs now, while captured
    finally:
      os.dup2(saved, 2)
      os.close(saved)
      captured.seek(0)
      text = captured.read().decode("utf-8", "replace")
      kept = [line for line in text.splitlines() if line.strip() and not _NOISE.match(line)]
      if kept:
        print("\n".join(kept), file=sys.stderr)


def run_command(doc, define_flags, main):
  """``start()``, the command's flags (listed by ``--help``), then ``absl.app.run(main)``."""
  start()
  from absl import app  # pylint: disable=g-import-not-at-top
  from absl import flags  # pylint: disable=g-import-not-at-top
  from absl import logging  # pylint: disable=g-import-not-at-top
  before = set(flags.FLAGS)
  define_flags(flags.FLAGS)
  for name in sorted(set(flags.FLAGS) - before):   # --help lists the main module's flags
    flags.FLAGS.register_key_flag_for_module(sys.argv[0], flags.FLAGS[name])
  sys.modules["__main__"].__doc__ = doc   # --help's usage text

  def quiet_main(argv):
    # Python-side INFO records (TensorFlow's checkpoint notes) only with --verbosity=0.
    if not flags.FLAGS["verbosity"].present:
      logging.set_verbosity(logging.WARNING)
    return main(argv)
  app.run(quiet_main)
