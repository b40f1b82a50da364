"""static_rnn: TF1's contract, unrolled, list or [B, T, D] inputs, sequence_length."""

import numpy as np
import pytest
import tensorflow as tf

import tf_lstm
from tests.test_cells import np_basic_lstm


def _lstm(rng, n=4, d=3):
  cell = tf_lstm.BasicLSTMCell(n, input_depth=d)
  for v in cell.trainable_variables:
    v.assign(rng.normal(size=v.shape).astype(np.float32) * 0.5)
  return cell


def test_matches_numpy_unroll():
  rng = np.random.RandomState(0)
  cell = _lstm(rng)
  x = rng.normal(size=(2, 5, 3)).astype(np.float32)
  outputs, state = tf_lstm.static_rnn(cell, tf.unstack(x, 5, 1), dtype=tf.float32)
  assert isinstance(outputs, list) and len(outputs) == 5
  c = h = np.zeros((2, 4), np.float32)
  for t in range(5):
    c, h = np_basic_lstm(x[:, t], c, h, cell.kernel.numpy(), cell.bias.numpy(), 1.0)
    assert np.abs(outputs[t].numpy() - h).max() <= 1e-5
  assert np.abs(state.c.numpy() - c).max() <= 1e-5


def test_tensor_input_and_tf_function_give_same_result():
  rng = np.random.RandomState(1)
  cell = _lstm(rng)
  x = tf.constant(rng.normal(size=(2, 6, 3)).astype(np.float32))
  eager_out, _ = tf_lstm.static_rnn(cell, tf.unstack(x, axis=1), dtype=tf.float32)

  @tf.function
  def run(x):
    outs, st = tf_lstm.static_rnn(cell, x)
    return outs[-1], st
  last, _ = run(x)
  np.testing.assert_allclose(last.numpy(), eager_out[-1].numpy(), atol=1e-6)
  graph = run.get_concrete_function(x).graph
  matmuls = [op for op in graph.get_operations() if op.type == "MatMul"]
  assert len(matmuls) == 6          # one per step: the loop is unrolled


def test_initial_state_is_used():
  rng = np.random.RandomState(2)
  cell = _lstm(rng)
  x = [tf.constant(rng.normal(size=(2, 3)).astype(np.float32))]
  init = tf_lstm.LSTMStateTuple(tf.ones([2, 4]), tf.ones([2, 4]))
  _, s0 = tf_lstm.static_rnn(cell, x, dtype=tf.float32)
  _, s1 = tf_lstm.static_rnn(cell, x, initial_state=init)
  c, _ = np_basic_lstm(x[0].numpy(), np.ones((2, 4)), np.ones((2, 4)),
                       cell.kernel.numpy(), cell.bias.numpy(), 1.0)
  assert np.abs(s1.c.numpy() - c).max() <= 1e-5
  assert np.abs(s0.c.numpy() - s1.c.numpy()).max() > 1e-3


def test_sequence_length_zeroes_outputs_and_freezes_state():
  rng = np.random.RandomState(3)
  cell = _lstm(rng)
  x = tf.constant(rng.normal(size=(2, 5, 3)).astype(np.float32))
  outs, state = tf_lstm.static_rnn(cell, x, sequence_length=[2, 5])
  full_short, state_short = tf_lstm.static_rnn(cell, x[:1, :2])
  np.testing.assert_array_equal(outs[2].numpy()[0], 0)   # exact: masked to zeros
  np.testing.assert_allclose(state.c.numpy()[0], state_short.c.numpy()[0], atol=1e-6)
  full, state_full = tf_lstm.static_rnn(cell, x[1:])
  np.testing.assert_allclose(state.h.numpy()[1], state_full.h.numpy()[0], atol=1e-6)


@pytest.mark.parametrize("bad, message", [
    ([], "non-empty list"),
    (np.zeros((2, 3), np.float32), r"\[batch, time, depth\]"),
    ([np.zeros((2, 3, 1), np.float32)], r"inputs\[0\] must be \[batch, depth\]"),
])
def test_bad_inputs(bad, message):
  with pytest.raises(ValueError, match=message):
    tf_lstm.static_rnn(tf_lstm.BasicLSTMCell(2), bad, dtype=tf.float32)
