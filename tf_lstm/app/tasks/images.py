"""Row-by-row image classification: MNIST and Fashion-MNIST.

Each 28x28 image is a sequence of 28 rows of 28 pixels scaled to [0, 1].
"""

import tensorflow as tf

from tf_lstm.app import models
from tf_lstm.app.data import images as image_data
from tf_lstm.app.tasks import base

HEIGHT = WIDTH = 28


def scale(images_uint8):
  """uint8 ``[B, 28, 28]`` -> float32 in [0, 1]."""
  return tf.cast(images_uint8, tf.float32) / 255.0


def random_shift(images, max_shift, seed):
  """Translates each image by up to ``max_shift`` pixels (zero fill), ``[B, H, W]``.

  ``seed``: a stateless ``[2]`` int seed (see ``pipeline.gather_batches``).
  """
  pad = tf.pad(images, [[0, 0], [max_shift, max_shift], [max_shift, max_shift]])
  batch = tf.shape(images)[0]
  offsets = tf.random.stateless_uniform([batch, 2], seed, 0, 2 * max_shift + 1, dtype=tf.int32)
  rows = offsets[:, :1] + tf.range(HEIGHT)[None, :]
  cols = offsets[:, 1:] + tf.range(WIDTH)[None, :]
  shifted = tf.gather(pad, rows, axis=1, batch_dims=1)
  return tf.gather(shifted, cols, axis=2, batch_dims=1)


class ImageTask(base.Task):
  """``name`` is also the tfds name used when no ``--data_dir`` is given."""

  num_classes = image_data.NUM_CLASSES
  tflite = True
  jit_serving = True
  mixed_precision = True
  # bin/train defaults per data set (mnist uses the flags' own: 40 epochs, shift 2);
  # measured figures are in the README.
  FLAG_DEFAULTS = {"fashion_mnist": dict(epochs=15, augment_shift=1)}

  def __init__(self, name):
    self.name = name
    self.flag_defaults = self.FLAG_DEFAULTS.get(name, {})

  def load(self, data_dir):
    return image_data.load(self.name, data_dir)

  def train_arrays(self, data):
    return data.train_images, data.train_labels

  def eval_arrays(self, data):
    return data.test_images, data.test_labels

  def train_transform(self, augment_shift=0):
    def transform(images, labels, seed):
      images = scale(images)
      if augment_shift:
        images = random_shift(images, augment_shift, seed)
      return images, labels
    return transform

  def eval_transform(self):
    return lambda images, labels: (scale(images), labels)

  def build_model(self, model_config):
    cell = models.make_cell(model_config.cell, model_config.num_units,
                            model_config.num_layers, model_config.forget_bias,
                            **models.cell_options(model_config))
    return models.SequenceClassifier(
        cell, self.num_classes, input_depth=WIDTH,
        input_projection=model_config.input_projection, pooling=model_config.pooling)

  def serving_module(self, model, jit_compile=False):
    from tf_lstm.app.export import image_serving  # Only exports need it.
    return image_serving.ImageServing(model, jit_compile=jit_compile)
