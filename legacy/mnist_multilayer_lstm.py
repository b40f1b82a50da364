"""TF1-style reference written for tf_lstm, not an original: stacked RNN cells over MNIST rows.

Written here in the TF1 idiom (placeholders, tf.Session, tf.contrib.rnn's
MultiRNNCell and static_rnn) as the reference of the 2-layer LSTM whose
results seed 000 reports, and of the port's cell variants:
    h_t = cell(x_t, h_{t-1})  over the 28 rows x_t of a [28, 28] image
    logits = h_28 W + b;   loss = mean softmax cross-entropy
--cell: lstm = BasicLSTMCell (the default), rnn = BasicRNNCell, gru = GRUCell,
lstm_full = LSTMCell with peepholes and a num_units projection; more than one
--num_layers stacks them in MultiRNNCell.  Variables: the head's W, b
("Variable", "Variable_1", tf.Variable's names), then the cells'
(rnn/multi_rnn_cell/cell_<k>/<cell>/..., or rnn/<cell>/... for one layer).

It runs through tf.compat.v1 with the shims of legacy/_compat.py (which keep
the TF1 import line `from tensorflow.contrib import rnn`).  Seeds, parity
records and checkpoints come from legacy/_run_with_parity.py.

  python legacy/mnist_multilayer_lstm.py --data_dir=../shared/data/mnist-5k
"""

from __future__ import absolute_import, division, print_function

import argparse

import _compat  # noqa: F401  before tensorflow: TF_USE_LEGACY_KERAS, shims
import numpy as np
import tensorflow.compat.v1 as tf
from tensorflow.contrib import rnn
from tensorflow.examples.tutorials.mnist import input_data

tf.disable_v2_behavior()

CELLS = ("lstm", "rnn", "gru", "lstm_full")


def make_cell(cell, num_units, num_layers, forget_bias=1.0):
  """The TF1 cell of the chosen variant, stacked when num_layers > 1."""
  def one_cell():
    if cell == "lstm":
      return rnn.BasicLSTMCell(num_units, forget_bias=forget_bias)
    if cell == "rnn":
      return rnn.BasicRNNCell(num_units)
    if cell == "gru":
      return rnn.GRUCell(num_units)
    if cell == "lstm_full":  # a square projection keeps the head [N, 10]
      return rnn.LSTMCell(num_units, use_peepholes=True, num_proj=num_units,
                          forget_bias=forget_bias)
    raise ValueError("unknown cell %r (expected one of %s)" % (cell, CELLS))
  if num_layers > 1:
    return rnn.MultiRNNCell([one_cell() for _ in range(num_layers)])
  return one_cell()


def make_optimizer(optimizer, learning_rate):
  if optimizer == "adam":
    return tf.train.AdamOptimizer(learning_rate=learning_rate)
  if optimizer == "sgd":
    return tf.train.GradientDescentOptimizer(learning_rate=learning_rate)
  raise ValueError("unknown optimizer %r (expected adam or sgd)" % optimizer)


def parse_args(argv=None):
  parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
  parser.add_argument("--data_dir", required=True,
                      help="directory with the MNIST IDX files (.gz or plain)")
  parser.add_argument("--cell", choices=CELLS, default="lstm")
  parser.add_argument("--num_layers", type=int, default=2)
  parser.add_argument("--num_units", type=int, default=128)
  parser.add_argument("--optimizer", choices=("adam", "sgd"), default="adam")
  parser.add_argument("--learning_rate", type=float, default=0.001)
  parser.add_argument("--train_steps", type=int, default=469,
                      help="training steps (469 = one epoch of the 60,000 "
                      "MNIST training digits at batch 128)")
  flags = parser.parse_args(argv)
  if flags.num_layers < 1 or flags.num_units < 1 or flags.train_steps < 1:
    parser.error("--num_layers, --num_units and --train_steps must be >= 1")
  if not flags.learning_rate > 0:
    parser.error("--learning_rate must be > 0, got %g" % flags.learning_rate)
  return flags


def main(argv=None):
  flags = parse_args(argv)
  mnist = input_data.read_data_sets(flags.data_dir, one_hot=True)

  BATCH_SIZE = 128
  TIME_STEP = 28  # rnn time step / image height
  INPUT_SIZE = 28  # rnn input size / image width
  N_CLASSES = 10

  test_x = mnist.test.images[:2000]
  test_y = mnist.test.labels[:2000]

  tf_x = tf.placeholder(tf.float32, [None, TIME_STEP * INPUT_SIZE])
  image = tf.reshape(tf_x, [-1, TIME_STEP, INPUT_SIZE])  # (batch, h, w)
  tf_y = tf.placeholder(tf.int32, [None, N_CLASSES])  # input y

  weights = tf.Variable(tf.random_normal([flags.num_units, N_CLASSES]))
  biases = tf.Variable(tf.random_normal([N_CLASSES]))

  cell = make_cell(flags.cell, flags.num_units, flags.num_layers)
  inputs = tf.unstack(image, TIME_STEP, 1)
  outputs, _ = rnn.static_rnn(cell, inputs, dtype=tf.float32)
  output = tf.matmul(outputs[-1], weights) + biases  # output of last step

  loss = tf.reduce_mean(tf.nn.softmax_cross_entropy_with_logits(
      logits=output, labels=tf.cast(tf_y, tf.float32)))
  train_op = make_optimizer(flags.optimizer,
                            flags.learning_rate).minimize(loss)

  correct = tf.equal(tf.argmax(tf_y, axis=1), tf.argmax(output, axis=1))
  accuracy = tf.reduce_mean(tf.cast(correct, tf.float32))

  sess = tf.Session()
  sess.run(tf.global_variables_initializer())
  for step in range(1, flags.train_steps + 1):
    b_x, b_y = mnist.train.next_batch(BATCH_SIZE)
    _, loss_ = sess.run([train_op, loss], {tf_x: b_x, tf_y: b_y})
    if step % 50 == 0 or step == flags.train_steps:
      accuracy_ = sess.run(accuracy, {tf_x: test_x, tf_y: test_y})
      print("Epoch: %d | step: %d | train loss: %.4f | test accuracy: %.4f"
            % (mnist.train.epochs_completed, step, loss_, accuracy_))

  # print 10 predictions from test data
  test_output = sess.run(output, {tf_x: test_x[:10]})
  print(np.argmax(test_output, 1), "prediction number")
  print(np.argmax(test_y[:10], 1), "real number")
  sess.close()


if __name__ == "__main__":
  main()
