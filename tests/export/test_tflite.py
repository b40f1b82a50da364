"""``bin/export --tflite``: the TFLite model gives the SavedModel's classes.

The LiteRT interpreter runs in its own process, as on a device without
TensorFlow (in a process that has imported TensorFlow, ai-edge-litert 2.3
reports no signatures: the two runtimes' libraries clash).
"""

import os
import subprocess
import sys

import numpy as np
import tensorflow as tf

from tests.conftest import real_mnist
from tests.tolerances import assert_same_classes

RUN_TFLITE = """
import sys
import numpy as np
from ai_edge_litert.interpreter import Interpreter
assert "tensorflow" not in sys.modules
model, inputs, outputs = sys.argv[1:]
images = np.load(inputs)
interpreter = Interpreter(model_path=model)
(inp,) = interpreter.get_input_details()
assert list(inp["shape_signature"]) == [-1, 28, 28], inp["shape_signature"]
interpreter.resize_tensor_input(inp["index"], images.shape)   # One batched call.
interpreter.allocate_tensors()
runner = interpreter.get_signature_runner("serving_default")
np.savez(outputs, **runner(images=images))
"""


def run_tflite(model_path, images, tmp_path):
  """The TFLite model's outputs for ``images``, from LiteRT in its own process."""
  np.save(tmp_path / "images.npy", images)
  proc = subprocess.run([sys.executable, "-c", RUN_TFLITE, model_path,
                         str(tmp_path / "images.npy"), str(tmp_path / "out.npz")],
                        capture_output=True, text=True, timeout=600, cwd=str(tmp_path))
  assert proc.returncode == 0, proc.stderr[-3000:]
  return np.load(tmp_path / "out.npz")


def test_tflite_matches_saved_model_on_all_test_digits(cli_export, tmp_path):
  path = os.path.join(cli_export, "model.tflite")
  assert os.path.isfile(path)
  images = real_mnist().test_images.astype(np.float32) / 255.0
  assert images.shape == (10000, 28, 28)
  lite = run_tflite(path, images, tmp_path)
  assert sorted(lite.files) == ["classes", "logits", "probabilities"]
  assert lite["probabilities"].shape == (10000, 10) and lite["classes"].shape == (10000,)

  saved = tf.saved_model.load(cli_export).signatures["serving_default"](
      images=tf.constant(images))
  # TFLite's kernels (XNNPACK) against TensorFlow's: float32 sums in another order over
  # 28 steps x 2 layers, observed ~1e-6; 1e-4 leaves room for other CPUs.
  assert np.abs(lite["probabilities"] - saved["probabilities"].numpy()).max() < 1e-4
  assert_same_classes(lite["classes"], saved["probabilities"].numpy(), 1e-4)
  # The model is trained: the comparison is between real predictions.
  assert (lite["classes"] == real_mnist().test_labels).mean() > 0.5
