"""The registered cells' TF1 variables as signatures that a checkpoint is matched against.

A cell's signature is read from the cell itself, never restated: each
registered cell (``tf_lstm.cells.registry``), with each combination of its
options that change its variables (``off`` options of type bool or int:
``use_peepholes``, ``num_proj``), is built once at small sizes.  Its variable
names under its scope (``basic_lstm_cell/`` -> ``kernel``, ``bias``) are the
signature's names; its shapes are affine in the unknown sizes
``x = (num_units, input_depth, <int option>...)``::

    shape[name][i] = base[name][i] + coef[name][i] . (x - x0)

(probed at ``x0`` and at ``x0`` plus one in each unknown), so a checkpoint's
shapes give ``x`` back by solving that linear system exactly.

    sig = signatures_for("basic_lstm_cell", {"kernel", "bias"})[0]
    sig.solve({"kernel": [156, 512], "bias": [512]})   # {"num_units": 128, "input_depth": 28}
"""

import dataclasses
import functools
import itertools
import re

import numpy as np

from tf_lstm.cells import registry

_X0 = {"num_units": 5, "input_depth": 7}
_INT_OPTION_PROBE = 3      # an int option's value at x0 (num_proj=3)
_LAYER = re.compile(r"^cell_(\d+)/")   # a whole-stack cell's layer K


@dataclasses.dataclass(frozen=True)
class Signature:
  """One registered cell with some shape-changing options on.

  ``scope``: the cell's TF1 scope name; ``names``: its variables' names under
  it; ``options``: ``(option, True)`` pairs of the bool options on; int options
  are unknowns (``unknowns`` lists every unknown size, units and depth first);
  ``layers``: a whole-stack cell's layer count (1 otherwise).
  """
  spec: object
  scope: str
  names: frozenset
  options: tuple
  unknowns: tuple
  layers: int
  base: tuple        # ((name, shape at x0), ...)
  coef: tuple        # ((name, [rank, len(unknowns)] coefficients), ...)

  def solve(self, shapes):
    """``{unknown: int}`` for ``{name: shape}`` (exactly these names), or None if no
    positive integer sizes give exactly these shapes."""
    if set(shapes) != self.names:
      return None
    base, coef = dict(self.base), dict(self.coef)
    x0 = np.array([self._x0(u) for u in self.unknowns], float)
    rows, rhs = [], []
    for name in sorted(self.names):
      if len(shapes[name]) != len(base[name]):
        return None
      for i, dim in enumerate(shapes[name]):
        rows.append(coef[name][i])
        rhs.append(dim - base[name][i] + np.dot(coef[name][i], x0))
    a, b = np.array(rows, float), np.array(rhs, float)
    if np.linalg.matrix_rank(a) < len(self.unknowns):
      return None
    x = np.rint(np.linalg.lstsq(a, b, rcond=None)[0]).astype(int)
    if not np.array_equal(a @ x, b) or np.any(x < 1):
      return None
    return dict(zip(self.unknowns, (int(v) for v in x)))

  @staticmethod
  def _x0(unknown):
    return _X0.get(unknown, _INT_OPTION_PROBE)

  def option_values(self, sizes):
    """The cell options this signature stands for, with ``sizes`` (``solve``'s)."""
    out = dict(self.options)
    out.update({u: v for u, v in sizes.items() if u not in _X0})
    return out


def _variants(spec):
  """Option dicts to probe: every subset of the shape-changing options (fewest first)."""
  changing = [o for o in spec.options if o.off and o.type in (bool, int)]
  for k in range(len(changing) + 1):
    for subset in itertools.combinations(changing, k):
      yield subset


def _probe(spec, layers, options, sizes):
  """``(scope, {name under the scope: shape})`` of the cell built at ``sizes``."""
  kwargs = {o.name: (True if o.type is bool else sizes[o.name]) for o in options}
  cell = spec.make(sizes["num_units"], layers, **kwargs)
  cell.build(sizes["input_depth"])
  out = {}
  for v in cell.trainable_variables:
    name = v.name.split(":")[0]
    out[name[len(cell.name) + 1:]] = [int(d) for d in v.shape]
  return cell.name, out


@functools.lru_cache(maxsize=None)
def _signatures(layers):
  """Every registered cell's signatures (whole-stack cells with ``layers`` layers)."""
  out, seen = [], set()
  for spec in registry.specs():
    if layers > 1 and not spec.whole_stack:
      continue
    for options in _variants(spec):
      unknowns = ("num_units", "input_depth") + tuple(o.name for o in options if o.type is int)
      x0 = {u: Signature._x0(u) for u in unknowns}
      scope, base = _probe(spec, layers, options, x0)
      key = (spec.name, scope, frozenset(base))
      if key in seen:   # an option that does not change the variables
        continue
      seen.add(key)
      coef = {n: np.zeros([len(s), len(unknowns)]) for n, s in base.items()}
      for j, u in enumerate(unknowns):
        _, moved = _probe(spec, layers, options, dict(x0, **{u: x0[u] + 1}))
        for n, s in moved.items():
          coef[n][:, j] = np.array(s) - np.array(base[n])
      out.append(Signature(
          spec, scope, frozenset(base),
          tuple((o.name, True) for o in options if o.type is bool), unknowns, layers,
          tuple(sorted(base.items())), tuple(sorted(coef.items()))))
  return tuple(out)


def scopes():
  """The registered cells' TF1 scope names (``basic_lstm_cell``, ``lstm_cell``, ...)."""
  return sorted({s.scope for s in _signatures(1)})


def signatures_for(scope, names):
  """The signatures of cells named ``scope`` whose variables are exactly ``names``."""
  names = frozenset(names)
  layers = {int(m.group(1)) for m in map(_LAYER.match, names) if m}
  count = max(layers) + 1 if layers else 1
  return [s for s in _signatures(count) if s.scope == scope and s.names == names]


def is_cell_variable(scope, name):
  """Whether some registered cell named ``scope`` has a variable ``name`` under it (a
  whole-stack cell's ``cell_K/...`` for any K)."""
  for s in _signatures(1):
    if s.scope == scope and (name in s.names or
                             (s.spec.whole_stack and _LAYER.sub("cell_0/", name) in s.names)):
      return True
  return False
