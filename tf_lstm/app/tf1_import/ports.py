"""The variables of every tf_lstm model, each with a *port name* and its default TF1 names.

``port_variables(model)`` lists them for the models tf_lstm trains::

  model               port names                      default TF1 names (any scope)
  SequenceClassifier  cell/layer_K/<var>              rnn/<cell>/<var>,
                                                      rnn/multi_rnn_cell/cell_K/<cell>/<var>
   (bidirectional)    fw/layer_K/<var>, bw/...        bidirectional_rnn/fw/<cell>/..., bw/...
                      output/kernel, output/bias      output/*, else the only one of its shape
                      input_projection/kernel, bias   none: name them in var_map
  TextClassifier      embedding                       embedding, else by shape
                      cell/... (or fw/..., bw/...)    rnn/... (bidirectional_rnn/fw|bw/...)
                      output/kernel, output/bias      output/*, else by shape
  LanguageModel       embedding, softmax_w, softmax_b the same names, else by shape
                      cell/layer_K/<var>              multi_rnn_cell/cell_K/<cell>/<var>
                                                      (one layer: also <cell>/<var>)
  SequenceTagger      embedding, case_embedding,      the same names, else by shape
                      chars/embedding|kernel|bias
                      fw/layer_K/<var>, bw/...        bidirectional_rnn/fw|bw/...
                      output/kernel, output/bias      output/*, else by shape

``<cell>/<var>`` is the cell's own variable name: every registered cell names its
variables as TF1 did (``basic_lstm_cell/kernel``, ``lstm_cell/projection/kernel``,
``gru_cell/gates/kernel``); a whole-stack cell (``gflstm``) holds layer K under
``<cell>/cell_K/``.  Names of other TF versions and cells are matched through
``names.canonical`` and ``names.scope_aliases``.
"""

import collections
import re

import tensorflow as tf

from tf_lstm import cells
from tf_lstm.cells import registry
from tf_lstm.app.models import SequenceClassifier
from tf_lstm.app.models.language_model import LanguageModel
from tf_lstm.app.models.tagger import SequenceTagger
from tf_lstm.app.models.text_classifier import TextClassifier
from tf_lstm.app.tf1_import import names

_LAYER = re.compile(r"^cell_(\d+)/(.+)$")   # a whole-stack cell's per-layer variables


class TF1ImportError(ValueError):
  """The checkpoint does not fit the port model (or cannot be read)."""


PortVariable = collections.namedtuple("PortVariable", "name variable defaults by_shape cell",
                                      defaults=(False, None))
PortVariable.__doc__ = """A model variable and where to find it in a TF1 checkpoint.

``defaults``: TF1 names (today's spelling, relative to any user scope), tried
first; ``by_shape``: else the checkpoint's only unclaimed variable of its
shape; neither: only ``var_map`` names it.  ``cell``: the layer's cell (for
cell variables)."""


def _join(*parts):
  return "/".join(p for p in parts if p)


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


def _spec(cell):
  spec = registry.spec_of(type(cell))
  if spec is None:
    raise TF1ImportError(
        f"TF1 import does not know {type(cell).__name__}: not a registered cell "
        f"(registered: {', '.join(registry.names())})")
  return spec


def _layer_ports(cell, port, scopes, first_layer=0):
  """Ports of one (non-stack) layer cell or of a whole-stack cell under ``scopes``."""
  out = []
  if _spec(cell).whole_stack:   # <scope>/<cell>/cell_K/<var> is layer K
    for rel, var in cell_variables(cell):
      scope, _, inner = rel.partition("/")
      layer = _LAYER.match(inner)
      if not layer:
        raise TF1ImportError(f"{type(cell).__name__} variable {rel} is not "
                             f"{scope}/cell_K/<name>")
      k = first_layer + int(layer.group(1))
      out.append(PortVariable(f"{port}/layer_{k}/{layer.group(2)}", var,
                              (_join(scopes[0], rel),), False, cell))
    return out
  for rel, var in cell_variables(cell):
    out.append(PortVariable(
        f"{port}/layer_{first_layer}/{rel.partition('/')[2]}", var,
        tuple(_join(s, a) for s in scopes for a in names.scope_aliases(rel)), False, cell))
  return out


def _cell_ports(cell, port, unroll_scope):
  """A (possibly ``MultiRNNCell``) cell unrolled under ``unroll_scope`` (``rnn``, ...)."""
  if not isinstance(cell, cells.MultiRNNCell):   # a one-cell MultiRNNCell also fits
    return _layer_ports(cell, port, (unroll_scope, _join(unroll_scope, "multi_rnn_cell/cell_0")))
  out = []
  for k, layer in enumerate(cell.cells):
    out += _layer_ports(layer, port, (_join(unroll_scope, f"multi_rnn_cell/cell_{k}"),), k)
  return out


def _directions(cell_fw, cell_bw, uni_scope):
  if cell_bw is None:
    return _cell_ports(cell_fw, "cell", uni_scope)
  return (_cell_ports(cell_fw, "fw", "bidirectional_rnn/fw")
          + _cell_ports(cell_bw, "bw", "bidirectional_rnn/bw"))


def _named(port, variable, *tf1_names):
  """A non-cell variable: found by ``tf1_names``, else by its unique shape."""
  return PortVariable(port, variable, tuple(tf1_names), True)


def _head(model):
  return [_named("output/kernel", model.output_kernel, "output/kernel"),
          _named("output/bias", model.output_bias, "output/bias")]


def _classifier(model):
  out = _directions(model.cell, model.cell_bw, "rnn")
  if model.projection_kernel is not None:
    out.append(PortVariable("input_projection/kernel", model.projection_kernel, ()))
    out.append(PortVariable("input_projection/bias", model.projection_bias, ()))
  return out + _head(model)


def _text_classifier(model):
  return ([_named("embedding", model.embedding, "embedding")]
          + _directions(model.cell, model.cell_bw, "rnn") + _head(model))


def _language_model(model):
  out = [_named("embedding", model.embedding, "embedding")]
  layers = len(model.cells)
  for k, cell in enumerate(model.cells):
    # The tutorial calls its MultiRNNCell under scope "RNN", not through an unroll.
    scopes = (f"multi_rnn_cell/cell_{k}",) if layers > 1 else ("", "multi_rnn_cell/cell_0")
    out += _layer_ports(cell, "cell", scopes, k)
  if model.softmax_w is not None:
    out.append(_named("softmax_w", model.softmax_w, "softmax_w"))
  return out + [_named("softmax_b", model.softmax_b, "softmax_b")]


def _tagger(model):
  out = [_named("embedding", model.embedding, "embedding"),
         _named("case_embedding", model.case_embedding, "case_embedding")]
  if model.char_embedding is not None:
    out += [_named("chars/embedding", model.char_embedding, "chars/embedding"),
            _named("chars/kernel", model.char_kernel, "chars/kernel"),
            _named("chars/bias", model.char_bias, "chars/bias")]
  return out + _directions(model.cell_fw, model.cell_bw, None) + _head(model)


_FAMILIES = ((SequenceClassifier, _classifier), (TextClassifier, _text_classifier),
             (LanguageModel, _language_model), (SequenceTagger, _tagger))


def port_variables(model):
  """The ``PortVariable``s of ``model`` (every trainable variable once), in a stable order."""
  for cls, ports in _FAMILIES:
    if isinstance(model, cls):
      out = ports(model)
      break
  else:
    raise TF1ImportError(f"TF1 import supports {', '.join(c.__name__ for c, _ in _FAMILIES)}"
                         f" models, got {type(model).__name__}")
  missing = {id(v) for v in model.trainable_variables} - {id(pv.variable) for pv in out}
  if missing:   # a model grew a variable this table does not know
    raise TF1ImportError(f"{type(model).__name__} has {len(missing)} variables without a "
                         "port name; tf_lstm/app/tf1_import/ports.py must list them")
  return out
