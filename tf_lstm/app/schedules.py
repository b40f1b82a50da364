"""Learning-rate multipliers as functions of the step (``iterations``).

The optimizer's rate at step ``t`` is ``learning_rate * schedule(t)``.
"""

import math

import tensorflow as tf


def constant():
  return lambda step: tf.constant(1.0)


def cosine(total_steps, final_fraction=0.0):
  """``f + (1 - f) * (1 + cos(pi * min(t, T) / T)) / 2``: from 1 down to ``f``."""
  total = float(max(int(total_steps), 1))

  def schedule(step):
    progress = tf.minimum(tf.cast(step, tf.float32), total) / total
    return final_fraction + (1 - final_fraction) * 0.5 * (1 + tf.cos(math.pi * progress))
  return schedule


def epoch_decay(steps_per_epoch, decay, start_epoch):
  """``decay ** max(epoch - start_epoch, 0)``, epochs counted from 1.

  Constant through epoch ``start_epoch`` (PTB's ``max_epoch``), then decays.
  """
  def schedule(step):
    epoch = tf.cast(step, tf.float32) // float(steps_per_epoch) + 1.0
    return tf.pow(float(decay), tf.maximum(epoch - float(start_epoch), 0.0))
  return schedule


SCHEDULES = ("constant", "cosine", "epoch_decay")
