"""TF1's cell wrappers: ``DropoutWrapper``, ``ResidualWrapper``, ``DeviceWrapper``.

A wrapper is a cell around ``cell`` with the same state and, like TF1's, no
variables or scope of its own: ``DropoutWrapper(BasicLSTMCell(n))`` under
``static_rnn`` names its kernel ``rnn/basic_lstm_cell/kernel``, as TF1 does.
"""

import hashlib
import itertools

import tensorflow as tf

from tf_lstm.cells import base
from tf_lstm.cells.basic_lstm import LSTMStateTuple
from tf_lstm.cells.keep_prob import KEEP_VARIABLES, KeepProb


class _Wrapper(base.RNNCell):
  """Forwards ``state_size``, ``output_size``, building and ``zero_state`` to ``cell``."""

  _forwards_build = True

  def __init__(self, cell, name=None):
    if not (callable(cell) and hasattr(cell, "state_size") and hasattr(cell, "output_size")):
      raise TypeError(f"{type(self).__name__}: cell must be an RNNCell (callable, with "
                      f"state_size and output_size), got {cell!r}")
    self.cell = cell
    super().__init__(name=name)

  @property
  def wrapped_cell(self):
    return self.cell

  @property
  def state_size(self):
    return self.cell.state_size

  @property
  def output_size(self):
    return self.cell.output_size

  @property
  def built(self):
    return self.cell.built

  @property
  def input_depth(self):
    return self.cell.input_depth

  @property
  def scope_name(self):
    return self.cell.scope_name

  def build(self, input_depth):
    self.cell.build(input_depth)

  def _scoped_build(self, scope):
    return self.cell._scoped_build(scope)  # pylint: disable=protected-access

  def zero_state(self, batch_size, dtype=tf.float32):
    return self.cell.zero_state(batch_size, dtype)


class ResidualWrapper(_Wrapper):
  """Port of ``tf.compat.v1.nn.rnn_cell.ResidualWrapper``: ``output = x + cell(x)``.

  ``residual_fn(inputs, outputs)`` replaces the sum; the default needs the
  cell's output shaped like its input (``output_size == input depth``).
  """

  def __init__(self, cell, residual_fn=None, name="residual_wrapper"):
    super().__init__(cell, name=name)
    self._residual_fn = residual_fn

  def _step(self, inputs, state):
    outputs, new_state = self.cell(inputs, state)
    if self._residual_fn is not None:
      return self._residual_fn(inputs, outputs), new_state
    tf.nest.assert_same_structure(inputs, outputs)

    def add(x, y):
      if not x.shape.is_compatible_with(y.shape):
        raise ValueError(f"{self.name}: the residual needs outputs shaped like the inputs; "
                         f"inputs {x.shape}, outputs {y.shape}")
      return x + y

    return tf.nest.map_structure(add, inputs, outputs), new_state


class DeviceWrapper(_Wrapper):
  """Port of ``tf.compat.v1.nn.rnn_cell.DeviceWrapper``: the cell runs on ``device``.

  Its variables, zero state and step are placed with ``tf.compat.v1.device``
  (a device string, or in graph mode a device function).
  """

  def __init__(self, cell, device, name="device_wrapper"):
    super().__init__(cell, name=name)
    self._device = device

  def build(self, input_depth):
    with tf.compat.v1.device(self._device):
      self.cell.build(input_depth)

  def zero_state(self, batch_size, dtype=tf.float32):
    with tf.compat.v1.device(self._device):
      return self.cell.zero_state(batch_size, dtype)

  def _step(self, inputs, state):
    with tf.compat.v1.device(self._device):
      return self.cell(inputs, state)


def default_dropout_state_filter_visitor(substate):
  """TF1's default: drop out every state tensor except an LSTM's memory ``c``."""
  if isinstance(substate, LSTMStateTuple):
    return LSTMStateTuple(c=False, h=True)
  return not isinstance(substate, tf.TensorArray)


class DropoutWrapper(_Wrapper):
  """Port of ``tf.compat.v1.nn.rnn_cell.DropoutWrapper``.

  Dropout on the cell's inputs, its outputs and its new state (each tensor
  kept with probability ``p`` and scaled by ``1 / p``)::

      x' = dropout(x, input_keep_prob)
      y, s' = cell(x', s)
      return dropout(y, output_keep_prob), dropout(s', state_keep_prob)

  State dropout touches only the parts ``dropout_state_filter_visitor`` picks
  (by default every state tensor except an ``LSTMStateTuple``'s ``c``).

  Training and evaluation: dropout runs whenever a keep probability is below
  1, nothing else switches it (the cell's call has no ``training``
  argument, as in TF1). A program turns it off for evaluation through the
  keep probability itself, as TF1 programs did: a placeholder fed 1.0 (graph
  mode), a ``tf.Variable`` assigned 1.0 (read at every call, also inside a
  ``tf.function``), or a scalar tensor argument of the ``tf.function``. A
  Python float is fixed; 1.0 adds no op at all. A keep probability of 1 as a
  tensor leaves values unchanged exactly.

  ``variational_recurrent=True`` (Gal & Ghahramani 2016, TF1's semantics):
  one mask per input/state/output tensor, of shape ``[1, size]`` (shared by
  every batch row, as TF1's is), the same at every time step of a run; it
  needs ``dtype``, and ``input_size`` (the input depth, or a structure of
  them) when inputs are dropped. Applied as ``v / p * floor(p + u)`` with
  ``u ~ U[0, 1)``. A run is one ``session.run`` in a ``tf.compat.v1`` graph
  program (the masks are drawn at construction there, as in TF1), one call of
  the enclosing ``tf.function`` (masks drawn in its outermost graph, so a
  ``tf.while_loop`` reuses them), and eagerly the steps between two
  ``zero_state`` calls (or ``reset_dropout_masks()``).

  ``seed`` derives one op seed per tensor exactly as TF1 does, so in graph
  mode with the same graph seed the masks are TF1's; like TF1's, a seeded
  non-variational wrapper then draws the same mask at every step of a graph.
  """

  _TF_MODULE_IGNORED_PROPERTIES = _Wrapper._TF_MODULE_IGNORED_PROPERTIES | {KEEP_VARIABLES}

  def __init__(self, cell, input_keep_prob=1.0, output_keep_prob=1.0, state_keep_prob=1.0,
               variational_recurrent=False, input_size=None, dtype=None, seed=None,
               dropout_state_filter_visitor=None, name="dropout_wrapper"):
    super().__init__(cell, name=name)
    if dropout_state_filter_visitor is not None and not callable(dropout_state_filter_visitor):
      raise TypeError("dropout_state_filter_visitor must be callable, got "
                      f"{dropout_state_filter_visitor!r}")
    self._state_filter = dropout_state_filter_visitor or default_dropout_state_filter_visitor
    self._input_keep_prob = KeepProb("input_keep_prob", input_keep_prob)
    self._output_keep_prob = KeepProb("output_keep_prob", output_keep_prob)
    self._state_keep_prob = KeepProb("state_keep_prob", state_keep_prob)
    setattr(self, KEEP_VARIABLES, KeepProb.keep_variables(
        self._input_keep_prob, self._output_keep_prob, self._state_keep_prob))
    self._variational = bool(variational_recurrent)
    self._input_size = input_size
    self._dtype = None if dtype is None else tf.as_dtype(dtype)
    self._seed = seed
    self._noise = None          # (input, state, output) masks' uniform noise
    self._noise_graph = None    # the graph they belong to (None: eager)
    if self._variational:
      if self._dtype is None:
        raise ValueError("DropoutWrapper: variational_recurrent=True needs dtype")
      if self._input_keep_prob.applies and input_size is None:
        raise ValueError("DropoutWrapper: variational_recurrent=True with input dropout "
                         "needs input_size (the input depth)")
      if base.graph_mode():   # TF1 draws them here; each session.run redraws
        self._noise_graph = tf.compat.v1.get_default_graph()
        self._noise = self._draw_noise()

  def reset_dropout_masks(self):
    """Eagerly: the next step draws new variational masks (a new sequence).

    In a graph (``tf.function`` or ``tf.compat.v1``) masks already change with
    every run and stay for all of it, so this does nothing there.
    """
    if tf.executing_eagerly():
      self._noise = None

  def zero_state(self, batch_size, dtype=tf.float32):
    self.reset_dropout_masks()
    return super().zero_state(batch_size, dtype)

  def _op_seed(self, salt_prefix, index):
    """TF1's per-tensor op seed: md5 of ``str(seed) + salt``, 31 bits."""
    if self._seed is None:
      return None
    digest = hashlib.md5(f"{self._seed}{salt_prefix}_{index}".encode("utf-8")).hexdigest()
    return int(digest[:8], 16) & 0x7FFFFFFF

  def _draw_noise(self):
    def noise(prefix, sizes):   # ints or TensorShapes are leaves, as in TF1
      return [tf.random.uniform([1] + tf.TensorShape(size).as_list(),
                                seed=self._op_seed(prefix, i), dtype=self._dtype)
              for i, size in enumerate(tf.nest.flatten(sizes))]

    inputs = noise("input", self._input_size) if self._input_keep_prob.applies else None
    return inputs, noise("state", self.cell.state_size), noise("output", self.cell.output_size)

  def _current_noise(self):
    """The run's variational noise, drawn once per run (see the class docstring)."""
    graph = _run_graph()
    if self._noise is None or graph is not self._noise_graph:
      if graph is None:
        self._noise = self._draw_noise()
      else:
        with graph.as_default(), tf.control_dependencies(None):
          self._noise = self._draw_noise()
      self._noise_graph = graph
    return self._noise

  def _dropout(self, values, prefix, keep_prob, decisions, noise):
    """Drops out the leaves of ``values`` whose decision is True.

    ``decisions`` mirrors ``values`` down to bools; a False above the leaves
    keeps that whole part and, as in TF1, counts once in the seed numbering.
    """
    counter = itertools.count()
    noise = iter(noise) if noise is not None else None

    def visit(decision, value):
      if isinstance(decision, bool):
        index = next(counter)
        if not decision:
          if noise is not None:   # skip the masks of the parts left alone
            for _ in tf.nest.flatten(value):
              next(noise)
          return value
        if noise is not None:
          keep = tf.floor(keep_prob + next(noise))
          return tf.divide(value, keep_prob) * keep
        return tf.nn.dropout(value, rate=1.0 - keep_prob, seed=self._op_seed(prefix, index))
      children = [visit(d, v) for d, v in zip(_children(decision), _children(value))]
      return _rebuild(value, children)

    return visit(decisions, values)

  def _step(self, inputs, state):
    noise = self._current_noise() if self._variational else (None, None, None)
    if self._input_keep_prob.applies:
      inputs = self._dropout(inputs, "input", self._input_keep_prob.value,
                             _all_true(inputs), noise[0])
    output, new_state = self.cell(inputs, state)
    if self._state_keep_prob.applies:
      new_state = self._dropout(new_state, "state", self._state_keep_prob.value,
                                _decisions(self._state_filter, new_state), noise[1])
    if self._output_keep_prob.applies:
      output = self._dropout(output, "output", self._output_keep_prob.value,
                             _all_true(output), noise[2])
    return output, new_state


def _run_graph():
  """The graph one execution of which is one run; None when eager.

  Inside ``tf.function`` its outermost function graph (a ``tf.while_loop``
  body is a function graph inside it); in a ``tf.compat.v1`` graph program
  the program's graph.
  """
  if tf.executing_eagerly():
    return None
  graph = tf.compat.v1.get_default_graph()
  while hasattr(graph, "outer_graph") and graph.outer_graph is not None:
    outer = graph.outer_graph
    if not hasattr(outer, "outer_graph") and not base.graph_mode():
      break   # the outer graph is the eager context's: this function graph is the run
    graph = outer
  return graph


def _children(structure):
  if isinstance(structure, dict):
    return [structure[k] for k in sorted(structure)]
  return list(structure)


def _rebuild(like, children):
  if isinstance(like, dict):
    return type(like)(zip(sorted(like), children))
  if hasattr(like, "_fields"):   # a namedtuple (LSTMStateTuple)
    return type(like)(*children)
  return type(like)(children)


def _is_leaf(value):
  return not tf.nest.is_nested(value)


def _all_true(values):
  return tf.nest.map_structure(lambda _: True, values)


def _decisions(visitor, value):
  """TF1's traverse-shallow-structure: ``visitor`` says, level by level, what to drop.

  It returns a bool (True: look inside / drop this leaf; False: leave this
  whole part) or, for a nested value, one bool per child.
  """
  decision = visitor(value)
  if isinstance(decision, bool) and (not decision or _is_leaf(value)):
    return decision
  if isinstance(decision, bool):
    return _rebuild(value, [_decisions(visitor, v) for v in _children(value)])
  flags = _children(decision)
  values = _children(value)
  if len(flags) != len(values) or not all(isinstance(f, bool) for f in flags):
    raise ValueError("dropout_state_filter_visitor must return a bool or one bool per "
                     f"child of {value!r}, got {decision!r}")
  return _rebuild(value, [_decisions(visitor, v) if f else False
                          for f, v in zip(flags, values)])
