"""IMDB sentiment: review text -> neg (0) / pos (1).

Model: embedding -> (bi)LSTM over the valid tokens -> mean over them ->
linear -> softmax.  The vocabulary (``vocab_size`` most frequent training
words) is built once and kept in ``model_dir/vocab.txt``; a resumed run reads
it back.  Each review keeps its last ``max_length`` tokens.
"""

from tf_lstm.app import models
from tf_lstm.app import settings
from tf_lstm.app.data import imdb as imdb_data
from tf_lstm.app.data import text
from tf_lstm.app.models.text_classifier import TextClassifier
from tf_lstm.app.tasks import base
from tf_lstm.app.tasks import options
from tf_lstm.cells.registry import Option

KEEP = "last"


class ImdbTask(base.Task):
  name = "imdb"
  num_classes = 2
  model_options = (
      options.VOCAB_SIZE, options.EMBEDDING_DIM,
      Option("max_length", 256, "Tokens kept per review (its last N).", lower=1),
      settings.BIDIRECTIONAL,
      options.DROPOUT,
  )
  mixed_precision = True   # the embedding is looked up in float32 (TextClassifier)
  train_options = (options.DTYPE,)
  # Its best measured configuration (benchmarks/imdb.py; result: docs/benchmarks.md).
  defaults = dict(vocab_size=20000, max_length=600, embedding_dim=64, num_layers=1,
                  num_units=128, batch_size=64, optimizer="adam", learning_rate=2e-3,
                  lr_schedule="cosine", epochs=1.5, dropout=0.5)

  def __init__(self):
    self.vocab = base.SavedAsset(text.VOCAB_FILE, text.load_vocab, text.save_vocab)
    self.max_length = None

  @property
  def words(self):
    return self.vocab.value

  def load(self, data_dir):
    return imdb_data.load(data_dir)

  def prepare(self, data, config):
    """Ids ``[N, max_length]`` + lengths from the saved or a new vocabulary."""
    vocab_size = config.model.vocab_size
    words = self.vocab.get(config.model_dir,
                           lambda: text.build_vocab(data.train_texts, vocab_size))
    if len(words) > vocab_size:
      raise text.DataError(f"the saved vocabulary {self.vocab.filename} has {len(words)} "
                           f"words, more than vocab_size={vocab_size}")
    self.max_length = config.model.max_length
    enc = lambda t: text.encode_numpy(t, words, self.max_length, KEEP)
    train_ids, train_len = enc(data.train_texts)
    test_ids, test_len = enc(data.test_texts)
    return {"train": (train_ids, train_len, data.train_labels),
            "test": (test_ids, test_len, data.test_labels),
            "train_labels": data.train_labels}

  def save_assets(self, model_dir):
    self.vocab.save(model_dir)

  def use_assets(self, model_dir, config):
    self.vocab.read(model_dir)
    self.max_length = config.model.max_length

  def train_arrays(self, data):
    return data["train"]

  def eval_arrays(self, data):
    return data["test"]

  def train_transform(self, augment_shift=0):
    del augment_shift
    return lambda ids, lengths, labels, seed=None: ((ids, lengths), labels)

  def eval_transform(self):
    return lambda ids, lengths, labels: ((ids, lengths), labels)

  def build_model(self, model_config):
    cell = models.cell_from_config(model_config)
    cell_bw = models.cell_from_config(model_config) if model_config.bidirectional else None
    return TextClassifier(model_config.vocab_size + text.NUM_RESERVED,
                          model_config.embedding_dim, cell, self.num_classes, cell_bw,
                          dropout=model_config.dropout)

  def serving_module(self, model, jit_compile=False):
    self._no_jit(jit_compile)
    if self.words is None:
      raise ValueError("imdb: prepare() or use_assets() must run before serving_module() "
                       "(the export needs the vocabulary)")
    from tf_lstm.app.export import text_serving  # Only exports need it.
    return text_serving.TextClassifierServing(model, self.words, self.max_length, KEEP)
