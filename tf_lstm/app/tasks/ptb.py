"""PTB word-level language modelling (Zaremba et al. 2014, the TF1 ``ptb_word_lm``).

Files (names within ``data_dir``): ``train_file`` (default ptb.train.txt)
gives the vocabulary (saved as ``model_dir/vocab.txt``, reused on resume) and
the training stream; ``eval_file`` (default ptb.test.txt) is the final
evaluation; ``valid_file`` (default ptb.valid.txt when present and not the
training file) is also scored.  Training uses the contiguous batching of
``tf_lstm.app.data.ptb`` with the state carried from window to window (reset at
each epoch's first window).  Evaluation uses the same batching (``batch_size``
rows, ``num_steps`` windows) with its own carried state, reset at the start
of each file; perplexity = ``exp(mean cross-entropy per word)``.
"""

import math
import os

import numpy as np
import tensorflow as tf

from tf_lstm.app import losses
from tf_lstm.app import models
from tf_lstm.app.data import pipeline
from tf_lstm.app.data import ptb as ptb_data
from tf_lstm.app.data import text
from tf_lstm.app.data.idx import DataError
from tf_lstm.app.models.language_model import LanguageModel
from tf_lstm.app.tasks import base
from tf_lstm.app.tasks import options
from tf_lstm.app.training import evaluation
from tf_lstm.cells.registry import Option

TRAIN, VALID, TEST = "ptb.train.txt", "ptb.valid.txt", "ptb.test.txt"

# The tutorial's configurations, as setting values (the training command's --config=NAME).
CONFIGS = {
    "small": dict(num_layers=2, num_units=200, num_steps=20, batch_size=20, dropout=0.0,
                  optimizer="sgd", learning_rate=1.0, lr_schedule="epoch_decay",
                  lr_decay=0.5, lr_decay_epoch=4, clip_norm=5.0, epochs=13,
                  init_scale=0.1, forget_bias=0.0),
    "medium": dict(num_layers=2, num_units=650, num_steps=35, batch_size=20, dropout=0.5,
                   optimizer="sgd", learning_rate=1.0, lr_schedule="epoch_decay",
                   lr_decay=0.8, lr_decay_epoch=6, clip_norm=5.0, epochs=39,
                   init_scale=0.05, forget_bias=0.0),
    "large": dict(num_layers=2, num_units=1500, num_steps=35, batch_size=20, dropout=0.65,
                  optimizer="sgd", learning_rate=1.0, lr_schedule="epoch_decay",
                  lr_decay=1 / 1.15, lr_decay_epoch=14, clip_norm=10.0, epochs=55,
                  init_scale=0.04, forget_bias=0.0),
}
DEFAULT_CONFIG = "small"


def _load_vocab(path):
  words = text.load_vocab(path)
  if ptb_data.UNK not in words:
    raise DataError(f"{path}: expected a PTB vocabulary containing {ptb_data.UNK}")
  return words


def rows(x, y):
  """``[E, B, T]`` windows -> ``(x, y) [E*B, T]`` + window index ``[E*B]`` (row e*B+b)."""
  e, b, t = x.shape
  return x.reshape(e * b, t), y.reshape(e * b, t), np.repeat(np.arange(e, dtype=np.int32), b)


def stream_transform(x, y, window):
  """Eval batch ``[n, B, T]`` of consecutive windows -> ``((ids [B, n*T], reset), y)``."""
  def join(a):
    a = tf.transpose(a, [1, 0, 2])
    return tf.reshape(a, [tf.shape(a)[0], -1])
  return (join(x), tf.equal(window[0], 0)), join(y)


class PtbTask(base.Task):
  name = "ptb"
  metric = "perplexity"
  shuffle = False   # window e*B + b: contiguous batches in order
  # The carried state is a [batch_size, N] variable per layer: the whole global batch.
  single_replica = True
  model_options = (
      options.DROPOUT,
      Option("init_scale", 0.0, "Every weight starts uniform in +-this (0: the default "
             "inits).", lower=0.0),
      Option("tie_embeddings", False, "The softmax reuses the embedding matrix "
             "(transposed)."),
  )
  train_options = (
      Option("num_steps", 20, "Truncated-BPTT window in words.", lower=1),
      Option("train_file", "", f"Training text within data_dir (default {TRAIN}); also "
             "defines the vocabulary.", type=str),
      Option("eval_file", "", f"Final evaluation text within data_dir (default {TEST}).",
             type=str),
      Option("valid_file", "", f"Validation text within data_dir (default {VALID} when "
             "present and not the training file).", type=str),
  )
  defaults = CONFIGS[DEFAULT_CONFIG]

  def __init__(self):
    self.vocab = base.SavedAsset(text.VOCAB_FILE, _load_vocab, text.save_vocab)
    self.batch_size = None
    self._valid = None

  @property
  def words(self):
    return self.vocab.value

  def load(self, data_dir):
    if not data_dir or not os.path.isdir(data_dir):
      raise DataError(f"ptb: data_dir {data_dir!r} must be a directory holding the PTB "
                      f"text files ({TRAIN}, {VALID}, {TEST}); there is no download")
    return data_dir

  def prepare(self, data_dir, config):
    """Reads the files, builds (or reads back) the vocabulary, cuts the windows."""
    train_path = os.path.join(data_dir, config.train_file or TRAIN)
    eval_path = os.path.join(data_dir, config.eval_file or TEST)
    train_words = ptb_data.read_words(train_path)
    eval_words = ptb_data.read_words(eval_path)
    if config.valid_file:
      valid_path = os.path.join(data_dir, config.valid_file)
    else:
      valid_path = os.path.join(data_dir, VALID)
      if not os.path.isfile(valid_path) or os.path.samefile(valid_path, train_path):
        valid_path = None
    valid_words = ptb_data.read_words(valid_path) if valid_path else None
    self.vocab.get(config.model_dir, lambda: ptb_data.build_vocab(train_words))
    self.batch_size, self.num_steps = config.batch_size, config.num_steps
    cut = lambda words, path: ptb_data.windows(ptb_data.to_ids(words, self.words),
                                               config.batch_size, config.num_steps, path)
    data = {"train": rows(*cut(train_words, train_path)), "eval": cut(eval_words, eval_path)}
    if valid_words is not None:
      data["valid"] = cut(valid_words, valid_path)
      self._valid = data["valid"]
    # About 4k tokens per evaluation batch.
    self.eval_batch_size = max(1, 4096 // (config.batch_size * config.num_steps))
    return data

  def save_assets(self, model_dir):
    self.vocab.save(model_dir)

  def use_assets(self, model_dir, config):
    """Reads back a trained run's vocabulary (for sampling / export)."""
    self.vocab.read(model_dir)
    self.batch_size, self.num_steps = config.batch_size, config.num_steps

  def train_arrays(self, data):
    return data["train"]

  def eval_arrays(self, data):
    x, y = data["eval"]
    return x, y, np.arange(len(x), dtype=np.int32)

  def train_transform(self, augment_shift=0):
    del augment_shift
    return lambda x, y, window, seed=None: ((x, tf.equal(window[0], 0)), y)

  def eval_transform(self):
    return stream_transform

  def loss_terms(self, logits, labels):
    return losses.token_terms(logits, labels)

  def derived_metrics(self, metrics):
    return {"perplexity": math.exp(metrics["loss"])}

  def extra_metrics(self, model, eval_dataset):
    del eval_dataset
    if self._valid is None:
      return {}
    x, y = self._valid
    ds = pipeline.eval_dataset((x, y, np.arange(len(x), dtype=np.int32)),
                               self.eval_batch_size, stream_transform)
    return {"valid_perplexity": math.exp(evaluation.evaluate(
        model, ds, loss_terms=self.loss_terms)["loss"])}

  def build_model(self, model_config):
    if self.words is None:
      raise DataError("ptb: prepare() or use_assets() must run before build_model()")
    cells = [models.cell_from_config(model_config, num_layers=1)
             for _ in range(model_config.num_layers)]
    return LanguageModel(len(self.words), cells, self.batch_size, self.batch_size,
                         model_config.dropout, model_config.init_scale,
                         model_config.tie_embeddings)

  def serving_module(self, model, jit_compile=False):
    self._no_jit(jit_compile)
    from tf_lstm.app.export import lm_serving  # Only exports need it.
    return lm_serving.LanguageModelServing(model, self.words)
