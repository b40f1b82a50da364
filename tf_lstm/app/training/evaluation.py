"""Evaluation over a whole split, under any ``tf.distribute`` strategy."""

import numpy as np
import tensorflow as tf

from tf_lstm.app import losses


class TrainingError(RuntimeError):
  """Training cannot go on (e.g. a non-finite loss, an empty evaluation split)."""


def evaluate(model, dataset, strategy=None, loss_terms=None):
  """Mean loss and accuracy over every example (or every counted token) of ``dataset``.

  ``loss_terms``: a task's ``(logits, labels) -> (loss_sum, correct, count)``
  (default ``losses.classification_terms``).  Returns
  ``{"loss": sum(loss_sum) / sum(count), "accuracy": sum(correct) / sum(count),
  "examples": sum(count)}``.
  """
  strategy = strategy or tf.distribute.get_strategy()
  loss_terms = loss_terms or losses.classification_terms

  def replica_eval(inputs, labels):
    return loss_terms(model(inputs), labels)

  @tf.function
  def eval_step(inputs, labels):
    out = strategy.run(replica_eval, args=(inputs, labels))
    return [strategy.reduce(tf.distribute.ReduceOp.SUM, o, axis=None) for o in out]

  # Every example goes to exactly one replica (of one worker): DATA sharding
  # splits each batch, the last one possibly uneven (some replicas empty).
  options = tf.data.Options()
  options.experimental_distribute.auto_shard_policy = tf.data.experimental.AutoShardPolicy.DATA
  totals = np.zeros(3, np.float64)
  for inputs, labels in strategy.experimental_distribute_dataset(dataset.with_options(options)):
    totals += [float(t) for t in eval_step(inputs, labels)]
  loss_sum, correct, count = totals
  if count == 0:
    raise TrainingError("the evaluation split is empty")
  return {"loss": loss_sum / count, "accuracy": correct / count, "examples": int(count)}
