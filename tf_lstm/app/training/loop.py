"""The training loop: one ``tf.function`` step, checkpoints, summaries, eval.

Data flows: task data -> index stream (pure function of the step) -> step ->
CheckpointManager / TensorBoard -> final evaluation -> results.json -> export.
Runs under any ``tf.distribute`` strategy (the default one when none is given).
"""

import dataclasses
import functools
import inspect
import json
import math
import os
import time

import numpy as np
import tensorflow as tf

from tf_lstm.app import distribute
from tf_lstm.app import losses
from tf_lstm.app import optimizers
from tf_lstm.app import precision
from tf_lstm.app import schedules
from tf_lstm.app import tasks
from tf_lstm.app.data import pipeline
from tf_lstm.app.export import saved_model
from tf_lstm.app.training import checkpoints

RESULTS_FILE = "results.json"


class TrainingError(RuntimeError):
  """Training cannot go on (e.g. a non-finite loss)."""


def training_call(model):
  """``model`` called in training mode: ``model(x, training=True)`` if it takes
  ``training`` (dropout), else ``model(x)``."""
  if "training" in inspect.signature(model.__call__).parameters:
    return lambda inputs: model(inputs, training=True)
  return model


def make_train_step(model, optimizer, *, clip_norm=0.0, strategy=None, loss_terms=None,
                    compute_dtype="float32"):
  """A ``tf.function`` ``(inputs, labels) -> (loss, correct, count)`` that updates ``model``.

  ``loss_terms`` is a task's ``(logits, labels) -> (loss_sum, correct, count)``
  (default: ``losses.classification_terms``).  The loss is the global mean,
  ``sum of loss_sum / sum of count`` over all replicas of this step's batch (a
  partial last batch is averaged over its own size); ``correct`` and ``count``
  are summed over replicas.  The forward pass reads each variable once per
  step; ``compute_dtype="bfloat16"`` runs it in bfloat16 on float32 variables
  (``tf_lstm.app.precision``).
  """
  strategy = strategy or tf.distribute.get_strategy()
  loss_terms = loss_terms or losses.classification_terms
  variables = model.trainable_variables
  # Modules with weight constraints (e.g. BinaryLSTMCell's [-1, 1] clip).
  constrained = [m for m in (model,) + tuple(model.submodules)
                 if hasattr(m, "apply_constraints")]

  forward = precision.forward_in(compute_dtype, training_call(model), model)

  def replica_step(inputs, labels):
    with tf.GradientTape() as tape:
      loss_sum, correct, count = loss_terms(forward(inputs), labels)
      # Divide by the count over all replicas: the gradients, summed over
      # replicas by the optimizer, are then those of the global mean loss.
      global_count = tf.distribute.get_replica_context().all_reduce(
          tf.distribute.ReduceOp.SUM, count)
      loss = loss_sum / tf.maximum(global_count, 1.0)
    grads = tape.gradient(loss, variables)
    if clip_norm:
      grads, _ = tf.clip_by_global_norm(grads, clip_norm)
    optimizer.apply_gradients(zip(grads, variables))
    for module in constrained:   # after the update: automatic control dependencies
      module.apply_constraints()
    return loss, correct, count

  @tf.function
  def step(inputs, labels):
    out = strategy.run(replica_step, args=(inputs, labels))
    return tuple(strategy.reduce(tf.distribute.ReduceOp.SUM, o, axis=None) for o in out)
  return step


def evaluate(model, dataset, strategy=None, loss_terms=None):
  """Mean loss and accuracy over every example (or every counted token) of ``dataset``."""
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


def _schedule(config, steps_per_epoch=None):
  if config.lr_schedule == "epoch_decay":
    if not steps_per_epoch:
      raise ValueError("lr_schedule 'epoch_decay' needs the number of steps per epoch")
    return schedules.epoch_decay(steps_per_epoch, config.lr_decay, config.lr_decay_epoch)
  if config.lr_schedule == "cosine":
    return schedules.cosine(config.train_steps)
  if config.lr_schedule == "constant":
    return schedules.constant()
  raise ValueError(f"unknown lr_schedule {config.lr_schedule!r}; "
                   f"expected one of {schedules.SCHEDULES}")


def build(config, strategy=None, task=None, steps_per_epoch=None):
  """The task, model and optimizer for ``config`` (variables created, seeded)."""
  strategy = strategy or tf.distribute.get_strategy()
  task = task or tasks.get(config.model.task)
  tf.random.set_seed(config.seed)
  with strategy.scope():
    model = task.build_model(config.model)
    optimizer = optimizers.make_optimizer(config.optimizer, config.learning_rate)
    optimizer.schedule = _schedule(config, steps_per_epoch)
    optimizer.build(model.trainable_variables)
  return task, model, optimizer


def train(config, strategy=None, log=print):
  """Trains (or resumes) the run in ``config.model_dir``; returns the results dict."""
  strategy = strategy or tf.distribute.get_strategy()
  if not config.model_dir:
    raise ValueError("model_dir is required")
  task = tasks.get(config.model.task)
  if task.single_replica and strategy.num_replicas_in_sync > 1:
    raise distribute.DistributeError(
        f"--task={task.name} trains on one replica only (its model carries state across "
        f"batches for the whole batch), but the strategy has {strategy.num_replicas_in_sync} "
        "replicas; use --strategy=default")
  precision.check_compute_dtype(config.dtype)
  if config.dtype != "float32" and not task.mixed_precision:
    raise ValueError(f"--dtype={config.dtype} is for the image tasks (mnist, fashion_mnist), "
                     f"not --task={task.name}; use --dtype=float32")
  if config.export_tflite and not (config.export_dir and task.tflite):
    raise ValueError(f"a TFLite export needs an export_dir and an image task; got "
                     f"export_dir={config.export_dir!r}, task {task.name!r}")
  data = task.load(config.data_dir)      # Bad data fails here, before anything is written.
  data = task.prepare(data, config)      # e.g. the vocabulary (read from model_dir or built).
  train_arrays = task.train_arrays(data)
  num_train = len(train_arrays[0])
  if config.batch_size > num_train:
    raise ValueError(f"batch_size {config.batch_size} exceeds the {num_train} training examples")
  distribute.check_global_batch(config.batch_size, strategy)
  chief = distribute.is_chief(strategy)   # Only the chief writes to model_dir / export_dir.
  if not config.train_steps:
    config = dataclasses.replace(
        config, train_steps=max(1, round(config.epochs * num_train / config.batch_size)))
  checkpoints.check_or_write_config(config.model_dir, config, write=chief)
  if chief:
    task.save_assets(config.model_dir)     # e.g. vocab.txt, reused on resume.
  task, model, optimizer = build(config, strategy, task, num_train / config.batch_size)
  ckpt, manager = checkpoints.make_manager(config.model_dir, model, optimizer,
                                          strategy=strategy)
  restored = checkpoints.restore_latest(ckpt, manager)
  start = int(optimizer.iterations.numpy())
  distribute.check_same_on_all_workers(strategy, start, "step to resume from")
  if restored:
    log(f"resumed from {restored} at step {start}")

  def train_dataset_fn(input_context):   # this worker's replicas' slices of each global batch
    return pipeline.gather_batches(
        distribute.replica_index_batches(
            pipeline.train_dataset(num_train, config.batch_size, config.seed, start,
                                   shuffle=task.shuffle),
            input_context),
        train_arrays, task.train_transform(config.augment_shift), config.seed, start)
  eval_ds = pipeline.eval_dataset(task.eval_arrays(data), task.eval_batch_size,
                                  task.eval_transform())
  step_fn = make_train_step(model, optimizer, clip_norm=config.clip_norm, strategy=strategy,
                            loss_terms=task.loss_terms, compute_dtype=config.dtype)

  train_writer = distribute.summary_writer(os.path.join(config.model_dir, "train"), strategy)
  eval_writer = distribute.summary_writer(os.path.join(config.model_dir, "eval"), strategy)
  steps_per_epoch = num_train / config.batch_size
  t_start = time.time()
  window = [0.0, 0.0, 0, time.time(), 0.0]   # loss sum, correct, steps, start, count
  step = start
  last_saved = start if restored else None
  iterator = iter(strategy.distribute_datasets_from_function(train_dataset_fn))
  while step < config.train_steps:
    inputs, labels = next(iterator)
    loss, correct, count = step_fn(inputs, labels)
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
    window[4] += float(count)
    if step % config.log_every == 0 or step == config.train_steps:
      elapsed = time.time() - window[3]
      mean_loss, acc = window[0] / window[2], window[1] / max(window[4], 1.0)
      log(f"step {step}/{config.train_steps} epoch {step / steps_per_epoch:.1f} "
          f"loss {mean_loss:.4f} accuracy {acc:.4f} {window[2] / elapsed:.1f} steps/s")
      with train_writer.as_default(step=step):
        tf.summary.scalar("loss", mean_loss)
        tf.summary.scalar("accuracy", acc)
        tf.summary.scalar("steps_per_second", window[2] / elapsed)
        tf.summary.scalar("learning_rate",
                          optimizer.learning_rate * (optimizer.schedule(step)))
      window[:] = [0.0, 0.0, 0, time.time(), 0.0]
    if step % config.checkpoint_every == 0:
      manager.save(checkpoint_number=step)
      last_saved = step
    if config.eval_every and step % config.eval_every == 0 and step < config.train_steps:
      metrics = evaluate(model, eval_ds, strategy, task.loss_terms)
      log(f"step {step} eval loss {metrics['loss']:.4f} accuracy {metrics['accuracy']:.4f}")
      with eval_writer.as_default(step=step):
        tf.summary.scalar("loss", metrics["loss"])
        tf.summary.scalar("accuracy", metrics["accuracy"])
  train_seconds = time.time() - t_start
  if last_saved != step:
    manager.save(checkpoint_number=step)

  metrics = evaluate(model, eval_ds, strategy, task.loss_terms)
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
      "metric": task.metric,
      "train_seconds": train_seconds if step > start else 0.0,
      "resumed_from_step": start,
      "config": config.to_dict(),
  }
  log(f"test accuracy {metrics['accuracy']:.4f} loss {metrics['loss']:.4f} "
      f"on {metrics['examples']} examples (step {step})")
  for name, value in {**task.derived_metrics(metrics),
                      **task.extra_metrics(model, eval_ds)}.items():
    key = name if name.startswith("valid_") else "test_" + name   # valid_*: another split
    results[key] = value
    log(f"{key.replace('_', ' ')} {value:.4f}")
  if config.export_dir:
    path = distribute.export(
        functools.partial(saved_model.export, tflite=config.export_tflite),
        task.serving_module(model), config.export_dir, strategy)
    if chief:
      results["export_path"] = path
      log(f"exported SavedModel to {path}")
  if chief:
    tmp = os.path.join(config.model_dir, RESULTS_FILE + ".tmp")
    with open(tmp, "w") as f:
      json.dump(results, f, indent=2)
    os.replace(tmp, os.path.join(config.model_dir, RESULTS_FILE))
  # A barrier: the workers finish together (one leaving early can stall the others).
  distribute.check_same_on_all_workers(strategy, step, "final step")
  return results
