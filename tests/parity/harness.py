"""Parity harness: a legacy/ TF1 program's record vs the port, same weights, same batches.

  dump = run_legacy_dump("mnist_static_rnn.py", [], tmp_dir)
  port = port_from_record(dump, cell="lstm", num_layers=1, num_units=128)
  logits, loss, grads = port_logits_and_grads(port, dump.record["x0"], dump.record["y0"])

The legacy side always runs in a subprocess with ``TF_USE_LEGACY_KERAS=1``
(Keras 3 and tf-keras never share a process), through legacy/_run_with_parity.py,
which seeds the unchanged program and records it (legacy/_parity.py: the record's
layout); the port runs in-process.  Gradients and weights are keyed by TF1 name,
like the record.
"""

import collections
import os
import subprocess
import sys

import numpy as np
import tensorflow as tf

from tests.conftest import MNIST_5K, ROOT
from tf_lstm.app import config as config_lib
from tf_lstm.app import tf1_import
from tf_lstm.app.losses import classification_terms
from tf_lstm.app.training import loop

LEGACY_DIR = os.path.join(ROOT, "legacy")
RUNNER = os.path.join(LEGACY_DIR, "_run_with_parity.py")
LEGACY_ENV = dict(os.environ, TF_USE_LEGACY_KERAS="1", TF_CPP_MIN_LOG_LEVEL="2")

Dump = collections.namedtuple("Dump", "record init_ckpt dump_dir")
Port = collections.namedtuple("Port", "model optimizer mapping batch_size")


def legacy_command(script, flags, runner_flags=()):
  """The command line ``python legacy/_run_with_parity.py RUNNER_FLAGS legacy/<script>
  --data_dir=mnist-5k FLAGS``."""
  return [sys.executable, RUNNER, *runner_flags, os.path.join(LEGACY_DIR, script),
          f"--data_dir={MNIST_5K}", *flags]


def run_legacy(script, flags, runner_flags=(), timeout=600):
  """Runs ``legacy_command(...)``; raises with its output on failure."""
  cmd = legacy_command(script, flags, runner_flags)
  proc = subprocess.run(cmd, capture_output=True, text=True, env=LEGACY_ENV,
                        timeout=timeout, cwd=ROOT)
  if proc.returncode != 0:
    raise AssertionError(f"{' '.join(cmd)} failed ({proc.returncode}):\n"
                         f"{proc.stdout}\n{proc.stderr[-4000:]}")
  return proc


def load_dump(dump_dir):
  """The record (dict of arrays) and starting checkpoint the runner wrote to dump_dir."""
  with np.load(os.path.join(dump_dir, "record.npz")) as f:
    record = {k: f[k] for k in f.files}
  return Dump(record, os.path.join(dump_dir, "init_ckpt", "model.ckpt"), dump_dir)


def run_legacy_dump(script, flags, tmpdir, runner_flags=()):
  """``script flags`` recorded into tmpdir/dump (``--dump_dir``): its ``Dump``."""
  dump_dir = os.path.join(str(tmpdir), "dump")
  run_legacy(script, flags, [f"--dump_dir={dump_dir}", *runner_flags])
  return load_dump(dump_dir)


def train_config(record, **model_options):
  """The port ``TrainConfig`` of the model described by ``model_options`` (the
  ``ModelConfig`` fields the test knows it ran) with the optimizer the record observed."""
  model = config_lib.ModelConfig(task="mnist", **model_options)
  return config_lib.TrainConfig(
      model=model, optimizer=str(record["optimizer"]),
      learning_rate=float(record["learning_rate"]), lr_schedule="constant",
      batch_size=int(record["batch_size"]), seed=int(record["seed"]))


def port_from_record(dump, var_map=None, **model_options):
  """A fresh port model + optimizer holding the dump's starting weights (from init_ckpt)."""
  config = train_config(dump.record, **model_options)
  _, model, optimizer = loop.build(config)
  mapping = tf1_import.load(model, dump.init_ckpt, var_map)
  return Port(model, optimizer, mapping, config.batch_size)


def _by_tf1_name(port, values):
  names = [pv.name for pv in tf1_import.port_variables(port.model)]
  return {port.mapping[n]: np.asarray(v) for n, v in zip(names, values)}


def port_weights(port):
  """``{TF1 name: value}`` of the port model's variables."""
  return _by_tf1_name(port, [pv.variable.numpy()
                             for pv in tf1_import.port_variables(port.model)])


def port_logits_and_grads(port, x, y):
  """Logits ``[B, 10]`` and ``{TF1 name: d mean-loss / d var}`` at the current weights."""
  variables = [pv.variable for pv in tf1_import.port_variables(port.model)]
  with tf.GradientTape() as tape:
    logits = port.model(tf.constant(x))
    loss = mean_cross_entropy(logits, y)
  grads = tape.gradient(loss, variables)
  return logits.numpy(), float(loss), _by_tf1_name(port, [g.numpy() for g in grads])


def mean_cross_entropy(logits, labels):
  """The training loss of one batch: mean sparse softmax cross-entropy."""
  loss_sum, _, count = classification_terms(logits, tf.constant(labels))
  return loss_sum / count


def port_losses(port, train_x, train_y):
  """Trains with ``loop.make_train_step`` on the record's batches; the loss of each step."""
  step = loop.make_train_step(port.model, port.optimizer)
  return np.array([float(step(tf.constant(x), tf.constant(y))[0])
                   for x, y in zip(train_x, train_y)], np.float32)


def max_abs_diff(a, b):
  return float(np.max(np.abs(np.asarray(a, np.float64) - np.asarray(b, np.float64))))


def relative_diff(port_value, tf1_value):
  """``max |port - tf1| / max |tf1|``: the README's gradient measure (0 when both are 0)."""
  diff, scale = max_abs_diff(port_value, tf1_value), float(np.max(np.abs(tf1_value)))
  return diff / scale if scale > 0 else (0.0 if diff == 0 else float("inf"))


def scaled_diff(port_value, tf1_value):
  """Max abs difference divided by ``max(1, max |tf1_value|)`` (weights after training)."""
  scale = max(1.0, float(np.max(np.abs(tf1_value))))
  return max_abs_diff(port_value, tf1_value) / scale


def assert_biases_noised(record):
  """The record started every bias (constant-initialised variable) from distinct noise."""
  init = prefixed(record, "init")
  biases = {n for n in init if n.endswith("bias") or n == "b_in"}
  assert biases and set(record["noised"]) == biases, (sorted(record["noised"]), sorted(biases))
  for name in biases:
    assert np.unique(init[name]).size == init[name].size, name   # no two entries equal


def prefixed(record, prefix):
  """``{TF1 name: array}`` of the record's ``prefix/`` keys (``init``, ``grad``, ``final``)."""
  return {k[len(prefix) + 1:]: v for k, v in record.items() if k.startswith(prefix + "/")}
