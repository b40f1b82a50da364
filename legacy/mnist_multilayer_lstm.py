"""TF1 MNIST classifier: 2-layer LSTM (MultiRNNCell) over the image rows.

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
parity variants --cell/--num_layers/--num_units/--optimizer/--learning_rate)
and the parity harness of legacy/_parity.py (--dump_dir, --checkpoint_dir,
--test_logits_out).

Usage: python legacy/mnist_multilayer_lstm.py --data_dir=/path/to/mnist
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
  parser.add_argument("--train_steps", type=int, default=None,
                      help="training steps (default 469 = one epoch of the "
                      "60000 MNIST training digits at batch 128)")
  _parity.add_model_flags(parser, num_layers=2, num_units=128,
                          learning_rate=0.001)
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

  # Hyper parameters
  BATCH_SIZE = 128
  TIME_STEP = 28  # rnn time step / image height
  INPUT_SIZE = 28  # rnn input size / image width
  LR = flags.learning_rate
  N_HIDDEN = flags.num_units
  N_LAYERS = flags.num_layers
  N_CLASSES = 10
  TRAIN_STEPS = 469 if flags.train_steps is None else flags.train_steps

  test_x = mnist.test.images[:2000]
  test_y = mnist.test.labels[:2000]

  # tf placeholders
  tf_x = tf.placeholder(tf.float32, [None, TIME_STEP * INPUT_SIZE])
  image = tf.reshape(tf_x, [-1, TIME_STEP, INPUT_SIZE])  # (batch, h, w)
  tf_y = tf.placeholder(tf.int32, [None, N_CLASSES])  # input y

  # output layer
  weights = tf.Variable(tf.random_normal([N_HIDDEN, N_CLASSES]))
  biases = tf.Variable(tf.random_normal([N_CLASSES]))

  # RNN
  if flags.cell == "lstm":
    cells = [rnn.BasicLSTMCell(N_HIDDEN) for _ in range(N_LAYERS)]
    multi_cell = rnn.MultiRNNCell(cells) if N_LAYERS > 1 else cells[0]
  else:  # parity variants (--cell)
    multi_cell = _parity.make_cell(rnn, flags.cell, N_HIDDEN, N_LAYERS)
  inputs = tf.unstack(image, TIME_STEP, 1)
  outputs, final_state = tf.nn.static_rnn(multi_cell, inputs,
                                          dtype=tf.float32)
  output = tf.matmul(outputs[-1], weights) + biases  # output of last step

  loss = tf.reduce_mean(tf.nn.softmax_cross_entropy_with_logits(
      logits=output, labels=tf.cast(tf_y, tf.float32)))
  train_op = _parity.make_optimizer(flags.optimizer, LR).minimize(loss)

  correct = tf.equal(tf.argmax(tf_y, axis=1), tf.argmax(output, axis=1))
  accuracy = tf.reduce_mean(tf.cast(correct, tf.float32))

  sess = tf.Session()
  sess.run(tf.global_variables_initializer())

  if flags.dump_dir:
    # The harness feeds [B, 28, 28] batches straight into `image` (a feedable
    # tensor in TF1), bypassing the [B, 784] placeholder tf_x.
    saver, init_ckpt = _parity.dump(
        sess, flags.dump_dir, mnist, image, tf_y, output, loss, train_op,
        meta=dict(cell=flags.cell, num_layers=N_LAYERS, num_units=N_HIDDEN,
                  optimizer=flags.optimizer, learning_rate=LR,
                  batch_size=flags.parity_batch_size, forget_bias=1.0),
        n_steps=TIME_STEP, n_input=INPUT_SIZE, seed=flags.seed,
        steps=flags.parity_steps, batch_size=flags.parity_batch_size)
    if flags.train_steps is None:
      sess.close()
      return 0
    saver.restore(sess, init_ckpt)  # train from the initial weights

  for step in range(1, TRAIN_STEPS + 1):
    b_x, b_y = mnist.train.next_batch(BATCH_SIZE)
    _, loss_ = sess.run([train_op, loss], {tf_x: b_x, tf_y: b_y})
    if step % 50 == 0 or step == TRAIN_STEPS:
      accuracy_ = sess.run(accuracy, {tf_x: test_x, tf_y: test_y})
      print("Epoch: %d | step: %d | train loss: %.4f | test accuracy: %.4f"
            % (mnist.train.epochs_completed, step, loss_, accuracy_))

  # print 10 predictions from test data
  test_output = sess.run(output, {tf_x: test_x[:10]})
  pred_y = np.argmax(test_output, 1)
  print(pred_y, "prediction number")
  print(np.argmax(test_y[:10], 1), "real number")

  _parity.after_training(sess, flags, image, output, mnist, TIME_STEP,
                         INPUT_SIZE)
  sess.close()
  return 0


if __name__ == "__main__":
  sys.exit(main())
