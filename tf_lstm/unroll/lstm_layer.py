"""A whole LSTM layer over time with a hand-written gradient (the fast training path).

``static_rnn`` over ``BasicLSTMCell`` differentiated by TensorFlow runs about
30 small ops per step (concat, split, the gate math, their gradients, the
per-step products and their sums), each a few microseconds of dispatch and
memory traffic.  ``static_lstm`` computes the very same function, layer by
layer, in about 10 ops per step forward (four of them the gates' fused products)
and 4 or 5 backward (batch-major, ``[B, ·]``):

forward (``W = kernel`` in TF1's layout, columns ``[W_i, W_j, W_f, W_o]``)::

    xh = [x_t, h_{t-1}]
    i = sig(xh W_i + b_i)   j = tanh(xh W_j + b_j)
    f = sig(xh W_f + b_f + forget_bias)   o = sig(xh W_o + b_o)
    c_t, h_t = basic_lstm.lstm_state(i, j, f, o, c_{t-1})    (BasicLSTMCell's equations)

Each gate's product, bias and activation is one ``MatMul+BiasAdd+Sigmoid|Tanh``
that Grappler's remapper fuses into a single oneDNN kernel, and the four run
side by side.  Backward, per step ``t = T-1 .. 0``::

    dc = dc_t + dh o tanh'(c_t)
    dg = [dc j sig'(i), dc i tanh'(j), dc c_{t-1} sig'(f), dh tanh(c_t) sig'(o)]
    dc_{t-1} = dc f                                  (one LSTMBlockCellGrad op)
    dh_{t-1} = dH_{t-1} + dg W_h^T;   dx_t = dg W_x^T
    dW = sum_t xh_t^T dg;   db = sum_t sum_batch dg     (free to run beside the recurrence)

``LSTMBlockCellGrad`` is TensorFlow's fused kernel of the gate gradients (the
``LSTMBlockCell`` op's gradient); it reads only the gate values, the cell states
and the upstream gradients (the others are shape-checked), and it fixes the
activation to tanh, so only tanh LSTMs take this path.  It runs in float32
(and float16); a bfloat16 forward hands it its values cast to float32.  The layer is
proven equal to the autodiff of ``static_rnn`` (tests/test_lstm_layer.py:
outputs and gradients within 1e-5 relative).
"""

import tensorflow as tf

from tf_lstm.cells import basic_lstm
from tf_lstm.cells import lstm as lstm_cells
from tf_lstm.cells import multi_rnn
from tf_lstm.unroll.native import lstm_layer as native_layer
from tf_lstm.unroll.static import time_steps

# The dtypes LSTMBlockCellGrad computes in, and those cast to float32 for it.
_GRAD_OP_DTYPES = (tf.float32, tf.float16)
DTYPES = _GRAD_OP_DTYPES + (tf.bfloat16,)


def _plain_lstm(cell):
  """``forget_bias`` if ``cell``'s step is the plain tanh LSTM step, else None.

  ``BasicLSTMCell`` and an ``LSTMCell`` without peepholes, clipping or
  projection both run ``lstm_gates_to_state`` on ``[x, h] @ kernel + bias``.
  Subclasses may change the step, so only these exact types qualify.
  """
  # pylint: disable=protected-access,unidiomatic-typecheck
  plain = (type(cell) is basic_lstm.BasicLSTMCell
           or (type(cell) is lstm_cells.LSTMCell and not cell._use_peepholes
               and cell._cell_clip is None and not cell._num_proj))
  if not plain or cell._activation is not tf.tanh:
    return None
  return cell._forget_bias


def lstm_layers(cell):
  """The layers of ``cell`` (a plain LSTM or a ``MultiRNNCell`` of them), or None."""
  multi = type(cell) is multi_rnn.MultiRNNCell  # pylint: disable=unidiomatic-typecheck
  layers = cell.cells if multi else [cell]
  if all(_plain_lstm(c) is not None for c in layers):
    return layers
  return None


def lstm_layer(inputs, c0, h0, kernel, bias, forget_bias=1.0):
  """One plain tanh LSTM layer over time, with the hand-written gradient.

  Args:
    inputs: a length-T list of ``[B, D]`` tensors.
    c0, h0: ``[B, N]``.
    kernel: ``[D + N, 4N]`` (input rows first, gate order i, j, f, o).
    bias: ``[4N]``.
    forget_bias: added to the forget gate's pre-activation.
  Returns:
    ``(outputs, c_T)``: a length-T list of ``h_t`` ``[B, N]``, and ``[B, N]``.
  """
  num_steps = len(inputs)

  @tf.custom_gradient
  def layer(*args):
    xs, (c0, h0, kernel, bias) = args[:num_steps], args[num_steps:]
    units = tf.compat.dimension_value(h0.shape[1])
    depth = tf.compat.dimension_value(kernel.shape[0]) - units
    w_i, w_j, w_f, w_o = tf.split(kernel, 4, axis=1)
    b_i, b_j, b_f, b_o = tf.split(bias, 4)
    b_f += tf.cast(forget_bias, b_f.dtype)
    c, h = c0, h0
    xhs, cs, gates = [], [c0], []
    for x in xs:
      xh = tf.concat([x, h], axis=1)
      # Separate products so that each fuses with its bias and activation.
      i, j, f, o = (tf.sigmoid(tf.nn.bias_add(tf.matmul(xh, w_i), b_i)),
                    tf.tanh(tf.nn.bias_add(tf.matmul(xh, w_j), b_j)),
                    tf.sigmoid(tf.nn.bias_add(tf.matmul(xh, w_f), b_f)),
                    tf.sigmoid(tf.nn.bias_add(tf.matmul(xh, w_o), b_o)))
      c, h = basic_lstm.lstm_state(i, j, f, o, c)
      xhs.append(xh)
      cs.append(c)
      gates.append((i, j, f, o, h))
    outputs = [g[-1] for g in gates]

    def grad(*upstream):
      d_hs, dc = upstream[:num_steps], upstream[num_steps]
      dtype = kernel.dtype
      op_dtype = dtype if dtype in _GRAD_OP_DTYPES else tf.float32
      as_op = lambda v: tf.cast(v, op_dtype)   # identity unless bfloat16
      # W^T built from the gate blocks: a transpose feeding the product directly
      # would be folded into it (transpose_b), which oneDNN runs slower here.
      w_T = [tf.transpose(w) for w in (w_i, w_j, w_f, w_o)]
      w_hT = tf.concat([w[:, depth:] for w in w_T], axis=0)   # [4N, N]
      w_xT = tf.concat([w[:, :depth] for w in w_T], axis=0)   # [4N, D]
      batch = tf.shape(c0)[0]
      # The op checks x, h_prev, w, b against the others' shapes but never reads
      # them (without peepholes): empty-input stand-ins.
      shapes_only = dict(x=tf.zeros([batch, 0], op_dtype),
                         w=tf.zeros([units, 4 * units], op_dtype),
                         b=tf.zeros([4 * units], op_dtype),
                         wci=tf.zeros([0], op_dtype), wcf=tf.zeros([0], op_dtype),
                         wco=tf.zeros([0], op_dtype), use_peephole=False)
      dc, dh_rec = as_op(dc), None
      d_xs, d_ws, d_bs = [None] * num_steps, [], []
      for t in reversed(range(num_steps)):
        i, j, f, o, _ = gates[t]
        dh = d_hs[t] if dh_rec is None else d_hs[t] + dh_rec
        c_prev, c_t = as_op(cs[t]), as_op(cs[t + 1])
        dc, dg, _, _, _ = tf.raw_ops.LSTMBlockCellGrad(
            cs_prev=c_prev, h_prev=c_prev, i=as_op(i), cs=c_t, f=as_op(f), o=as_op(o),
            ci=as_op(j), co=tf.tanh(c_t), cs_grad=dc, h_grad=as_op(dh), **shapes_only)
        dg = tf.cast(dg, dtype)                # [B, 4N], gates i, j, f, o
        dh_rec = tf.matmul(dg, w_hT)
        d_xs[t] = tf.matmul(dg, w_xT)
        d_ws.append(tf.matmul(xhs[t], dg, transpose_a=True))
        d_bs.append(tf.reduce_sum(dg, axis=0))
      return (*d_xs, tf.cast(dc, dtype), dh_rec, tf.add_n(d_ws), tf.add_n(d_bs))

    return (*outputs, c), grad

  out = layer(*inputs, c0, h0, tf.convert_to_tensor(kernel), tf.convert_to_tensor(bias))
  return list(out[:num_steps]), out[num_steps]


def static_lstm(cell, inputs, initial_state=None, dtype=None, scope=None, native=False):
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
    native: run each layer as one C++ op (``native.lstm_layer``, float32,
      built on first use) instead of the composed ``lstm_layer``.
  Returns:
    ``(outputs, final_state)`` as ``static_rnn`` returns them.
  """
  layers = lstm_layers(cell)
  if layers is None:
    raise ValueError(f"static_lstm: {cell.name} is not a plain tanh LSTM (BasicLSTMCell, "
                     "LSTMCell without peepholes/clip/projection, or a MultiRNNCell of them)")
  if isinstance(inputs, (list, tuple)):
    xs = time_steps(inputs, "static_lstm")
  else:
    inputs = tf.convert_to_tensor(inputs)
    if inputs.shape.rank != 3 or tf.compat.dimension_value(inputs.shape[1]) is None:
      raise ValueError("static_lstm: inputs must be a list of [batch, depth] tensors or a "
                       f"[batch, time, depth] tensor with a static time, got {inputs.shape}")
    xs = tf.unstack(inputs, axis=1)
  dtypes = native_layer.DTYPES if native else DTYPES
  if xs[0].dtype not in dtypes:
    raise ValueError(f"static_lstm: inputs of dtype {xs[0].dtype.name}; the layer's gradient "
                     f"runs in {', '.join(d.name for d in dtypes)} (static_rnn takes any)")
  layer_fn = native_layer.lstm_layer if native else lstm_layer
  with tf.compat.v1.variable_scope(scope or "rnn"):
    cell.build(tf.compat.dimension_value(xs[0].shape[1]))
    if initial_state is None:
      initial_state = cell.zero_state(tf.shape(xs[0])[0], dtype or xs[0].dtype)
    multi = type(cell) is multi_rnn.MultiRNNCell  # pylint: disable=unidiomatic-typecheck
    states = tuple(initial_state) if multi else (initial_state,)
    if len(states) != len(layers):
      raise ValueError(f"static_lstm: expected a state tuple of {len(layers)} entries, "
                       f"got {len(states)}")
    final = []
    for layer, (c, h) in zip(layers, states):
      xs, c = layer_fn(xs, c, h, layer.kernel, layer.bias, _plain_lstm(layer))
      final.append(basic_lstm.LSTMStateTuple(c, xs[-1]))
  return xs, (tuple(final) if multi else final[0])
