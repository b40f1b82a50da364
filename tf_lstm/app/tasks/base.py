"""What every task provides to the training loop and the exporter."""

from tf_lstm.app import losses


class Task:
  """A data set plus the model that learns it.

  ``load(data_dir)`` returns the data (raising ``DataError`` before any work);
  ``train_arrays``/``eval_arrays`` are numpy arrays whose first dim indexes
  examples; ``train_transform``/``eval_transform`` map a gathered batch of
  them to ``(inputs, labels)``; ``build_model(model_config)`` returns a
  ``tf.Module`` mapping inputs to logits; ``serving_module(model)`` returns
  the ``tf.Module`` whose signatures are exported.

  Optional hooks (defaults suit a classifier): ``prepare(data, config)`` runs
  after ``load`` and may read ``config.model_dir`` (nothing is written
  there before ``save_assets(model_dir)``, which runs once the run's config
  is checked); ``loss_terms(logits, labels) -> (loss_sum, correct, count)``;
  ``extra_metrics(model, eval_dataset) -> {name: value}`` for results.json;
  ``derived_metrics(metrics) -> {name: value}`` from the final evaluation's
  ``loss``/``accuracy`` (e.g. perplexity).  ``shuffle = False`` keeps the
  training examples in order (contiguous LM batches); ``eval_batch_size`` is
  how many eval examples go into one evaluation batch.  ``single_replica =
  True``: the model keeps state between batches (e.g. carried LSTM state of the
  global batch's rows) and trains on one replica only.  ``mixed_precision =
  True``: the model trains with a bfloat16 forward pass (``tf_lstm.app.precision``).
  """

  name = None
  metric = "accuracy"
  shuffle = True
  eval_batch_size = 500
  tflite = False   # whether serving_module(model) has tflite_function()
  jit_serving = False   # whether serving_module(model, jit_compile=True) exists
  single_replica = False
  mixed_precision = False

  def load(self, data_dir):
    raise NotImplementedError

  def prepare(self, data, config):
    del config
    return data

  def save_assets(self, model_dir):
    del model_dir

  def use_assets(self, model_dir, config):
    """Reads back what ``save_assets`` wrote (export, sampling: no data at hand)."""
    del model_dir, config

  def loss_terms(self, logits, labels):
    return losses.classification_terms(logits, labels)

  def extra_metrics(self, model, eval_dataset):
    del model, eval_dataset
    return {}

  def derived_metrics(self, metrics):
    del metrics
    return {}

  def build_model(self, model_config):
    raise NotImplementedError

  def serving_module(self, model):
    raise NotImplementedError
