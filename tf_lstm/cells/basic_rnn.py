"""TF1 ``BasicRNNCell``: ``h' = act([x, h] @ kernel + bias)``."""

import tensorflow as tf

from tf_lstm.cells import base
from tf_lstm.cells import registry


@registry.register("rnn")
class BasicRNNCell(base.RNNCell):
  """Port of ``tf.compat.v1.nn.rnn_cell.BasicRNNCell``.

  Variables: ``kernel`` ``[input_depth + num_units, num_units]``,
  ``bias`` ``[num_units]``. The state is the output, ``[batch, num_units]``.
  """

  # TF1's private names, read by subclasses' build / call (TF1 subclassing contract).
  _kernel = base.tf1_alias("kernel")
  _bias = base.tf1_alias("bias")

  def __init__(self, num_units, activation=None, reuse=None, name=None, dtype=None, *,
               input_depth=None):
    """TF1's arguments, in TF1's order (``activation`` None: tanh)."""
    if int(num_units) <= 0:
      raise ValueError(f"num_units must be positive, got {num_units}")
    self._num_units = int(num_units)
    self._activation = activation or tf.tanh
    super().__init__(input_depth=input_depth, name=name, reuse=reuse, dtype=dtype)

  @property
  def num_units(self):
    return self._num_units

  @property
  def state_size(self):
    return self._num_units

  @property
  def output_size(self):
    return self._num_units

  def _create_variables(self, input_depth):
    n = self._num_units
    self.kernel = self.add_weight("kernel", [input_depth + n, n])
    self.bias = self.add_weight("bias", [n], base.zeros)

  def _step(self, inputs, state):
    out = self._activation(tf.matmul(tf.concat([inputs, state], 1), self.kernel) + self.bias)
    return out, out
