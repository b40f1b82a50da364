"""Exports the newest intact checkpoint of a ``bin/train`` run (``bin/export``).

The model is rebuilt from ``<model_dir>/config.json`` with ``training.builder.build``, so
any task and cell the project trains exports the same way ``bin/train
--export_dir`` does (both end in ``saved_model.export``).
"""

import os
import sys

import tensorflow as tf

from tf_lstm.app import tasks
from tf_lstm.app.export import saved_model
from tf_lstm.app.training import checkpoints
from tf_lstm.app.training import builder


def _warn(line):
  print(line, file=sys.stderr)


def export_latest(model_dir, export_base, version=None, tflite=False, jit_compile=False,
                  log=print, warn=_warn):
  """Restores the newest intact checkpoint in ``model_dir`` and exports it.

  ``jit_compile``: the network as an XLA function (image tasks; see
  ``tf_lstm.app.export.image_serving``).  ``warn(line)`` names each damaged
  checkpoint skipped.

  Returns the version directory.  Raises ``saved_model.ExportError`` naming
  the problem (no config, no checkpoint, bad version, existing version)
  before anything is written.
  """
  if not os.path.isdir(model_dir):
    raise saved_model.ExportError(f"model dir {model_dir} does not exist")
  saved_model.check_export_base(export_base)
  if version is not None:
    version = saved_model.check_version(version)
    target = os.path.join(export_base, str(version))
    if os.path.exists(target):
      raise saved_model.ExportError(
          f"{target} already exists; exports are never overwritten "
          "(leave the version out to use the next free one)")
  config = read_run_config(model_dir)
  if jit_compile and not tasks.get(config.model.task).jit_serving:
    raise saved_model.ExportError(f"an XLA (jit_compile) export is for image tasks, "
                                  f"not {config.model.task!r}")
  _, task, model, step = restore_latest_model(model_dir, config, warn=warn)
  log(f"restored the step-{step} checkpoint of {model_dir}")
  module = (task.serving_module(model, jit_compile=True) if jit_compile
            else task.serving_module(model))
  return saved_model.export(module, export_base, version, tflite=tflite)


def restore_latest_model(model_dir, config=None, warn=_warn):
  """``(config, task, model, step)`` of a ``bin/train`` run, from its
  ``config.json``, saved assets (vocabularies) and newest intact checkpoint.
  ``config``: the run's ``TrainConfig`` when the caller has already read it
  (``read_run_config(model_dir)``), so ``config.json`` is read once.  A damaged
  newer checkpoint is skipped (``warn`` names its file) and left in place.

  Raises ``saved_model.ExportError`` naming what is missing or unreadable.
  """
  config = config or read_run_config(model_dir)
  task = tasks.get(config.model.task)
  try:
    task.use_assets(model_dir, config)   # e.g. the vocabulary the run saved
  except (OSError, ValueError) as e:
    raise saved_model.ExportError(f"cannot read the run's assets in {model_dir} ({e})") from e
  # steps_per_epoch only shapes the learning-rate schedule, unused here.
  _, model, optimizer = builder.build(config, task=task, steps_per_epoch=1)
  # Read only: no lock, no CheckpointManager (it would not write, but needs none).
  try:
    restored, _ = checkpoints.restore_newest_intact(
        tf.train.Checkpoint(model=model, optimizer=optimizer),
        os.path.join(model_dir, checkpoints.CHECKPOINT_SUBDIR), warn=warn)
  except checkpoints.ResumeError as e:
    raise saved_model.ExportError(str(e)) from e
  if not restored:
    raise saved_model.ExportError(
        f"{model_dir} has no checkpoint under {checkpoints.CHECKPOINT_SUBDIR}/; "
        "train a run there first")
  return config, task, model, int(optimizer.iterations.numpy())


def read_run_config(model_dir):
  """The ``TrainConfig`` in ``model_dir/config.json``; ``ExportError`` if unusable."""
  try:
    return checkpoints.read_config(model_dir)
  except (checkpoints.ResumeError, ValueError, TypeError, KeyError) as e:
    raise saved_model.ExportError(
        f"cannot read the run's configuration in {model_dir} ({e}); expected the "
        f"model directory of a training run") from e
