"""TF1-style reference written for tf_lstm, not an original: a binary-weight LSTM on MNIST.

Written here in the TF1 idiom (BinaryConnect on BasicLSTMCell) as the
reference of the binary-weight LSTM whose grid seed 002 reports; it runs
through tf.compat.v1 like legacy/mnist_multilayer_lstm.py.  Seeds, parity
records and checkpoints come from legacy/_run_with_parity.py.

Each layer is a BasicLSTMCell whose kernel is binarised in the forward pass
with the classic TF1 straight-through trick
(``gradient_override_map({"Sign": "Identity"})``):
    W_b = H * sign(W),   H = sqrt(6 / (fan_in + fan_out))   (BinaryConnect's H)
and the real "shadow" kernels W are clipped to [-1, 1] after every Adam
update.  Biases and the output layer stay real.  Variable names are
BasicLSTMCell's under the cell name ``binary_lstm_cell``.

Usage: python legacy/mnist_binary_lstm.py --data_dir=/path/to/mnist \
           --num_layers=2 --hidden_size=128 --learning_rate=0.001 --epochs=5
"""

from __future__ import absolute_import, division, print_function

import argparse
import math

import _compat  # noqa: F401  before tensorflow: TF_USE_LEGACY_KERAS, shims
import numpy as np
import tensorflow.compat.v1 as tf
from tensorflow.contrib import rnn
from tensorflow.examples.tutorials.mnist import input_data

tf.disable_v2_behavior()


class BinaryLSTMCell(rnn.BasicLSTMCell):
  """BasicLSTMCell computing with H * sign(kernel) instead of kernel."""

  def build(self, inputs_shape):
    super(BinaryLSTMCell, self).build(inputs_shape)
    # Shadow weights start uniform in [-1, 1] (they are clipped there).
    self._kernel_init = tf.assign(
        self._kernel, tf.random_uniform(self._kernel.shape, -1.0, 1.0))
    tf.add_to_collection("binary_shadow_kernels", self._kernel)

  def call(self, inputs, state):
    c, h = state
    fan_in, fan_out = [int(d) for d in self._kernel.shape]
    scale = math.sqrt(6.0 / (fan_in + fan_out))
    with tf.get_default_graph().gradient_override_map({"Sign": "Identity"}):
      kernel_b = scale * tf.sign(self._kernel)
    gates = tf.nn.bias_add(tf.matmul(tf.concat([inputs, h], 1), kernel_b),
                           self._bias)
    i, j, f, o = tf.split(gates, 4, axis=1)
    new_c = c * tf.sigmoid(f + self._forget_bias) + tf.sigmoid(i) * tf.tanh(j)
    new_h = tf.tanh(new_c) * tf.sigmoid(o)
    return new_h, rnn.LSTMStateTuple(new_c, new_h)


def parse_args(argv=None):
  parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
  parser.add_argument("--data_dir", required=True,
                      help="directory with the MNIST IDX files (.gz or plain)")
  parser.add_argument("--num_layers", type=int, default=1, choices=(1, 2, 3),
                      help="stacked binary LSTM layers (1-3)")
  parser.add_argument("--hidden_size", type=int, default=128,
                      help="units per layer")
  parser.add_argument("--learning_rate", type=float, default=0.001)
  parser.add_argument("--epochs", type=float, default=5,
                      help="passes over the training set (batch 128)")
  flags = parser.parse_args(argv)
  if flags.hidden_size < 1:
    parser.error("--hidden_size must be >= 1, got %d" % flags.hidden_size)
  if not flags.learning_rate > 0 or not flags.epochs > 0:
    parser.error("--learning_rate and --epochs must be > 0")
  return flags


def main(argv=None):
  flags = parse_args(argv)
  mnist = input_data.read_data_sets(flags.data_dir, one_hot=True)

  BATCH_SIZE = 128
  TIME_STEP = 28
  INPUT_SIZE = 28
  N_HIDDEN = flags.hidden_size
  N_CLASSES = 10
  TRAIN_STEPS = int(round(flags.epochs * mnist.train.num_examples / BATCH_SIZE))

  tf_x = tf.placeholder(tf.float32, [None, TIME_STEP * INPUT_SIZE])
  image = tf.reshape(tf_x, [-1, TIME_STEP, INPUT_SIZE])
  tf_y = tf.placeholder(tf.int32, [None, N_CLASSES])
  weights = tf.Variable(tf.random_normal([N_HIDDEN, N_CLASSES]))
  biases = tf.Variable(tf.random_normal([N_CLASSES]))

  cells = [BinaryLSTMCell(N_HIDDEN) for _ in range(flags.num_layers)]
  cell = rnn.MultiRNNCell(cells) if flags.num_layers > 1 else cells[0]
  outputs, _ = rnn.static_rnn(cell, tf.unstack(image, TIME_STEP, 1),
                              dtype=tf.float32)
  output = tf.matmul(outputs[-1], weights) + biases
  loss = tf.reduce_mean(tf.nn.softmax_cross_entropy_with_logits(
      logits=output, labels=tf.cast(tf_y, tf.float32)))
  minimize = tf.train.AdamOptimizer(flags.learning_rate).minimize(loss)
  shadows = tf.get_collection("binary_shadow_kernels")
  with tf.control_dependencies([minimize]):
    train_op = tf.group(*[tf.assign(w, tf.clip_by_value(w, -1.0, 1.0))
                          for w in shadows])
  correct = tf.equal(tf.argmax(tf_y, axis=1), tf.argmax(output, axis=1))
  accuracy = tf.reduce_mean(tf.cast(correct, tf.float32))

  sess = tf.Session()
  sess.run(tf.global_variables_initializer())
  sess.run([c._kernel_init for c in cells])
  test_x = mnist.test.images
  test_y = mnist.test.labels
  for step in range(1, TRAIN_STEPS + 1):
    b_x, b_y = mnist.train.next_batch(BATCH_SIZE)
    _, loss_ = sess.run([train_op, loss], {tf_x: b_x, tf_y: b_y})
    if step % 50 == 0 or step == TRAIN_STEPS:
      print("Epoch: %d | step: %d | train loss: %.4f"
            % (mnist.train.epochs_completed, step, loss_))
  acc = np.mean([sess.run(accuracy, {tf_x: test_x[i:i + 1000],
                                     tf_y: test_y[i:i + 1000]})
                 for i in range(0, test_x.shape[0], 1000)])
  print("test accuracy: %.4f" % acc)
  sess.close()


if __name__ == "__main__":
  main()
