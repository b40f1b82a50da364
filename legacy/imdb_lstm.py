"""TF1-style reference written for tf_lstm, not an original: an IMDB sentiment LSTM.

embedding -> BasicLSTMCell via tf.nn.dynamic_rnn with sequence_length -> mean
over the valid steps -> linear -> softmax, as seed 004 describes its IMDB
model.  Written here in the TF1 idiom (placeholders, tf.Session,
tf.nn.dynamic_rnn), runnable through tf.compat.v1 (legacy Keras for the TF1
cells, see _compat.py).  It reads token ids: an .npz with
``train_ids [N, T] int32``, ``train_lengths [N]``, ``train_labels [N]`` (ids
0 = padding), or the reviews themselves (--data_dir: the aclImdb tarball or
folder), tokenised in plain Python (lowercase, <br /> tags and every run of
non-letters split words), ids 0 padding, 1 unknown, 2... the --vocab_size - 2
most frequent words of the training reviews (ties alphabetical), each review
its last --max_length ids.

  python legacy/imdb_lstm.py --ids=ids.npz --vocab_size=V --train_steps=100
  python legacy/imdb_lstm.py --ids=ids.npz --vocab_size=V --dump_dir=DIR
  python legacy/imdb_lstm.py --data_dir=../shared/data/imdb --vocab_size=2000 \
      --vocab_out=vocab.txt --checkpoint_dir=DIR --test_probs_out=probs.npz

--vocab_out writes the vocabulary, one word a line in id order (<pad>, <unk>,
then the words); --test_probs_out the softmax of every test review (sorted by
label, then review id) and their labels.

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
import collections
import os
import re
import sys
import tarfile

import _compat  # noqa: F401  (must precede tensorflow: sets TF_USE_LEGACY_KERAS)
import _parity
import numpy as np
import tensorflow.compat.v1 as tf
from tensorflow.contrib import rnn

tf.disable_v2_behavior()


def parse_args(argv=None):
  p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
  source = p.add_mutually_exclusive_group(required=True)
  source.add_argument("--ids", help=".npz of train_ids/train_lengths/train_labels")
  source.add_argument("--data_dir", help="the aclImdb tarball or folder (or a dir holding it)")
  p.add_argument("--vocab_size", type=int, required=True,
                 help="embedding rows (largest id + 1)")
  p.add_argument("--max_length", type=int, default=256, help="--data_dir: ids kept a review")
  p.add_argument("--max_train", type=int, default=0,
                 help="--data_dir: vocabulary and training from this many random "
                 "training reviews (0: all)")
  p.add_argument("--vocab_out", default=None)
  p.add_argument("--test_probs_out", default=None)
  p.add_argument("--checkpoint_dir", default=None, help="after training save DIR/model.ckpt")
  p.add_argument("--embedding_dim", type=int, default=64)
  p.add_argument("--num_units", type=int, default=64)
  p.add_argument("--batch_size", type=int, default=16)
  p.add_argument("--learning_rate", type=float, default=1e-3)
  p.add_argument("--train_steps", type=int, default=10)
  p.add_argument("--seed", type=int, default=0)
  p.add_argument("--dump_dir", default=None)
  return p.parse_args(argv)


def read_reviews(data_dir):
  """{split: [(label, id, text)]} sorted by label, then id; label 0 neg, 1 pos."""
  member = re.compile(r"(?:^|/)aclImdb/(train|test)/(neg|pos)/(\d+)_\d+\.txt$")
  splits = {"train": [], "test": []}

  def add(name, read):
    m = member.search(name)
    if m:
      splits[m.group(1)].append((int(m.group(2) == "pos"), int(m.group(3)),
                                 read().decode("utf-8")))
  if os.path.isdir(data_dir) and not os.path.isdir(os.path.join(data_dir, "aclImdb")):
    tars = [n for n in sorted(os.listdir(data_dir)) if n.startswith("aclImdb")]
    data_dir = os.path.join(data_dir, tars[0]) if tars else data_dir
  if os.path.isfile(data_dir):
    with tarfile.open(data_dir) as tar:
      for m in tar:
        if m.isfile():
          add(m.name, tar.extractfile(m).read)
  else:
    for root, _, files in os.walk(data_dir):
      for n in files:
        path = os.path.join(root, n)
        add(path, lambda p=path: open(p, "rb").read())
  return dict((k, sorted(v)) for k, v in splits.items())


def tokenize(text):
  """Lowercase words: <br /> tags and every run of non-letters split them."""
  text = re.sub(r"<br\s*/?>", " ", text.lower())
  words = []
  for tok in re.findall(r"[^\W\d_]+", text):   # \w's numerals (e.g. "½") are no letters
    words.extend([tok] if tok.isalpha() else
                 "".join(c if c.isalpha() else " " for c in tok).split())
  return words


def encode(tokens, word_id, max_length):
  """ids [N, max_length] (last max_length ids, 0-padded), lengths [N]."""
  ids = np.zeros([len(tokens), max_length], np.int32)
  lengths = np.zeros([len(tokens)], np.int32)
  for i, words in enumerate(tokens):
    row = [word_id.get(w, 1) for w in words][-max_length:]
    ids[i, :len(row)] = row
    lengths[i] = len(row)
  return ids, lengths


def text_data(flags):
  """Training ids, lengths, labels and the test set from --data_dir; writes --vocab_out."""
  reviews = read_reviews(flags.data_dir)
  train = reviews["train"]
  if flags.max_train:
    pick = np.random.RandomState(flags.seed).permutation(len(train))[:flags.max_train]
    train = [train[i] for i in pick]
  train_tokens = [tokenize(t) for _, _, t in train]
  counts = collections.Counter(w for words in train_tokens for w in words)
  ranked = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
  vocab = ["<pad>", "<unk>"] + [w for w, _ in ranked[:flags.vocab_size - 2]]
  if flags.vocab_out:
    with open(flags.vocab_out, "w") as f:
      f.write("".join(w + "\n" for w in vocab))
  word_id = dict((w, i) for i, w in enumerate(vocab) if i >= 2)
  ids, lengths = encode(train_tokens, word_id, flags.max_length)
  test_ids, test_lengths = encode([tokenize(t) for _, _, t in reviews["test"]], word_id,
                                  flags.max_length)
  test = (test_ids, test_lengths, np.array([r[0] for r in reviews["test"]], np.int32))
  return ids, lengths, np.array([r[0] for r in train], np.int32), test


def main(argv=None):
  flags = parse_args(argv)
  test = None
  if flags.data_dir:
    ids, lengths, labels, test = text_data(flags)
  else:
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
    if flags.test_probs_out and test is not None:
      probs = tf.nn.softmax(logits)
      out = [sess.run(probs, {x: test[0][s:s + 2500], seq_len: test[1][s:s + 2500]})
             for s in range(0, len(test[0]), 2500)]
      np.savez(flags.test_probs_out, probs=np.concatenate(out), labels=test[2])
    if flags.checkpoint_dir:
      if not os.path.isdir(flags.checkpoint_dir):
        os.makedirs(flags.checkpoint_dir)
      print("checkpoint saved: %s" % tf.train.Saver().save(
          sess, os.path.join(flags.checkpoint_dir, "model.ckpt")))
  return 0


if __name__ == "__main__":
  sys.exit(main())
