"""The vocabulary a TF1 program used, given to the task before its model is built.

Ids are a model's rows: the embedding (and the softmax) of a TF1 checkpoint
are only right with the TF1 program's word ids.  Sources:

* ``ptb``: a vocabulary file (line k = word id k, ``<unk>`` among them), or
  rebuilt from ``data_dir``'s training file in the PTB reader's order (count
  descending, then word: ``tf_lstm.app.data.ptb.build_vocab``, the order of
  the TensorFlow tutorial's reader).
* ``imdb``: a vocabulary file, line k = id k, where ids 0 and 1 are padding
  and the unknown word (as tf_lstm's own ids; their lines are placeholders).
* ``conll_*``: rebuilt from ``data_dir``'s ``train.txt`` with the task's
  rules (words seen twice or more by count, every character, sorted tags).

The task then saves it in the model dir (``vocab.txt``, ``token_vocab.json``).
"""

import dataclasses
import os

from tf_lstm.app.data import ptb as ptb_data
from tf_lstm.app.data import text
from tf_lstm.app.data.idx import DataError
from tf_lstm.app.tf1_import.ports import TF1ImportError


def read_vocab(path):
  """The lines of a vocabulary file (one word a line, in id order)."""
  if not os.path.isfile(path):
    raise TF1ImportError(f"vocab file {path} does not exist (expected one word a line, "
                         "in the TF1 program's id order)")
  try:
    return text.load_vocab(path)
  except DataError as e:
    raise TF1ImportError(str(e)) from e


def _ptb(task, config, vocab, data_dir):
  if vocab:
    words, source = read_vocab(vocab), f"{vocab} (line k = id k)"
  elif data_dir:
    path = os.path.join(data_dir, config.train_file or "ptb.train.txt")
    try:
      words = ptb_data.build_vocab(ptb_data.read_words(path))
    except DataError as e:
      raise TF1ImportError(str(e)) from e
    source = f"rebuilt from {path} in the PTB reader's order (count, then word)"
  else:
    raise TF1ImportError("ptb: give vocab (the TF1 program's words, one a line in id "
                         "order) or data_dir holding its training file (train_file)")
  if ptb_data.UNK not in words:
    raise TF1ImportError(f"ptb: the vocabulary ({source}) has no {ptb_data.UNK} word")
  task.vocab.get("", lambda: words)
  task.batch_size, task.num_steps = config.batch_size, config.num_steps
  return config, source


def _imdb(task, config, vocab, data_dir):
  del data_dir
  if not vocab:
    raise TF1ImportError("imdb: give vocab, the TF1 program's vocabulary: one word a line "
                         f"in id order, lines 1 and 2 for ids 0 (padding) and 1 (unknown)")
  lines = read_vocab(vocab)
  if len(lines) <= text.NUM_RESERVED:
    raise TF1ImportError(f"{vocab}: {len(lines)} lines; expected the padding and unknown "
                         "ids' lines, then the words")
  words = lines[text.NUM_RESERVED:]
  config = config.replace(model=dataclasses.replace(config.model, vocab_size=len(words)))
  task.vocab.get("", lambda: words)
  task.max_length = config.model.max_length
  return config, f"{vocab} (line k = id k; {len(words)} words from id {text.NUM_RESERVED})"


def _conll(task, config, vocab, data_dir):
  if vocab:
    raise TF1ImportError(f"{task.name}: the vocabularies are rebuilt from data_dir's "
                         "train.txt; vocab is for ptb and imdb")
  if not data_dir:
    raise TF1ImportError(f"{task.name}: give data_dir holding train.txt, the TF1 "
                         "program's training file (its vocabularies are rebuilt from it)")
  try:
    data = task.load(data_dir)
  except DataError as e:
    raise TF1ImportError(str(e)) from e
  assets = task.vocabs.get("", lambda: task.new_assets(data.train, config.model))
  return config, (f"rebuilt from {os.path.join(data_dir, 'train.txt')}: "
                  f"{len(assets['words'])} words, {len(assets['chars'])} chars, "
                  f"{len(assets['tags'])} tags")


_SOURCES = {"ptb": _ptb, "imdb": _imdb, "conll_pos": _conll, "conll_ner": _conll}


def give_to_task(task, config, vocab=None, data_dir=None):
  """Sets the TF1 program's vocabulary on ``task`` (before ``build_model``).

  Returns ``(config, source)``: the config (imdb: ``vocab_size`` = the file's
  words) and a line saying where the vocabulary came from (None: the task has
  none).
  """
  give = _SOURCES.get(config.model.task)
  if give is None:
    if vocab:
      raise TF1ImportError(f"task {config.model.task} has no vocabulary; vocab is for "
                           "ptb and imdb")
    return config, None
  return give(task, config, vocab, data_dir)
