"""Inverted dropout, applied only in training."""

import tensorflow as tf


def dropout(x, rate, training):
  """``x * Bernoulli(1 - rate) / (1 - rate)`` elementwise when ``training``, else ``x``."""
  if not training or not rate:
    return x
  return tf.nn.dropout(x, rate=rate)
