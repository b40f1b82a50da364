"""A run's directory is its own (issue 20): one writer, an honest record, damaged
checkpoints skipped, finite float settings, one-line errors for unwritable places.

One short real run (``run_dir``) is shared; every probe that changes a directory works
on a copy of it and compares the files before and after.
"""

import ctypes
import json
import os
import re
import resource
import shutil
import signal
import subprocess
import sys
import time

import pytest
import tensorflow as tf
from absl import flags

from tests.conftest import ROOT, run_bin
from tf_lstm.app import config as config_lib
from tf_lstm.app.commands import train as train_cmd
from tf_lstm.app.export import from_checkpoint
from tf_lstm.app.export import saved_model
from tf_lstm.app.training import checkpoints
from tf_lstm.app.training import loop
from tf_lstm.app.training import run_lock

# Data: small_mnist_dir (512 + 200 digits of ../shared/data/mnist-5k), or mnist-5k itself.
ARGS = ["--task=mnist", "--num_units=8", "--num_layers=1", "--batch_size=32",
        "--checkpoint_every=10", "--log_every=10", "--augment_shift=0"]
# Rewritten by every run by design; all other files must survive byte for byte.
RECORD = {"config.json", "results.json", run_lock.LOCK_FILE, "checkpoints/checkpoint"}


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory, small_mnist_dir):
  """30 steps, checkpoints at 10, 20, 30 (max_to_keep 3)."""
  model_dir = str(tmp_path_factory.mktemp("run") / "model")
  run_bin("train", *ARGS, f"--data_dir={small_mnist_dir}", "--train_steps=30",
          f"--model_dir={model_dir}", check=True)
  return model_dir


def _copy(run_dir, path):
  shutil.copytree(run_dir, path)
  return str(path)


def _files(directory, lock=True):
  """{relative path: bytes} of every file under ``directory`` (``lock``: with the lock
  file, which a run that takes the lock and then stops rewrites with its pid)."""
  out = {}
  for root, _, names in os.walk(directory):
    for name in names:
      if not lock and name == run_lock.LOCK_FILE:
        continue
      path = os.path.join(root, name)
      with open(path, "rb") as f:
        out[os.path.relpath(path, directory)] = f.read()
  return out


def _config(model_dir, **changes):
  """The run's own settings (its config.json), in ``model_dir``."""
  return checkpoints.read_config(model_dir).replace(model_dir=model_dir, export_dir="",
                                                    **changes)


def _results(model_dir):
  with open(os.path.join(model_dir, "results.json")) as f:
    return json.load(f)


def _segments(model_dir):
  return [(s["from_step"], s["to_step"], s["settings"]["learning_rate"])
          for s in _results(model_dir)["segments"]]


def _error_line(stderr):
  assert "Traceback" not in stderr, stderr
  lines = [line for line in stderr.splitlines() if line.startswith("error: ")]
  assert len(lines) == 1, stderr
  return lines[0]


# --- one writer -----------------------------------------------------------------------

def test_the_lock_names_its_holder_and_dies_with_it(tmp_path):
  """Held by another process: refused naming its pid; released when it is killed."""
  holder = subprocess.Popen(
      [sys.executable, "-c", "import sys, time\nfrom tf_lstm.app.training import run_lock\n"
       "with run_lock.hold(sys.argv[1]):\n  print('held', flush=True)\n  time.sleep(300)",
       str(tmp_path)], stdout=subprocess.PIPE, text=True, cwd=ROOT)
  try:
    assert holder.stdout.readline().strip() == "held"
    busy = rf"{tmp_path} is in use by another training run \(pid {holder.pid} on .+, started "
    with pytest.raises(run_lock.RunLockError, match=busy):
      run_lock.check_free(str(tmp_path))
    with pytest.raises(run_lock.RunLockError, match=busy):
      with run_lock.hold(str(tmp_path)):
        pass
  finally:
    holder.kill()
    holder.wait()
  run_lock.check_free(str(tmp_path))   # the OS released it: no stale lock
  with run_lock.hold(str(tmp_path)):
    with open(tmp_path / run_lock.LOCK_FILE) as f:
      assert json.load(f)["pid"] == os.getpid()


def test_a_second_trainer_on_a_held_directory_is_refused_at_once(run_dir, small_mnist_dir,
                                                                 tmp_path):
  """Issue 20.1: two real bin/train on one dir. The second (another seed, as in the
  issue) stops before loading data, naming the first; the first's run is untouched;
  bin/export's reader needs no lock."""
  model_dir = _copy(run_dir, tmp_path / "shared")
  events_before = len(os.listdir(os.path.join(model_dir, "train")))
  first = subprocess.Popen(
      [sys.executable, os.path.join(ROOT, "bin", "train"), *ARGS, "--train_steps=60",
       f"--data_dir={small_mnist_dir}", f"--model_dir={model_dir}"],
      stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT,
      env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2"))
  lock, deadline = os.path.join(model_dir, run_lock.LOCK_FILE), time.time() + 300
  while time.time() < deadline and first.poll() is None:
    with open(lock) as f:
      if f'"pid": {first.pid},' in f.read():   # the first holds the lock now
        break
    time.sleep(0.02)
  first.send_signal(signal.SIGSTOP)   # it stays the holder while the second tries
  try:
    assert first.poll() is None, "the first run ended before the second started"
    before = _files(model_dir)
    second = run_bin("train", *ARGS, "--train_steps=60", "--seed=1",
                     f"--data_dir={small_mnist_dir}", f"--model_dir={model_dir}")
    after = _files(model_dir)
    # Readers take no lock: an export works while the run holds the directory.
    exported = from_checkpoint.export_latest(model_dir, str(tmp_path / "export"),
                                             log=lambda _: None)
  finally:
    first.send_signal(signal.SIGCONT)
  out, err = first.communicate(timeout=300)
  assert second.returncode == 1 and "resumed from" not in second.stdout
  assert re.fullmatch(rf"error: {model_dir} is in use by another training run \(pid "
                      rf"{first.pid} on .+, started .+\); wait for it to end, or use another "
                      r"model directory", _error_line(second.stderr))
  assert after == before and os.path.isdir(exported)
  assert first.returncode == 0, err
  assert "resumed from" in out and _results(model_dir)["global_step"] == 60
  assert len(os.listdir(os.path.join(model_dir, "train"))) == events_before + 1
  run_lock.check_free(model_dir)


# --- an honest record ------------------------------------------------------------------

def test_every_training_setting_is_fixed_or_per_segment():
  for task in ("mnist", "imdb", "ptb", "conll_ner"):
    fixed = config_lib.fixed_setting_names(task)
    per_segment = config_lib.segment_setting_names(task)
    assert not set(fixed) & set(per_segment)
    assert sorted(fixed + per_segment) == sorted(config_lib.train_setting_names(task))
  assert {"optimizer", "batch_size", "seed"} <= set(config_lib.fixed_setting_names("mnist"))
  assert {"learning_rate", "clip_norm", "train_steps"} <= set(
      config_lib.segment_setting_names("mnist"))


def _weights(prefix):
  reader = tf.train.load_checkpoint(prefix)
  return {k: reader.get_tensor(k) for k in reader.get_variable_to_shape_map()
          if k.startswith("model/") and "OPTIMIZER_SLOT" not in k}


def test_a_resume_with_another_learning_rate_trains_with_it_and_records_it(run_dir, tmp_path):
  """Issue 20.2: the new rate is used (not the checkpoint's) and each segment is listed."""
  first = _results(run_dir)["segments"][0]["settings"]["learning_rate"]
  model_dir = _copy(run_dir, tmp_path / "m")
  loop.train(_config(model_dir, learning_rate=0.5, lr_schedule="constant", train_steps=31),
             log=lambda _: None)
  assert _segments(model_dir) == [(0, 30, first), (30, 31, 0.5)]
  with open(os.path.join(model_dir, "config.json")) as f:
    record = json.load(f)
  assert record["learning_rate"] == 0.5
  assert [(s["from_step"], s["settings"]["learning_rate"]) for s in record["segments"]] == \
      [(0, first), (30, 0.5)]
  ckpt = os.path.join(model_dir, "checkpoints")
  reader = tf.train.load_checkpoint(ckpt)
  assert reader.get_tensor("optimizer/learning_rate/.ATTRIBUTES/VARIABLE_VALUE") == 0.5
  # One Adam step moves a weight by lr * sqrt(1 - b2^t) / (1 - b1^t) * |m| / sqrt(v), and
  # |m| / sqrt(v) <= (1 - b1) / sqrt((1 - b2) (1 - b1^2 / b2)) = 7.3 (Cauchy-Schwarz): at
  # step 31 at most 2.7e-3 at the old rate 0.002 (measured at step 41: 2.5e-3 against a
  # 2.9e-3 bound there), ~0.6 at 0.5.
  old, new = _weights(os.path.join(ckpt, "ckpt-30")), _weights(os.path.join(ckpt, "ckpt-31"))
  assert first == 0.002 and max(abs(new[k] - old[k]).max() for k in old) > 0.01


def test_a_resume_with_other_fixed_settings_is_refused_listing_them(run_dir, tmp_path):
  model_dir = _copy(run_dir, tmp_path / "m")
  before = _files(model_dir, lock=False)
  with pytest.raises(checkpoints.ResumeError) as e:
    loop.train(_config(model_dir, seed=1, optimizer="sgd", train_steps=40),
               log=lambda _: None)
  assert "optimizer: 'adam' in the checkpoint vs 'sgd' now" in str(e.value)
  assert "seed: 0 in the checkpoint vs 1 now" in str(e.value)
  assert _files(model_dir, lock=False) == before


def test_a_config_json_missing_fields_is_refused_naming_them(run_dir, tmp_path):
  model_dir = _copy(run_dir, tmp_path / "m")
  config = _config(model_dir)
  with open(os.path.join(model_dir, "config.json"), "w") as f:
    json.dump({"model": {"task": "mnist"}}, f)
  before = _files(model_dir, lock=False)
  missing = "lacks cell, num_layers, num_units, optimizer, batch_size, seed, learning_rate"
  with pytest.raises(checkpoints.ResumeError, match=missing):
    loop.train(config, log=lambda _: None)
  with pytest.raises(saved_model.ExportError, match=missing):
    from_checkpoint.export_latest(model_dir, str(tmp_path / "export"))
  assert _files(model_dir, lock=False) == before and not (tmp_path / "export").exists()


# --- damaged checkpoints -----------------------------------------------------------------

def _damage(model_dir, steps=(30,)):
  """Truncates ckpt-<step>.data for ``steps`` and deletes ckpt-20.index."""
  ckpt = os.path.join(model_dir, "checkpoints")
  for step in steps:
    data = os.path.join(ckpt, f"ckpt-{step}.data-00000-of-00001")
    with open(data, "r+b") as f:
      f.truncate(os.path.getsize(data) // 2)
  os.remove(os.path.join(ckpt, "ckpt-20.index"))


DAMAGE = ("ckpt-30.data-00000-of-00001 cannot be read (Read less bytes than requested)",
          "ckpt-20.index is missing")


def test_export_skips_damaged_checkpoints_and_leaves_them(run_dir, tmp_path):
  """Issue 20.3 for bin/export (its code, in this process): the newest intact checkpoint
  (ckpt-10) is exported, each damaged file named."""
  model_dir = _copy(run_dir, tmp_path / "m")
  _damage(model_dir)
  before = _files(model_dir)
  logged, warned = [], []
  path = from_checkpoint.export_latest(model_dir, str(tmp_path / "e"), log=logged.append,
                                       warn=warned.append)
  assert warned == [f"warning: checkpoint {p}; trying the previous one" for p in DAMAGE]
  assert logged == [f"restored the step-10 checkpoint of {model_dir}"]
  assert path == str(tmp_path / "e" / "1") and os.listdir(tmp_path / "e") == ["1"]
  assert _files(model_dir) == before   # a reader moves nothing


def test_training_resumes_past_damaged_checkpoints_and_keeps_them(run_dir, small_mnist_dir,
                                                                   tmp_path):
  """Issue 20.3 for bin/train: the same command resumes from ckpt-10, ends where the
  unbroken run did, and moves (never deletes) the damaged files."""
  model_dir = _copy(run_dir, tmp_path / "m")
  _damage(model_dir)
  before = _files(model_dir)
  proc = run_bin("train", *ARGS, "--train_steps=30", f"--data_dir={small_mnist_dir}",
                 f"--model_dir={model_dir}")
  assert proc.returncode == 0, proc.stderr
  for problem in DAMAGE:
    assert f"warning: checkpoint {problem}; trying the previous one" in proc.stdout
  assert re.search(r"resumed from \S+ckpt-10 at step 10", proc.stdout)
  after = _files(model_dir)
  moved = {os.path.basename(p): data for p, data in after.items() if "/damaged-" in p}
  assert sorted(moved) == ["ckpt-20.data-00000-of-00001", "ckpt-30.data-00000-of-00001",
                           "ckpt-30.index"]
  for path, data in before.items():
    if path not in RECORD:
      assert after.get(path, moved.get(os.path.basename(path))) is not None, path
      if path.startswith("checkpoints/ckpt-") and path.split("/")[-1] in moved:
        assert moved[path.split("/")[-1]] == data, path       # kept byte for byte
      else:
        assert after[path] == data, path
  results, unbroken = _results(model_dir), _results(run_dir)
  assert results["global_step"] == 30 and results["resumed_from_step"] == 10
  assert [s[:2] for s in _segments(model_dir)] == [(0, 10), (10, 30)]
  # Same steps from the same checkpoint: the loss may differ by float summation order only.
  assert results["test_loss"] == pytest.approx(unbroken["test_loss"], abs=1e-5)
  assert tf.train.latest_checkpoint(os.path.join(model_dir, "checkpoints")).endswith("ckpt-30")


def test_no_intact_checkpoint_stops_in_one_line_and_keeps_everything(run_dir, tmp_path):
  model_dir = _copy(run_dir, tmp_path / "m")
  _damage(model_dir, steps=(10, 30))
  before = _files(model_dir, lock=False)
  with pytest.raises(checkpoints.ResumeError, match=r"no intact checkpoint in .*: "
                     r"ckpt-30\.data.* cannot be read .*; ckpt-20\.index is missing; "
                     r"ckpt-10\.data.* cannot be read .*Nothing was deleted"):
    loop.train(_config(model_dir), log=lambda _: None)
  with pytest.raises(saved_model.ExportError, match="no intact checkpoint"):
    from_checkpoint.export_latest(model_dir, str(tmp_path / "e"), warn=lambda _: None)
  assert _files(model_dir, lock=False) == before and not (tmp_path / "e").exists()


# --- bad values and places -------------------------------------------------------------

@pytest.mark.parametrize("flag", ["--learning_rate=inf", "--clip_norm=inf",
                                  "--forget_bias=nan", "--lr_decay=nan"])
def test_non_finite_float_flags_fail_at_start_up(flag):
  """Issue 20.5: bin/train's own flag definitions refuse them while parsing."""
  fv = flags.FlagValues()
  train_cmd.define_flags(fv)
  with pytest.raises(flags.IllegalFlagValueError, match="must be a finite number"):
    fv(["train", "--model_dir=/tmp/unused", flag])


def test_non_finite_floats_fail_the_config_check():
  for config in (config_lib.TrainConfig(learning_rate=float("inf")),
                 config_lib.TrainConfig(model=config_lib.ModelConfig(
                     forget_bias=float("nan")))):
    with pytest.raises(ValueError, match="must be a finite number"):
      config.check()


def _without_write_override():
  """preexec_fn: a root process writes anywhere; without CAP_DAC_OVERRIDE in its bounding
  set (kept across exec) the directory's mode counts for it too."""
  if os.geteuid() == 0:
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(24, 1, 0, 0, 0) != 0:   # PR_CAPBSET_DROP, CAP_DAC_OVERRIDE
      raise OSError(ctypes.get_errno(), "prctl(PR_CAPBSET_DROP, CAP_DAC_OVERRIDE) failed")


def test_a_read_only_model_dir_is_refused_in_one_line(run_dir, small_mnist_dir, tmp_path):
  model_dir = _copy(run_dir, tmp_path / "m")
  for root, _, names in os.walk(model_dir):
    for name in names:
      os.chmod(os.path.join(root, name), 0o444)
    os.chmod(root, 0o555)
  try:
    before = _files(model_dir)
    proc = subprocess.run(
        [sys.executable, os.path.join(ROOT, "bin", "train"), *ARGS, "--train_steps=40",
         f"--data_dir={small_mnist_dir}", f"--model_dir={model_dir}"],
        capture_output=True, text=True, cwd=ROOT, preexec_fn=_without_write_override,
        timeout=300, env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2"))
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert _error_line(proc.stderr) == (f"error: cannot write to model_dir {model_dir} "
                                        "(Permission denied); use a writable directory")
    assert _files(model_dir) == before
  finally:
    for root, _, _ in os.walk(model_dir):
      os.chmod(root, 0o755)


def test_a_full_disk_stops_with_one_line_and_leaves_no_temp_dir(run_dir, tmp_path):
  """A file-size limit below one checkpoint makes its write fail as on a full disk."""
  model_dir = _copy(run_dir, tmp_path / "m")
  before = _files(model_dir)
  limit = os.path.getsize(os.path.join(model_dir, "checkpoints",
                                       "ckpt-30.data-00000-of-00001")) // 2
  soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
  old_handler = signal.signal(signal.SIGXFSZ, signal.SIG_IGN)   # EFBIG, not a kill
  resource.setrlimit(resource.RLIMIT_FSIZE, (limit, hard))
  try:
    with pytest.raises(checkpoints.CheckpointWriteError,
                       match=r"cannot save checkpoint ckpt-40 in .* \(.*File too large\); "
                             r"the checkpoints already there are intact \(latest: ckpt-30\)"):
      loop.train(_config(model_dir, train_steps=40), log=lambda _: None)
  finally:
    resource.setrlimit(resource.RLIMIT_FSIZE, (soft, hard))
    signal.signal(signal.SIGXFSZ, old_handler)
  after = _files(model_dir)
  assert not [p for p in os.listdir(os.path.join(model_dir, "checkpoints"))
              if p.startswith("ckpt-40")]
  assert {p: d for p, d in before.items() if p not in RECORD} == \
      {p: d for p, d in after.items() if p in before and p not in RECORD}


def test_a_finished_run_rerun_exports_once_unless_forced(run_dir, tmp_path):
  model_dir, export_dir = _copy(run_dir, tmp_path / "m"), str(tmp_path / "export")
  config = _config(model_dir).replace(export_dir=export_dir)
  first = loop.train(config, log=lambda _: None)     # resumes at its last step: exports
  lines = []
  again = loop.train(config, log=lines.append)
  assert again["export_path"] == first["export_path"] == os.path.join(export_dir, "1")
  assert f"step 30 is already exported as {first['export_path']}; not exported again " \
         "(force_export exports anyway)" in lines
  assert os.listdir(export_dir) == ["1"]
  forced = loop.train(config.replace(force_export=True), log=lambda _: None)
  assert forced["export_path"] == os.path.join(export_dir, "2")
