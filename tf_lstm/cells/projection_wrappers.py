"""contrib's projection wrappers: a dense layer after (or before) a cell, in its own scope.

Unlike ``DropoutWrapper`` these own variables and a scope, as TF1's did (they
were ``RNNCell`` layers calling the cell inside their scope), so under
``static_rnn`` the names are::

    rnn/output_projection_wrapper/basic_rnn_cell/kernel   (the cell, built inside)
    rnn/output_projection_wrapper/kernel, .../bias        (the projection)

and a TF1 checkpoint of ``OutputProjectionWrapper(BasicRNNCell(n), p)`` restores
as it is.  The projection is TF1's ``_linear``: ``bias_add(x @ kernel, bias)``,
kernel from the scope's initializer (else Glorot uniform), bias zeros.
"""

import tensorflow as tf

from tf_lstm.cells import base


def _checked(cell, cls_name, size_name, size):
  if not (callable(cell) and hasattr(cell, "state_size") and hasattr(cell, "output_size")):
    raise TypeError(f"{cls_name}: cell must be an RNNCell (callable, with state_size and "
                    f"output_size), got {cell!r}")
  if int(size) <= 0:
    raise ValueError(f"{cls_name}: {size_name} must be positive, got {size}")
  return int(size)


class OutputProjectionWrapper(base.RNNCell):
  """Port of ``tf.contrib.rnn.OutputProjectionWrapper``.

      out, s' = cell(x, s);   y = act(bias_add(out @ kernel, bias))
  ``kernel`` ``[cell.output_size, output_size]``, ``bias`` ``[output_size]``;
  the state is the cell's.  ``activation`` None: no activation (TF1's).
  """

  def __init__(self, cell, output_size, activation=None, reuse=None, *, name=None):
    self._output_size = _checked(cell, "OutputProjectionWrapper", "output_size", output_size)
    self.cell = cell
    self._activation = activation
    super().__init__(name=name, reuse=reuse)

  @property
  def state_size(self):
    return self.cell.state_size

  @property
  def output_size(self):
    return self._output_size

  def zero_state(self, batch_size, dtype=tf.float32):
    return self.cell.zero_state(batch_size, dtype)

  def _create_variables(self, input_depth):
    self.cell.build(input_depth)   # in this scope: <scope>/output_projection_wrapper/<cell>
    self.kernel = self.add_weight("kernel", [self.cell.output_size, self._output_size])
    self.bias = self.add_weight("bias", [self._output_size], base.zeros)

  def _step(self, inputs, state):
    out, new_state = self.cell(inputs, state)
    projected = tf.nn.bias_add(tf.matmul(out, self.kernel), self.bias)
    return (self._activation(projected) if self._activation else projected), new_state


class InputProjectionWrapper(base.RNNCell):
  """Port of ``tf.contrib.rnn.InputProjectionWrapper``.

      p = act(bias_add(x @ kernel, bias));   out, s' = cell(p, s)
  ``kernel`` ``[input_depth, num_proj]``, ``bias`` ``[num_proj]`` (made before
  the cell's, as TF1 did); ``input_size`` is accepted and ignored (deprecated in TF1).
  """

  def __init__(self, cell, num_proj, activation=None, input_size=None, reuse=None, *,
               name=None):
    del input_size
    self._num_proj = _checked(cell, "InputProjectionWrapper", "num_proj", num_proj)
    self.cell = cell
    self._activation = activation
    super().__init__(name=name, reuse=reuse)

  @property
  def state_size(self):
    return self.cell.state_size

  @property
  def output_size(self):
    return self.cell.output_size

  def zero_state(self, batch_size, dtype=tf.float32):
    return self.cell.zero_state(batch_size, dtype)

  def _create_variables(self, input_depth):
    self.kernel = self.add_weight("kernel", [input_depth, self._num_proj])
    self.bias = self.add_weight("bias", [self._num_proj], base.zeros)
    self.cell.build(self._num_proj)   # in this scope: <scope>/input_projection_wrapper/<cell>

  def _step(self, inputs, state):
    projected = tf.nn.bias_add(tf.matmul(inputs, self.kernel), self.bias)
    if self._activation:
      projected = self._activation(projected)
    return self.cell(projected, state)
