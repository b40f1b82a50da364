"""Port vs legacy/ TF1 programs for the extra cells, from the same initial weights.

  gflstm      legacy/mnist_gflstm.py (2-layer gated-feedback LSTM, custom TF1 RNNCell)
  binary      legacy/mnist_binary_lstm.py (2-layer binary-weight LSTM, shadow clip)
  lstm_full   legacy/mnist_static_rnn.py --cell=lstm_full (tf.nn.rnn_cell.LSTMCell
              with peepholes and a projection)
Tolerances as tests/parity/test_parity.py: logits max abs diff <= 1e-5; gradients
max abs diff / max(1, max|g|) <= 1e-5; the 100-step Adam loss trajectory max abs
diff <= 1e-4; final weights / max(1, max|w|) <= 1e-4.  The three TF1 dumps run
in parallel subprocesses (TF_USE_LEGACY_KERAS=1); the port runs in-process and
takes each dump's initial weights from its init_ckpt through tf_lstm.app.tf1_import.
"""

import os
import subprocess
import sys

import numpy as np
import pytest
import tensorflow as tf

from tests.conftest import MNIST_5K, ROOT
from tests.parity import harness
from tf_lstm.app import tf1_import
from tf_lstm.app.training import loop

UNITS = 16
# id -> (script, flags, port cell, port model options)
CONFIGS = {
    "gflstm": ("mnist_gflstm.py", [f"--num_units={UNITS}", "--num_layers=2"], "gflstm", {}),
    "binary": ("mnist_binary_lstm.py", [f"--hidden_size={UNITS}", "--num_layers=2",
                                        "--learning_rate=0.003"], "binary_lstm", {}),
    "lstm_full": ("mnist_static_rnn.py", [f"--num_units={UNITS}", "--cell=lstm_full"],
                  "lstm_full", dict(use_peepholes=True, num_proj=UNITS)),
}


@pytest.fixture(scope="module")
def dumps(tmp_path_factory):
  """Runs the three legacy dumps at once; {id: harness.Dump}."""
  env = dict(os.environ, TF_USE_LEGACY_KERAS="1", TF_CPP_MIN_LOG_LEVEL="2")
  procs = {}
  for name, (script, flags, _, _) in CONFIGS.items():
    dump_dir = str(tmp_path_factory.mktemp(name) / "dump")
    cmd = [sys.executable, os.path.join(harness.LEGACY_DIR, script),
           f"--data_dir={MNIST_5K}", f"--dump_dir={dump_dir}", *flags]
    procs[name] = (subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                    text=True, env=env, cwd=ROOT), dump_dir, cmd)
  out = {}
  for name, (proc, dump_dir, cmd) in procs.items():
    stdout, stderr = proc.communicate(timeout=900)
    if proc.returncode != 0:
      raise AssertionError(f"{' '.join(cmd)} failed:\n{stdout}\n{stderr[-4000:]}")
    with np.load(os.path.join(dump_dir, "record.npz")) as f:
      record = {k: f[k] for k in f.files}
    out[name] = harness.Dump(record, os.path.join(dump_dir, "init_ckpt", "model.ckpt"),
                             dump_dir)
  return out


def port(dump, name):
  """A port model + optimizer holding the dump's init_ckpt, loaded by tf1_import.

  Returns ``(model, optimizer, {TF1 name: port variable})``.
  """
  _, _, cell, options = CONFIGS[name]
  ported = harness.port_from_record(dump, cell=cell, **options)
  model = ported.model
  variables = {ported.mapping[pv.name]: pv.variable
               for pv in tf1_import.port_variables(model)}
  init = harness.prefixed(dump.record, "init")
  assert sorted(variables) == sorted(init)          # every variable, nothing else
  assert len(model.trainable_variables) == len(init)
  for tf1_name, var in variables.items():
    np.testing.assert_array_equal(var.numpy(), init[tf1_name], err_msg=tf1_name)
  return model, ported.optimizer, variables


@pytest.mark.parametrize("name", list(CONFIGS))
def test_logits_loss_and_gradients(dumps, name):
  r = dumps[name].record
  model, _, variables = port(dumps[name], name)
  names = sorted(variables)
  with tf.GradientTape() as tape:
    logits = model(tf.constant(r["x0"]))
    loss = harness.mean_cross_entropy(logits, r["y0"])
  grads = tape.gradient(loss, [variables[n] for n in names])
  assert harness.max_abs_diff(logits, r["logits0"]) <= 1e-5
  assert abs(float(loss) - float(r["loss0"])) <= 1e-5
  errors = {n: harness.scaled_diff(g.numpy(), r["grad/" + n]) for n, g in zip(names, grads)}
  assert max(errors.values()) <= 1e-5, errors
  assert min(float(np.abs(r["grad/" + n]).max()) for n in names if "bias" not in n) > 0


@pytest.mark.parametrize("name", list(CONFIGS))
def test_loss_trajectory_and_final_weights(dumps, name):
  r = dumps[name].record
  model, optimizer, variables = port(dumps[name], name)
  step = loop.make_train_step(model, optimizer)
  losses = np.array([float(step(tf.constant(x), tf.constant(y))[0])
                     for x, y in zip(r["train_x"], r["train_y"])], np.float32)
  assert losses.shape == (100,)
  assert harness.max_abs_diff(losses, r["losses"]) <= 1e-4
  assert losses[-10:].mean() < losses[:10].mean()            # it did learn
  errors = {n: harness.scaled_diff(v.numpy(), r["final/" + n]) for n, v in variables.items()}
  assert max(errors.values()) <= 1e-4, errors
  moved = max(harness.max_abs_diff(r["final/" + n], r["init/" + n]) for n in variables)
  assert moved > 100 * max(errors.values())
  if name == "binary":   # the clip ran on both sides and signs flipped
    for k in (0, 1):
      tf1 = f"rnn/multi_rnn_cell/cell_{k}/binary_lstm_cell/kernel"
      assert np.abs(r["final/" + tf1]).max() == 1.0
      assert np.any(np.sign(r["final/" + tf1]) != np.sign(r["init/" + tf1]))
