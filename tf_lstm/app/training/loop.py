"""The training loop: one ``tf.function`` step, checkpoints, summaries, eval.

Data flows: task data -> index stream (pure function of the step) -> step ->
CheckpointManager / TensorBoard -> final evaluation -> results.json -> export.
Runs under any ``tf.distribute`` strategy (the default one when none is given).
``train`` reads as its steps: ``_check_run``, ``_load_data``, ``_start``
(config, assets, model, resume), ``_train_dataset``, ``_run_steps`` (with a
``Progress`` window for the log line), ``_finish`` (evaluation, results,
export).

One writer per model directory: from ``_start`` to the end the run holds the
directory's lock (``run_lock``; under several workers, the chief), and a run
that finds it held stops before loading its data.  ``results.json`` lists the
run's segments (``checkpoints.segments``): the steps each set of per-segment
settings trained.
"""

import contextlib
import dataclasses
import functools
import json
import math
import os
import time

import tensorflow as tf

from tf_lstm.app import distribute
from tf_lstm.app import losses
from tf_lstm.app import precision
from tf_lstm.app import tasks
from tf_lstm.app.data import pipeline
from tf_lstm.app.export import saved_model
from tf_lstm.app.training import autotune
from tf_lstm.app.training import checkpoints
from tf_lstm.app.training import run_lock
from tf_lstm.app.training.builder import build  # noqa: F401 (re-exported)
from tf_lstm.app.training.evaluation import TrainingError, evaluate  # noqa: F401 (re-exported)

RESULTS_FILE = "results.json"


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

  forward = precision.forward_in(
      compute_dtype, lambda inputs: model(inputs, training=True), model)

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
    else:
      # Updates wait for every gradient (as the clip's global norm makes them): the small
      # variables' updates would otherwise run beside the LSTM's gradient op and take
      # the cores its row blocks use (docs/benchmarks.md, the native layer op).
      grads = tf.tuple(grads)
    optimizer.apply_gradients(zip(grads, variables))
    for module in constrained:   # after the update: automatic control dependencies
      module.apply_constraints()
    return loss, correct, count

  @tf.function
  def step(inputs, labels):
    out = strategy.run(replica_step, args=(inputs, labels))
    return tuple(strategy.reduce(tf.distribute.ReduceOp.SUM, o, axis=None) for o in out)
  return step


def train(config, strategy=None, log=print):
  """Trains (or resumes) the run in ``config.model_dir``; returns the results dict.

  Every check on the configuration and the data runs before anything is
  written to ``model_dir``; a directory another run holds is refused
  (``run_lock.RunLockError``) before the data is loaded.
  """
  strategy = strategy or tf.distribute.get_strategy()
  task = tasks.get(config.model.task)
  _check_run(config, task, strategy)
  hint = task.mixed_precision and precision.bfloat16_hint(config.dtype)
  if hint:
    log(hint)
  chief = distribute.is_chief(strategy)   # Only the chief writes to model_dir / export_dir.
  if chief:
    run_lock.check_free(config.model_dir)
  data, train_arrays = _load_data(task, config, strategy)
  num_train = len(train_arrays[0])
  if not config.train_steps:
    config = dataclasses.replace(
        config, train_steps=max(1, round(config.epochs * num_train / config.batch_size)))
  checkpoints.check_config(config.model_dir, config)   # before the lock writes anything
  with run_lock.hold(config.model_dir) if chief else contextlib.nullcontext():
    run = _start(config, task, strategy, num_train, log)
    _tune_unroll(run, train_arrays, log)
    eval_ds = pipeline.eval_dataset(task.eval_arrays(data), task.eval_batch_size,
                                    task.eval_transform())
    train_seconds = _run_steps(run, _train_dataset(run, train_arrays, num_train), eval_ds,
                               log)
    return _finish(run, eval_ds, train_seconds, log)


def _tune_unroll(run, train_arrays, log):
  """Times the model's training unrolls on a batch of the data and keeps the fastest
  (``autotune``), for a one-replica run long enough to pay for the timing."""
  if (not autotune.tunable(run.model) or run.strategy.num_replicas_in_sync > 1
      or run.config.train_steps - run.start < autotune.MIN_STEPS):
    return
  n = run.config.batch_size
  inputs, labels = run.task.train_transform()(train_arrays[0][:n], train_arrays[1][:n])
  autotune.choose_unroll(run.model, run.task.loss_terms, tf.convert_to_tensor(inputs),
                         tf.convert_to_tensor(labels), run.config.dtype, log)


@dataclasses.dataclass
class _Run:
  """What the steps of ``train`` share."""
  config: object
  task: object
  strategy: object
  model: object
  optimizer: object
  manager: object
  start: int
  restored: bool
  chief: bool
  steps_per_epoch: float
  train_writer: object
  eval_writer: object
  segments: list
  previous_results: dict


def _check_run(config, task, strategy):
  """Settings that cannot work together (``ValueError``/``DistributeError``), before any work."""
  if not config.model_dir:
    raise ValueError("model_dir is required")
  config.check()
  if task.single_replica and strategy.num_replicas_in_sync > 1:
    raise distribute.DistributeError(
        f"task {task.name} trains on one replica only (its model carries state across "
        f"batches for the whole batch), but the strategy has {strategy.num_replicas_in_sync} "
        "replicas; use the default strategy")
  precision.check_compute_dtype(config.dtype)
  precision.check_bfloat16_kernels(config.dtype)
  if config.dtype != "float32" and not task.mixed_precision:
    raise ValueError(f"dtype {config.dtype} is for the image tasks and imdb, not task "
                     f"{task.name}; use float32")
  if config.tflite and not (config.export_dir and task.tflite):
    raise ValueError(f"a TFLite export needs an export_dir and an image task; got "
                     f"export_dir={config.export_dir!r}, task {task.name!r}")


def _load_data(task, config, strategy):
  """``(data, train_arrays)``; bad data fails here, before anything is written."""
  data = task.load(config.data_dir)
  data = task.prepare(data, config)      # e.g. the vocabulary (read from model_dir or built).
  train_arrays = task.train_arrays(data)
  num_train = len(train_arrays[0])
  if config.batch_size > num_train:
    raise ValueError(f"batch_size {config.batch_size} exceeds the {num_train} training examples")
  distribute.check_global_batch(config.batch_size, strategy)
  return data, train_arrays


def _start(config, task, strategy, num_train, log):
  """Checks config.json again (now under the lock), builds the model, resumes from the
  newest intact checkpoint, then writes config.json (with this segment) and the assets."""
  chief = distribute.is_chief(strategy)
  previous = checkpoints.check_config(config.model_dir, config)
  previous_results = _read_results(config.model_dir)
  steps_per_epoch = num_train / config.batch_size
  task, model, optimizer = build(config, strategy, task, steps_per_epoch)
  ckpt_dir = os.path.join(config.model_dir, checkpoints.CHECKPOINT_SUBDIR)
  restored, damaged = checkpoints.restore_newest_intact(
      tf.train.Checkpoint(model=model, optimizer=optimizer), ckpt_dir, warn=log)
  start = int(optimizer.iterations.numpy())
  distribute.check_same_on_all_workers(strategy, start, "step to resume from")
  # A per-segment setting: this run's rate, not the one the checkpoint holds.
  optimizer.learning_rate.assign(config.learning_rate)
  segments = checkpoints.segments(previous, config, start)
  if chief:
    moved = checkpoints.set_aside(ckpt_dir, damaged, restored)
    if moved:
      log(f"moved the damaged checkpoint files to {moved} (kept, not deleted)")
    checkpoints.write_config(config.model_dir, config, segments)
    task.save_assets(config.model_dir)     # e.g. vocab.txt, reused on resume.
  _, manager = checkpoints.make_manager(config.model_dir, model, optimizer, strategy=strategy)
  if restored:
    log(f"resumed from {restored} at step {start}")
  return _Run(config, task, strategy, model, optimizer, manager, start, bool(restored), chief,
              steps_per_epoch,
              distribute.summary_writer(os.path.join(config.model_dir, "train"), strategy),
              distribute.summary_writer(os.path.join(config.model_dir, "eval"), strategy),
              segments, previous_results)


def _read_results(model_dir):
  """The results.json of an earlier invocation, or None (missing or unreadable)."""
  try:
    with open(os.path.join(model_dir, RESULTS_FILE)) as f:
      results = json.load(f)
    return results if isinstance(results, dict) else None
  except (OSError, ValueError):
    return None


def _train_dataset(run, train_arrays, num_train):
  """The distributed training batches from ``run.start`` on."""
  config = run.config

  def dataset_fn(input_context):   # this worker's replicas' slices of each global batch
    return pipeline.gather_batches(
        distribute.replica_index_batches(
            pipeline.train_dataset(num_train, config.batch_size, config.seed, run.start,
                                   shuffle=run.task.shuffle),
            input_context),
        train_arrays, run.task.train_transform(config.augment_shift), config.seed, run.start)
  return run.strategy.distribute_datasets_from_function(dataset_fn)


class Progress:
  """Running means over the steps since the last log line, and the time left."""

  def __init__(self, total_steps):
    self.total_steps = total_steps
    self.reset()

  def reset(self):
    self.loss_sum = self.correct = self.count = 0.0
    self.steps = 0
    self.since = time.time()

  def add(self, loss, correct, count):
    self.loss_sum += loss
    self.correct += correct
    self.count += count
    self.steps += 1

  def line(self, step, steps_per_epoch):
    """``(log line, {summary name: value})`` for the window ending at ``step``."""
    rate = self.steps / max(time.time() - self.since, 1e-9)
    loss, accuracy = self.loss_sum / self.steps, self.correct / max(self.count, 1.0)
    text = (f"step {step}/{self.total_steps} epoch {step / steps_per_epoch:.1f} "
            f"loss {loss:.4f} accuracy {accuracy:.4f} {rate:.1f} steps/s "
            f"ETA {format_duration((self.total_steps - step) / rate)}")
    return text, {"loss": loss, "accuracy": accuracy, "steps_per_second": rate}


def format_duration(seconds):
  """``3725`` -> ``"1h02m"``, ``75`` -> ``"1m15s"``, ``9.4`` -> ``"9s"``."""
  seconds = int(round(seconds))
  if seconds >= 3600:
    return f"{seconds // 3600}h{seconds % 3600 // 60:02d}m"
  if seconds >= 60:
    return f"{seconds // 60}m{seconds % 60:02d}s"
  return f"{seconds}s"


def _run_steps(run, train_ds, eval_ds, log):
  """Steps from ``run.start`` to ``train_steps``; logs, saves, evaluates; returns seconds."""
  config, optimizer = run.config, run.optimizer
  step_fn = make_train_step(run.model, optimizer, clip_norm=config.clip_norm,
                            strategy=run.strategy, loss_terms=run.task.loss_terms,
                            compute_dtype=config.dtype)
  progress = Progress(config.train_steps)
  t_start = time.time()
  step = run.start
  last_saved = run.start if run.restored else None
  iterator = iter(train_ds)
  while step < config.train_steps:
    loss, correct, count = step_fn(*next(iterator))
    loss = float(loss)
    step += 1
    if not math.isfinite(loss):
      raise TrainingError(
          f"loss is {loss} at step {step}; stopped without saving. The latest checkpoint "
          f"({run.manager.latest_checkpoint}) is the last good one; try a lower learning "
          "rate or gradient clipping (clip_norm)")
    progress.add(loss, float(correct), float(count))
    if step % config.log_every == 0 or step == config.train_steps:
      text, scalars = progress.line(step, run.steps_per_epoch)
      log(text)
      with run.train_writer.as_default(step=step):
        for name, value in scalars.items():
          tf.summary.scalar(name, value)
        tf.summary.scalar("learning_rate", optimizer.learning_rate * optimizer.schedule(step))
      progress.reset()
    if step % config.checkpoint_every == 0:
      checkpoints.save(run.manager, step)
      last_saved = step
    if config.eval_every and step % config.eval_every == 0 and step < config.train_steps:
      metrics = _evaluate_and_log(run, eval_ds, step)
      log(f"step {step} eval loss {metrics['loss']:.4f} accuracy {metrics['accuracy']:.4f}")
  train_seconds = time.time() - t_start
  if last_saved != step:
    checkpoints.save(run.manager, step)
  return train_seconds


def _evaluate_and_log(run, eval_ds, step):
  metrics = evaluate(run.model, eval_ds, run.strategy, run.task.loss_terms)
  with run.eval_writer.as_default(step=step):
    tf.summary.scalar("loss", metrics["loss"])
    tf.summary.scalar("accuracy", metrics["accuracy"])
  return metrics


def _finish(run, eval_ds, train_seconds, log):
  """Final evaluation, results.json, the export; returns the results dict."""
  config, task = run.config, run.task
  step = int(run.optimizer.iterations.numpy())
  metrics = _evaluate_and_log(run, eval_ds, step)
  run.train_writer.flush()
  run.eval_writer.flush()
  results = {
      "task": config.model.task,
      "global_step": step,
      "test_accuracy": metrics["accuracy"],
      "test_loss": metrics["loss"],
      "test_examples": metrics["examples"],
      "metric": task.metric,
      "train_seconds": train_seconds if step > run.start else 0.0,
      "resumed_from_step": run.start,
      "config": config.to_dict(),
      # The steps each segment's settings trained (see checkpoints.segments).
      "segments": [{"from_step": s["from_step"], "to_step": end, "settings": s["settings"]}
                   for s, end in zip(run.segments, [s["from_step"] for s in run.segments[1:]]
                                     + [step])],
  }
  log(f"test accuracy {metrics['accuracy']:.4f} loss {metrics['loss']:.4f} "
      f"on {metrics['examples']} examples (step {step})")
  for name, value in {**task.derived_metrics(metrics),
                      **task.extra_metrics(run.model, eval_ds)}.items():
    key = name if name.startswith("valid_") else "test_" + name   # valid_*: another split
    results[key] = value
    log(f"{key.replace('_', ' ')} {value:.4f}")
  exported = _exported_before(run, step)
  if exported and not config.force_export:
    results["export_path"] = exported
    log(f"step {step} is already exported as {exported}; not exported again "
        "(force_export exports anyway)")
  elif config.export_dir:
    path = distribute.export(functools.partial(saved_model.export, tflite=config.tflite),
                             task.serving_module(run.model), config.export_dir, run.strategy)
    if run.chief:
      results["export_path"] = path
      log(f"exported SavedModel to {path}")
  if run.chief:
    checkpoints.write_atomically(os.path.join(config.model_dir, RESULTS_FILE),
                                 json.dumps(results, indent=2))
  # A barrier: the workers finish together (one leaving early can stall the others).
  distribute.check_same_on_all_workers(run.strategy, step, "final step")
  return results


def _exported_before(run, step):
  """The version an earlier invocation exported from these very weights, or None.

  Only when this invocation trained nothing (it resumed at the final step) and
  the earlier results.json names an existing export of that step under the
  same export_dir.  Every worker reads the same file, so all decide alike.
  """
  previous, export_dir = run.previous_results or {}, run.config.export_dir
  path = previous.get("export_path")
  if not (export_dir and step == run.start and previous.get("global_step") == step
          and isinstance(path, str) and os.path.isdir(path) and os.path.isdir(export_dir)):
    return None
  return path if os.path.samefile(os.path.dirname(os.path.normpath(path)), export_dir) else None
