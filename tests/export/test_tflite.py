"""``bin/export --tflite``: the TFLite model gives the SavedModel's classes."""

import os

import numpy as np
import tensorflow as tf

from tests.conftest import real_mnist


def make_interpreter(path):
  try:
    from ai_edge_litert.interpreter import Interpreter  # The supported LiteRT runtime.
  except ImportError:
    Interpreter = tf.lite.Interpreter  # pylint: disable=invalid-name
  return Interpreter(model_path=path)


def test_tflite_matches_saved_model_on_all_test_digits(cli_export):
  path = os.path.join(cli_export, "model.tflite")
  assert os.path.isfile(path)
  images = real_mnist().test_images.astype(np.float32) / 255.0
  assert images.shape == (10000, 28, 28)

  interpreter = make_interpreter(path)
  (inp,) = interpreter.get_input_details()
  assert list(inp["shape_signature"]) == [-1, 28, 28]
  interpreter.resize_tensor_input(inp["index"], images.shape)
  interpreter.allocate_tensors()
  # One batched call: the signature runner feeds the resized input.
  outputs = interpreter.get_signature_runner("serving_default")(images=images)
  assert sorted(outputs) == ["classes", "logits", "probabilities"]
  assert outputs["probabilities"].shape == (10000, 10)
  saved = tf.saved_model.load(cli_export).signatures["serving_default"](
      images=tf.constant(images))
  np.testing.assert_array_equal(outputs["classes"], saved["classes"].numpy())
  assert np.abs(outputs["probabilities"] - saved["probabilities"].numpy()).max() < 1e-4
  # The model is trained: the comparison is between real predictions.
  assert (outputs["classes"] == real_mnist().test_labels).mean() > 0.5
