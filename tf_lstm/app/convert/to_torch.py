"""``Network`` -> a PyTorch module (``torch_model.py``) and its state dict.

Written as two files: ``<name>.pt``, the state dict (``torch.save``; loads with
``weights_only=True``), and ``<name>.py``, ``torch_model.py`` with the model's
sizes in ``CONFIG``, whose ``load()`` returns the module with its weights.

Layout: ``weight_ih_l{k} = w_x.T [G*N, D]``, ``weight_hh_l{k} = w_h.T [G*N, P]``,
``bias_ih_l{k}`` = the bias (``forget_bias`` folded in), ``bias_hh_l{k} = 0`` (TF1
has one bias), ``weight_hr_l{k} = proj.T [P, N]`` (``proj_size``); the backward
stack's are under ``rnn.bw.``, the forward's under ``rnn.fw.``.
"""

import os
import pprint

import numpy as np

from tf_lstm.app.convert import ConvertError

MARKER = "CONFIG = None   # tf-lstm-convert writes the converted model's here.\n"


def import_torch():
  """The ``torch`` module, or ``ConvertError`` saying how to install it."""
  try:
    import torch  # pylint: disable=g-import-not-at-top
  except ImportError as e:
    raise ConvertError("--to=torch needs PyTorch, which is not installed: "
                       "pip install 'tf_lstm[convert]'") from e
  return torch


def check(network):
  """``ConvertError`` if PyTorch has no exact form of ``network``."""
  if network.family == "gru":
    raise ConvertError(
        "cannot convert a GRUCell to PyTorch: TF1's GRU applies the reset gate before the "
        "recurrent product (tanh(x W + (r * h) U + b)), PyTorch's nn.GRU after it "
        "(tanh(x W + b + r * (h U + b_h))), so no nn.GRU weights give TF1's numbers; "
        "Keras's GRU(reset_after=False) does: --to=keras")


def config(network):
  """The ``CONFIG`` of ``torch_model``: the model class and its sizes."""
  first = network.layers_fw[0]
  common = dict(cell=first.family, hidden_size=first.units,
                num_layers=len(network.layers_fw), num_classes=int(network.num_classes),
                proj_size=0 if first.proj is None else int(first.proj.shape[1]),
                bidirectional=network.layers_bw is not None)
  if network.kind == "image":
    return dict(model="ImageClassifier", input_depth=int(network.input_depth),
                input_projection=(0 if network.projection is None
                                  else int(network.projection[0].shape[1])),
                pooling=network.pooling, **common)
  vocab_size, dim = network.embedding.shape
  return dict(model="TextClassifier", vocab_size=int(vocab_size), embedding_dim=int(dim),
              **common)


def state_dict(network):
  """``{name: float32 array}`` in ``torch_model``'s names and layouts."""
  out = {}
  for direction, layers in (("fw", network.layers_fw), ("bw", network.layers_bw)):
    for k, layer in enumerate(layers or ()):
      prefix = f"rnn.{direction}."
      out[f"{prefix}weight_ih_l{k}"] = layer.w_x.T
      out[f"{prefix}weight_hh_l{k}"] = layer.w_h.T
      out[f"{prefix}bias_ih_l{k}"] = layer.bias
      out[f"{prefix}bias_hh_l{k}"] = np.zeros_like(layer.bias)
      if layer.proj is not None:
        out[f"{prefix}weight_hr_l{k}"] = layer.proj.T
  if network.projection is not None:
    out["projection.weight"] = network.projection[0].T
    out["projection.bias"] = network.projection[1]
  if network.embedding is not None:
    out["embedding.weight"] = network.embedding
  out["output.weight"] = network.head[0].T
  out["output.bias"] = network.head[1]
  return {k: np.ascontiguousarray(v, np.float32) for k, v in out.items()}


def build(network):
  """``(module in eval mode, CONFIG)`` for ``network`` (``ConvertError`` if none exists)."""
  check(network)
  torch = import_torch()
  from tf_lstm.app.convert import torch_model  # pylint: disable=g-import-not-at-top
  cfg = config(network)
  model = torch_model.build(cfg)
  # strict: every parameter of the module gets a value, of its shape.
  model.load_state_dict({k: torch.from_numpy(v) for k, v in state_dict(network).items()})
  return model.eval(), cfg


def module_source(cfg):
  """``torch_model.py``'s text with ``CONFIG`` set to ``cfg``."""
  path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "torch_model.py")
  with open(path, encoding="utf-8") as f:
    source = f.read()
  if source.count(MARKER) != 1:
    raise AssertionError(f"{path}: expected one line {MARKER!r}")
  return source.replace(MARKER, f"CONFIG = {pprint.pformat(cfg, sort_dicts=False)}\n")


def companion(path):
  """The module file written next to the state dict ``path`` (``model.pt`` -> ``model.py``)."""
  return os.path.splitext(path)[0] + ".py"


def save(model, cfg, path):
  """Writes the state dict to ``path`` and the module to ``companion(path)``."""
  torch = import_torch()
  torch.save(model.state_dict(), path)
  with open(companion(path), "w", encoding="utf-8") as f:
    f.write(module_source(cfg))
