"""IMDB sentiment: review text -> neg (0) / pos (1).

Model: embedding -> (bi)LSTM over the valid tokens -> mean over them ->
linear -> softmax.  The vocabulary (``--vocab_size`` most frequent training
words) is built once and kept in ``model_dir/vocab.txt``; a resumed run reads
it back.  Each review keeps its last ``--max_length`` tokens.
"""

import os

from tf_lstm.app import models
from tf_lstm.app.data import imdb as imdb_data
from tf_lstm.app.data import text
from tf_lstm.app.models.text_classifier import TextClassifier
from tf_lstm.app.tasks import base

KEEP = "last"


def make_cells(model_config):
  """The forward cell and, with ``bidirectional``, a backward one."""
  def one():
    return models.make_cell(model_config.cell, model_config.num_units,
                            model_config.num_layers, model_config.forget_bias,
                            **models.cell_options(model_config))
  return one(), (one() if model_config.bidirectional else None)


class ImdbTask(base.Task):
  name = "imdb"
  num_classes = 2
  # bin/train defaults for this task (>= 87% test accuracy, benchmarks/imdb.py).
  # Measured 87.45% on 24,980 test reviews, 444 s of training.
  flag_defaults = dict(vocab_size=20000, max_length=600, embedding_dim=64, num_layers=1,
                       num_units=128, batch_size=64, optimizer="adam", learning_rate=2e-3,
                       lr_schedule="cosine", epochs=1.5, dropout=0.5)

  def __init__(self):
    self.words = None
    self.max_length = None
    self._new_vocab = False

  def load(self, data_dir):
    return imdb_data.load(data_dir)

  def prepare(self, data, config):
    """Ids ``[N, max_length]`` + lengths from the saved or a new vocabulary."""
    path = os.path.join(config.model_dir, text.VOCAB_FILE) if config.model_dir else ""
    vocab_size = config.model.vocab_size
    if path and os.path.exists(path):
      self.words = text.load_vocab(path)
      if len(self.words) > vocab_size:
        raise text.DataError(f"{path} has {len(self.words)} words, more than "
                             f"vocab_size={vocab_size}")
    else:
      self.words = text.build_vocab(data.train_texts, vocab_size)
      self._new_vocab = True
    self.max_length = config.model.max_length
    enc = lambda t: text.encode_numpy(t, self.words, self.max_length, KEEP)
    train_ids, train_len = enc(data.train_texts)
    test_ids, test_len = enc(data.test_texts)
    return {"train": (train_ids, train_len, data.train_labels),
            "test": (test_ids, test_len, data.test_labels),
            "train_labels": data.train_labels}

  def save_assets(self, model_dir):
    path = os.path.join(model_dir, text.VOCAB_FILE)
    if self._new_vocab or not os.path.exists(path):
      text.save_vocab(path, self.words)
      self._new_vocab = False

  def use_assets(self, model_dir, config):
    self.words = text.load_vocab(os.path.join(model_dir, text.VOCAB_FILE))
    self.max_length = config.model.max_length

  def train_arrays(self, data):
    return data["train"]

  def eval_arrays(self, data):
    return data["test"]

  def train_transform(self, augment_shift=0):
    del augment_shift
    return lambda ids, lengths, labels: ((ids, lengths), labels)

  def eval_transform(self):
    return self.train_transform()

  def build_model(self, model_config):
    cell, cell_bw = make_cells(model_config)
    return TextClassifier(model_config.vocab_size + text.NUM_RESERVED,
                          model_config.embedding_dim, cell, self.num_classes, cell_bw,
                          dropout=model_config.dropout)

  def serving_module(self, model):
    from tf_lstm.app.export import text_serving  # Only exports need it.
    return text_serving.TextClassifierServing(model, self.words, self.max_length, KEEP)
