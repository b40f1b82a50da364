"""Penn Treebank language-model data (Mikolov's text files), as in the TF1 tutorial.

A file is one sentence a line; its word stream is the whitespace-split words
with ``<eos>`` at each line's end.  The vocabulary is the training stream's
words by decreasing count (ties: alphabetical), ``<unk>`` added if absent;
words of other files outside it become ``<unk>``.

Contiguous batching (truncated BPTT): the stream ``d`` of ``N`` ids is cut to
``[B, N // B]`` (row ``b`` holds ``d[b * L : (b + 1) * L]``) and window ``e``
is columns ``e*T ... e*T + T - 1`` of it, the targets being the next column:
``x[e, b, t] = d[b*L + e*T + t]``, ``y[e, b, t] = d[b*L + e*T + t + 1]``,
``E = (L - 1) // T`` windows.  Row ``b`` of window ``e + 1`` continues row
``b`` of window ``e``, so a state carried across windows sees one text.
"""

import collections
import os

import numpy as np

from tf_lstm.app.data.idx import DataError

EOS = "<eos>"
UNK = "<unk>"


def read_words(path):
  """The word stream of ``path`` (``<eos>`` after each line); ``DataError`` if unusable."""
  if not os.path.isfile(path):
    raise DataError(f"{path}: no such file (expected a PTB-style text file: one sentence "
                    "a line, words separated by spaces)")
  try:
    with open(path, encoding="utf-8") as f:
      words = f.read().replace("\n", f" {EOS} ").split()
  except (OSError, UnicodeDecodeError) as e:
    raise DataError(f"{path}: cannot read as UTF-8 text ({e})") from e
  if not any(w != EOS for w in words):
    raise DataError(f"{path}: contains no words (expected one sentence a line)")
  return words


def build_vocab(words):
  """Words of the stream, most frequent first (ties: alphabetical), ``<unk>`` last if absent."""
  counts = collections.Counter(words)
  vocab = [w for w, _ in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))]
  return vocab if UNK in counts else vocab + [UNK]


def to_ids(words, vocab):
  """``int32 [N]`` ids; words outside ``vocab`` map to ``<unk>``."""
  index = {w: i for i, w in enumerate(vocab)}
  unk = index[UNK]
  return np.array([index.get(w, unk) for w in words], np.int32)


def windows(ids, batch_size, num_steps, path="the stream"):
  """``(x, y)`` int32 ``[E, B, T]``: the contiguous batching of the module doc."""
  length = len(ids) // batch_size
  num_windows = (length - 1) // num_steps
  if num_windows < 1:
    raise DataError(f"{path}: {len(ids)} words are too few for one window of "
                    f"batch_size={batch_size} x num_steps={num_steps} "
                    f"(need at least {batch_size * (num_steps + 1)})")
  data = np.asarray(ids[:batch_size * length], np.int32).reshape(batch_size, length)
  span = num_windows * num_steps
  x = data[:, :span].reshape(batch_size, num_windows, num_steps).transpose(1, 0, 2)
  y = data[:, 1:span + 1].reshape(batch_size, num_windows, num_steps).transpose(1, 0, 2)
  return np.ascontiguousarray(x), np.ascontiguousarray(y)
