"""Builds a (possibly stacked) cell by its registered name (``tf_lstm.cells.registry``)."""

from tf_lstm import cells
from tf_lstm.cells import registry


def cell_names():
  """Every registered cell name (the choices of a ``cell`` setting)."""
  return registry.names()


def cell_option_settings():
  """``{name: (Option, cell names that take it)}`` over every registered cell."""
  return registry.all_options()


def cell_options(model_config):
  """The options of ``model_config.cell`` but ``forget_bias``, as a dict."""
  spec = registry.get(model_config.cell)
  return {o.name: getattr(model_config, o.name) for o in spec.options
          if o.name != "forget_bias"}


def cell_from_config(model_config, num_layers=None):
  """``make_cell`` with a ``ModelConfig``'s cell, sizes and options (``num_layers``
  overrides the config's, e.g. 1 for a model that stacks the layers itself)."""
  return make_cell(model_config.cell, model_config.num_units,
                   model_config.num_layers if num_layers is None else num_layers,
                   model_config.forget_bias, **cell_options(model_config))


def check_cell_options(cell, options):
  """``ValueError`` if an option of another cell is given a non-default value for ``cell``."""
  spec = registry.get(cell)
  known = registry.all_options()
  for name, value in options.items():
    if spec.option(name) is not None:
      continue
    if name not in known:
      raise ValueError(f"unknown cell option {name!r}; expected one of {sorted(known)}")
    option, takers = known[name]
    if value is not None and value != option.default:
      raise ValueError(f"cell option {name}={value!r} applies to cell "
                       f"{'/'.join(takers)} only, not {cell}")


def make_cell(cell, num_units, num_layers=1, forget_bias=1.0, **options):
  """``make_cell("lstm", 128, 2)``: a ``MultiRNNCell`` of 2 ``BasicLSTMCell``s.

  One layer gives the bare cell (TF1 scripts did not wrap a single cell); a
  whole-stack cell (``gflstm``) is always one cell of ``num_layers`` layers.
  ``options`` are the registered cell options (e.g. ``num_proj=64`` for
  ``lstm_full``); an option of another cell is an error unless it has its
  default value.  ``forget_bias`` goes to the cells that take it (the others
  have no forget gate and ignore it).
  """
  spec = registry.get(cell)
  if num_layers < 1:
    raise ValueError(f"num_layers must be >= 1, got {num_layers}")
  check_cell_options(cell, options)
  own = {k: v for k, v in options.items() if spec.option(k) is not None}
  if spec.option("forget_bias") is not None:
    own["forget_bias"] = forget_bias
  if spec.whole_stack:
    return spec.make(num_units, num_layers, **own)
  layers = [spec.make(num_units, **own) for _ in range(num_layers)]
  return layers[0] if num_layers == 1 else cells.MultiRNNCell(layers)
