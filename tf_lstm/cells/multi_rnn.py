"""TF1 ``MultiRNNCell``: a stack of cells, each feeding the next."""

import contextlib
import warnings

import tensorflow as tf

from tf_lstm.cells import base


class MultiRNNCell(base.RNNCell):
  """Port of ``tf.compat.v1.nn.rnn_cell.MultiRNNCell`` (tuple state).

  The state is a tuple with one entry per layer; layer ``k``'s output is
  layer ``k + 1``'s input and the last layer's output is the cell output.
  Layer ``k``'s variables are ``multi_rnn_cell/cell_<k>/<its scope>/...``
  (a layer built before the stack keeps the names it was built with).  One cell
  object given for several layers (``[cell] * k``) is built at its first layer
  and shares its weights with the others, as TF 1.2-1.15 did (with a warning).
  """

  def __init__(self, cells, state_is_tuple=True, *, input_depth=None, name=None):
    base.check_state_is_tuple(state_is_tuple, "MultiRNNCell")
    cells = list(cells)
    if not cells:
      raise ValueError("MultiRNNCell needs at least one cell")
    if len({id(c) for c in cells}) != len(cells):
      warnings.warn("MultiRNNCell: the same cell object is given for two layers ([cell] * k?): "
                    "they share one set of weights, as in TF 1.2-1.15 (a checkpoint holds "
                    "cell_0/ only); for separate weights (TF 1.0's [cell] * k) create one "
                    "cell per layer, e.g. [BasicLSTMCell(n) for _ in range(k)]", stacklevel=2)
    self.cells = cells
    self._called = False
    super().__init__(input_depth=input_depth, name=name)

  @property
  def state_size(self):
    return tuple(c.state_size for c in self.cells)

  @property
  def output_size(self):
    return self.cells[-1].output_size

  def _create_variables(self, input_depth):
    depth = input_depth
    for k, cell in enumerate(self.cells):
      first = next(j for j, c in enumerate(self.cells) if c is cell)
      if first < k and cell.input_depth != depth:
        raise ValueError(f"{self.name}: layers {first} and {k} are the same cell object "
                         f"(shared weights), built for input depth {cell.input_depth} but "
                         f"layer {k} gets depth {depth}; create one cell per layer")
      with tf.compat.v1.variable_scope(f"cell_{k}"):   # TF1: layer k under cell_<k>/
        cell.build(depth)   # a repeated cell: built at its first layer, shared after
      depth = cell.output_size

  def _step(self, inputs, state):
    if len(state) != len(self.cells):
      raise ValueError(f"{self.name}: expected a state tuple of {len(self.cells)} "
                       f"entries, got {len(state)}")
    new_states = []
    out = inputs
    for k, (cell, s) in enumerate(zip(self.cells, state)):
      with self._layer_scope(k):
        out, s = cell(out, s)
      new_states.append(s)
    self._called = True
    return out, tuple(new_states)

  def _layer_scope(self, k):
    """Graph mode: layer ``k`` runs in ``<this cell's scope>/cell_<k>``, as in TF1.

    A TF 1.0 user cell that overrides ``__call__`` makes its variables there
    (``get_variable`` under ``variable_scope(scope or "MyCell")``); the first
    call creates them, later calls reuse them (TF1 layers' rule).  tf_lstm's
    cells are built in ``_create_variables`` and make none here.
    """
    if not base.graph_mode() or self._variable_scope is None:
      return contextlib.nullcontext()
    stack = contextlib.ExitStack()
    stack.enter_context(tf.compat.v1.variable_scope(
        self._variable_scope, reuse=True if self._called else None,
        auxiliary_name_scope=False))
    stack.enter_context(tf.compat.v1.variable_scope(f"cell_{k}"))
    return stack
