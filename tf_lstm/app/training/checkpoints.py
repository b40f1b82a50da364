"""A run's record (``config.json``) and its checkpoints in the model directory.

``config.json`` holds the run's settings (``TrainConfig.to_dict``) and
``segments``: one entry per stretch of training under the same per-segment
settings, ``{"from_step": N, "settings": {...}}`` (``config.segment_setting_names``).
A resume must keep every other setting (``check_config`` lists the
differences); a segment whose steps were lost (no checkpoint after its start)
is dropped when a later one starts at or before it.

Restoring tries the newest checkpoint first; one that cannot be read (a
truncated ``.data`` file, a missing ``.index``) is reported and the next older
one tried (``restore_newest_intact``).  Damaged files are never deleted:
training moves them to ``checkpoints/damaged-<time>/`` (``set_aside``), so the
new checkpoints it writes at the same steps cannot overwrite them; readers
(export) leave them where they are.
"""

import glob
import json
import os
import re
import shutil
import time

import tensorflow as tf

from tf_lstm.app import config as config_lib
from tf_lstm.app import distribute

CONFIG_FILE = "config.json"
CHECKPOINT_SUBDIR = "checkpoints"
_PREFIX = re.compile(r"^ckpt-\d+$")
_FILE = re.compile(r"^(ckpt-\d+)(\.index|\.data-\d+-of-\d+)$")


class ResumeError(ValueError):
  """``model_dir`` holds a run that the given configuration cannot resume."""


class CheckpointWriteError(ValueError):
  """A checkpoint could not be written (disk full, permissions); nothing was lost."""


def write_atomically(path, text):
  """Writes ``text`` to ``path`` through ``path.tmp`` (never half a file at ``path``);
  on failure (a full disk) removes the ``.tmp`` and re-raises."""
  tmp = path + ".tmp"
  try:
    with open(tmp, "w") as f:
      f.write(text)
    os.replace(tmp, path)
  except OSError:
    if os.path.exists(tmp):
      os.remove(tmp)
    raise


# --- config.json: the run's record -------------------------------------------------

def _load_record(path):
  """``(TrainConfig, raw dict)`` of a config.json; ``ResumeError`` if unusable."""
  try:
    with open(path) as f:
      raw = json.load(f)
    return config_lib.TrainConfig.from_dict(raw), raw
  except (ValueError, TypeError, KeyError) as e:
    raise ResumeError(f"{path} is not a usable tf_lstm config ({e}); "
                      "use an empty model directory") from e


def check_config(model_dir, train_config):
  """The existing record's raw dict (None for a new run), after checking it can resume.

  Raises ``ResumeError`` naming every fixed setting that differs (the model's,
  ``config.fixed_setting_names``), before anything is written.
  """
  path = os.path.join(model_dir, CONFIG_FILE)
  if not os.path.exists(path):
    if os.path.isdir(os.path.join(model_dir, CHECKPOINT_SUBDIR)):
      raise ResumeError(f"{model_dir} has checkpoints but no {CONFIG_FILE}; "
                        "use another model directory")
    return None
  old, raw = _load_record(path)
  # The settings that apply to either run (an older file holds every field).
  names = dict.fromkeys([*old.model.to_dict(), *train_config.model.to_dict()])
  diffs = {k: (getattr(old.model, k), getattr(train_config.model, k)) for k in names
           if getattr(old.model, k) != getattr(train_config.model, k)}
  for k in dict.fromkeys(config_lib.fixed_setting_names(old.model.task)
                         + config_lib.fixed_setting_names(train_config.model.task)):
    if getattr(old, k) != getattr(train_config, k):
      diffs[k] = (getattr(old, k), getattr(train_config, k))
  if diffs:
    listed = ", ".join(f"{k}: {a!r} in the checkpoint vs {b!r} now"
                       for k, (a, b) in diffs.items())
    raise ResumeError(f"{model_dir} holds a run with another configuration ({listed}); "
                      "use the same settings to resume, or another model directory")
  return raw


def segments(previous, train_config, start_step):
  """The record's segments once this run starts at ``start_step`` (see module doc).

  ``previous``: ``check_config``'s raw dict (None: a new run).  A record from
  before segments were kept counts as one segment from step 0.
  """
  task = train_config.model.task
  names = config_lib.segment_setting_names(task)
  old = []
  if previous is not None:
    old = previous.get("segments")
    if not (isinstance(old, list) and all(isinstance(s, dict) and isinstance(
        s.get("from_step"), int) for s in old)):
      old = [{"from_step": 0, "settings": {n: previous[n] for n in names if n in previous}}]
  kept = [s for s in old if s["from_step"] < start_step]
  return kept + [{"from_step": start_step,
                  "settings": {n: getattr(train_config, n) for n in names}}]


def write_config(model_dir, train_config, run_segments):
  """Writes config.json atomically: the settings and ``run_segments``."""
  os.makedirs(model_dir, exist_ok=True)
  write_atomically(os.path.join(model_dir, CONFIG_FILE),
                   json.dumps({**train_config.to_dict(), "segments": run_segments}, indent=2,
                              allow_nan=False))


def check_or_write_config(model_dir, train_config, write=True, start_step=0):
  """``check_config``, then (``write``) the record of a run starting at ``start_step``."""
  previous = check_config(model_dir, train_config)
  if write:
    write_config(model_dir, train_config, segments(previous, train_config, start_step))


def read_config(model_dir):
  """The ``TrainConfig`` in ``model_dir/config.json``; ``ResumeError`` if missing or unusable."""
  path = os.path.join(model_dir, CONFIG_FILE)
  if not os.path.exists(path):
    raise ResumeError(f"{model_dir} is not a tf_lstm model dir: no {CONFIG_FILE}")
  return _load_record(path)[0]


# --- checkpoints ---------------------------------------------------------------------

def make_manager(model_dir, model, optimizer, max_to_keep=3, strategy=None):
  """``(checkpoint, manager)``; with a ``strategy``, only its chief writes to model_dir."""
  ckpt = tf.train.Checkpoint(model=model, optimizer=optimizer)
  directory = os.path.join(model_dir, CHECKPOINT_SUBDIR)
  if strategy is not None:
    return ckpt, distribute.CheckpointSaver(ckpt, directory, strategy, max_to_keep)
  manager = tf.train.CheckpointManager(ckpt, directory, max_to_keep=max_to_keep)
  return ckpt, manager


def _step(prefix):
  return int(prefix.rsplit("-", 1)[1])


def checkpoint_prefixes(directory):
  """Checkpoint prefixes in ``directory``, newest first: those its state file lists
  and any other ``ckpt-N.index``/``.data-*`` there (a lost or stale state file)."""
  try:
    state = tf.train.get_checkpoint_state(directory)
  except (tf.errors.OpError, ValueError):   # unparsable: the files still count
    state = None
  names = []
  if state is not None:
    names = [os.path.basename(p) for p in
             list(state.all_model_checkpoint_paths) + [state.model_checkpoint_path]]
  if os.path.isdir(directory):
    names += [m.group(1) for m in map(_FILE.match, os.listdir(directory)) if m]
  found = {os.path.join(directory, n) for n in names if _PREFIX.match(n)}
  return sorted(found, key=_step, reverse=True)


def _files(prefix):
  return [f for f in [prefix + ".index"] + glob.glob(glob.escape(prefix) + ".data-*")
          if os.path.exists(f)]


def _reason(error):
  """The first line of an error's message, without TensorFlow's op decorations."""
  text = error.message if isinstance(error, tf.errors.OpError) else str(error)
  text = re.sub(r"\{\{[^}]*\}\}\s*", "", text).split("\n")[0]
  return re.sub(r"\s*\[Op:\w+\]$", "", text).strip() or type(error).__name__


def _damage(prefix, error):
  """Which file of checkpoint ``prefix`` is damaged, and how."""
  name = os.path.basename(prefix)
  if not os.path.exists(prefix + ".index"):
    return f"{name}.index is missing"
  try:
    tf.train.load_checkpoint(prefix)
  except (tf.errors.OpError, ValueError) as e:
    return f"{name}.index cannot be read ({_reason(e)})"
  data = sorted(os.path.basename(f) for f in glob.glob(glob.escape(prefix) + ".data-*"))
  if not data:
    return f"{name}.data-* is missing"
  return f"{', '.join(data)} cannot be read ({_reason(error)})"


def restore_newest_intact(ckpt, directory, warn=print):
  """Restores the newest readable checkpoint in ``directory`` into ``ckpt``.

  Returns ``(path or None, [damaged prefixes])``; ``warn(line)`` names each
  damaged file.  ``ResumeError`` if checkpoints exist but none can be read, or
  one does not hold ``ckpt``'s objects (another model).
  """
  damaged, problems = [], []
  for prefix in checkpoint_prefixes(directory):
    try:
      status = ckpt.restore(prefix)
    except (tf.errors.OpError, IndexError, OSError) as e:   # what unreadable files raise
      problem = _damage(prefix, e)
      damaged.append(prefix)
      problems.append(problem)
      warn(f"warning: checkpoint {problem}; trying the previous one")
      continue
    try:
      status.assert_existing_objects_matched()
    except AssertionError as e:
      raise ResumeError(f"{prefix} does not hold this run's model ({_reason(e)})") from e
    return prefix, damaged
  if damaged:
    raise ResumeError(f"no intact checkpoint in {directory}: {'; '.join(problems)}. "
                      "Nothing was deleted; restore the files from a backup, or use "
                      "another model directory")
  return None, []


def set_aside(directory, damaged, restored):
  """Moves the ``damaged`` checkpoints' files into ``directory/damaged-<time>/`` and
  makes ``restored`` the state file's latest; returns the new folder (or None)."""
  if not damaged:
    return None
  dest = os.path.join(directory, f"damaged-{time.strftime('%Y%m%d-%H%M%S')}")
  os.makedirs(dest, exist_ok=True)
  for prefix in damaged:
    for f in _files(prefix):
      os.replace(f, os.path.join(dest, os.path.basename(f)))
  state = tf.train.get_checkpoint_state(directory)
  listed = [os.path.basename(p) for p in (state.all_model_checkpoint_paths if state else [])]
  gone = {os.path.basename(p) for p in damaged}
  keep = sorted({*[p for p in listed if p not in gone], os.path.basename(restored)},
                key=_step)
  # The state file CheckpointManager reads (relative names, as it writes them), with
  # the times it rotates by (max_to_keep).
  times = [os.path.getmtime(os.path.join(directory, p + ".index")) for p in keep]
  lines = [f'model_checkpoint_path: "{keep[-1]}"']
  lines += [f'all_model_checkpoint_paths: "{p}"' for p in keep]
  lines += [f"all_model_checkpoint_timestamps: {t!r}" for t in times]
  if state is not None and state.last_preserved_timestamp:
    lines.append(f"last_preserved_timestamp: {min(state.last_preserved_timestamp, *times)!r}")
  write_atomically(os.path.join(directory, "checkpoint"), "\n".join(lines) + "\n")
  return dest


def restore_latest(ckpt, manager, warn=print):
  """Restores the newest intact checkpoint of ``manager``'s directory; its path or None."""
  return restore_newest_intact(ckpt, manager.directory, warn)[0]


def save(manager, step):
  """``manager.save(step)``; on failure removes what this save created (e.g. an empty
  ``ckpt-N_temp/``) and raises ``CheckpointWriteError`` (earlier checkpoints intact)."""
  directory = manager.directory
  # A non-chief worker writes into a temporary directory of its own, never here.
  writes_here = getattr(manager, "manager", manager) is not None
  listing = lambda: set(os.listdir(directory)) if os.path.isdir(directory) else set()
  before = listing()
  try:
    return manager.save(checkpoint_number=step)
  except (tf.errors.OpError, OSError) as e:
    name = f"ckpt-{step}"
    for entry in listing() - before if writes_here else ():
      path = os.path.join(directory, entry)
      if entry.startswith(name + "_temp") and os.path.isdir(path):
        shutil.rmtree(path)
      elif entry.startswith(name + "."):
        os.remove(path)
    latest = tf.train.latest_checkpoint(directory)
    raise CheckpointWriteError(
        f"cannot save checkpoint {name} in {directory} ({_reason(e)}); the checkpoints "
        f"already there are intact (latest: {os.path.basename(latest) if latest else 'none'}). "
        "Free some space or fix the permissions, then run the same command to resume") from e
