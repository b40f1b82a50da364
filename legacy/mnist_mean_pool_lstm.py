"""TF1-style reference written for tf_lstm, not an original: seed 004's MNIST model.

Seed 004 (a naive LSTM's README) trains "Embedding + LSTM + Average Pooling +
Linear + Softmax + Cross Entropy Loss" on MNIST with SGD at learning rate 1.0
and batch 64.  Written here in the TF1 idiom (placeholders, tf.Session,
tf.contrib.rnn's static_rnn); the "embedding" of a real-valued image row is a
linear projection:
    e_t = x_t W_in + b_in            x_t: row t of the [28, 28] image
    h_t = BasicLSTMCell(e_t, h_{t-1})
    logits = (1/28 sum_t h_t) W + b;   loss = mean softmax cross-entropy
Variables: W_in [28, P], b_in [P], rnn/basic_lstm_cell/{kernel,bias}, the
head's "Variable" [N, 10] and "Variable_1" [10].

It runs through tf.compat.v1 with the shims of legacy/_compat.py; seeds,
parity records and checkpoints come from legacy/_run_with_parity.py.

  python legacy/mnist_mean_pool_lstm.py --data_dir=../shared/data/mnist-5k
"""

from __future__ import absolute_import, division, print_function

import argparse

import _compat  # noqa: F401  before tensorflow: TF_USE_LEGACY_KERAS, shims
import tensorflow.compat.v1 as tf
from tensorflow.contrib import rnn
from tensorflow.examples.tutorials.mnist import input_data

tf.disable_v2_behavior()


def parse_args(argv=None):
  parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
  parser.add_argument("--data_dir", required=True,
                      help="directory with the MNIST IDX files (.gz or plain)")
  parser.add_argument("--input_projection", type=int, default=16,
                      help="size P of the projected rows")
  parser.add_argument("--num_units", type=int, default=32)
  parser.add_argument("--learning_rate", type=float, default=1.0)
  parser.add_argument("--epochs", type=int, default=20)
  flags = parser.parse_args(argv)
  if min(flags.input_projection, flags.num_units, flags.epochs) < 1:
    parser.error("--input_projection, --num_units and --epochs must be >= 1")
  return flags


def main(argv=None):
  flags = parse_args(argv)
  mnist = input_data.read_data_sets(flags.data_dir, one_hot=True)
  batch_size, n_steps, n_input, n_classes = 64, 28, 28, 10

  x = tf.placeholder(tf.float32, [None, n_steps, n_input])
  y = tf.placeholder(tf.float32, [None, n_classes])
  weights = tf.Variable(tf.random_normal([flags.num_units, n_classes]))
  biases = tf.Variable(tf.random_normal([n_classes]))

  rows = tf.unstack(x, n_steps, 1)
  W_in = tf.Variable(tf.random_normal([n_input, flags.input_projection],
                                      stddev=0.1), name="W_in")
  b_in = tf.Variable(tf.zeros([flags.input_projection]), name="b_in")
  embedded = [tf.matmul(row, W_in) + b_in for row in rows]
  cell = rnn.BasicLSTMCell(flags.num_units, forget_bias=1.0)
  outputs, _ = rnn.static_rnn(cell, embedded, dtype=tf.float32)
  logits = tf.matmul(tf.add_n(outputs) / float(n_steps), weights) + biases

  cost = tf.reduce_mean(
      tf.nn.softmax_cross_entropy_with_logits(logits=logits, labels=y))
  optimizer = tf.train.GradientDescentOptimizer(
      flags.learning_rate).minimize(cost)
  correct = tf.equal(tf.argmax(logits, 1), tf.argmax(y, 1))
  accuracy = tf.reduce_mean(tf.cast(correct, tf.float32))

  steps_per_epoch = mnist.train.num_examples // batch_size
  test_x = mnist.test.images.reshape((-1, n_steps, n_input))
  with tf.Session() as sess:
    sess.run(tf.global_variables_initializer())
    for epoch in range(1, flags.epochs + 1):
      for _ in range(steps_per_epoch):
        batch_x, batch_y = mnist.train.next_batch(batch_size)
        _, loss = sess.run([optimizer, cost], feed_dict={
            x: batch_x.reshape((-1, n_steps, n_input)), y: batch_y})
      print("epoch %d / loss %.6f / test accuracy %.5f" % (
          epoch, loss, sess.run(accuracy, feed_dict={
              x: test_x, y: mnist.test.labels})))


if __name__ == "__main__":
  main()
