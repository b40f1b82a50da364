"""tf-lstm-sample (bin/sample): generates text from a trained language model (a ptb run).

  tf-lstm-sample --model_dir=/tmp/ptb --length=50 --prime="the" [--temperature=1.0] [--seed=0]
"""

import sys

from absl import app
from absl import flags

from tf_lstm.app import commands
from tf_lstm.app.commands import flagdefs

FLAGS = flags.FLAGS


def define_flags(flag_values=FLAGS):
  kw = dict(flag_values=flag_values)
  flags.DEFINE_string("model_dir", None, "The --model_dir of a --task=ptb training run.", **kw)
  flags.DEFINE_integer("length", 50, "Words to generate.", lower_bound=1, **kw)
  flags.DEFINE_string("prime", "the", "Words to start from (space-separated; unknown -> "
                      "<unk>).", **kw)
  flags.DEFINE_float("temperature", 1.0, "Softmax temperature (< 1: more conservative).", **kw)
  flags.DEFINE_integer("seed", 0, "Sampling seed.", lower_bound=0, **kw)
  flags.mark_flag_as_required("model_dir", **kw)
  flagdefs.register_dir_validators(flag_values, ["model_dir"], must_exist=True)
  flags.register_validator("temperature", lambda v: v > 0, "--temperature must be > 0", **kw)


def main(argv):
  if len(argv) > 1:
    raise app.UsageError(f"unexpected arguments: {argv[1:]}")
  from tf_lstm.app import generate  # pylint: disable=g-import-not-at-top
  from tf_lstm.app.data import DataError  # pylint: disable=g-import-not-at-top
  from tf_lstm.app.training.checkpoints import ResumeError  # pylint: disable=g-import-not-at-top
  try:
    model, words, step = generate.load_trained(FLAGS.model_dir)
  except (DataError, ResumeError, ValueError) as e:
    print(f"error: {e}", file=sys.stderr)
    return 1
  del step
  prime = generate.words_to_ids(FLAGS.prime.split(), words)
  # After <eos>: the prime starts a sentence, as after a line end in training.
  ids = generate.sample(model, generate.words_to_ids(["<eos>"], words) + prime,
                        FLAGS.length, FLAGS.temperature, FLAGS.seed)
  print(generate.to_text(prime + ids, words))
  return 0


def run():
  """Console-script entry point."""
  commands.run_command(__doc__, define_flags, main)
