"""Benchmark worker: the TF1 graph of legacy/ stepped with ``session.run``.

``static_rnn`` over ``BasicLSTMCell`` (``MultiRNNCell`` for several layers,
built by ``legacy/mnist_multilayer_lstm.make_cell``), softmax
cross-entropy and ``AdamOptimizer(...).minimize``; each step is
``sess.run(train_op, feed_dict)`` plus the loss, like legacy/mnist_static_rnn.py.
Runs with tf-keras (``TF_USE_LEGACY_KERAS=1``, set by legacy/_compat.py).
"""

import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "legacy"))

import _compat  # noqa: F401  pylint: disable=g-import-not-at-top  (before tensorflow)
from mnist_multilayer_lstm import make_cell  # pylint: disable=g-import-not-at-top
import _worker  # pylint: disable=g-import-not-at-top
import numpy as np
import tensorflow.compat.v1 as tf

tf.disable_v2_behavior()


def main():
  cfg = _worker.config()
  b, t, d, c = cfg["batch_size"], cfg["time_steps"], cfg["input_depth"], cfg["num_classes"]
  tf.set_random_seed(0)
  x = tf.placeholder("float", [None, t, d])
  y = tf.placeholder("float", [None, c])
  weights = tf.Variable(tf.random_normal([cfg["num_units"], c]))
  biases = tf.Variable(tf.random_normal([c]))
  cell = make_cell(cfg["cell"], cfg["num_units"], cfg["num_layers"])
  outputs, _ = tf.nn.static_rnn(cell, tf.unstack(x, t, 1), dtype=tf.float32)
  pred = tf.matmul(outputs[-1], weights) + biases
  cost = tf.reduce_mean(tf.nn.softmax_cross_entropy_with_logits(logits=pred, labels=y))
  train_op = tf.train.AdamOptimizer(learning_rate=0.001).minimize(cost)
  sess = tf.Session()
  sess.run(tf.global_variables_initializer())
  rng = np.random.RandomState(0)
  feed = {x: rng.rand(b, t, d).astype(np.float32),
          y: np.eye(c, dtype=np.float32)[rng.randint(0, c, b)]}

  def step():
    return float(sess.run([train_op, cost], feed_dict=feed)[1])

  _worker.serve(step, {"what": "tf.compat.v1 Session.run(AdamOptimizer.minimize op, feed_dict)"})


if __name__ == "__main__":
  main()
