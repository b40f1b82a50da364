"""The exported signatures: names, shapes, dynamic batch, bad requests."""

import os
import re

import numpy as np
import pytest
import tensorflow as tf
from tensorflow.core.protobuf import saved_model_pb2

from tests.conftest import real_mnist
from tests.export.conftest import as_float, in_process_probabilities, restored_model
from tests.tolerances import assert_same_classes
from tf_lstm.app.export import image_serving


@pytest.fixture(scope="module")
def digits():
  return real_mnist().test_images[:300]


def test_signature_names_and_specs(loaded):
  assert sorted(loaded.signatures) == ["predict_uint8", "serving_default"]
  for name, dtype in [("serving_default", tf.float32), ("predict_uint8", tf.uint8)]:
    sig = loaded.signatures[name]
    _, inputs = sig.structured_input_signature
    assert inputs == {"images": tf.TensorSpec([None, 28, 28], dtype, name="images")}
    outputs = sig.structured_outputs
    assert outputs["probabilities"].shape.as_list() == [None, 10]
    assert outputs["probabilities"].dtype == tf.float32
    assert outputs["logits"].shape.as_list() == [None, 10]
    assert outputs["classes"].shape.as_list() == [None]
    assert outputs["classes"].dtype == tf.int64


def test_outputs_match_in_process_model(loaded, trained_run, digits):
  expected = in_process_probabilities(restored_model(trained_run), digits)
  out = loaded.signatures["serving_default"](images=tf.constant(as_float(digits)))
  # The export's graph against the eager model: float32 sums in another order, a few ulp.
  np.testing.assert_allclose(out["probabilities"].numpy(), expected, atol=1e-6, rtol=0)
  assert_same_classes(out["classes"].numpy(), expected, 1e-6)
  np.testing.assert_allclose(tf.nn.softmax(out["logits"]).numpy(), expected, atol=1e-6)
  raw = loaded.signatures["predict_uint8"](images=tf.constant(digits))
  np.testing.assert_allclose(raw["probabilities"].numpy(), expected, atol=1e-6, rtol=0)


def test_each_variable_is_read_once_per_request(trained_run):
  # An unrolled network reads each variable at every step unless the export
  # reads it once per call (tf_lstm.app.precision.read_once): 28x fewer reads.
  saved = saved_model_pb2.SavedModel()
  with open(os.path.join(trained_run.export, "saved_model.pb"), "rb") as f:
    saved.ParseFromString(f.read())
  functions = {f.signature.name: f for f in saved.meta_graphs[0].graph_def.library.function}
  serve = [name for name in functions if re.match(r"__inference_serve_(float|uint8)_\d+$", name)]
  assert len(serve) == 2, sorted(functions)
  num_variables = len(restored_model(trained_run).trainable_variables)
  for name in serve:
    reads = [n for n in functions[name].node_def if n.op == "ReadVariableOp"]
    assert len(reads) == num_variables, name


@pytest.mark.parametrize("batch", [0, 1, 7])
def test_dynamic_batch(loaded, digits, batch):
  full = loaded.signatures["serving_default"](images=tf.constant(as_float(digits[:7])))
  out = loaded.signatures["serving_default"](images=tf.constant(as_float(digits[:batch])))
  assert out["probabilities"].shape == (batch, 10)
  assert out["logits"].shape == (batch, 10)
  assert out["classes"].shape == (batch,)
  np.testing.assert_allclose(out["probabilities"].numpy(),
                             full["probabilities"].numpy()[:batch], atol=1e-6)
  raw = loaded.signatures["predict_uint8"](images=tf.constant(digits[:batch]))
  assert raw["classes"].shape == (batch,)


@pytest.mark.parametrize("shape", [(2, 28), (2, 28, 27), (2, 27, 28), (2, 28, 28, 1), (784,)])
@pytest.mark.parametrize("name,dtype", [("serving_default", np.float32),
                                        ("predict_uint8", np.uint8)])
def test_wrong_shape_is_rejected_naming_the_expected_shape(loaded, shape, name, dtype):
  dims = ",".join(map(str, shape))
  with pytest.raises(tf.errors.InvalidArgumentError,
                     match=rf"images \[{dims}\] is not compatible with expected shape "
                           r"\[\?,28,28\]"):
    loaded.signatures[name](images=tf.zeros(shape, dtype))


def test_wrong_shape_numpy_is_rejected_before_running(loaded):
  with pytest.raises(TypeError, match=r"TensorSpec\(shape=\(None, 28, 28\), dtype=tf.float32"):
    loaded.signatures["serving_default"](images=np.zeros((3, 28, 27), np.float32))


@pytest.mark.parametrize("name,dtype,expected", [
    ("serving_default", tf.uint8, "float"), ("serving_default", tf.float64, "float"),
    ("predict_uint8", tf.float32, "uint8")])
def test_wrong_dtype_is_rejected(loaded, name, dtype, expected):
  got = {"float64": "double", "float32": "float"}.get(dtype.name, dtype.name)
  with pytest.raises(tf.errors.InvalidArgumentError,
                     match=rf"expected to be a {expected} tensor but is a {got} tensor"):
    loaded.signatures[name](images=tf.zeros([2, 28, 28], dtype))


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_non_finite_is_rejected(loaded, digits, bad):
  images = as_float(digits[:3]).copy()
  images[1, 5, 5] = bad
  with pytest.raises(tf.errors.InvalidArgumentError, match="images must be finite"):
    loaded.signatures["serving_default"](images=tf.constant(images))


def test_out_of_range_is_clipped(loaded, digits):
  images = as_float(digits[:4])
  # Push every pixel beyond [0, 1] in the direction of its clipped value.
  pushed = np.where(images > 0.5, images + 3.0, images - 3.0).astype(np.float32)
  clipped = np.where(images > 0.5, 1.0, 0.0).astype(np.float32)
  sig = loaded.signatures["serving_default"]
  a = sig(images=tf.constant(pushed))["probabilities"].numpy()
  b = sig(images=tf.constant(clipped))["probabilities"].numpy()
  np.testing.assert_array_equal(a, b)   # exact: one graph, and the clip makes equal inputs
  c = sig(images=tf.constant(images))["probabilities"].numpy()
  assert np.abs(a - c).max() > 1e-4    # Clipping, not ignoring the input.


def test_xla_buckets_are_powers_of_two():
  sizes = [0, 1, 2, 3, 4, 5, 8, 9, 255, 256, 257, 1025, 2**20 + 1]
  assert [int(image_serving.bucket_size(n)) for n in sizes] == [
      1, 1, 2, 4, 4, 8, 8, 16, 256, 256, 512, 2048, 2**21]
