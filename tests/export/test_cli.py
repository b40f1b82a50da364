"""bin/export, saved_model_cli and bin/predict as a user runs them."""

import os
import re
import shutil
import subprocess
import sys

import numpy as np
import pytest
import tensorflow as tf

from tests.conftest import MNIST_5K, ROOT, real_mnist, run_bin, write_mnist_idx
from tests.export.conftest import in_process_probabilities, restored_model, run_isolated
from tf_lstm.app.commands import predict
from tf_lstm.app.export import from_checkpoint
from tf_lstm.app.export import request_limits
from tf_lstm.app.export import saved_model


def tree(path):
  return sorted(os.path.relpath(os.path.join(d, f), path)
                for d, dirs, files in os.walk(path) for f in files + dirs)


def test_bin_export_writes_next_version_with_same_numbers(trained_run, cli_export):
  assert cli_export == os.path.join(trained_run.export_base, "2")
  assert {"saved_model.pb", "variables", "model.tflite"} <= set(os.listdir(cli_export))
  digits = real_mnist().test_images[:200]
  expected = in_process_probabilities(restored_model(trained_run), digits)
  for version in ("1", "2"):   # bin/train's export and bin/export's agree.
    sig = tf.saved_model.load(os.path.join(trained_run.export_base, version)).signatures
    got = sig["predict_uint8"](images=tf.constant(digits))["probabilities"].numpy()
    assert np.abs(got - expected).max() <= 1e-6


def test_bin_export_refuses_existing_version(trained_run, cli_export):
  before = tree(trained_run.export_base)
  proc = run_bin("export", f"--model_dir={trained_run.model_dir}",
                 f"--export_dir={trained_run.export_base}", "--version=1")
  assert proc.returncode == 1
  assert "1 already exists; exports are never overwritten" in proc.stderr
  assert tree(trained_run.export_base) == before


def test_bin_export_bad_flags_fail_before_work(tmp_path):
  proc = run_bin("export", f"--model_dir={tmp_path}", f"--export_dir={tmp_path}/E",
                 "--version=0")
  assert proc.returncode != 0 and "--version" in proc.stderr
  proc = run_bin("export", f"--model_dir={tmp_path}/missing", f"--export_dir={tmp_path}/E")
  assert proc.returncode != 0
  assert "--model_dir must be an existing directory" in proc.stderr
  assert not os.path.exists(tmp_path / "E")


def test_export_without_config_writes_nothing(tmp_path):
  (tmp_path / "model").mkdir()
  with pytest.raises(saved_model.ExportError, match=r"no config.json.*training run"):
    from_checkpoint.export_latest(str(tmp_path / "model"), str(tmp_path / "E"))
  assert not os.path.exists(tmp_path / "E") and os.listdir(tmp_path / "model") == []


def test_export_without_checkpoint_writes_nothing(trained_run, tmp_path):
  model_dir = tmp_path / "model"
  model_dir.mkdir()
  shutil.copy(os.path.join(trained_run.model_dir, "config.json"), model_dir)
  with pytest.raises(saved_model.ExportError, match="has no checkpoint"):
    from_checkpoint.export_latest(str(model_dir), str(tmp_path / "E"), log=lambda _: None)
  assert not os.path.exists(tmp_path / "E")
  assert os.listdir(model_dir) == ["config.json"]


def test_export_with_bad_version_writes_nothing(trained_run, tmp_path):
  with pytest.raises(saved_model.ExportError, match="positive integer"):
    from_checkpoint.export_latest(trained_run.model_dir, str(tmp_path / "E"), version=0)
  assert not os.path.exists(tmp_path / "E")


def saved_model_cli(*args):
  exe = shutil.which("saved_model_cli")
  cmd = [exe] if exe else [sys.executable, "-m", "tensorflow.python.tools.saved_model_cli"]
  env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2")
  return subprocess.run(cmd + list(args), capture_output=True, text=True, env=env,
                        timeout=600, cwd="/")


def test_saved_model_cli_show(trained_run):
  proc = saved_model_cli("show", "--dir", trained_run.export, "--all")
  assert proc.returncode == 0, proc.stderr[-2000:]
  text = proc.stdout
  for name in ("serving_default", "predict_uint8"):
    assert f"signature_def['{name}']:" in text
  assert text.count("shape: (-1, 28, 28)") == 2
  assert "dtype: DT_FLOAT" in text and "dtype: DT_UINT8" in text
  for output, dtype, shape in [("probabilities", "DT_FLOAT", "(-1, 10)"),
                               ("logits", "DT_FLOAT", "(-1, 10)"),
                               ("classes", "DT_INT64", "(-1)")]:
    block = text.split(f"outputs['{output}'] tensor_info:")[1].split("name:")[0]
    assert f"dtype: {dtype}" in block and f"shape: {shape}" in block


def test_saved_model_cli_run(trained_run, loaded, tmp_path):
  # TF 2.21's saved_model_cli parses --input_exprs with ast.literal_eval, so
  # "np.zeros(...)" is refused; a literal list or an .npy file (--inputs) works.
  literal = repr(np.zeros((2, 28, 28), np.float32).tolist()).replace(" ", "")
  np.save(tmp_path / "zeros.npy", np.zeros((3, 28, 28), np.uint8))
  expected = loaded.signatures["serving_default"](images=tf.zeros([2, 28, 28]))
  cls = int(expected["classes"][0])
  for signature, inputs, count in [
      ("serving_default", ["--input_exprs", f"images={literal}"], 2),
      ("predict_uint8", ["--inputs", f"images={tmp_path}/zeros.npy"], 3)]:
    proc = saved_model_cli("run", "--dir", trained_run.export, "--tag_set", "serve",
                           "--signature_def", signature, *inputs)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "Result for output key classes:" in proc.stdout
    assert "[" + " ".join([str(cls)] * count) + "]" in proc.stdout


PREDICT = """
import runpy, sys
sys.argv = sys.argv[1:]
runpy.run_path(sys.argv[0], run_name="__main__")
"""


def run_predict(*args):
  """bin/predict in the isolated Python (tf_lstm not importable)."""
  return run_isolated(PREDICT, os.path.join(ROOT, "bin", "predict"), *args)


def test_bin_predict_on_data_dir_reports_accuracy(trained_run, loaded, small_mnist_dir):
  proc = run_predict(f"--export_dir={trained_run.export_base}", f"--data_dir={small_mnist_dir}",
                     "--show=3", "--batch_size=64")
  assert proc.returncode == 0, proc.stderr[-3000:]
  data = real_mnist()
  images, labels = data.test_images[:200], data.test_labels[:200]
  classes = loaded.signatures["predict_uint8"](images=tf.constant(images))["classes"].numpy()
  correct = int((classes == labels).sum())
  newest = os.path.join(trained_run.export_base, max(os.listdir(trained_run.export_base)))
  assert f"model {newest}, 200 images" in proc.stdout
  assert f"accuracy {correct / 200:.4f} ({correct}/200)" in proc.stdout
  assert f"0: class {classes[0]} probability" in proc.stdout
  assert f"2: class {classes[2]} probability" in proc.stdout and "3: class" not in proc.stdout


def test_bin_predict_on_idx_file_and_png(trained_run, loaded, tmp_path):
  data = real_mnist()
  write_mnist_idx(tmp_path, data.train_images[:5], data.train_labels[:5],
                  data.test_images[:30], data.test_labels[:30], gz=False)
  png = tmp_path / "digit.png"
  png.write_bytes(tf.io.encode_png(data.test_images[7][..., None]).numpy())
  classes = loaded.signatures["predict_uint8"](
      images=tf.constant(data.test_images[:30]))["classes"].numpy()
  correct = int((classes == data.test_labels[:30]).sum())

  proc = run_predict(f"--export_dir={trained_run.export}",
                     f"--input={tmp_path}/t10k-images-idx3-ubyte")
  assert proc.returncode == 0, proc.stderr[-3000:]
  assert f"accuracy {correct / 30:.4f} ({correct}/30)" in proc.stdout
  proc = run_predict(f"--export_dir={trained_run.export}", f"--input={png}")
  assert proc.returncode == 0, proc.stderr[-3000:]
  assert f"0: class {classes[7]} probability" in proc.stdout and "accuracy" not in proc.stdout


def test_bin_predict_bad_inputs(trained_run, tmp_path):
  (tmp_path / "bad.png").write_bytes(b"not a png")
  proc = run_bin("predict", f"--export_dir={trained_run.export}", f"--input={tmp_path}/bad.png")
  assert proc.returncode == 1 and "bad.png: not a PNG image" in proc.stderr
  proc = run_bin("predict", f"--export_dir={tmp_path}", f"--data_dir={MNIST_5K}")
  assert proc.returncode == 1 and "has no saved_model.pb and no version" in proc.stderr
  proc = run_bin("predict", f"--export_dir={trained_run.export}")
  assert proc.returncode != 0 and "exactly one of --data_dir or --input" in proc.stderr


def _truncate(path, size=10):
  with open(path, "r+b") as f:
    f.truncate(size)


DAMAGES = {
    "truncated saved_model.pb": lambda d: _truncate(d / "saved_model.pb", 100),
    "no variables index": lambda d: os.remove(d / "variables" / "variables.index"),
    "truncated variables data": lambda d: _truncate(
        next((d / "variables").glob("variables.data-*"))),
    "2-byte saved_model.pb": lambda d: _truncate(d / "saved_model.pb", 2),
    "no variables/": lambda d: shutil.rmtree(d / "variables"),
    "truncated variables index": lambda d: _truncate(d / "variables" / "variables.index"),
}
# Each bin/predict run costs a TensorFlow start-up: two through the command, the
# others through the same loader in-process.
CLI_DAMAGES = ["truncated saved_model.pb", "truncated variables data"]


def _damaged_copy(trained_run, tmp_path, damage):
  export = tmp_path / "1"
  shutil.copytree(trained_run.export, export)
  DAMAGES[damage](export)
  return export


def run_predict_as_a_user(*args):
  """``bin/predict args`` run as a file, with no TF_CPP_MIN_LOG_LEVEL set (as a user's shell)."""
  env = {k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"}
  return subprocess.run([sys.executable, os.path.join(ROOT, "bin", "predict"), *args],
                        capture_output=True, text=True, env=env, timeout=600, cwd=ROOT)


@pytest.mark.parametrize("damage", CLI_DAMAGES)
def test_bin_predict_on_a_damaged_export_says_one_error_line(trained_run, tmp_path, damage):
  export = _damaged_copy(trained_run, tmp_path, damage)
  png = tmp_path / "digit.png"
  png.write_bytes(tf.io.encode_png(np.zeros([28, 28, 1], np.uint8)).numpy())
  proc = run_predict_as_a_user(f"--export_dir={export}", f"--input={png}")
  assert proc.returncode == 1, proc.stderr[-3000:]
  # Only the error: TensorFlow's start-up lines are hidden as in every bin/* command.
  (error,) = proc.stderr.strip().splitlines()
  assert error.startswith(f"error: {export}: cannot load the SavedModel ("), proc.stderr


@pytest.mark.parametrize("damage", sorted(set(DAMAGES) - set(CLI_DAMAGES)))
def test_predict_load_export_names_other_damages(trained_run, tmp_path, damage):
  export = _damaged_copy(trained_run, tmp_path, damage)
  with pytest.raises(predict.InputError,
                     match=re.escape(f"{export}: cannot load the SavedModel (")):
    predict.load_export(str(export))


def test_bin_predict_reports_what_failed_in_a_signature(loaded):
  """A refusal inside a signature (here the image count limit) is reported by its
  reason, not by TensorFlow's "Graph execution error:" preamble."""
  limit = request_limits.MAX_REQUEST_IMAGES
  with pytest.raises(tf.errors.InvalidArgumentError) as raised:
    loaded.signatures["predict_uint8"](images=tf.zeros([limit + 1, 28, 28], tf.uint8))
  assert predict._first_line(raised.value) == (
      f"assertion failed: [request too large: images = {limit + 1}, more than the limit of "
      f"{limit} per request (see docs/serving.md)]")
