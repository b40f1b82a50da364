"""tf-lstm-sweep (bin/sweep): trains a hidden-size x learning-rate grid and writes a
markdown table of test accuracy.

  tf-lstm-sweep --cell=binary_lstm --grid_num_units=32,64 --grid_learning_rates=1e-3,3e-3 \
      --train_steps=300 --data_dir=../shared/data/mnist-5k --sweep_dir=/tmp/sweep \
      --table=docs/binary_lstm_grid.md

Each grid point is one tf_lstm.app.training.loop.train run in <sweep_dir>/u<units>_lr<rate>
(a finished point is not trained again: its results.json is reused).
"""

import json
import os
import sys
import time

from absl import app
from absl import flags

from tf_lstm.app import commands
from tf_lstm.app import config as config_lib
from tf_lstm.app import tasks
from tf_lstm.app.commands import flagdefs
from tf_lstm.cells import registry

FLAGS = flags.FLAGS
# The run settings a sweep sets, with the sweep's own defaults where they differ.
SETTINGS = {"task": None, "cell": "binary_lstm", "num_layers": None, "optimizer": None,
            "lr_schedule": "cosine", "batch_size": None, "train_steps": 300,
            "augment_shift": None, "seed": None}   # None: the declared default


def _positive_numbers(kind):
  def check(values):
    try:
      return bool(values) and all(kind(v) > 0 for v in values)
    except ValueError:
      return False
  return check


def define_flags(flag_values=FLAGS):
  kw = dict(flag_values=flag_values)
  declared = config_lib.all_settings()
  for name, default in SETTINGS.items():
    choices = {"task": sorted(tasks.TASKS), "cell": registry.names()}.get(name)
    flagdefs.define(declared[name], flag_values, choices=choices,
                    **({} if default is None else {"default": default}))
  flags.DEFINE_list("grid_num_units", ["32", "64", "128"], "Hidden sizes of the grid.", **kw)
  flags.DEFINE_list("grid_learning_rates", ["1e-3", "3e-3", "1e-2"],
                    "Learning rates of the grid.", **kw)
  flags.DEFINE_string("data_dir", None, "MNIST IDX directory; default: tensorflow_datasets.",
                      **kw)
  flags.DEFINE_string("sweep_dir", None, "One model_dir per grid point goes here.", **kw)
  flags.DEFINE_string("table", None, "Write the markdown table here (default: print only).",
                      **kw)
  flags.DEFINE_string("title", None, "Markdown title line of the table file.", **kw)
  flags.mark_flag_as_required("sweep_dir", **kw)
  flags.register_validator("grid_num_units", _positive_numbers(int),
                           "--grid_num_units must be a comma list of positive integers", **kw)
  flags.register_validator("grid_learning_rates", _positive_numbers(float),
                           "--grid_learning_rates must be a comma list of positive numbers",
                           **kw)
  flagdefs.register_dir_validators(flag_values, ["data_dir"], must_exist=True)
  flags.register_validator(
      "sweep_dir", lambda v: v is None or not os.path.isfile(v),
      "--sweep_dir exists and is a file, not a directory", **kw)
  flags.register_validator(
      "table", lambda v: v is None or os.path.isdir(os.path.dirname(os.path.abspath(v))),
      "--table must be a path in an existing directory", **kw)



def markdown(units, rates, results, command):
  """The accuracy table (rows: hidden size, columns: learning rate) and how it was made."""
  head = "| hidden size | " + " | ".join(f"lr {r:g}" for r in rates) + " |"
  lines = [head, "|" + " --- |" * (len(rates) + 1)]
  for u in units:
    cells = []
    for r in rates:
      res = results[(u, r)]
      cells.append(f"{100 * res['test_accuracy']:.2f}% ({res['train_seconds']:.0f} s)")
    lines.append(f"| {u} | " + " | ".join(cells) + " |")
  best = max(results, key=lambda k: results[k]["test_accuracy"])
  lines += ["", f"Best: hidden size {best[0]}, learning rate {best[1]:g}: "
            f"{100 * results[best]['test_accuracy']:.2f}% test accuracy on "
            f"{results[best]['test_examples']} examples.", "",
            "Cells: test accuracy (training wall time).  Produced by:", "", "```",
            command, "```"]
  return "\n".join(lines) + "\n"


def main(argv):
  if len(argv) > 1:
    raise app.UsageError(f"unexpected arguments: {argv[1:]}")
  from tf_lstm.app.data import DataError  # pylint: disable=g-import-not-at-top
  from tf_lstm.app.training import loop  # pylint: disable=g-import-not-at-top
  units = [int(u) for u in FLAGS.grid_num_units]
  rates = [float(r) for r in FLAGS.grid_learning_rates]
  results = {}
  try:
    for u in units:
      for r in rates:
        model_dir = os.path.join(FLAGS.sweep_dir, f"u{u}_lr{r:g}")
        done = os.path.join(model_dir, loop.RESULTS_FILE)
        if os.path.exists(done):
          with open(done) as f:
            results[(u, r)] = json.load(f)
        else:
          config = config_lib.TrainConfig(
              model=config_lib.ModelConfig(task=FLAGS.task, cell=FLAGS.cell,
                                           num_layers=FLAGS.num_layers, num_units=u),
              optimizer=FLAGS.optimizer, learning_rate=r, lr_schedule=FLAGS.lr_schedule,
              batch_size=FLAGS.batch_size, train_steps=FLAGS.train_steps,
              log_every=max(1, FLAGS.train_steps // 4), checkpoint_every=FLAGS.train_steps,
              augment_shift=FLAGS.augment_shift, seed=FLAGS.seed,
              data_dir=FLAGS.data_dir or "", model_dir=model_dir)
          start = time.time()
          results[(u, r)] = loop.train(config, log=lambda m, u=u, r=r: print(
              f"[units {u} lr {r:g}] {m}", flush=True))
          print(f"[units {u} lr {r:g}] done in {time.time() - start:.0f} s", flush=True)
  except (DataError, ValueError, loop.TrainingError) as e:
    print(f"error: {e}", file=sys.stderr)
    return 1
  command = "bin/sweep " + " ".join(
      FLAGS[name].serialize()
      for name in ("task", "cell", "num_layers", "grid_num_units", "grid_learning_rates",
                   "optimizer", "lr_schedule", "batch_size", "train_steps", "augment_shift",
                   "seed", "data_dir", "sweep_dir", "table") if FLAGS[name].value is not None)
  table = markdown(units, rates, results, command)
  if FLAGS.title:
    table = f"# {FLAGS.title}\n\n" + table
  print(table)
  if FLAGS.table:
    tmp = FLAGS.table + ".tmp"
    with open(tmp, "w") as f:
      f.write(table)
    os.replace(tmp, FLAGS.table)   # never a half-written table
  return 0



def run():
  """Console-script entry point."""
  commands.run_command(__doc__, define_flags, main)
