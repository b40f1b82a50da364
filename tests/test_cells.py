"""Each cell's math against an independent NumPy implementation of its equations."""

import numpy as np
import pytest
import tensorflow as tf

import tf_lstm

B, D, N = 5, 7, 6


def sigmoid(x):
  return 1 / (1 + np.exp(-x))


def np_basic_lstm(x, c, h, kernel, bias, forget_bias):
  z = np.concatenate([x, h], 1) @ kernel + bias
  i, j, f, o = np.split(z, 4, axis=1)
  new_c = c * sigmoid(f + forget_bias) + sigmoid(i) * np.tanh(j)
  return new_c, np.tanh(new_c) * sigmoid(o)


def np_gru(x, h, gk, gb, ck, cb):
  g = sigmoid(np.concatenate([x, h], 1) @ gk + gb)
  r, u = np.split(g, 2, axis=1)
  cand = np.tanh(np.concatenate([x, r * h], 1) @ ck + cb)
  return u * h + (1 - u) * cand


def np_rnn(x, h, k, b):
  return np.tanh(np.concatenate([x, h], 1) @ k + b)


def _randomize(module, rng):
  for v in module.trainable_variables:
    v.assign(rng.normal(size=v.shape).astype(np.float32))


@pytest.fixture
def rng():
  return np.random.RandomState(42)


@pytest.mark.parametrize("forget_bias", [0.0, 1.0])
def test_basic_lstm_matches_numpy(rng, forget_bias):
  cell = tf_lstm.BasicLSTMCell(N, forget_bias=forget_bias)
  x = rng.normal(size=(B, D)).astype(np.float32)
  c, h = (rng.normal(size=(B, N)).astype(np.float32) for _ in range(2))
  out, state = cell(x, tf_lstm.LSTMStateTuple(c, h))
  _randomize(cell, rng)
  out, state = cell(x, tf_lstm.LSTMStateTuple(c, h))
  want_c, want_h = np_basic_lstm(x, c, h, cell.kernel.numpy(), cell.bias.numpy(), forget_bias)
  assert np.abs(state.c.numpy() - want_c).max() <= 1e-5
  assert np.abs(state.h.numpy() - want_h).max() <= 1e-5
  np.testing.assert_array_equal(out.numpy(), state.h.numpy())   # exact: the same tensor


def test_basic_lstm_tf1_layout():
  cell = tf_lstm.BasicLSTMCell(N, input_depth=D)
  assert cell.kernel.shape == (D + N, 4 * N)
  assert cell.bias.shape == (4 * N,)
  np.testing.assert_array_equal(cell.bias.numpy(), 0)   # forget_bias is not stored
  assert cell.state_size == tf_lstm.LSTMStateTuple(N, N)
  assert cell.output_size == N
  assert [v.name for v in cell.trainable_variables] == [   # TF1's (creation) order
      "basic_lstm_cell/kernel:0", "basic_lstm_cell/bias:0"]


def test_gru_matches_numpy(rng):
  cell = tf_lstm.GRUCell(N, input_depth=D)
  assert cell.gates_kernel.shape == (D + N, 2 * N)
  assert cell.candidate_kernel.shape == (D + N, N)
  np.testing.assert_array_equal(cell.gates_bias.numpy(), 1)   # TF1 default
  _randomize(cell, rng)
  x = rng.normal(size=(B, D)).astype(np.float32)
  h = rng.normal(size=(B, N)).astype(np.float32)
  out, state = cell(x, h)
  want = np_gru(x, h, cell.gates_kernel.numpy(), cell.gates_bias.numpy(),
                cell.candidate_kernel.numpy(), cell.candidate_bias.numpy())
  assert np.abs(out.numpy() - want).max() <= 1e-5
  np.testing.assert_array_equal(out.numpy(), state.numpy())   # exact: the same tensor
  names = sorted(v.name for v in cell.trainable_variables)
  assert names == ["gru_cell/candidate/bias:0", "gru_cell/candidate/kernel:0",
                   "gru_cell/gates/bias:0", "gru_cell/gates/kernel:0"]


def test_basic_rnn_matches_numpy(rng):
  cell = tf_lstm.BasicRNNCell(N, input_depth=D)
  _randomize(cell, rng)
  x = rng.normal(size=(B, D)).astype(np.float32)
  h = rng.normal(size=(B, N)).astype(np.float32)
  out, _ = cell(x, h)
  want = np_rnn(x, h, cell.kernel.numpy(), cell.bias.numpy())
  assert np.abs(out.numpy() - want).max() <= 1e-5


def test_multi_rnn_cell_stacks_layers(rng):
  cells = [tf_lstm.BasicLSTMCell(N), tf_lstm.GRUCell(3)]
  multi = tf_lstm.MultiRNNCell(cells)
  x = rng.normal(size=(B, D)).astype(np.float32)
  state = multi.zero_state(B, tf.float32)
  multi(x, state)
  _randomize(multi, rng)
  assert cells[0].kernel.shape == (D + N, 4 * N)
  assert cells[1].gates_kernel.shape == (N + 3, 6)
  s0 = [rng.normal(size=(B, N)).astype(np.float32) for _ in range(2)]
  s1 = rng.normal(size=(B, 3)).astype(np.float32)
  out, (new0, new1) = multi(x, (tf_lstm.LSTMStateTuple(*s0), s1))
  c, h = np_basic_lstm(x, *s0, cells[0].kernel.numpy(), cells[0].bias.numpy(), 1.0)
  g = np_gru(h, s1, cells[1].gates_kernel.numpy(), cells[1].gates_bias.numpy(),
             cells[1].candidate_kernel.numpy(), cells[1].candidate_bias.numpy())
  assert np.abs(new0.h.numpy() - h).max() <= 1e-5
  assert np.abs(out.numpy() - g).max() <= 1e-5
  assert multi.state_size == (tf_lstm.LSTMStateTuple(N, N), 3)
  assert multi.output_size == 3


def test_zero_state_shapes():
  multi = tf_lstm.MultiRNNCell([tf_lstm.BasicLSTMCell(4), tf_lstm.BasicLSTMCell(4)])
  zs = multi.zero_state(3, tf.float32)
  assert [t.shape.as_list() for t in tf.nest.flatten(zs)] == [[3, 4]] * 4


def test_variables_created_once_and_depth_checked():
  cell = tf_lstm.BasicLSTMCell(4)
  state = cell.zero_state(2, tf.float32)
  cell(tf.zeros([2, 3]), state)
  kernel = cell.kernel
  cell(tf.ones([2, 3]), state)
  assert cell.kernel is kernel and len(cell.trainable_variables) == 2
  with pytest.raises(ValueError, match="built for input depth 3, called with depth 5"):
    cell(tf.zeros([2, 5]), state)
  with pytest.raises(ValueError, match=r"inputs must be \[batch, depth\]"):
    cell(tf.zeros([2, 3, 1]), state)


def test_bad_constructor_arguments():
  with pytest.raises(ValueError, match="num_units must be positive"):
    tf_lstm.BasicLSTMCell(0)
  with pytest.raises(ValueError, match="at least one cell"):
    tf_lstm.MultiRNNCell([])
  c = tf_lstm.BasicLSTMCell(3)
  with pytest.warns(UserWarning, match="share one set of weights"):
    stack = tf_lstm.MultiRNNCell([c, c])
  with pytest.raises(ValueError, match="layers 0 and 1 are the same cell object"):
    stack.build(5)   # layer 0 built for depth 5, layer 1 gets 3


class SignLSTMCell(tf_lstm.BasicLSTMCell):
  """A TF1-style subclass of a concrete cell: overrides build and call, reads TF1's names."""

  def build(self, inputs_shape):
    super().build(inputs_shape)
    self.built_with = self.built_with + [tf.TensorShape(inputs_shape).as_list()]
    self.scale = tf.Variable(0.5, trainable=False)   # made once: build runs once

  def call(self, inputs, state):
    c, h = state
    kernel = self.scale * tf.sign(self._kernel)
    gates = tf.nn.bias_add(tf.matmul(tf.concat([inputs, h], 1), kernel), self._bias)
    i, j, f, o = tf.split(gates, 4, axis=1)
    new_c = c * tf.sigmoid(f + self._forget_bias) + tf.sigmoid(i) * self._activation(j)
    new_h = self._activation(new_c) * tf.sigmoid(o)
    return new_h, tf_lstm.LSTMStateTuple(new_c, new_h)


@pytest.mark.parametrize("mode", ["eager", "function"])
def test_subclass_build_and_call_are_used(rng, mode):
  """TF1's subclassing contract: the unroll builds the subclass once (its own build,
  with a TensorShape) and steps through its call, in scopes named after the subclass."""
  cells = [SignLSTMCell(N, forget_bias=0.5) for _ in range(2)]
  for cell in cells:
    cell.built_with = []
  multi = tf_lstm.MultiRNNCell(cells)
  xs = [tf.constant(rng.normal(size=(B, D)).astype(np.float32)) for _ in range(3)]

  def unroll(xs):
    return tf_lstm.static_rnn(multi, xs, dtype=tf.float32)[0][-1]

  run = tf.function(unroll) if mode == "function" else unroll
  run(xs)
  for cell in cells:   # random biases: their use in call is checked too
    cell.bias.assign(rng.normal(size=cell.bias.shape).astype(np.float32))
  got = run(xs).numpy()

  assert [c.built_with for c in cells] == [[[None, D]], [[None, N]]]   # MultiRNNCell builds
  assert [v.name for v in cells[0].trainable_variables] == [
      "rnn/multi_rnn_cell/cell_0/sign_lstm_cell/kernel:0",
      "rnn/multi_rnn_cell/cell_0/sign_lstm_cell/bias:0"]
  assert cells[0]._kernel is cells[0].kernel and cells[0]._num_units == N
  # Layer by layer: the second layer reads the first's outputs.
  layer_in = [x.numpy() for x in xs]
  for cell in cells:
    c = h = np.zeros([B, N], np.float32)
    kernel = 0.5 * np.sign(cell.kernel.numpy())
    layer_out = []
    for x in layer_in:
      c, h = np_basic_lstm(x, c, h, kernel, cell.bias.numpy(), 0.5)
      layer_out.append(h)
    layer_in = layer_out
  # float32 matmuls of 13 / 12 terms and 3 steps: a few ulp of values of order 1.
  np.testing.assert_allclose(got, layer_in[-1], atol=1e-5)
  plain = tf_lstm.BasicLSTMCell(N, forget_bias=0.5)   # the default call: the kernel, not sign
  plain.build(D)
  plain.kernel.assign(cells[0].kernel)
  plain.bias.assign(cells[0].bias)
  assert not np.allclose(plain(xs[0], plain.zero_state(B))[0].numpy(),
                         cells[0](xs[0], cells[0].zero_state(B))[0].numpy(), atol=1e-3)
