"""tf-lstm-import-tf1 (bin/import_tf1): imports a TF1 checkpoint into a new model
directory (step 0) that tf-lstm-train resumes.

  tf-lstm-import-tf1 --checkpoint=/old/run/model.ckpt --task=mnist --cell=lstm \\
      --num_layers=1 --num_units=128 --model_dir=/tmp/imported [--export_dir=/tmp/export]

Port names and their default TF1 names: see tf_lstm/app/tf1_import.py.  Nothing
is written unless every variable is found with the right shape.  The cell
choices and options are the registered cells' (``tf_lstm.cells.registry``).
"""

import os
import shutil
import sys

from absl import app
from absl import flags

from tf_lstm.app import commands
from tf_lstm.app import config as config_lib
from tf_lstm.app import tasks
from tf_lstm.app.commands import flagdefs
from tf_lstm.cells import registry

FLAGS = flags.FLAGS
# The run settings an import records in config.json (the model's, and what to resume with).
SETTINGS = ("task", "cell", "num_layers", "optimizer", "learning_rate", "batch_size")


def define_flags(flag_values=FLAGS):
  kw = dict(flag_values=flag_values)
  declared = config_lib.all_settings()
  image_tasks = sorted(n for n, cls in tasks.TASKS.items() if cls.tflite)
  for name in SETTINGS:
    choices = {"task": image_tasks, "cell": registry.names()}.get(name)
    flagdefs.define(declared[name], flag_values, choices=choices)
  flagdefs.define(declared["num_units"], flag_values)
  for name, (option, takers) in registry.all_options().items():
    flagdefs.define(option, flag_values, help_suffix=f" (--cell={'/'.join(takers)}; not "
                    "stored in TF1 checkpoints: give the TF1 cell's value)")
  flags.DEFINE_string("checkpoint", None, "TF1 checkpoint: a prefix (DIR/model.ckpt) or a "
                      "directory holding one.", **kw)
  flags.DEFINE_string("var_map", "", "Explicit names: port_name=tf1_name,... "
                      "(e.g. output/kernel=softmax/w).", **kw)
  flags.DEFINE_string("scope", "", "Find default TF1 names only under this scope.", **kw)
  flags.DEFINE_bool("allow_unused", False,
                    "Accept checkpoint variables (not optimizer slots) that nothing takes.", **kw)
  flags.DEFINE_string("model_dir", None, "New model dir: config.json + checkpoint at step 0.",
                      **kw)
  flags.DEFINE_string("export_dir", None, "Also write a SavedModel here (next free version).",
                      **kw)
  flags.mark_flags_as_required(["checkpoint", "model_dir"], **kw)
  flagdefs.register_dir_validators(flag_values, ["model_dir", "export_dir"])


def _check_new_model_dir(model_dir, checkpoints):
  taken = [name for name in (checkpoints.CONFIG_FILE, checkpoints.CHECKPOINT_SUBDIR)
           if os.path.exists(os.path.join(model_dir, name))]
  if taken:
    raise ValueError(f"--model_dir {model_dir} already holds a run ({', '.join(taken)}); "
                     "import into a new or empty directory")


def _config():
  model = {n: FLAGS[n].value for n in ("task", "cell", "num_layers", "num_units")}
  model.update({n: FLAGS[n].value for n in registry.all_options()})
  return config_lib.TrainConfig(
      model=config_lib.ModelConfig(**model), optimizer=FLAGS.optimizer,
      learning_rate=FLAGS.learning_rate, batch_size=FLAGS.batch_size,
      model_dir=FLAGS.model_dir, export_dir=FLAGS.export_dir or "").check()


def _remove_partial(model_dir, created, checkpoints):
  if created:
    shutil.rmtree(model_dir, ignore_errors=True)
    return
  for name in (checkpoints.CONFIG_FILE, checkpoints.CHECKPOINT_SUBDIR):
    target = os.path.join(model_dir, name)
    if os.path.isdir(target):
      shutil.rmtree(target, ignore_errors=True)
    elif os.path.exists(target):
      os.remove(target)


def main(argv):
  if len(argv) > 1:
    raise app.UsageError(f"unexpected arguments: {argv[1:]}")
  # pylint: disable=g-import-not-at-top
  from tf_lstm.app import tf1_import
  from tf_lstm.app.export import saved_model
  from tf_lstm.app.training import builder
  from tf_lstm.app.training import checkpoints
  # pylint: enable=g-import-not-at-top
  created = not os.path.exists(FLAGS.model_dir)
  try:
    config = _config()
    _check_new_model_dir(FLAGS.model_dir, checkpoints)
    var_map = tf1_import.parse_var_map(FLAGS.var_map)
    task, model, optimizer = builder.build(config)
    mapping = tf1_import.load(model, FLAGS.checkpoint, var_map, FLAGS.scope or None,
                              FLAGS.allow_unused)
  except ValueError as e:   # TF1ImportError is a ValueError.
    print(f"error: {e}", file=sys.stderr)
    return 1
  for port, tf1 in mapping.items():
    print(f"{port} <- {tf1}")
  try:
    checkpoints.check_or_write_config(FLAGS.model_dir, config)
    _, manager = checkpoints.make_manager(FLAGS.model_dir, model, optimizer)
    print(f"wrote {manager.save(checkpoint_number=0)}")
    if FLAGS.export_dir:
      print(f"exported SavedModel to "
            f"{saved_model.export(task.serving_module(model), FLAGS.export_dir)}")
  except BaseException as e:
    _remove_partial(FLAGS.model_dir, created, checkpoints)
    if isinstance(e, ValueError):
      print(f"error: {e}", file=sys.stderr)
      return 1
    raise
  return 0


def run():
  """Console-script entry point."""
  commands.run_command(__doc__, define_flags, main)
