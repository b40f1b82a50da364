"""A whole LSTM layer over time with a hand-written gradient (the fast training path).

``static_rnn`` over ``BasicLSTMCell`` differentiated by TensorFlow runs about 30
small ops per step (concat, split, the gate math, their gradients, the
per-step products and their sums).  ``static_lstm`` computes the very same
function, layer by layer, with fewer ops:

forward (``[W_x; W_h] = kernel``, TF1 layout; no ``[x, h]`` concat)::

    gates_t = (x_t @ W_x + bias) + h_{t-1} @ W_h   (x_t @ W_x off the recurrence)
    c_t, h_t = lstm_gates_to_state(gates_t, c_{t-1}, forget_bias, act)
                                                   the cell's own step equations

backward, per step ``t = T-1 .. 0`` (``i, j, f, o`` the activated gates,
recomputed with the forward pass's own ops, which Grappler merges with them)::

    dh = dH_t + dh_rec
    dc = dc + act'(c_t) * dh * o_t
    dgates_t = [sig'(i) dc j_t, act'(j~) dc i_t, sig'(f) dc c_{t-1}, sig'(o) dh act(c_t)]
    dc = dc * f_t;   dh_rec = dgates_t @ W_h^T;   dx_t = dgates_t @ W_x^T
    [d_kernel; d_bias] = sum_t [x_t, h_{t-1}, 1]^T @ dgates_t   (one product per step,
                                                   free to run beside the recurrence)

(``sig'(y) = y (1 - y)`` as ``SigmoidGrad``, ``act'`` the activation's own
registered gradient.)  One product per step rather than one for all steps:
on the 2-core benchmark machines the concatenated ``[T*B, 4N]`` operands cost
more in memory traffic than they save.  Equal to the autodiff of
``static_rnn`` up to float summation order (tests/test_lstm_layer.py).
"""

import tensorflow as tf

from tf_lstm.cells import basic_lstm
from tf_lstm.cells import lstm as lstm_cells
from tf_lstm.cells import multi_rnn
from tf_lstm.unroll.static import time_steps

# Element-wise activations (the backward pass takes act' from the activation's
# own gradient, element by element); any other activation keeps static_rnn.
ELEMENTWISE_ACTIVATIONS = (tf.tanh, tf.nn.relu, tf.sigmoid, tf.nn.elu, tf.nn.softsign)


def _plain_lstm(cell):
  """``(forget_bias, activation)`` if ``cell``'s step is the plain LSTM step, else None.

  ``BasicLSTMCell`` and an ``LSTMCell`` without peepholes, clipping or
  projection both run ``lstm_gates_to_state`` on ``[x, h] @ kernel + bias``.
  Subclasses may change the step, so only these exact types qualify.
  """
  kind = type(cell)
  if kind is basic_lstm.BasicLSTMCell:
    pass
  elif kind is lstm_cells.LSTMCell:
    if cell._use_peepholes or cell._cell_clip is not None or cell._num_proj:  # pylint: disable=protected-access
      return None
  else:
    return None
  activation = cell._activation  # pylint: disable=protected-access
  if not any(activation is a for a in ELEMENTWISE_ACTIVATIONS):
    return None
  return cell._forget_bias, activation  # pylint: disable=protected-access


def lstm_layers(cell):
  """The layers of ``cell`` (a plain LSTM or a ``MultiRNNCell`` of them), or None."""
  layers = cell.cells if type(cell) is multi_rnn.MultiRNNCell else [cell]  # pylint: disable=unidiomatic-typecheck
  if all(_plain_lstm(c) is not None for c in layers):
    return layers
  return None


def _activation_grad(activation, x, dy):
  """``dy * activation'(x)``, by the activation's own registered gradient (e.g.
  ``TanhGrad(tanh(x), dy)``; Grappler merges ``tanh(x)`` with the forward pass's)."""
  with tf.GradientTape() as tape:
    tape.watch(x)
    y = activation(x)
  return tape.gradient(y, x, output_gradients=dy)


def lstm_layer(inputs, c0, h0, kernel, bias, forget_bias=1.0, activation=tf.tanh):
  """One plain LSTM layer over a list of steps, with the hand-written gradient.

  Args:
    inputs: a length-T list of ``[B, D]`` tensors.
    c0, h0: ``[B, N]``.
    kernel: ``[D + N, 4N]`` (input rows first, gate order i, j, f, o).
    bias: ``[4N]``.
  Returns:
    ``(outputs, c_T)``: a length-T list of ``[B, N]`` and ``[B, N]``.
  """
  num_steps = len(inputs)
  depth = tf.compat.dimension_value(inputs[0].shape[-1])

  def gates_of(g):
    """The activated gates of pre-activations ``g`` (the step's own ops, so
    Grappler merges them with the forward pass's)."""
    i, j, f, o = tf.split(g, 4, axis=1)
    return tf.sigmoid(i), j, tf.sigmoid(f + forget_bias), tf.sigmoid(o)

  @tf.custom_gradient
  def layer(*args):
    xs, (c0, h0, kernel, bias) = args[:num_steps], args[num_steps:]
    w_x, w_h = kernel[:depth], kernel[depth:]
    c, h = c0, h0
    gates, cs, hs = [], [], []
    for x in xs:
      g = tf.nn.bias_add(tf.matmul(x, w_x), bias) + tf.matmul(h, w_h)
      c, h = basic_lstm.lstm_gates_to_state(g, c, forget_bias, activation)
      gates.append(g)
      cs.append(c)
      hs.append(h)

    def grad(*upstream):
      d_hs, dc = upstream[:num_steps], upstream[num_steps]
      c_prev = [c0] + cs[:-1]
      # [x_t, h_{t-1}, 1]: one product per step gives the kernel's and the bias's gradient.
      ones = tf.ones_like(c0[:, :1])
      xh1 = [tf.concat([x, hp, ones], 1) for x, hp in zip(xs, [h0] + hs[:-1])]
      dh_rec = None
      d_gates, d_xs = [None] * num_steps, [None] * num_steps
      for t in reversed(range(num_steps)):
        dh = d_hs[t] if dh_rec is None else d_hs[t] + dh_rec
        i, gj, f, o = gates_of(gates[t])
        j = activation(gj)
        tc = activation(cs[t])
        dc = dc + _activation_grad(activation, cs[t], dh * o)
        d_gates[t] = tf.concat([
            tf.raw_ops.SigmoidGrad(y=i, dy=dc * j),
            _activation_grad(activation, gj, dc * i),
            tf.raw_ops.SigmoidGrad(y=f, dy=dc * c_prev[t]),
            tf.raw_ops.SigmoidGrad(y=o, dy=dh * tc)], axis=1)
        dc = dc * f
        dh_rec = tf.matmul(d_gates[t], w_h, transpose_b=True)
        d_xs[t] = tf.matmul(d_gates[t], w_x, transpose_b=True)
      d_kernel_bias = tf.add_n([tf.matmul(xh, dg, transpose_a=True)
                                for xh, dg in zip(xh1, d_gates)])
      return (*d_xs, dc, dh_rec, d_kernel_bias[:-1], d_kernel_bias[-1])

    return (*hs, c), grad

  out = layer(*inputs, c0, h0, tf.convert_to_tensor(kernel), tf.convert_to_tensor(bias))
  return list(out[:num_steps]), out[num_steps]


def static_lstm(cell, inputs, initial_state=None, dtype=None, scope=None):
  """``static_rnn(cell, inputs, ...)`` computed with ``lstm_layer`` per layer.

  Same variables (created under the same scopes), same results up to float
  summation order.  ``cell`` must qualify (``lstm_layers(cell)``); there is
  no ``sequence_length`` (every row runs all T steps).

  Args:
    cell: a ``BasicLSTMCell`` / plain ``LSTMCell``, or a ``MultiRNNCell`` of them.
    inputs: a length-T list of ``[B, D]`` tensors, or one ``[B, T, D]`` tensor.
    initial_state: the cell's state structure; zeros when ``None``.
    dtype: dtype of the zero state (default: the inputs').
    scope: the variable scope, default ``"rnn"`` (as ``static_rnn``).
  Returns:
    ``(outputs, final_state)`` as ``static_rnn`` returns them.
  """
  layers = lstm_layers(cell)
  if layers is None:
    raise ValueError(f"static_lstm: {cell.name} is not a plain LSTM (BasicLSTMCell, "
                     "LSTMCell without peepholes/clip/projection, or a MultiRNNCell of them)")
  xs = time_steps(inputs, "static_lstm")
  with tf.compat.v1.variable_scope(scope or "rnn"):
    cell.build(tf.compat.dimension_value(xs[0].shape[-1]))
    if initial_state is None:
      initial_state = cell.zero_state(tf.shape(xs[0])[0], dtype or xs[0].dtype)
    multi = type(cell) is multi_rnn.MultiRNNCell  # pylint: disable=unidiomatic-typecheck
    states = tuple(initial_state) if multi else (initial_state,)
    if len(states) != len(layers):
      raise ValueError(f"static_lstm: expected a state tuple of {len(layers)} entries, "
                       f"got {len(states)}")
    final = []
    for layer, (c, h) in zip(layers, states):
      forget_bias, activation = _plain_lstm(layer)
      xs, c = lstm_layer(xs, c, h, layer.kernel, layer.bias, forget_bias, activation)
      final.append(basic_lstm.LSTMStateTuple(c, xs[-1]))
  return xs, (tuple(final) if multi else final[0])
