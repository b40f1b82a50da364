"""tf_lstm: TF1-era LSTM programs ported to idiomatic TensorFlow 2.

A TF1 user ports ``tf.contrib.rnn`` (or ``tf.nn.rnn_cell``) code by changing
the import; names, signatures, results and variable names are TF1's
(docs/porting.md)::

    import tf_lstm as rnn
    cell = rnn.MultiRNNCell([rnn.BasicLSTMCell(128) for _ in range(2)])
    outputs, state = rnn.static_rnn(cell, tf.unstack(x, 28, 1), dtype=tf.float32)
    # variables: rnn/multi_rnn_cell/cell_0/basic_lstm_cell/kernel, ...
"""

import importlib

# Public name -> the module that defines it, imported on first use: ``import
# tf_lstm`` stays cheap, and a program can set TensorFlow's environment
# (TF_CPP_MIN_LOG_LEVEL, TF_ENABLE_ONEDNN_OPTS) after it and before TensorFlow loads.
_EXPORTS = {
    "BasicLSTMCell": "tf_lstm.cells",
    "BasicRNNCell": "tf_lstm.cells",
    "BinaryLSTMCell": "tf_lstm.cells",
    "DeviceWrapper": "tf_lstm.cells",
    "DropoutWrapper": "tf_lstm.cells",
    "GFLSTMCell": "tf_lstm.cells",
    "GRUCell": "tf_lstm.cells",
    "InputProjectionWrapper": "tf_lstm.cells",
    "LSTMBlockCell": "tf_lstm.cells",
    "LSTMCell": "tf_lstm.cells",
    "LSTMStateTuple": "tf_lstm.cells",
    "LayerNormBasicLSTMCell": "tf_lstm.cells",
    "LayerRNNCell": "tf_lstm.cells",
    "MultiRNNCell": "tf_lstm.cells",
    "OutputProjectionWrapper": "tf_lstm.cells",
    "RNNCell": "tf_lstm.cells",
    "ResidualWrapper": "tf_lstm.cells",
    "bidirectional_dynamic_rnn": "tf_lstm.unroll",
    "dynamic_rnn": "tf_lstm.unroll",
    "stack_bidirectional_dynamic_rnn": "tf_lstm.unroll",
    "stack_bidirectional_rnn": "tf_lstm.unroll",
    "static_bidirectional_rnn": "tf_lstm.unroll",
    "static_rnn": "tf_lstm.unroll",
}
_SUBPACKAGES = ("cells", "unroll")
__all__ = sorted(_EXPORTS)


def __getattr__(name):
  if name in _EXPORTS:
    value = getattr(importlib.import_module(_EXPORTS[name]), name)
  elif name in _SUBPACKAGES:
    value = importlib.import_module(f"tf_lstm.{name}")
  else:
    raise AttributeError(f"module 'tf_lstm' has no attribute {name!r}")
  globals()[name] = value
  return value


def __dir__():
  return sorted(set(globals()) | set(_EXPORTS) | set(_SUBPACKAGES))


__version__ = "0.1.0"
