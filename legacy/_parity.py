"""Parity records of a live TF1 MNIST graph: what a port must reproduce.

Not part of any original program.  _run_with_parity.py calls these on the
session of a legacy program it runs; the TF1-style references that write their
own records (conll_bilstm_tagger.py, ...) share the batch helpers.

The record (DIR/record.npz; names are TF1 variable names without ":0"):
  init/<name>   starting value of every trainable variable: the program's own
                initialisation, except that each variable it initialised to a
                constant (biases: zeros, GRU gates: ones) gets uniform noise in
                [-bias_noise, bias_noise] added, so that biases of equal shape
                differ and a port that swaps two of them fails;  noised [K]:
                their names
  x0 [B,28,28] float32, y0 [B] int64   fixed batch (strided training digits)
  logits0 [B,10], loss0 (), grad/<name>   at the starting weights
  train_x [S,B,28,28] float32, train_y [S,B] int64   training sequence
  losses [S]    loss of batch k, fetched in the same run as update k
  final/<name>  variables after the S updates (the program's own train op)
  script, optimizer ("adam", "sgd" or the class name), learning_rate,
  batch_size, seed, parity_steps, bias_noise   metadata (0-d arrays)
and DIR/init_ckpt/model.ckpt: a tf.train.Saver checkpoint of the starting
weights (noise included), which a port loads to start from the same point.
"""

from __future__ import absolute_import, division, print_function

import os

import numpy as np
import tensorflow.compat.v1 as tf

OPTIMIZER_NAMES = {"AdamOptimizer": "adam", "GradientDescentOptimizer": "sgd"}


def var_name(v):
  name = v.name
  return name[:-2] if name.endswith(":0") else name


def strided_batch(images, labels, batch_size):
  """Indices 0, N//B, 2*(N//B), ... (mixes classes in a label-sorted file)."""
  del labels  # the stride alone mixes the classes
  n = images.shape[0]
  if batch_size > n:
    raise ValueError("batch size %d > %d training examples" % (batch_size, n))
  return np.arange(batch_size) * (n // batch_size)


def training_sequence(num_examples, steps, batch_size, seed):
  """Index array [steps, batch] from one RandomState(seed) permutation with
  wraparound."""
  perm = np.random.RandomState(seed).permutation(num_examples)
  flat = (np.arange(steps * batch_size) % num_examples)
  return perm[flat].reshape(steps, batch_size)


def optimizer_description(optimizer):
  """("adam" | "sgd" | class name, learning rate) of a tf.train optimizer."""
  name = type(optimizer).__name__
  lr = getattr(optimizer, "_lr", getattr(optimizer, "_learning_rate", None))
  if not isinstance(lr, (int, float)):
    raise ValueError("%s's learning rate is %r; the parity record needs a "
                     "constant number" % (name, lr))
  return OPTIMIZER_NAMES.get(name, name), float(lr)


def noise_constant_variables(run, sess, tvars, seed, scale):
  """Adds uniform(-scale, scale) noise to each variable whose elements are all
  equal (constant-initialised); returns their names."""
  rng = np.random.RandomState(seed + 1)
  noised = []
  for v, value in zip(tvars, run(sess, tvars)):
    if scale > 0 and value.size > 1 and np.all(value == value.flat[0]):
      noise = rng.uniform(-scale, scale, size=value.shape)
      v.load((value + noise).astype(value.dtype), sess)
      noised.append(var_name(v))
  return noised


class Model(object):
  """The handles of a TF1 classifier graph that the record needs.

  x, y: the tensors the program feeds (images in the program's own shape,
  labels one-hot in y's dtype); logits [B, 10]; loss (scalar); train_op: what
  the program runs for one update.
  """

  def __init__(self, x, y, logits, loss, train_op):
    self.x, self.y, self.logits = x, y, logits
    self.loss, self.train_op = loss, train_op

  def images(self, images):
    """Images [N, 28, 28] (or [N, 784]) in x's shape."""
    return np.reshape(images, (-1,) + tuple(int(d) for d in self.x.shape[1:]))

  def feed(self, images, labels_one_hot):
    """Feed dict for images and one-hot labels [N, 10]."""
    return {self.x: self.images(images),
            self.y: labels_one_hot.astype(self.y.dtype.as_numpy_dtype)}


def dump(run, sess, dump_dir, model, mnist, meta, seed=0, steps=100,
         batch_size=32, bias_noise=0.1):
  """Writes DIR/record.npz and DIR/init_ckpt/model.ckpt; returns the prefix.

  run(sess, fetches, feed_dict=None) is Session.run without the runner's hooks.
  Call it after the program's own initialisation, before its first update;
  the updates it makes are undone by restoring the returned checkpoint.
  """
  if not os.path.isdir(dump_dir):
    os.makedirs(dump_dir)
  with sess.graph.as_default():
    tvars = tf.trainable_variables()
    names = [var_name(v) for v in tvars]
    grads = tf.gradients(model.loss, tvars)
    saver = tf.train.Saver(tf.global_variables(), max_to_keep=None)
  for name, g in zip(names, grads):
    if g is None:
      raise RuntimeError("the loss has no gradient for %s" % name)

  record = {"noised": np.array(noise_constant_variables(
      run, sess, tvars, seed, bias_noise), dtype=str)}
  for name, value in zip(names, run(sess, tvars)):
    record["init/" + name] = value
  prefix = os.path.join(dump_dir, "init_ckpt", "model.ckpt")
  if not os.path.isdir(os.path.dirname(prefix)):
    os.makedirs(os.path.dirname(prefix))
  saver.save(sess, prefix, write_meta_graph=True)

  labels_1h = mnist.train.labels
  labels = np.argmax(labels_1h, axis=1).astype(np.int64)
  images = mnist.train.images.reshape((-1, 28, 28)).astype(np.float32)

  idx0 = strided_batch(images, labels, batch_size)
  logits0, loss0, grads0 = run(sess, [model.logits, model.loss, grads],
                               model.feed(images[idx0], labels_1h[idx0]))
  record.update(x0=images[idx0], y0=labels[idx0],
                logits0=np.asarray(logits0, np.float32),
                loss0=np.asarray(loss0, np.float32))
  for name, g in zip(names, grads0):
    record["grad/" + name] = np.asarray(g)

  seq = training_sequence(images.shape[0], steps, batch_size, seed)
  losses = np.zeros([steps], np.float32)
  for k in range(steps):
    losses[k], _ = run(sess, [model.loss, model.train_op],
                       model.feed(images[seq[k]], labels_1h[seq[k]]))
  record.update(train_x=images[seq], train_y=labels[seq], losses=losses)
  for name, value in zip(names, run(sess, tvars)):
    record["final/" + name] = value

  for key, value in meta.items():
    record[key] = np.asarray(value)
  record.update(seed=np.asarray(seed, np.int64),
                parity_steps=np.asarray(steps, np.int64),
                batch_size=np.asarray(batch_size, np.int64),
                bias_noise=np.asarray(bias_noise, np.float64))
  path = os.path.join(dump_dir, "record.npz")
  np.savez(path, **record)
  print("parity record: %s (%d keys; noised: %s), starting checkpoint: %s"
        % (path, len(record), ", ".join(record["noised"]) or "none", prefix))
  print("loss0 %.6f, losses[0] %.6f, losses[-1] %.6f"
        % (loss0, losses[0], losses[-1]))
  saver.restore(sess, prefix)
  return prefix


def save_checkpoint(sess, checkpoint_dir):
  """A tf.train.Saver checkpoint of every global variable: DIR/model.ckpt."""
  if not os.path.isdir(checkpoint_dir):
    os.makedirs(checkpoint_dir)
  with sess.graph.as_default():
    saver = tf.train.Saver(tf.global_variables())
  path = saver.save(sess, os.path.join(checkpoint_dir, "model.ckpt"))
  print("checkpoint saved: %s" % path)


def save_test_logits(run, sess, model, mnist, path):
  """float32 logits on every test digit [N_test, 10] to path (.npy); prints
  the test accuracy."""
  images = mnist.test.images
  out = np.concatenate(
      [run(sess, model.logits, {model.x: model.images(images[i:i + 1000])})
       for i in range(0, images.shape[0], 1000)], axis=0).astype(np.float32)
  parent = os.path.dirname(os.path.abspath(path))
  if not os.path.isdir(parent):
    os.makedirs(parent)
  np.save(path, out)
  accuracy = np.mean(out.argmax(1) == np.argmax(mnist.test.labels, 1))
  print("test logits %s saved: %s" % (out.shape, path))
  print("test accuracy (all %d test digits): %.5f" % (out.shape[0], accuracy))
