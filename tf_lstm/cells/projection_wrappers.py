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


class _ProjectionWrapper(base.RNNCell):
  """The cell, its state, an activation and TF1's ``_linear`` (variables made in build)."""

  def __init__(self, cell, size_name, size, activation, reuse, name):
    cls_name = type(self).__name__
    if not (callable(cell) and hasattr(cell, "state_size") and hasattr(cell, "output_size")):
      raise TypeError(f"{cls_name}: cell must be an RNNCell (callable, with state_size and "
                      f"output_size), got {cell!r}")
    if int(size) <= 0:
      raise ValueError(f"{cls_name}: {size_name} must be positive, got {size}")
    self._size = int(size)
    self.cell = cell
    self._activation = activation
    super().__init__(name=name, reuse=reuse)

  @property
  def state_size(self):
    return self.cell.state_size

  def zero_state(self, batch_size, dtype=tf.float32):
    return self.cell.zero_state(batch_size, dtype)

  def _add_projection(self, input_depth):
    self.kernel = self.add_weight("kernel", [input_depth, self._size])
    self.bias = self.add_weight("bias", [self._size], base.zeros)

  def _project(self, x):
    """``act(bias_add(x @ kernel, bias))`` (no activation when None, as TF1)."""
    projected = tf.nn.bias_add(tf.matmul(x, self.kernel), self.bias)
    return self._activation(projected) if self._activation else projected


class OutputProjectionWrapper(_ProjectionWrapper):
  """Port of ``tf.contrib.rnn.OutputProjectionWrapper``.

      out, s' = cell(x, s);   y = act(bias_add(out @ kernel, bias))
  ``kernel`` ``[cell.output_size, output_size]``, ``bias`` ``[output_size]``;
  the state is the cell's.  ``activation`` None: no activation (TF1's).
  """

  def __init__(self, cell, output_size, activation=None, reuse=None, *, name=None):
    super().__init__(cell, "output_size", output_size, activation, reuse, name)

  @property
  def output_size(self):
    return self._size

  def _create_variables(self, input_depth):
    self.cell.build(input_depth)   # in this scope: <scope>/output_projection_wrapper/<cell>
    self._add_projection(self.cell.output_size)

  def _step(self, inputs, state):
    out, new_state = self.cell(inputs, state)
    return self._project(out), new_state


class InputProjectionWrapper(_ProjectionWrapper):
  """Port of ``tf.contrib.rnn.InputProjectionWrapper``.

      p = act(bias_add(x @ kernel, bias));   out, s' = cell(p, s)
  ``kernel`` ``[input_depth, num_proj]``, ``bias`` ``[num_proj]`` (made before
  the cell's, as TF1 did); ``input_size`` is accepted and ignored (deprecated in TF1).
  """

  def __init__(self, cell, num_proj, activation=None, input_size=None, reuse=None, *,
               name=None):
    del input_size
    super().__init__(cell, "num_proj", num_proj, activation, reuse, name)

  @property
  def output_size(self):
    return self.cell.output_size

  def _create_variables(self, input_depth):
    self._add_projection(input_depth)
    self.cell.build(self._size)   # in this scope: <scope>/input_projection_wrapper/<cell>

  def _step(self, inputs, state):
    return self.cell(self._project(inputs), state)
