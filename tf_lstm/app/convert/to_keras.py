"""``Network`` -> a Keras 3 functional model of built-in layers only.

  image: Input [B, T, D] float -> [Dense(P), each step] -> RNN -> the output at
         the last step or GlobalAveragePooling1D -> Dense(C, softmax)
  text:  Input [B, T] int ids (0 after each row's length) -> Embedding(mask_zero=True)
         -> RNN (masked steps skipped) -> GlobalAveragePooling1D (mean over the
         unmasked steps) -> Dense(C, softmax)

The RNN is ``LSTM`` / ``GRU(reset_after=False)`` / ``SimpleRNN``, one layer per
TF1 layer; a bidirectional stack is ``Bidirectional(RNN(StackedRNNCells(...)))``,
because TF1's ``bidirectional_dynamic_rnn`` over two ``MultiRNNCell``s runs each
direction's whole stack on its own (Keras's stacked ``Bidirectional`` layers
would feed both directions to the next layer).  The model outputs
probabilities; ``keras.saving.load_model`` loads it with no custom objects.
"""

from tf_lstm.app.convert import ConvertError

LAYERS = {"lstm": "LSTM", "gru": "GRU", "rnn": "SimpleRNN"}


def import_keras():
  """The ``keras`` module (3.x), or ``ConvertError`` saying how to install it."""
  try:
    import keras  # pylint: disable=g-import-not-at-top
  except ImportError as e:
    raise ConvertError("--to=keras needs Keras 3, which is not installed: "
                       "pip install 'tf_lstm[convert]'") from e
  if int(keras.__version__.split(".")[0]) < 3:
    raise ConvertError(f"--to=keras needs Keras 3, found keras {keras.__version__}")
  return keras


def check(network):
  """``ConvertError`` if Keras has no exact form of ``network``."""
  if any(l.proj is not None for l in network.layers_fw + (network.layers_bw or ())):
    raise ConvertError("cannot convert an LSTMCell with a projection (num_proj) to Keras: "
                       "Keras's LSTM has no output projection (PyTorch's nn.LSTM has: "
                       "--to=torch)")


def _options(family):
  return {"reset_after": False} if family == "gru" else {}   # TF1's GRU resets before


def _layer(keras, family, units, **kw):
  return getattr(keras.layers, LAYERS[family])(units, **_options(family), **kw)


def _stacked(keras, layers, **kw):
  """One Keras RNN layer running the whole ``layers`` stack (each step through every
  layer, as ``MultiRNNCell``)."""
  if len(layers) == 1:
    return _layer(keras, layers[0].family, layers[0].units, **kw)
  cell = getattr(keras.layers, LAYERS[layers[0].family] + "Cell")
  return keras.layers.RNN(keras.layers.StackedRNNCells(
      [cell(l.units, **_options(l.family)) for l in layers]), **kw)


def _cells(rnn):
  cell = rnn.cell
  return list(cell.cells) if hasattr(cell, "cells") else [cell]


def _assign(keras_cells, layers):
  for cell, layer in zip(keras_cells, layers, strict=True):
    cell.kernel.assign(layer.w_x)
    cell.recurrent_kernel.assign(layer.w_h)
    cell.bias.assign(layer.bias)


def build(network):
  """The Keras model of ``network`` with its weights (``ConvertError`` if none exists)."""
  check(network)
  keras = import_keras()
  sequences = network.kind == "text" or network.pooling == "mean"
  if network.kind == "image":
    inputs = keras.Input((None, network.input_depth), name="images")
    x = inputs
    if network.projection is not None:
      projection = keras.layers.Dense(network.projection[0].shape[1], name="projection")
      x = projection(x)
  else:
    inputs = keras.Input((None,), dtype="int32", name="ids")
    embedding = keras.layers.Embedding(*network.embedding.shape, mask_zero=True,
                                       name="embedding")
    x = embedding(inputs)
  if network.layers_bw is None:
    rnns = [_layer(keras, l.family, l.units, name=f"rnn_{k}",
                   return_sequences=sequences or k + 1 < len(network.layers_fw))
            for k, l in enumerate(network.layers_fw)]
    for rnn in rnns:
      x = rnn(x)
  else:
    both = keras.layers.Bidirectional(
        _stacked(keras, network.layers_fw, return_sequences=True), name="bidirectional")
    x = both(x)
    if not sequences:
      # TF1's outputs[-1]: the backward output at the last step (it has read only that
      # step), not the backward RNN's final state, which return_sequences=False gives.
      x = x[:, -1]
  if sequences:
    x = keras.layers.GlobalAveragePooling1D(name="mean")(x)
  head = keras.layers.Dense(network.num_classes, activation="softmax", name="output")
  model = keras.Model(inputs, head(x), name=f"tf_lstm_{network.kind}_classifier")
  if network.layers_bw is None:
    _assign([c for rnn in rnns for c in _cells(rnn)], network.layers_fw)
  else:
    _assign(_cells(both.forward_layer), network.layers_fw)
    _assign(_cells(both.backward_layer), network.layers_bw)
  if network.kind == "image" and network.projection is not None:
    projection.set_weights(list(network.projection))
  if network.kind == "text":
    embedding.embeddings.assign(network.embedding)
  head.set_weights(list(network.head))
  return model


def save(model, path):
  model.save(path)
