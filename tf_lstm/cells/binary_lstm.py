"""Binary-weight LSTM (BinaryConnect, Courbariaux et al. 2015, deterministic variant).

The kernel the step multiplies by has only two values, ``+-scale``; training
updates real "shadow" weights through a straight-through estimator and keeps
them in [-1, 1].  Biases stay real.
"""

import tensorflow as tf

from tf_lstm.cells import base
from tf_lstm.cells import registry
from tf_lstm.cells.basic_lstm import LSTMStateTuple, lstm_step

SCALES = ("glorot", "none")


def binary_scale(shape, scale):
  """The magnitude of the binary values of a ``[fan_in, fan_out]`` kernel.

  ``"glorot"``: ``sqrt(6 / (fan_in + fan_out))``, BinaryConnect's ``H`` (the
  Glorot-uniform limit, so pre-activations have the scale of a normally
  initialised LSTM); ``"none"``: 1.  A fixed per-matrix constant, not learned.
  """
  if scale == "glorot":
    return (6.0 / (shape[0] + shape[-1])) ** 0.5
  if scale == "none":
    return 1.0
  raise ValueError(f"unknown binary scale {scale!r}; expected one of {SCALES}")


def binarize(shadow, scale):
  """``scale * sign(shadow)`` (``sign(0) = +1``) with a straight-through gradient.

  Forward: two values only.  Backward: ``d/dshadow = scale * 1{|shadow| <= 1}``
  (the hard-tanh STE; after ``clip_shadow`` the indicator is always 1).
  """
  @tf.custom_gradient
  def _binarize(w):
    def grad(dy):
      return dy * scale * tf.cast(tf.abs(w) <= 1.0, dy.dtype)
    return tf.where(w >= 0, tf.constant(scale, w.dtype), tf.constant(-scale, w.dtype)), grad
  return _binarize(shadow)


SCALE_OPTION = registry.Option(
    "binary_scale", "glorot", "Binary kernel values: +-sqrt(6/(fan_in+fan_out)) (glorot) "
    "or +-1 (none).", choices=SCALES, arg="scale")


@registry.register("binary_lstm", options=(registry.FORGET_BIAS, SCALE_OPTION))
class BinaryLSTMCell(base.RNNCell):
  """A ``BasicLSTMCell`` whose kernel is binarised in the forward pass.

      kernel_b = scale * sign(kernel)            (two values, see binary_scale)
      c', h'   = lstm_step(x, c, h, kernel_b, bias)     (the BasicLSTM step)

  Variables: ``kernel`` ``[D + N, 4N]`` real shadow weights, drawn U(-1, 1) and
  clipped to [-1, 1] by ``apply_constraints()`` (the training loop calls it
  after every optimizer update); ``bias`` ``[4N]`` (zeros, real).
  ``binary_kernel()`` is what the step and any export compute with.
  """

  def __init__(self, num_units, forget_bias=1.0, scale="glorot", activation=tf.tanh,
               input_depth=None, name="binary_lstm_cell"):
    if int(num_units) <= 0:
      raise ValueError(f"num_units must be positive, got {num_units}")
    if scale not in SCALES:
      raise ValueError(f"unknown binary scale {scale!r}; expected one of {SCALES}")
    self._num_units = int(num_units)
    self._forget_bias = float(forget_bias)
    self._scale_kind = scale
    self._activation = activation
    super().__init__(input_depth=input_depth, name=name)

  @property
  def num_units(self):
    return self._num_units

  @property
  def state_size(self):
    return LSTMStateTuple(self._num_units, self._num_units)

  @property
  def output_size(self):
    return self._num_units

  @property
  def scale(self):
    """The binary magnitude (a Python float, fixed once built)."""
    return binary_scale(self.kernel.shape, self._scale_kind)

  def _create_variables(self, input_depth):
    n = self._num_units
    self.kernel = self.add_weight(
        "kernel", [input_depth + n, 4 * n],
        lambda shape, dtype: tf.random.uniform(shape, -1.0, 1.0, dtype))
    self.bias = self.add_weight("bias", [4 * n], base.zeros)

  def binary_kernel(self):
    """``[D + N, 4N]`` with values in ``{-scale, +scale}``."""
    return binarize(self.kernel, self.scale)

  def apply_constraints(self):
    """Clips the shadow kernel to [-1, 1] (call after each optimizer update)."""
    return self.kernel.assign(tf.clip_by_value(self.kernel, -1.0, 1.0))

  def _step(self, inputs, state):
    c, h = state
    new_c, new_h = lstm_step(inputs, c, h, self.binary_kernel(), self.bias,
                             self._forget_bias, self._activation)
    return new_h, LSTMStateTuple(new_c, new_h)
