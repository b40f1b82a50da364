"""Per-token features of pre-split text, in TF ops (training and serving share them).

For tokens ``[B, T]`` (strings, padded):
  * word ids: ``normalize(token)`` (lowercase, digits -> 0) looked up in the
    word vocabulary (0 pad, 1 unknown, words 2...);
  * case ids: 0 pad, 1 lower, 2 Title, 3 UPPER, 4 has a digit, 5 other;
  * char ids ``[B, T, MAX_CHARS]``: the first ``MAX_CHARS`` code points looked
    up in the char vocabulary (0 pad, 1 unknown, chars 2...).
"""

import collections
import json
import os

import numpy as np
import tensorflow as tf

from tf_lstm.app.data import text
from tf_lstm.app.data.idx import DataError

MAX_CHARS = 16
NUM_CASES = 6
ASSETS_FILE = "token_vocab.json"


def normalize(tokens):
  return tf.strings.regex_replace(tf.strings.lower(tokens, encoding="utf-8"), r"[0-9]", "0")


def case_ids(tokens):
  lower = tf.strings.regex_full_match(tokens, r"[^\p{Lu}]*\p{Ll}[^\p{Lu}]*")
  title = tf.strings.regex_full_match(tokens, r"\p{Lu}[^\p{Lu}]*")
  upper = tf.strings.regex_full_match(tokens, r"[^\p{Ll}]*\p{Lu}[^\p{Ll}]*")
  digit = tf.strings.regex_full_match(tokens, r".*[0-9].*")
  ids = tf.where(digit, 4, tf.where(title, 2, tf.where(upper, 3, tf.where(lower, 1, 5))))
  return tf.cast(ids, tf.int32)


def build_vocabs(sentences, vocab_size, min_count=2):
  """Words seen ``>= min_count`` times (most frequent first, at most
  ``vocab_size``; singletons stay unknown so the unknown id gets trained) and
  every training character."""
  words = collections.Counter(
      w.decode("utf-8") for s in sentences
      for w in normalize(tf.constant(list(s))).numpy().tolist())
  ranked = [w for w, c in sorted(words.items(), key=lambda kv: (-kv[1], kv[0]))
            if c >= min_count][:vocab_size]
  chars = sorted({ord(ch) for s in sentences for w in s for ch in w})
  return ranked, chars


def save_assets(path, assets):
  tmp = path + ".tmp"
  with open(tmp, "w", encoding="utf-8") as f:
    json.dump(assets, f)
  os.replace(tmp, path)


def load_assets(path, keys):
  try:
    with open(path, encoding="utf-8") as f:
      assets = json.load(f)
  except (OSError, ValueError) as e:
    raise DataError(f"{path}: cannot read the saved vocabularies ({e})") from e
  missing = [k for k in keys if k not in assets]
  if missing:
    raise DataError(f"{path}: missing entries {missing}; expected {list(keys)}")
  return assets


class Featurizer(tf.Module):
  """``(tokens [B, T] string, lengths [B]) -> (words, cases, chars, lengths)``."""

  def __init__(self, words, chars, name="featurizer"):
    super().__init__(name=name)
    self.word_table = text.lookup_table(words)
    self.char_table = tf.lookup.StaticHashTable(
        tf.lookup.KeyValueTensorInitializer(
            tf.constant(chars, tf.int64),
            tf.range(text.NUM_RESERVED, text.NUM_RESERVED + len(chars), dtype=tf.int64)),
        default_value=text.OOV_ID)
    self.vocab_size = len(words) + text.NUM_RESERVED
    self.num_chars = len(chars) + text.NUM_RESERVED

  def __call__(self, tokens, lengths):
    tokens = tf.convert_to_tensor(tokens, tf.string)
    lengths = tf.cast(lengths, tf.int32)
    mask = tf.sequence_mask(lengths, tf.shape(tokens)[1])
    zero = lambda x: tf.where(mask, x, tf.zeros_like(x))
    words = zero(tf.cast(self.word_table.lookup(normalize(tokens)), tf.int32))
    cases = zero(case_ids(tokens))
    codes = tf.strings.unicode_decode(tokens, "UTF-8", errors="replace")[:, :, :MAX_CHARS]
    chars = tf.ragged.map_flat_values(
        lambda c: tf.cast(self.char_table.lookup(tf.cast(c, tf.int64)), tf.int32), codes)
    chars = chars.to_tensor(0, shape=[None, None, MAX_CHARS])
    chars = tf.where(mask[:, :, None], chars, tf.zeros_like(chars))
    return words, cases, chars, lengths


def pad_tokens(sentences, width):
  """List of token tuples -> numpy ``[N, width]`` object array (``""`` padded), lengths."""
  out = np.full([len(sentences), width], "", dtype=object)
  lengths = np.zeros([len(sentences)], np.int32)
  for i, s in enumerate(sentences):
    out[i, :len(s)] = s
    lengths[i] = len(s)
  return out, lengths


def featurize_numpy(featurizer, sentences, width, batch_size=2048):
  """Numpy ``(words, cases, chars, lengths)`` for token tuples, padded to ``width``."""
  tokens, lengths = pad_tokens(sentences, width)
  parts = [featurizer(tokens[i:i + batch_size], lengths[i:i + batch_size])
           for i in range(0, len(sentences), batch_size)]
  return tuple(np.concatenate([p[k].numpy() for p in parts]) for k in range(4))
