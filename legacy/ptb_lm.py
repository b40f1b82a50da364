"""TF1-style reference written for tf_lstm, not an original: a PTB word-level LSTM language model.

Written here in the TF1 idiom of the PTB tutorial's model (Zaremba et al.
2014, "small" configuration by default; not a copy of it): stacked
BasicLSTMCell (forget_bias 0) unrolled num_steps steps by calling the cell,
the state fed in through placeholders and the final state fetched and fed
back for the next window (truncated BPTT), every variable U(-init_scale,
init_scale) (the cells' biases start at zero), SGD on the window's cost with
the global gradient norm clipped, the rate decayed per epoch after
--max_epoch epochs.  Runs through tf.compat.v1 with legacy Keras for the
TF1 cells (see _compat.py).  Dropout is left out (keep_prob 1).

Data: the word stream of a PTB text file (each line's words then <eos>),
vocabulary = its words by decreasing count (ties alphabetical) plus <unk>
if absent; the stream d of N ids is cut to [B, L = N // B] and window e is
x[b, t] = d[b*L + e*T + t], y = the next word, e < (L - 1) // T.
cost = sum over the T steps of the batch-mean cross-entropy (so the
gradients are T times those of the per-word mean), perplexity =
exp(sum of costs / (windows * T)).

Variables: Model/embedding [V, H], Model/RNN/multi_rnn_cell/cell_K/
basic_lstm_cell/{kernel [2H, 4H], bias [4H]}, Model/softmax_w [H, V],
Model/softmax_b [V].

  python legacy/ptb_lm.py --data_dir=../shared/data/ptb-sample \
      --train_file=ptb.valid.txt --eval_file=ptb.test.txt
  python legacy/ptb_lm.py --data_dir=... --dump_dir=DIR

--dump_dir writes DIR/init_ckpt/model.ckpt (U(-0.1, 0.1) noise added to the
cells' zero biases) and DIR/record.npz:
  vocab [V]; x, y [E, B, T] int32: every window of the training file;
    noised: the names of the noised variables
  init/<name>  initial value of every trainable variable
  logits [K, B, T, V], costs [K], state [K, L, 2, B, H] (c, h after window
    k): K windows at the initial weights, the state carried from window to
    window; reset_logits [K, B, T, V]: the same windows from the zero state
  grad/<name> (dense): d cost(window 1, state carried from window 0) / d var
  losses [S], grad_norms [S] (before clipping): cost of training step k
    (window k mod E, state reset and rate decayed at each epoch's first
    window), fetched with update k; train_state [L, 2, B, H]
    after the S steps; final/<name> the variables after them
  metadata (0-d arrays): the model and training flags
"""

from __future__ import absolute_import, division, print_function

import argparse
import collections
import os
import sys

import _compat  # noqa: F401  (must precede tensorflow: sets TF_USE_LEGACY_KERAS)
import _parity
import numpy as np
import tensorflow.compat.v1 as tf

tf.disable_v2_behavior()
rnn = tf.nn.rnn_cell  # was: tf.contrib.rnn

EOS, UNK = "<eos>", "<unk>"


def read_words(path):
  if not os.path.isfile(path):
    raise IOError("missing PTB text file %s (one sentence a line)" % path)
  with open(path) as f:
    words = f.read().replace("\n", " %s " % EOS).split()
  if not words:
    raise IOError("%s: no words" % path)
  return words


def build_vocab(words):
  counts = collections.Counter(words)
  vocab = [w for w, _ in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))]
  return vocab if UNK in counts else vocab + [UNK]


def windows(ids, batch_size, num_steps):
  """(x, y) int32 [E, B, T] of the contiguous batching (module doc)."""
  length = len(ids) // batch_size
  num_windows = (length - 1) // num_steps
  if num_windows < 1:
    raise ValueError("%d words: too few for batch_size %d x num_steps %d"
                     % (len(ids), batch_size, num_steps))
  data = np.array(ids[:batch_size * length], np.int32).reshape(batch_size, length)
  x = [data[:, e * num_steps:(e + 1) * num_steps] for e in range(num_windows)]
  y = [data[:, e * num_steps + 1:(e + 1) * num_steps + 1] for e in range(num_windows)]
  return np.array(x), np.array(y)


class PTBModel(object):
  """One window: placeholders x, y [B, T] and the initial state; cost, final state."""

  def __init__(self, flags, vocab_size):
    b, t, h = flags.batch_size, flags.num_steps, flags.num_units
    self.x = tf.placeholder(tf.int32, [b, t], name="x")
    self.y = tf.placeholder(tf.int32, [b, t], name="y")
    with tf.device("/cpu:0"):
      embedding = tf.get_variable("embedding", [vocab_size, h])
      inputs = tf.nn.embedding_lookup(embedding, self.x)
    cell = rnn.MultiRNNCell([rnn.BasicLSTMCell(h, forget_bias=flags.forget_bias)
                             for _ in range(flags.num_layers)])
    self.initial_state = tuple(
        rnn.LSTMStateTuple(tf.placeholder(tf.float32, [b, h], name="c%d" % k),
                           tf.placeholder(tf.float32, [b, h], name="h%d" % k))
        for k in range(flags.num_layers))
    state, outputs = self.initial_state, []
    with tf.variable_scope("RNN"):
      for step in range(t):
        if step:
          tf.get_variable_scope().reuse_variables()
        out, state = cell(inputs[:, step, :], state)
        outputs.append(out)
    self.final_state = state
    hidden = tf.reshape(tf.stack(outputs, 1), [-1, h])
    softmax_w = tf.get_variable("softmax_w", [h, vocab_size])
    softmax_b = tf.get_variable("softmax_b", [vocab_size])
    self.logits = tf.reshape(tf.nn.xw_plus_b(hidden, softmax_w, softmax_b),
                             [b, t, vocab_size])
    xent = tf.nn.sparse_softmax_cross_entropy_with_logits(labels=self.y,
                                                          logits=self.logits)
    self.cost = tf.reduce_sum(tf.reduce_mean(xent, 0))  # batch mean, summed over steps

    self.tvars = tf.trainable_variables()
    self.grads = tf.gradients(self.cost, self.tvars)
    clipped, self.grad_norm = tf.clip_by_global_norm(self.grads, flags.max_grad_norm)
    self.lr = tf.Variable(0.0, trainable=False, name="learning_rate")
    self.new_lr = tf.placeholder(tf.float32, [], name="new_learning_rate")
    self.set_lr = tf.assign(self.lr, self.new_lr)
    self.train_op = tf.train.GradientDescentOptimizer(self.lr).apply_gradients(
        zip(clipped, self.tvars), global_step=tf.train.get_or_create_global_step())

  def zero_state(self):
    b, h = self.x.shape.as_list()[0], self.initial_state[0].c.shape.as_list()[1]
    return tuple(rnn.LSTMStateTuple(np.zeros([b, h], np.float32), np.zeros([b, h], np.float32))
                 for _ in self.initial_state)

  def feed(self, x, y, state):
    feed = {self.x: x, self.y: y}
    for placeholders, values in zip(self.initial_state, state):
      feed[placeholders.c], feed[placeholders.h] = values.c, values.h
    return feed


def run_epoch(sess, model, x, y, train_op=None):
  """Perplexity of one pass over the windows, state carried from the zero state."""
  state, costs = model.zero_state(), 0.0
  fetches = [model.cost, model.final_state] + ([train_op] if train_op is not None else [])
  for e in range(len(x)):
    out = sess.run(fetches, model.feed(x[e], y[e], state))
    costs, state = costs + out[0], out[1]
  return np.exp(costs / (len(x) * x.shape[2]))


def learning_rate(flags, epoch):
  """The rate of epoch 0, 1, ...: constant for --max_epoch epochs, then decayed."""
  return flags.learning_rate * flags.lr_decay ** max(epoch + 1 - flags.max_epoch, 0)


def parse_args(argv=None):
  p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
  p.add_argument("--data_dir", required=True, help="folder with the PTB text files")
  p.add_argument("--train_file", default="ptb.train.txt")
  p.add_argument("--eval_file", default="ptb.test.txt",
                 help="scored after training ('' for none)")
  p.add_argument("--num_layers", type=int, default=2)
  p.add_argument("--num_units", type=int, default=200)
  p.add_argument("--num_steps", type=int, default=20)
  p.add_argument("--batch_size", type=int, default=20)
  p.add_argument("--init_scale", type=float, default=0.1)
  p.add_argument("--forget_bias", type=float, default=0.0)
  p.add_argument("--learning_rate", type=float, default=1.0)
  p.add_argument("--max_grad_norm", type=float, default=5.0)
  p.add_argument("--lr_decay", type=float, default=0.5)
  p.add_argument("--max_epoch", type=int, default=4, help="epochs at the full rate")
  p.add_argument("--max_max_epoch", type=int, default=13, help="epochs in all")
  p.add_argument("--seed", type=int, default=0)
  p.add_argument("--dump_dir", default=None,
                 help="write the parity record (see the doc) instead of training")
  p.add_argument("--parity_windows", type=int, default=3)
  p.add_argument("--parity_steps", type=int, default=20)
  p.add_argument("--checkpoint_dir", default=None, help="after training save DIR/model.ckpt")
  p.add_argument("--eval_out", default=None,
                 help="write the eval perplexity here (full precision, text)")
  p.add_argument("--vocab_out", default=None, help="write the vocabulary here, a word a line")
  flags = p.parse_args(argv)
  for name in ("num_layers", "num_units", "num_steps", "batch_size"):
    if getattr(flags, name) < 1:
      p.error("--%s must be >= 1" % name)
  if flags.parity_windows < 2:
    p.error("--parity_windows must be >= 2 (window 1 needs the state of window 0)")
  return flags


def dump(sess, model, flags, vocab, x, y):
  """The parity record of the module doc (untrained variables, biases non-zero)."""
  # The cells' biases start at zeros in TF1: noised so that two of equal shape differ.
  noised = _parity.noise_constant_variables(lambda s, fetches: s.run(fetches), sess,
                                            model.tvars, flags.seed, 0.1)
  names = [v.op.name for v in model.tvars]
  record = dict(vocab=np.array(vocab), x=x, y=y, noised=np.array(noised, dtype=str))
  for n, value in zip(names, sess.run(model.tvars)):
    record["init/" + n] = value
  ckpt_dir = os.path.join(flags.dump_dir, "init_ckpt")
  if not os.path.isdir(ckpt_dir):
    os.makedirs(ckpt_dir)
  saver = tf.train.Saver(max_to_keep=None)
  saver.save(sess, os.path.join(ckpt_dir, "model.ckpt"))

  k_windows = flags.parity_windows
  if k_windows > len(x):
    sys.exit("error: --parity_windows=%d but the file has %d windows" % (k_windows, len(x)))
  zero, state = model.zero_state(), model.zero_state()
  logits, reset_logits, costs, states = [], [], [], []
  for e in range(k_windows):
    if e == 1:   # window 1 from the state window 0 left: the gradient record
      dense = [tf.convert_to_tensor(g) for g in model.grads]  # embedding: IndexedSlices
      for n, g in zip(names, sess.run(dense, model.feed(x[e], y[e], state))):
        record["grad/" + n] = g
    lg, cost, state = sess.run([model.logits, model.cost, model.final_state],
                               model.feed(x[e], y[e], state))
    logits.append(lg)
    costs.append(cost)
    states.append([[s.c, s.h] for s in state])
    reset_logits.append(sess.run(model.logits, model.feed(x[e], y[e], zero)))
  record.update(logits=np.array(logits), reset_logits=np.array(reset_logits),
                costs=np.array(costs, np.float32), state=np.array(states))

  losses, norms = [], []
  for k in range(flags.parity_steps):
    epoch, e = divmod(k, len(x))
    if e == 0:
      state = model.zero_state()
      sess.run(model.set_lr, {model.new_lr: learning_rate(flags, epoch)})
    cost, norm, state, _ = sess.run(
        [model.cost, model.grad_norm, model.final_state, model.train_op],
        model.feed(x[e], y[e], state))
    losses.append(cost)
    norms.append(norm)
  record.update(losses=np.array(losses, np.float32), grad_norms=np.array(norms, np.float32),
                train_state=np.array([[s.c, s.h] for s in state]))
  for n, value in zip(names, sess.run(model.tvars)):
    record["final/" + n] = value
  record.update((k, np.asarray(getattr(flags, k))) for k in (
      "num_layers", "num_units", "num_steps", "batch_size", "init_scale", "forget_bias",
      "learning_rate", "max_grad_norm", "lr_decay", "max_epoch", "seed", "parity_windows",
      "parity_steps"))
  path = os.path.join(flags.dump_dir, "record.npz")
  np.savez(path, **record)
  print("parity record: %s; costs %s, losses[-1] %.6f" % (path, costs, losses[-1]))
  return saver


def main(argv=None):
  flags = parse_args(argv)
  try:
    train_words = read_words(os.path.join(flags.data_dir, flags.train_file))
    eval_words = (read_words(os.path.join(flags.data_dir, flags.eval_file))
                  if flags.eval_file else None)
  except IOError as e:
    sys.exit("error: %s" % e)
  vocab = build_vocab(train_words)
  if flags.vocab_out:
    with open(flags.vocab_out, "w") as f:
      f.write("".join(w + "\n" for w in vocab))
  word_id = dict((w, i) for i, w in enumerate(vocab))
  to_ids = lambda words: [word_id.get(w, word_id[UNK]) for w in words]
  try:
    x, y = windows(to_ids(train_words), flags.batch_size, flags.num_steps)
    eval_x, eval_y = (windows(to_ids(eval_words), flags.batch_size, flags.num_steps)
                      if eval_words else (None, None))
  except ValueError as e:
    sys.exit("error: %s" % e)
  print("%d training words, vocabulary %d, %d windows of %d x %d"
        % (len(train_words), len(vocab), len(x), flags.batch_size, flags.num_steps))

  tf.set_random_seed(flags.seed)
  initializer = tf.random_uniform_initializer(-flags.init_scale, flags.init_scale)
  with tf.variable_scope("Model", initializer=initializer):
    model = PTBModel(flags, len(vocab))
  sess = tf.Session()
  sess.run(tf.global_variables_initializer())
  if flags.dump_dir:
    dump(sess, model, flags, vocab, x, y)
    sess.close()
    return 0

  for epoch in range(flags.max_max_epoch):
    sess.run(model.set_lr, {model.new_lr: learning_rate(flags, epoch)})
    train_ppl = run_epoch(sess, model, x, y, model.train_op)
    print("epoch %d | learning rate %.4f | train perplexity %.2f"
          % (epoch + 1, learning_rate(flags, epoch), train_ppl))
  if eval_x is not None:
    eval_ppl = run_epoch(sess, model, eval_x, eval_y)
    print("eval perplexity %.2f (%s)" % (eval_ppl, flags.eval_file))
    if flags.eval_out:
      with open(flags.eval_out, "w") as f:
        f.write(repr(float(eval_ppl)) + "\n")
  if flags.checkpoint_dir:
    if not os.path.isdir(flags.checkpoint_dir):
      os.makedirs(flags.checkpoint_dir)
    path = tf.train.Saver().save(sess, os.path.join(flags.checkpoint_dir, "model.ckpt"))
    print("checkpoint saved: %s" % path)
  sess.close()
  return 0


if __name__ == "__main__":
  sys.exit(main())
