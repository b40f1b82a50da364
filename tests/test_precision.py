"""tf_lstm.app.precision: the bfloat16 forward pass on float32 variables."""

import numpy as np
import pytest
import tensorflow as tf

from tf_lstm.app import models
from tf_lstm.app.models import language_model
from tf_lstm.app.models import text_classifier
from tf_lstm.app import optimizers
from tf_lstm.app import precision
from tf_lstm.app.training import loop

CELLS = [
    ("lstm", 2, {}),
    ("lstm_full", 1, dict(use_peepholes=True, cell_clip=3.0, num_proj=6)),
    ("gru", 1, {}),
    ("rnn", 1, {}),
    ("binary_lstm", 1, {}),
    ("gflstm", 2, {}),   # its variables sit in a list of dicts
]


def _model(cell="lstm", layers=1, **options):
  tf.random.set_seed(3)
  return models.SequenceClassifier(models.make_cell(cell, 8, layers, **options), 4,
                                   input_depth=6)


def _batch(b=16):
  rng = np.random.default_rng(b)
  return (tf.constant(rng.normal(size=(b, 5, 6)).astype(np.float32)),
          tf.constant(rng.integers(0, 4, b).astype(np.int32)))


def _reads(forward, *args):
  """Number of ReadVariableOp in ``forward``'s traced graph (loop bodies excluded)."""
  graph = tf.function(forward).get_concrete_function(*args).graph
  return sum(op.type == "ReadVariableOp" for op in graph.get_operations())


@pytest.mark.parametrize("cell, layers, options", CELLS, ids=[c[0] for c in CELLS])
def test_bfloat16_forward_runs_every_product_in_bfloat16(cell, layers, options):
  model = _model(cell, layers, **options)
  x, _ = _batch()
  variables = model.trainable_variables
  forward = tf.function(precision.forward_in("bfloat16", model, model))
  graph = forward.get_concrete_function(x).graph
  products = [op for op in graph.get_operations() if op.type == "MatMul"]
  assert products and all(op.get_attr("T") == tf.bfloat16 for op in products)
  logits, reference = forward(x), model(x)
  assert logits.dtype == tf.float32
  # bfloat16 keeps 8 significant bits: ~0.4% per rounding.
  np.testing.assert_allclose(logits.numpy(), reference.numpy(), atol=3e-2)
  assert not np.array_equal(logits.numpy(), reference.numpy())
  # The module is left as it was: the same variables, float32.
  assert all(a is b for a, b in zip(model.trainable_variables, variables))
  assert all(isinstance(v, tf.Variable) and v.dtype == tf.float32
             for v in model.trainable_variables)


def test_float32_reads_each_variable_once_with_the_same_logits():
  model = _model("lstm", 2)
  x, _ = _batch()
  forward = precision.forward_in("float32", model, model)
  assert _reads(forward, x) == len(model.trainable_variables)
  # Another graph than eager model(x): oneDNN may sum in another order (per CPU);
  # logits of size ~1 after 5 steps differ by a few float32 ulp (~1e-7) at most.
  np.testing.assert_allclose(tf.function(forward)(x).numpy(), model(x).numpy(),
                             atol=1e-6, rtol=1e-6)


@pytest.mark.parametrize("cell, layers, options", CELLS, ids=[c[0] for c in CELLS])
def test_read_once_reads_each_variable_once_with_the_same_numbers(cell, layers, options):
  model = _model(cell, layers, **options)
  x, y = _batch()
  variables = model.trainable_variables
  assert _reads(precision.read_once(model, model), x) == len(variables)
  assert _reads(model, x) > len(variables)   # one read per use (per step) without it

  def loss_and_grads(forward):
    with tf.GradientTape() as tape:
      loss = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(y, forward(x)))
    return loss, tape.gradient(loss, variables)

  loss, grads = tf.function(loss_and_grads)(precision.read_once(model, model))
  reference, reference_grads = tf.function(loss_and_grads)(model)
  # Two graphs; same few-ulp float32 reordering bound as the logits above.
  assert float(loss) == pytest.approx(float(reference), rel=1e-6, abs=1e-6)
  for g, r in zip(grads, reference_grads):   # gradients (size <~1): the same bound
    np.testing.assert_allclose(tf.convert_to_tensor(g).numpy(), tf.convert_to_tensor(r).numpy(),
                               atol=1e-6, rtol=1e-6)
  assert all(a is b for a, b in zip(model.trainable_variables, variables))


def test_read_once_keeps_the_text_models_numbers():
  # dynamic_rnn (a while loop) and embedding lookups read the swapped tensors.
  tf.random.set_seed(5)
  classifier = text_classifier.TextClassifier(
      50, 6, models.make_cell("lstm", 8, 1), 3, cell_bw=models.make_cell("gru", 8, 1))
  lm = language_model.LanguageModel(50, [models.make_cell("lstm", 8, 1)], train_batch=2,
                                    eval_batch=2, tie_embeddings=True)
  ids = tf.constant(np.random.default_rng(5).integers(0, 50, (2, 7)).astype(np.int32))
  lengths = tf.constant([7, 4])
  forward = precision.read_once(classifier, classifier)
  # All reads happen before the loops: none is left inside a loop body.
  assert _reads(forward, (ids, lengths)) == len(classifier.trainable_variables)
  # Different graphs (the reads moved out of the loops): on AVX-512 oneDNN sums in
  # another order than on AVX2 and the logits (size ~1) differ by 1 ulp (9.3e-10 seen);
  # 1e-6 allows a few ulp per step over 7 steps, far below any wrong-variable error.
  np.testing.assert_allclose(tf.function(forward)((ids, lengths)).numpy(),
                             classifier((ids, lengths)).numpy(), atol=1e-6, rtol=1e-6)
  logits, _ = tf.function(precision.read_once(lm.unroll, lm))(ids)
  np.testing.assert_allclose(logits.numpy(), lm.unroll(ids)[0].numpy(), atol=1e-6, rtol=1e-6)


def test_unknown_dtype_is_refused():
  with pytest.raises(ValueError, match=r"unknown compute dtype 'float16'; expected one of"):
    precision.forward_in("float16", lambda x: x, _model())


def test_bfloat16_is_refused_only_where_onednn_is_capped_below_it():
  capped, avx512 = {"ONEDNN_MAX_CPU_ISA": "AVX2"}, {"avx512f", "avx512_bf16"}
  with pytest.raises(ValueError, match=r"dtype bfloat16 with ONEDNN_MAX_CPU_ISA=AVX2: .* "
                                       r"TF_ENABLE_ONEDNN_OPTS=0 .* or use float32"):
    precision.check_bfloat16_kernels("bfloat16", capped, avx512)
  precision.check_bfloat16_kernels("float32", capped, avx512)
  precision.check_bfloat16_kernels("bfloat16", {"ONEDNN_MAX_CPU_ISA": "AVX512_CORE_BF16"}, avx512)
  precision.check_bfloat16_kernels("bfloat16", dict(capped, TF_ENABLE_ONEDNN_OPTS="0"), avx512)
  precision.check_bfloat16_kernels("bfloat16", capped, {"avx2", "fma"})   # emulated there


def _checkpoint_names(model, path):
  return sorted(name for name, _ in tf.train.list_variables(
      tf.train.Checkpoint(model=model).write(str(path))))


def test_variables_come_back_after_an_error(tmp_path):
  model = _model("gflstm", 2)
  names = _checkpoint_names(model, tmp_path / "before")
  with pytest.raises(RuntimeError, match="boom"):
    with precision.variables_read_as(model, tf.bfloat16):
      assert model.output_kernel.dtype == tf.bfloat16
      assert not isinstance(model.output_kernel, tf.Variable)
      raise RuntimeError("boom")
  assert isinstance(model.output_kernel, tf.Variable)
  assert all(isinstance(v, tf.Variable) for layer in model.cell.layers for v in layer.values())
  assert _checkpoint_names(model, tmp_path / "after") == names


def test_bfloat16_step_updates_the_float32_variables_by_the_float32_gradient():
  lr = 0.5
  x, y = _batch()
  updates = {}
  for dtype in ("float32", "bfloat16"):
    model = _model()
    before = [v.numpy() for v in model.trainable_variables]
    step = loop.make_train_step(model, optimizers.make_optimizer("sgd", lr),
                                compute_dtype=dtype)
    loss = float(step(x, y)[0])
    updates[dtype] = (loss, [v.numpy() - w for v, w in zip(model.trainable_variables, before)])
    assert all(v.dtype == tf.float32 for v in model.trainable_variables)
  (loss32, up32), (loss16, up16) = updates["float32"], updates["bfloat16"]
  assert loss16 == pytest.approx(loss32, rel=1e-2) and loss16 != loss32
  for a, b in zip(up32, up16):
    assert np.linalg.norm(b - a) <= 0.05 * np.linalg.norm(a)
