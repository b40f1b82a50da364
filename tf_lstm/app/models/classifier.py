"""Sequence classifier: rows -> cell unrolled with ``static_rnn`` -> linear head."""

import tensorflow as tf

from tf_lstm import unroll
from tf_lstm.cells import base


class SequenceClassifier(tf.Module):
  """``logits = last_output @ output/kernel + output/bias`` (the TF1 MNIST model).

  With ``pooling="mean"`` the head reads the mean of all step outputs, and with
  ``input_projection=P`` each step's input first goes through a linear
  ``[input_depth, P]`` projection (the naive-LSTM study's "embedding").

  Args:
    cell: an ``RNNCell``.
    num_classes: size of the output layer.
    input_depth: depth of one time step (28 for MNIST rows).
  Call: ``images`` ``[batch, time, input_depth]`` float -> logits ``[batch, num_classes]``.
  """

  def __init__(self, cell, num_classes, input_depth, input_projection=None,
               pooling="last", name="classifier"):
    super().__init__(name=name)
    if pooling not in ("last", "mean"):
      raise ValueError(f"pooling must be 'last' or 'mean', got {pooling!r}")
    self.cell = cell
    self.num_classes = int(num_classes)
    self.input_depth = int(input_depth)
    self.pooling = pooling
    with self.name_scope:
      if input_projection:
        with tf.name_scope("projection"):
          self.projection_kernel = tf.Variable(
              base.glorot_uniform([self.input_depth, int(input_projection)]), name="kernel")
          self.projection_bias = tf.Variable(tf.zeros([int(input_projection)]), name="bias")
        cell.build(int(input_projection))
      else:
        self.projection_kernel = None
        cell.build(self.input_depth)
      with tf.name_scope("output"):
        self.output_kernel = tf.Variable(
            base.glorot_uniform([cell.output_size, self.num_classes]), name="kernel")
        self.output_bias = tf.Variable(tf.zeros([self.num_classes]), name="bias")

  def features(self, images):
    """The ``[batch, output_size]`` vector the head reads."""
    steps = images   # [B, T, D]: static_rnn unstacks it
    if self.projection_kernel is not None:
      steps = [tf.matmul(x, self.projection_kernel) + self.projection_bias
               for x in tf.unstack(images, axis=1)]
    outputs, _ = unroll.static_rnn(self.cell, steps, dtype=images.dtype)
    if self.pooling == "mean":
      return tf.add_n(outputs) / float(len(outputs))
    return outputs[-1]

  def __call__(self, images, training=False):
    del training   # no dropout: the same function in training and inference
    images = tf.convert_to_tensor(images)
    if images.shape.rank != 3 or images.shape[-1] != self.input_depth:
      raise ValueError(f"{self.name}: expected images [batch, time, {self.input_depth}], "
                       f"got shape {images.shape}")
    return tf.matmul(self.features(images), self.output_kernel) + self.output_bias
