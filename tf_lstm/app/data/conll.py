"""CoNLL-2003 files: ``word POS NER`` per line, a blank line between sentences.

``load(data_dir)`` reads ``train.txt`` and ``test.txt`` (offline) or tfds
``conll2003`` (online) into lists of sentences, each a list of
``(word, pos, ner)``.  Malformed lines raise ``DataError`` naming file:line.
"""

import collections
import os

from tf_lstm.app.data import online
from tf_lstm.app.data.idx import DataError

COLUMNS = ("word", "pos", "ner")
Sentence = collections.namedtuple("Sentence", ["words", "pos", "ner"])
ConllData = collections.namedtuple("ConllData", ["train", "test", "train_labels"])


def read_file(path):
  """A list of ``Sentence`` (tuples of words, POS tags, NER tags)."""
  if not os.path.isfile(path):
    raise DataError(f"missing data file: expected {path} ('word POS NER' per line)")
  sentences, current = [], []
  with open(path, encoding="utf-8") as f:
    for n, line in enumerate(f, 1):
      fields = line.split()
      if not fields:
        if current:
          sentences.append(Sentence(*zip(*current)))
          current = []
        continue
      if fields[0] == "-DOCSTART-":
        continue
      if len(fields) < 3:
        raise DataError(f"{path}:{n}: expected 'word POS NER' (3 fields), got {line.rstrip()!r}")
      current.append((fields[0], fields[1], fields[-1]))
  if current:
    sentences.append(Sentence(*zip(*current)))
  if not sentences:
    raise DataError(f"{path}: no sentences (expected 'word POS NER' lines)")
  return sentences


def _tfds_split(split):
  tfds = online.tfds()   # Only the online path needs it.
  ds, info = tfds.load("conll2003", split=split, with_info=True)
  pos_names = info.features["pos"].feature.names
  ner_names = info.features["ner"].feature.names
  out = []
  for ex in tfds.as_numpy(ds):
    words = tuple(w.decode("utf-8") for w in ex["tokens"])
    if words:
      out.append(Sentence(words, tuple(pos_names[i] for i in ex["pos"]),
                          tuple(ner_names[i] for i in ex["ner"])))
  return out


def load(data_dir=None, eval_split="test"):
  """``ConllData`` with ``train`` and the ``eval_split`` sentences."""
  if data_dir:
    train = read_file(os.path.join(data_dir, "train.txt"))
    test = read_file(os.path.join(data_dir, f"{eval_split}.txt"))
  else:
    try:
      train, test = _tfds_split("train"), _tfds_split(
          "validation" if eval_split == "dev" else eval_split)
    except Exception as e:  # pylint: disable=broad-except
      raise DataError(f"tfds conll2003 is not available ({e}); give a data_dir with "
                      "train.txt and test.txt") from e
  return ConllData(train, test, train)


def tag_vocab(sentences, column):
  """Sorted tag list of ``column`` ('pos' or 'ner') over ``sentences``."""
  return sorted({t for s in sentences for t in getattr(s, column)})


def check_tags(sentences, column, tags, source):
  known = set(tags)
  for k, s in enumerate(sentences):
    for t in getattr(s, column):
      if t not in known:
        raise DataError(f"{source}: sentence {k + 1} has {column} tag {t!r}, "
                        f"not seen in training (expected one of {sorted(known)})")
