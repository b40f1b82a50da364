"""TF1-style reference written for tf_lstm, not an original: a bidirectional LSTM over MNIST rows.

Written here in the TF1 idiom (placeholders, tf.Session,
tf.contrib.rnn.static_bidirectional_rnn or tf.nn.bidirectional_dynamic_rnn)
as the reference of the bidirectional unrolls:
    (f_t, b_t) = BasicLSTMCell fw over rows 1..28, bw over rows 28..1
    logits = [f_28; b_28] W + b;   loss = mean softmax cross-entropy
(b_28 is the backward cell's output at the last row: it has read only that
row; TF1 programs commonly used outputs[-1] like this.)  Variables: the
head's W, b ("Variable", "Variable_1"), then
bidirectional_rnn/{fw,bw}/basic_lstm_cell/{kernel,bias} (with --num_layers > 1:
bidirectional_rnn/{fw,bw}/multi_rnn_cell/cell_K/basic_lstm_cell/...).

It runs through tf.compat.v1 with the shims of legacy/_compat.py (which keep
the TF1 import line `from tensorflow.contrib import rnn`).  Seeds, parity
records and checkpoints come from legacy/_run_with_parity.py.

  python legacy/mnist_bidirectional_rnn.py --data_dir=../shared/data/mnist-5k
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
  parser.add_argument("--unroll", choices=("static", "dynamic"), default="static",
                      help="static: rnn.static_bidirectional_rnn over 28 row "
                      "tensors; dynamic: tf.nn.bidirectional_dynamic_rnn")
  parser.add_argument("--num_units", type=int, default=128)
  parser.add_argument("--num_layers", type=int, default=1,
                      help="> 1: a MultiRNNCell of that many BasicLSTMCells each way")
  parser.add_argument("--learning_rate", type=float, default=0.001)
  parser.add_argument("--train_steps", type=int, default=469,
                      help="training steps (469 = one epoch at batch 128)")
  flags = parser.parse_args(argv)
  if flags.num_units < 1 or flags.train_steps < 1 or flags.num_layers < 1:
    parser.error("--num_units, --num_layers and --train_steps must be >= 1")
  if not flags.learning_rate > 0:
    parser.error("--learning_rate must be > 0, got %g" % flags.learning_rate)
  return flags


def main(argv=None):
  flags = parse_args(argv)
  mnist = input_data.read_data_sets(flags.data_dir, one_hot=True)
  batch_size, n_steps, n_input, n_classes = 128, 28, 28, 10

  x = tf.placeholder(tf.float32, [None, n_steps, n_input])
  y = tf.placeholder(tf.float32, [None, n_classes])
  weights = tf.Variable(tf.random_normal([2 * flags.num_units, n_classes]))
  biases = tf.Variable(tf.random_normal([n_classes]))

  def cell():
    layers = [rnn.BasicLSTMCell(flags.num_units, forget_bias=1.0)
              for _ in range(flags.num_layers)]
    return layers[0] if flags.num_layers == 1 else rnn.MultiRNNCell(layers)
  cell_fw, cell_bw = cell(), cell()
  if flags.unroll == "static":
    outputs, _, _ = rnn.static_bidirectional_rnn(
        cell_fw, cell_bw, tf.unstack(x, n_steps, 1), dtype=tf.float32)
    last = outputs[-1]
  else:
    (out_fw, out_bw), _ = tf.nn.bidirectional_dynamic_rnn(
        cell_fw, cell_bw, x, dtype=tf.float32)
    last = tf.concat([out_fw[:, -1], out_bw[:, -1]], 1)
  logits = tf.matmul(last, weights) + biases

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
        loss, acc = sess.run([cost, accuracy], feed_dict={x: batch_x, y: batch_y})
        print("step: %d / loss: %.6f / acc: %.5f" % (step, loss, acc))
    test_x = mnist.test.images.reshape((-1, n_steps, n_input))
    print("Testing Accuracy: %.5f"
          % sess.run(accuracy, feed_dict={x: test_x, y: mnist.test.labels}))


if __name__ == "__main__":
  main()
