"""The fused LSTM unroll (tf_lstm.fused) equals the step-by-step reference.

``static_rnn(..., fused=True)`` runs ``tf_lstm.fused.static_lstm`` for
BasicLSTMCell stacks; ``fused=False`` (the default) is the reference loop over
``cell(x, state)``.
Same variables, same numbers: outputs, final states and gradients (inputs,
initial state, kernel, bias) agree to 1e-6, eagerly and in a tf.function.
"""

import numpy as np
import pytest
import tensorflow as tf

from tf_lstm import cells
from tf_lstm.app import config as config_lib
from tf_lstm import fused
from tf_lstm import rnn
from tf_lstm.app.training import loop

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


def _unroll_and_grads(cell, inputs, initial_state, use_fused):
  """Outputs, final state and d(loss)/d(inputs, initial state, variables)."""
  variables = list(cell.trainable_variables)
  with tf.GradientTape() as tape:
    tape.watch([inputs] + tf.nest.flatten(initial_state))
    outputs, state = rnn.static_rnn(cell, inputs, initial_state=initial_state,
                                    fused=use_fused)
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
def test_fused_equals_reference(num_layers, in_function, one_product, monkeypatch):
  monkeypatch.setattr(fused, "ONE_PRODUCT_WEIGHT_GRADIENT", one_product)
  cell = _cell(num_layers)
  inputs = tf.random.stateless_normal([B, T, D], [5, 6])
  state = tf.nest.map_structure(
      lambda s: tf.random.stateless_normal([B, s], [8, 9]) * 0.5, cell.state_size)

  def run(use_fused):
    return _unroll_and_grads(cell, inputs, state, use_fused)

  if in_function:
    run = tf.function(run)
  _assert_all_close(run(True), run(False))


def test_fused_list_inputs_zero_state_and_options():
  cell = _cell(2, forget_bias=0.3, activation=tf.nn.relu)
  steps = tf.unstack(tf.random.stateless_normal([B, T, D], [1, 1]), axis=1)
  want_out, want_state = rnn.static_rnn(cell, steps, fused=False)
  got_out, got_state = rnn.static_rnn(cell, steps, fused=True)
  _assert_all_close(got_out + tf.nest.flatten(got_state),
                    want_out + tf.nest.flatten(want_state))
  assert isinstance(got_state, tuple) and len(got_state) == 2
  assert isinstance(got_state[1], cells.LSTMStateTuple)


def test_dispatch_only_for_basic_lstm_stacks():
  class PeepholeLSTM(cells.BasicLSTMCell):   # a subclass may change the step
    pass

  assert fused.lstm_layers(cells.BasicLSTMCell(4)) is not None
  assert fused.lstm_layers(cells.MultiRNNCell([cells.BasicLSTMCell(4)] * 1)) is not None
  assert fused.lstm_layers(PeepholeLSTM(4)) is None
  assert fused.lstm_layers(cells.GRUCell(4)) is None
  assert fused.lstm_layers(cells.MultiRNNCell([cells.BasicLSTMCell(4), cells.GRUCell(4)])) is None


def test_sequence_length_uses_reference_path():
  cell = _cell(1)
  x = tf.random.stateless_normal([B, T, D], [2, 2])
  lengths = tf.constant([T, 3, 0, 5, T, 1])
  out, state = rnn.static_rnn(cell, x, sequence_length=lengths, fused=True)
  ref_out, ref_state = rnn.static_rnn(cell, x, sequence_length=lengths, fused=False)
  _assert_all_close(out + list(state), ref_out + list(ref_state))
  np.testing.assert_array_equal(out[4].numpy()[1], np.zeros(N))


@pytest.mark.parametrize("num_layers", [2])
def test_classifier_training_step_matches_reference(num_layers, monkeypatch):
  """Two bin/train steps (Adam) with the fused path == with the reference path."""
  x = tf.random.stateless_uniform([16, 8, 28], [4, 4])   # 8 rows of 28 pixels
  y = tf.random.stateless_uniform([16], [5, 5], 0, 10, dtype=tf.int32)

  def two_steps(use_fused):
    cfg = config_lib.TrainConfig(
        model=config_lib.ModelConfig(num_layers=num_layers, num_units=16), batch_size=16)
    real = rnn.static_rnn
    monkeypatch.setattr(rnn, "static_rnn",
                        lambda *a, **k: real(*a, **dict(k, fused=use_fused)))
    _, model, optimizer = loop.build(cfg)
    step = loop.make_train_step(model, optimizer)
    losses = [step(x, y)[0] for _ in range(2)]
    return losses + [v.numpy() for v in model.trainable_variables] + [model(x)]

  _assert_all_close(two_steps(True), two_steps(False))
