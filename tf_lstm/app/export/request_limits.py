"""What one serving request may be: size limits and shape checks (docs/serving.md).

A request's memory grows with its padded positions (``batch x width``: ids,
embeddings, RNN outputs) and, while tokenising, with its bytes of text; the
language model's outputs with ``batch x time x vocabulary``.  Each check here
returns its input behind a control dependency on the check, so whatever is
computed from the result (tokenising, padding, the model) runs only once the
check passed: an oversized request is refused before its large tensors exist,
with an ``InvalidArgumentError`` naming the limit and the request's size.
Empty requests (no rows, or rows of width 0) are answered as padded ones
(``at_least_one_position``) or, where no answer exists, refused (``check_width``).
"""

import tensorflow as tf

# Text bytes in one request (the sum of its strings' lengths), checked before
# tokenising; tokenising takes a few times the text's size.
MAX_REQUEST_BYTES = 8 * 2**20
# Padded positions in one request (``batch x max(width, 1)``: an empty row still
# costs one).  A full request to the default IMDB export adds ~0.6 GiB to the
# server's peak memory (benchmarks/serving_request_memory.py; docs/serving.md).
MAX_REQUEST_POSITIONS = 2**18
# Language model: ``batch x time x vocabulary`` values in each of ``logits`` and
# ``probabilities`` (256 MiB each as float32).
MAX_REQUEST_OUTPUTS = 2**26
# Images (rows of ``[28, 28]``) in one request: ~9 KB each in the server for the
# default 1 x LSTM(128) classifier, so 2^16 add ~0.6 GiB, as a full text request
# does (docs/serving.md).
MAX_REQUEST_IMAGES = 2**16


def _after(checks, tensors):
  """``tensors`` (a structure) made to depend on ``checks`` (ops, ``None`` ignored)."""
  with tf.control_dependencies([c for c in checks if c is not None]):
    return tf.nest.map_structure(tf.identity, tensors)


def _refuse_above(size, limit, what, tensors):
  """``tensors`` once ``size <= limit``; else an error "request too large: <what> = <size> ..."."""
  size, limit = tf.cast(size, tf.int64), tf.constant(limit, tf.int64)
  message = tf.strings.join(["request too large: ", what, tf.strings.format(
      " = {}, more than the limit of {} per request (see docs/serving.md)", (size, limit))])
  check = tf.debugging.Assert(size <= limit, [message])
  return _after([check], tensors)


def check_text_bytes(strings, limit=MAX_REQUEST_BYTES):
  """``strings`` (any shape) once their total bytes are ``<= limit``."""
  total = tf.reduce_sum(tf.cast(tf.strings.length(strings), tf.int64))
  return _refuse_above(total, limit, "bytes of text", strings)


def check_positions(batch, width, tensors, limit=MAX_REQUEST_POSITIONS):
  """``tensors`` once ``batch x max(width, 1) <= limit``."""
  batch, width = tf.cast(batch, tf.int64), tf.cast(width, tf.int64)
  size = batch * tf.maximum(width, 1)
  what = tf.strings.format("padded positions ({} rows x {} wide)", (batch, width))
  return _refuse_above(size, limit, what, tensors)


def check_rows(inputs, what, limit):
  """``inputs [B, ...]`` once ``B <= limit`` (``what`` names the rows)."""
  return _refuse_above(tf.shape(inputs)[0], limit, what, inputs)


def check_outputs(batch, width, depth, tensors, limit=MAX_REQUEST_OUTPUTS):
  """``tensors`` once ``batch x width x depth <= limit`` (output values)."""
  batch, width = tf.cast(batch, tf.int64), tf.cast(width, tf.int64)
  size = batch * width * depth
  what = tf.strings.format("output values ({} rows x {} ids x {} words)", (batch, width, depth))
  return _refuse_above(size, limit, what, tensors)


def check_lengths(inputs, lengths):
  """``(inputs, lengths)`` once ``lengths [B]`` has one entry per row of ``inputs
  [B, T, ...]`` and ``0 <= lengths <= T``."""
  width = tf.shape(inputs)[1]
  checks = [
      tf.debugging.assert_equal(tf.size(lengths), tf.shape(inputs)[0],
                                "lengths must have one entry per row of the input"),
      tf.debugging.assert_non_negative(lengths, "lengths must be >= 0"),
      tf.debugging.assert_less_equal(lengths, tf.cast(width, lengths.dtype),
                                     "lengths must be <= the width of the input (dimension 1)"),
  ]
  return _after(checks, (inputs, lengths))


def check_ids(ids, vocab_size):
  """``ids`` once ``0 <= ids < vocab_size``."""
  return _after([tf.debugging.assert_non_negative(ids, "ids must be >= 0"),
                 tf.debugging.assert_less(ids, tf.cast(vocab_size, ids.dtype),
                                          "ids must be < the vocabulary size")], ids)


def check_width(inputs, why):
  """``inputs [B, T, ...]`` once ``T >= 1``; ``why`` says what needs a position."""
  width = tf.shape(inputs)[1]
  return _after([tf.debugging.assert_positive(
      width, f"the input must be at least 1 wide (dimension 1): {why}")], inputs)


def at_least_one_position(inputs, lengths):
  """``(inputs [B, T], lengths [B])`` padded to ``[max(B, 1), max(T, 1)]`` (zeros or
  ``""``, length 0) and ``(B, T)``, to cut the outputs back with ``[:B, :T]``.

  An unroll needs a step (and the tagger's char convolution a token): a row of
  width 0 is then run as the empty text the text signature sends, which
  ``lengths`` masks; with ``lengths <= T`` (``check_lengths``) no result changes.
  """
  batch, width = tf.shape(inputs)[0], tf.shape(inputs)[1]
  extra_rows, extra_width = tf.maximum(1 - batch, 0), tf.maximum(1 - width, 0)
  inputs = tf.pad(inputs, [[0, extra_rows], [0, extra_width]])
  return inputs, tf.pad(lengths, [[0, extra_rows]]), (batch, width)
