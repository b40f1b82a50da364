"""Row-by-row image classification: MNIST and Fashion-MNIST.

Each 28x28 image is a sequence of 28 rows of 28 pixels scaled to [0, 1].
"""

import tensorflow as tf

from tf_lstm.app import models
from tf_lstm.app import settings
from tf_lstm.app.data import images as image_data
from tf_lstm.app.tasks import base
from tf_lstm.app.tasks import options
from tf_lstm.cells.registry import Option

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
  """``name`` is also the tfds name used when no ``data_dir`` is given."""

  num_classes = image_data.NUM_CLASSES
  tflite = True
  jit_serving = True
  mixed_precision = True
  model_options = (
      Option("input_projection", 0, "Linear projection of each image row to this size "
             "(0: none).", lower=0),
      Option("pooling", "last", "The head reads the last output or the mean over time.",
             choices=("last", "mean")),
      settings.BIDIRECTIONAL,
  )
  train_options = (
      Option("augment_shift", 0, "Randomly translate training images by up to N pixels "
             "(0: off).", lower=0, upper=8),
      options.DTYPE,
  )

  def load(self, data_dir):
    return image_data.load(self.name, data_dir)

  def train_arrays(self, data):
    return data.train_images, data.train_labels

  def eval_arrays(self, data):
    return data.test_images, data.test_labels

  def train_transform(self, augment_shift=0):
    def transform(images, labels, seed=None):
      images = scale(images)
      if augment_shift:
        if seed is None:
          raise ValueError("random translation needs a seed")
        images = random_shift(images, augment_shift, seed)
      return images, labels
    return transform

  def eval_transform(self):
    return lambda images, labels: (scale(images), labels)

  def build_model(self, model_config):
    cell_bw = models.cell_from_config(model_config) if model_config.bidirectional else None
    return models.SequenceClassifier(
        models.cell_from_config(model_config), self.num_classes, input_depth=WIDTH,
        input_projection=model_config.input_projection, pooling=model_config.pooling,
        cell_bw=cell_bw)

  def serving_module(self, model, jit_compile=False):
    from tf_lstm.app.export import image_serving  # Only exports need it.
    return image_serving.ImageServing(model, jit_compile=jit_compile)


# Each data set's best measured configuration (docs/training.md has the figures).
class MnistTask(ImageTask):
  name = "mnist"
  defaults = dict(num_layers=2, learning_rate=2e-3, lr_schedule="cosine", epochs=40.0,
                  augment_shift=2)


class FashionMnistTask(ImageTask):
  name = "fashion_mnist"
  defaults = dict(MnistTask.defaults, epochs=15.0, augment_shift=1)
