"""TF1-style reference written for tf_lstm, not an original: DropoutWrapper LSTMs on MNIST rows.

Written here in the TF1 idiom (placeholders, tf.Session, tf.contrib.rnn's
DropoutWrapper, MultiRNNCell and static_rnn) as the reference of
DropoutWrapper:
    cell_k = DropoutWrapper(BasicLSTMCell, output_keep_prob=keep_prob, seed)
    h_t = MultiRNNCell([cell_0, cell_1])(x_t, h_{t-1})  over the 28 rows x_t
    logits = h_28 W + b;   loss = mean softmax cross-entropy
keep_prob is a placeholder_with_default: --keep_prob while training, fed 1.0
(no dropout) for the test accuracy, as TF1 programs switched dropout off.
The seed makes the masks a function of the graph seed (TF1's op seeds).
Variables: the head's W, b ("Variable", "Variable_1"), then
rnn/multi_rnn_cell/cell_<k>/basic_lstm_cell/{kernel,bias} (the wrapper adds
no scope).

It runs through tf.compat.v1 with the shims of legacy/_compat.py (which keep
the TF1 import line `from tensorflow.contrib import rnn`).  Seeds, parity
records and checkpoints come from legacy/_run_with_parity.py.

  python legacy/mnist_dropout_lstm.py --data_dir=../shared/data/mnist-5k
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
  parser.add_argument("--num_layers", type=int, default=2)
  parser.add_argument("--num_units", type=int, default=128)
  parser.add_argument("--keep_prob", type=float, default=0.8,
                      help="output keep probability of each layer while training")
  parser.add_argument("--dropout_seed", type=int, default=1,
                      help="DropoutWrapper's seed (op seeds derive from it)")
  parser.add_argument("--learning_rate", type=float, default=0.001)
  parser.add_argument("--train_steps", type=int, default=469,
                      help="training steps (469 = one epoch at batch 128)")
  flags = parser.parse_args(argv)
  if flags.num_layers < 1 or flags.num_units < 1 or flags.train_steps < 1:
    parser.error("--num_layers, --num_units and --train_steps must be >= 1")
  if not 0 < flags.keep_prob <= 1:
    parser.error("--keep_prob must be in (0, 1], got %g" % flags.keep_prob)
  if not flags.learning_rate > 0:
    parser.error("--learning_rate must be > 0, got %g" % flags.learning_rate)
  return flags


def main(argv=None):
  flags = parse_args(argv)
  mnist = input_data.read_data_sets(flags.data_dir, one_hot=True)
  batch_size, n_steps, n_input, n_classes = 128, 28, 28, 10

  x = tf.placeholder(tf.float32, [None, n_steps, n_input])
  y = tf.placeholder(tf.float32, [None, n_classes])
  keep_prob = tf.placeholder_with_default(flags.keep_prob, [])
  weights = tf.Variable(tf.random_normal([flags.num_units, n_classes]))
  biases = tf.Variable(tf.random_normal([n_classes]))

  cell = rnn.MultiRNNCell([
      rnn.DropoutWrapper(rnn.BasicLSTMCell(flags.num_units, forget_bias=1.0),
                         output_keep_prob=keep_prob, seed=flags.dropout_seed)
      for _ in range(flags.num_layers)])
  outputs, _ = rnn.static_rnn(cell, tf.unstack(x, n_steps, 1), dtype=tf.float32)
  logits = tf.matmul(outputs[-1], weights) + biases

  cost = tf.reduce_mean(
      tf.nn.softmax_cross_entropy_with_logits(logits=logits, labels=y))
  optimizer = tf.train.AdamOptimizer(flags.learning_rate).minimize(cost)
  correct = tf.equal(tf.argmax(logits, 1), tf.argmax(y, 1))
  accuracy = tf.reduce_mean(tf.cast(correct, tf.float32))

  with tf.Session() as sess:
    sess.run(tf.global_variables_initializer())
    for step in range(1, flags.train_steps + 1):
      batch_x, batch_y = mnist.train.next_batch(batch_size)
      batch_x = batch_x.reshape((batch_size, n_steps, n_input))
      sess.run(optimizer, feed_dict={x: batch_x, y: batch_y})
      if step % 50 == 0 or step == flags.train_steps:
        loss, acc = sess.run([cost, accuracy],
                             feed_dict={x: batch_x, y: batch_y, keep_prob: 1.0})
        print("step: %d / loss: %.6f / acc: %.5f" % (step, loss, acc))
    test_x = mnist.test.images.reshape((-1, n_steps, n_input))
    print("Testing Accuracy: %.5f" % sess.run(
        accuracy, feed_dict={x: test_x, y: mnist.test.labels, keep_prob: 1.0}))


if __name__ == "__main__":
  main()
