"""TF1 ``LSTMCell``: peepholes, cell clipping and an output projection."""

import tensorflow as tf

from tf_lstm.cells import base
from tf_lstm.cells import registry
from tf_lstm.cells.basic_lstm import LSTMStateTuple, lstm_gates_to_state


def peephole_gates_to_state(gates, c, forget_bias, w_i_diag, w_f_diag, w_o_diag,
                            cell_clip=None, activation=tf.tanh, clip=tf.clip_by_value):
  """The element-wise LSTM update with diagonal peepholes (Sak et al. 2014).

      [i, j, f, o] = split(gates, 4)                       gates: [B, 4N]
      c' = sigmoid(f + forget_bias + w_f * c) * c + sigmoid(i + w_i * c) * act(j)
      c' = clip(c', -cell_clip, cell_clip)                 (when cell_clip)
      h' = sigmoid(o + w_o * c') * act(c')
  The term order is TF1's, so the float results are TF1's bit for bit.
  ``clip(t, lo, hi)`` does the clipping (``LSTMBlockCell`` passes one whose
  gradient passes through, as TF1's fused kernel's does).
  """
  i, j, f, o = tf.split(gates, 4, axis=1)
  new_c = (tf.sigmoid(f + forget_bias + w_f_diag * c) * c
           + tf.sigmoid(i + w_i_diag * c) * activation(j))
  if cell_clip is not None:
    new_c = clip(new_c, -cell_clip, cell_clip)
  new_h = tf.sigmoid(o + w_o_diag * new_c) * activation(new_c)
  return new_c, new_h


# The TF1 LSTMCell options, as settings (0 means "off": the constructor's None).
LSTM_OPTIONS = (
    registry.Option("use_peepholes", False, "Diagonal peephole connections.", off=True),
    registry.Option("cell_clip", 0.0, "Clip the cell state to +-this (0: off).", lower=0.0,
                    off=True),
    registry.Option("num_proj", 0, "Project the output to this size (0: off).", lower=0,
                    off=True),
    registry.Option("proj_clip", 0.0, "Clip the projection to +-this (0: off).", lower=0.0,
                    off=True),
)


@registry.register("lstm_full", options=(registry.FORGET_BIAS, *LSTM_OPTIONS))
class LSTMCell(base.RNNCell):
  """Port of ``tf.compat.v1.nn.rnn_cell.LSTMCell`` (``state_is_tuple=True``).

      gates = [x, m] @ kernel + bias                  (gate order i, j, f, o)
      c', h' = LSTM update of gates (with peepholes when ``use_peepholes``;
               ``c'`` clipped to +-``cell_clip``)
      m' = h' @ projection/kernel, clipped to +-``proj_clip``   (when ``num_proj``)
  The state is ``LSTMStateTuple(c, m)``: ``c`` ``[B, N]``, ``m`` ``[B, P]`` with
  ``P = num_proj or N``; the output is ``m'``.

  Variables (TF1 names, loadable from ``rnn/lstm_cell/...``):
    ``kernel`` ``[D + P, 4N]`` (input rows first), ``bias`` ``[4N]`` (zeros),
    ``w_f_diag``, ``w_i_diag``, ``w_o_diag`` ``[N]`` (with peepholes),
    ``projection/kernel`` ``[N, P]`` (with ``num_proj``).
  Without peepholes and clipping the update is ``lstm_gates_to_state``, the
  one ``BasicLSTMCell`` uses.

  Example:
    cell = LSTMCell(64, use_peepholes=True, num_proj=32)
    out, state = cell(tf.zeros([8, 28]), cell.zero_state(8))   # out: [8, 32]
  """

  # TF1's private names, read by subclasses' build / call (TF1 subclassing contract).
  _kernel = base.tf1_alias("kernel")
  _bias = base.tf1_alias("bias")
  _w_f_diag = base.tf1_alias("w_f_diag")
  _w_i_diag = base.tf1_alias("w_i_diag")
  _w_o_diag = base.tf1_alias("w_o_diag")
  _proj_kernel = base.tf1_alias("projection_kernel")

  def __init__(self, num_units, use_peepholes=False, cell_clip=None, initializer=None,
               num_proj=None, proj_clip=None, num_unit_shards=None, num_proj_shards=None,
               forget_bias=1.0, state_is_tuple=True, activation=None, reuse=None, name=None,
               dtype=None, *, input_depth=None):
    """TF1's arguments, in TF1's order (``activation`` None: tanh).

    ``initializer`` (TF1: kernel, peepholes and projection; None: the scope's, else
    Glorot uniform).  ``num_unit_shards`` / ``num_proj_shards`` (deprecated in TF1)
    partitioned the variables for storage only; here each variable is one
    tensor, with the same values and results.
    """
    del num_unit_shards, num_proj_shards
    base.check_state_is_tuple(state_is_tuple, "LSTMCell")
    if int(num_units) <= 0:
      raise ValueError(f"num_units must be positive, got {num_units}")
    if num_proj is not None and int(num_proj) <= 0:
      raise ValueError(f"num_proj must be positive or None, got {num_proj}")
    for label, clip in (("cell_clip", cell_clip), ("proj_clip", proj_clip)):
      if clip is not None and not float(clip) > 0:
        raise ValueError(f"{label} must be positive or None, got {clip}")
    if proj_clip is not None and num_proj is None:
      raise ValueError("proj_clip needs num_proj (it clips the projection)")
    self._num_units = int(num_units)
    self._use_peepholes = bool(use_peepholes)
    self._cell_clip = None if cell_clip is None else float(cell_clip)
    self._num_proj = None if num_proj is None else int(num_proj)
    self._proj_clip = None if proj_clip is None else float(proj_clip)
    self._forget_bias = float(forget_bias)
    self._activation = activation or tf.tanh
    self._initializer = base.initializer_fn(initializer)
    super().__init__(input_depth=input_depth, name=name, reuse=reuse, dtype=dtype)

  @property
  def num_units(self):
    return self._num_units

  @property
  def state_size(self):
    return LSTMStateTuple(self._num_units, self._num_proj or self._num_units)

  @property
  def output_size(self):
    return self._num_proj or self._num_units

  def _create_variables(self, input_depth):
    n, p = self._num_units, self.output_size
    init = self._initializer
    self.kernel = self.add_weight("kernel", [input_depth + p, 4 * n], init)
    self.bias = self.add_weight("bias", [4 * n], base.zeros)
    self.w_f_diag = self.w_i_diag = self.w_o_diag = None
    if self._use_peepholes:
      # TF1 draws them with get_variable's default initializer (glorot on [N]).
      self.w_f_diag = self.add_weight("w_f_diag", [n], init)
      self.w_i_diag = self.add_weight("w_i_diag", [n], init)
      self.w_o_diag = self.add_weight("w_o_diag", [n], init)
    self.projection_kernel = None
    if self._num_proj:
      self.projection_kernel = self.add_weight("projection/kernel", [n, p], init)

  def _step(self, inputs, state):
    c, m = state
    gates = tf.matmul(tf.concat([inputs, m], 1), self.kernel) + self.bias
    if self._use_peepholes:
      new_c, new_m = peephole_gates_to_state(
          gates, c, self._forget_bias, self.w_i_diag, self.w_f_diag, self.w_o_diag,
          self._cell_clip, self._activation)
    elif self._cell_clip is not None:
      # A clip without peepholes is the peephole update with zero diagonals.
      zeros = tf.zeros([self._num_units], gates.dtype)
      new_c, new_m = peephole_gates_to_state(
          gates, c, self._forget_bias, zeros, zeros, zeros, self._cell_clip,
          self._activation)
    else:
      new_c, new_m = lstm_gates_to_state(gates, c, self._forget_bias, self._activation)
    if self._num_proj:
      new_m = tf.matmul(new_m, self.projection_kernel)
      if self._proj_clip is not None:
        new_m = tf.clip_by_value(new_m, -self._proj_clip, self._proj_clip)
    return new_m, LSTMStateTuple(new_c, new_m)
