"""Port vs legacy/ TF1 programs for the extra cells, from the same initial weights.

  gflstm      legacy/mnist_gflstm.py (2-layer gated-feedback LSTM, custom TF1 RNNCell)
  binary      legacy/mnist_binary_lstm.py (2-layer binary-weight LSTM, shadow clip)
  lstm_full   legacy/mnist_multilayer_lstm.py --cell=lstm_full --num_layers=1
              (tf.nn.rnn_cell.LSTMCell with peepholes and a projection)
Tolerances as tests/parity/test_parity.py: logits max abs diff <= 1e-5; gradients,
per variable, max|port - tf1| / max|tf1| <= 1e-5; the 100-step Adam loss trajectory
max abs diff <= 1e-4; final weights / max(1, max|w|) <= 1e-4.  The three TF1 records
(legacy/_run_with_parity.py, biases starting from noise) run in parallel subprocesses
(TF_USE_LEGACY_KERAS=1); the port runs in-process and takes each record's starting
weights from its init_ckpt through tf_lstm.app.tf1_import.
"""

import subprocess

import numpy as np
import pytest
import tensorflow as tf

from tests.conftest import ROOT
from tests.parity import harness
from tf_lstm.app import tf1_import
from tf_lstm.app.training import loop

UNITS = 16
# id -> (program, its flags, port ModelConfig options)
CONFIGS = {
    "gflstm": ("mnist_gflstm.py", [f"--num_units={UNITS}", "--num_layers=2"],
               dict(cell="gflstm", num_layers=2, num_units=UNITS)),
    "binary": ("mnist_binary_lstm.py", [f"--hidden_size={UNITS}", "--num_layers=2",
                                        "--learning_rate=0.003"],
               dict(cell="binary_lstm", num_layers=2, num_units=UNITS)),
    "lstm_full": ("mnist_multilayer_lstm.py", [f"--num_units={UNITS}", "--num_layers=1",
                                               "--cell=lstm_full"],
                  dict(cell="lstm_full", num_layers=1, num_units=UNITS, use_peepholes=True,
                       num_proj=UNITS)),
}


@pytest.fixture(scope="module")
def dumps(tmp_path_factory):
  """Runs the three legacy dumps at once; {id: harness.Dump}."""
  procs = {}
  for name, (script, flags, _) in CONFIGS.items():
    dump_dir = str(tmp_path_factory.mktemp(name) / "dump")
    cmd = harness.legacy_command(script, flags, [f"--dump_dir={dump_dir}"])
    procs[name] = (subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                    text=True, env=harness.LEGACY_ENV, cwd=ROOT), dump_dir, cmd)
  out = {}
  for name, (proc, dump_dir, cmd) in procs.items():
    stdout, stderr = proc.communicate(timeout=900)
    if proc.returncode != 0:
      raise AssertionError(f"{' '.join(cmd)} failed:\n{stdout}\n{stderr[-4000:]}")
    out[name] = harness.load_dump(dump_dir)
  return out


def port(dump, name):
  """A port model + optimizer holding the dump's init_ckpt, loaded by tf1_import.

  Returns ``(model, optimizer, {TF1 name: port variable})``.
  """
  harness.assert_biases_noised(dump.record)
  ported = harness.port_from_record(dump, **CONFIGS[name][2])
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
  errors = {n: harness.relative_diff(g.numpy(), r["grad/" + n]) for n, g in zip(names, grads)}
  assert max(errors.values()) <= 1e-5, errors
  assert min(float(np.abs(r["grad/" + n]).max()) for n in names) > 0


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
