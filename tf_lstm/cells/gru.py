"""TF1 ``GRUCell`` with its variable layout (``gates/*``, ``candidate/*``)."""

import tensorflow as tf

from tf_lstm.cells import base
from tf_lstm.cells import registry


@registry.register("gru")
class GRUCell(base.RNNCell):
  """Port of ``tf.compat.v1.nn.rnn_cell.GRUCell``.

      [r, u] = sigmoid([x, h] @ gates/kernel + gates/bias)      (r first)
      c = act([x, r * h] @ candidate/kernel + candidate/bias)
      h' = u * h + (1 - u) * c

  Variables: ``gates/kernel`` ``[D + N, 2N]``, ``gates/bias`` ``[2N]`` (ones),
  ``candidate/kernel`` ``[D + N, N]``, ``candidate/bias`` ``[N]`` (zeros).
  """

  # TF1's private names, read by subclasses' build / call (TF1 subclassing contract).
  _gate_kernel = base.tf1_alias("gates_kernel")
  _gate_bias = base.tf1_alias("gates_bias")
  _candidate_kernel = base.tf1_alias("candidate_kernel")
  _candidate_bias = base.tf1_alias("candidate_bias")

  def __init__(self, num_units, activation=None, reuse=None, kernel_initializer=None,
               bias_initializer=None, name=None, dtype=None, *, input_depth=None):
    """TF1's arguments, in TF1's order (``activation`` None: tanh).

    ``kernel_initializer`` for both kernels (None: the scope's, else Glorot
    uniform); ``bias_initializer`` for both biases (None: ones for the gates,
    zeros for the candidate).
    """
    if int(num_units) <= 0:
      raise ValueError(f"num_units must be positive, got {num_units}")
    self._num_units = int(num_units)
    self._activation = activation or tf.tanh
    self._kernel_initializer = base.initializer_fn(kernel_initializer)
    self._bias_initializer = base.initializer_fn(bias_initializer)
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
    kernel_init, bias_init = self._kernel_initializer, self._bias_initializer
    self.gates_kernel = self.add_weight("gates/kernel", [input_depth + n, 2 * n], kernel_init)
    self.gates_bias = self.add_weight("gates/bias", [2 * n], bias_init or base.ones)
    self.candidate_kernel = self.add_weight("candidate/kernel", [input_depth + n, n],
                                            kernel_init)
    self.candidate_bias = self.add_weight("candidate/bias", [n], bias_init or base.zeros)

  def _step(self, inputs, state):
    gates = tf.sigmoid(
        tf.matmul(tf.concat([inputs, state], 1), self.gates_kernel) + self.gates_bias)
    r, u = tf.split(gates, 2, axis=1)
    c = self._activation(
        tf.matmul(tf.concat([inputs, r * state], 1), self.candidate_kernel)
        + self.candidate_bias)
    new_h = u * state + (1 - u) * c
    return new_h, new_h
