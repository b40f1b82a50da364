"""Builds a (possibly stacked) cell from flag-style values."""

from tf_lstm import cells

CELLS = {
    "lstm": lambda n, forget_bias: cells.BasicLSTMCell(n, forget_bias=forget_bias),
    "rnn": lambda n, forget_bias: cells.BasicRNNCell(n),
    "gru": lambda n, forget_bias: cells.GRUCell(n),
    "lstm_full": lambda n, forget_bias, **o: cells.LSTMCell(n, forget_bias=forget_bias, **o),
    "binary_lstm": lambda n, forget_bias, **o: cells.BinaryLSTMCell(
        n, forget_bias=forget_bias, **o),
    # One GFLSTMCell holds the whole stack (its layers read each other's state).
    "gflstm": lambda n, forget_bias, num_layers=1: cells.GFLSTMCell(
        [n] * num_layers, forget_bias=forget_bias),
}
WHOLE_STACK_CELLS = ("gflstm",)

# Cell options: name -> (the cells that take it, its "off" value).
OPTIONS = {
    "use_peepholes": (("lstm_full",), False),
    "cell_clip": (("lstm_full",), 0.0),
    "num_proj": (("lstm_full",), 0),
    "proj_clip": (("lstm_full",), 0.0),
    "binary_scale": (("binary_lstm",), "glorot"),
}


def cell_options(model_config):
  """The ``OPTIONS`` fields of a ``ModelConfig`` as a dict."""
  return {name: getattr(model_config, name) for name in OPTIONS}


def _cell_kwargs(cell, options):
  kwargs = {}
  for name, value in options.items():
    if name not in OPTIONS:
      raise ValueError(f"unknown cell option {name!r}; expected one of {sorted(OPTIONS)}")
    takers, off = OPTIONS[name]
    if value == off or value is None:
      continue
    if cell not in takers:
      raise ValueError(f"--{name}={value} applies to --cell={'/'.join(takers)} only, "
                       f"not --cell={cell}")
    kwargs["scale" if name == "binary_scale" else name] = value
  return kwargs


def make_cell(cell, num_units, num_layers=1, forget_bias=1.0, **options):
  """``make_cell("lstm", 128, 2)``: a ``MultiRNNCell`` of 2 ``BasicLSTMCell``s.

  One layer gives the bare cell (TF1 scripts did not wrap a single cell);
  ``gflstm`` is always one ``GFLSTMCell`` of ``num_layers`` layers.
  ``options`` are ``OPTIONS`` entries (e.g. ``num_proj=64`` for ``lstm_full``);
  an option at its "off" value is ignored, any other value for a cell that
  does not take it is an error.
  """
  if cell not in CELLS:
    raise ValueError(f"unknown cell {cell!r}; expected one of {sorted(CELLS)}")
  if num_layers < 1:
    raise ValueError(f"num_layers must be >= 1, got {num_layers}")
  kwargs = _cell_kwargs(cell, options)
  if cell in WHOLE_STACK_CELLS:
    return CELLS[cell](num_units, forget_bias, num_layers=num_layers, **kwargs)
  layers = [CELLS[cell](num_units, forget_bias, **kwargs) for _ in range(num_layers)]
  return layers[0] if num_layers == 1 else cells.MultiRNNCell(layers)
