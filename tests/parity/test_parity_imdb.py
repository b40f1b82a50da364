"""legacy/imdb_lstm.py (TF1 dynamic_rnn + sequence_length + mean pooling) vs the port.

The test writes fixed token-id batches (variable lengths, padding), the TF1
script records starting weights (biases from noise), logits, gradients and 8 Adam
losses; the port (TextClassifier + tf_lstm Adam) loads those weights and must agree.
"""

import os
import subprocess
import sys

import numpy as np
import pytest
import tensorflow as tf

import tf_lstm
from tests.conftest import ROOT
from tests.parity import harness
from tf_lstm.app import optimizers
from tf_lstm.app.models.text_classifier import TextClassifier
from tf_lstm.app.training import loop

V, E, H, T, B, STEPS, LR = 40, 8, 12, 10, 6, 8, 1e-2
PORT_NAMES = {"embedding": "embedding", "rnn/basic_lstm_cell/kernel": "kernel",
              "rnn/basic_lstm_cell/bias": "bias", "output/kernel": "output_kernel",
              "output/bias": "output_bias"}


@pytest.fixture(scope="module")
def record(tmp_path_factory):
  d = tmp_path_factory.mktemp("imdb_parity")
  rng = np.random.RandomState(0)
  lengths = rng.randint(1, T + 1, size=60).astype(np.int32)
  ids = rng.randint(2, V, size=(60, T)).astype(np.int32)
  ids[np.arange(T)[None, :] >= lengths[:, None]] = 0
  np.savez(d / "ids.npz", train_ids=ids, train_lengths=lengths,
           train_labels=rng.randint(0, 2, 60).astype(np.int32))
  env = dict(os.environ, TF_USE_LEGACY_KERAS="1", TF_CPP_MIN_LOG_LEVEL="2")
  cmd = [sys.executable, os.path.join(ROOT, "legacy", "imdb_lstm.py"), f"--ids={d / 'ids.npz'}",
         f"--vocab_size={V}", f"--embedding_dim={E}", f"--num_units={H}",
         f"--batch_size={B}", f"--learning_rate={LR}", f"--train_steps={STEPS}",
         f"--dump_dir={d / 'dump'}"]
  proc = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=ROOT, timeout=300)
  assert proc.returncode == 0, proc.stderr[-3000:]
  with np.load(d / "dump" / "record.npz") as f:
    rec = {k: f[k] for k in f.files}
  rec["data"] = (ids, lengths, np.load(d / "ids.npz")["train_labels"])
  return rec


def _port(rec):
  model = TextClassifier(V, E, tf_lstm.BasicLSTMCell(H), 2)
  variables = {"embedding": model.embedding, "kernel": model.cell.kernel,
               "bias": model.cell.bias, "output_kernel": model.output_kernel,
               "output_bias": model.output_bias}
  for tf1_name, port_name in PORT_NAMES.items():
    variables[port_name].assign(rec["init/" + tf1_name])
  return model, variables


def test_logits_and_gradients_match(record):
  harness.assert_biases_noised(record)
  model, variables = _port(record)
  x0, len0, y0 = record["x0"], record["len0"], record["y0"]
  with tf.GradientTape() as tape:
    logits = model((x0, len0))
    loss = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(y0, logits))
  np.testing.assert_allclose(logits, record["logits0"], atol=1e-5)
  assert abs(float(loss) - float(record["loss0"])) <= 1e-5
  names = list(PORT_NAMES)
  grads = tape.gradient(loss, [variables[PORT_NAMES[n]] for n in names])
  for n, g in zip(names, grads):
    g = tf.convert_to_tensor(g).numpy()
    ref = record["grad/" + n]
    rel = np.abs(g - ref).max() / max(np.abs(ref).max(), 1e-12)
    assert rel <= 1e-5, (n, rel)


def test_adam_loss_trajectory_matches(record):
  model, _ = _port(record)
  opt = optimizers.make_optimizer("adam", LR)
  opt.schedule = None
  step = loop.make_train_step(model, opt)
  ids, lengths, labels = record["data"]
  losses = []
  for k in range(STEPS):
    s = (k * B) % (len(ids) - B + 1)
    loss, _, _ = step((ids[s:s + B], lengths[s:s + B]), labels[s:s + B])
    losses.append(float(loss))
  np.testing.assert_allclose(losses, record["losses"], atol=1e-4)
