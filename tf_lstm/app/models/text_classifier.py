"""Text classifier: embedding -> (bi)LSTM over the valid steps -> masked mean -> linear."""

import tensorflow as tf

from tf_lstm import unroll
from tf_lstm.cells import base
from tf_lstm.app.models.dropout import dropout


def uniform_embedding(vocab_size, dim, scale=0.05):
  return tf.random.uniform([vocab_size, dim], -scale, scale)


def masked_mean(outputs, lengths):
  """Mean of ``outputs [B, T, D]`` over steps ``t < lengths[b]`` (0 for length 0).

  Relies on (and enforces) zeros past each row's length.
  """
  mask = tf.sequence_mask(lengths, tf.shape(outputs)[1], dtype=outputs.dtype)
  total = tf.reduce_sum(outputs * mask[:, :, None], axis=1)
  return total / tf.maximum(tf.cast(lengths, outputs.dtype), 1.0)[:, None]


class TextClassifier(tf.Module):
  """``logits = mean_{t<len} h_t @ output/kernel + output/bias``, ``h_t`` from
  ``dynamic_rnn`` (or ``[h_fw; h_bw]`` with ``cell_bw``) over ``embedding[ids]``.

  Call: ``(ids [B, T] int, lengths [B] int)`` -> logits ``[B, num_classes]``.
  Ids at ``t >= length`` never influence the result.  With ``dropout=r`` and
  ``training=True`` the embeddings and the pooled features go through dropout.
  """

  # Read as float32 under a bfloat16 forward pass (tf_lstm.app.precision): the
  # looked-up rows are cast, not the whole [vocab, dim] table every step.
  float32_variables = ("embedding",)

  def __init__(self, vocab_size, embedding_dim, cell, num_classes, cell_bw=None,
               dropout=0.0, name="text_classifier"):
    super().__init__(name=name)
    self.cell, self.cell_bw = cell, cell_bw
    self.dropout = float(dropout)
    self.vocab_size = int(vocab_size)
    with self.name_scope:
      self.embedding = tf.Variable(uniform_embedding(self.vocab_size, embedding_dim),
                                   name="embedding")
      cell.build(embedding_dim)
      features = cell.output_size
      if cell_bw is not None:
        cell_bw.build(embedding_dim)
        features += cell_bw.output_size
      with tf.name_scope("output"):
        self.output_kernel = tf.Variable(base.glorot_uniform([features, num_classes]),
                                         name="kernel")
        self.output_bias = tf.Variable(tf.zeros([num_classes]), name="bias")

  def features(self, ids, lengths, training=False):
    """``[B, features]``: the masked mean of the RNN outputs."""
    x = tf.nn.embedding_lookup(self.embedding, ids)
    # The compute dtype: the head's kernel as this pass reads it (bfloat16 or float32).
    x = dropout(tf.cast(x, self.output_kernel.dtype), self.dropout, training)
    if self.cell_bw is None:
      outputs, _ = unroll.dynamic_rnn(self.cell, x, sequence_length=lengths, dtype=x.dtype)
    else:
      (fw, bw), _ = unroll.bidirectional_dynamic_rnn(
          self.cell, self.cell_bw, x, sequence_length=lengths, dtype=x.dtype)
      outputs = tf.concat([fw, bw], axis=2)
    return dropout(masked_mean(outputs, lengths), self.dropout, training)

  def __call__(self, inputs, training=False):
    ids, lengths = inputs
    return (tf.matmul(self.features(ids, lengths, training), self.output_kernel)
            + self.output_bias)
