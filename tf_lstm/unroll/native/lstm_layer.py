"""The plain tanh LSTM layer as one C++ op (``lstm_layer_op.cc``) and its gradient op.

Same function and signature as ``tf_lstm.unroll.lstm_layer.lstm_layer`` (the
composed layer), float32 on CPU; proven equal to it by tests/test_native_lstm.py
(outputs, states and every gradient within 1e-5).  Forward it saves the gates
``[i, j, f, o, tanh(c_t)]`` of every step (``[T, B, 5N]``) and the cell states
(``[T, B, N]``) for the gradient op; see the equations in the C++ source.
"""

import tensorflow as tf

from tf_lstm.unroll.native import build

DTYPES = (tf.float32,)
_NAME = "lstm_layer_op"
_library = None


def library():
  """The loaded op library (built on first use).

  Raises:
    build.NativeOpsUnavailable: with the reason.
  """
  global _library
  if _library is None:
    lib = build.load_library(_NAME)
    tf.RegisterGradient("TfLstmLayer")(_layer_grad)
    _library = lib
  return _library


def unavailable():
  """None where the op can run, else why not (a sentence)."""
  try:
    library()
  except build.NativeOpsUnavailable as e:
    return str(e)
  return None


@tf.autograph.experimental.do_not_convert   # building runs Python, not graph code
def lstm_layer(inputs, c0, h0, kernel, bias, forget_bias=1.0):
  """``tf_lstm.unroll.lstm_layer.lstm_layer`` as one op: same arguments (float32
  tensors) and results, ``(outputs, c_T)``."""
  out = library().tf_lstm_layer(list(inputs), c0, h0, kernel, bias,
                                forget_bias=float(forget_bias))
  return list(out.h), out.c


def _layer_grad(op, *grads):
  """Gradients of ``TfLstmLayer`` w.r.t. x (T), c0, h0, kernel, bias."""
  steps = op.get_attr("num_steps")
  x, (c0, h0, kernel, _) = op.inputs[:steps], op.inputs[steps:]
  h, acts, cs = op.outputs[:steps], op.outputs[steps + 1], op.outputs[steps + 2]
  # The op reads an empty tensor as zeros (an output nothing used).
  empty = tf.zeros([0], tf.float32)
  d_h = [empty if g is None else g for g in grads[:steps]]
  d_c = empty if grads[steps] is None else grads[steps]
  out = library().tf_lstm_layer_grad(x, c0, h0, kernel, h, acts, cs, d_h, d_c)
  return [*out.dx, out.dc0, out.dh0, out.dkernel, out.dbias]
