"""TF1-style reference written for tf_lstm, not an original: a 2-layer gated-feedback LSTM on MNIST.

Written here in the TF1 idiom as a custom ``tf.contrib.rnn.RNNCell``
subclass, the reference of the GFLSTM whose results seed 000 reports; it runs
through tf.compat.v1 like legacy/mnist_multilayer_lstm.py (same data, head,
loss, optimizer).  Seeds, parity records and checkpoints come from
legacy/_run_with_parity.py.

The cell is Chung et al. 2015's gated-feedback LSTM.  Layer j (input x^j =
the layer below at this step, x^0 = the image row), h* = all layers' previous
h concatenated:
    [i, f, o] = [x^j, h^j] W_ifo + b_ifo
    g^{i->j}  = sigmoid([x^j, h*] W_g[:, i])          (one scalar per layer i)
    c~        = x^j W_cx + b_c + sum_i g^{i->j} h^i U^{i->j}
    c = c * sigmoid(f + forget_bias) + sigmoid(i) * tanh(c~);  h = tanh(c) * sigmoid(o)
Variables (per layer j, under rnn/gflstm_cell/cell_<j>/): gates/kernel
[D_j + N, 3N] (i, f, o), gates/bias [3N], candidate/input_kernel [D_j, N],
candidate/recurrent_kernel [L*N, N], candidate/bias [N], global_reset/kernel
[D_j + L*N, L] -- the layout tf_lstm.cells.GFLSTMCell documents.

Usage: python legacy/mnist_gflstm.py --data_dir=/path/to/mnist
"""

from __future__ import absolute_import, division, print_function

import argparse

import _compat  # noqa: F401  before tensorflow: TF_USE_LEGACY_KERAS, shims
import tensorflow.compat.v1 as tf
from tensorflow.contrib import rnn
from tensorflow.examples.tutorials.mnist import input_data

tf.disable_v2_behavior()


class GFLSTMCell(rnn.RNNCell):
  """Gated-feedback LSTM stack; state: tuple of LSTMStateTuple per layer."""

  def __init__(self, num_units, num_layers, forget_bias=1.0, reuse=None,
               name="gflstm_cell"):
    super(GFLSTMCell, self).__init__(_reuse=reuse, name=name)
    self._num_units = num_units
    self._num_layers = num_layers
    self._forget_bias = forget_bias

  @property
  def state_size(self):
    return tuple(rnn.LSTMStateTuple(self._num_units, self._num_units)
                 for _ in range(self._num_layers))

  @property
  def output_size(self):
    return self._num_units

  def call(self, inputs, state):
    n, num_layers = self._num_units, self._num_layers
    prev_h = [s.h for s in state]
    h_star = tf.concat(prev_h, 1)
    x = inputs
    new_state = []
    for j in range(num_layers):
      depth = x.get_shape()[1].value if hasattr(x.get_shape()[1], "value") \
          else x.get_shape()[1]
      c, h = state[j]
      with tf.variable_scope("cell_%d" % j):
        with tf.variable_scope("gates"):
          w_ifo = tf.get_variable("kernel", [depth + n, 3 * n])
          b_ifo = tf.get_variable("bias", [3 * n],
                                  initializer=tf.zeros_initializer())
        with tf.variable_scope("candidate"):
          w_cx = tf.get_variable("input_kernel", [depth, n])
          u_c = tf.get_variable("recurrent_kernel", [num_layers * n, n])
          b_c = tf.get_variable("bias", [n],
                                initializer=tf.zeros_initializer())
        with tf.variable_scope("global_reset"):
          w_g = tf.get_variable("kernel", [depth + num_layers * n, num_layers])
      i, f, o = tf.split(tf.matmul(tf.concat([x, h], 1), w_ifo) + b_ifo, 3, 1)
      g = tf.sigmoid(tf.matmul(tf.concat([x, h_star], 1), w_g))
      gated = tf.concat([g[:, k:k + 1] * prev_h[k] for k in range(num_layers)],
                        1)
      cand = tf.matmul(x, w_cx) + tf.matmul(gated, u_c) + b_c
      new_c = c * tf.sigmoid(f + self._forget_bias) + tf.sigmoid(i) * tf.tanh(
          cand)
      new_h = tf.tanh(new_c) * tf.sigmoid(o)
      new_state.append(rnn.LSTMStateTuple(new_c, new_h))
      x = new_h
    return x, tuple(new_state)


def parse_args(argv=None):
  parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
  parser.add_argument("--data_dir", required=True,
                      help="directory with the MNIST IDX files (.gz or plain)")
  parser.add_argument("--train_steps", type=int, default=469,
                      help="training steps (469 = one epoch of the 60,000 "
                      "MNIST training digits at batch 128)")
  parser.add_argument("--num_layers", type=int, default=2,
                      help="layers of the gated-feedback stack")
  parser.add_argument("--num_units", type=int, default=128,
                      help="hidden units per layer")
  parser.add_argument("--learning_rate", type=float, default=0.001)
  flags = parser.parse_args(argv)
  if flags.num_layers < 1 or flags.num_units < 1 or flags.train_steps < 1:
    parser.error("--num_layers, --num_units and --train_steps must be >= 1")
  return flags


def main(argv=None):
  flags = parse_args(argv)
  mnist = input_data.read_data_sets(flags.data_dir, one_hot=True)

  BATCH_SIZE = 128
  TIME_STEP = 28
  INPUT_SIZE = 28
  N_HIDDEN = flags.num_units
  N_CLASSES = 10
  TRAIN_STEPS = flags.train_steps
  test_x = mnist.test.images[:2000]
  test_y = mnist.test.labels[:2000]

  tf_x = tf.placeholder(tf.float32, [None, TIME_STEP * INPUT_SIZE])
  image = tf.reshape(tf_x, [-1, TIME_STEP, INPUT_SIZE])
  tf_y = tf.placeholder(tf.int32, [None, N_CLASSES])
  weights = tf.Variable(tf.random_normal([N_HIDDEN, N_CLASSES]))
  biases = tf.Variable(tf.random_normal([N_CLASSES]))

  cell = GFLSTMCell(N_HIDDEN, flags.num_layers)
  outputs, _ = rnn.static_rnn(cell, tf.unstack(image, TIME_STEP, 1),
                              dtype=tf.float32)
  output = tf.matmul(outputs[-1], weights) + biases
  loss = tf.reduce_mean(tf.nn.softmax_cross_entropy_with_logits(
      logits=output, labels=tf.cast(tf_y, tf.float32)))
  train_op = tf.train.AdamOptimizer(flags.learning_rate).minimize(loss)
  correct = tf.equal(tf.argmax(tf_y, axis=1), tf.argmax(output, axis=1))
  accuracy = tf.reduce_mean(tf.cast(correct, tf.float32))

  sess = tf.Session()
  sess.run(tf.global_variables_initializer())
  for step in range(1, TRAIN_STEPS + 1):
    b_x, b_y = mnist.train.next_batch(BATCH_SIZE)
    _, loss_ = sess.run([train_op, loss], {tf_x: b_x, tf_y: b_y})
    if step % 50 == 0 or step == TRAIN_STEPS:
      accuracy_ = sess.run(accuracy, {tf_x: test_x, tf_y: test_y})
      print("Epoch: %d | step: %d | train loss: %.4f | test accuracy: %.4f"
            % (mnist.train.epochs_completed, step, loss_, accuracy_))
  sess.close()


if __name__ == "__main__":
  main()
