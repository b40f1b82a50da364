"""Losses and counts: the one copy of the classification and per-token math.

A task's ``loss_terms(logits, labels)`` returns ``(loss_sum, correct, count)``
over one replica's batch; the training loss is ``loss_sum / count`` (averaged
over replicas) and evaluation sums all three over the data.
"""

import tensorflow as tf


def num_correct(logits, labels):
  """Number of rows whose argmax over the last axis equals ``labels``."""
  return tf.reduce_sum(tf.cast(
      tf.equal(tf.argmax(logits, axis=-1, output_type=labels.dtype), labels), tf.float32))


def classification_terms(logits, labels):
  """``logits [B, C]``, ``labels [B]`` -> (sum of cross-entropies, correct, B)."""
  per_example = tf.nn.sparse_softmax_cross_entropy_with_logits(labels=labels, logits=logits)
  return (tf.reduce_sum(per_example), num_correct(logits, labels),
          tf.cast(tf.shape(labels)[0], tf.float32))


def token_terms(logits, labels):
  """``logits [B, T, C]``, ``labels [B, T]`` with ``-1`` at padding.

  Returns (sum of token cross-entropies, correct tokens, tokens), padding
  excluded: ``loss = sum_{b,t: y>=0} CE(logits[b,t], y[b,t]) / #{y >= 0}``.
  """
  mask = labels >= 0
  safe = tf.where(mask, labels, tf.zeros_like(labels))
  weights = tf.cast(mask, logits.dtype)
  ce = tf.nn.sparse_softmax_cross_entropy_with_logits(labels=safe, logits=logits)
  hit = tf.cast(tf.equal(tf.argmax(logits, axis=-1, output_type=labels.dtype), labels),
                logits.dtype)
  return tf.reduce_sum(ce * weights), tf.reduce_sum(hit * weights), tf.reduce_sum(weights)
