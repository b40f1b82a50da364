"""TF1-style reference written for tf_lstm, not an original: a CoNLL-2003 biLSTM tagger.

Written here in the TF1 idiom (placeholders, tf.Session,
tf.nn.bidirectional_dynamic_rnn, tf.train.AdamOptimizer, tf.train.Saver) as
the reference of tf_lstm's conll_pos / conll_ner model; it runs through
tf.compat.v1 with legacy Keras for the TF1 cells (see _compat.py).

Per token t of a sentence of length n (ids 0 = padding, 1 = unknown):
    x_t = [E_word[w_t]; E_case[k_t]; max_j tanh(conv1d(E_char[chars_t])_j + b)]
    (h_fw, h_bw) = bidirectional_dynamic_rnn(BasicLSTMCell fw, bw, x, n)
    logits_t = [h_fw_t; h_bw_t] W + b
    loss = sum_{t < n} CE(logits_t, tag_t) / #tokens
Features (the task's, computed here in plain Python): word = lower-cased
token with digits -> 0, in the vocabulary of training words seen >= 2 times
(most frequent first); case 1 lower, 2 Title, 3 UPPER, 4 has a digit,
5 other; the first --max_chars code points.  The char-CNN (--char_features
> 0) has width 3 over 16-dim char embeddings.

Variables: embedding, case_embedding, chars/{embedding,kernel,bias},
bidirectional_rnn/{fw,bw}/basic_lstm_cell/{kernel,bias} (or
.../multi_rnn_cell/cell_K/basic_lstm_cell/... with --num_layers > 1),
output/{kernel,bias}.

  python legacy/conll_bilstm_tagger.py --data_dir=../shared/data/conll2003 \
      --column=ner --max_sentences=2000 --train_steps=500
  python legacy/conll_bilstm_tagger.py --data_dir=... --dump_dir=DIR

--dump_dir writes DIR/init_ckpt/model.ckpt (the initial weights, U(-0.1, 0.1)
noise added to the zero biases) and DIR/record.npz:
  words, cases [N, T], chars [N, T, W], lengths [N], labels [N, T] (-1 at
    padding): the featurised training slice; vocab_words, vocab_chars, tags;
    noised: the names of the noised variables
  init/<name>  initial value of every trainable variable
  idx0 [B]; logits0 [B, T, C], loss0, grad/<name> (dense) on sentences idx0
  train_idx [S, B]; losses [S]: loss of batch k fetched with Adam update k
  final/<name>  variables after the S updates;  metadata (0-d arrays)
"""

from __future__ import absolute_import, division, print_function

import argparse
import collections
import os
import re
import sys

import _compat  # noqa: F401  (must precede tensorflow: sets TF_USE_LEGACY_KERAS)
import _parity
import numpy as np
import tensorflow.compat.v1 as tf

tf.disable_v2_behavior()
rnn = tf.nn.rnn_cell  # was: tf.contrib.rnn

CASE_DIM, CHAR_DIM, CHAR_WIDTH = 8, 16, 3
NUM_CASES = 6  # 0 pad, 1 lower, 2 Title, 3 UPPER, 4 digit, 5 other
UNK = 1  # word and char ids: 0 padding, 1 unknown, 2... the vocabulary


def read_conll(path, limit=0):
  """[(words, tags)] of the first `limit` sentences (all if 0); column 2 POS, 3 NER."""
  if not os.path.isfile(path):
    raise IOError("missing CoNLL file %s (expected 'word POS NER' lines)" % path)
  sentences, current = [], []
  with open(path) as f:
    for n, line in enumerate(f, 1):
      fields = line.split()
      if fields and fields[0] == "-DOCSTART-":
        continue
      if fields and len(fields) < 3:
        raise IOError("%s:%d: expected 'word POS NER', got %r" % (path, n, line))
      if fields:
        current.append(fields)
      elif current:
        sentences.append(current)
        current = []
      if limit and len(sentences) == limit:
        break
  if current and not (limit and len(sentences) == limit):
    sentences.append(current)
  if not sentences:
    raise IOError("%s: no sentences" % path)
  return sentences


def normalize(word):
  return re.sub("[0-9]", "0", word.lower())


def case_id(word):
  if re.search("[0-9]", word):
    return 4
  upper = [c.isupper() for c in word]
  lower = [c.islower() for c in word]
  if upper[0] and not any(upper[1:]):
    return 2
  if any(upper) and not any(lower):
    return 3
  if any(lower) and not any(upper):
    return 1
  return 5


def build_vocabs(sentences, vocab_size, min_count):
  counts = collections.Counter(normalize(tok[0]) for s in sentences for tok in s)
  ranked = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
  words = [w for w, c in ranked if c >= min_count][:vocab_size]
  chars = sorted(set(ord(ch) for s in sentences for tok in s for ch in tok[0]))
  return words, chars


def featurize(sentences, words, chars, tags, column, width, max_chars):
  """Id arrays (words, cases, chars, lengths, labels) padded to `width`."""
  word_id = dict((w, i + 2) for i, w in enumerate(words))
  char_id = dict((c, i + 2) for i, c in enumerate(chars))
  tag_id = dict((t, i) for i, t in enumerate(tags))
  n = len(sentences)
  w_ids = np.zeros([n, width], np.int32)
  c_ids = np.zeros([n, width], np.int32)
  ch_ids = np.zeros([n, width, max_chars], np.int32)
  labels = np.full([n, width], -1, np.int32)
  lengths = np.zeros([n], np.int32)
  for i, s in enumerate(sentences):
    lengths[i] = len(s)
    for t, tok in enumerate(s):
      w_ids[i, t] = word_id.get(normalize(tok[0]), UNK)
      c_ids[i, t] = case_id(tok[0])
      for j, ch in enumerate(tok[0][:max_chars]):
        ch_ids[i, t, j] = char_id.get(ord(ch), UNK)
      labels[i, t] = tag_id.get(tok[column], -1)
  return w_ids, c_ids, ch_ids, lengths, labels


def parse_args(argv=None):
  p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
  p.add_argument("--data_dir", required=True, help="folder with train.txt, test.txt")
  p.add_argument("--column", choices=("pos", "ner"), default="ner")
  p.add_argument("--max_sentences", type=int, default=0,
                 help="train on the first N sentences of train.txt (0: all)")
  p.add_argument("--max_eval_sentences", type=int, default=500)
  p.add_argument("--vocab_size", type=int, default=20000)
  p.add_argument("--min_count", type=int, default=2)
  p.add_argument("--max_chars", type=int, default=16)
  p.add_argument("--embedding_dim", type=int, default=128)
  p.add_argument("--char_features", type=int, default=30,
                 help="char-CNN filters per word (0: no char features)")
  p.add_argument("--num_units", type=int, default=128)
  p.add_argument("--num_layers", type=int, default=1)
  p.add_argument("--forget_bias", type=float, default=1.0)
  p.add_argument("--batch_size", type=int, default=32)
  p.add_argument("--learning_rate", type=float, default=1e-3)
  p.add_argument("--train_steps", type=int, default=None,
                 help="training steps (default 1000; with --dump_dir: 0)")
  p.add_argument("--seed", type=int, default=0)
  p.add_argument("--dump_dir", default=None, help="write the parity record (see the doc)")
  p.add_argument("--parity_steps", type=int, default=20)
  p.add_argument("--checkpoint_dir", default=None,
                 help="after training save DIR/model.ckpt")
  p.add_argument("--test_probs_out", default=None,
                 help="after training write FILE.npz: probs [N, T, C] (softmax) of the "
                 "--max_eval_sentences test sentences, lengths [N], tags [C]")
  flags = p.parse_args(argv)
  for name in ("embedding_dim", "num_units", "num_layers", "batch_size", "max_chars"):
    if getattr(flags, name) < 1:
      p.error("--%s must be >= 1" % name)
  return flags


def build_graph(flags, num_words, num_chars, num_tags):
  words = tf.placeholder(tf.int32, [None, None], name="words")
  cases = tf.placeholder(tf.int32, [None, None], name="cases")
  chars = tf.placeholder(tf.int32, [None, None, flags.max_chars], name="chars")
  lengths = tf.placeholder(tf.int32, [None], name="lengths")
  labels = tf.placeholder(tf.int32, [None, None], name="labels")  # -1: padding

  uniform = tf.random_uniform_initializer(-0.05, 0.05)
  embedding = tf.get_variable("embedding", [num_words, flags.embedding_dim],
                              initializer=uniform)
  case_embedding = tf.get_variable("case_embedding", [NUM_CASES, CASE_DIM],
                                   initializer=uniform)
  parts = [tf.nn.embedding_lookup(embedding, words),
           tf.nn.embedding_lookup(case_embedding, cases)]
  if flags.char_features:
    with tf.variable_scope("chars"):
      char_embedding = tf.get_variable("embedding", [num_chars, CHAR_DIM],
                                       initializer=uniform)
      kernel = tf.get_variable("kernel", [CHAR_WIDTH, CHAR_DIM, flags.char_features])
      bias = tf.get_variable("bias", [flags.char_features],
                             initializer=tf.zeros_initializer())
    emb = tf.nn.embedding_lookup(char_embedding, chars)  # [B, T, W, CHAR_DIM]
    shape = tf.shape(emb)
    flat = tf.reshape(emb, [-1, flags.max_chars, CHAR_DIM])
    conv = tf.nn.conv1d(flat, kernel, stride=1, padding="SAME") + bias
    parts.append(tf.reshape(tf.reduce_max(tf.tanh(conv), 1),
                            [shape[0], shape[1], flags.char_features]))
  inputs = tf.concat(parts, 2)

  def cell():
    cells = [rnn.BasicLSTMCell(flags.num_units, forget_bias=flags.forget_bias)
             for _ in range(flags.num_layers)]
    return cells[0] if len(cells) == 1 else rnn.MultiRNNCell(cells)
  (out_fw, out_bw), _ = tf.nn.bidirectional_dynamic_rnn(
      cell(), cell(), inputs, sequence_length=lengths, dtype=tf.float32)
  hidden = tf.concat([out_fw, out_bw], 2)
  with tf.variable_scope("output"):
    w = tf.get_variable("kernel", [2 * flags.num_units, num_tags])
    b = tf.get_variable("bias", [num_tags], initializer=tf.zeros_initializer())
  steps = tf.shape(hidden)[1]
  logits = tf.reshape(tf.matmul(tf.reshape(hidden, [-1, 2 * flags.num_units]), w) + b,
                      [-1, steps, num_tags])
  mask = tf.sequence_mask(lengths, steps, dtype=tf.float32)
  # Mean over real tokens (SUM_BY_NONZERO_WEIGHTS); padding labels are -1.
  loss = tf.losses.sparse_softmax_cross_entropy(
      labels=tf.maximum(labels, 0), logits=logits, weights=mask)
  predictions = tf.argmax(logits, 2, output_type=tf.int32)
  correct = tf.reduce_sum(tf.cast(tf.equal(predictions, labels), tf.float32) * mask)
  return dict(words=words, cases=cases, chars=chars, lengths=lengths, labels=labels,
              logits=logits, probs=tf.nn.softmax(logits), loss=loss, correct=correct,
              tokens=tf.reduce_sum(mask))


def main(argv=None):
  flags = parse_args(argv)
  col = 1 if flags.column == "pos" else 2
  try:
    train = read_conll(os.path.join(flags.data_dir, "train.txt"), flags.max_sentences)
    test = read_conll(os.path.join(flags.data_dir, "test.txt"), flags.max_eval_sentences)
  except IOError as e:
    sys.exit("error: %s" % e)
  words, chars = build_vocabs(train, flags.vocab_size, flags.min_count)
  tags = sorted(set(tok[col] for s in train for tok in s))
  width = max(len(s) for s in train)
  data = featurize(train, words, chars, tags, col, width, flags.max_chars)
  test_data = featurize(test, words, chars, tags, col, max(len(s) for s in test),
                        flags.max_chars)
  print("%d training sentences, %d words + 2, %d chars + 2, %d tags"
        % (len(train), len(words), len(chars), len(tags)))

  tf.set_random_seed(flags.seed)
  g = build_graph(flags, len(words) + 2, len(chars) + 2, len(tags))
  train_op = tf.train.AdamOptimizer(flags.learning_rate).minimize(g["loss"])
  tvars = tf.trainable_variables()
  names = [v.op.name for v in tvars]
  grads = [tf.convert_to_tensor(d) for d in tf.gradients(g["loss"], tvars)]
  keys = ("words", "cases", "chars", "lengths", "labels")

  def feed(arrays, idx):
    return dict((g[k], a[idx]) for k, a in zip(keys, arrays))

  sess = tf.Session()
  sess.run(tf.global_variables_initializer())
  train_steps = flags.train_steps
  if flags.dump_dir:
    train_steps = train_steps or 0
    record = dict(zip(keys, data))
    # Biases start at zeros in TF1: noised so that two of equal shape differ.
    record["noised"] = np.array(_parity.noise_constant_variables(
        lambda s, fetches: s.run(fetches), sess, tvars, flags.seed, 0.1), dtype=str)
    record.update(vocab_words=np.array(words), vocab_chars=np.array(chars, np.int64),
                  tags=np.array(tags))
    for n, value in zip(names, sess.run(tvars)):
      record["init/" + n] = value
    ckpt_dir = os.path.join(flags.dump_dir, "init_ckpt")
    if not os.path.isdir(ckpt_dir):
      os.makedirs(ckpt_dir)
    saver = tf.train.Saver(max_to_keep=None)
    init_ckpt = saver.save(sess, os.path.join(ckpt_dir, "model.ckpt"))
    idx0 = _parity.strided_batch(data[0], None, flags.batch_size)
    logits0, loss0, grads0 = sess.run([g["logits"], g["loss"], grads], feed(data, idx0))
    record.update(idx0=idx0, logits0=logits0, loss0=loss0)
    for n, d in zip(names, grads0):
      record["grad/" + n] = d
    seq = _parity.training_sequence(len(train), flags.parity_steps, flags.batch_size,
                                    flags.seed)
    record["train_idx"] = seq
    record["losses"] = np.array([sess.run([g["loss"], train_op], feed(data, i))[0]
                                 for i in seq], np.float32)
    for n, value in zip(names, sess.run(tvars)):
      record["final/" + n] = value
    record.update((k, np.asarray(getattr(flags, k))) for k in (
        "column", "max_sentences", "vocab_size", "min_count", "max_chars",
        "embedding_dim", "char_features", "num_units", "num_layers", "forget_bias",
        "batch_size", "learning_rate", "seed", "parity_steps"))
    path = os.path.join(flags.dump_dir, "record.npz")
    np.savez(path, **record)
    print("parity record: %s; loss0 %.6f, losses[-1] %.6f"
          % (path, loss0, record["losses"][-1]))
    saver.restore(sess, init_ckpt)   # --train_steps then trains from the recorded start
  elif train_steps is None:
    train_steps = 1000

  rng = np.random.RandomState(flags.seed)
  for step in range(1, train_steps + 1):
    idx = rng.choice(len(train), flags.batch_size, replace=False)
    loss, _ = sess.run([g["loss"], train_op], feed(data, idx))
    if step % 100 == 0 or step == train_steps:
      correct = tokens = 0.0
      for s in range(0, len(test), 256):
        c, t = sess.run([g["correct"], g["tokens"]],
                        feed(test_data, np.arange(s, min(s + 256, len(test)))))
        correct, tokens = correct + c, tokens + t
      print("step %d | train loss %.4f | test token accuracy %.4f (%d sentences; "
            "tags unseen in training count as errors)"
            % (step, loss, correct / tokens, len(test)))
  if flags.test_probs_out:
    probs = [sess.run(g["probs"], feed(test_data, np.arange(s, min(s + 256, len(test)))))
             for s in range(0, len(test), 256)]
    np.savez(flags.test_probs_out, probs=np.concatenate(probs), lengths=test_data[3],
             tags=np.array(tags))
  if flags.checkpoint_dir and train_steps:
    if not os.path.isdir(flags.checkpoint_dir):
      os.makedirs(flags.checkpoint_dir)
    path = tf.train.Saver().save(sess, os.path.join(flags.checkpoint_dir, "model.ckpt"))
    print("checkpoint saved: %s" % path)
  sess.close()
  return 0


if __name__ == "__main__":
  sys.exit(main())
