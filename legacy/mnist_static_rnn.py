"""TF1 MNIST classifier: one BasicLSTMCell over the 28 rows of the image.

The original TF1 program (TensorFlow 1.x, tf.contrib era), runnable today
through tf.compat.v1.  Changes against the TF1 original -- imports only:

  - `import tensorflow as tf`
      -> `import tensorflow.compat.v1 as tf; tf.disable_v2_behavior()`
  - `from tensorflow.contrib import rnn`  ->  `rnn = tf.nn.rnn_cell`;
      tf.nn.rnn_cell has no static_rnn, so the one call
      `rnn.static_rnn(...)` reads `tf.nn.static_rnn(...)` (tf.contrib.rnn's
      static_rnn was that same function)
  - `from tensorflow.examples.tutorials.mnist import input_data`
      -> `from _compat import input_data` (local IDX reader, no download;
      importing _compat first also sets TF_USE_LEGACY_KERAS=1 so the TF1
      cells come from tf_keras instead of failing under Keras 3)

Additions that are not in the original (the model and training loop are
unchanged by default): command-line flags (--data_dir, --seed, --train_steps;
parity variants --cell/--num_layers/--num_units/--optimizer/--learning_rate,
and the naive-LSTM study's --input_projection/--pooling)
and the parity harness of legacy/_parity.py (--dump_dir, --checkpoint_dir,
--test_logits_out).

Usage: python legacy/mnist_static_rnn.py --data_dir=/path/to/mnist
"""

from __future__ import absolute_import, division, print_function

import argparse
import sys

from _compat import input_data  # before tensorflow: sets TF_USE_LEGACY_KERAS
import _parity
import numpy as np
import tensorflow.compat.v1 as tf

tf.disable_v2_behavior()
rnn = tf.nn.rnn_cell  # was: from tensorflow.contrib import rnn


def parse_args(argv=None):
  parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
  parser.add_argument("--data_dir", required=True,
                      help="directory with the MNIST IDX files (.gz or plain)")
  parser.add_argument("--seed", type=int, default=0,
                      help="tf.set_random_seed and np.random.seed")
  parser.add_argument("--training_iters", type=int, default=100000,
                      help="training examples (steps = while step*batch < "
                      "training_iters)")
  parser.add_argument("--train_steps", type=int, default=None,
                      help="number of training steps (overrides "
                      "--training_iters)")
  _parity.add_model_flags(parser, num_layers=1, num_units=128,
                          learning_rate=0.001)
  parser.add_argument("--input_projection", type=int, default=0,
                      help="study variant: each row x_t -> x_t W_in + b_in of "
                      "this size before the cell (0: off, the original)")
  parser.add_argument("--pooling", choices=("last", "mean"), default="last",
                      help="study variant: the head reads the last output "
                      "(original) or the mean of all outputs")
  _parity.add_harness_flags(parser)
  return parser.parse_args(argv)


def main(argv=None):
  flags = parse_args(argv)
  tf.set_random_seed(flags.seed)
  np.random.seed(flags.seed)

  try:
    mnist = input_data.read_data_sets(flags.data_dir, one_hot=True)
  except (IOError, ValueError) as e:
    sys.exit("error: %s" % e)

  # Parameters
  learning_rate = flags.learning_rate
  training_iters = flags.training_iters
  batch_size = 128
  display_step = 10

  # Network Parameters
  n_input = 28  # MNIST data input (img shape: 28*28)
  n_steps = 28  # timesteps
  n_hidden = flags.num_units  # hidden layer num of features
  n_classes = 10  # MNIST total classes (0-9 digits)

  # tf Graph input
  x = tf.placeholder("float", [None, n_steps, n_input])
  y = tf.placeholder("float", [None, n_classes])

  # Define weights
  weights = tf.Variable(tf.random_normal([n_hidden, n_classes]))
  biases = tf.Variable(tf.random_normal([n_classes]))

  def RNN(x, weights, biases):
    # Unstack to get a list of 'n_steps' tensors of shape (batch, n_input)
    x = tf.unstack(x, n_steps, 1)
    if flags.input_projection:  # study variant: linear input "embedding"
      W_in = tf.Variable(tf.random_normal([n_input, flags.input_projection],
                                          stddev=0.1), name="W_in")
      b_in = tf.Variable(tf.zeros([flags.input_projection]), name="b_in")
      x = [tf.matmul(row, W_in) + b_in for row in x]
    if flags.cell == "lstm" and flags.num_layers == 1:
      # Define a lstm cell with tensorflow
      lstm_cell = rnn.BasicLSTMCell(n_hidden, forget_bias=1.0)
    else:  # parity variants (--cell / --num_layers)
      lstm_cell = _parity.make_cell(rnn, flags.cell, n_hidden,
                                    flags.num_layers, forget_bias=1.0)
    # Get lstm cell output
    outputs, states = tf.nn.static_rnn(lstm_cell, x, dtype=tf.float32)
    if flags.pooling == "mean":  # study variant: mean of the step outputs
      return tf.matmul(tf.add_n(outputs) / float(n_steps), weights) + biases
    # Linear activation, using rnn inner loop last output
    return tf.matmul(outputs[-1], weights) + biases

  pred = RNN(x, weights, biases)

  # Define loss and optimizer
  cost = tf.reduce_mean(
      tf.nn.softmax_cross_entropy_with_logits(logits=pred, labels=y))
  optimizer = _parity.make_optimizer(flags.optimizer,
                                     learning_rate).minimize(cost)

  # Evaluate model
  correct_pred = tf.equal(tf.argmax(pred, 1), tf.argmax(y, 1))
  accuracy = tf.reduce_mean(tf.cast(correct_pred, tf.float32))

  # Initializing the variables
  init = tf.global_variables_initializer()

  # Launch the graph
  with tf.Session() as sess:
    sess.run(init)

    if flags.dump_dir:
      saver, init_ckpt = _parity.dump(
          sess, flags.dump_dir, mnist, x, y, pred, cost, optimizer,
          meta=dict(cell=flags.cell, num_layers=flags.num_layers,
                    num_units=n_hidden, optimizer=flags.optimizer,
                    learning_rate=learning_rate,
                    batch_size=flags.parity_batch_size, forget_bias=1.0,
                    input_projection=flags.input_projection,
                    pooling=flags.pooling),
          n_steps=n_steps, n_input=n_input, seed=flags.seed,
          steps=flags.parity_steps, batch_size=flags.parity_batch_size)
      if flags.train_steps is None:
        return 0
      saver.restore(sess, init_ckpt)  # train from the initial weights

    if flags.train_steps is not None:
      num_steps = flags.train_steps
    else:
      num_steps = (training_iters - 1) // batch_size  # while step*bs < iters

    step = 1
    # Keep training until reach max iterations
    while step <= num_steps:
      batch_x, batch_y = mnist.train.next_batch(batch_size)
      # Reshape data to get 28 seq of 28 elements
      batch_x = batch_x.reshape((batch_size, n_steps, n_input))
      # Run optimization op (backprop)
      sess.run(optimizer, feed_dict={x: batch_x, y: batch_y})
      if step % display_step == 0:
        # Calculate batch accuracy and loss
        acc, loss = sess.run([accuracy, cost],
                             feed_dict={x: batch_x, y: batch_y})
        print("step: %d / loss: %.6f / acc: %.5f" % (step, loss, acc))
      step += 1
    print("Optimization Finished!")

    # Calculate accuracy for 128 mnist test images
    test_len = 128
    test_data = mnist.test.images[:test_len].reshape((-1, n_steps, n_input))
    test_label = mnist.test.labels[:test_len]
    print("Testing Accuracy (first %d): %.5f" % (
        test_len, sess.run(accuracy, feed_dict={x: test_data,
                                                y: test_label})))
    # ... and for all test images
    test_data = mnist.test.images.reshape((-1, n_steps, n_input))
    print("Testing Accuracy (all %d): %.5f" % (
        mnist.test.num_examples,
        sess.run(accuracy, feed_dict={x: test_data, y: mnist.test.labels})))

    _parity.after_training(sess, flags, x, pred, mnist, n_steps, n_input)
  return 0


if __name__ == "__main__":
  sys.exit(main())
