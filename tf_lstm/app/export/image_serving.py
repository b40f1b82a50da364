"""The serving contract of image classifiers (the names are part of the API).

``serving_default``: ``images`` float32 ``[None, 28, 28]`` in [0, 1] ->
``probabilities`` float32 ``[None, 10]``, ``classes`` int64 ``[None]``,
``logits`` float32 ``[None, 10]``.
``predict_uint8``: ``images`` uint8 ``[None, 28, 28]`` raw pixels, scaled
inside the graph; same outputs.
Float inputs outside [0, 1] are clipped to it; NaN or Inf is rejected with
an ``InvalidArgumentError`` ("images must be finite").  A tensor of another
shape is rejected in the graph ("... is not compatible with expected shape
[?,28,28]"), since the loaded signature itself does not check shapes; more
than ``request_limits.MAX_REQUEST_IMAGES`` images, before any is converted.

With ``jit_compile=True`` the network (not the input checks) is an XLA
function: the lowest batch-1 latency on CPU (``benchmarks/export_latency.py``).
XLA compiles once per input shape, so the batch is zero-padded up to the next
power of two (``bucket_size``) and the outputs cut back: a server compiles at
most once per bucket (1, 2, ..., 2^16 = ``MAX_REQUEST_IMAGES``: 17 times), not
once per batch size.
TensorFlow Serving runs it only with ``--xla_cpu_compilation_enabled=true``.
Off by default.
"""

import tensorflow as tf

from tf_lstm.app import precision
from tf_lstm.app.export import request_limits as limits

SHAPE = [None, 28, 28]


def bucket_size(batch):
  """The smallest power of two >= ``batch`` (1 for 0): int32 scalar tensor."""
  batch = tf.cast(tf.maximum(batch, 1), tf.float64)
  # log2 of an exact power of two may come out a hair above the integer.
  exponent = tf.math.ceil(tf.math.log(batch) / tf.math.log(tf.constant(2.0, tf.float64)) - 1e-9)
  return tf.cast(tf.pow(tf.constant(2.0, tf.float64), exponent), tf.int32)


class ImageServing(tf.Module):
  """Wraps a model ``[B, 28, 28] -> logits`` with the two signatures."""

  def __init__(self, model, jit_compile=False):
    super().__init__(name="serving")
    self.model = model
    # Every variable read once per request, not once per unrolled step.
    forward = precision.read_once(model, model)
    if jit_compile:
      xla_forward = tf.function(forward, jit_compile=True)

      def bucketed(images):
        batch = tf.shape(images)[0]
        padding = bucket_size(batch) - batch
        padded = tf.pad(images, [[0, padding], [0, 0], [0, 0]])
        return xla_forward(padded)[:batch]
      self._logits = bucketed
    else:
      self._logits = forward

  @staticmethod
  def _outputs(logits):
    return {
        "probabilities": tf.nn.softmax(logits),
        "classes": tf.argmax(logits, axis=1, output_type=tf.int64),
        "logits": logits,
    }

  @staticmethod
  def _check_images(images):
    # Signatures of a loaded SavedModel (and TF Serving) do not enforce the
    # declared shape; EnsureShape fails at run time with the expected shape.
    images = tf.ensure_shape(images, SHAPE, name="check_images_shape")
    return limits.check_rows(images, "images", limits.MAX_REQUEST_IMAGES)

  @tf.function(input_signature=[tf.TensorSpec(SHAPE, tf.float32, name="images")])
  def serve_float(self, images):
    images = self._check_images(images)
    images = tf.debugging.assert_all_finite(images, "images must be finite")
    return self._outputs(self._logits(tf.clip_by_value(images, 0.0, 1.0)))

  @tf.function(input_signature=[tf.TensorSpec(SHAPE, tf.uint8, name="images")])
  def serve_uint8(self, images):
    images = self._check_images(images)
    return self._outputs(self._logits(tf.cast(images, tf.float32) / 255.0))

  def signatures(self):
    return {"serving_default": self.serve_float, "predict_uint8": self.serve_uint8}

  def tflite_function(self):
    """``serving_default`` without the run-time checks, for the TFLite model.

    TFLite has no ``CheckNumerics`` builtin and its interpreter checks input
    shapes itself, so NaN is not rejected there (it is still clipped).
    """
    clipped = lambda images: tf.clip_by_value(images, 0.0, 1.0)
    fn = tf.function(lambda images: self._outputs(self.model(clipped(images))),
                     input_signature=[tf.TensorSpec(SHAPE, tf.float32, name="images")])
    return fn.get_concrete_function()
