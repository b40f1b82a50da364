"""What every task provides to the training loop and the exporter."""

import abc
import os

from tf_lstm.app import losses


class Task(abc.ABC):
  """A data set plus the model that learns it.

  The loop calls, in order: ``load`` -> ``prepare`` -> ``save_assets`` ->
  ``build_model`` -> ``train_arrays``/``eval_arrays`` with
  ``train_transform``/``eval_transform`` -> ``loss_terms`` each step ->
  ``derived_metrics``/``extra_metrics`` -> ``serving_module``.  Exporting or
  sampling a trained run calls ``use_assets`` instead of ``load``/``prepare``.

  Class attributes: ``name`` (the task's setting value); ``metric`` (the
  headline metric); ``shuffle = False`` keeps the training examples in order
  (contiguous LM batches); ``eval_batch_size`` (eval examples per batch);
  ``tflite``: ``serving_module(model)`` has ``tflite_function()``;
  ``jit_serving``: ``serving_module(model, jit_compile=True)`` exists;
  ``single_replica``: the model keeps state between batches and trains on one
  replica only; ``mixed_precision``: it trains with a bfloat16 forward pass
  (``tf_lstm.app.precision``).  Settings: ``model_options`` and
  ``train_options`` are the task's own ``Option``s (config fields that exist
  only for this task); ``defaults`` is its best measured configuration
  (setting name -> value), applied by the training command to every setting
  the user does not give.
  """

  name = None
  metric = "accuracy"
  shuffle = True
  eval_batch_size = 500
  tflite = False
  jit_serving = False
  single_replica = False
  mixed_precision = False
  model_options = ()
  train_options = ()
  defaults = {}

  @classmethod
  def options(cls):
    """Every ``Option`` the task adds to the common settings."""
    return tuple(cls.model_options) + tuple(cls.train_options)

  @abc.abstractmethod
  def load(self, data_dir):
    """Reads the data in ``data_dir``; raises ``DataError`` before any work if unusable."""

  def prepare(self, data, config):
    """Turns ``load``'s data into arrays (e.g. encodes text with a vocabulary).

    May read ``config.model_dir`` (a resumed run's assets); writes nothing
    there: ``save_assets`` does, once the run's config is checked.
    """
    del config
    return data

  def save_assets(self, model_dir):
    """Writes what ``prepare`` built and a resume or an export needs (vocabularies)."""
    del model_dir

  def use_assets(self, model_dir, config):
    """Reads back what ``save_assets`` wrote (export, sampling: no data at hand)."""
    del model_dir, config

  @abc.abstractmethod
  def train_arrays(self, data):
    """Tuple of numpy arrays whose first dim indexes the training examples."""

  @abc.abstractmethod
  def eval_arrays(self, data):
    """Tuple of numpy arrays whose first dim indexes the evaluation examples."""

  @abc.abstractmethod
  def train_transform(self, augment_shift=0):
    """``fn(*batch_arrays, seed=None) -> (inputs, labels)`` for a gathered training batch.

    ``seed`` is a stateless ``[2]`` seed for random augmentation (image tasks
    translate by up to ``augment_shift`` pixels; the others ignore both).
    """

  @abc.abstractmethod
  def eval_transform(self):
    """``fn(*batch_arrays) -> (inputs, labels)`` for an evaluation batch."""

  def loss_terms(self, logits, labels):
    """``(loss_sum, correct, count)`` of a batch (default: classification)."""
    return losses.classification_terms(logits, labels)

  def extra_metrics(self, model, eval_dataset):
    """``{name: value}`` added to results.json after the final evaluation."""
    del model, eval_dataset
    return {}

  def derived_metrics(self, metrics):
    """``{name: value}`` from the final evaluation's ``loss``/``accuracy`` (e.g. perplexity)."""
    del metrics
    return {}

  @abc.abstractmethod
  def build_model(self, model_config):
    """A ``tf.Module`` mapping a batch's inputs to logits (variables seeded, not trained)."""

  @abc.abstractmethod
  def serving_module(self, model, jit_compile=False):
    """The ``tf.Module`` whose ``signatures()`` are exported (``jit_compile``: XLA,
    only where ``jit_serving``)."""

  def _no_jit(self, jit_compile):
    if jit_compile:
      raise ValueError(f"an XLA (jit_compile) export is for image tasks, not {self.name!r}")


class SavedAsset:
  """A file built from the training data once and kept in ``model_dir``.

  ``get`` reads a resumed run's copy (so ids never shift) or builds a new one;
  ``save`` writes a new one (atomically, by ``save_fn``) once the run's config
  is checked; ``read`` is for export and sampling.
  """

  def __init__(self, filename, load_fn, save_fn):
    self.filename = filename
    self._load, self._save = load_fn, save_fn
    self.value = None
    self._new = False

  def get(self, model_dir, build):
    path = os.path.join(model_dir, self.filename) if model_dir else ""
    if path and os.path.exists(path):
      self.value, self._new = self._load(path), False
    else:
      self.value, self._new = build(), True
    return self.value

  def save(self, model_dir):
    path = os.path.join(model_dir, self.filename)
    if self._new or not os.path.exists(path):
      self._save(path, self.value)
      self._new = False

  def read(self, model_dir):
    self.value, self._new = self._load(os.path.join(model_dir, self.filename)), False
    return self.value
