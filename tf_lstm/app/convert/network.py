"""A restored tf_lstm classifier as plain arrays in the layouts Keras and PyTorch share.

TF1 cells keep one kernel ``[D + P, G * N]`` (input rows first, then the
recurrent rows) with the gates in TF1's order; Keras and PyTorch split it into
an input and a recurrent matrix and order the gates differently:

  ============  ==================  ===================  ==========================
  cell          TF1 columns         Keras columns        PyTorch rows (transposed)
  ============  ==================  ===================  ==========================
  LSTM          i, j, f, o          i, f, c(=j), o       i, f, g(=j), o
  GRU           gates r, u;         z(=u), r, h          (refused: see ``to_torch``)
                candidate c
  basic RNN     one gate            one gate             one gate
  ============  ==================  ===================  ==========================

``Layer`` holds the Keras layout (``w_x [D, G*N]``, ``w_h [P, G*N]``,
``bias [G*N]``); PyTorch's is its transpose.  TF1's ``forget_bias`` is added
at run time, never stored: it is folded into the forget gate's bias here.
"""

import dataclasses

import numpy as np
import tensorflow as tf

from tf_lstm import cells
from tf_lstm.app.convert import ConvertError
from tf_lstm.app.models.classifier import SequenceClassifier
from tf_lstm.app.models.text_classifier import TextClassifier

# Cells with no Keras or PyTorch layer: why (the refusal's message).
NO_COUNTERPART = {
    cells.GFLSTMCell: "the gated-feedback LSTM's candidates read every layer's previous "
                      "state through global reset gates; neither Keras nor PyTorch has "
                      "such a layer",
    cells.BinaryLSTMCell: "the binary LSTM binarises its kernel (scale * sign) in every "
                          "forward pass; Keras's LSTM and PyTorch's nn.LSTM multiply by "
                          "real weights and have no binarisation",
    cells.LayerNormBasicLSTMCell: "the layer-normalised LSTM normalises each gate; neither "
                                  "Keras's LSTM nor PyTorch's nn.LSTM does",
}


@dataclasses.dataclass(frozen=True)
class Layer:
  """One recurrent layer: ``family`` ("lstm", "gru", "rnn"), ``units`` N,
  ``w_x [D, G*N]``, ``w_h [P, G*N]``, ``bias [G*N]`` in Keras's gate order
  (``forget_bias`` folded in) and, for an LSTM with a projection, ``proj [N, P]``
  (``h = (o * tanh(c)) @ proj``)."""
  family: str
  units: int
  w_x: np.ndarray
  w_h: np.ndarray
  bias: np.ndarray
  proj: np.ndarray = None

  @property
  def input_size(self):
    return self.w_x.shape[0]

  @property
  def output_size(self):
    return self.units if self.proj is None else self.proj.shape[1]


@dataclasses.dataclass(frozen=True)
class Network:
  """A classifier: ``inputs -> [projection | embedding] -> RNN (fw [+ bw]) ->
  pooling -> head``.

  ``kind``: "image" (``[B, T, D]`` floats, every step valid) or "text" (ids
  ``[B, T]`` with lengths; pooling is the mean over the valid steps).
  ``layers_bw``: the backward stack (reads each row reversed within its length,
  outputs concatenated after the forward ones), or None.  ``pooling``: "last"
  (the output at the last step) or "mean".  ``projection``: ``(kernel [D, P],
  bias [P])`` applied to each step, or None.  ``embedding``: ``[V, E]``.
  ``head``: ``(kernel [F, C], bias [C])``.
  """
  kind: str
  layers_fw: tuple
  layers_bw: tuple
  pooling: str
  head: tuple
  input_depth: int = None
  projection: tuple = None
  embedding: np.ndarray = None

  @property
  def family(self):
    return self.layers_fw[0].family

  @property
  def num_classes(self):
    return self.head[1].shape[0]


def _gates(kernel, depth, count):
  """``kernel [depth + P, count * N]`` -> ``(input rows, recurrent rows)``, each split
  into its ``count`` column blocks."""
  kernel = np.asarray(kernel)
  return (np.split(kernel[:depth], count, axis=1), np.split(kernel[depth:], count, axis=1))


def _lstm(kernel, bias, depth, units, forget_bias, proj=None):
  """TF1 (i, j, f, o; forget_bias at run time) -> Keras (i, f, c, o; folded)."""
  order = (0, 2, 1, 3)   # i, f, j, o from TF1's i, j, f, o
  xs, hs = _gates(kernel, depth, 4)
  b = np.split(np.asarray(bias), 4)
  b[2] = b[2] + np.float32(forget_bias)
  return Layer("lstm", units, np.concatenate([xs[k] for k in order], 1),
               np.concatenate([hs[k] for k in order], 1),
               np.concatenate([b[k] for k in order]),
               None if proj is None else np.asarray(proj))


def _check_tanh(cell):
  activation = cell._activation   # pylint: disable=protected-access
  if activation is not tf.math.tanh:
    raise ConvertError(f"cannot convert {type(cell).__name__} with activation "
                       f"{activation!r}: the converted layers use tanh")


def layer(cell, depth):
  """One ``Layer`` from a built tf_lstm cell with input depth ``depth``;
  ``ConvertError`` naming the reason for a cell with no exact counterpart."""
  kind = type(cell)
  if kind in NO_COUNTERPART:
    raise ConvertError(f"cannot convert {kind.__name__}: {NO_COUNTERPART[kind]}")
  if kind is cells.BasicLSTMCell:
    _check_tanh(cell)
    return _lstm(cell.kernel.numpy(), cell.bias.numpy(), depth, cell.num_units,
                 cell.forget_bias)
  if kind is cells.LSTMCell:
    _check_tanh(cell)
    if cell._use_peepholes:   # pylint: disable=protected-access
      raise ConvertError("cannot convert LSTMCell with peepholes (w_f_diag, w_i_diag, "
                         "w_o_diag): neither Keras's LSTM nor PyTorch's nn.LSTM has "
                         "peephole connections")
    for option in ("cell_clip", "proj_clip"):
      if getattr(cell, "_" + option) is not None:
        raise ConvertError(f"cannot convert LSTMCell with {option}: neither Keras's LSTM "
                           "nor PyTorch's nn.LSTM clips")
    proj = None if cell.projection_kernel is None else cell.projection_kernel.numpy()
    return _lstm(cell.kernel.numpy(), cell.bias.numpy(), depth, cell.num_units,
                 cell._forget_bias, proj)   # pylint: disable=protected-access
  if kind is cells.GRUCell:
    _check_tanh(cell)
    n = cell.num_units
    (gx_r, gx_u), (gh_r, gh_u) = _gates(cell.gates_kernel.numpy(), depth, 2)
    cx, ch = _gates(cell.candidate_kernel.numpy(), depth, 1)
    g_r, g_u = np.split(cell.gates_bias.numpy(), 2)
    # Keras (reset_after=False): z = u, r, h = the candidate.
    return Layer("gru", n, np.concatenate([gx_u, gx_r, cx[0]], 1),
                 np.concatenate([gh_u, gh_r, ch[0]], 1),
                 np.concatenate([g_u, g_r, cell.candidate_bias.numpy()]))
  if kind is cells.BasicRNNCell:
    _check_tanh(cell)
    (x,), (h,) = _gates(cell.kernel.numpy(), depth, 1)
    return Layer("rnn", cell.num_units, x, h, cell.bias.numpy())
  raise ConvertError(f"cannot convert cell {kind.__name__}: the converter knows "
                     "BasicLSTMCell, LSTMCell, GRUCell and BasicRNNCell")


def stack(cell, depth):
  """The layers of a cell or of a ``MultiRNNCell`` of cells, bottom first."""
  if type(cell) is cells.MultiRNNCell:
    out = []
    for c in cell.cells:
      out.append(layer(c, depth))
      depth = out[-1].output_size
    layers = tuple(out)
  else:
    layers = (layer(cell, depth),)
  if len({(l.family, l.units, l.output_size) for l in layers}) != 1:
    raise ConvertError("cannot convert a stack of different layers: Keras's and "
                       "PyTorch's stacked layers share one cell type and size")
  return layers


def _head(model):
  return (model.output_kernel.numpy(), model.output_bias.numpy())


def _directions(model, depth):
  """``(forward layers, backward layers or None)``; both directions alike."""
  fw = stack(model.cell, depth)
  if getattr(model, "cell_bw", None) is None:
    return fw, None
  bw = stack(model.cell_bw, depth)
  shape = lambda layers: [(l.family, l.units, l.output_size) for l in layers]
  if shape(fw) != shape(bw):
    raise ConvertError("cannot convert a bidirectional model whose directions differ: "
                       "Keras's Bidirectional and the PyTorch module build both alike")
  return fw, bw


def describe(model):
  """The ``Network`` of a restored image classifier or text classifier."""
  if isinstance(model, SequenceClassifier):
    projection, depth = None, model.input_depth
    if model.projection_kernel is not None:
      projection = (model.projection_kernel.numpy(), model.projection_bias.numpy())
      depth = projection[0].shape[1]
    return Network("image", *_directions(model, depth), model.pooling, _head(model),
                   input_depth=model.input_depth, projection=projection)
  if isinstance(model, TextClassifier):
    table = model.embedding.numpy()
    return Network("text", *_directions(model, table.shape[1]), "mean", _head(model),
                   embedding=table)
  raise ConvertError(f"cannot convert a {type(model).__name__}: the converter takes the "
                     "image classifiers (tasks mnist, fashion_mnist) and the text "
                     "classifier (task imdb)")
