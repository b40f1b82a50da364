"""contrib's ``LSTMBlockCell``: the fused-kernel LSTM, with TF1's names and options."""

import tensorflow as tf

from tf_lstm.cells import base
from tf_lstm.cells.basic_lstm import LSTMStateTuple
from tf_lstm.cells.lstm import LSTMCell, peephole_gates_to_state


def _clip_passing_gradient(t, lo, hi):
  """``clip_by_value`` whose gradient is the identity: TF1's fused LSTM kernels
  (``LSTMBlockCellGrad``, ``BlockLSTMGrad``) ignore ``cell_clip`` backwards."""

  @tf.custom_gradient
  def clip(t):
    return tf.clip_by_value(t, lo, hi), lambda dy: dy

  return clip(t)


class LSTMBlockCell(LSTMCell):
  """Port of ``tf.contrib.rnn.LSTMBlockCell`` (TF1's ``LSTMBlockCell`` op).

  The op's equations (``tf.raw_ops.LSTMBlockCell``; gates in the order
  i, ci, f, o, the same as ``BasicLSTMCell``'s i, j, f, o)::

      [i, ci, f, o] = split([x, h] @ kernel + bias, 4)
      i  = sigmoid(i + w_i_diag * c)            (peephole terms only with use_peephole)
      f  = sigmoid(f + forget_bias + w_f_diag * c)
      c' = clip(f * c + i * tanh(ci), cell_clip)   (no clip when cell_clip is None)
      h' = sigmoid(o + w_o_diag * c') * tanh(c')

  That is ``LSTMCell``'s update (``peephole_gates_to_state``, one copy of the
  math) with ``use_peepholes=use_peephole`` and no projection, under contrib's
  constructor, with one difference kept from the op: its gradient ignores the
  clip (the clipped ``c'`` passes gradients through as if unclipped).
  tests/test_tf1_surface_cells.py proves it equal to the op itself (one step
  and ``BlockLSTM`` over a sequence): outputs, states and gradients.

  Variables (TF1 names under the cell's scope ``lstm_cell``):
    ``kernel`` ``[D + N, 4N]`` (input rows first), ``bias`` ``[4N]`` (zeros),
    with ``use_peephole`` ``w_i_diag``, ``w_f_diag``, ``w_o_diag`` ``[N]``
    (created in that order, as contrib does). A checkpoint of a TF1
    ``LSTMBlockCell`` loads as it is.

  Args:
    num_units: N.
    forget_bias: added to the forget gate's pre-activation (not stored).
    cell_clip: clip ``c'`` to ``[-cell_clip, cell_clip]``; ``None`` (or a value
      <= 0, as the op reads it) means no clipping.
    use_peephole: diagonal peephole connections.
    dtype: the variables' dtype (default float32; the op takes float16 or 32).
    reuse: TF1's variable sharing flag (in graph mode True / ``AUTO_REUSE``
      share ``<scope>/<name>/...``; see tf_lstm/cells/base.py).
    name: the cell's TF1 scope.

  Example:
    cell = LSTMBlockCell(64, use_peephole=True)
    out, state = cell(tf.zeros([8, 28]), cell.zero_state(8))   # out: [8, 64]
  """

  def __init__(self, num_units, forget_bias=1.0, cell_clip=None, use_peephole=False,
               dtype=None, reuse=None, name="lstm_cell", input_depth=None):
    dtype = tf.as_dtype(dtype or tf.float32)
    if dtype not in (tf.float16, tf.float32):
      raise ValueError(f"LSTMBlockCell: dtype must be float16 or float32 (the op's "
                       f"types), got {dtype.name}")
    # The op clips only for cell_clip > 0; None becomes its -1.
    clip = None if cell_clip is None or float(cell_clip) <= 0 else float(cell_clip)
    super().__init__(num_units, use_peepholes=use_peephole, cell_clip=clip,
                     forget_bias=forget_bias, reuse=reuse, name=name, dtype=dtype,
                     input_depth=input_depth)

  def _create_variables(self, input_depth):
    n, dtype = self._num_units, self._dtype
    self.kernel = self.add_weight("kernel", [input_depth + n, 4 * n], dtype=dtype)
    self.bias = self.add_weight("bias", [4 * n], base.zeros, dtype=dtype)
    self.w_f_diag = self.w_i_diag = self.w_o_diag = None
    if self._use_peepholes:
      self.w_i_diag = self.add_weight("w_i_diag", [n], dtype=dtype)
      self.w_f_diag = self.add_weight("w_f_diag", [n], dtype=dtype)
      self.w_o_diag = self.add_weight("w_o_diag", [n], dtype=dtype)
    self.projection_kernel = None

  def _step(self, inputs, state):
    if not self._use_peepholes and self._cell_clip is None:
      return super()._step(inputs, state)   # LSTMCell's plain update
    c, h = state
    gates = tf.matmul(tf.concat([inputs, h], 1), self.kernel) + self.bias
    if self._use_peepholes:
      peepholes = (self.w_i_diag, self.w_f_diag, self.w_o_diag)
    else:   # the op's rule: no peepholes is peepholes of zero
      peepholes = (tf.zeros([self._num_units], gates.dtype),) * 3
    new_c, new_h = peephole_gates_to_state(
        gates, c, self._forget_bias, *peepholes, cell_clip=self._cell_clip,
        clip=_clip_passing_gradient)
    return new_h, LSTMStateTuple(new_c, new_h)
