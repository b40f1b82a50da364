"""Serving contract of the language model (ptb); the names are part of the API.

``serving_default``: ``ids`` int32 ``[None, None]`` (rows of word ids, the same
length) -> ``logits`` float32 ``[None, None, V]`` (position ``t`` scores the
word after ``ids[:, t]``), ``probabilities`` (their softmax) and
``next_word_probabilities`` ``[None, V]`` (after the last id).
``predict_words``: ``words`` string ``[None, None]`` (unknown words -> ``<unk>``)
-> the same outputs plus ``ids``.  Every row starts from the zero state; a
request of width 0 is refused (there is no last id to predict after).
The client pads: a request's size is its input's shape, refused beyond
``request_limits`` (positions, and output values ``batch x time x vocabulary``).
"""

import tensorflow as tf

from tf_lstm.app import precision
from tf_lstm.app.data import ptb as ptb_data
from tf_lstm.app.data import text as text_lib
from tf_lstm.app.export import request_limits as limits


class LanguageModelServing(tf.Module):

  def __init__(self, model, words):
    super().__init__(name="serving")
    self.model = model
    self._unroll = precision.read_once(model.unroll, model)   # once per request, not per step
    words = list(words)
    self.table = text_lib.lookup_table(words, oov_id=words.index(ptb_data.UNK), first_id=0)
    self.vocabulary = tf.constant(words, tf.string)

  def _outputs(self, ids):
    logits, _ = self._unroll(ids)
    probabilities = tf.nn.softmax(logits)
    return {"logits": logits, "probabilities": probabilities,
            "next_word_probabilities": probabilities[:, -1]}

  def _check_size(self, inputs):
    """``inputs [B, T]`` once ``T >= 1`` and ``B x T`` positions and ``B x T x V``
    outputs fit the limits."""
    inputs = limits.check_width(inputs, "the language model predicts the word after each "
                                "id, and with no id there is no next word")
    batch, width = tf.shape(inputs)[0], tf.shape(inputs)[1]
    inputs = limits.check_positions(batch, width, inputs)
    return limits.check_outputs(batch, width, self.model.vocab_size, inputs)

  @tf.function(input_signature=[tf.TensorSpec([None, None], tf.int32, name="ids")])
  def serve_ids(self, ids):
    return self._outputs(limits.check_ids(self._check_size(ids), self.model.vocab_size))

  @tf.function(input_signature=[tf.TensorSpec([None, None], tf.string, name="words")])
  def serve_words(self, words):
    words = self._check_size(limits.check_text_bytes(words))
    ids = tf.cast(self.table.lookup(words), tf.int32)
    return {**self._outputs(ids), "ids": ids}

  def signatures(self):
    return {"serving_default": self.serve_ids, "predict_words": self.serve_words}
