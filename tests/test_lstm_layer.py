"""``lstm_layer.static_lstm`` (hand-written gradient) equals ``static_rnn`` differentiated by TF.

Same cells, same variables, same inputs: every step's output, the final states
and the gradients of a loss that weights all of them (inputs, initial states,
each variable) agree within 1e-5 relative (max |diff| / max |reference|), for
``BasicLSTMCell`` and a plain ``LSTMCell``, one and two layers, forget_bias,
eagerly and in a ``tf.function``, in float32 and bfloat16; also with each layer
as the C++ op (``native=True``).
"""

import functools

import numpy as np
import pytest
import tensorflow as tf

from tf_lstm import cells
from tf_lstm import unroll
from tf_lstm.unroll import lstm_layer

# float32 rounded in another order (forget_bias folded into the bias, the gate
# gradients from LSTMBlockCellGrad's fused expressions, the weight gradient summed
# over steps by add_n): a few ulp of values of order 1, compounded over T steps;
# 1e-5 of the largest entry is the parity tests' bar.
TOL = 1e-5
B, T, D, N = 6, 5, 5, 12


def _layers(kind, num_layers, forget_bias):
  tf.random.set_seed(7)
  if kind == "basic":
    layers = [cells.BasicLSTMCell(N, forget_bias=forget_bias)
              for _ in range(num_layers)]
  else:
    layers = [cells.LSTMCell(N, forget_bias=forget_bias)
              for _ in range(num_layers)]
  cell = layers[0] if num_layers == 1 else cells.MultiRNNCell(layers)
  cell.build(D)
  for c in layers:   # non-zero biases: a mix-up of bias and forget_bias would show
    c.bias.assign(tf.random.stateless_uniform(c.bias.shape, [1, 2], -0.5, 0.5))
  return cell


def _outputs_and_grads(cell, inputs, state, unroll_fn, dtype=tf.float32):
  variables = list(cell.trainable_variables)
  inputs = tf.cast(inputs, dtype)
  state = tf.nest.map_structure(lambda s: tf.cast(s, dtype), state)
  with tf.GradientTape() as tape:
    tape.watch([inputs] + tf.nest.flatten(state))
    outputs, final = unroll_fn(cell, inputs, initial_state=state)
    out = tf.cast(tf.stack(outputs), tf.float32)
    # Every output and state entry weighted differently: all gradient paths count.
    loss = tf.reduce_sum(out * tf.random.stateless_normal(out.shape, [3, 4]))
    for k, s in enumerate(tf.nest.flatten(final)):
      loss += tf.reduce_sum(tf.cast(s, tf.float32) * (k + 1.5))
  grads = tape.gradient(loss, [inputs] + tf.nest.flatten(state) + variables)
  names = (["outputs"] + [f"final_state[{k}]" for k in range(len(tf.nest.flatten(final)))]
           + ["d_inputs"]
           + [f"d_initial_state[{k}]" for k in range(len(grads) - 1 - len(variables))]
           + [f"d_{v.name}" for v in variables])
  return dict(zip(names, [out] + tf.nest.flatten(final) + grads))


def _assert_equal(got, want, tol):
  assert list(got) == list(want)
  for name in want:
    g = np.asarray(tf.cast(got[name], tf.float32))
    w = np.asarray(tf.cast(want[name], tf.float32))
    assert g.shape == w.shape, name
    rel = np.max(np.abs(g - w)) / np.max(np.abs(w))
    assert rel <= tol, f"{name}: max|diff|/max|ref| = {rel:.2e} > {tol}"


@pytest.mark.parametrize("kind,num_layers,forget_bias,in_function,native", [
    ("basic", 1, 1.0, False, False),
    ("basic", 2, 0.3, True, False),
    ("full", 2, 1.0, True, False),
    ("basic", 1, 1.0, False, True),   # each layer as the C++ op (tf_lstm.unroll.native)
    ("full", 2, 0.3, True, True),
])
def test_equals_autodiff_of_static_rnn(kind, num_layers, forget_bias, in_function, native):
  cell = _layers(kind, num_layers, forget_bias)
  inputs = tf.random.stateless_normal([B, T, D], [5, 6])
  state = tf.nest.map_structure(
      lambda s: tf.random.stateless_normal([B, s], [8, 9]) * 0.5, cell.state_size)

  def run(unroll_fn):
    return _outputs_and_grads(cell, inputs, state, unroll_fn)

  if in_function:
    run = tf.function(run)
  fast = functools.partial(lstm_layer.static_lstm, native=native)
  _assert_equal(run(fast), run(unroll.static_rnn), TOL)


# bfloat16 keeps 8 bits of mantissa (relative step 2^-8 = 4e-3), float16 11
# (5e-4); two summation orders over T steps differ by a few such steps of the
# largest values.
@pytest.mark.parametrize("dtype,tol", [(tf.bfloat16, 3e-2), (tf.float16, 5e-3)])
def test_low_precision_equals_autodiff_in_the_same_dtype(dtype, tol):
  """The bfloat16 forward (bin/train --dtype=bfloat16) takes the same path; its
  gate gradients run in float32, float16's in float16."""
  cell = _layers("basic", 1, 1.0)
  inputs = tf.random.stateless_normal([B, T, D], [5, 6])
  state = tf.nest.map_structure(lambda s: tf.zeros([B, s]), cell.state_size)

  def run(unroll_fn):
    # The cell reads its variables as low-precision tensors, as precision.forward_in does.
    kernel, bias = cell.kernel, cell.bias
    cell.kernel, cell.bias = tf.cast(kernel, dtype), tf.cast(bias, dtype)
    try:
      got = _outputs_and_grads(cell, inputs, state, unroll_fn, dtype)
    finally:
      cell.kernel, cell.bias = kernel, bias
    return got

  _assert_equal(run(lstm_layer.static_lstm), run(unroll.static_rnn), tol)


def test_list_inputs_zero_state_same_structure_and_names():
  ref_cell = cells.MultiRNNCell([cells.BasicLSTMCell(N) for _ in range(2)])
  cell = cells.MultiRNNCell([cells.BasicLSTMCell(N) for _ in range(2)])
  steps = tf.unstack(tf.random.stateless_normal([B, T, D], [1, 1]), axis=1)
  want_out, want_state = unroll.static_rnn(ref_cell, steps, dtype=tf.float32)
  lstm_layer.static_lstm(cell, steps, dtype=tf.float32)   # builds the variables
  assert ([v.name for v in cell.trainable_variables]
          == [v.name for v in ref_cell.trainable_variables])
  assert "rnn/multi_rnn_cell/cell_1/basic_lstm_cell/kernel:0" in [
      v.name for v in cell.trainable_variables]
  for ref, layer in zip(ref_cell.cells, cell.cells):
    layer.kernel.assign(ref.kernel)
  got_out, got_state = lstm_layer.static_lstm(cell, steps, dtype=tf.float32)
  assert isinstance(got_out, list) and len(got_out) == T
  assert isinstance(got_state, tuple) and isinstance(got_state[1], cells.LSTMStateTuple)
  _assert_equal({"o": tf.stack(got_out), "s": tf.stack(tf.nest.flatten(got_state))},
                {"o": tf.stack(want_out), "s": tf.stack(tf.nest.flatten(want_state))}, TOL)


def test_only_plain_lstm_stacks_qualify():
  class MyLSTM(cells.BasicLSTMCell):   # a subclass may change the step
    pass

  assert lstm_layer.lstm_layers(cells.BasicLSTMCell(4)) is not None
  assert lstm_layer.lstm_layers(cells.LSTMCell(4)) is not None
  assert lstm_layer.lstm_layers(cells.MultiRNNCell([cells.BasicLSTMCell(4)])) is not None
  for cell in (MyLSTM(4), cells.GRUCell(4), cells.LSTMCell(4, use_peepholes=True),
               cells.LSTMCell(4, cell_clip=1.0), cells.LSTMCell(4, num_proj=2),
               cells.LSTMBlockCell(4), cells.DropoutWrapper(cells.BasicLSTMCell(4)),
               cells.BasicLSTMCell(4, activation=lambda x: x * tf.reduce_mean(x)),
               cells.BasicLSTMCell(4, activation=tf.nn.relu),   # the grad op's tanh
               cells.MultiRNNCell([cells.BasicLSTMCell(4), cells.GRUCell(4)])):
    assert lstm_layer.lstm_layers(cell) is None, cell
  with pytest.raises(ValueError, match="not a plain tanh LSTM"):
    lstm_layer.static_lstm(cells.GRUCell(N), tf.zeros([B, T, D]))
  with pytest.raises(ValueError, match="dtype float64"):
    lstm_layer.static_lstm(cells.BasicLSTMCell(N), tf.zeros([B, T, D], tf.float64))
