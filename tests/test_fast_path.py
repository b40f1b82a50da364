"""The image models train through ``lstm_layer.static_lstm`` when their cell qualifies.

``SequenceClassifier(...)(x, training=True)`` unrolls a plain LSTM with the
hand-written gradient (``training_unroll="hand"``), inference and other cells
with ``static_rnn``; bin/train's steps give the same losses and weights either
way (tests/test_lstm_layer.py proves the layer equal to the autodiff path).
bin/train picks between the two by timing at start-up (``autotune``) and says
when the CPU has native bfloat16 (``precision.bfloat16_hint``).
"""

import numpy as np
import pytest
import tensorflow as tf

from tf_lstm.app import config as config_lib
from tf_lstm.app import losses
from tf_lstm.app import models
from tf_lstm.app import precision
from tf_lstm.app.training import autotune
from tf_lstm.app.training import loop
from tf_lstm.unroll import lstm_layer

# Two Adam steps from equal weights: the gradients agree to float summation
# order (1e-7 relative), Adam's first steps move each weight by ~lr = 1e-3
# whatever the gradient's size, so the weights agree far below 1e-5.
TOL = 1e-5


@pytest.fixture
def calls(monkeypatch):
  """Counts the calls of ``lstm_layer.static_lstm`` (the fast path)."""
  count = []
  real = lstm_layer.static_lstm

  def spy(*args, **kwargs):
    count.append(1)
    return real(*args, **kwargs)

  monkeypatch.setattr(lstm_layer, "static_lstm", spy)
  return count


def _two_steps(cell, training_unroll, num_layers=2):
  cfg = config_lib.TrainConfig(
      model=config_lib.ModelConfig(cell=cell, num_layers=num_layers, num_units=16),
      batch_size=16)
  _, model, optimizer = loop.build(cfg)
  model.training_unroll = training_unroll
  step = loop.make_train_step(model, optimizer)
  x = tf.random.stateless_uniform([16, 8, 28], [4, 4])   # 8 rows of 28 pixels
  y = tf.random.stateless_uniform([16], [5, 5], 0, 10, dtype=tf.int32)
  losses = [float(step(x, y)[0]) for _ in range(2)]
  return losses, [v.numpy() for v in model.trainable_variables]


def test_training_step_takes_the_fast_path_and_matches_autodiff(calls):
  fast_losses, fast_weights = _two_steps("lstm", "hand")
  assert calls, "the training step did not unroll with lstm_layer.static_lstm"
  calls.clear()
  losses, weights = _two_steps("lstm", "autodiff")
  assert not calls
  np.testing.assert_allclose(fast_losses, losses, rtol=TOL)
  for got, want in zip(fast_weights, weights):
    assert np.max(np.abs(got - want)) <= TOL * max(1.0, np.max(np.abs(want)))


def test_inference_and_other_cells_keep_static_rnn(calls):
  model = models.SequenceClassifier(models.make_cell("lstm", 8, 1), 4, input_depth=6)
  x = tf.zeros([2, 3, 6])
  model(x)                      # inference: static_rnn (what exports trace)
  assert not calls
  model(x, training=True)
  assert len(calls) == 1
  gru = models.SequenceClassifier(models.make_cell("gru", 8, 1), 4, input_depth=6)
  gru(x, training=True)
  assert len(calls) == 1


def test_autotune_times_both_unrolls_and_keeps_the_fastest():
  model = models.SequenceClassifier(models.make_cell("lstm", 8, 1), 4, input_depth=6)
  x = tf.random.stateless_uniform([8, 5, 6], [1, 2])
  y = tf.zeros([8], tf.int32)
  before = [v.numpy() for v in model.trainable_variables]
  lines = []
  chosen = autotune.choose_unroll(model, losses.classification_terms, x, y,
                                  log=lines.append)
  assert chosen in autotune.CANDIDATES and model.training_unroll == chosen
  assert len(lines) == 1 and lines[0].startswith(f"training unroll: {chosen} (")
  other = [c for c in autotune.CANDIDATES if c != chosen][0]
  assert f"{other} " in lines[0]
  for got, want in zip(model.trainable_variables, before):   # timing changes no weight
    np.testing.assert_array_equal(got.numpy(), want)
  assert autotune.tunable(model)
  assert not autotune.tunable(
      models.SequenceClassifier(models.make_cell("gru", 8, 1), 4, input_depth=6))


def test_bfloat16_hint_only_on_native_bfloat16_cpus():
  assert "avx512_bf16" in precision.bfloat16_hint("float32", {"avx2", "avx512_bf16"})
  assert "amx_bf16" in precision.bfloat16_hint("float32", {"amx_bf16", "amx_tile"})
  assert precision.bfloat16_hint("bfloat16", {"avx512_bf16"}) is None
  assert precision.bfloat16_hint("float32", {"avx2", "fma", "avx512f"}) is None


def test_no_bfloat16_hint_where_onednn_is_capped_below_it(monkeypatch):
  monkeypatch.setenv("ONEDNN_MAX_CPU_ISA", "AVX2")
  monkeypatch.delenv("TF_ENABLE_ONEDNN_OPTS", raising=False)
  assert precision.bfloat16_hint("float32", {"avx512f", "avx512_bf16", "amx_bf16"}) is None
