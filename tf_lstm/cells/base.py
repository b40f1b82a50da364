"""The RNN cell contract shared by every cell (TF1 ``RNNCell`` semantics).

A cell is a ``tf.Module`` called as ``output, new_state = cell(inputs, state)``
with ``inputs`` of shape ``[batch, input_depth]``.  Variables are created once,
lazily, from the first input's depth (or eagerly with ``cell.build(depth)``).

Variable names (the contract every cell keeps, so TF1 checkpoints and ours
load into each other with no mapping): a cell's variables are named

    <enclosing variable scope>/<the cell's TF1 scope>/<TF1 variable name>

where the enclosing scope is the unroll's (``rnn``, ``bidirectional_rnn/fw``,
a user's ``scope=`` or ``tf.compat.v1.variable_scope``; empty for a cell built
outside any), the cell's TF1 scope is its ``name`` (``basic_lstm_cell``,
``lstm_cell``, ``gru_cell`` ...), and the variable name is TF1's, relative to
that scope, given to ``add_weight`` (``kernel``, ``projection/kernel``,
``gates/kernel``).  ``MultiRNNCell`` builds layer ``k`` under ``cell_<k>``.
So after ``static_rnn(BasicLSTMCell(n), ...)`` the kernel is
``rnn/basic_lstm_cell/kernel`` eagerly, inside ``tf.function`` and in a
``tf.compat.v1`` graph program alike.

In a ``tf.compat.v1`` graph program variables are made by
``tf.compat.v1.get_variable`` under TF1's scopes, so TF1's rules hold: a cell
first built in an existing scope gets a numbered scope (``basic_lstm_cell_1``)
as TF1 layers do, ``reuse=True`` / ``tf.compat.v1.AUTO_REUSE`` (on the scope,
or the cell's TF1 ``reuse=`` argument) share variables between cells, and
creating an existing variable without reuse raises TF1's "already exists"
error.  TF1's ``cell(inputs, state, scope=...)`` on the building call puts the
variables under ``<enclosing scope>/<scope>`` instead of the cell's name.
Eagerly (and in ``tf.function``) variables are plain ``tf.Variable``s owned by
the cell; names need not be unique.
"""

import contextlib
import functools
import itertools
import re

import tensorflow as tf


# Creation order of the cells' variables (TF1 layers list their variables in it).
_CREATED = itertools.count()


def created(variable):
  """Marks ``variable`` as created now, for ``RNNCell.variables``' order; returns it."""
  if not hasattr(variable, "_tf_lstm_created"):   # get_variable may return an old one
    variable._tf_lstm_created = next(_CREATED)  # pylint: disable=protected-access
  return variable


def _in_creation_order(variables):
  return tuple(sorted(variables, key=lambda v: getattr(v, "_tf_lstm_created", -1)))


def graph_mode():
  """True inside a ``tf.compat.v1`` graph program (not eager, not ``tf.function``)."""
  return not tf.compat.v1.executing_eagerly_outside_functions()


class RNNCell(tf.Module):
  """Base class: ``state_size``, ``output_size``, ``zero_state`` and lazy build.

  Subclasses implement ``_create_variables(input_depth)`` (calling
  ``add_weight`` for each variable) and
  ``_step(inputs, state) -> (output, new_state)``.

  TF1's subclassing contract holds for every cell: ``cell(inputs, state)``
  builds once (``if not built: self.build(inputs.shape)``), then returns
  ``self.call(inputs, state)``, whose default is the cell's ``_step``.  A
  subclass may override ``build(self, inputs_shape)`` (it receives a
  ``TensorShape`` ``[batch, depth]``, runs once, in the cell's variable
  scope; ``super().build(inputs_shape)`` creates the cell's variables) and
  ``call(self, inputs, state)``, reading TF1's private names (``_kernel``,
  ``_bias`` ... see each cell).
  """

  # A wrapper forwards build to its cell: no scope, no variables of its own.
  _forwards_build = False
  # The scope= of the call that builds the cell (TF1's ``cell(x, s, scope=...)``).
  _build_scope = None

  def __init__(self, input_depth=None, name=None, reuse=None, dtype=None):
    """``reuse``, ``dtype``: TF1's layer arguments (see ``_build_in_scope``, ``add_weight``)."""
    # TF1 layers' default name: a subclass BinaryLSTMCell builds under binary_lstm_cell/.
    super().__init__(name=name or snake_case(type(self).__name__))
    self._reuse = reuse
    self._dtype = None if dtype is None else tf.as_dtype(dtype)
    self._input_depth = None
    self._scope_name = None
    self._variable_scope = None
    self._building = False
    if input_depth is not None:
      self.build(input_depth)

  def __init_subclass__(cls, **kwargs):
    super().__init_subclass__(**kwargs)
    if "build" in vars(cls) and not cls._forwards_build:
      cls.build = _build_once(vars(cls)["build"])

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
  def dtype(self):
    """The variables' dtype (TF1's layer ``dtype``); None: float32."""
    return self._dtype

  # tf.Module lists variables by attribute name; TF1 code reads them in creation
  # order (``kernel, bias = cell.variables``), as TF1 layers listed them.
  @property
  def variables(self):
    return _in_creation_order(super().variables)

  @property
  def trainable_variables(self):
    return _in_creation_order(super().trainable_variables)

  @property
  def non_trainable_variables(self):
    return _in_creation_order(super().non_trainable_variables)

  # TF1 layers' names for the same lists.
  weights = variables
  trainable_weights = trainable_variables
  non_trainable_weights = non_trainable_variables

  @property
  def input_depth(self):
    return self._input_depth

  @property
  def scope_name(self):
    """The full variable scope the cell was built in (``rnn/basic_lstm_cell``), or None."""
    return self._scope_name

  def build(self, inputs_shape):
    """Creates the variables for inputs ``[batch, depth]`` (once).

    ``inputs_shape`` is TF1's (a ``TensorShape``) or the input depth (an int).
    Names follow the enclosing ``tf.compat.v1.variable_scope`` (see the module
    docstring): an unroll builds its cell under its own scope.
    """
    depth = tf.compat.dimension_value(inputs_shape_of(self.name, inputs_shape)[-1])
    if self._building:   # super().build(...) from a subclass's build: in the scope already
      self._create_variables(depth)
    else:
      self._build_in_scope(depth, lambda: self._create_variables(depth))

  def _build_in_scope(self, depth, create):
    """Runs ``create()`` once, in the cell's variable scope, for inputs of ``depth``."""
    if self.built:
      self._check_depth(depth)
      return
    if self._build_scope is not None:   # TF1: the first call's scope= is the cell's scope
      scope = tf.compat.v1.variable_scope(self._build_scope)
    elif graph_mode() and self._reuse:
      # TF1 layers made with reuse=True (or AUTO_REUSE) share the variables already
      # under <scope>/<name>, so their scope is not uniquified.
      scope = tf.compat.v1.variable_scope(self.name, reuse=self._reuse)
    elif graph_mode():
      # TF1 layers capture a uniquified scope (default_name) on first call.
      scope = tf.compat.v1.variable_scope(None, default_name=self.name)
    else:
      scope = tf.compat.v1.variable_scope(self.name)
    with scope as vs:
      self._scope_name = vs.name
      self._variable_scope = vs
      self._building = True
      try:
        create()
      finally:
        self._building = False
    self._input_depth = depth

  def _check_depth(self, depth):
    if depth != self.input_depth:
      raise ValueError(
          f"{self.name}: built for input depth {self.input_depth}, "
          f"called with depth {depth}")

  def add_weight(self, name, shape, initializer=None, dtype=None, trainable=True):
    """Creates variable ``<scope_name>/<name>`` of ``shape``; call from ``_create_variables``.

    ``name`` is TF1's name relative to the cell's scope (``kernel``,
    ``gates/bias``); ``initializer(shape, dtype)`` returns the initial value.
    ``None`` is TF1's default: the enclosing ``variable_scope``'s initializer
    if it has one, else ``glorot_uniform``.  ``dtype`` defaults to the cell's
    (float32 unless the cell was made with ``dtype=``).
    """
    if self._scope_name is None:
      raise RuntimeError(f"{self.name}: add_weight is for _create_variables (inside build)")
    shape = [int(d) for d in shape]
    dtype = tf.as_dtype(dtype or self._dtype or tf.float32)
    if graph_mode():   # get_variable applies the scope's initializer to None itself
      init = None if initializer is None else (
          lambda s, dtype=dtype, **_: initializer(s, dtype))
      return created(tf.compat.v1.get_variable(name, shape, dtype, initializer=init,
                                               trainable=trainable))
    initializer = (initializer or tf.compat.v1.get_variable_scope().initializer
                   or glorot_uniform)
    scope, _, leaf = f"{self._scope_name}/{name}".rpartition("/")
    with tf.name_scope(scope + "/"):   # absolute: names do not depend on the caller's scope
      return created(tf.Variable(initializer(shape, dtype), name=leaf, trainable=trainable))

  def _create_variables(self, input_depth):
    raise NotImplementedError

  def _step(self, inputs, state):
    raise NotImplementedError

  def zero_state(self, batch_size, dtype=tf.float32):
    """Zeros shaped like ``state_size``: each leaf ``[batch_size, size]``."""
    return tf.nest.map_structure(
        lambda size: tf.zeros([batch_size, size], dtype=dtype), self.state_size)

  def get_initial_state(self, inputs=None, batch_size=None, dtype=None):
    """TF1's ``get_initial_state``: the zero state for ``inputs``' batch and dtype."""
    if inputs is not None:
      inputs = tf.convert_to_tensor(inputs)
      batch_size = tf.compat.dimension_value(inputs.shape[0])   # also a TF1 Dimension
      if batch_size is None:
        batch_size = tf.shape(inputs)[0]
      dtype = dtype or inputs.dtype
    if batch_size is None:
      raise ValueError(f"{self.name}: get_initial_state needs inputs or batch_size")
    return self.zero_state(batch_size, dtype or self._dtype or tf.float32)

  def __call__(self, inputs, state, scope=None):
    """One step: ``(output, new_state)``.

    ``scope`` (TF1's): on the call that builds the cell, the variable scope its
    variables go under instead of ``<enclosing scope>/<name>``; ignored once built.
    """
    inputs = tf.convert_to_tensor(inputs)
    if inputs.shape.rank != 2:
      raise ValueError(
          f"{self.name}: inputs must be [batch, depth], got shape {inputs.shape}")
    depth = tf.compat.dimension_value(inputs.shape[-1])   # an int, also under disable_v2_behavior
    if depth is None:
      raise ValueError(f"{self.name}: the input depth must be known statically")
    if not self.built:
      with self._scoped_build(scope):
        self.build(inputs.shape)
    else:
      self._check_depth(depth)
    return self._run_call(inputs, state)

  @contextlib.contextmanager
  def _scoped_build(self, scope):
    """Builds inside this block go under ``scope`` (None: the cell's own name)."""
    self._build_scope = scope
    try:
      yield
    finally:
      self._build_scope = None

  def _run_call(self, inputs, state):
    """Runs ``call`` (tf1_cell.RNNCell runs it in the cell's variable scope)."""
    return self.call(inputs, state)

  def call(self, inputs, state):
    """TF1's step hook: ``(output, new_state)``; by default the cell's own ``_step``."""
    return self._step(inputs, state)


def check_state_is_tuple(state_is_tuple, cls_name):
  """TF1's ``state_is_tuple``: only True (its default since TF 1.0) is supported."""
  if not state_is_tuple:
    raise ValueError(f"{cls_name}: state_is_tuple=False (the state as one concatenated "
                     "[batch, c + h] tensor, deprecated in TF1) is not supported; use "
                     "state_is_tuple=True and pass the state tuple around")


def initializer_fn(initializer):
  """A TF1 or TF2 initializer object as ``add_weight``'s ``init(shape, dtype)`` (None kept)."""
  if initializer is None:
    return None
  return lambda shape, dtype: initializer(shape, dtype=dtype)


def snake_case(name):
  """TF1 layers' default name: ``BasicLSTMCell`` -> ``basic_lstm_cell``."""
  name = re.sub(r"(.)([A-Z][a-z0-9]+)", r"\1_\2", name)
  return re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", name).lower()


def inputs_shape_of(name, inputs_shape):
  """TF1's ``inputs_shape`` ``[batch, depth]`` (depth a positive int) from a shape or a depth."""
  if isinstance(inputs_shape, (tf.TensorShape, list, tuple)):
    shape = tf.TensorShape(inputs_shape)
  else:
    shape = tf.TensorShape([None, int(inputs_shape)])
  depth = None if shape.rank != 2 else tf.compat.dimension_value(shape[-1])
  if depth is None:
    raise ValueError(f"{name}: build needs [batch, depth] with a known depth (or the depth), "
                     f"got {shape}")
  if depth <= 0:
    raise ValueError(f"{name}: input depth must be positive, got {depth}")
  return tf.TensorShape([tf.compat.dimension_value(shape[0]), depth])


def _build_once(build):
  """Wraps a subclass's ``build(inputs_shape)``: TF1's ``Layer.__call__`` rule.

  The outermost call runs ``build`` once, in the cell's variable scope, with a
  ``TensorShape`` (unrolls and ``MultiRNNCell`` pass an int depth), and marks
  the cell built; later calls only check the depth.  Calls from inside a
  build (``super().build(inputs_shape)``) are plain calls.
  """

  @functools.wraps(build)
  def build_once(self, inputs_shape):
    shape = inputs_shape_of(self.name, inputs_shape)
    if self._building:
      return build(self, shape)
    depth = tf.compat.dimension_value(shape[-1])
    return self._build_in_scope(depth, lambda: build(self, shape))

  return build_once


def tf1_alias(attribute):
  """A read-only property: TF1's private name (``_kernel``) for ``attribute`` (``kernel``).

  For subclasses' ``build`` / ``call``, which read TF1's names; the variable
  stays tracked (and checkpointed) under ``attribute`` only.
  """
  return property(lambda self: getattr(self, attribute),
                  doc=f"TF1's name for ``{attribute}``.")


def glorot_uniform(shape, dtype=tf.float32):
  """TF1's default ``glorot_uniform_initializer`` for a 2-D kernel.

  U(-l, l) with l = sqrt(6 / (fan_in + fan_out)); seeded by the global seed.
  """
  limit = (6.0 / (shape[0] + shape[-1])) ** 0.5
  return tf.random.uniform(shape, -limit, limit, dtype=dtype)


def zeros(shape, dtype=tf.float32):
  return tf.zeros(shape, dtype)


def ones(shape, dtype=tf.float32):
  return tf.ones(shape, dtype)
