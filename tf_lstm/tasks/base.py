"""What every task provides to the training loop and the exporter."""


class Task:
  """A data set plus the model that learns it.

  ``load(data_dir)`` returns the data (raising ``DataError`` before any work);
  ``train_arrays``/``eval_arrays`` are numpy arrays whose first dim indexes
  examples; ``train_transform``/``eval_transform`` map a gathered batch of
  them to ``(inputs, labels)``; ``build_model(model_config)`` returns a
  ``tf.Module`` mapping inputs to logits; ``serving_module(model)`` returns
  the ``tf.Module`` whose signatures are exported.
  """

  name = None
  metric = "accuracy"

  def load(self, data_dir):
    raise NotImplementedError

  def build_model(self, model_config):
    raise NotImplementedError

  def serving_module(self, model):
    raise NotImplementedError
