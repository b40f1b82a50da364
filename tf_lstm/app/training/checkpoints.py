"""Checkpoints and the run's ``config.json`` in its model directory."""

import json
import os

import tensorflow as tf

from tf_lstm.app import config as config_lib
from tf_lstm.app import distribute

CONFIG_FILE = "config.json"
CHECKPOINT_SUBDIR = "checkpoints"


class ResumeError(ValueError):
  """``model_dir`` holds a run that the given configuration cannot resume."""


def check_or_write_config(model_dir, train_config, write=True):
  """Writes config.json, or checks an existing run's model matches ours.

  Raises ``ResumeError`` naming the differing fields, before anything is
  written, so a mismatched command never touches another run's checkpoints.
  With ``write=False`` (non-chief workers) it only checks.
  """
  path = os.path.join(model_dir, CONFIG_FILE)
  if os.path.exists(path):
    try:
      with open(path) as f:
        old = config_lib.TrainConfig.from_dict(json.load(f))
    except (ValueError, TypeError, KeyError) as e:
      raise ResumeError(f"{path} is not a tf_lstm config ({e}); "
                        "use an empty model directory") from e
    # The settings that apply to either run (an older file holds every field).
    names = dict.fromkeys([*old.model.to_dict(), *train_config.model.to_dict()])
    diffs = {k: (getattr(old.model, k), getattr(train_config.model, k)) for k in names
             if getattr(old.model, k) != getattr(train_config.model, k)}
    if old.batch_size != train_config.batch_size:
      diffs["batch_size"] = (old.batch_size, train_config.batch_size)
    if old.optimizer != train_config.optimizer:
      diffs["optimizer"] = (old.optimizer, train_config.optimizer)
    if diffs:
      listed = ", ".join(f"{k}: {a!r} in the checkpoint vs {b!r} now"
                         for k, (a, b) in diffs.items())
      raise ResumeError(f"{model_dir} holds a run with another configuration ({listed}); "
                        "use the same settings to resume, or another model directory")
  elif os.path.isdir(os.path.join(model_dir, CHECKPOINT_SUBDIR)):
    raise ResumeError(f"{model_dir} has checkpoints but no {CONFIG_FILE}; "
                      "use another model directory")
  if not write:
    return
  os.makedirs(model_dir, exist_ok=True)
  tmp = path + ".tmp"
  with open(tmp, "w") as f:
    json.dump(train_config.to_dict(), f, indent=2)
  os.replace(tmp, path)


def read_config(model_dir):
  path = os.path.join(model_dir, CONFIG_FILE)
  if not os.path.exists(path):
    raise ResumeError(f"{model_dir} is not a tf_lstm model dir: no {CONFIG_FILE}")
  with open(path) as f:
    return config_lib.TrainConfig.from_dict(json.load(f))


def make_manager(model_dir, model, optimizer, max_to_keep=3, strategy=None):
  """``(checkpoint, manager)``; with a ``strategy``, only its chief writes to model_dir."""
  ckpt = tf.train.Checkpoint(model=model, optimizer=optimizer)
  directory = os.path.join(model_dir, CHECKPOINT_SUBDIR)
  if strategy is not None:
    return ckpt, distribute.CheckpointSaver(ckpt, directory, strategy, max_to_keep)
  manager = tf.train.CheckpointManager(ckpt, directory, max_to_keep=max_to_keep)
  return ckpt, manager


def restore_latest(ckpt, manager):
  """Restores the newest checkpoint; returns its path or None."""
  path = manager.latest_checkpoint
  if path:
    ckpt.restore(path).assert_existing_objects_matched()
  return path
