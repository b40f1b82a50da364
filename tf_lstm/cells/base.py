"""The RNN cell contract shared by every cell (TF1 ``RNNCell`` semantics).

A cell is a ``tf.Module`` called as ``output, new_state = cell(inputs, state)``
with ``inputs`` of shape ``[batch, input_depth]``.  Variables are created once,
lazily, from the first input's depth (or eagerly with ``cell.build(depth)``).
"""

import tensorflow as tf


class RNNCell(tf.Module):
  """Base class: ``state_size``, ``output_size``, ``zero_state`` and lazy build.

  Subclasses implement ``_create_variables(input_depth)`` and
  ``_step(inputs, state) -> (output, new_state)``.
  """

  def __init__(self, input_depth=None, name=None):
    super().__init__(name=name)
    self._input_depth = None
    if input_depth is not None:
      self.build(input_depth)

  @property
  def state_size(self):
    raise NotImplementedError

  @property
  def output_size(self):
    raise NotImplementedError

  @property
  def built(self):
    return self._input_depth is not None

  @property
  def input_depth(self):
    return self._input_depth

  def build(self, input_depth):
    """Creates the variables for inputs of depth ``input_depth`` (once)."""
    input_depth = int(input_depth)
    if input_depth <= 0:
      raise ValueError(f"{self.name}: input depth must be positive, got {input_depth}")
    if self._input_depth is not None:
      if input_depth != self._input_depth:
        raise ValueError(
            f"{self.name}: built for input depth {self._input_depth}, "
            f"called with depth {input_depth}")
      return
    with self.name_scope:
      self._create_variables(input_depth)
    self._input_depth = input_depth

  def _create_variables(self, input_depth):
    raise NotImplementedError

  def _step(self, inputs, state):
    raise NotImplementedError

  def zero_state(self, batch_size, dtype=tf.float32):
    """Zeros shaped like ``state_size``: each leaf ``[batch_size, size]``."""
    return tf.nest.map_structure(
        lambda size: tf.zeros([batch_size, size], dtype=dtype), self.state_size)

  def __call__(self, inputs, state):
    inputs = tf.convert_to_tensor(inputs)
    if inputs.shape.rank != 2:
      raise ValueError(
          f"{self.name}: inputs must be [batch, depth], got shape {inputs.shape}")
    depth = inputs.shape[-1]
    if depth is None:
      raise ValueError(f"{self.name}: the input depth must be known statically")
    self.build(depth)
    return self._step(inputs, state)


def glorot_uniform(shape, dtype=tf.float32):
  """TF1's default ``glorot_uniform_initializer`` for a 2-D kernel.

  U(-l, l) with l = sqrt(6 / (fan_in + fan_out)); seeded by the global seed.
  """
  limit = (6.0 / (shape[0] + shape[-1])) ** 0.5
  return tf.random.uniform(shape, -limit, limit, dtype=dtype)
