"""Serving contract of the language model (ptb); the names are part of the API.

``serving_default``: ``ids`` int32 ``[None, None]`` (rows of word ids, the same
length) -> ``logits`` float32 ``[None, None, V]`` (position ``t`` scores the
word after ``ids[:, t]``), ``probabilities`` (their softmax) and
``next_word_probabilities`` ``[None, V]`` (after the last id).
``predict_words``: ``words`` string ``[None, None]`` (unknown words -> ``<unk>``)
-> the same outputs plus ``ids``.  Every row starts from the zero state.
"""

import tensorflow as tf

from tf_lstm.app import precision
from tf_lstm.app.data import ptb as ptb_data
from tf_lstm.app.data import text as text_lib


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

  @tf.function(input_signature=[tf.TensorSpec([None, None], tf.int32, name="ids")])
  def serve_ids(self, ids):
    tf.debugging.assert_less(ids, tf.cast(self.model.vocab_size, tf.int32),
                             "ids must be < the vocabulary size")
    tf.debugging.assert_non_negative(ids, "ids must be >= 0")
    return self._outputs(ids)

  @tf.function(input_signature=[tf.TensorSpec([None, None], tf.string, name="words")])
  def serve_words(self, words):
    ids = tf.cast(self.table.lookup(words), tf.int32)
    return {**self._outputs(ids), "ids": ids}

  def signatures(self):
    return {"serving_default": self.serve_ids, "predict_words": self.serve_words}
