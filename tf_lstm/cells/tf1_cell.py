"""TF1's ``RNNCell`` for porting a user's own cell: ``build``, ``call``, ``add_variable``.

A TF1 cell subclass ports by changing its base class only::

    class MinimalRNNCell(tf_lstm.RNNCell):          # was tf.nn.rnn_cell.RNNCell
      def __init__(self, num_units, reuse=None):
        super().__init__(_reuse=reuse)
        self._num_units = num_units
      state_size = property(lambda self: self._num_units)
      output_size = property(lambda self: self._num_units)
      def build(self, inputs_shape):
        self._kernel = self.add_variable("kernel", [inputs_shape[-1] + self._num_units,
                                                    self._num_units])
        self.built = True
      def call(self, inputs, state):
        h = tf.tanh(tf.matmul(tf.concat([inputs, state], 1), self._kernel))
        return h, h

It then runs eagerly, in ``tf.function`` and in ``tf.compat.v1`` graph programs
under every tf_lstm unroll, with TF1's variable names
(``rnn/minimal_rnn_cell/kernel``): see tf_lstm/cells/base.py for the naming
contract. ``tf.compat.v1.get_variable`` inside ``call`` (the older TF1 style)
works too: in graph mode it is TF1's own (first call creates, later calls
reuse); eagerly and in ``tf.function`` the cell creates each such variable
once and owns it.
"""

import tensorflow as tf

from tf_lstm.cells import base


class _TF1CellType(type):
  """``isinstance(cell, RNNCell)`` holds for every tf_lstm cell, as TF1 code expects."""

  def __instancecheck__(cls, obj):
    if cls is RNNCell:
      return isinstance(obj, base.RNNCell)
    return super().__instancecheck__(obj)

  def __subclasscheck__(cls, sub):
    if cls is RNNCell:
      return issubclass(sub, base.RNNCell)
    return super().__subclasscheck__(sub)


class RNNCell(base.RNNCell, metaclass=_TF1CellType):
  """TF1's ``tf.compat.v1.nn.rnn_cell.RNNCell`` / ``LayerRNNCell`` surface.

  A subclass defines ``state_size``, ``output_size``, ``call(inputs, state)
  -> (output, new_state)`` and optionally ``build(inputs_shape)``, creating
  variables with ``add_variable`` / ``add_weight`` (TF1 names, relative to the
  cell's scope, which is ``name``, by default the class name in snake case).
  ``self.built = True`` at the end of ``build`` is accepted (TF1 code does it);
  the cell records its build itself.

  A TF 1.0 subclass that overrides ``__call__(inputs, state, scope=None)``
  itself (``tf.compat.v1.get_variable`` under ``variable_scope(scope or
  name)``) and never calls ``super().__init__()`` works too, in graph programs.

  Not supported (clear errors): regularizers, constraints and partitioners on
  variables.
  """

  def __new__(cls, *args, **kwargs):
    # TF 1.0's RNNCell was a plain object: its subclasses often skip
    # super().__init__().  Set the base state here so that they work as they did.
    del args, kwargs
    cell = super().__new__(cls)
    RNNCell.__init__(cell)
    return cell

  def __init__(self, trainable=True, name=None, dtype=None, _reuse=None, _scope=None,
               **kwargs):
    if _scope is not None:
      raise ValueError(f"{type(self).__name__}: _scope is not supported; build the cell "
                       "inside tf.compat.v1.variable_scope(...) instead")
    if kwargs:
      raise TypeError(f"{type(self).__name__}: unexpected arguments {sorted(kwargs)}")
    self._trainable = bool(trainable)
    self._called = False
    self._owned = {}   # variables get_variable made inside call (eager / tf.function)
    # name None: the class name in snake case (base.RNNCell).
    super().__init__(name=name, reuse=_reuse, dtype=dtype)

  @property
  def built(self):
    return self.input_depth is not None

  @built.setter
  def built(self, value):
    del value  # TF1's ``self.built = True``; the build is recorded by the framework.

  @property
  def trainable(self):
    return self._trainable

  def build(self, inputs_shape):
    """TF1's hook: create the variables for ``inputs_shape`` ``[batch, depth]``.

    Runs once, in the cell's scope (base.RNNCell's ``build`` rule); the
    default creates none (a cell may call ``get_variable`` in ``call``).
    """
    del inputs_shape

  def call(self, inputs, state):
    """One step: ``(output, new_state)``. Subclasses implement it."""
    raise NotImplementedError(f"{type(self).__name__} must implement call(inputs, state)")

  def add_weight(self, name, shape, dtype=None, initializer=None, regularizer=None,
                 trainable=None, constraint=None, partitioner=None, **kwargs):
    """TF1's ``add_weight``: variable ``<cell scope>/<name>`` (call it from ``build``).

    ``initializer`` is a TF1 or TF2 initializer (``init(shape, dtype)``);
    None is TF1's default, glorot uniform.
    """
    del kwargs  # use_resource, getter, ...: TF2 variables are resource variables.
    for label, value in (("regularizer", regularizer), ("constraint", constraint),
                         ("partitioner", partitioner)):
      if value is not None:
        raise NotImplementedError(f"{self.name}: add_weight({name!r}) {label}= is not "
                                  "supported; apply it in the loss or after the step")
    trainable = self._trainable if trainable is None else bool(trainable)
    return base.RNNCell.add_weight(self, name, shape, base.initializer_fn(initializer),
                                   dtype=dtype, trainable=trainable)

  add_variable = add_weight

  def _run_call(self, inputs, state):
    if base.graph_mode():   # TF1's rule: the first call creates, later calls reuse
      scope = tf.compat.v1.variable_scope(
          self._variable_scope, reuse=True if self._called else None,
          custom_getter=self._track_variable, auxiliary_name_scope=False)
    else:
      scope = tf.compat.v1.variable_scope(self._variable_scope, custom_getter=self._own_variable,
                                          auxiliary_name_scope=False)
    with scope:
      result = self.call(inputs, state)
    self._called = True
    return result

  def _track_variable(self, getter, name, *args, **kwargs):
    """In a graph: TF1's ``get_variable`` in ``call``, listed in ``cell.variables`` as TF1's."""
    variable = base.created(getter(name, *args, **kwargs))
    self._owned.setdefault(name, variable)
    return variable

  def _own_variable(self, getter, name, shape=None, dtype=None, initializer=None,
                    trainable=None, **kwargs):
    """Eagerly: ``get_variable`` in ``call`` makes a variable once; later steps get it back."""
    del getter, kwargs
    if name not in self._owned:
      prefix = self._variable_scope.name + "/"
      relative = name[len(prefix):] if name.startswith(prefix) else name
      with tf.init_scope():   # out of tf.function / tf.while_loop bodies
        self._owned[name] = self.add_weight(relative, shape, dtype, initializer,
                                            trainable=trainable)
    return self._owned[name]


# contrib's (and rnn_cell_impl's) LayerRNNCell: the same surface (build + add_variable).
LayerRNNCell = RNNCell
