"""tf-lstm-convert (bin/convert): converts the latest checkpoint of a training run (or
of a TF1 checkpoint imported with tf-lstm-import-tf1) to Keras 3 or PyTorch.

  tf-lstm-convert --model_dir=/tmp/mnist --to=keras --output=/tmp/mnist.keras
  tf-lstm-convert --model_dir=/tmp/mnist --to=torch --output=/tmp/mnist.pt

--to=keras writes one .keras file (keras.saving.load_model; the model outputs
probabilities).  --to=torch writes the state dict (.pt) and, next to it, the
module it fits (model.pt -> model.py; ``model.load()`` returns it; it outputs
logits).  A model with no exact counterpart is refused with the reason and
nothing is written; existing files are never overwritten.  docs/convert.md has
the layouts and what converts.  Needs the ``convert`` extra (keras, torch).
"""

import sys

from absl import app
from absl import flags

from tf_lstm.app import commands
from tf_lstm.app.commands import flagdefs

FLAGS = flags.FLAGS


def define_flags(flag_values=FLAGS):
  kw = dict(flag_values=flag_values)
  flags.DEFINE_string("model_dir", None, "The --model_dir of a tf-lstm-train run (or of "
                      "tf-lstm-import-tf1).", **kw)
  flags.DEFINE_enum("to", None, ["keras", "torch"], "Target framework.", **kw)
  flags.DEFINE_string("output", None, "File to write: .keras (keras) or .pt/.pth (torch; "
                      "the module goes next to it as .py).", **kw)
  flags.mark_flags_as_required(["model_dir", "to", "output"], **kw)
  flagdefs.register_dir_validators(flag_values, ["model_dir"], must_exist=True)


def main(argv):
  if len(argv) > 1:
    raise app.UsageError(f"unexpected arguments: {argv[1:]}")
  from tf_lstm.app.convert import ConvertError  # pylint: disable=g-import-not-at-top
  from tf_lstm.app.convert import converter  # pylint: disable=g-import-not-at-top
  try:
    paths = converter.convert(FLAGS.model_dir, FLAGS.to, FLAGS.output)
  except ConvertError as e:
    print(f"error: {e}", file=sys.stderr)
    return 1
  for path in paths:
    print(f"wrote {path}")
  return 0


def run():
  """Console-script entry point."""
  commands.run_command(__doc__, define_flags, main)
