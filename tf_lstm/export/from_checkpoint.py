"""Exports the latest checkpoint of a ``bin/train`` run (``bin/export``).

The model is rebuilt from ``<model_dir>/config.json`` with ``loop.build``, so
any task and cell the project trains exports the same way ``bin/train
--export_dir`` does (both end in ``saved_model.export``).
"""

import os

from tf_lstm import tasks
from tf_lstm.export import saved_model
from tf_lstm.training import checkpoints
from tf_lstm.training import loop


def export_latest(model_dir, export_base, version=None, tflite=False, jit_compile=False,
                  log=print):
  """Restores the newest checkpoint in ``model_dir`` and exports it.

  ``jit_compile``: the network as an XLA function (image tasks; see
  ``tf_lstm.export.image_serving``).

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
          "(omit --version to use the next free one)")
  try:
    config = checkpoints.read_config(model_dir)
  except (checkpoints.ResumeError, ValueError, TypeError, KeyError) as e:
    raise saved_model.ExportError(
        f"cannot read the run's configuration in {model_dir} ({e}); expected the "
        f"--model_dir of a bin/train run") from e
  if jit_compile and not tasks.get(config.model.task).jit_serving:
    raise saved_model.ExportError(f"an XLA (jit_compile) export is for image tasks, "
                                  f"not {config.model.task!r}")
  task, model, optimizer = loop.build(config)
  ckpt, manager = checkpoints.make_manager(model_dir, model, optimizer)
  if not manager.latest_checkpoint:
    raise saved_model.ExportError(
        f"{model_dir} has no checkpoint under {checkpoints.CHECKPOINT_SUBDIR}/; "
        "train first (bin/train --model_dir=...)")
  path = checkpoints.restore_latest(ckpt, manager)
  log(f"restored {path} (step {int(optimizer.iterations.numpy())})")
  module = (task.serving_module(model, jit_compile=True) if jit_compile
            else task.serving_module(model))
  return saved_model.export(module, export_base, version, tflite=tflite)
