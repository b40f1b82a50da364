"""TF1-style reference written for tf_lstm, not an original: an IMDB sentiment LSTM.

embedding -> BasicLSTMCell via tf.nn.dynamic_rnn with sequence_length -> mean
over the valid steps -> linear -> softmax, as seed 004 describes its IMDB
model.  Written here in the TF1 idiom (placeholders, tf.Session,
tf.nn.dynamic_rnn), runnable through tf.compat.v1 (legacy Keras for the TF1
cells, see _compat.py).  It reads token ids, not text: an .npz with
``train_ids [N, T] int32``, ``train_lengths [N]``, ``train_labels [N]`` (ids
0 = padding).

  python legacy/imdb_lstm.py --ids=ids.npz --vocab_size=V --train_steps=100
  python legacy/imdb_lstm.py --ids=ids.npz --vocab_size=V --dump_dir=DIR

--dump_dir writes DIR/record.npz: init/<name> (initial variables; the
constant-initialised ones, the biases, get uniform noise in [-0.1, 0.1] so a
port that swaps biases fails; noised: their names), x0/len0/y0
(the first batch), logits0, loss0, grad/<name> (dense) at the initial
weights, losses [S] of S Adam steps over consecutive batches of the file and
final/<name> (the variables after them); DIR/init_ckpt/model.ckpt holds the
starting weights (noise included, every global variable).
"""

from __future__ import absolute_import, division, print_function

import argparse
import os
import sys

import _compat  # noqa: F401  (must precede tensorflow: sets TF_USE_LEGACY_KERAS)
import _parity
import numpy as np
import tensorflow.compat.v1 as tf
from tensorflow.contrib import rnn

tf.disable_v2_behavior()


def parse_args(argv=None):
  p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
  p.add_argument("--ids", required=True, help=".npz of train_ids/train_lengths/train_labels")
  p.add_argument("--vocab_size", type=int, required=True,
                 help="embedding rows (largest id + 1)")
  p.add_argument("--embedding_dim", type=int, default=64)
  p.add_argument("--num_units", type=int, default=64)
  p.add_argument("--batch_size", type=int, default=16)
  p.add_argument("--learning_rate", type=float, default=1e-3)
  p.add_argument("--train_steps", type=int, default=10)
  p.add_argument("--seed", type=int, default=0)
  p.add_argument("--dump_dir", default=None)
  return p.parse_args(argv)


def main(argv=None):
  flags = parse_args(argv)
  try:
    data = np.load(flags.ids)
    ids, lengths, labels = (data["train_ids"], data["train_lengths"],
                            data["train_labels"])
  except (IOError, KeyError, ValueError) as e:
    sys.exit("error: %s: %s" % (flags.ids, e))
  tf.set_random_seed(flags.seed)
  num_steps = ids.shape[1]

  x = tf.placeholder(tf.int32, [None, num_steps])
  seq_len = tf.placeholder(tf.int32, [None])
  y = tf.placeholder(tf.int32, [None])

  embedding = tf.get_variable(
      "embedding", [flags.vocab_size, flags.embedding_dim],
      initializer=tf.random_uniform_initializer(-0.05, 0.05))
  inputs = tf.nn.embedding_lookup(embedding, x)
  cell = rnn.BasicLSTMCell(flags.num_units, forget_bias=1.0)
  outputs, _ = tf.nn.dynamic_rnn(cell, inputs, sequence_length=seq_len,
                                 dtype=tf.float32)
  # outputs are zero past each length: the sum over time is the sum over valid steps.
  pooled = tf.reduce_sum(outputs, 1) / tf.maximum(
      tf.cast(seq_len, tf.float32), 1.0)[:, None]
  with tf.variable_scope("output"):
    w = tf.get_variable("kernel", [flags.num_units, 2])
    b = tf.get_variable("bias", [2], initializer=tf.zeros_initializer())
  logits = tf.matmul(pooled, w) + b
  loss = tf.reduce_mean(
      tf.nn.sparse_softmax_cross_entropy_with_logits(labels=y, logits=logits))
  train_op = tf.train.AdamOptimizer(flags.learning_rate).minimize(loss)
  tvars = tf.trainable_variables()
  grads = [tf.convert_to_tensor(g) for g in tf.gradients(loss, tvars)]

  bs = flags.batch_size
  def batch(k):
    s = (k * bs) % (len(ids) - bs + 1)
    return {x: ids[s:s + bs], seq_len: lengths[s:s + bs], y: labels[s:s + bs]}

  with tf.Session() as sess:
    sess.run(tf.global_variables_initializer())
    record = {}
    if flags.dump_dir:
      record["noised"] = np.array(_parity.noise_constant_variables(
          lambda s, f: s.run(f), sess, tvars, flags.seed, 0.1), dtype=str)
      names = [v.name[:-2] for v in tvars]
      for n, v in zip(names, sess.run(tvars)):
        record["init/" + n] = v
      ckpt_dir = os.path.join(flags.dump_dir, "init_ckpt")
      if not os.path.isdir(ckpt_dir):
        os.makedirs(ckpt_dir)
      tf.train.Saver(max_to_keep=None).save(sess, os.path.join(ckpt_dir, "model.ckpt"))
      feed = batch(0)
      l0, lg0, g0 = sess.run([loss, logits, grads], feed_dict=feed)
      record.update(x0=feed[x], len0=feed[seq_len], y0=feed[y], logits0=lg0, loss0=l0)
      for n, g in zip(names, g0):
        record["grad/" + n] = g
    losses = []
    for k in range(flags.train_steps):
      l, _ = sess.run([loss, train_op], feed_dict=batch(k))
      losses.append(l)
      print("step %d loss %.6f" % (k + 1, l))
    if flags.dump_dir:
      record["losses"] = np.asarray(losses, np.float32)
      for n, v in zip(names, sess.run(tvars)):
        record["final/" + n] = v
      record["batch_size"] = np.asarray(bs)
      record["learning_rate"] = np.asarray(flags.learning_rate)
      if not os.path.isdir(flags.dump_dir):
        os.makedirs(flags.dump_dir)
      np.savez(os.path.join(flags.dump_dir, "record.npz"), **record)
      print("parity record: %s" % os.path.join(flags.dump_dir, "record.npz"))
  return 0


if __name__ == "__main__":
  sys.exit(main())
