"""Serving contracts of the text models (the names are part of the API).

``TextClassifierServing`` (imdb):
  ``serving_default``: ``text`` string ``[None]`` raw reviews -> ``probabilities``
  float32 ``[None, C]``, ``classes`` int64 ``[None]``, ``logits``.  Tokenising
  and the vocabulary lookup run inside the graph (a ``StaticHashTable``).
  Each request is padded to its longest text (at most ``max_length`` tokens).
  ``predict_ids``: ``ids`` int32 ``[None, None]`` + ``lengths`` int32 ``[None]``
  -> the same outputs; a row of width 0 is answered as the empty text.
Requests beyond ``request_limits`` are refused before tokenising/padding.
"""

import tensorflow as tf

from tf_lstm.app import precision
from tf_lstm.app.data import text as text_lib
from tf_lstm.app.export import request_limits as limits


def _class_outputs(logits):
  return {"probabilities": tf.nn.softmax(logits),
          "classes": tf.argmax(logits, axis=-1, output_type=tf.int64),
          "logits": logits}


class TextClassifierServing(tf.Module):
  """Wraps a ``(ids, lengths) -> logits`` model with the raw-text signature."""

  def __init__(self, model, words, max_length, keep="last"):
    super().__init__(name="serving")
    self.model = model
    self._logits = precision.read_once(model, model)   # once per request, not per step
    self.table = text_lib.lookup_table(words)
    self.max_length = int(max_length)
    self.keep = keep

  def encode(self, text):
    """``text [N]`` -> ``(ids [N, W], lengths [N])``, ``W`` = the longest kept text
    (``<= max_length``); refuses a request over the byte or position limit."""
    tokens = text_lib.tokenize(limits.check_text_bytes(text))
    width = tf.minimum(tokens.bounding_shape(axis=1), self.max_length)
    tokens = limits.check_positions(tf.shape(text)[0], width, tokens)
    return text_lib.pad_ids(self.table.lookup(tokens), self.max_length, self.keep,
                            to_longest=True)

  @tf.function(input_signature=[tf.TensorSpec([None], tf.string, name="text")])
  def serve_text(self, text):
    return _class_outputs(self._logits(self.encode(text)))

  @tf.function(input_signature=[tf.TensorSpec([None, None], tf.int32, name="ids"),
                                tf.TensorSpec([None], tf.int32, name="lengths")])
  def serve_ids(self, ids, lengths):
    ids, lengths = limits.check_lengths(ids, lengths)
    ids = limits.check_positions(tf.shape(ids)[0], tf.shape(ids)[1], ids)
    ids = limits.check_ids(ids, self.model.vocab_size)
    ids, lengths, (batch, _) = limits.at_least_one_position(ids, lengths)
    return _class_outputs(self._logits((ids, lengths))[:batch])

  def signatures(self):
    return {"serving_default": self.serve_text, "predict_ids": self.serve_ids}


class TaggerServing(tf.Module):
  """``serving_default``: ``tokens`` string ``[None, None]`` (padded) + ``lengths``
  int32 ``[None]`` -> ``tags`` string ``[None, None]`` (``""`` past each length),
  ``tag_ids`` int32 (-1 past each length), ``probabilities`` ``[None, None, K]``.
  The client pads: the request's size is ``tokens``' shape (``request_limits``);
  no rows or width 0 get outputs of that shape."""

  def __init__(self, model, featurizer, tags):
    super().__init__(name="serving")
    self.model = model
    self._logits = precision.read_once(model, model)   # once per request, not per step
    self.featurizer = featurizer
    self.tag_names = tf.constant(list(tags), tf.string)

  @tf.function(input_signature=[tf.TensorSpec([None, None], tf.string, name="tokens"),
                                tf.TensorSpec([None], tf.int32, name="lengths")])
  def serve_tokens(self, tokens, lengths):
    tokens, lengths = limits.check_lengths(limits.check_text_bytes(tokens), lengths)
    tokens = limits.check_positions(tf.shape(tokens)[0], tf.shape(tokens)[1], tokens)
    tokens, lengths, (batch, width) = limits.at_least_one_position(tokens, lengths)
    logits = self._logits(self.featurizer(tokens, lengths))[:batch, :width]
    lengths = lengths[:batch]
    mask = tf.sequence_mask(lengths, width)
    ids = tf.where(mask, tf.argmax(logits, -1, output_type=tf.int32), -1)
    names = tf.where(mask, tf.gather(self.tag_names, tf.maximum(ids, 0)), "")
    return {"tags": names, "tag_ids": ids, "probabilities": tf.nn.softmax(logits)}

  def signatures(self):
    return {"serving_default": self.serve_tokens}
