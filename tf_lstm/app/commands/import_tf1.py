"""tf-lstm-import-tf1 (bin/import_tf1): imports a TF1 checkpoint into a new model
directory (step 0) that tf-lstm-train resumes.

  tf-lstm-import-tf1 --checkpoint=/old/run/model.ckpt --task=mnist --cell=lstm \\
      --num_layers=1 --num_units=128 [--bidirectional] --model_dir=/tmp/imported
  tf-lstm-import-tf1 --checkpoint=/old/ptb/model.ckpt --task=ptb --num_layers=2 \\
      --num_units=200 --data_dir=../shared/data/ptb-sample --train_file=ptb.train.txt \\
      --model_dir=/tmp/ptb          # or --vocab=FILE: the TF1 program's words in id order
  tf-lstm-import-tf1 --checkpoint=... --task=imdb --vocab=FILE --embedding_dim=64 ...
  tf-lstm-import-tf1 --checkpoint=... --task=conll_ner --data_dir=DIR --char_features=30 ...
  tf-lstm-import-tf1 --checkpoint=/old/tf1.0/model.ckpt --rename_to=/new/model.ckpt
      # a copy with today's TF1 names, for a TF1 program ported by its imports

Every task's model imports (tf_lstm/app/tf1_import/ports.py lists the port names
and their default TF1 names).  The text tasks import with the TF1 program's
vocabulary (tf_lstm/app/tf1_import/vocabulary.py), written to the model dir.
Nothing is written unless every variable is found with the right shape.  The
cell choices and options are the registered cells' (``tf_lstm.cells.registry``).
"""

import os
import shutil
import sys

from absl import app
from absl import flags

from tf_lstm.app import commands
from tf_lstm.app import config as config_lib
from tf_lstm.app import settings
from tf_lstm.app import tasks
from tf_lstm.app.commands import flagdefs
from tf_lstm.cells import registry

FLAGS = flags.FLAGS
# The run settings an import records in config.json besides the model's (what to resume with).
TRAIN_SETTINGS = tuple(o.name for o in settings.TRAIN_FIXED) + ("learning_rate",)


def _task_train_options():
  return list(dict.fromkeys(o.name for cls in tasks.TASKS.values() for o in cls.train_options))


def define_flags(flag_values=FLAGS):
  kw = dict(flag_values=flag_values)
  declared = config_lib.all_settings()
  for name in config_lib.MODEL_SETTINGS:
    choices = {"task": sorted(tasks.TASKS), "cell": registry.names()}.get(name)
    suffix = ""
    if name in registry.all_options():
      option, takers = registry.all_options()[name]
      suffix = (f" (--cell={'/'.join(takers)}; not stored in TF1 checkpoints: give the TF1 "
                "cell's value)")
    flagdefs.define(declared[name], flag_values, choices=choices, help_suffix=suffix)
  for name in TRAIN_SETTINGS + tuple(_task_train_options()) + ("data_dir",):
    flagdefs.define(declared[name], flag_values)
  flags.DEFINE_string("checkpoint", None, "TF1 checkpoint: a prefix (DIR/model.ckpt) or a "
                      "directory holding one.", **kw)
  flags.DEFINE_string("vocab", "", "ptb, imdb: the TF1 program's vocabulary, one word a "
                      "line in id order (imdb: lines 1-2 are ids 0-1, padding and unknown). "
                      "ptb without it: rebuilt from --data_dir's --train_file in the PTB "
                      "reader's order.", **kw)
  flags.DEFINE_string("var_map", "", "Explicit names: port_name=tf1_name,... "
                      "(e.g. output/kernel=softmax/w).", **kw)
  flags.DEFINE_string("scope", "", "Find default TF1 names only under this scope.", **kw)
  flags.DEFINE_bool("allow_unused", False, "Accept checkpoint variables (not optimizer "
                    "slots, global_step or learning rates) that nothing takes.", **kw)
  flags.DEFINE_string("model_dir", None, "New model dir: config.json + checkpoint at step 0.",
                      **kw)
  flags.DEFINE_string("export_dir", None, "Also write a SavedModel here (next free version).",
                      **kw)
  flags.DEFINE_bool("inspect", False, "List the checkpoint's variables and the architecture "
                    "they determine, with the import and train commands that fit; write "
                    "nothing.", **kw)
  flags.DEFINE_string("rename_to", None, "Write a copy of the checkpoint with today's (TF "
                      "1.2+) names at this new prefix (DIR/model.ckpt), for a TF1 graph "
                      "program ported by its imports to restore with its Saver; TF 1.0/1.1 "
                      "weights/biases and TF 0.12 Linear/Matrix names, slots included. "
                      "Nothing else is written.", **kw)
  flags.mark_flag_as_required("checkpoint", **kw)
  flags.register_multi_flags_validator(
      ["inspect", "model_dir", "rename_to"],
      lambda f: sum(bool(f[n]) for n in ("inspect", "model_dir", "rename_to")) == 1,
      "give exactly one of --model_dir (import), --inspect or --rename_to", **kw)
  flagdefs.register_dir_validators(flag_values, ["model_dir", "export_dir"])


def _asset_files(task):
  """The files the task writes in the model dir (vocabularies)."""
  return [a.filename for a in vars(task).values() if hasattr(a, "filename")]


def _check_new_model_dir(model_dir, written):
  taken = [name for name in written if os.path.exists(os.path.join(model_dir, name))]
  if taken:
    raise ValueError(f"--model_dir {model_dir} already holds a run ({', '.join(taken)}); "
                     "import into a new or empty directory")


def _from_checkpoint(given):
  """The settings that the flags leave open and the checkpoint determines (tf1_inspect)."""
  from tf_lstm.app import tf1_inspect  # pylint: disable=g-import-not-at-top
  arch = tf1_inspect.inspect(FLAGS.checkpoint, FLAGS.scope or None)
  found = tf1_inspect.import_defaults(arch, given, var_map=bool(FLAGS.var_map))
  if found:
    print("from the checkpoint: " + " ".join(f"{k}={v}" for k, v in found.items()))
  return found


def _config():
  values = {n: FLAGS[n].value for n in config_lib.all_settings() if n in FLAGS}
  values.update(_from_checkpoint({n: v for n, v in values.items() if FLAGS[n].present}))
  task = values["task"]
  model = {n: values[n] for n in config_lib.model_setting_names(task, values["cell"])}
  train = {n: values[n] for n in config_lib.train_setting_names(task)
           if n in TRAIN_SETTINGS or n in _task_train_options() or n == "data_dir"}
  if task == "imdb" and FLAGS.vocab and FLAGS["vocab_size"].present:
    raise ValueError("--vocab_size: with --vocab the vocabulary size is the file's "
                     "(its lines after the first two); leave --vocab_size out")
  return config_lib.TrainConfig(
      model=config_lib.ModelConfig(**model), model_dir=FLAGS.model_dir,
      export_dir=FLAGS.export_dir or "", **train).check()


def _remove_partial(model_dir, created, written):
  """Removes what the import wrote (everything, if it created ``model_dir``)."""
  if created:
    shutil.rmtree(model_dir, ignore_errors=True)
    return
  for name in written:
    target = os.path.join(model_dir, name)
    if os.path.isdir(target):
      shutil.rmtree(target, ignore_errors=True)
    elif os.path.exists(target):
      os.remove(target)


def import_checkpoint(config, checkpoint, vocab="", var_map=None, scope=None,
                      allow_unused=False, log=print):
  """Imports ``checkpoint`` into a new run in ``config.model_dir``; returns the mapping.

  Validates everything (vocabulary, names, shapes, dtypes) before writing;
  writes config.json, the task's vocabulary, a checkpoint at the TF1 run's step
  (its optimizer state imported: tf_lstm/app/tf1_optimizer_state.py) and, with
  ``config.export_dir``, a SavedModel.  Raises ``ValueError`` (``TF1ImportError``)
  before writing anything if the checkpoint does not fit.
  """
  # pylint: disable=g-import-not-at-top
  from tf_lstm.app import tf1_import
  from tf_lstm.app import tf1_optimizer_state
  from tf_lstm.app.export import saved_model
  from tf_lstm.app.tf1_import import vocabulary
  from tf_lstm.app.training import builder
  from tf_lstm.app.training import checkpoints
  # pylint: enable=g-import-not-at-top
  task = tasks.get(config.model.task)
  written = [checkpoints.CONFIG_FILE, checkpoints.CHECKPOINT_SUBDIR, *_asset_files(task)]
  _check_new_model_dir(config.model_dir, written)
  config, vocab_source = vocabulary.give_to_task(task, config, vocab, config.data_dir)
  if vocab_source:
    log(f"vocabulary: {vocab_source}")
  task, model, optimizer = builder.build(config, task=task)
  mapping = tf1_import.load(model, checkpoint, var_map, scope, allow_unused)
  for port, tf1 in mapping.items():
    log(f"{port} <- {tf1}")
  for note in tf1_optimizer_state.load(checkpoint, model, optimizer, mapping):
    log(note)
  created = not os.path.exists(config.model_dir)
  try:
    checkpoints.check_or_write_config(config.model_dir, config)
    task.save_assets(config.model_dir)
    _, manager = checkpoints.make_manager(config.model_dir, model, optimizer)
    log(f"wrote {manager.save(checkpoint_number=int(optimizer.iterations.numpy()))}")
    if config.export_dir:
      log(f"exported SavedModel to "
          f"{saved_model.export(task.serving_module(model), config.export_dir)}")
  except BaseException:
    _remove_partial(config.model_dir, created, written)
    raise
  return mapping


def _rename(checkpoint, destination):
  """``--rename_to``: the checkpoint copied with today's names (tf1_import/rename.py)."""
  from tf_lstm.app import tf1_import  # pylint: disable=g-import-not-at-top
  from tf_lstm.app.tf1_import import rename  # pylint: disable=g-import-not-at-top
  prefix, reader = tf1_import.open_checkpoint(checkpoint)
  changes = rename.rename_checkpoint(reader, destination)
  if not changes:
    print(f"{prefix} already has today's names: restore it as it is (nothing written)")
    return 0
  for old, new in changes:
    print(f"  {old} -> {new}")
  print(f"wrote {destination} ({len(changes)} of "
        f"{len(reader.get_variable_to_shape_map())} entries renamed)")
  return 0


def main(argv):
  if len(argv) > 1:
    raise app.UsageError(f"unexpected arguments: {argv[1:]}")
  from tf_lstm.app import tf1_import  # pylint: disable=g-import-not-at-top
  try:
    if FLAGS.rename_to:
      return _rename(FLAGS.checkpoint, FLAGS.rename_to)
    if FLAGS.inspect:
      from tf_lstm.app import tf1_inspect  # pylint: disable=g-import-not-at-top
      arch = tf1_inspect.inspect(FLAGS.checkpoint, FLAGS.scope or None)
      print(tf1_inspect.report(arch, FLAGS.task if FLAGS["task"].present else None))
      return 0
    import_checkpoint(_config(), FLAGS.checkpoint, FLAGS.vocab,
                      tf1_import.parse_var_map(FLAGS.var_map), FLAGS.scope or None,
                      FLAGS.allow_unused)
  except ValueError as e:   # TF1ImportError, DataError, ResumeError are ValueErrors.
    print(f"error: {e}", file=sys.stderr)
    return 1
  return 0


def run():
  """Console-script entry point."""
  commands.run_command(__doc__, define_flags, main)
