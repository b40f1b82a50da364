"""Sequence classifier: rows -> cell(s) unrolled with ``static_rnn`` (or
``static_bidirectional_rnn``) -> linear head."""

import tensorflow as tf

from tf_lstm import unroll
from tf_lstm.cells import base
from tf_lstm.unroll import lstm_layer
from tf_lstm.unroll.native import lstm_layer as native_layer


class SequenceClassifier(tf.Module):
  """``logits = last_output @ output/kernel + output/bias`` (the TF1 MNIST model).

  With ``cell_bw`` the rows go through ``static_bidirectional_rnn`` and the
  head reads ``[f_T; b_T]`` ``[fw_size + bw_size]`` (``b_T``: the backward
  cell's output at the last row, which has read only that row, as TF1
  programs took ``outputs[-1]``).  With ``pooling="mean"`` the head reads the
  mean of all step outputs, and with ``input_projection=P`` each step's input
  first goes through a linear ``[input_depth, P]`` projection (the naive-LSTM
  study's "embedding").

  Args:
    cell: an ``RNNCell``.
    num_classes: size of the output layer.
    input_depth: depth of one time step (28 for MNIST rows).
    cell_bw: the backward ``RNNCell`` (None: unidirectional).
  Call: ``images`` ``[batch, time, input_depth]`` float -> logits ``[batch, num_classes]``.
  The training pass (``training=True``) of a plain LSTM (``lstm_layer.lstm_layers``)
  unrolls with ``lstm_layer.static_lstm`` (same function, hand-written gradient)
  while ``training_unroll`` is ``"hand"``, or with its C++ op per layer while it is
  ``"native"`` (float32); otherwise, and in inference, ``static_rnn``.
  """

  training_unroll = "hand"   # "native", "hand" or "autodiff"; the training loop may
                             # choose by timing

  def __init__(self, cell, num_classes, input_depth, input_projection=None,
               pooling="last", cell_bw=None, name="classifier"):
    super().__init__(name=name)
    if pooling not in ("last", "mean"):
      raise ValueError(f"pooling must be 'last' or 'mean', got {pooling!r}")
    self.cell, self.cell_bw = cell, cell_bw
    self.num_classes = int(num_classes)
    self.input_depth = int(input_depth)
    self.pooling = pooling
    with self.name_scope:
      depth = self.input_depth
      self.projection_kernel = None
      if input_projection:
        depth = int(input_projection)
        with tf.name_scope("projection"):
          self.projection_kernel = tf.Variable(
              base.glorot_uniform([self.input_depth, depth]), name="kernel")
          self.projection_bias = tf.Variable(tf.zeros([depth]), name="bias")
      features = 0
      for c in (cell, cell_bw):
        if c is not None:
          c.build(depth)
          features += c.output_size
      with tf.name_scope("output"):
        self.output_kernel = tf.Variable(
            base.glorot_uniform([features, self.num_classes]), name="kernel")
        self.output_bias = tf.Variable(tf.zeros([self.num_classes]), name="bias")

  def features(self, images, training=False):
    """The ``[batch, output_size]`` vector the head reads."""
    steps = images   # [B, T, D]: static_rnn unstacks it
    if self.projection_kernel is not None:
      steps = [tf.matmul(x, self.projection_kernel) + self.projection_bias
               for x in tf.unstack(images, axis=1)]
    if self.cell_bw is None:
      # "native" runs in its op's dtypes only: others take the hand-written layer.
      native = self.training_unroll == "native" and images.dtype in native_layer.DTYPES
      if (training and self.training_unroll in ("native", "hand")
          and images.dtype in lstm_layer.DTYPES and lstm_layer.lstm_layers(self.cell) is not None):
        outputs, _ = lstm_layer.static_lstm(self.cell, steps, dtype=images.dtype, native=native)
      else:
        outputs, _ = unroll.static_rnn(self.cell, steps, dtype=images.dtype)
    else:
      outputs, _, _ = unroll.static_bidirectional_rnn(self.cell, self.cell_bw, steps,
                                                      dtype=images.dtype)
    if self.pooling == "mean":
      return tf.add_n(outputs) / float(len(outputs))
    return outputs[-1]

  def __call__(self, images, training=False):
    # No dropout: the same function in training and inference (training only
    # picks how the LSTM is unrolled).
    images = tf.convert_to_tensor(images)
    if images.shape.rank != 3 or images.shape[-1] != self.input_depth:
      raise ValueError(f"{self.name}: expected images [batch, time, {self.input_depth}], "
                       f"got shape {images.shape}")
    return (tf.matmul(self.features(images, training), self.output_kernel)
            + self.output_bias)
