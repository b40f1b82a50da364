"""Seed 004's naive-LSTM study model vs its TF1-style reference
(legacy/mnist_mean_pool_lstm.py): rows -> x W_in + b_in -> BasicLSTMCell -> mean of
the 28 outputs -> linear; SGD lr 1.0, batch 64, as the study used.

Same tolerances as test_parity.py.
"""

import numpy as np
import pytest

from tests.parity import harness

PROJECTION = 16
FLAGS = ["--num_units=32", f"--input_projection={PROJECTION}", "--learning_rate=1.0"]
MODEL = dict(cell="lstm", num_layers=1, num_units=32, input_projection=PROJECTION,
             pooling="mean")
VAR_MAP = {"input_projection/kernel": "W_in", "input_projection/bias": "b_in"}


@pytest.fixture(scope="module")
def dump(tmp_path_factory):
  return harness.run_legacy_dump("mnist_mean_pool_lstm.py", FLAGS,
                                 tmp_path_factory.mktemp("study"), ["--parity_batch_size=64"])


def port(dump):
  assert (str(dump.record["optimizer"]), float(dump.record["learning_rate"])) == ("sgd", 1.0)
  return harness.port_from_record(dump, VAR_MAP, **MODEL)


def test_weights_logits_and_gradients(dump):
  r = dump.record
  harness.assert_biases_noised(r)
  p = port(dump)
  weights = harness.port_weights(p)
  assert sorted(weights) == sorted(harness.prefixed(r, "init"))
  assert {"W_in", "b_in"} <= set(weights)
  for name, value in harness.prefixed(r, "init").items():
    np.testing.assert_array_equal(weights[name], value, err_msg=name)
  logits, loss, grads = harness.port_logits_and_grads(p, r["x0"], r["y0"])
  assert logits.shape == (64, 10)
  assert harness.max_abs_diff(logits, r["logits0"]) <= 1e-5
  assert abs(loss - float(r["loss0"])) <= 1e-5
  tf1_grads = harness.prefixed(r, "grad")
  errors = {n: harness.relative_diff(grads[n], g) for n, g in tf1_grads.items()}
  assert max(errors.values()) <= 1e-5, errors
  assert np.abs(grads["W_in"]).max() > 0      # the projection is in the gradient path


def test_loss_trajectory_and_final_weights(dump):
  r = dump.record
  p = port(dump)
  losses = harness.port_losses(p, r["train_x"], r["train_y"])
  assert losses.shape == (100,)
  assert np.all(np.isfinite(losses))
  assert harness.max_abs_diff(losses, r["losses"]) <= 1e-4
  assert losses[-10:].mean() < losses[:10].mean()        # it did learn
  final = harness.prefixed(r, "final")
  weights = harness.port_weights(p)
  errors = {n: harness.scaled_diff(weights[n], w) for n, w in final.items()}
  assert max(errors.values()) <= 1e-4, errors
