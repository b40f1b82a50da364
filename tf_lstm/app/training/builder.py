"""The task's model and its optimizer for a ``TrainConfig`` (training, export, import)."""

import tensorflow as tf

from tf_lstm.app import optimizers
from tf_lstm.app import schedules
from tf_lstm.app import tasks


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
