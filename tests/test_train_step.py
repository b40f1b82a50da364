"""loop.make_train_step: the loss, counts and update of one step, checked by hand."""

import numpy as np
import pytest
import tensorflow as tf

from tests.tolerances import near_ties
from tf_lstm.app import losses
from tf_lstm.app import models
from tf_lstm.app import optimizers
from tf_lstm.app.training import loop


def _model():
  tf.random.set_seed(3)
  return models.SequenceClassifier(models.make_cell("lstm", 8, 1), 4, input_depth=6)


def _batch(b):
  rng = np.random.default_rng(b)
  return (tf.constant(rng.normal(size=(b, 5, 6)).astype(np.float32)),
          tf.constant(rng.integers(0, 4, b).astype(np.int32)))


def _softmax_ce(logits, labels):
  z = logits - logits.max(axis=1, keepdims=True)
  log_p = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
  return -log_p[np.arange(len(labels)), labels]


def test_loss_is_the_mean_over_the_batch_given_and_sgd_applies_its_gradient():
  model, lr = _model(), 0.25
  step = loop.make_train_step(model, optimizers.make_optimizer("sgd", lr))
  for b in (7, 3):   # any batch size, e.g. a short last batch: mean over its own rows
    x, y = _batch(b)
    with tf.GradientTape() as tape:
      logits = model(x)
      expected_loss = tf.reduce_mean(
          tf.nn.sparse_softmax_cross_entropy_with_logits(labels=y, logits=logits))
    grads = tape.gradient(expected_loss, model.trainable_variables)
    logits = logits.numpy()
    before = [v.numpy() for v in model.trainable_variables]
    loss, correct, count = step(x, y)
    np.testing.assert_allclose(float(loss), _softmax_ce(logits, y.numpy()).mean(), rtol=1e-5)
    # Eager logits against the step's graph (a few float32 ulp apart): a row whose two
    # best logits tie within 1e-5 may count either way.
    assert abs(float(correct) - float(np.sum(logits.argmax(1) == y.numpy()))) <= (
        near_ties(logits, 1e-5))
    assert float(count) == b
    for v, w, g in zip(model.trainable_variables, before, grads):
      np.testing.assert_allclose(v.numpy(), w - lr * g.numpy(), atol=1e-6)


def test_task_loss_terms_are_used():
  """A task's loss_terms decide the loss: here, each example's CE weighted by 2."""
  def doubled(logits, labels):
    loss_sum, correct, count = losses.classification_terms(logits, labels)
    return 2.0 * loss_sum, correct, count
  x, y = _batch(5)
  plain = float(loop.make_train_step(_model(), optimizers.make_optimizer("sgd", 0.1))(x, y)[0])
  step = loop.make_train_step(_model(), optimizers.make_optimizer("sgd", 0.1),
                              loss_terms=doubled)
  # Two traced graphs (Grappler may fold the x2 elsewhere): a few float32 ulp.
  np.testing.assert_allclose(float(step(x, y)[0]), 2.0 * plain, rtol=1e-6)


def test_progress_line_gives_window_means_rate_and_time_left(monkeypatch):
  clock = iter([100.0, 104.0])   # the window starts at 100 s; the line is made at 104 s
  monkeypatch.setattr(loop.time, "time", lambda: next(clock))
  progress = loop.Progress(total_steps=1000)
  for loss, correct in ((2.0, 3.0), (1.0, 5.0)):
    progress.add(loss, correct, 10.0)
  text, scalars = progress.line(step=200, steps_per_epoch=100)
  # 2 steps in 4 s: 0.5 steps/s, 800 steps left: 1600 s.
  assert text == "step 200/1000 epoch 2.0 loss 1.5000 accuracy 0.4000 0.5 steps/s ETA 26m40s"
  assert scalars == {"loss": 1.5, "accuracy": 0.4, "steps_per_second": 0.5}


@pytest.mark.parametrize("seconds, text", [(9.4, "9s"), (75, "1m15s"), (3725, "1h02m")])
def test_format_duration(seconds, text):
  assert loop.format_duration(seconds) == text
