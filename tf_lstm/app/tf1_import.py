"""Loads checkpoints written by TF1 programs (``tf.compat.v1.train.Saver``).

Every variable of a ``SequenceClassifier`` has a *port name*; each port name
has a default TF1 name, found in the checkpoint as it is or under a user
scope (``my_scope/rnn/...``)::

  port name               default TF1 name
  cell/layer_K/<var>      rnn/<scope>/<var>                        (one cell)
                          rnn/multi_rnn_cell/cell_K/<scope>/<var>  (MultiRNNCell)
                          rnn/<scope>/cell_K/<var>                 (GFLSTMCell: one
                                                                    cell, K layers)
  output/kernel [N, C]    the checkpoint's only [N, C] variable (``Variable``)
  output/bias [C]         the checkpoint's only [C] variable (``Variable_1``)
  input_projection/kernel, input_projection/bias   none: name them in var_map

``<scope>/<var>`` is the cell's own variable name: every registered cell
(``tf_lstm.cells.registry``) names its variables as TF1 did, e.g.
``basic_lstm_cell/kernel``, ``lstm_cell/projection/kernel``,
``gru_cell/gates/kernel``, ``gflstm_cell/cell_1/global_reset/kernel``.

``var_map`` ({port name: TF1 name}) overrides any default.  Optimizer slots
(``.../Adam``, ``beta1_power``, ``global_step``, ...) are never matched.  The
port keeps TF1's variable layouts, so values are copied as they are.

Example::

    task, model, _ = loop.build(config)
    tf1_import.load(model, "/old/run/model.ckpt")
"""

import collections
import re

import tensorflow as tf

from tf_lstm import cells
from tf_lstm.cells import registry
from tf_lstm.app.models import SequenceClassifier

BY_SHAPE = "by_shape"   # Default of the output layer: its unique shape.
_LAYER = re.compile(r"^cell_(\d+)/(.+)$")   # a whole-stack cell's per-layer variables


_SLOT = re.compile(r"(^|/)(beta[12]_power(_\d+)?|global_step)$"
                   r"|/(Adam|Momentum|RMSProp|Adagrad|AdagradDA|Adadelta|Ftrl|"
                   r"ProximalAdagrad|ExponentialMovingAverage)(_\d+)?$")


class TF1ImportError(ValueError):
  """The checkpoint does not fit the port model (or cannot be read)."""


PortVariable = collections.namedtuple("PortVariable", "name variable defaults")
PortVariable.__doc__ = """``defaults``: TF1 names to look for, or ``BY_SHAPE``, or ()."""


def is_optimizer_slot(name):
  """True for optimizer state (``x/Adam_1``, ``beta1_power``, ``global_step``...)."""
  return bool(_SLOT.search(name))


def cell_variables(cell):
  """``[(TF1 name relative to the cell, variable)]`` of a built cell, in creation order.

  The relative name is the variable's own name from the cell's scope on,
  under the cell's TF1 scope name (``basic_lstm_cell/kernel``,
  ``lstm_cell/projection/kernel``): every registered cell names its variables
  as TF1 did.
  """
  out, seen = [], set()

  def walk(value):
    if isinstance(value, tf.Variable):
      if id(value) not in seen and value.trainable:
        seen.add(id(value))
        name = value.name.split(":")[0]
        scope = getattr(cell, "scope_name", None)   # where the cell built its variables
        if scope and name.startswith(scope + "/"):
          rel = f"{cell.name}/{name[len(scope) + 1:]}"
        else:
          cut = name.find(cell.name + "/")
          rel = name[cut:] if cut >= 0 else f"{cell.name}/{name}"
        out.append((rel, value))
    elif isinstance(value, dict):
      for v in value.values():
        walk(v)
    elif isinstance(value, (list, tuple)):
      for v in value:
        walk(v)
  for v in vars(cell).values():   # attribute order = creation order
    walk(v)
  return out


def port_variables(model):
  """The ``PortVariable``s of a ``SequenceClassifier``, in a stable order."""
  if not isinstance(model, SequenceClassifier):
    raise TF1ImportError(f"TF1 import supports SequenceClassifier models, got "
                         f"{type(model).__name__}")
  layers = model.cell.cells if isinstance(model.cell, cells.MultiRNNCell) else [model.cell]
  out = []
  for k, cell in enumerate(layers):
    spec = registry.spec_of(type(cell))
    if spec is None:
      raise TF1ImportError(
          f"TF1 import does not know {type(cell).__name__}: not a registered cell "
          f"(registered: {', '.join(registry.names())})")
    if spec.whole_stack:   # rnn/<scope>/cell_K/<var> is layer K
      for rel, var in cell_variables(cell):
        scope, _, inner = rel.partition("/")
        layer = _LAYER.match(inner)
        if not layer:
          raise TF1ImportError(f"{type(cell).__name__} variable {rel} is not "
                               f"{scope}/cell_K/<name>")
        out.append(PortVariable(f"cell/layer_{layer.group(1)}/{layer.group(2)}", var,
                                (f"rnn/{rel}",)))
      continue
    if len(layers) > 1:
      prefixes = [f"rnn/multi_rnn_cell/cell_{k}"]
    else:   # A one-cell MultiRNNCell in the TF1 script also fits.
      prefixes = ["rnn", "rnn/multi_rnn_cell/cell_0"]
    for rel, var in cell_variables(cell):
      out.append(PortVariable(f"cell/layer_{k}/{rel.partition('/')[2]}", var,
                              tuple(f"{p}/{rel}" for p in prefixes)))
  return out + _head_variables(model)


def _head_variables(model):
  out = []
  if model.projection_kernel is not None:
    out.append(PortVariable("input_projection/kernel", model.projection_kernel, ()))
    out.append(PortVariable("input_projection/bias", model.projection_bias, ()))
  out.append(PortVariable("output/kernel", model.output_kernel, BY_SHAPE))
  out.append(PortVariable("output/bias", model.output_bias, BY_SHAPE))
  return out


def resolve_checkpoint(path):
  """The checkpoint prefix for ``path``: a prefix, its ``.index`` file, or a dir."""
  if not path:
    raise TF1ImportError("no checkpoint path given")
  for suffix in (".index", ".meta"):
    if path.endswith(suffix) and tf.io.gfile.exists(path[:-len(suffix)] + ".index"):
      return path[:-len(suffix)]
  if tf.io.gfile.isdir(path):
    latest = tf.train.latest_checkpoint(path)
    if latest:
      return latest
    raise TF1ImportError(f"no checkpoint in directory {path}: expected a 'checkpoint' "
                         "file as tf.compat.v1.train.Saver writes it; or pass the "
                         "checkpoint prefix (e.g. DIR/model.ckpt)")
  if tf.io.gfile.exists(path + ".index"):
    return path
  raise TF1ImportError(f"no TF1 checkpoint at {path}: expected a checkpoint prefix "
                       f"({path}.index must exist) or a directory holding one")


def read_shapes(prefix):
  """``{name: shape}`` of every variable in the checkpoint ``prefix``."""
  try:
    return {name: list(shape) for name, shape in tf.train.list_variables(prefix)}
  except (tf.errors.OpError, ValueError) as e:
    raise TF1ImportError(f"cannot read checkpoint {prefix}: {e}") from e


def _fmt(shape):
  return "[" + ", ".join(str(int(d)) for d in shape) + "]"


def _describe_default(pv):
  shape = _fmt(pv.variable.shape)
  if pv.defaults == BY_SHAPE:
    return f"{pv.name} {shape} <- the checkpoint's only {shape} variable"
  if not pv.defaults:
    return f"{pv.name} {shape} <- (no default: name it in var_map)"
  return f"{pv.name} {shape} <- {' or '.join(pv.defaults)}"


def _report(prefix, problems, port_vars, shapes):
  lines = [f"cannot import TF1 checkpoint {prefix}:"]
  lines += [f"  - {p}" for p in problems]
  lines.append("the port model expects (port name [shape] <- TF1 name):")
  lines += [f"  {_describe_default(pv)}" for pv in port_vars]
  lines.append("the checkpoint holds (optimizer slots omitted):")
  lines += [f"  {n} {_fmt(s)}" for n, s in sorted(shapes.items()) if not is_optimizer_slot(n)]
  lines.append("check the cell, num_layers and num_units, or name variables with "
               "var_map (port name=TF1 name)")
  return "\n".join(lines)


def _find(default_names, pool, scope):
  if scope:
    wanted = {f"{scope.strip('/')}/{d}" for d in default_names}
    return sorted(n for n in pool if n in wanted)
  return sorted(n for n in pool
                if any(n == d or n.endswith("/" + d) for d in default_names))


def match(shapes, port_vars, var_map=None, scope=None, allow_unused=False, prefix=""):
  """``{port name: TF1 name}`` for every port variable; checks shapes.

  Args:
    shapes: ``{TF1 name: shape}`` of the checkpoint (``read_shapes``).
    port_vars: ``port_variables(model)``.
    var_map: ``{port name: TF1 name}`` overriding the defaults.
    scope: if given, default names must sit exactly under this scope.
    allow_unused: accept checkpoint variables (other than optimizer slots)
      that no port variable takes.
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
  pool = {n for n in shapes if not is_optimizer_slot(n)}
  mapping = {p: t for p, t in var_map.items() if p in by_port and t in shapes}
  deferred = []
  for pv in port_vars:
    if pv.name in mapping:
      continue
    if pv.defaults == BY_SHAPE:
      deferred.append(pv)
      continue
    if not pv.defaults:
      problems.append(f"{pv.name} has no default TF1 name: name it in var_map")
      continue
    hits = _find(pv.defaults, pool, scope)
    if not hits:
      where = f" under scope {scope!r}" if scope else ""
      problems.append(f"missing {' or '.join(pv.defaults)}{where} (for {pv.name})")
    elif len(hits) > 1:
      problems.append(f"ambiguous {pv.name}: {', '.join(hits)} all match "
                      f"{' or '.join(pv.defaults)}; pass a scope or a var_map")
    else:
      mapping[pv.name] = hits[0]
  taken = set(mapping.values())
  for pv in deferred:
    shape = [int(d) for d in pv.variable.shape]
    hits = sorted(n for n in pool - taken if shapes[n] == shape)
    if not hits:
      problems.append(f"missing {pv.name}: no variable of shape {_fmt(shape)}")
    elif len(hits) > 1:
      problems.append(f"ambiguous {pv.name}: {len(hits)} variables of shape {_fmt(shape)} "
                      f"({', '.join(hits)}); name one in var_map")
    else:
      mapping[pv.name] = hits[0]
      taken.add(hits[0])
  for port, tf1 in mapping.items():
    want = [int(d) for d in by_port[port].variable.shape]
    if shapes[tf1] != want:
      problems.append(f"wrong shape: {tf1} is {_fmt(shapes[tf1])} in the checkpoint, "
                      f"{port} is {_fmt(want)}")
  counts = collections.Counter(mapping.values())
  problems += [f"{t} is mapped to {c} port variables" for t, c in counts.items() if c > 1]
  unused = sorted(pool - set(mapping.values()))
  if unused and not allow_unused:
    problems.append(f"checkpoint variables no port variable takes: {', '.join(unused)}")
  if problems:
    raise TF1ImportError(_report(prefix, problems, port_vars, shapes))
  return {pv.name: mapping[pv.name] for pv in port_vars}


def plan(model, checkpoint, var_map=None, scope=None, allow_unused=False):
  """Validates without side effects; returns ``(prefix, {port name: TF1 name})``."""
  prefix = resolve_checkpoint(checkpoint)
  shapes = read_shapes(prefix)
  port_vars = port_variables(model)
  mapping = match(shapes, port_vars, var_map, scope, allow_unused, prefix)
  dtypes = tf.train.load_checkpoint(prefix).get_variable_to_dtype_map()
  bad = [f"{t} is {dtypes[t].name}, {p} is {v.dtype.name}"
         for p, t, v in ((pv.name, mapping[pv.name], pv.variable) for pv in port_vars)
         if dtypes[t] != v.dtype]
  if bad:
    raise TF1ImportError(_report(prefix, ["wrong dtype: " + b for b in bad], port_vars, shapes))
  return prefix, mapping


def load(model, checkpoint, var_map=None, scope=None, allow_unused=False):
  """Assigns the TF1 checkpoint's values to ``model``; returns ``{port: TF1 name}``.

  Everything is validated and read before the first assignment.
  """
  prefix, mapping = plan(model, checkpoint, var_map, scope, allow_unused)
  reader = tf.train.load_checkpoint(prefix)
  values = {port: reader.get_tensor(tf1) for port, tf1 in mapping.items()}
  for pv in port_variables(model):
    pv.variable.assign(values[pv.name])
  return mapping


def parse_var_map(text):
  """``"output/kernel=softmax/w,output/bias=softmax/b"`` -> dict."""
  out = {}
  for item in filter(None, (s.strip() for s in (text or "").split(","))):
    port, sep, tf1 = item.partition("=")
    if not sep or not port.strip() or not tf1.strip():
      raise TF1ImportError(f"bad var_map entry {item!r}: expected port_name=tf1_name")
    if port.strip() in out:
      raise TF1ImportError(f"var_map names {port.strip()!r} twice")
    out[port.strip()] = tf1.strip()
  return out
