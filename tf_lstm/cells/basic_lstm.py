"""TF1 ``BasicLSTMCell``: same variables, same gate order, same numbers."""

import collections

import tensorflow as tf

from tf_lstm.cells import base
from tf_lstm.cells import registry


class LSTMStateTuple(collections.namedtuple("LSTMStateTuple", ("c", "h"))):
  """LSTM state: cell ``c`` and hidden ``h``, each ``[batch, num_units]``."""
  __slots__ = ()

  @property
  def dtype(self):
    """TF1's: the dtype of ``c`` and ``h`` (TypeError if they differ)."""
    c, h = self
    if c.dtype != h.dtype:
      raise TypeError(f"LSTMStateTuple: c is {c.dtype.name} but h is {h.dtype.name}")
    return c.dtype


def lstm_step(inputs, c, h, kernel, bias, forget_bias, activation=tf.tanh):
  """One step of the TF1 basic LSTM (no peepholes, no clipping).

      [i, j, f, o] = split([x, h] @ kernel + bias, 4)
      c' = c * sigmoid(f + forget_bias) + sigmoid(i) * act(j)
      h' = act(c') * sigmoid(o)

  Args:
    inputs: ``[batch, input_depth]``.
    c, h: ``[batch, num_units]``.
    kernel: ``[input_depth + num_units, 4 * num_units]`` (input rows first).
    bias: ``[4 * num_units]``.
  Returns:
    ``(c', h')``.
  """
  # bias_add (not +), as TF1 does: Grappler fuses MatMul+BiasAdd into one
  # kernel and BiasAddGrad is a single reduction.
  gates = tf.nn.bias_add(tf.matmul(tf.concat([inputs, h], 1), kernel), bias)
  return lstm_gates_to_state(gates, c, forget_bias, activation)


def lstm_gates_to_state(gates, c, forget_bias, activation=tf.tanh):
  """The element-wise half of ``lstm_step`` from pre-activations ``[B, 4N]``."""
  i, j, f, o = tf.split(gates, 4, axis=1)
  return lstm_state(tf.sigmoid(i), activation(j), tf.sigmoid(f + forget_bias), tf.sigmoid(o),
                    c, activation)


def lstm_state(i, j, f, o, c, activation=tf.tanh):
  """``(c', h')`` from the activated gates ``[B, N]`` (i, f, o: sigmoids; j: act)::

      c' = c * f + i * j;   h' = act(c') * o
  """
  new_c = c * f + i * j
  return new_c, activation(new_c) * o


@registry.register("lstm", options=(registry.FORGET_BIAS,))
class BasicLSTMCell(base.RNNCell):
  """Port of ``tf.compat.v1.nn.rnn_cell.BasicLSTMCell``.

  Variables (TF1 layout, loadable from TF1 checkpoints as they are):
    ``kernel`` ``[input_depth + num_units, 4 * num_units]``, gate order
    i, j, f, o; ``bias`` ``[4 * num_units]`` (zeros); ``forget_bias`` is added
    at run time, never stored.
    TF1's private names ``_kernel``, ``_bias``, ``_forget_bias``,
    ``_num_units``, ``_activation`` hold the same values, for a subclass's
    ``build`` / ``call`` (see base.RNNCell).

  Example:
    cell = BasicLSTMCell(128)
    state = cell.zero_state(32, tf.float32)
    out, state = cell(tf.zeros([32, 28]), state)   # out: [32, 128]
  """

  # TF1's private names, read by subclasses' build / call (TF1 subclassing contract).
  _kernel = base.tf1_alias("kernel")
  _bias = base.tf1_alias("bias")

  def __init__(self, num_units, forget_bias=1.0, state_is_tuple=True, activation=None,
               reuse=None, name=None, dtype=None, *, input_depth=None):
    """TF1's arguments, in TF1's order (``activation`` None: tanh); see base.RNNCell."""
    if int(num_units) <= 0:
      raise ValueError(f"num_units must be positive, got {num_units}")
    base.check_state_is_tuple(state_is_tuple, "BasicLSTMCell")
    self._num_units = int(num_units)
    self._forget_bias = float(forget_bias)
    self._activation = activation or tf.tanh
    super().__init__(input_depth=input_depth, name=name, reuse=reuse, dtype=dtype)

  @property
  def num_units(self):
    return self._num_units

  @property
  def forget_bias(self):
    return self._forget_bias

  @property
  def state_size(self):
    return LSTMStateTuple(self._num_units, self._num_units)

  @property
  def output_size(self):
    return self._num_units

  def _create_variables(self, input_depth):
    n = self._num_units
    self.kernel = self.add_weight("kernel", [input_depth + n, 4 * n])
    self.bias = self.add_weight("bias", [4 * n], base.zeros)

  def _step(self, inputs, state):
    c, h = state
    new_c, new_h = lstm_step(inputs, c, h, self.kernel, self.bias,
                             self._forget_bias, self._activation)
    return new_h, LSTMStateTuple(new_c, new_h)
