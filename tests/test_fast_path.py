"""The benchmarks' fused LSTM unroll (benchmarks/fused_lstm.py) equals ``tf_lstm.static_rnn``.

``fused_lstm.static_rnn`` computes BasicLSTMCell stacks with hoisted input
products; ``tf_lstm.static_rnn`` is the reference loop over ``cell(x, state)``.
Same variables, same numbers: outputs, final states and gradients (inputs,
initial state, kernel, bias) agree to 1e-6, eagerly and in a tf.function.
"""

import numpy as np
import pytest
import tensorflow as tf

from benchmarks import fused_lstm
from tf_lstm import cells
from tf_lstm import unroll
from tf_lstm.app import config as config_lib
from tf_lstm.app.training import loop

# float32 sums in another order (one [T*B, D] product instead of T small ones):
# a few ulp of values of order 1.
TOL = 1e-6
B, T, D, N = 6, 6, 5, 12


def _cell(num_layers, forget_bias=1.0, activation=tf.tanh):
  tf.random.set_seed(7)
  layers = [cells.BasicLSTMCell(N, forget_bias=forget_bias, activation=activation)
            for _ in range(num_layers)]
  cell = layers[0] if num_layers == 1 else cells.MultiRNNCell(layers)
  cell.build(D)
  # Non-zero biases, so a mix-up of bias and forget_bias would show.
  for c in layers:
    c.bias.assign(tf.random.stateless_uniform(c.bias.shape, [1, 2], -0.5, 0.5))
  return cell


def _unroll_and_grads(cell, inputs, initial_state, unroll_fn):
  """Outputs, final state and d(loss)/d(inputs, initial state, variables)."""
  variables = list(cell.trainable_variables)
  with tf.GradientTape() as tape:
    tape.watch([inputs] + tf.nest.flatten(initial_state))
    outputs, state = unroll_fn(cell, inputs, initial_state=initial_state)
    # Weights every output and state entry differently (all gradient paths).
    out = tf.stack(outputs)
    loss = tf.reduce_mean(out * tf.random.stateless_normal(out.shape, [3, 4]))
    for k, s in enumerate(tf.nest.flatten(state)):
      loss += tf.reduce_mean(s * (k + 1.5))
  grads = tape.gradient(loss, [inputs] + tf.nest.flatten(initial_state) + variables)
  return outputs + tf.nest.flatten(state) + grads


def _assert_all_close(got, want):
  assert len(got) == len(want)
  for g, w in zip(got, want):
    assert g.shape == w.shape
    np.testing.assert_allclose(np.asarray(g), np.asarray(w), rtol=TOL, atol=TOL)


@pytest.mark.parametrize("num_layers,in_function,one_product",
                         [(1, False, True), (2, True, True), (2, False, False)])
def test_fused_equals_reference(num_layers, in_function, one_product):
  cell = _cell(num_layers)
  inputs = tf.random.stateless_normal([B, T, D], [5, 6])
  state = tf.nest.map_structure(
      lambda s: tf.random.stateless_normal([B, s], [8, 9]) * 0.5, cell.state_size)

  def fused(*args, **kwargs):
    return fused_lstm.static_rnn(*args, **kwargs, one_product_weight_gradient=one_product)

  def run(unroll_fn):
    return _unroll_and_grads(cell, inputs, state, unroll_fn)

  if in_function:
    run = tf.function(run)
  _assert_all_close(run(fused), run(unroll.static_rnn))


def test_fused_list_inputs_zero_state_and_options():
  cell = _cell(2, forget_bias=0.3, activation=tf.nn.relu)
  steps = tf.unstack(tf.random.stateless_normal([B, T, D], [1, 1]), axis=1)
  want_out, want_state = unroll.static_rnn(cell, steps)
  got_out, got_state = fused_lstm.static_rnn(cell, steps)
  _assert_all_close(got_out + tf.nest.flatten(got_state),
                    want_out + tf.nest.flatten(want_state))
  assert isinstance(got_state, tuple) and len(got_state) == 2
  assert isinstance(got_state[1], cells.LSTMStateTuple)


def test_only_basic_lstm_stacks():
  class PeepholeLSTM(cells.BasicLSTMCell):   # a subclass may change the step
    pass

  assert fused_lstm.lstm_layers(cells.BasicLSTMCell(4)) is not None
  assert fused_lstm.lstm_layers(cells.MultiRNNCell([cells.BasicLSTMCell(4)])) is not None
  assert fused_lstm.lstm_layers(PeepholeLSTM(4)) is None
  assert fused_lstm.lstm_layers(cells.GRUCell(4)) is None
  assert fused_lstm.lstm_layers(
      cells.MultiRNNCell([cells.BasicLSTMCell(4), cells.GRUCell(4)])) is None
  x = tf.random.stateless_normal([B, T, D], [2, 2])
  with pytest.raises(ValueError, match="no sequence_length"):
    fused_lstm.static_rnn(_cell(1), x, sequence_length=tf.constant([T] * B))
  with pytest.raises(ValueError, match="BasicLSTMCell layers"):
    fused_lstm.static_rnn(cells.GRUCell(N), x)


def test_same_variable_names_as_the_reference():
  x = tf.random.stateless_normal([B, T, D], [2, 2])
  fused_cell = cells.MultiRNNCell([cells.BasicLSTMCell(N) for _ in range(2)])
  fused_lstm.static_rnn(fused_cell, x)
  ref_cell = cells.MultiRNNCell([cells.BasicLSTMCell(N) for _ in range(2)])
  unroll.static_rnn(ref_cell, x)
  names = [v.name for v in fused_cell.trainable_variables]
  assert names == [v.name for v in ref_cell.trainable_variables]
  assert "rnn/multi_rnn_cell/cell_1/basic_lstm_cell/kernel:0" in names


def test_classifier_training_step_matches_reference(monkeypatch):
  """Two bin/train steps (Adam) with the fused unroll == with the reference unroll."""
  x = tf.random.stateless_uniform([16, 8, 28], [4, 4])   # 8 rows of 28 pixels
  y = tf.random.stateless_uniform([16], [5, 5], 0, 10, dtype=tf.int32)
  reference = unroll.static_rnn

  def two_steps(unroll_fn):
    cfg = config_lib.TrainConfig(
        model=config_lib.ModelConfig(num_layers=2, num_units=16), batch_size=16)
    # The benchmark worker (benchmarks/peers/port.py) swaps the unroll the same way.
    monkeypatch.setattr(unroll, "static_rnn", unroll_fn)
    _, model, optimizer = loop.build(cfg)
    step = loop.make_train_step(model, optimizer)
    losses = [step(x, y)[0] for _ in range(2)]
    return losses + [v.numpy() for v in model.trainable_variables] + [model(x)]

  _assert_all_close(two_steps(fused_lstm.static_rnn), two_steps(reference))
