"""Unroll cases run twice: with TF1's cells and unrolls (tf-keras, in a subprocess)
and with tf_lstm's, so tests/test_tf1_surface_unrolls.py can compare them.

A case is ``(make_cells(ns), unroll(ns, cells, x, lengths))`` where ``ns`` holds
the cell classes and the unroll functions under their TF1 names; ``unroll``
returns ``(outputs, states)`` (nested structures of tensors).  Imports neither
tf_lstm nor tf-keras.
"""

import numpy as np
import tensorflow as tf

B, T, D = 3, 5, 4
LENGTHS = np.array([5, 2, 0], np.int32)   # a full row, a short one, an empty one


def inputs():
  """``x [B, T, D]`` float32 (deterministic)."""
  return np.random.RandomState(0).uniform(-1, 1, [B, T, D]).astype(np.float32)


def initial_lstm_state(ns, units):
  rng = np.random.RandomState(units)
  return ns.LSTMStateTuple(*(tf.constant(rng.uniform(-0.5, 0.5, [B, units]), tf.float32)
                             for _ in range(2)))


def _steps(x):
  return tf.unstack(x, T, 1)


def _lstm_full(ns, units):
  return ns.LSTMCell(units, use_peepholes=True, num_proj=units - 1, cell_clip=2.0)


CASES = {
    "static_lstm_lengths_initial_state": (
        lambda ns: [ns.BasicLSTMCell(6, forget_bias=0.5)],
        lambda ns, c, x, n: ns.static_rnn(c[0], _steps(x), initial_state=initial_lstm_state(ns, 6),
                                          dtype=tf.float32, sequence_length=n)),
    "static_multi_lstm_full_gru": (
        lambda ns: [ns.MultiRNNCell([_lstm_full(ns, 5), ns.GRUCell(3)])],
        lambda ns, c, x, n: ns.static_rnn(c[0], _steps(x), dtype=tf.float32)),
    "dynamic_rnn_time_major_lengths_scope": (
        lambda ns: [ns.BasicRNNCell(4)],
        lambda ns, c, x, n: ns.dynamic_rnn(c[0], tf.transpose(x, [1, 0, 2]), sequence_length=n,
                                           dtype=tf.float32, time_major=True, scope="encoder")),
    "dynamic_multi_lstm_lengths": (
        lambda ns: [ns.MultiRNNCell([ns.BasicLSTMCell(4), ns.BasicLSTMCell(3)])],
        lambda ns, c, x, n: ns.dynamic_rnn(c[0], x, sequence_length=n, dtype=tf.float32)),
    "static_bidirectional_lengths": (
        lambda ns: [ns.BasicLSTMCell(4), ns.GRUCell(3)],
        lambda ns, c, x, n: ns.static_bidirectional_rnn(c[0], c[1], _steps(x), dtype=tf.float32,
                                                        sequence_length=n)),
    "bidirectional_dynamic_lengths_initial_state": (
        lambda ns: [_lstm_full(ns, 4), ns.BasicLSTMCell(3)],
        lambda ns, c, x, n: ns.bidirectional_dynamic_rnn(
            c[0], c[1], x, sequence_length=n, initial_state_bw=initial_lstm_state(ns, 3),
            dtype=tf.float32)),
    "stack_bidirectional_static": (
        lambda ns: [ns.BasicLSTMCell(3), ns.BasicLSTMCell(3), ns.GRUCell(2), ns.GRUCell(4)],
        lambda ns, c, x, n: ns.stack_bidirectional_rnn(c[:2], c[2:], _steps(x),
                                                       dtype=tf.float32, sequence_length=n)),
    "stack_bidirectional_dynamic": (
        lambda ns: [ns.BasicLSTMCell(3), ns.BasicRNNCell(2), ns.BasicLSTMCell(2),
                    ns.BasicLSTMCell(4)],
        lambda ns, c, x, n: ns.stack_bidirectional_dynamic_rnn(
            c[:2], c[2:], x, dtype=tf.float32, sequence_length=n, scope="stack")),
}


def loss_of(results):
  """A scalar reading every output and state entry with its own weight."""
  flat = tf.nest.flatten(results)
  total = 0.0
  for k, t in enumerate(flat):
    shape = t.shape.as_list()
    w = np.cos(np.arange(int(np.prod(shape))).reshape(shape) * 0.37 + k).astype(np.float32)
    total += tf.reduce_sum(t * w)
  return total


def reuse_scenario(ns):
  """TF1's scope rules in a graph: names of what each step creates, or its error.

  Must run in a fresh ``tf.compat.v1`` graph.  Returns a list of strings.
  """
  x = tf.constant(inputs())
  log = []

  def names():
    return sorted(v.name for v in tf.compat.v1.global_variables())

  def attempt(label, fn):
    before = set(names())
    try:
      fn()
      log.append(f"{label}: " + " ".join(n for n in names() if n not in before))
    except ValueError as e:
      log.append(f"{label}: ValueError " + ("already exists" if "already exists" in str(e)
                                             else "does not exist" if "does not exist" in str(e)
                                             else str(e)))

  cell = ns.BasicLSTMCell(3)
  attempt("first", lambda: ns.static_rnn(cell, _steps(x), dtype=tf.float32))
  attempt("same cell again", lambda: ns.static_rnn(cell, _steps(x), dtype=tf.float32))
  attempt("new cell, same scope",
          lambda: ns.static_rnn(ns.BasicLSTMCell(3), _steps(x), dtype=tf.float32))

  def reuse_true():
    with tf.compat.v1.variable_scope(tf.compat.v1.get_variable_scope(), reuse=True):
      ns.static_rnn(ns.BasicLSTMCell(3), _steps(x), dtype=tf.float32)
  attempt("new cell, reuse=True", reuse_true)

  def auto_reuse():
    with tf.compat.v1.variable_scope("model", reuse=tf.compat.v1.AUTO_REUSE):
      for _ in range(2):
        ns.dynamic_rnn(ns.GRUCell(2), x, dtype=tf.float32)
  attempt("AUTO_REUSE twice", auto_reuse)

  def reuse_missing():
    with tf.compat.v1.variable_scope("fresh", reuse=True):
      ns.static_rnn(ns.BasicLSTMCell(3), _steps(x), dtype=tf.float32)
  attempt("reuse=True, nothing to reuse", reuse_missing)

  def two_cells_one_scope():
    with tf.compat.v1.variable_scope("pair"):
      ns.BasicRNNCell(2)(x[:, 0], tf.zeros([B, 2]))
      ns.BasicRNNCell(2)(x[:, 0], tf.zeros([B, 2]))
  attempt("two cells called in one scope", two_cells_one_scope)
  return log
