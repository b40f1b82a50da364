"""Parity harness shared by legacy/mnist_static_rnn.py and
legacy/mnist_multilayer_lstm.py (not part of the TF1 originals).

It records what the TF1 graph does so a TF2 port can be checked against it:
initial weights, logits/loss/gradients on a fixed batch, and the losses of a
fixed training sequence.  See dump() for the record.npz layout.
"""

from __future__ import absolute_import, division, print_function

import os

import _compat  # noqa: F401  (must precede tensorflow: sets TF_USE_LEGACY_KERAS)
import numpy as np
import tensorflow.compat.v1 as tf

CELLS = ("lstm", "rnn", "gru", "lstm_full")
OPTIMIZERS = ("adam", "sgd")


def add_model_flags(parser, num_layers=1, num_units=128, learning_rate=0.001):
  """Flags that select the model variant (defaults = the TF1 original)."""
  parser.add_argument("--cell", choices=CELLS, default="lstm",
                      help="RNN cell: lstm=BasicLSTMCell, rnn=BasicRNNCell, "
                      "gru=GRUCell, lstm_full=LSTMCell with peepholes and a "
                      "num_units projection (parity variants; original: lstm)")
  parser.add_argument("--num_layers", type=int, default=num_layers,
                      help=">1 stacks cells in MultiRNNCell")
  parser.add_argument("--num_units", type=int, default=num_units,
                      help="hidden units per cell")
  parser.add_argument("--optimizer", choices=OPTIMIZERS, default="adam",
                      help="adam=AdamOptimizer, sgd=GradientDescentOptimizer")
  parser.add_argument("--learning_rate", type=float, default=learning_rate)


def add_harness_flags(parser):
  parser.add_argument("--dump_dir", default=None,
                      help="write DIR/record.npz and DIR/init_ckpt/ (parity "
                      "record of the untrained graph), then exit unless "
                      "--train_steps is also given")
  parser.add_argument("--parity_steps", type=int, default=100,
                      help="number of recorded training steps in dump mode")
  parser.add_argument("--parity_batch_size", type=int, default=32,
                      help="batch size of x0 and train_x in dump mode")
  parser.add_argument("--checkpoint_dir", default=None,
                      help="after training save a TF1 checkpoint to "
                      "DIR/model.ckpt")
  parser.add_argument("--test_logits_out", default=None,
                      help="after training write float32 logits on all test "
                      "images [N_test, 10] to this .npy file")


def make_cell(rnn, cell, num_units, num_layers, forget_bias=1.0):
  """The TF1 cell for the chosen variant (rnn = tf.nn.rnn_cell)."""
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
    raise ValueError("unknown cell %r" % cell)
  if num_layers > 1:
    return rnn.MultiRNNCell([one_cell() for _ in range(num_layers)])
  return one_cell()


def make_optimizer(optimizer, learning_rate):
  if optimizer == "adam":
    return tf.train.AdamOptimizer(learning_rate=learning_rate)
  if optimizer == "sgd":
    return tf.train.GradientDescentOptimizer(learning_rate=learning_rate)
  raise ValueError("unknown optimizer %r" % optimizer)


def _name(v):
  name = v.name
  return name[:-2] if name.endswith(":0") else name


def strided_batch(images, labels, batch_size):
  """Images 0, N//B, 2*(N//B), ... (mixes classes in a label-sorted file)."""
  n = images.shape[0]
  if batch_size > n:
    raise ValueError("batch size %d > %d training examples" % (batch_size, n))
  idx = np.arange(batch_size) * (n // batch_size)
  return idx


def training_sequence(num_examples, steps, batch_size, seed):
  """Index array [steps, batch] from one RandomState(seed) permutation with
  wraparound."""
  perm = np.random.RandomState(seed).permutation(num_examples)
  flat = (np.arange(steps * batch_size) % num_examples)
  return perm[flat].reshape(steps, batch_size)


def dump(sess, dump_dir, mnist, x, y, logits, loss, train_op, meta,
         n_steps=28, n_input=28, seed=0, steps=100, batch_size=32):
  """Writes DIR/record.npz and DIR/init_ckpt/model.ckpt.

  Must be called right after the variables were initialised (no training).
  record.npz keys (names are TF1 variable names without ":0"):
    init/<name>   initial value of every trainable variable
    x0 [B,28,28] float32, y0 [B] int64   fixed batch (strided train images)
    logits0 [B,10], loss0 (), grad/<name>   at the initial weights
    train_x [S,B,28,28] float32, train_y [S,B] int64   training sequence
    losses [S]    loss on batch k fetched in the same run as update k
    final/<name>  trainable variable values after the S updates
    cell, num_layers, num_units, optimizer, learning_rate, batch_size,
    forget_bias, seed, parity_steps   metadata (0-d arrays)
  """
  if not os.path.isdir(dump_dir):
    os.makedirs(dump_dir)
  tvars = tf.trainable_variables()
  names = [_name(v) for v in tvars]
  grads = tf.gradients(loss, tvars)
  saver = tf.train.Saver(tf.global_variables(), max_to_keep=None)

  record = {}
  for name, value in zip(names, sess.run(tvars)):
    record["init/" + name] = value
  ckpt_dir = os.path.join(dump_dir, "init_ckpt")
  if not os.path.isdir(ckpt_dir):
    os.makedirs(ckpt_dir)
  saver.save(sess, os.path.join(ckpt_dir, "model.ckpt"),
             write_meta_graph=True)

  images = mnist.train.images
  labels_1h = mnist.train.labels
  labels = np.argmax(labels_1h, axis=1).astype(np.int64)
  images3 = images.reshape((-1, n_steps, n_input)).astype(np.float32)

  idx0 = strided_batch(images3, labels, batch_size)
  x0, y0 = images3[idx0], labels[idx0]
  logits0, loss0, grads0 = sess.run(
      [logits, loss, grads], feed_dict={x: x0, y: labels_1h[idx0]})
  record.update(x0=x0, y0=y0, logits0=np.asarray(logits0, np.float32),
                loss0=np.asarray(loss0, np.float32))
  for name, g in zip(names, grads0):
    if g is None:
      raise RuntimeError("no gradient for %s" % name)
    record["grad/" + name] = g

  seq = training_sequence(images3.shape[0], steps, batch_size, seed)
  losses = np.zeros([steps], np.float32)
  for k in range(steps):
    losses[k], _ = sess.run([loss, train_op],
                            feed_dict={x: images3[seq[k]],
                                       y: labels_1h[seq[k]]})
  record.update(train_x=images3[seq], train_y=labels[seq], losses=losses)
  for name, value in zip(names, sess.run(tvars)):
    record["final/" + name] = value

  for key, value in meta.items():
    record[key] = np.asarray(value)
  record["seed"] = np.asarray(seed, np.int64)
  record["parity_steps"] = np.asarray(steps, np.int64)
  path = os.path.join(dump_dir, "record.npz")
  np.savez(path, **record)
  print("parity record: %s (%d keys), initial checkpoint: %s"
        % (path, len(record), os.path.join(ckpt_dir, "model.ckpt")))
  print("loss0 %.6f, losses[0] %.6f, losses[-1] %.6f"
        % (loss0, losses[0], losses[-1]))
  return saver, os.path.join(ckpt_dir, "model.ckpt")


def after_training(sess, flags, x, logits, mnist, n_steps=28, n_input=28):
  """--checkpoint_dir and --test_logits_out (after normal training)."""
  if flags.checkpoint_dir:
    if not os.path.isdir(flags.checkpoint_dir):
      os.makedirs(flags.checkpoint_dir)
    path = tf.train.Saver().save(
        sess, os.path.join(flags.checkpoint_dir, "model.ckpt"))
    print("checkpoint saved: %s" % path)
  if flags.test_logits_out:
    test_x = mnist.test.images.reshape((-1, n_steps, n_input))
    out = np.concatenate(
        [sess.run(logits, feed_dict={x: test_x[i:i + 1000]})
         for i in range(0, test_x.shape[0], 1000)], axis=0).astype(np.float32)
    parent = os.path.dirname(os.path.abspath(flags.test_logits_out))
    if not os.path.isdir(parent):
      os.makedirs(parent)
    np.save(flags.test_logits_out, out)
    print("test logits %s saved: %s" % (out.shape, flags.test_logits_out))
