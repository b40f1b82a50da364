"""Text in TF ops: tokeniser, vocabulary file, id lookup, padding.

Token ids: 0 is padding, 1 is an out-of-vocabulary word, and the vocabulary's
words (most frequent first) take ids 2, 3, ...  The same ``tokenize`` and
lookup table run in training and inside the exported SavedModel.
"""

import collections
import os

import numpy as np
import tensorflow as tf

from tf_lstm.app.data.idx import DataError

PAD_ID = 0
OOV_ID = 1
NUM_RESERVED = 2
VOCAB_FILE = "vocab.txt"


def tokenize(texts):
  """``[N]`` strings -> ``RaggedTensor [N, (words)]`` of lowercase words.

  Lowercases (UTF-8), turns ``<br />`` tags into spaces and splits on every
  run of non-letters (Unicode letters are kept: "café" is one word).
  """
  texts = tf.strings.lower(tf.convert_to_tensor(texts, tf.string), encoding="utf-8")
  texts = tf.strings.regex_replace(texts, r"<br\s*/?>", " ")
  texts = tf.strings.regex_replace(texts, r"[^\pL]+", " ")
  return tf.strings.split(tf.strings.strip(texts))


def count_words(token_batches):
  """A ``Counter`` of words (bytes) over an iterable of ragged token batches."""
  counts = collections.Counter()
  for tokens in token_batches:
    counts.update(tokens.flat_values.numpy().tolist())
  return counts


def build_vocab(texts, vocab_size, batch_size=2048):
  """The ``vocab_size`` most frequent words of ``texts`` (ties: alphabetical).

  Returns a list of ``str``; raises ``DataError`` if ``texts`` has no word.
  """
  counts = count_words(tokenize(texts[i:i + batch_size])
                       for i in range(0, len(texts), batch_size))
  if not counts:
    raise DataError("cannot build a vocabulary: the training texts contain no words")
  ranked = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:vocab_size]
  return [w.decode("utf-8") for w, _ in ranked]


def save_vocab(path, words):
  """One word a line, atomically (``path.tmp`` then rename)."""
  tmp = path + ".tmp"
  with open(tmp, "w", encoding="utf-8") as f:
    for w in words:
      f.write(w + "\n")
  os.replace(tmp, path)


def load_vocab(path):
  """The words of a vocabulary file; ``DataError`` naming the file and line."""
  try:
    with open(path, encoding="utf-8") as f:
      lines = f.read().split("\n")
  except (OSError, UnicodeDecodeError) as e:
    raise DataError(f"{path}: cannot read vocabulary ({e})") from e
  if lines and lines[-1] == "":
    lines.pop()
  seen = set()
  for n, w in enumerate(lines, 1):
    if not w or w != w.strip() or " " in w:
      raise DataError(f"{path}:{n}: expected one word without spaces, got {w!r}")
    if w in seen:
      raise DataError(f"{path}:{n}: duplicate word {w!r}")
    seen.add(w)
  if not lines:
    raise DataError(f"{path}: empty vocabulary, expected one word a line")
  return lines


def lookup_table(words, oov_id=OOV_ID, first_id=NUM_RESERVED):
  """A ``StaticHashTable`` word -> id (``first_id + rank``; unknown -> ``oov_id``)."""
  keys = tf.constant(list(words), tf.string)
  values = tf.range(first_id, first_id + len(words), dtype=tf.int64)
  return tf.lookup.StaticHashTable(
      tf.lookup.KeyValueTensorInitializer(keys, values), default_value=oov_id)


def pad_ids(ragged_ids, max_length, keep="last", to_longest=False):
  """``RaggedTensor [N, (len)]`` -> ``(ids [N, W] int32, lengths [N] int32)``.

  Rows longer than ``max_length`` keep their first or last ``max_length``
  ids (``keep="first"``/``"last"``); every row starts at position 0 and
  is padded with ``PAD_ID`` after its ``length`` ids.  ``W`` is
  ``max_length``, or with ``to_longest`` the longest kept row, at least 1
  (serving: memory follows the request's texts; masking makes the width
  irrelevant to results; an unroll needs one step).
  """
  if keep == "last":
    ragged_ids = ragged_ids[:, -max_length:]
  elif keep == "first":
    ragged_ids = ragged_ids[:, :max_length]
  else:
    raise ValueError(f"keep must be 'first' or 'last', got {keep!r}")
  lengths = tf.cast(ragged_ids.row_lengths(), tf.int32)
  shape = [None, max_length]
  if to_longest:
    shape = tf.stack([ragged_ids.nrows(), tf.maximum(ragged_ids.bounding_shape(axis=1), 1)])
  ids = tf.cast(ragged_ids.to_tensor(default_value=PAD_ID, shape=shape), tf.int32)
  return ids, lengths


def encode(texts, table, max_length, keep="last"):
  """Raw strings ``[N]`` -> ``(ids [N, max_length], lengths [N])`` (in-graph)."""
  return pad_ids(table.lookup(tokenize(texts)), max_length, keep)


def encode_numpy(texts, words, max_length, keep="last", batch_size=4096):
  """``encode`` over a large numpy array of strings, in batches; numpy outputs."""
  table = lookup_table(words)
  ids, lengths = [], []
  for i in range(0, len(texts), batch_size):
    b_ids, b_len = encode(texts[i:i + batch_size], table, max_length, keep)
    ids.append(b_ids.numpy())
    lengths.append(b_len.numpy())
  if not ids:
    return np.zeros([0, max_length], np.int32), np.zeros([0], np.int32)
  return np.concatenate(ids), np.concatenate(lengths)
