"""TF1-style program written for tf_lstm's tests (not an original): a run that stops and goes on.

For each optimizer: a 1-layer BasicLSTMCell over the 28 rows of MNIST digits,
``logits = h_28 W + b`` (``Variable``, ``Variable_1``), mean sparse softmax
cross-entropy, ``tf.train.<Optimizer>.minimize(loss, global_step)``.  It trains
``--steps`` updates, saves ``OUT/<optimizer>/model.ckpt-<steps>`` (every
global variable: weights, slots, beta powers, global_step), then trains
``--steps`` more and writes ``OUT/<optimizer>/after.npz``: ``losses`` [steps]
(each fetched in the run that makes its update), ``batches`` [steps, B]
(training-set indices of those updates) and ``final/<TF1 name>`` (the weights
after them).  Batches: one ``RandomState(seed)`` permutation, consecutive
slices with wraparound.  Needs TF_USE_LEGACY_KERAS=1 and tf-keras (TF1 cells).

  TF_USE_LEGACY_KERAS=1 python tests/tf1_continuation.py --data_dir=../shared/data/mnist-5k \\
      --out_dir=/tmp/cont --optimizers=adam,rmsprop
"""

import argparse
import gzip
import os

import numpy as np
import tensorflow.compat.v1 as tf

tf.disable_v2_behavior()

OPTIMIZERS = {
    "adam": lambda lr: tf.train.AdamOptimizer(lr),
    "rmsprop": lambda lr: tf.train.RMSPropOptimizer(lr),
    "momentum": lambda lr: tf.train.MomentumOptimizer(lr, momentum=0.9),
    "sgd": lambda lr: tf.train.GradientDescentOptimizer(lr),
}


def read_idx(path):
  with gzip.open(path, "rb") as f:
    data = f.read()
  ndim = data[3]
  dims = np.frombuffer(data[4:4 + 4 * ndim], ">u4")
  return np.frombuffer(data[4 + 4 * ndim:], np.uint8).reshape(dims)


def run(name, flags, images, labels):
  out = os.path.join(flags.out_dir, name)
  os.makedirs(out, exist_ok=True)
  graph = tf.Graph()
  with graph.as_default():
    tf.set_random_seed(flags.seed)
    x = tf.placeholder(tf.float32, [None, 28, 28])
    y = tf.placeholder(tf.int64, [None])
    w = tf.Variable(tf.random_normal([flags.num_units, 10], stddev=0.1))
    b = tf.Variable(tf.zeros([10]))
    cell = tf.nn.rnn_cell.BasicLSTMCell(flags.num_units)
    outputs, _ = tf.nn.static_rnn(cell, tf.unstack(x, 28, 1), dtype=tf.float32)
    logits = tf.matmul(outputs[-1], w) + b
    loss = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(labels=y,
                                                                         logits=logits))
    global_step = tf.train.get_or_create_global_step()
    train_op = OPTIMIZERS[name](flags.learning_rate).minimize(loss, global_step=global_step)
    saver = tf.train.Saver(max_to_keep=None)
    tvars = tf.trainable_variables()
  perm = np.random.RandomState(flags.seed).permutation(len(images))
  flat = np.arange(2 * flags.steps * flags.batch_size) % len(images)
  batches = perm[flat].reshape(2 * flags.steps, flags.batch_size)
  losses = []
  with tf.Session(graph=graph) as sess:
    sess.run(tf.global_variables_initializer())
    for k, idx in enumerate(batches):
      if k == flags.steps:
        saver.save(sess, os.path.join(out, "model.ckpt"), global_step=global_step)
      value, _ = sess.run([loss, train_op], {x: images[idx], y: labels[idx]})
      losses.append(value)
    final = {"final/" + v.name[:-2]: value for v, value in zip(tvars, sess.run(tvars))}
  np.savez(os.path.join(out, "after.npz"), losses=np.array(losses[flags.steps:], np.float32),
           batches=batches[flags.steps:], **final)


def main():
  p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
  p.add_argument("--data_dir", required=True)
  p.add_argument("--out_dir", required=True)
  p.add_argument("--optimizers", default="adam,rmsprop")
  p.add_argument("--steps", type=int, default=100)
  p.add_argument("--batch_size", type=int, default=32)
  p.add_argument("--num_units", type=int, default=32)
  p.add_argument("--learning_rate", type=float, default=0.005)
  p.add_argument("--seed", type=int, default=0)
  flags = p.parse_args()
  images = read_idx(os.path.join(flags.data_dir, "train-images-idx3-ubyte.gz"))
  images = images.astype(np.float32) / np.float32(255.0)   # as tf_lstm's image tasks scale
  labels = read_idx(os.path.join(flags.data_dir, "train-labels-idx1-ubyte.gz")).astype(np.int64)
  for name in flags.optimizers.split(","):
    if name not in OPTIMIZERS:
      p.error(f"unknown optimizer {name!r}; expected one of {sorted(OPTIMIZERS)}")
    run(name, flags, images, labels)


if __name__ == "__main__":
  main()
