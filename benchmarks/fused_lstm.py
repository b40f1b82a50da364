"""A faster unroll of ``BasicLSTMCell`` stacks with the same variables and math.

``static_rnn`` over a ``BasicLSTMCell`` (or a ``MultiRNNCell`` of them) spends
its time in many small per-step matrix products.  This module computes the
very same function with fewer, larger ones, layer by layer:

    [W_x; W_h] = kernel                     (TF1 layout, split once)
    XW = X @ W_x + bias                     one [T*B, D] x [D, 4N] product
    gates_t = XW[t] + h_{t-1} @ W_h         per step (no concat)
    c_t, h_t = lstm_gates_to_state(gates_t, c_{t-1})   the cell's own step

and in the backward pass, ``dW_h = H_prev^T @ dGates`` as one
``[N, T*B] x [T*B, 4N]`` product instead of T small ones summed.  Everything
else (the element-wise gate math and its gradient, ``dh_{t-1}``) is the
cell's code differentiated by TensorFlow: there is one LSTM step, in
``tf_lstm.cells.basic_lstm``.  Outputs equal the reference unroll up to float
summation order (``tests/test_fast_path.py`` checks outputs and gradients).

An experiment kept with the benchmarks, not part of the library: on the
2-core benchmark machine it was not faster than the step-by-step unroll
(``bin/benchmark --peers=port,port-fused,port-hoist``), so ``tf_lstm`` and
``bin/train`` do not use it.  ``static_rnn`` here is a drop-in for
``tf_lstm.static_rnn`` on ``BasicLSTMCell`` stacks without ``sequence_length``.
"""

import tensorflow as tf

from tf_lstm.cells import basic_lstm
from tf_lstm.cells import multi_rnn
from tf_lstm.unroll.static import time_steps


def lstm_layers(cell):
  """The ``BasicLSTMCell`` layers of ``cell``, or ``None`` if it has others."""
  layers = cell.cells if isinstance(cell, multi_rnn.MultiRNNCell) else [cell]
  if all(type(c) is basic_lstm.BasicLSTMCell for c in layers):  # pylint: disable=unidiomatic-typecheck
    return layers
  return None


def _recurrence_autodiff(cell, xw, w_h, c0, h0):
  """``_recurrence`` differentiated step by step (T small ``dW_h`` products)."""
  c, h = c0, h0
  hs = []
  for xw_t in tf.unstack(xw, axis=0):
    gates = xw_t + tf.matmul(h, w_h)
    c, h = basic_lstm.lstm_gates_to_state(gates, c, cell.forget_bias, cell._activation)  # pylint: disable=protected-access
    hs.append(h)
  return tf.stack(hs, axis=0), c


def _recurrence(cell, xw, w_h, c0, h0):
  """The recurrent half of one layer; ``xw`` ``[T, B, 4N]`` holds ``X @ W_x + b``.

  Returns ``(H [T, B, N], c_T)``.  Its gradient runs the cell's own step
  backwards through a tape and forms ``dW_h`` with one matrix product.
  """
  forget_bias, activation = cell.forget_bias, cell._activation  # pylint: disable=protected-access

  @tf.custom_gradient
  def recurrence(xw, w_h, c0, h0):
    xw_steps = tf.unstack(xw, axis=0)
    w_h_const = tf.stop_gradient(w_h)   # dW_h is formed below, in one product.
    with tf.GradientTape(persistent=False) as tape:
      tape.watch(xw_steps + [c0, h0])
      c, h = c0, h0
      hs = []
      for xw_t in xw_steps:
        gates = xw_t + tf.matmul(h, w_h_const)
        c, h = basic_lstm.lstm_gates_to_state(gates, c, forget_bias, activation)
        hs.append(h)
    outputs = tf.stack(hs, axis=0)
    h_prev = tf.stack([h0] + hs[:-1], axis=0)

    def grad(d_outputs, d_c):
      sources = xw_steps + [c0, h0]
      grads = tape.gradient(
          hs + [c], sources,
          output_gradients=tf.unstack(d_outputs, axis=0) + [d_c],
          unconnected_gradients=tf.UnconnectedGradients.ZERO)
      d_xw = tf.stack(grads[:-2], axis=0)
      num_units = h0.shape[-1]
      d_w_h = tf.matmul(tf.reshape(h_prev, [-1, num_units]),
                        tf.reshape(d_xw, [-1, 4 * num_units]), transpose_a=True)
      return d_xw, d_w_h, grads[-2], grads[-1]

    return (outputs, c), grad

  return recurrence(xw, w_h, c0, h0)


def lstm_layer(cell, inputs, initial_state, one_product_weight_gradient=True):
  """One ``BasicLSTMCell`` over time-major ``inputs`` ``[T, B, D]``.

  ``one_product_weight_gradient``: True forms dW_h in one
  ``[N, T*B] x [T*B, 4N]`` product (custom gradient); False is plain autodiff
  of the hoisted loop (T per-step products, which can overlap the backward
  recurrence on a second core).
  Returns ``(outputs [T, B, N], LSTMStateTuple(c_T, h_T))``.
  """
  steps, batch, depth = inputs.shape[0], tf.shape(inputs)[1], inputs.shape[2]
  cell.build(depth)
  n = cell.num_units
  w_x, w_h = tf.split(cell.kernel, [depth, n], axis=0)
  xw = tf.matmul(tf.reshape(inputs, [-1, depth]), w_x) + cell.bias
  xw = tf.reshape(xw, [steps, batch, 4 * n])
  c0, h0 = initial_state
  recurrence = _recurrence if one_product_weight_gradient else _recurrence_autodiff
  outputs, c = recurrence(cell, xw, w_h, c0, h0)
  return outputs, basic_lstm.LSTMStateTuple(c, outputs[-1])


def static_lstm(cell, inputs, initial_state, one_product_weight_gradient=True):
  """``static_rnn`` for a ``BasicLSTMCell`` stack (see ``lstm_layers``).

  Args:
    cell: a ``BasicLSTMCell`` or a ``MultiRNNCell`` of them.
    inputs: time-major ``[T, B, D]``.
    initial_state: the cell's state structure.
    one_product_weight_gradient: see ``lstm_layer``.
  Returns:
    ``(outputs, final_state)`` as ``static_rnn`` returns them.
  """
  layers = lstm_layers(cell)
  if layers is None:
    raise ValueError(f"static_lstm needs BasicLSTMCell layers, got {cell.name}")
  if isinstance(cell, multi_rnn.MultiRNNCell):
    cell.build(inputs.shape[-1])
    states = tuple(initial_state)
    if len(states) != len(layers):
      raise ValueError(f"{cell.name}: expected a state tuple of {len(layers)} "
                       f"entries, got {len(states)}")
  else:
    states = (initial_state,)
  x = inputs
  final = []
  for layer, state in zip(layers, states):
    x, state = lstm_layer(layer, x, state, one_product_weight_gradient)
    final.append(state)
  final = tuple(final) if isinstance(cell, multi_rnn.MultiRNNCell) else final[0]
  return tf.unstack(x, axis=0), final


def static_rnn(cell, inputs, initial_state=None, dtype=None, sequence_length=None,
               scope=None, one_product_weight_gradient=True):
  """``tf_lstm.static_rnn`` computed by ``static_lstm`` (same variables, same scope).

  ``inputs``: a list of ``[B, D]`` or one ``[B, T, D]`` tensor.  Raises for
  ``sequence_length`` or cells other than ``BasicLSTMCell`` stacks.
  """
  if sequence_length is not None or lstm_layers(cell) is None:
    raise ValueError("fused_lstm.static_rnn needs BasicLSTMCell layers and no sequence_length")
  time_major = tf.stack(time_steps(inputs), axis=0)
  with tf.compat.v1.variable_scope(scope or "rnn"):
    if initial_state is None:
      initial_state = cell.zero_state(tf.shape(time_major)[1], dtype or time_major.dtype)
    return static_lstm(cell, time_major, initial_state, one_product_weight_gradient)
