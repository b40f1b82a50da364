"""Builds a (possibly stacked) cell from flag-style values."""

from tf_lstm import cells

CELLS = {
    "lstm": lambda n, forget_bias: cells.BasicLSTMCell(n, forget_bias=forget_bias),
    "rnn": lambda n, forget_bias: cells.BasicRNNCell(n),
    "gru": lambda n, forget_bias: cells.GRUCell(n),
}


def make_cell(cell, num_units, num_layers=1, forget_bias=1.0):
  """``make_cell("lstm", 128, 2)``: a ``MultiRNNCell`` of 2 ``BasicLSTMCell``s.

  One layer gives the bare cell (TF1 scripts did not wrap a single cell).
  """
  if cell not in CELLS:
    raise ValueError(f"unknown cell {cell!r}; expected one of {sorted(CELLS)}")
  if num_layers < 1:
    raise ValueError(f"num_layers must be >= 1, got {num_layers}")
  layers = [CELLS[cell](num_units, forget_bias) for _ in range(num_layers)]
  return layers[0] if num_layers == 1 else cells.MultiRNNCell(layers)
