"""The serving contract of image classifiers (the names are part of the API).

``serving_default``: ``images`` float32 ``[None, 28, 28]`` in [0, 1] ->
``probabilities`` float32 ``[None, 10]``, ``classes`` int64 ``[None]``,
``logits`` float32 ``[None, 10]``.
``predict_uint8``: ``images`` uint8 ``[None, 28, 28]`` raw pixels, scaled
inside the graph; same outputs.
Float inputs outside [0, 1] are clipped to it; NaN or Inf is rejected with
an ``InvalidArgumentError`` ("images must be finite").
"""

import tensorflow as tf

SHAPE = [None, 28, 28]


class ImageServing(tf.Module):
  """Wraps a model ``[B, 28, 28] -> logits`` with the two signatures."""

  def __init__(self, model):
    super().__init__(name="serving")
    self.model = model

  def _outputs(self, images):
    logits = self.model(images)
    return {
        "probabilities": tf.nn.softmax(logits),
        "classes": tf.argmax(logits, axis=1, output_type=tf.int64),
        "logits": logits,
    }

  @tf.function(input_signature=[tf.TensorSpec(SHAPE, tf.float32, name="images")])
  def serve_float(self, images):
    images = tf.debugging.assert_all_finite(images, "images must be finite")
    return self._outputs(tf.clip_by_value(images, 0.0, 1.0))

  @tf.function(input_signature=[tf.TensorSpec(SHAPE, tf.uint8, name="images")])
  def serve_uint8(self, images):
    return self._outputs(tf.cast(images, tf.float32) / 255.0)

  def signatures(self):
    return {"serving_default": self.serve_float, "predict_uint8": self.serve_uint8}
