"""contrib's OutputProjectionWrapper / InputProjectionWrapper: TF1's names and equations.

contrib is gone from TF 2.x, so no TF1 implementation runs here: the names are
those TF1's wrappers made (an RNNCell layer calling its cell inside its own
scope, then ``_linear``'s ``kernel``/``bias``), and the numbers are checked
against the equations written out in NumPy on the cells' own weights.
"""

import numpy as np
import pytest
import tensorflow as tf

import tf_lstm

B, T, D, N, P = 3, 4, 5, 6, 2


def _rnn(x, kernel, bias, h):   # BasicRNNCell, tanh
  return np.tanh(np.concatenate([x, h], 1) @ kernel + bias)


def _run(mode, make_cell):
  """``static_rnn`` over ``make_cell()``: (variable names -> values, outputs, final state)."""
  x = np.random.RandomState(0).normal(size=(B, T, D)).astype(np.float32)
  if mode == "graph":
    with tf.Graph().as_default():
      cell = make_cell()
      outputs, state = tf_lstm.static_rnn(cell, tf.unstack(tf.constant(x), axis=1))
      variables = tf.compat.v1.global_variables()
      with tf.compat.v1.Session() as sess:
        sess.run(tf.compat.v1.global_variables_initializer())
        values, outputs, state = sess.run([variables, outputs, state])
  else:
    cell = make_cell()
    outputs, state = tf.function(tf_lstm.static_rnn)(cell, tf.unstack(tf.constant(x), axis=1))
    variables = cell.variables
    values, outputs, state = [v.numpy() for v in variables], np.stack(outputs), state.numpy()
  return x, {v.name[:-2]: a for v, a in zip(variables, values)}, np.stack(outputs), state


@pytest.mark.parametrize("mode", ["graph", "tf_function"])
def test_output_projection_wrapper(mode):
  x, w, outputs, state = _run(mode, lambda: tf_lstm.OutputProjectionWrapper(
      tf_lstm.BasicRNNCell(N), P, activation=tf.nn.relu))
  scope = "rnn/output_projection_wrapper/"
  assert sorted(w) == sorted([scope + "basic_rnn_cell/kernel", scope + "basic_rnn_cell/bias",
                              scope + "kernel", scope + "bias"])
  assert w[scope + "kernel"].shape == (N, P) and not w[scope + "bias"].any()
  h = np.zeros([B, N], np.float32)
  for t in range(T):
    h = _rnn(x[:, t], w[scope + "basic_rnn_cell/kernel"], w[scope + "basic_rnn_cell/bias"], h)
    expected = np.maximum(h @ w[scope + "kernel"] + w[scope + "bias"], 0)
    np.testing.assert_allclose(outputs[t], expected, atol=1e-5)
  np.testing.assert_allclose(state, h, atol=1e-5)   # the cell's state, not projected


@pytest.mark.parametrize("mode", ["graph", "tf_function"])
def test_input_projection_wrapper(mode):
  x, w, outputs, state = _run(mode, lambda: tf_lstm.InputProjectionWrapper(
      tf_lstm.BasicRNNCell(N), P, input_size=D))
  scope = "rnn/input_projection_wrapper/"
  if mode == "graph":   # creation order: the projection, then the cell (TF1's)
    assert list(w) == [scope + "kernel", scope + "bias", scope + "basic_rnn_cell/kernel",
                       scope + "basic_rnn_cell/bias"]
  assert w[scope + "kernel"].shape == (D, P)
  assert w[scope + "basic_rnn_cell/kernel"].shape == (P + N, N)
  h = np.zeros([B, N], np.float32)
  for t in range(T):
    p = x[:, t] @ w[scope + "kernel"] + w[scope + "bias"]
    h = _rnn(p, w[scope + "basic_rnn_cell/kernel"], w[scope + "basic_rnn_cell/bias"], h)
    np.testing.assert_allclose(outputs[t], h, atol=1e-5)
  np.testing.assert_allclose(state, h, atol=1e-5)


def test_projection_wrappers_check_their_arguments():
  with pytest.raises(ValueError, match="output_size must be positive"):
    tf_lstm.OutputProjectionWrapper(tf_lstm.GRUCell(N), 0)
  with pytest.raises(ValueError, match="num_proj must be positive"):
    tf_lstm.InputProjectionWrapper(tf_lstm.GRUCell(N), -1)
  with pytest.raises(TypeError, match="cell must be an RNNCell"):
    tf_lstm.OutputProjectionWrapper("lstm", P)
  cell = tf_lstm.OutputProjectionWrapper(tf_lstm.BasicLSTMCell(N), P)
  assert cell.output_size == P and cell.state_size == (N, N)
  assert isinstance(cell.zero_state(B, tf.float32), tf_lstm.LSTMStateTuple)
