"""Sequence tagger: [word emb; case emb; char-CNN] -> biLSTM -> per-token linear."""

import tensorflow as tf

from tf_lstm import unroll
from tf_lstm.cells import base
from tf_lstm.app.models.text_classifier import uniform_embedding

CASE_DIM = 8
CHAR_DIM = 16
CHAR_WIDTH = 3


def char_cnn(char_emb, kernel, bias):
  """``[B, T, W, C]`` -> ``[B, T, F]``: ``max_w tanh(conv1d(chars)_w + bias)``."""
  shape = tf.shape(char_emb)
  flat = tf.reshape(char_emb, [-1, shape[2], char_emb.shape[-1]])
  conv = tf.nn.conv1d(flat, kernel, stride=1, padding="SAME") + bias
  pooled = tf.reduce_max(tf.tanh(conv), axis=1)
  return tf.reshape(pooled, [shape[0], shape[1], kernel.shape[-1]])


class SequenceTagger(tf.Module):
  """``logits[b, t] = [h_fw; h_bw]_t @ output/kernel + output/bias``.

  Call: ``(words [B,T], cases [B,T], chars [B,T,W], lengths [B])`` ->
  logits ``[B, T, num_tags]`` (rows past ``lengths`` are not meaningful).
  """

  def __init__(self, vocab_size, embedding_dim, num_cases, num_chars, char_features,
               cell_fw, cell_bw, num_tags, name="tagger"):
    super().__init__(name=name)
    self.cell_fw, self.cell_bw = cell_fw, cell_bw
    self.vocab_size = int(vocab_size)
    depth = embedding_dim + CASE_DIM
    with self.name_scope:
      self.embedding = tf.Variable(uniform_embedding(vocab_size, embedding_dim),
                                   name="embedding")
      self.case_embedding = tf.Variable(uniform_embedding(num_cases, CASE_DIM),
                                        name="case_embedding")
      self.char_embedding = None
      if char_features:
        with tf.name_scope("chars"):
          self.char_embedding = tf.Variable(uniform_embedding(num_chars, CHAR_DIM),
                                            name="embedding")
          self.char_kernel = tf.Variable(tf.reshape(
              base.glorot_uniform([CHAR_WIDTH * CHAR_DIM, char_features]),
              [CHAR_WIDTH, CHAR_DIM, char_features]), name="kernel")
          self.char_bias = tf.Variable(tf.zeros([char_features]), name="bias")
        depth += char_features
      cell_fw.build(depth)
      cell_bw.build(depth)
      with tf.name_scope("output"):
        self.output_kernel = tf.Variable(
            base.glorot_uniform([cell_fw.output_size + cell_bw.output_size, num_tags]),
            name="kernel")
        self.output_bias = tf.Variable(tf.zeros([num_tags]), name="bias")

  def __call__(self, inputs, training=False):
    del training   # no dropout: the same function in training and inference
    words, cases, chars, lengths = inputs
    parts = [tf.nn.embedding_lookup(self.embedding, words),
             tf.nn.embedding_lookup(self.case_embedding, cases)]
    if self.char_embedding is not None:
      parts.append(char_cnn(tf.nn.embedding_lookup(self.char_embedding, chars),
                            self.char_kernel, self.char_bias))
    x = tf.concat(parts, axis=-1)
    (fw, bw), _ = unroll.bidirectional_dynamic_rnn(
        self.cell_fw, self.cell_bw, x, sequence_length=lengths, dtype=x.dtype)
    h = tf.concat([fw, bw], axis=-1)
    return tf.einsum("btd,dk->btk", h, self.output_kernel) + self.output_bias
