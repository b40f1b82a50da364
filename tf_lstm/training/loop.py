"""The training loop: one ``tf.function`` step, checkpoints, summaries, eval.

Data flows: task data -> index stream (pure function of the step) -> step ->
CheckpointManager / TensorBoard -> final evaluation -> results.json -> export.
Runs under any ``tf.distribute`` strategy (the default one when none is given).
"""

import json
import math
import os
import time

import numpy as np
import tensorflow as tf

from tf_lstm import optimizers
from tf_lstm import schedules
from tf_lstm import tasks
from tf_lstm.data import pipeline
from tf_lstm.export import saved_model
from tf_lstm.training import checkpoints

RESULTS_FILE = "results.json"


class TrainingError(RuntimeError):
  """Training cannot go on (e.g. a non-finite loss)."""


def cross_entropy(logits, labels, global_batch_size):
  """Mean sparse softmax cross-entropy over the *global* batch (replica-safe)."""
  per_example = tf.nn.sparse_softmax_cross_entropy_with_logits(labels=labels, logits=logits)
  return tf.nn.compute_average_loss(per_example, global_batch_size=global_batch_size)


def num_correct(logits, labels):
  return tf.reduce_sum(tf.cast(
      tf.equal(tf.argmax(logits, axis=1, output_type=labels.dtype), labels), tf.float32))


def make_train_step(model, optimizer, global_batch_size, clip_norm=0.0, strategy=None):
  """A ``tf.function`` ``(inputs, labels) -> (loss, correct)`` that updates ``model``."""
  strategy = strategy or tf.distribute.get_strategy()
  variables = model.trainable_variables

  def replica_step(inputs, labels):
    with tf.GradientTape() as tape:
      logits = model(inputs)
      loss = cross_entropy(logits, labels, global_batch_size)
    grads = tape.gradient(loss, variables)
    if clip_norm:
      grads, _ = tf.clip_by_global_norm(grads, clip_norm)
    optimizer.apply_gradients(zip(grads, variables))
    return loss, num_correct(logits, labels)

  @tf.function
  def step(inputs, labels):
    loss, correct = strategy.run(replica_step, args=(inputs, labels))
    return (strategy.reduce(tf.distribute.ReduceOp.SUM, loss, axis=None),
            strategy.reduce(tf.distribute.ReduceOp.SUM, correct, axis=None))
  return step


def evaluate(model, dataset, strategy=None):
  """Mean loss and accuracy over every example of ``dataset`` (once each)."""
  strategy = strategy or tf.distribute.get_strategy()

  def replica_eval(inputs, labels):
    logits = model(inputs)
    per_example = tf.nn.sparse_softmax_cross_entropy_with_logits(labels=labels, logits=logits)
    return (tf.reduce_sum(per_example), num_correct(logits, labels),
            tf.cast(tf.shape(labels)[0], tf.float32))

  @tf.function
  def eval_step(inputs, labels):
    out = strategy.run(replica_eval, args=(inputs, labels))
    return [strategy.reduce(tf.distribute.ReduceOp.SUM, o, axis=None) for o in out]

  totals = np.zeros(3, np.float64)
  for inputs, labels in strategy.experimental_distribute_dataset(dataset):
    totals += [float(t) for t in eval_step(inputs, labels)]
  loss_sum, correct, count = totals
  if count == 0:
    raise TrainingError("the evaluation split is empty")
  return {"loss": loss_sum / count, "accuracy": correct / count, "examples": int(count)}


def _schedule(config):
  if config.lr_schedule == "cosine":
    return schedules.cosine(config.train_steps)
  if config.lr_schedule == "constant":
    return schedules.constant()
  raise ValueError(f"unknown lr_schedule {config.lr_schedule!r}; "
                   f"expected one of {schedules.SCHEDULES}")


def build(config, strategy=None):
  """The task, model and optimizer for ``config`` (variables created, seeded)."""
  strategy = strategy or tf.distribute.get_strategy()
  task = tasks.get(config.model.task)
  tf.random.set_seed(config.seed)
  with strategy.scope():
    model = task.build_model(config.model)
    optimizer = optimizers.make_optimizer(config.optimizer, config.learning_rate)
    optimizer.schedule = _schedule(config)
    optimizer.build(model.trainable_variables)
  return task, model, optimizer


def train(config, strategy=None, log=print):
  """Trains (or resumes) the run in ``config.model_dir``; returns the results dict."""
  strategy = strategy or tf.distribute.get_strategy()
  if not config.model_dir:
    raise ValueError("model_dir is required")
  task = tasks.get(config.model.task)
  data = task.load(config.data_dir)      # Bad data fails here, before anything is written.
  checkpoints.check_or_write_config(config.model_dir, config)
  task, model, optimizer = build(config, strategy)
  ckpt, manager = checkpoints.make_manager(config.model_dir, model, optimizer)
  restored = checkpoints.restore_latest(ckpt, manager)
  start = int(optimizer.iterations.numpy())
  if restored:
    log(f"resumed from {restored} at step {start}")

  train_arrays = task.train_arrays(data)
  num_train = len(train_arrays[0])
  if config.batch_size > num_train:
    raise ValueError(f"batch_size {config.batch_size} exceeds the {num_train} training examples")
  train_ds = pipeline.gather_batches(
      pipeline.train_dataset(num_train, config.batch_size, config.seed, start),
      train_arrays, task.train_transform(config.augment_shift))
  eval_ds = pipeline.eval_dataset(task.eval_arrays(data), 500, task.eval_transform())
  step_fn = make_train_step(model, optimizer, config.batch_size, config.clip_norm, strategy)

  train_writer = tf.summary.create_file_writer(os.path.join(config.model_dir, "train"))
  eval_writer = tf.summary.create_file_writer(os.path.join(config.model_dir, "eval"))
  steps_per_epoch = num_train / config.batch_size
  t_start = time.time()
  window = [0.0, 0.0, 0, time.time()]   # loss sum, correct, steps, window start
  step = start
  last_saved = start if restored else None
  iterator = iter(strategy.experimental_distribute_dataset(train_ds))
  while step < config.train_steps:
    inputs, labels = next(iterator)
    loss, correct = step_fn(inputs, labels)
    loss = float(loss)
    step += 1
    if not math.isfinite(loss):
      raise TrainingError(
          f"loss is {loss} at step {step}; stopped without saving. The latest checkpoint "
          f"({manager.latest_checkpoint}) is the last good one; try a lower --learning_rate "
          "or --clip_norm")
    window[0] += loss
    window[1] += float(correct)
    window[2] += 1
    if step % config.log_every == 0 or step == config.train_steps:
      elapsed = time.time() - window[3]
      mean_loss, acc = window[0] / window[2], window[1] / (window[2] * config.batch_size)
      log(f"step {step}/{config.train_steps} epoch {step / steps_per_epoch:.1f} "
          f"loss {mean_loss:.4f} accuracy {acc:.4f} {window[2] / elapsed:.1f} steps/s")
      with train_writer.as_default(step=step):
        tf.summary.scalar("loss", mean_loss)
        tf.summary.scalar("accuracy", acc)
        tf.summary.scalar("steps_per_second", window[2] / elapsed)
        tf.summary.scalar("learning_rate",
                          optimizer.learning_rate * (optimizer.schedule(step)))
      window[:] = [0.0, 0.0, 0, time.time()]
    if step % config.checkpoint_every == 0:
      manager.save(checkpoint_number=step)
      last_saved = step
    if config.eval_every and step % config.eval_every == 0 and step < config.train_steps:
      metrics = evaluate(model, eval_ds, strategy)
      log(f"step {step} eval loss {metrics['loss']:.4f} accuracy {metrics['accuracy']:.4f}")
      with eval_writer.as_default(step=step):
        tf.summary.scalar("loss", metrics["loss"])
        tf.summary.scalar("accuracy", metrics["accuracy"])
  train_seconds = time.time() - t_start
  if last_saved != step:
    manager.save(checkpoint_number=step)

  metrics = evaluate(model, eval_ds, strategy)
  with eval_writer.as_default(step=step):
    tf.summary.scalar("loss", metrics["loss"])
    tf.summary.scalar("accuracy", metrics["accuracy"])
  train_writer.flush()
  eval_writer.flush()
  results = {
      "task": config.model.task,
      "global_step": step,
      "test_accuracy": metrics["accuracy"],
      "test_loss": metrics["loss"],
      "test_examples": metrics["examples"],
      "train_seconds": train_seconds if step > start else 0.0,
      "resumed_from_step": start,
      "config": config.to_dict(),
  }
  log(f"test accuracy {metrics['accuracy']:.4f} loss {metrics['loss']:.4f} "
      f"on {metrics['examples']} examples (step {step})")
  if config.export_dir:
    path = saved_model.export(task.serving_module(model), config.export_dir)
    results["export_path"] = path
    log(f"exported SavedModel to {path}")
  tmp = os.path.join(config.model_dir, RESULTS_FILE + ".tmp")
  with open(tmp, "w") as f:
    json.dump(results, f, indent=2)
  os.replace(tmp, os.path.join(config.model_dir, RESULTS_FILE))
  return results
