"""tf-lstm-export (bin/export): exports the latest checkpoint of a training run.

  tf-lstm-export --model_dir=/tmp/mnist --export_dir=/tmp/mnist_export [--version=N] [--tflite]

Writes <export_dir>/<version>/{saved_model.pb, variables/} (TF Serving's
layout; version defaults to the next free integer) and, with --tflite,
<export_dir>/<version>/model.tflite.  Existing versions are never touched.
"""

import sys

from absl import app
from absl import flags

from tf_lstm.app import commands
from tf_lstm.app.commands import flagdefs

FLAGS = flags.FLAGS


def define_flags(flag_values=FLAGS):
  kw = dict(flag_values=flag_values)
  flags.DEFINE_string("model_dir", None, "The --model_dir of a tf-lstm-train run.", **kw)
  flags.DEFINE_string("export_dir", None, "Base directory of the versioned exports.", **kw)
  flags.DEFINE_integer("version", None, "Version to write (default: next free one).",
                       lower_bound=1, **kw)
  flags.DEFINE_bool("tflite", False, "Also write <version>/model.tflite.", **kw)
  flags.DEFINE_bool("jit_compile", False,
                    "Image tasks: compile the network with XLA (lowest batch-1 latency on "
                    "CPU; one compilation per batch size; TF Serving needs "
                    "--xla_cpu_compilation_enabled=true).", **kw)
  flags.mark_flags_as_required(["model_dir", "export_dir"], **kw)
  flagdefs.register_dir_validators(flag_values, ["model_dir"], must_exist=True)
  flagdefs.register_dir_validators(flag_values, ["export_dir"])


def main(argv):
  if len(argv) > 1:
    raise app.UsageError(f"unexpected arguments: {argv[1:]}")
  from tf_lstm.app.export import from_checkpoint  # pylint: disable=g-import-not-at-top
  from tf_lstm.app.export import saved_model  # pylint: disable=g-import-not-at-top
  try:
    path = from_checkpoint.export_latest(FLAGS.model_dir, FLAGS.export_dir,
                                         FLAGS.version, tflite=FLAGS.tflite,
                                         jit_compile=FLAGS.jit_compile)
  except saved_model.ExportError as e:
    print(f"error: {e}", file=sys.stderr)
    return 1
  print(f"exported {path}")
  return 0


def run():
  """Console-script entry point."""
  commands.run_command(__doc__, define_flags, main)
