"""Parity harness: a legacy/ TF1 script's record vs the port, same weights, same batches.

  dump = run_legacy_dump("mnist_static_rnn.py", ["--num_units=32"], tmp_dir)
  port = port_from_record(dump)             # weights from dump.init_ckpt via tf1_import
  logits, grads = port_logits_and_grads(port, dump.record["x0"], dump.record["y0"])

The legacy side always runs in a subprocess with ``TF_USE_LEGACY_KERAS=1``
(Keras 3 and tf-keras never share a process); the port runs in-process.
Gradients and weights are keyed by TF1 name, like the record.
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

Dump = collections.namedtuple("Dump", "record init_ckpt dump_dir")
Port = collections.namedtuple("Port", "model optimizer mapping batch_size")


def run_legacy(script, flags, timeout=600):
  """Runs ``legacy/<script> --data_dir=mnist-5k flags``; raises with its output on failure."""
  env = dict(os.environ, TF_USE_LEGACY_KERAS="1", TF_CPP_MIN_LOG_LEVEL="2")
  cmd = [sys.executable, os.path.join(LEGACY_DIR, script), f"--data_dir={MNIST_5K}", *flags]
  proc = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=timeout,
                        cwd=ROOT)
  if proc.returncode != 0:
    raise AssertionError(f"{' '.join(cmd)} failed ({proc.returncode}):\n"
                         f"{proc.stdout}\n{proc.stderr[-4000:]}")
  return proc


def run_legacy_dump(script, flags, tmpdir):
  """``script --dump_dir=tmpdir flags``: the record (dict of arrays) and init checkpoint."""
  dump_dir = os.path.join(str(tmpdir), "dump")
  run_legacy(script, [f"--dump_dir={dump_dir}", *flags])
  with np.load(os.path.join(dump_dir, "record.npz")) as f:
    record = {k: f[k] for k in f.files}
  return Dump(record, os.path.join(dump_dir, "init_ckpt", "model.ckpt"), dump_dir)


def train_config(record, cell=None, **model_options):
  """The port ``TrainConfig`` matching a record's metadata (constant learning rate)."""
  model = config_lib.ModelConfig(
      task="mnist", cell=cell or str(record["cell"]), num_layers=int(record["num_layers"]),
      num_units=int(record["num_units"]), forget_bias=float(record["forget_bias"]),
      **model_options)
  return config_lib.TrainConfig(
      model=model, optimizer=str(record["optimizer"]),
      learning_rate=float(record["learning_rate"]), lr_schedule="constant",
      batch_size=int(record["batch_size"]), seed=int(record["seed"]))


def port_from_record(dump, var_map=None, cell=None, **model_options):
  """A fresh port model + optimizer holding the dump's initial weights (from init_ckpt)."""
  config = train_config(dump.record, cell, **model_options)
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


def scaled_diff(port_value, tf1_value):
  """Max abs difference divided by ``max(1, max |tf1_value|)``."""
  scale = max(1.0, float(np.max(np.abs(tf1_value))))
  return max_abs_diff(port_value, tf1_value) / scale


def prefixed(record, prefix):
  """``{TF1 name: array}`` of the record's ``prefix/`` keys (``init``, ``grad``, ``final``)."""
  return {k[len(prefix) + 1:]: v for k, v in record.items() if k.startswith(prefix + "/")}
