"""The image models train through ``lstm_layer.static_lstm`` when their cell qualifies.

``SequenceClassifier(...)(x, training=True)`` unrolls a plain LSTM with the
hand-written gradient (``training_unroll="hand"``) or the C++ layer op
(``"native"``), inference and other cells with ``static_rnn``; bin/train's steps
give the same losses and weights every way (tests/test_lstm_layer.py and
tests/test_native_lstm.py prove the layers equal to the autodiff path).
bin/train picks one by timing at start-up (``autotune``) and says when the CPU
has native bfloat16 (``precision.bfloat16_hint``).
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
    count.append(kwargs.get("native", False))
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


@pytest.mark.parametrize("unroll", ["hand", "native"])
def test_training_step_takes_the_fast_path_and_matches_autodiff(calls, unroll):
  fast_losses, fast_weights = _two_steps("lstm", unroll)
  assert calls == [unroll == "native"], "the training step did not take lstm_layer.static_lstm"
  calls.clear()
  losses, weights = _two_steps("lstm", "autodiff")
  assert not calls
  np.testing.assert_allclose(fast_losses, losses, rtol=TOL)
  for got, want in zip(fast_weights, weights):
    assert np.max(np.abs(got - want)) <= TOL * max(1.0, np.max(np.abs(want)))


def test_native_unroll_in_bfloat16_takes_the_hand_written_layer(calls):
  model = models.SequenceClassifier(models.make_cell("lstm", 8, 1), 4, input_depth=6)
  model.training_unroll = "native"
  forward = precision.forward_in("bfloat16", lambda x: model(x, training=True), model)
  forward(tf.zeros([2, 3, 6]))
  assert calls == [False]


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


def test_autotune_times_every_unroll_and_keeps_the_fastest():
  model = models.SequenceClassifier(models.make_cell("lstm", 8, 1), 4, input_depth=6)
  x = tf.random.stateless_uniform([8, 5, 6], [1, 2])
  y = tf.zeros([8], tf.int32)
  before = [v.numpy() for v in model.trainable_variables]
  lines = []
  chosen = autotune.choose_unroll(model, losses.classification_terms, x, y,
                                  log=lines.append)
  assert chosen in autotune.CANDIDATES and model.training_unroll == chosen
  assert len(lines) == 1 and lines[0].startswith(f"training unroll: {chosen} (")
  for other in autotune.CANDIDATES:
    if other != chosen:
      assert f"{other} " in lines[0]
  assert lines[0].endswith("chosen by timing native, hand, autodiff at start-up")
  for got, want in zip(model.trainable_variables, before):   # timing changes no weight
    np.testing.assert_array_equal(got.numpy(), want)
  assert autotune.tunable(model)
  assert not autotune.tunable(
      models.SequenceClassifier(models.make_cell("gru", 8, 1), 4, input_depth=6))


def test_autotune_leaves_out_the_native_op_where_it_cannot_run(monkeypatch):
  lines = []
  assert autotune.candidates("bfloat16", lines.append) == ("hand", "autodiff")
  assert not lines
  monkeypatch.setattr(autotune.native_layer, "unavailable", lambda: "no C++ compiler: 'g++'")
  assert autotune.candidates("float32", lines.append) == ("hand", "autodiff")
  assert lines == ["training unroll: the native LSTM op cannot run here "
                   "(no C++ compiler: 'g++')"]


def test_bfloat16_hint_only_on_native_bfloat16_cpus():
  assert "avx512_bf16" in precision.bfloat16_hint("float32", {"avx2", "avx512_bf16"})
  assert "amx_bf16" in precision.bfloat16_hint("float32", {"amx_bf16", "amx_tile"})
  assert precision.bfloat16_hint("bfloat16", {"avx512_bf16"}) is None
  assert precision.bfloat16_hint("float32", {"avx2", "fma", "avx512f"}) is None


def test_no_bfloat16_hint_where_onednn_is_capped_below_it(monkeypatch):
  monkeypatch.setenv("ONEDNN_MAX_CPU_ISA", "AVX2")
  monkeypatch.delenv("TF_ENABLE_ONEDNN_OPTS", raising=False)
  assert precision.bfloat16_hint("float32", {"avx512f", "avx512_bf16", "amx_bf16"}) is None
