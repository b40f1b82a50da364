"""Cells by name: each cell class declares its name and options once.

A cell class registers itself with one line::

    @registry.register("lstm", options=(FORGET_BIAS,))
    class BasicLSTMCell(base.RNNCell): ...

and everything that picks a cell by name (a model factory, command-line
choices, a checkpoint importer) reads ``registry.get(name)``.  A cell's TF1
variable names are not restated here: they are the names of the variables the
cell creates (``<cell.name>/<TF1 name>``, e.g. ``lstm_cell/projection/kernel``).

This module is plain Python (no TensorFlow): listing cells and checking options
costs nothing.
"""

import dataclasses


@dataclasses.dataclass(frozen=True)
class Option:
  """One setting: its name, default, help text and the values it accepts.

  ``type`` defaults to the default's type; ``choices`` lists the accepted
  values; ``lower``/``upper`` are inclusive bounds and ``positive`` requires
  ``> 0``.  ``arg`` is the constructor keyword when it differs from ``name``.
  ``off``: the default means "not used" (e.g. ``num_proj=0``), so the
  constructor is not passed the option at all.
  """
  name: str
  default: object
  help: str
  type: type = None
  choices: tuple = None
  lower: float = None
  upper: float = None
  positive: bool = False
  arg: str = None
  off: bool = False

  def __post_init__(self):
    if self.type is None:
      object.__setattr__(self, "type", type(self.default))
    if self.choices is not None:
      object.__setattr__(self, "choices", tuple(self.choices))

  def problem(self, value):
    """Why ``value`` is not accepted (a sentence), or None."""
    if self.type is float and isinstance(value, int) and not isinstance(value, bool):
      value = float(value)
    if not isinstance(value, self.type) or (self.type is int and isinstance(value, bool)):
      return f"{self.name} must be a {self.type.__name__}, got {value!r}"
    if self.choices is not None and value not in self.choices:
      return f"{self.name} must be one of {', '.join(map(str, self.choices))}, got {value!r}"
    if self.lower is not None and value < self.lower:
      return f"{self.name} must be >= {self.lower}, got {value!r}"
    if self.upper is not None and value > self.upper:
      return f"{self.name} must be <= {self.upper}, got {value!r}"
    if self.positive and not value > 0:
      return f"{self.name} must be > 0, got {value!r}"
    return None

  def check(self, value):
    """``value`` if accepted, else ``ValueError`` naming the option and the rule."""
    problem = self.problem(value)
    if problem:
      raise ValueError(problem)
    return value


@dataclasses.dataclass(frozen=True)
class CellSpec:
  """A registered cell: ``name``, its ``cls``, ``options`` (``Option``s).

  ``whole_stack``: one instance holds every layer (built from a list of
  per-layer units, its variables named ``<scope>/cell_K/...``), never wrapped
  in a ``MultiRNNCell``.
  """
  name: str
  cls: type
  options: tuple
  whole_stack: bool

  def option(self, name):
    return next((o for o in self.options if o.name == name), None)

  def kwargs(self, values):
    """Constructor keywords for ``{option name: value}`` (checked; "off" values left out)."""
    out = {}
    for name, value in values.items():
      opt = self.option(name)
      if opt is None:
        raise ValueError(f"cell {self.name!r} takes no option {name!r} "
                         f"(its options: {', '.join(o.name for o in self.options) or 'none'})")
      opt.check(value)
      if not (opt.off and value == opt.default):
        out[opt.arg or opt.name] = value
    return out

  def make(self, num_units, num_layers=1, **options):
    """One cell of ``num_units`` (whole-stack cells: ``num_layers`` layers of them)."""
    kwargs = self.kwargs(options)
    if self.whole_stack:
      return self.cls([num_units] * num_layers, **kwargs)
    return self.cls(num_units, **kwargs)


_CELLS = {}


def register(name, options=(), whole_stack=False):
  """Class decorator: registers the cell class under ``name``."""
  def decorate(cls):
    if name in _CELLS and _CELLS[name].cls is not cls:
      raise ValueError(f"cell name {name!r} is already taken by {_CELLS[name].cls.__name__}")
    _check_consistent(name, options)
    _CELLS[name] = CellSpec(name, cls, tuple(options), whole_stack)
    return cls
  return decorate


def unregister(name):
  """Removes a registration (tests that register a toy cell)."""
  _CELLS.pop(name, None)


def _check_consistent(name, options):
  """Two cells may share an option name only with the same default and type."""
  for spec in _CELLS.values():
    for o in options:
      other = spec.option(o.name)
      if other is not None and (other.default, other.type) != (o.default, o.type):
        raise ValueError(f"cell {name!r}: option {o.name!r} differs from cell "
                         f"{spec.name!r}'s ({o.default!r} vs {other.default!r})")


def get(name):
  """The ``CellSpec`` registered as ``name``; ``ValueError`` listing the names if none."""
  if name not in _CELLS:
    raise ValueError(f"unknown cell {name!r}; expected one of {', '.join(names())}")
  return _CELLS[name]


def names():
  return sorted(_CELLS)


def specs():
  return [_CELLS[n] for n in names()]


def spec_of(cls):
  """The ``CellSpec`` of a cell class (exact class), or None."""
  return next((s for s in _CELLS.values() if s.cls is cls), None)


def all_options():
  """Every cell option once, by name, with the cell names that take it."""
  out = {}
  for spec in specs():
    for o in spec.options:
      out.setdefault(o.name, (o, []))[1].append(spec.name)
  return {name: (o, tuple(takers)) for name, (o, takers) in out.items()}


# Shared by the LSTM-family cells that take it (declared once here).
FORGET_BIAS = Option("forget_bias", 1.0, "Added to the LSTM forget gate's pre-activation "
                     "(TF1 forget_bias; not stored in checkpoints).")
