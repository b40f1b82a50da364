"""Checkpoint names -> port variables: by default name, by unique shape, or by ``var_map``.

Each checkpoint name is compared in its ``names.canonical`` spelling; a
default name matches a checkpoint name equal to it or ending in ``/`` + it
(any user scope: ``Model/``, ``my_net/``), or, with ``scope``, exactly
``scope/`` + it.  Where several match, the one nearest the root wins (the
word ``embedding`` over ``chars/embedding``); two at the same depth are
ambiguous.  Variables without a name match then take the only unclaimed
variable of their shape.  Training state (optimizer slots, ``global_step``,
learning rates, other scalars: ``names.training_state``) is never matched
and never reported unused.
"""

import collections

from tf_lstm.app.tf1_import import names
from tf_lstm.app.tf1_import.ports import TF1ImportError


def format_shape(shape):
  """``[d0, d1, ...]`` of a shape, for messages."""
  return "[" + ", ".join(str(int(d)) for d in shape) + "]"


def _describe(pv):
  shape = format_shape(pv.variable.shape)
  by_shape = f"the checkpoint's only {shape} variable"
  if not pv.defaults and not pv.by_shape:
    return f"{pv.name} {shape} <- (no default: name it in var_map)"
  if not pv.defaults:
    return f"{pv.name} {shape} <- {by_shape}"
  listed = " or ".join(pv.defaults)
  return f"{pv.name} {shape} <- {listed}" + (f", else {by_shape}" if pv.by_shape else "")


def report(prefix, problems, port_vars, shapes):
  """The error text: every problem, what the model expects, what the checkpoint holds."""
  lines = [f"cannot import TF1 checkpoint {prefix}:"]
  lines += [f"  - {p}" for p in problems]
  lines.append("the port model expects (port name [shape] <- TF1 name):")
  lines += [f"  {_describe(pv)}" for pv in port_vars]
  lines.append("the checkpoint holds (optimizer slots omitted):")
  lines += [f"  {n} {format_shape(s)}" for n, s in sorted(shapes.items())
            if not names.training_state(n, s)]
  lines.append("check the cell, num_layers and num_units, or name variables with "
               "var_map (port name=TF1 name)")
  return "\n".join(lines)


def _find(defaults, pool, scope):
  """Checkpoint names (original spelling) matching ``defaults``, the shallowest ones."""
  if scope:
    under = names.canonical(scope.strip("/") + "/x")[:-len("/x")]   # scope segments only
    wanted = {f"{under}/{d}" for d in defaults}
    hits = [n for n, c in pool.items() if c in wanted]
  else:
    hits = [n for n, c in pool.items() if any(c == d or c.endswith("/" + d) for d in defaults)]
  if not hits:
    return []
  depth = min(n.count("/") for n in hits)
  return sorted(n for n in hits if n.count("/") == depth)


def _forget_bias_problems(mapping, by_port):
  out = []
  for port, tf1 in mapping.items():
    fixed = names.fixed_forget_bias(names.canonical(tf1))
    cell = by_port[port].cell
    value = getattr(cell, "_forget_bias", None)
    if fixed and value is not None and value != fixed[1]:
      out.append(f"{tf1}: TF1's {fixed[0]} ran with forget_bias={fixed[1]:g}, the model "
                 f"has {value:g} (not stored in checkpoints: set forget_bias={fixed[1]:g})")
  return out[:1]


def match(shapes, port_vars, var_map=None, scope=None, allow_unused=False, prefix=""):
  """``{port name: TF1 name}`` for every port variable; checks shapes.

  Args:
    shapes: ``{TF1 name: shape}`` of the checkpoint.
    port_vars: ``ports.port_variables(model)``.
    var_map: ``{port name: TF1 name}`` overriding the defaults.
    scope: if given, default names must sit exactly under this scope.
    allow_unused: accept checkpoint variables (other than training state)
      that no port variable takes.
    prefix: the checkpoint's path, for the error text.
  Raises:
    TF1ImportError listing every problem, the port variables and the
    checkpoint's variables.
  """
  var_map = dict(var_map or {})
  problems = []
  by_port = {pv.name: pv for pv in port_vars}
  for port, tf1 in var_map.items():
    if port not in by_port:
      problems.append(f"var_map names unknown port variable {port!r} "
                      f"(port names: {', '.join(by_port)})")
    if tf1 not in shapes:
      problems.append(f"var_map maps {port} to {tf1!r}, which is not in the checkpoint")
  pool = {n: names.canonical(n) for n, s in shapes.items() if not names.training_state(n, s)}
  mapping = {p: t for p, t in var_map.items() if p in by_port and t in shapes}
  deferred = []
  for pv in port_vars:
    if pv.name in mapping:
      continue
    hits = _find(pv.defaults, pool, scope) if pv.defaults else []
    if len(hits) == 1:
      mapping[pv.name] = hits[0]
    elif hits:
      problems.append(f"ambiguous {pv.name}: {', '.join(hits)} all match "
                      f"{' or '.join(pv.defaults)}; pass a scope or a var_map")
    elif pv.by_shape:
      deferred.append(pv)
    elif pv.defaults:
      where = f" under scope {scope!r}" if scope else ""
      problems.append(f"missing {' or '.join(pv.defaults)}{where} (for {pv.name})")
    else:
      problems.append(f"{pv.name} has no default TF1 name: name it in var_map")
  taken = set(mapping.values())
  for pv in deferred:
    shape = [int(d) for d in pv.variable.shape]
    hits = sorted(n for n in set(pool) - taken if shapes[n] == shape)
    if len(hits) == 1:
      mapping[pv.name] = hits[0]
      taken.add(hits[0])
    elif hits:
      problems.append(f"ambiguous {pv.name}: {len(hits)} variables of shape {format_shape(shape)} "
                      f"({', '.join(hits)}); name one in var_map")
    else:
      named = f"no {' or '.join(pv.defaults)} and " if pv.defaults else ""
      problems.append(f"missing {pv.name}: {named}no variable of shape {format_shape(shape)}")
  for port, tf1 in mapping.items():
    want = [int(d) for d in by_port[port].variable.shape]
    if list(shapes[tf1]) != want:
      problems.append(f"wrong shape: {tf1} is {format_shape(shapes[tf1])} in the checkpoint, "
                      f"{port} is {format_shape(want)}")
  counts = collections.Counter(mapping.values())
  problems += [f"{t} is mapped to {c} port variables" for t, c in counts.items() if c > 1]
  problems += _forget_bias_problems(mapping, by_port)
  unused = sorted(set(pool) - set(mapping.values()))
  if unused and not allow_unused:
    problems.append(f"checkpoint variables no port variable takes: {', '.join(unused)}")
  if problems:
    raise TF1ImportError(report(prefix, problems, port_vars, shapes))
  return {pv.name: mapping[pv.name] for pv in port_vars}
