"""bin/train end to end, as a user runs it: progress, results, export, resume, errors."""

import json
import os
import re
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
import tensorflow as tf

from tf_lstm.app import cpu
from tests.conftest import MNIST_5K, ROOT, run_bin, write_mnist_idx

TINY = ["--task=mnist", "--num_layers=1", "--num_units=16", "--batch_size=32",
        "--log_every=5", "--augment_shift=1"]


def _losses(stdout):
  return [float(m) for m in re.findall(r"step \d+/\d+ epoch \S+ loss (\d+\.\d+)", stdout)]


def _results(model_dir):
  with open(os.path.join(model_dir, "results.json")) as f:
    return json.load(f)


@pytest.fixture(scope="module")
def trained(small_mnist_dir, tmp_path_factory):
  """One short run with export, shared by the assertions below."""
  base = tmp_path_factory.mktemp("trained")
  model_dir, export_dir = str(base / "model"), str(base / "export")
  proc = run_bin("train", *TINY, "--train_steps=30", "--checkpoint_every=10",
                 f"--data_dir={small_mnist_dir}", f"--model_dir={model_dir}",
                 f"--export_dir={export_dir}", "--tflite", "--eval_every=20", check=True)
  return model_dir, export_dir, proc


def test_progress_results_and_summaries(trained):
  model_dir, _, proc = trained
  assert len(_losses(proc.stdout)) == 6                 # every 5 of 30 steps
  assert re.search(r"step 30/30 epoch 1\.9 loss .* steps/s", proc.stdout)
  assert "step 20 eval loss" in proc.stdout
  results = _results(model_dir)
  assert results["task"] == "mnist" and results["global_step"] == 30
  assert results["test_examples"] == 200
  assert 0.0 <= results["test_accuracy"] <= 1.0 and results["test_loss"] > 0
  assert results["train_seconds"] > 0
  ckpts = tf.train.get_checkpoint_state(os.path.join(model_dir, "checkpoints"))
  assert ckpts.model_checkpoint_path.endswith("ckpt-30")
  for sub in ("train", "eval"):
    events = os.listdir(os.path.join(model_dir, sub))
    assert any(e.startswith("events.out.tfevents") for e in events)
  tags = set()
  for event_file in os.listdir(os.path.join(model_dir, "train")):
    for e in tf.compat.v1.train.summary_iterator(os.path.join(model_dir, "train", event_file)):
      tags.update(v.tag for v in e.summary.value)
  assert {"loss", "accuracy", "steps_per_second", "learning_rate"} <= tags


def test_export_serves_probabilities_and_classes(trained, small_mnist_dir):
  model_dir, export_dir, _ = trained
  assert os.listdir(export_dir) == ["1"]
  loaded = tf.saved_model.load(os.path.join(export_dir, "1"))
  serve = loaded.signatures["serving_default"]
  assert serve.structured_input_signature[1]["images"].shape.as_list() == [None, 28, 28]
  from tf_lstm.app.data import images
  data = images.load_idx(small_mnist_dir)
  out = serve(images=tf.constant(data.test_images[:200] / 255.0, tf.float32))
  assert out["probabilities"].shape == (200, 10) and out["classes"].dtype == tf.int64
  np.testing.assert_allclose(out["probabilities"].numpy().sum(1), 1.0, atol=1e-5)
  accuracy = float(np.mean(out["classes"].numpy() == data.test_labels[:200]))
  # The export's graph and the training run's evaluation graph sum float32 in other
  # orders (a few ulp): only a digit whose two best probabilities tie within 1e-5 may flip.
  from tests.tolerances import near_ties
  flips = near_ties(out["probabilities"].numpy(), 1e-5)
  assert accuracy == pytest.approx(_results(model_dir)["test_accuracy"], abs=flips / 200 + 1e-9)


def test_tflite_export_gives_the_saved_model_classes(trained, small_mnist_dir, tmp_path):
  from tests.export.test_tflite import run_tflite
  from tf_lstm.app.data import images
  _, export_dir, _ = trained
  x = (images.load_idx(small_mnist_dir).test_images[:200] / 255.0).astype(np.float32)
  lite = run_tflite(os.path.join(export_dir, "1", "model.tflite"), x, tmp_path)
  saved = tf.saved_model.load(os.path.join(export_dir, "1")).signatures["serving_default"](
      images=tf.constant(x))
  # TFLite's kernels against TensorFlow's: a few float32 ulp per step; 1e-4 for other CPUs.
  assert np.abs(lite["probabilities"] - saved["probabilities"].numpy()).max() < 1e-4
  from tests.tolerances import assert_same_classes
  assert_same_classes(lite["classes"], saved["probabilities"].numpy(), 1e-4)


def test_tflite_needs_export_dir_and_an_image_task(small_mnist_dir, tmp_path):
  for extra, task in (([], "mnist"), ([f"--export_dir={tmp_path / 'e'}"], "ptb")):
    model_dir = tmp_path / f"never_{task}"
    proc = run_bin("train", f"--task={task}", "--tflite", *extra,
                   f"--data_dir={small_mnist_dir}", f"--model_dir={model_dir}")
    assert proc.returncode == 1, proc.stderr
    assert "a TFLite export needs an export_dir and an image task" in proc.stderr
    assert not model_dir.exists() and not (tmp_path / "e").exists()


def test_same_seed_same_loss_curve(trained, small_mnist_dir, tmp_path):
  _, _, proc = trained
  again = run_bin("train", *TINY, "--train_steps=30", "--checkpoint_every=10",
                  f"--data_dir={small_mnist_dir}", f"--model_dir={tmp_path / 'm'}",
                  "--eval_every=20", check=True)
  assert _losses(again.stdout) == _losses(proc.stdout)   # exact: same graph, data, CPU
  other = run_bin("train", *TINY, "--train_steps=10", "--seed=1",
                  f"--data_dir={small_mnist_dir}", f"--model_dir={tmp_path / 'm2'}", check=True)
  assert _losses(other.stdout)[:2] != _losses(proc.stdout)[:2]


def test_bfloat16_run_follows_the_float32_run(trained, small_mnist_dir, tmp_path):
  """--dtype=bfloat16: the same run up to bfloat16 rounding; float32 checkpoints."""
  model_dir = tmp_path / "bf16"
  proc = run_bin("train", *TINY, "--train_steps=30", "--checkpoint_every=10",
                 f"--data_dir={small_mnist_dir}", f"--model_dir={model_dir}",
                 "--eval_every=20", "--dtype=bfloat16", check=True)
  reference, got = _losses(trained[2].stdout), _losses(proc.stdout)
  assert len(got) == len(reference) == 6
  np.testing.assert_allclose(got, reference, atol=0.05)
  assert got != reference
  results, unbroken = _results(model_dir), _results(trained[0])
  assert results["test_loss"] == pytest.approx(unbroken["test_loss"], abs=0.05)
  with open(model_dir / "config.json") as f:
    assert json.load(f)["dtype"] == "bfloat16"
  reader = tf.train.load_checkpoint(str(model_dir / "checkpoints"))
  dtypes = reader.get_variable_to_dtype_map()
  kernels = [k for k in dtypes if "kernel" in k and "OPTIMIZER_SLOT" not in k]
  assert kernels and all(dtypes[k] == tf.float32 for k in kernels)


def test_bfloat16_is_refused_for_the_language_model(tmp_path):
  # The LM and the taggers have no bfloat16 path (docs/training.md says why); imdb has one
  # (tests/test_precision_text.py).
  model_dir = tmp_path / "never"
  proc = run_bin("train", "--task=ptb", "--dtype=bfloat16", f"--model_dir={model_dir}")
  assert proc.returncode == 1
  assert "--dtype=bfloat16 is for --task=mnist/fashion_mnist/imdb only, not --task=ptb" \
      in proc.stderr
  assert "Traceback" not in proc.stderr
  assert not model_dir.exists()


def test_bfloat16_with_onednn_capped_below_it(small_mnist_dir, tmp_path):
  # On an AVX-512 CPU TensorFlow hands bfloat16 products to oneDNN, which, capped at AVX2,
  # aborts the process (measured: "terminate called after throwing an instance of
  # 'dnnl::error'"), so bin/train refuses; elsewhere TensorFlow keeps them off oneDNN
  # and the run trains.
  model_dir = tmp_path / "run"
  proc = run_bin("train", *TINY, f"--data_dir={small_mnist_dir}", "--dtype=bfloat16",
                 "--train_steps=2", f"--model_dir={model_dir}",
                 env={"ONEDNN_MAX_CPU_ISA": "AVX2", "TF_ENABLE_ONEDNN_OPTS": "1"})
  if "avx512f" in cpu.cpu_info()["flags"]:
    assert proc.returncode == 1
    assert "dtype bfloat16 with ONEDNN_MAX_CPU_ISA=AVX2" in proc.stderr
    assert "TF_ENABLE_ONEDNN_OPTS=0" in proc.stderr and "Traceback" not in proc.stderr
    assert not model_dir.exists()
  else:
    assert proc.returncode == 0, proc.stderr
    with open(model_dir / "config.json") as f:
      assert json.load(f)["dtype"] == "bfloat16"


def test_sigkill_and_resume_continues_the_same_run(small_mnist_dir, tmp_path, trained):
  """A SIGKILLed run restarted with the same command ends where an unbroken one does."""
  model_dir = str(tmp_path / "killed")
  args = [sys.executable, os.path.join(ROOT, "bin", "train"), *TINY, "--train_steps=30",
          "--checkpoint_every=10", "--eval_every=20",
          f"--data_dir={small_mnist_dir}", f"--model_dir={model_dir}"]
  env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2")
  proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env)
  state = os.path.join(model_dir, "checkpoints", "checkpoint")
  deadline = time.time() + 180
  while not os.path.exists(state) and time.time() < deadline and proc.poll() is None:
    time.sleep(0.05)
  proc.send_signal(signal.SIGKILL)
  proc.wait()
  saved = tf.train.latest_checkpoint(os.path.join(model_dir, "checkpoints"))
  assert saved is not None, "no checkpoint was written before the kill"
  saved_step = int(saved.rsplit("-", 1)[1])
  assert 10 <= saved_step < 30
  resumed = subprocess.run(args, capture_output=True, text=True, env=env, timeout=300)
  assert resumed.returncode == 0, resumed.stderr
  assert f"at step {saved_step}" in resumed.stdout
  results = _results(model_dir)
  assert results["global_step"] == 30 and results["resumed_from_step"] == saved_step
  unbroken = _results(trained[0])
  assert results["test_loss"] == pytest.approx(unbroken["test_loss"], abs=1e-5)
  # The loss may drift by the 1e-5 above; that can flip a near-tied digit of the 200.
  assert results["test_accuracy"] == pytest.approx(unbroken["test_accuracy"], abs=1 / 200)


def _snapshot(directory):
  """{relative path: (mtime_ns, bytes)} of every file under ``directory``."""
  out = {}
  for root, _, files in os.walk(directory):
    for name in files:
      path = os.path.join(root, name)
      with open(path, "rb") as f:
        out[os.path.relpath(path, directory)] = (os.stat(path).st_mtime_ns, f.read())
  return out


@pytest.mark.parametrize("flag, difference", [
    ("--num_units=32", "num_units: 16 in the checkpoint vs 32 now"),      # other shapes
    ("--forget_bias=0.5", "forget_bias: 1.0 in the checkpoint vs 0.5 now"),  # same shapes
])
def test_resume_with_other_model_flags_is_refused(trained, flag, difference):
  """Real data loads, so the run reaches the refusal; the run in model_dir stays as it was."""
  model_dir, _, _ = trained
  before = _snapshot(model_dir)
  assert "config.json" in before and any(p.startswith("checkpoints") for p in before)
  proc = run_bin("train", *TINY, flag, "--train_steps=2", f"--data_dir={MNIST_5K}",
                 f"--model_dir={model_dir}")
  assert proc.returncode == 1, proc.stdout + proc.stderr
  assert f"{model_dir} holds a run with another configuration (" in proc.stderr
  assert difference in proc.stderr
  assert "Traceback" not in proc.stderr and "resumed from" not in proc.stdout
  assert _snapshot(model_dir) == before


def test_nan_loss_stops_and_keeps_last_good_checkpoint(small_mnist_dir, tmp_path):
  model_dir = str(tmp_path / "nan")
  proc = run_bin("train", *TINY, "--optimizer=sgd", "--learning_rate=1e38",
                 "--lr_schedule=constant", "--train_steps=50", "--checkpoint_every=1",
                 f"--data_dir={small_mnist_dir}", f"--model_dir={model_dir}")
  assert proc.returncode == 1
  m = re.search(r"loss is (nan|inf) at step (\d+); stopped without saving", proc.stderr)
  assert m, proc.stderr
  bad_step = int(m.group(2))
  latest = tf.train.latest_checkpoint(os.path.join(model_dir, "checkpoints"))
  if bad_step == 1:
    assert latest is None
  else:
    assert latest.endswith(f"ckpt-{bad_step - 1}")
    reader = tf.train.load_checkpoint(latest)
    for name in reader.get_variable_to_shape_map():
      value = reader.get_tensor(name)
      if np.issubdtype(np.asarray(value).dtype, np.floating):
        assert np.all(np.isfinite(value)), name
  assert not os.path.exists(os.path.join(model_dir, "results.json"))


@pytest.mark.parametrize("flag, message", [
    ("--num_layers=0", "num_layers"),
    ("--learning_rate=-1", "--learning_rate must be > 0"),
    ("--cell=lstmm", "--cell"),
    ("--task=cifar", "--task"),
    ("--optimizer=adagrad", "--optimizer"),
    ("--data_dir=/nonexistent/dir", "--data_dir must be an existing directory"),
    ("--epochs=0", "--epochs must be > 0"),
    ("--dtype=float16", "--dtype"),
    ("--clip_norm=inf", "--clip_norm must be a finite number"),   # issue 20.5
])
def test_bad_flags_fail_before_any_work(flag, message, tmp_path):
  model_dir = tmp_path / "never"
  proc = run_bin("train", flag, f"--model_dir={model_dir}")
  assert proc.returncode != 0
  assert message in proc.stderr
  assert not model_dir.exists()


def test_missing_model_dir_flag():
  proc = run_bin("train", "--task=mnist")
  assert proc.returncode != 0 and "model_dir" in proc.stderr


def test_bad_data_fails_before_anything_is_written(tmp_path):
  rng = np.random.RandomState(0)
  data_dir = write_mnist_idx(tmp_path / "data", rng.randint(0, 255, (40, 28, 28)),
                             rng.randint(0, 10, 39), rng.randint(0, 255, (10, 28, 28)),
                             rng.randint(0, 10, 10))
  model_dir = tmp_path / "never"
  proc = run_bin("train", *TINY, f"--data_dir={data_dir}", f"--model_dir={model_dir}")
  assert proc.returncode == 1
  assert "train-images-idx3-ubyte.gz has 40 images but" in proc.stderr
  assert "has 39 labels" in proc.stderr
  assert not model_dir.exists()
