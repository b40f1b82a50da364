"""dynamic_rnn: TF1 contract, and equal to static_rnn (outputs and gradients)."""

import numpy as np
import pytest
import tensorflow as tf

import tf_lstm
from tf_lstm import cells

B, T, D, N = 4, 6, 3, 5
LENGTHS = [6, 3, 0, 1]   # full, partial, empty and one-step rows


def _make_cell(kind):
  if kind == "lstm":
    return cells.BasicLSTMCell(N)
  if kind == "gru":
    return cells.GRUCell(N)
  return cells.MultiRNNCell([cells.BasicLSTMCell(N), cells.GRUCell(N + 1)])


def _inputs(seed=0):
  return tf.constant(np.random.RandomState(seed).randn(B, T, D).astype(np.float32))


def _loss_and_grads(cell, x, unroll):
  with tf.GradientTape() as tape:
    tape.watch(x)
    outputs, state = unroll(x)
    loss = tf.reduce_sum(outputs * outputs) + sum(
        tf.reduce_sum(tf.sin(s)) for s in tf.nest.flatten(state))
  grads = tape.gradient(loss, [x] + list(cell.trainable_variables))
  return outputs, state, grads


@pytest.mark.parametrize("kind", ["lstm", "gru", "multi"])
def test_equals_static_rnn_outputs_states_and_gradients(kind):
  tf.random.set_seed(1)
  cell = _make_cell(kind)
  x = _inputs()
  lengths = tf.constant(LENGTHS)
  s_out, s_state, s_grads = _loss_and_grads(
      cell, x, lambda x: (lambda o, s: (tf.stack(o, 1), s))(
          *tf_lstm.static_rnn(cell, x, sequence_length=lengths)))
  d_out, d_state, d_grads = _loss_and_grads(
      cell, x, lambda x: tf_lstm.dynamic_rnn(cell, x, sequence_length=lengths))
  np.testing.assert_allclose(d_out, s_out, atol=1e-6)
  tf.nest.assert_same_structure(d_state, s_state)
  for a, b in zip(tf.nest.flatten(d_state), tf.nest.flatten(s_state)):
    np.testing.assert_allclose(a, b, atol=1e-6)
  assert len(d_grads) == len(s_grads) > 1
  for a, b in zip(d_grads, s_grads):
    np.testing.assert_allclose(a, b, atol=1e-6)


def test_tf1_contract_zero_outputs_and_carried_state():
  tf.random.set_seed(2)
  cell = cells.BasicLSTMCell(N)
  x = _inputs()
  outputs, state = tf_lstm.dynamic_rnn(cell, x, sequence_length=LENGTHS)
  full, _ = tf_lstm.dynamic_rnn(cell, x)
  for b, n in enumerate(LENGTHS):
    np.testing.assert_allclose(outputs[b, :n], full[b, :n], atol=1e-6)
    assert np.all(outputs[b, n:].numpy() == 0.0)   # exact: masked to zeros
    if n:   # the final state is the state after the row's last valid step
      np.testing.assert_allclose(state.h[b], full[b, n - 1], atol=1e-6)
  # A length-0 row keeps the initial state (zeros).
  assert np.all(state.c[2].numpy() == 0.0) and np.all(state.h[2].numpy() == 0.0)


def test_time_major_and_dynamic_time_in_tf_function():
  tf.random.set_seed(3)
  cell = cells.GRUCell(N)
  x = _inputs()
  expected, expected_state = tf_lstm.dynamic_rnn(cell, x, sequence_length=LENGTHS)

  @tf.function(input_signature=[tf.TensorSpec([None, None, D]), tf.TensorSpec([None], tf.int32)])
  def run_time_major(xt, lengths):
    return tf_lstm.dynamic_rnn(cell, xt, sequence_length=lengths, time_major=True)

  out, state = run_time_major(tf.transpose(x, [1, 0, 2]), tf.constant(LENGTHS))
  assert out.shape == (T, B, N)
  np.testing.assert_allclose(tf.transpose(out, [1, 0, 2]), expected, atol=1e-6)
  np.testing.assert_allclose(state, expected_state, atol=1e-6)
  # The same traced graph runs a different number of steps.
  out3, _ = run_time_major(tf.transpose(x[:, :3], [1, 0, 2]), tf.constant([3, 3, 0, 1]))
  np.testing.assert_allclose(tf.transpose(out3, [1, 0, 2]), expected[:, :3] * [[[1]], [[1]], [[0]], [[1]]],
                             atol=1e-6)
  assert run_time_major.experimental_get_tracing_count() == 1


def test_initial_state_as_plain_tuple_is_used():
  tf.random.set_seed(4)
  cell = cells.BasicLSTMCell(N)
  x = _inputs()
  c0 = tf.fill([B, N], 0.5)
  h0 = tf.fill([B, N], -0.25)
  out, state = tf_lstm.dynamic_rnn(cell, x, initial_state=(c0, h0))
  s_out, s_state = tf_lstm.static_rnn(cell, x, initial_state=cells.LSTMStateTuple(c0, h0))
  assert isinstance(state, cells.LSTMStateTuple)
  np.testing.assert_allclose(out, tf.stack(s_out, 1), atol=1e-6)
  np.testing.assert_allclose(state.c, s_state.c, atol=1e-6)


@pytest.mark.parametrize("bad, match", [
    (dict(inputs=tf.zeros([B, D])), r"inputs must be \[batch, time, depth\], got shape \(4, 3\)"),
    (dict(inputs=tf.zeros([T, B, D, 1]), time_major=True), r"inputs must be \[time, batch, depth\]"),
    (dict(inputs=tf.zeros([B, T, D]), sequence_length=tf.zeros([B, 1], tf.int32)),
     r"sequence_length must be \[batch\]"),
    (dict(inputs=tf.zeros([B, T, D]), sequence_length=tf.zeros([B])), "must be integers"),
    (dict(inputs=tf.zeros([B, T, D]), initial_state=tf.zeros([B, N])), "initial_state has 1 tensors"),
])
def test_bad_inputs_fail_clearly(bad, match):
  cell = cells.BasicLSTMCell(N)
  with pytest.raises(ValueError, match=match):
    tf_lstm.dynamic_rnn(cell, **bad)


def test_sequence_length_batch_mismatch_fails():
  with pytest.raises(tf.errors.InvalidArgumentError, match="one entry per batch row"):
    tf_lstm.dynamic_rnn(cells.BasicLSTMCell(N), tf.zeros([B, T, D]), sequence_length=[1, 2])


def test_tfs_own_raw_rnn_runs_a_tf_lstm_cell_in_a_graph():
  """tf_lstm has no raw_rnn (docs/porting.md); TF's own runs its cells as dynamic_rnn."""
  x_np = _inputs().numpy()
  with tf.Graph().as_default():
    cell = _make_cell("multi")
    x = tf.constant(x_np)
    expected, expected_state = tf_lstm.dynamic_rnn(cell, x, sequence_length=LENGTHS)
    inputs_ta = tf.TensorArray(tf.float32, size=T).unstack(tf.transpose(x, [1, 0, 2]))
    lengths = tf.constant(LENGTHS)

    def loop_fn(time, output, state, loop_state):
      if output is None:   # time 0: the initial state (the emit structure: output_size)
        state = cell.zero_state(B, tf.float32)
      finished = time >= lengths
      return (finished, inputs_ta.read(tf.minimum(time, T - 1)), state, output, loop_state)

    with tf.compat.v1.variable_scope("rnn", reuse=True):
      outputs_ta, state, _ = tf.compat.v1.nn.raw_rnn(cell, loop_fn)
    outputs = tf.transpose(outputs_ta.stack(), [1, 0, 2])
    with tf.compat.v1.Session() as sess:
      sess.run(tf.compat.v1.global_variables_initializer())
      got, want, got_state, want_state = sess.run(
          [outputs, expected, tf.nest.flatten(state), tf.nest.flatten(expected_state)])
  assert len(cell.trainable_variables) == 6   # one set of variables, dynamic_rnn's
  np.testing.assert_allclose(got, want[:, :got.shape[1]], atol=1e-6)
  for a, b in zip(got_state, want_state):
    np.testing.assert_allclose(a, b, atol=1e-6)
