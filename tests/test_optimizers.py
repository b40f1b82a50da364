"""The TF1-semantics optimizers against their update equations in NumPy."""

import numpy as np
import pytest
import tensorflow as tf

from tf_lstm.app import optimizers, schedules


def _run(opt, grads_seq, init):
  v = tf.Variable(init)
  opt.build([v])

  @tf.function
  def step(g):
    opt.apply_gradients([(g, v)])
  for g in grads_seq:
    step(tf.constant(g))
  return v.numpy()


def test_adam_matches_tf1_equations():
  rng = np.random.RandomState(0)
  init = rng.normal(size=5).astype(np.float32)
  grads = rng.normal(size=(4, 5)).astype(np.float32)
  got = _run(optimizers.Adam(0.01), grads, init)
  var, m, v = init.astype(np.float64), 0, 0
  for t, g in enumerate(grads, 1):
    m = 0.9 * m + 0.1 * g
    v = 0.999 * v + 0.001 * g * g
    lr_t = 0.01 * np.sqrt(1 - 0.999**t) / (1 - 0.9**t)
    var = var - lr_t * m / (np.sqrt(v) + 1e-8)
  np.testing.assert_allclose(got, var, atol=1e-6)


def test_sgd_and_rmsprop_match_equations():
  rng = np.random.RandomState(1)
  init = rng.normal(size=4).astype(np.float32)
  grads = rng.normal(size=(3, 4)).astype(np.float32)
  np.testing.assert_allclose(_run(optimizers.SGD(0.5), grads, init),
                             init - 0.5 * grads.sum(0), atol=1e-6)
  var, ms = init.astype(np.float64), np.ones(4)
  for g in grads:
    ms = 0.9 * ms + 0.1 * g * g
    var = var - 0.01 * g / np.sqrt(ms + 1e-10)
  np.testing.assert_allclose(_run(optimizers.RMSProp(0.01), grads, init), var, atol=1e-6)


def test_schedule_scales_learning_rate_and_iterations_count():
  opt = optimizers.SGD(1.0)
  opt.schedule = schedules.epoch_decay(steps_per_epoch=2, decay=0.5, start_epoch=1)
  got = _run(opt, np.ones((4, 1), np.float32), np.zeros(1, np.float32))
  # Epochs 1, 1, 2, 2 -> multipliers 1, 1, 0.5, 0.5.
  np.testing.assert_allclose(got, [-3.0], atol=1e-6)
  assert int(opt.iterations.numpy()) == 4


def test_cosine_schedule_endpoints():
  s = schedules.cosine(100)
  assert float(s(0)) == pytest.approx(1.0)
  assert float(s(50)) == pytest.approx(0.5)
  assert float(s(100)) == pytest.approx(0.0, abs=1e-6)
  assert float(s(150)) == pytest.approx(0.0, abs=1e-6)


def test_bad_optimizer_arguments():
  with pytest.raises(ValueError, match="unknown optimizer 'adagrad'"):
    optimizers.make_optimizer("adagrad", 0.1)
  with pytest.raises(ValueError, match="learning_rate must be > 0"):
    optimizers.make_optimizer("sgd", 0.0)
  opt = optimizers.SGD(0.1)
  opt.build([tf.Variable(1.0)])
  with pytest.raises(ValueError, match="built for another list of variables"):
    opt.build([tf.Variable(2.0)])
