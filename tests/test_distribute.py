"""tf.distribute: strategy flags, data sharding, MirroredStrategy parity.

Logical CPU devices must be configured before TensorFlow initialises, so the
two-replica runs happen in a fresh Python (``_run_python``).
"""

import json
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest
import tensorflow as tf

from tests.conftest import ROOT, run_bin
from tf_lstm.app import distribute


def _run_python(code, timeout=300):
  env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2", PYTHONPATH=ROOT)
  proc = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True,
                        text=True, env=env, timeout=timeout, cwd=ROOT)
  assert proc.returncode == 0, proc.stdout + proc.stderr
  return json.loads(proc.stdout.strip().splitlines()[-1])


# ---------------------------------------------------------------- in-process


@pytest.mark.parametrize("text, message", [
    ("", "needs the TF_CONFIG"),
    ("{not json", "not valid JSON"),
    ('{"task": {"type": "worker", "index": 0}}', '"cluster"'),
    ('{"cluster": {"worker": ["localhost"]}, "task": {"type": "worker", "index": 0}}',
     "host:port"),
    ('{"cluster": {"worker": ["a:1", "b:2"]}, "task": {"type": "worker", "index": 2}}',
     "out of range"),
    ('{"cluster": {"worker": ["a:1"]}, "task": {"type": "chief", "index": 0}}',
     "not a job of the cluster"),
    ('{"cluster": {"ps": ["a:1"]}, "task": {"type": "ps", "index": 0}}', '"worker" or "chief"'),
    ('{"cluster": {"worker": ["a:1"]}}', '"task"'),
])
def test_bad_tf_config_is_rejected(text, message):
  with pytest.raises(distribute.DistributeError, match=message):
    distribute.parse_tf_config(text)


def test_good_tf_config():
  cluster, task_type, index = distribute.parse_tf_config(json.dumps(
      {"cluster": {"chief": ["h0:1"], "worker": ["h1:2", "h2:3"]},
       "task": {"type": "worker", "index": 1}}))
  assert (sorted(cluster), task_type, index) == (["chief", "worker"], "worker", 1)


@pytest.mark.parametrize("name, kwargs, message", [
    ("horovod", {}, "unknown strategy"),
    ("default", {"num_cpu_devices": 2}, "only for the mirrored strategy"),
    ("multi_worker", {"num_cpu_devices": 2}, "only for the mirrored strategy"),
    ("mirrored", {"tpu": "grpc://x:1"}, "only for the tpu strategy"),
])
def test_bad_strategy_arguments(name, kwargs, message):
  with pytest.raises(distribute.DistributeError, match=message):
    distribute.make_strategy(name, **kwargs)


def test_multi_worker_without_tf_config(monkeypatch):
  monkeypatch.delenv("TF_CONFIG", raising=False)
  with pytest.raises(distribute.DistributeError, match="needs the TF_CONFIG"):
    distribute.make_strategy("multi_worker")


def test_default_strategy_is_chief_and_checks_batch():
  strategy = distribute.make_strategy("default")
  assert distribute.is_chief(strategy) and distribute.task_name(strategy) == "chief"
  assert distribute.check_global_batch(33, strategy) == 33


class _Replicas:
  num_replicas_in_sync = 4


def test_global_batch_must_divide_over_replicas():
  assert distribute.check_global_batch(32, _Replicas()) == 8
  with pytest.raises(distribute.DistributeError, match="divisible by the 4 replicas"):
    distribute.check_global_batch(30, _Replicas())


def test_replica_slices_cover_each_global_batch_once():
  """2 workers x 2 replicas: every step, the 4 replica slices are the global batch."""
  index_ds = tf.data.Dataset.range(200).map(lambda i: tf.cast(i * 7 % 200, tf.int32)).batch(
      12, drop_remainder=True)
  global_batches = [b.numpy() for b in index_ds.take(5)]
  per_worker = []
  for worker in range(2):
    ctx = tf.distribute.InputContext(num_input_pipelines=2, input_pipeline_id=worker,
                                     num_replicas_in_sync=4)
    per_worker.append([s.numpy() for s in distribute.replica_index_batches(index_ds, ctx).take(10)])
  for step, expected in enumerate(global_batches):
    # Worker w's elements 2*step, 2*step+1 go to replicas 2w, 2w+1.
    slices = [per_worker[w][2 * step + r] for w in range(2) for r in range(2)]
    assert all(s.shape == (3,) for s in slices)
    np.testing.assert_array_equal(np.concatenate(slices), expected)


# ------------------------------------------------------- two CPU replicas


_PARITY = r"""
import json, os, sys
sys.path.insert(0, "tests")
import numpy as np
from tf_lstm.app import distribute
mirrored = distribute.make_strategy("mirrored", num_cpu_devices=2)   # before any TF op
import tensorflow as tf
from tf_lstm.app import config as config_lib
from tf_lstm.app.data import pipeline
from tf_lstm.app.training import loop

out = {"replicas": mirrored.num_replicas_in_sync}
config = config_lib.TrainConfig(
    model=config_lib.ModelConfig(task="mnist", num_units=16, num_layers=1),
    optimizer="sgd", learning_rate=0.5, lr_schedule="constant", batch_size=32,
    train_steps=20, checkpoint_every=20, log_every=20, data_dir=DATA)
weights = {}
for name, strategy in [("single", tf.distribute.get_strategy()), ("mirrored", mirrored)]:
  model_dir = os.path.join(TMP, name)
  results = loop.train(config.__class__(**{**config.__dict__, "model_dir": model_dir}),
                       strategy, log=lambda *a: None)
  reader = tf.train.load_checkpoint(os.path.join(model_dir, "checkpoints"))
  weights[name] = {k: reader.get_tensor(k) for k in reader.get_variable_to_shape_map()
                   if k.startswith("model/")}
  out[name + "_step"] = int(reader.get_tensor("optimizer/iterations/.ATTRIBUTES/VARIABLE_VALUE"))
  out[name + "_results"] = {k: results[k] for k in ("test_loss", "test_accuracy",
                                                     "test_examples")}
out["names"] = sorted(weights["single"])
out["same_names"] = sorted(weights["single"]) == sorted(weights["mirrored"])
out["max_diff"] = max(float(np.max(np.abs(weights["single"][k] - weights["mirrored"][k])))
                      for k in weights["single"])
# The runs did move the weights (the same seed gives the same initial values).
_, fresh, _ = loop.build(config)
init = tf.train.load_checkpoint(tf.train.Checkpoint(model=fresh).write(os.path.join(TMP, "init")))
out["max_change"] = max(float(np.max(np.abs(w - init.get_tensor(k))))
                        for k, w in weights["single"].items())

# Evaluation: 151 examples in batches of 50 (last batch 1: one replica gets none).
task, model, _ = loop.build(config, mirrored)
data = task.load(DATA)
x, y = task.eval_arrays(data)
arrays = (x[:151], y[:151])
ds = pipeline.eval_dataset(arrays, 50, task.eval_transform())
out["eval_mirrored"] = loop.evaluate(model, ds, mirrored)
out["eval_single"] = loop.evaluate(model, ds, tf.distribute.get_strategy())
print(json.dumps(out))
"""


@pytest.fixture(scope="module")
def parity(small_mnist_dir, tmp_path_factory):
  tmp = tmp_path_factory.mktemp("parity")
  code = _PARITY.replace("DATA", repr(small_mnist_dir)).replace("TMP", repr(str(tmp)))
  return _run_python(code)


def test_two_cpu_replicas_match_one_device_after_20_sgd_steps(parity):
  assert parity["replicas"] == 2
  assert parity["single_step"] == parity["mirrored_step"] == 20
  assert parity["same_names"] and len(parity["names"]) >= 4
  print("max |w_single - w_mirrored| =", parity["max_diff"], "max change", parity["max_change"])
  assert parity["max_diff"] < 1e-5, parity["max_diff"]
  assert parity["max_change"] > 1e-2   # the 20 steps did train
  single, mirrored = parity["single_results"], parity["mirrored_results"]
  assert single["test_examples"] == mirrored["test_examples"] == 200
  assert mirrored["test_loss"] == pytest.approx(single["test_loss"], abs=1e-5)
  assert mirrored["test_accuracy"] == pytest.approx(single["test_accuracy"], abs=1e-9)


def test_two_replica_evaluation_sees_every_example_once(parity):
  single, mirrored = parity["eval_single"], parity["eval_mirrored"]
  assert single["examples"] == mirrored["examples"] == 151
  assert mirrored["loss"] == pytest.approx(single["loss"], abs=1e-6)
  assert mirrored["accuracy"] == pytest.approx(single["accuracy"], abs=1e-9)


# --------------------------------------------------------------- bin/train


def test_cli_rejects_batch_not_divisible_by_replicas(small_mnist_dir, tmp_path):
  model_dir = tmp_path / "run"
  model_dir.mkdir()
  (model_dir / "keep.txt").write_text("mine")
  proc = run_bin("train", "--task=mnist", f"--data_dir={small_mnist_dir}",
                 f"--model_dir={model_dir}", "--strategy=mirrored", "--num_cpu_devices=2",
                 "--batch_size=33", "--train_steps=2", "--num_units=16")
  assert proc.returncode != 0
  assert "divisible by the 2 replicas" in proc.stderr
  assert sorted(os.listdir(model_dir)) == ["keep.txt"]
  assert (model_dir / "keep.txt").read_text() == "mine"


@pytest.mark.parametrize("args, env, message", [
    (["--strategy=default", "--num_cpu_devices=2"], {}, "only for --strategy=mirrored"),
    (["--strategy=multi_worker"], {"TF_CONFIG": '{"cluster": {"worker": ["127.0.0.1:1"]}, '
                                                '"task": {"type": "worker", "index": 3}}'},
     "out of range"),
])
def test_cli_rejects_bad_strategy_input(small_mnist_dir, tmp_path, args, env, message):
  model_dir = tmp_path / "run"
  proc = run_bin("train", "--task=mnist", f"--data_dir={small_mnist_dir}",
                 f"--model_dir={model_dir}", "--train_steps=2", *args, env=env, timeout=120)
  assert proc.returncode != 0
  assert message in proc.stderr
  assert not model_dir.exists()
