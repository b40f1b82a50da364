"""The export loads and runs in a Python where tf_lstm and Keras cannot be imported."""

import dataclasses
import json

import numpy as np

from tests.conftest import real_mnist, run_bin
from tests.export.conftest import in_process_probabilities, restored_model, run_isolated
from tests.tolerances import assert_same_classes

LOAD = """
import os, sys
import numpy as np
import tensorflow as tf
export, inputs, outputs = sys.argv[1:]
assert "tf_lstm" not in sys.modules and "keras" not in sys.modules
images = np.load(inputs)
sig = tf.saved_model.load(export).signatures["serving_default"]
out = {k: v.numpy() for k, v in sig(images=tf.constant(images)).items()}
for batch in (0, 1):
  small = sig(images=tf.constant(images[:batch]))
  out[f"classes_{batch}"] = small["classes"].numpy()
  out[f"probabilities_{batch}"] = small["probabilities"].numpy()
np.savez(outputs, **out)
print("loaded without", [m for m in ("tf_lstm", "keras", "tf_keras") if m not in sys.modules])
"""


def test_loads_without_tf_lstm_or_keras(trained_run, tmp_path):
  digits = real_mnist().test_images[:500]
  images = digits.astype(np.float32) / 255.0
  np.save(tmp_path / "in.npy", images)
  proc = run_isolated(LOAD, trained_run.export, str(tmp_path / "in.npy"),
                      str(tmp_path / "out.npz"))
  assert proc.returncode == 0, proc.stderr[-3000:]
  assert "loaded without ['tf_lstm', 'keras', 'tf_keras']" in proc.stdout
  out = np.load(tmp_path / "out.npz")
  expected = in_process_probabilities(restored_model(trained_run), digits)
  # Another process and graph than the in-process model: a few float32 ulp apart.
  assert np.abs(out["probabilities"] - expected).max() <= 1e-6
  assert_same_classes(out["classes"], expected, 1e-6)
  assert out["probabilities"].shape == (500, 10) and out["logits"].shape == (500, 10)
  assert out["classes_0"].shape == (0,) and out["probabilities_0"].shape == (0, 10)
  assert out["classes_1"].shape == (1,)
  assert np.abs(out["probabilities_1"] - expected[:1]).max() <= 1e-6


def test_isolation_really_hides_tf_lstm_and_keras():
  code = """
import importlib.util
assert importlib.util.find_spec("numpy") is not None
for name in ("tf_lstm", "keras", "tf_keras"):
  try:
    __import__(name)
    raise SystemExit(name + " importable")
  except ModuleNotFoundError:
    print("hidden", name)
"""
  proc = run_isolated(code)
  assert proc.returncode == 0, proc.stderr[-2000:]
  assert proc.stdout.split() == ["hidden", "tf_lstm", "hidden", "keras", "hidden", "tf_keras"]


def test_jit_compile_export_loads_without_tf_lstm_and_gives_the_same_numbers(
    trained_run, tmp_path):
  base = tmp_path / "xla"
  run_bin("export", f"--model_dir={trained_run.model_dir}", f"--export_dir={base}",
          "--jit_compile", check=True)
  digits = real_mnist().test_images[:300]
  np.save(tmp_path / "in.npy", digits.astype(np.float32) / 255.0)
  proc = run_isolated(LOAD, str(base / "1"), str(tmp_path / "in.npy"), str(tmp_path / "out.npz"))
  assert proc.returncode == 0, proc.stderr[-3000:]
  out = np.load(tmp_path / "out.npz")
  expected = in_process_probabilities(restored_model(trained_run), digits)
  # XLA fuses and reorders the float32 sums: ~10x the plain export's few ulp.
  assert np.abs(out["probabilities"] - expected).max() <= 1e-5
  assert_same_classes(out["classes"], expected, 1e-5)
  assert out["classes_0"].shape == (0,)
  assert np.abs(out["probabilities_1"] - expected[:1]).max() <= 1e-5


def test_jit_compile_export_refuses_non_image_tasks(trained_run, tmp_path):
  model_dir = tmp_path / "imdb_run"
  model_dir.mkdir()
  config = dataclasses.replace(
      trained_run.config, model=dataclasses.replace(trained_run.config.model, task="imdb"))
  (model_dir / "config.json").write_text(json.dumps(config.to_dict()))
  proc = run_bin("export", f"--model_dir={model_dir}", f"--export_dir={tmp_path / 'e'}",
                 "--jit_compile")
  assert proc.returncode == 1
  assert "an XLA (jit_compile) export is for image tasks, not 'imdb'" in proc.stderr
  assert not (tmp_path / "e").exists()
