"""Two ``bin/train --strategy=multi_worker`` processes on 127.0.0.1.

Part 1 starts both workers with a long ``--train_steps``, waits for the
chief's first checkpoint and SIGKILLs both. Part 2 restarts both (new ports,
the same model_dir): every worker must resume at the chief's saved step, and
the finished run leaves only the chief's checkpoints, one export, one set of
TensorBoard files and results.json; the other worker's temporary saves are
gone.
"""

import contextlib
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time

import pytest
import tensorflow as tf

from tests.conftest import ROOT

TINY = ["--task=mnist", "--strategy=multi_worker", "--num_layers=1", "--num_units=16",
        "--batch_size=32", "--augment_shift=0", "--lr_schedule=constant", "--log_every=1",
        "--checkpoint_every=2"]


def _free_ports(n):
  with contextlib.ExitStack() as stack:
    socks = [stack.enter_context(socket.socket()) for _ in range(n)]
    for s in socks:
      s.bind(("127.0.0.1", 0))
    return [s.getsockname()[1] for s in socks]


def _start_workers(args, log_dir, tmp_dir, tag):
  ports = _free_ports(2)
  cluster = {"worker": [f"127.0.0.1:{p}" for p in ports]}
  procs = []
  for index in range(2):
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2", TMPDIR=str(tmp_dir),
               TF_CONFIG=json.dumps({"cluster": cluster,
                                     "task": {"type": "worker", "index": index}}))
    env.pop("CUDA_VISIBLE_DEVICES", None)
    out = open(os.path.join(log_dir, f"{tag}-worker{index}.log"), "w")
    procs.append((subprocess.Popen([sys.executable, os.path.join(ROOT, "bin", "train"), *args],
                                   stdout=out, stderr=subprocess.STDOUT, env=env, cwd=ROOT),
                  out))
  return procs


def _wait(procs, timeout):
  deadline = time.time() + timeout
  try:
    for proc, _ in procs:
      proc.wait(timeout=max(1, deadline - time.time()))
  finally:
    _kill(procs)
  logs = []
  for proc, out in procs:
    out.close()
    with open(out.name) as f:
      logs.append(f.read())
  return [p.returncode for p, _ in procs], logs


def _kill(procs):
  for proc, _ in procs:
    if proc.poll() is None:
      os.kill(proc.pid, signal.SIGKILL)
      proc.wait()


def _ckpt_step(path):
  return int(re.search(r"ckpt-(\d+)$", path).group(1))


@pytest.mark.slow
def test_two_workers_train_resume_after_sigkill_and_export(small_mnist_dir, tmp_path):
  model_dir, export_dir = tmp_path / "run", tmp_path / "export"
  ckpt_dir = model_dir / "checkpoints"
  common = TINY + [f"--data_dir={small_mnist_dir}", f"--model_dir={model_dir}",
                   f"--export_dir={export_dir}"]
  tmp1, tmp2 = tmp_path / "tmp1", tmp_path / "tmp2"
  tmp1.mkdir()
  tmp2.mkdir()

  # Part 1: run "forever"; SIGKILL both once the chief has saved a checkpoint.
  procs = _start_workers(common + ["--train_steps=100000"], tmp_path, tmp1, "first")
  deadline = time.time() + 240
  try:
    while tf.train.latest_checkpoint(str(ckpt_dir)) is None:
      assert time.time() < deadline, "no checkpoint within 240 s"
      assert all(p.poll() is None for p, _ in procs), "a worker exited early"
      time.sleep(0.2)
  finally:
    _kill(procs)
  codes, logs = _wait(procs, 10)
  assert codes == [-signal.SIGKILL] * 2, logs
  saved = _ckpt_step(tf.train.latest_checkpoint(str(ckpt_dir)))
  assert saved >= 2 and saved % 2 == 0
  assert not os.path.exists(model_dir / "results.json")

  # Part 2: restart both; they resume at the chief's step and finish 2 steps later.
  procs = _start_workers(common + [f"--train_steps={saved + 2}"], tmp_path, tmp2, "second")
  codes, logs = _wait(procs, 240)
  assert codes == [0, 0], "\n\n".join(logs)
  for log in logs:
    assert f"resumed from {ckpt_dir / f'ckpt-{saved}'} at step {saved}" in log, log
    assert f"step {saved + 2}/{saved + 2}" in log
    assert "on 200 examples" in log
  assert "exported SavedModel" in logs[0] and "exported SavedModel" not in logs[1]

  with open(model_dir / "results.json") as f:
    results = json.load(f)
  assert results["global_step"] == saved + 2
  assert results["resumed_from_step"] == saved
  assert results["test_examples"] == 200
  # Only the chief wrote: its checkpoints, one export, one event file per writer.
  steps = sorted(_ckpt_step(p[:-len(".index")]) for p in os.listdir(ckpt_dir)
                 if p.endswith(".index"))
  assert steps[-1] == saved + 2 and len(steps) == len(set(steps)) <= 3
  assert sorted(os.listdir(export_dir)) == ["1"]
  assert os.path.exists(export_dir / "1" / "saved_model.pb")
  assert results["export_path"] == str(export_dir / "1")
  for sub in ("train", "eval"):   # one writer per run (2 runs), none from worker 1
    assert len(os.listdir(model_dir / sub)) <= 2
  # Worker 1's temporary checkpoints and export are deleted.
  assert [p for p in os.listdir(tmp2) if p.startswith("tf_lstm-")] == []

  reader = tf.train.load_checkpoint(str(ckpt_dir))
  assert reader.get_tensor("optimizer/iterations/.ATTRIBUTES/VARIABLE_VALUE") == saved + 2
