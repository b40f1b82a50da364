"""--dtype=bfloat16 for imdb: the embedding table stays float32, only its looked-up rows are cast.

A bfloat16 forward pass (``precision.forward_in``) of ``TextClassifier`` casts
no ``[vocab, dim]`` table (the cost that kept text tasks float32), its logits
match the float32 pass to bfloat16 precision, and the embedding's gradient
stays sparse and float32.
"""

import numpy as np
import tensorflow as tf

from tf_lstm.app import models
from tf_lstm.app import precision
from tf_lstm.app.models.text_classifier import TextClassifier

VOCAB, DIM = 500, 16


def test_bfloat16_text_forward_casts_rows_not_the_table():
  tf.random.set_seed(0)
  model = TextClassifier(VOCAB, DIM, models.make_cell("lstm", 8, 1), 2)
  ids = tf.random.stateless_uniform([4, 9], [1, 2], 0, VOCAB, dtype=tf.int32)
  lengths = tf.constant([9, 5, 1, 0])

  def run(dtype):
    forward = precision.forward_in(dtype, lambda x: model(x, training=True), model)

    @tf.function
    def f():
      with tf.GradientTape() as tape:
        logits = forward((ids, lengths))
        loss = tf.reduce_sum(logits * [1.0, -1.0])
      return logits, tape.gradient(loss, model.embedding)
    return f

  bf16 = run("bfloat16")
  casts = [op for op in bf16.get_concrete_function().graph.get_operations()
           if op.type == "Cast"]
  assert casts and all(op.inputs[0].shape != (VOCAB, DIM) for op in casts)
  logits16, grad16 = bf16()
  logits32, grad32 = run("float32")()
  assert logits16.dtype == tf.float32
  # bfloat16 keeps 8 mantissa bits (relative step 4e-3) on values of order 1e-2.
  np.testing.assert_allclose(logits16.numpy(), logits32.numpy(), atol=1e-3)
  assert isinstance(grad16, tf.IndexedSlices) and grad16.values.dtype == tf.float32
  np.testing.assert_allclose(tf.convert_to_tensor(grad16).numpy(),
                             tf.convert_to_tensor(grad32).numpy(), atol=0.02 * np.max(
                                 np.abs(tf.convert_to_tensor(grad32).numpy())))
