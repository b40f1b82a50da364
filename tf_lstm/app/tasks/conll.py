"""CoNLL-2003 sequence labelling: ``conll_pos`` (POS tags) and ``conll_ner`` (entities).

Model: ``SequenceTagger`` (word + case [+ char-CNN] features -> biLSTM ->
per-token softmax); loss and accuracy over real tokens only (labels are -1 at
padding).  ``conll_ner`` also reports conlleval entity F1 (``test_f1``).
Vocabularies (words, chars, tags) are built from the training file once and
kept in ``model_dir/token_vocab.json``.
"""

import numpy as np
import tensorflow as tf

from tf_lstm.app import conlleval
from tf_lstm.app import models
from tf_lstm.app import losses
from tf_lstm.app.data import conll as conll_data
from tf_lstm.app.data import token_features
from tf_lstm.app.data.idx import DataError
from tf_lstm.app.models.tagger import SequenceTagger
from tf_lstm.app.tasks import base
from tf_lstm.app.tasks import options
from tf_lstm.cells.registry import Option

BUCKET = 16   # batches are cut to their longest sentence, rounded up to this


def trim_batch(words, cases, chars, lengths, labels):
  """Drops the all-padding tail: time dim -> ceil(max(lengths) / BUCKET) * BUCKET."""
  width = tf.minimum(tf.shape(words)[1],
                     (tf.reduce_max(lengths) + BUCKET - 1) // BUCKET * BUCKET)
  return (words[:, :width], cases[:, :width], chars[:, :width], lengths), labels[:, :width]


_ASSET_KEYS = ["words", "chars", "tags"]


class ConllTask(base.Task):
  """Tags ``column`` ('pos' or 'ner') of each word."""

  column = None
  model_options = (
      options.VOCAB_SIZE, options.EMBEDDING_DIM,
      Option("char_features", 0, "Char-CNN features per word (0: words only).", lower=0),
  )
  # The best measured configuration (benchmarks/conll.py; figures in docs/).
  defaults = dict(vocab_size=30000, embedding_dim=100, char_features=30, num_layers=1,
                  num_units=100, batch_size=32, optimizer="adam", learning_rate=2e-3,
                  lr_schedule="cosine", epochs=5.0, checkpoint_every=1000, log_every=200,
                  clip_norm=5.0)

  def __init__(self, column=None):
    if column is not None:   # ConllTask("pos") is ConllPosTask()
      if column not in COLUMNS:
        raise ValueError(f"unknown CoNLL column {column!r}; expected one of {sorted(COLUMNS)}")
      self.column, self.name, self.metric = column, COLUMNS[column].name, COLUMNS[column].metric
    self.vocabs = base.SavedAsset(
        token_features.ASSETS_FILE, lambda path: token_features.load_assets(path, _ASSET_KEYS),
        token_features.save_assets)

  @property
  def assets(self):
    return self.vocabs.value

  def load(self, data_dir):
    return conll_data.load(data_dir)

  def new_assets(self, train_sentences, model_config):
    """The vocabularies built from the training sentences (``{words, chars, tags}``)."""
    words, chars = token_features.build_vocabs([s.words for s in train_sentences],
                                               model_config.vocab_size)
    return {"words": words, "chars": chars,
            "tags": conll_data.tag_vocab(train_sentences, self.column)}

  def prepare(self, data, config):
    tags = self.vocabs.get(config.model_dir,
                           lambda: self.new_assets(data.train, config.model))["tags"]
    conll_data.check_tags(data.test, self.column, tags, "the evaluation file")
    featurizer = self.featurizer()
    tag_id = {t: i for i, t in enumerate(tags)}
    width = max(len(s.words) for s in data.train + data.test)

    def arrays(sentences):
      feats = token_features.featurize_numpy(featurizer, [s.words for s in sentences], width)
      labels = np.full([len(sentences), width], -1, np.int32)
      for i, s in enumerate(sentences):
        labels[i, :len(s.words)] = [tag_id[t] for t in getattr(s, self.column)]
      return (*feats, labels)
    return {"train": arrays(data.train), "test": arrays(data.test),
            "train_labels": data.train}

  def featurizer(self):
    return token_features.Featurizer(self.assets["words"], self.assets["chars"])

  def save_assets(self, model_dir):
    self.vocabs.save(model_dir)

  def use_assets(self, model_dir, config):
    del config
    self.vocabs.read(model_dir)

  def train_arrays(self, data):
    return data["train"]

  def eval_arrays(self, data):
    return data["test"]

  def train_transform(self, augment_shift=0):
    del augment_shift
    return lambda *arrays, seed=None: trim_batch(*arrays)

  def eval_transform(self):
    return trim_batch

  def loss_terms(self, logits, labels):
    return losses.token_terms(logits, labels)

  def build_model(self, model_config):
    if self.assets is None:
      raise DataError(f"{self.name}: prepare() or use_assets() must run before "
                      "build_model() (the model's sizes come from the vocabularies)")
    cell_fw = models.cell_from_config(model_config)
    cell_bw = models.cell_from_config(model_config)
    return SequenceTagger(
        len(self.assets["words"]) + 2, model_config.embedding_dim, token_features.NUM_CASES,
        len(self.assets["chars"]) + 2, model_config.char_features, cell_fw, cell_bw,
        len(self.assets["tags"]))

  def predictions(self, model, dataset):
    """Gold and predicted tag-string sequences over ``dataset``."""
    tags = np.array(self.assets["tags"], dtype=object)
    predict = tf.function(lambda inputs: tf.argmax(model(inputs), -1, output_type=tf.int32))
    gold, pred = [], []
    for inputs, labels in dataset:
      p, lengths, y = predict(inputs).numpy(), inputs[3].numpy(), labels.numpy()
      for row in range(len(lengths)):
        n = lengths[row]
        gold.append(list(tags[y[row, :n]]))
        pred.append(list(tags[p[row, :n]]))
    return gold, pred

  def extra_metrics(self, model, eval_dataset):
    if self.column != "ner":
      return {}
    result = conlleval.evaluate(*self.predictions(model, eval_dataset))
    return {"f1": result["f1"], "precision": result["precision"],
            "recall": result["recall"]}

  def serving_module(self, model, jit_compile=False):
    self._no_jit(jit_compile)
    from tf_lstm.app.export import text_serving  # Only exports need it.
    return text_serving.TaggerServing(model, self.featurizer(), self.assets["tags"])


class ConllPosTask(ConllTask):
  name = "conll_pos"
  column = "pos"


class ConllNerTask(ConllTask):
  name = "conll_ner"
  column = "ner"
  metric = "f1"


COLUMNS = {"pos": ConllPosTask, "ner": ConllNerTask}
