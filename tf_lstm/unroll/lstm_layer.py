"""A whole LSTM layer over time with a hand-written gradient (the fast training path).

``static_rnn`` over ``BasicLSTMCell`` differentiated by TensorFlow runs about 30
small ops per step (concat, split, the gate math, their gradients, the
per-step products, their sums).  ``static_lstm`` computes the very same
function, layer by layer, with fewer and cheaper ops, feature-major (``[N, B]``
tensors, so that the gates split along the first axis without a copy):

forward (``[W_x; W_h] = kernel``, TF1 layout)::

    g_t = [W_x; bias]^T [x_t; 1] + W_h^T h_{t-1}      (the input product off the recurrence)
    i, j~, f, o = split(g_t);  i, f, o = sig(i), sig(f + forget_bias), sig(o)
    c_t = c_{t-1} * f + i * act(j~);  h_t = act(c_t) * o   (BasicLSTMCell's equations)

backward, per step ``t = T-1 .. 0`` (the gate values recomputed with the
forward pass's own ops, which Grappler merges with them)::

    dh = dH_t + dh_rec;   dc = dc + act'(c_t) * dh * o
    dg_t = [sig'(i) dc act(j~); act'(j~) dc i; sig'(f) dc c_{t-1}; sig'(o) dh act(c_t)]
    dc = dc * f;   dh_rec = W_h dg_t;   dx_t = W_x dg_t
    [d_W_x; d_bias; d_W_h] = sum_t [x_t; 1; h_{t-1}] dg_t^T   (one product per step,
                                                    free to run beside the recurrence)

(``sig'(y) = y (1 - y)`` as ``SigmoidGrad``; ``act'`` by the activation's own
registered gradient.)  One product per step rather than one over all steps:
on the 2-core benchmark machines the joined ``[T*B, 4N]`` operands cost more in
memory traffic than the product saves.  The layer is proven equal to the
autodiff of ``static_rnn`` (tests/test_lstm_layer.py: outputs and gradients
within 1e-5 relative).
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
  # pylint: disable=protected-access,unidiomatic-typecheck
  plain = (type(cell) is basic_lstm.BasicLSTMCell
           or (type(cell) is lstm_cells.LSTMCell and not cell._use_peepholes
               and cell._cell_clip is None and not cell._num_proj))
  if not plain or not any(cell._activation is a for a in ELEMENTWISE_ACTIVATIONS):
    return None
  return cell._forget_bias, cell._activation


def lstm_layers(cell):
  """The layers of ``cell`` (a plain LSTM or a ``MultiRNNCell`` of them), or None."""
  multi = type(cell) is multi_rnn.MultiRNNCell  # pylint: disable=unidiomatic-typecheck
  layers = cell.cells if multi else [cell]
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
  """One plain LSTM layer over time, feature-major, with the hand-written gradient.

  Feature-major (``[features, batch]``) so that the gates split, and their
  gradients join, along the first axis (no copy, or one contiguous copy).

  Args:
    inputs: ``[T, D, B]`` (T static).
    c0, h0: ``[N, B]``.
    kernel: ``[D + N, 4N]`` (input rows first, gate order i, j, f, o).
    bias: ``[4N]``.
    forget_bias: added to the forget gate's pre-activation.
    activation: an element-wise activation (``ELEMENTWISE_ACTIVATIONS``).
  Returns:
    ``(outputs, c_T)``: a length-T list of ``h_t`` ``[N, B]``, and ``[N, B]``.
  """
  num_steps = tf.compat.dimension_value(inputs.shape[0])
  depth = tf.compat.dimension_value(inputs.shape[1])

  def gates_of(g):
    """``(sig(i), j~, sig(f + forget_bias), sig(o))`` of pre-activations ``[4N, B]``
    (the ops of the forward pass's ``lstm_gates_to_state``, which Grappler merges)."""
    i, j, f, o = tf.split(g, 4, axis=0)
    return tf.sigmoid(i), j, tf.sigmoid(f + forget_bias), tf.sigmoid(o)

  @tf.custom_gradient
  def layer(x_all, c0, h0, kernel, bias):
    # [x_t; 1] against [W_x; bias]: the input product adds the bias, and in the
    # backward pass [x_t; 1; h_{t-1}] gives the kernel's and the bias's gradient.
    x1_all = tf.concat([x_all, tf.ones_like(x_all[:, :1])], axis=1)   # [T, D+1, B]
    x1 = tf.unstack(x1_all, axis=0)
    w_xb = tf.concat([kernel[:depth], bias[tf.newaxis]], axis=0)      # [D+1, 4N]
    w_h = kernel[depth:]
    c, h = c0, h0
    gates, cs, hs = [], [], []
    for x in x1:
      g = tf.matmul(w_xb, x, transpose_a=True) + tf.matmul(w_h, h, transpose_a=True)
      c, h = basic_lstm.lstm_gates_to_state(g, c, forget_bias, activation, axis=0)
      gates.append(g)
      cs.append(c)
      hs.append(h)

    def grad(*upstream):
      d_hs, dc = upstream[:num_steps], upstream[num_steps]
      c_prev = [c0] + cs[:-1]
      xh = tf.unstack(tf.concat([x1_all, tf.stack([h0] + hs[:-1])], axis=1), axis=0)
      dh_rec = None
      d_xs, d_w = [None] * num_steps, []
      for t in reversed(range(num_steps)):
        dh = d_hs[t] if dh_rec is None else d_hs[t] + dh_rec
        i, gj, f, o = gates_of(gates[t])
        j = activation(gj)
        dc = dc + _activation_grad(activation, cs[t], dh * o)
        d_gates = tf.concat([
            tf.raw_ops.SigmoidGrad(y=i, dy=dc * j),
            _activation_grad(activation, gj, dc * i),
            tf.raw_ops.SigmoidGrad(y=f, dy=dc * c_prev[t]),
            tf.raw_ops.SigmoidGrad(y=o, dy=dh * activation(cs[t]))], axis=0)
        dc = dc * f
        dh_rec = tf.matmul(w_h, d_gates)
        d_xs[t] = tf.matmul(kernel[:depth], d_gates)
        d_w.append(tf.matmul(xh[t], d_gates, transpose_b=True))   # [D+1+N, 4N]
      d_w = tf.add_n(d_w)
      d_kernel = tf.concat([d_w[:depth], d_w[depth + 1:]], axis=0)
      return tf.stack(d_xs), dc, dh_rec, d_kernel, d_w[depth]

    return (*hs, c), grad

  out = layer(inputs, c0, h0, tf.convert_to_tensor(kernel), tf.convert_to_tensor(bias))
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
  if isinstance(inputs, (list, tuple)):
    x = tf.transpose(tf.stack(time_steps(inputs, "static_lstm")), [0, 2, 1])   # [T, D, B]
  else:
    inputs = tf.convert_to_tensor(inputs)
    if inputs.shape.rank != 3 or tf.compat.dimension_value(inputs.shape[1]) is None:
      raise ValueError("static_lstm: inputs must be a list of [batch, depth] tensors or a "
                       f"[batch, time, depth] tensor with a static time, got {inputs.shape}")
    x = tf.transpose(inputs, [1, 2, 0])
  with tf.compat.v1.variable_scope(scope or "rnn"):
    cell.build(tf.compat.dimension_value(x.shape[1]))
    if initial_state is None:
      initial_state = cell.zero_state(tf.shape(x)[2], dtype or x.dtype)
    multi = type(cell) is multi_rnn.MultiRNNCell  # pylint: disable=unidiomatic-typecheck
    states = tuple(initial_state) if multi else (initial_state,)
    if len(states) != len(layers):
      raise ValueError(f"static_lstm: expected a state tuple of {len(layers)} entries, "
                       f"got {len(states)}")
    final = []
    for k, (layer, (c, h)) in enumerate(zip(layers, states)):
      forget_bias, activation = _plain_lstm(layer)
      if k:
        x = tf.stack(hs)   # the layer below's outputs, [T, N, B]
      hs, c = lstm_layer(x, tf.transpose(c), tf.transpose(h), layer.kernel, layer.bias,
                         forget_bias, activation)
      final.append(basic_lstm.LSTMStateTuple(tf.transpose(c), tf.transpose(hs[-1])))
  return [tf.transpose(h) for h in hs], (tuple(final) if multi else final[0])
