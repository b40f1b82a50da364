"""The IMDB model reads each review only up to its length.

The model (``ImdbTask.build_model``) pools the RNN outputs with a mean over the
valid steps.  That mean alone would hide an unroll that runs on past the
lengths (the forward outputs before a row's length do not depend on what comes
after it), so these tests also check that the unroll itself stops: the outputs
past a length must be *selected* away as TF1's ``dynamic_rnn`` does (zeros,
state frozen), not computed and then multiplied by a zero mask.
"""

import numpy as np
import pytest
import tensorflow as tf

from tf_lstm.app import config as config_lib
from tf_lstm.app import tasks
from tf_lstm.app.data import text

VOCAB = 40          # words; ids 0 (padding) and 1 (unknown) are reserved on top
POISON = VOCAB + text.NUM_RESERVED - 1   # an id that only ever appears past a length
LENGTHS = np.array([7, 3, 1, 0, 5], np.int32)
T = 9
# Same weights, other batch shapes: matmul kernels may sum in another order, a few
# float32 ulp on logits of magnitude < 1; 1e-6 is 10x that and far below any leak.
TOL = 1e-6


def imdb_model(cell, bidirectional):
  tf.random.set_seed(0)
  config = config_lib.ModelConfig(task="imdb", cell=cell, vocab_size=VOCAB, embedding_dim=6,
                                  num_units=5, bidirectional=bidirectional)
  model = tasks.get("imdb").build_model(config)
  # Trained-like weights: non-zero biases so every gate depends on every step.
  for v in model.trainable_variables:
    v.assign(tf.random.stateless_normal(v.shape, [1, v.shape.num_elements()]) * 0.5)
  return model


def reviews():
  """Ids ``[B, T]`` with random words past each length (not padding), and the lengths."""
  rng = np.random.RandomState(0)
  ids = rng.randint(text.NUM_RESERVED, POISON, size=(len(LENGTHS), T)).astype(np.int32)
  return ids, LENGTHS


MODELS = [("lstm", False), ("lstm", True), ("gru", False), ("gru", True)]


@pytest.mark.parametrize("cell,bidirectional", MODELS)
def test_logits_are_those_of_the_valid_words_alone(cell, bidirectional):
  model = imdb_model(cell, bidirectional)
  ids, lengths = reviews()
  logits = model((ids, lengths)).numpy()
  for b, n in enumerate(lengths):   # each review alone, cut to its length, no padding
    alone = model((ids[b:b + 1, :n], lengths[b:b + 1])).numpy()
    np.testing.assert_allclose(logits[b:b + 1], alone, atol=TOL, rtol=0, err_msg=f"row {b}")
  np.testing.assert_allclose(logits[lengths == 0], model.output_bias.numpy()[None], atol=TOL)
  padded = np.pad(ids, [[0, 0], [0, 6]])   # more padding after the random words
  np.testing.assert_allclose(model((padded, lengths)).numpy(), logits, atol=TOL, rtol=0)
  assert np.ptp(logits[lengths > 0], axis=0).max() > 1e-2   # the reviews do differ


@pytest.mark.parametrize("cell,bidirectional", MODELS)
def test_nothing_past_a_length_is_computed_into_the_result(cell, bidirectional):
  """An id whose embedding is NaN, only past the lengths, leaves the logits as they were.

  A unroll that ran the cell past the length and relied on the pooling's zero mask
  would give NaN (NaN * 0 is NaN); TF1's ``dynamic_rnn`` selects zeros there instead.
  """
  model = imdb_model(cell, bidirectional)
  ids, lengths = reviews()
  expected = model((ids, lengths)).numpy()
  tail = np.arange(T)[None, :] >= lengths[:, None]
  poisoned = np.where(tail, POISON, ids).astype(np.int32)
  model.embedding[POISON].assign(tf.fill([model.embedding.shape[1]], np.nan))
  got = model((poisoned, lengths)).numpy()
  assert np.all(np.isfinite(got)), got
  np.testing.assert_allclose(got, expected, atol=TOL, rtol=0)
