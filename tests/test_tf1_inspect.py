"""``bin/import_tf1 --inspect`` and imports without architecture flags.

On checkpoints the legacy/ TF1 programs write (all in one subprocess:
tests/legacy_checkpoints.py) and on hand-written ones (old names, other cells,
checkpoints that do not determine the model).  The expected architectures are
written out here from the programs' flags, not taken from the inspector.  The
MNIST cell variants' trained checkpoints are inspected in
tests/test_tf1_trained_checkpoints.py, which trains them anyway.
"""

import json
import os
import subprocess
import sys

import numpy as np
import pytest
import tensorflow as tf

from tests.conftest import ROOT, SHARED_DATA, real_mnist, run_bin, write_mnist_idx
from tests.parity import harness
from tests.test_tf1_import import write_tf1_checkpoint
from tests.test_tf1_programs import imdb_ids
from tests.tolerances import assert_same_classes
from tf_lstm.app import config as config_lib
from tf_lstm.app import tasks
from tf_lstm.app import tf1_import
from tf_lstm.app import tf1_inspect
from tf_lstm.app.training import builder
from tf_lstm.app.training import checkpoints

U = "--num_units=16"
TEST_DIGITS = 2000   # real test digits the MNIST programs write logits for
MNIST = ("mnist", "fashion_mnist")

# id -> (legacy program, its flags (DIR: the output folder), tasks, settings inspect must find)
CASES = {
    "mnist_static_rnn": (   # seed 003's program: no flags, 128 units
        "mnist_static_rnn.py", ["--data_dir=DATA"], MNIST,
        dict(cell="lstm", num_layers=1, num_units=128, bidirectional=False)),
    "mnist_bidirectional_rnn": (
        "mnist_bidirectional_rnn.py", ["--data_dir=DATA", U], MNIST,
        dict(cell="lstm", num_layers=1, num_units=16, bidirectional=True)),
    "imdb_lstm": (
        "imdb_lstm.py", ["--ids=DIR/ids.npz", "--vocab_size=40", U, "--embedding_dim=8",
                         "--batch_size=6", "--train_steps=1", "--checkpoint_dir=DIR"],
        ("imdb",), dict(cell="lstm", num_layers=1, num_units=16, bidirectional=False,
                        embedding_dim=8)),
    "conll_bilstm_tagger": (
        "conll_bilstm_tagger.py",
        [f"--data_dir={os.path.join(SHARED_DATA, 'conll2003')}", "--max_sentences=200", U,
         "--embedding_dim=16", "--char_features=8", "--batch_size=8", "--train_steps=1",
         "--checkpoint_dir=DIR"],
        ("conll_pos", "conll_ner"),
        dict(cell="lstm", num_layers=1, num_units=16, bidirectional=True, embedding_dim=16,
             char_features=8)),
    "ptb_lm": (   # the PTB tutorial's Model/ names, global_step and learning_rate
        "ptb_lm.py",
        [f"--data_dir={os.path.join(SHARED_DATA, 'ptb-sample')}", "--train_file=ptb.valid.txt",
         "--eval_file=", U, "--num_steps=5", "--batch_size=4", "--max_max_epoch=0",
         "--checkpoint_dir=DIR"],
        ("ptb",), dict(cell="lstm", num_layers=2, num_units=16, tie_embeddings=False)),
}


@pytest.fixture(scope="module")
def legacy(tmp_path_factory):
  """{id: checkpoint prefix}; MNIST programs train 3 steps and write their test logits."""
  base = str(tmp_path_factory.mktemp("tf1_inspect"))
  train_x, train_y, test_x, test_y = real_mnist()
  data = write_mnist_idx(os.path.join(base, "mnist"), train_x[::10], train_y[::10],
                         test_x[:TEST_DIGITS], test_y[:TEST_DIGITS])
  jobs = []
  for name, (script, flags, _, _) in CASES.items():
    out = os.path.join(base, name)
    os.makedirs(out)
    if name == "imdb_lstm":
      imdb_ids(out)
    flags = [f.replace("DATA", data).replace("DIR", out) for f in flags]
    program = os.path.join(ROOT, "legacy", script)
    if name.startswith("mnist"):
      jobs.append(["parity", ["--train_steps=3", f"--checkpoint_dir={out}",
                              f"--test_logits_out={out}/logits.npy", program, *flags]])
    else:
      jobs.append(["direct", [program, *flags]])
  path = os.path.join(base, "jobs.json")
  with open(path, "w") as f:
    json.dump(jobs, f)
  cmd = [sys.executable, os.path.join(ROOT, "tests", "legacy_checkpoints.py"), path]
  proc = subprocess.run(cmd, capture_output=True, text=True, env=harness.LEGACY_ENV,
                        cwd=ROOT, timeout=600)
  if proc.returncode != 0:
    raise AssertionError(f"{' '.join(cmd)} failed:\n{proc.stdout}\n{proc.stderr[-4000:]}")
  return {name: os.path.join(base, name, "model.ckpt") for name in CASES}


@pytest.fixture(scope="module")
def test_images():
  task = tasks.get("mnist")
  test_x = real_mnist()[2][:TEST_DIGITS]
  return task.eval_transform()(test_x, None)[0]


def _flag(key, value):
  if isinstance(value, bool):
    return f"--{key}" if value else f"--no{key}"
  return f"--{key}={value}"


@pytest.mark.parametrize("name", list(CASES))
def test_inspect_names_the_legacy_programs_architecture(legacy, name):
  _, _, fits, expected = CASES[name]
  arch = tf1_inspect.inspect(legacy[name])
  assert arch.unclear == [] and arch.unused == []
  assert arch.tasks == fits
  assert {k: arch.settings.get(k) for k in expected} == expected
  assert arch.optimizer == (None if name == "ptb_lm" else "Adam")   # ptb_lm: plain SGD
  text = tf1_inspect.report(arch)
  command = text.split("import with:\n  ")[1].splitlines()[0]
  for key in config_lib.model_setting_names(fits[0], expected["cell"]):
    if key in expected:   # (the tagger is always bidirectional: no such flag)
      assert f" {_flag(key, expected[key])} " in command, (key, command)


def _logits_of_model_dir(model_dir, images):
  config = checkpoints.read_config(model_dir)
  _, model, optimizer = builder.build(config)
  ckpt, manager = checkpoints.make_manager(model_dir, model, optimizer)
  assert checkpoints.restore_latest(ckpt, manager)
  return model(images).numpy()


@pytest.mark.parametrize("name", ["mnist_static_rnn", "mnist_bidirectional_rnn"])
def test_import_with_the_found_settings_gives_tf1s_logits(legacy, test_images, name):
  prefix = legacy[name]
  found = tf1_inspect.import_defaults(tf1_inspect.inspect(prefix), {"task": "mnist"})
  assert found.pop("optimizer") == "adam"
  _, model, _ = builder.build(config_lib.TrainConfig(
      model=config_lib.ModelConfig(task="mnist", **found)))
  tf1_import.load(model, prefix)
  logits = model(test_images).numpy()
  tf1_logits = np.load(os.path.join(os.path.dirname(prefix), "logits.npy"))
  # 1e-5: the same float32 weights in two graphs; only summation orders differ
  # (tests/test_tf1_trained_checkpoints.py: at most 2e-6 on these logits).
  assert harness.max_abs_diff(logits, tf1_logits) <= 1e-5
  assert_same_classes(logits.argmax(1), tf1_logits, 1e-5)


def test_cli_inspect_then_import_without_architecture_flags(legacy, test_images, tmp_path):
  prefix = legacy["mnist_bidirectional_rnn"]
  proc = run_bin("import_tf1", f"--checkpoint={prefix}", "--inspect")
  assert proc.returncode == 0, proc.stderr
  assert "  directions       2 (fw, bw)\n" in proc.stdout
  assert "  cell             lstm (BasicLSTMCell: basic_lstm_cell/{bias, kernel})\n" in proc.stdout
  assert (f"bin/import_tf1 --checkpoint={prefix} --task=mnist --cell=lstm --num_layers=1 "
          "--num_units=16 --bidirectional --optimizer=adam") in proc.stdout
  assert not os.listdir(tmp_path)
  model_dir = str(tmp_path / "run")
  proc = run_bin("import_tf1", f"--checkpoint={prefix}", "--task=mnist",
                 f"--model_dir={model_dir}")
  assert proc.returncode == 0, proc.stderr
  assert ("from the checkpoint: cell=lstm num_layers=1 num_units=16 bidirectional=True "
          "optimizer=adam") in proc.stdout
  logits = _logits_of_model_dir(model_dir, test_images)
  tf1_logits = np.load(os.path.join(os.path.dirname(prefix), "logits.npy"))
  assert harness.max_abs_diff(logits, tf1_logits) <= 1e-5   # as above


# Hand-written checkpoints: names and shapes only.
def _lstm(prefix, n, depth, scope="basic_lstm_cell"):
  return {f"{prefix}/{scope}/kernel": [depth + n, 4 * n], f"{prefix}/{scope}/bias": [4 * n]}


def _inspect(tmp_path, shapes):
  rng = np.random.RandomState(0)
  arrays = {n: np.asarray(rng.randn(*s), np.float32) for n, s in shapes.items()}
  return tf1_inspect.inspect(write_tf1_checkpoint(tmp_path, arrays))


@pytest.mark.parametrize("shapes, fits, expected", [
    # The PTB tutorial run with LSTMBlockCell (lstm_cell), tied softmax, global_step.
    ({**_lstm("Model/RNN/multi_rnn_cell/cell_0", 24, 24, "lstm_cell"),
      **_lstm("Model/RNN/multi_rnn_cell/cell_1", 24, 24, "lstm_cell"),
      "Model/embedding": [300, 24], "Model/softmax_b": [300], "Model/global_step": []},
     ("ptb",), dict(cell="lstm_full", num_layers=2, num_units=24, tie_embeddings=True)),
    # TF 0.12 names: RNN/MultiRNNCell/CellK/BasicLSTMCell/Linear/{Matrix,Bias}.
    ({"RNN/MultiRNNCell/Cell0/BasicLSTMCell/Linear/Matrix": [40, 48],
      "RNN/MultiRNNCell/Cell0/BasicLSTMCell/Linear/Bias": [48],
      "RNN/MultiRNNCell/Cell1/BasicLSTMCell/Linear/Matrix": [24, 48],
      "RNN/MultiRNNCell/Cell1/BasicLSTMCell/Linear/Bias": [48],
      "softmax/w": [12, 10], "softmax/b": [10]},
     MNIST, dict(cell="lstm", num_layers=2, num_units=12, bidirectional=False)),
    # CudnnCompatibleLSTMCell: BasicLSTMCell's variables, forget_bias 0 (not stored).
    ({**_lstm("rnn", 8, 28, "cudnn_compatible_lstm_cell"), "w": [8, 10], "b": [10]},
     MNIST, dict(cell="lstm", num_units=8, forget_bias=0.0)),
    # A projection of the image rows, then a GRU; bidirectional GRU text classifier.
    ({"W_in": [28, 6], "b_in": [6], "rnn/gru_cell/gates/kernel": [14, 16],
      "rnn/gru_cell/gates/bias": [16], "rnn/gru_cell/candidate/kernel": [14, 8],
      "rnn/gru_cell/candidate/bias": [8], "Variable": [8, 10], "Variable_1": [10]},
     MNIST, dict(cell="gru", num_units=8, input_projection=6)),
    ({"embedding": [50, 6], "bidirectional_rnn/fw/basic_rnn_cell/kernel": [11, 5],
      "bidirectional_rnn/fw/basic_rnn_cell/bias": [5],
      "bidirectional_rnn/bw/basic_rnn_cell/kernel": [11, 5],
      "bidirectional_rnn/bw/basic_rnn_cell/bias": [5],
      "output/kernel": [10, 2], "output/bias": [2]},
     ("imdb",), dict(cell="rnn", num_units=5, bidirectional=True, embedding_dim=6)),
])
def test_inspect_hand_written_checkpoints(tmp_path, shapes, fits, expected):
  arch = _inspect(tmp_path, shapes)
  assert arch.unclear == [] and arch.unused == []
  assert arch.tasks == fits
  assert {k: arch.settings.get(k) for k in expected} == expected


@pytest.mark.parametrize("shapes, line", [
    ({**_lstm("rnn", 8, 28), "head_a/w": [8, 10], "head_a/b": [10], "head_c/w": [8, 10],
      "head_c/b": [10]}, "several candidate output layers: head_a/w [8, 10] + head_a/b [10]; "
     "head_c/w [8, 10] + head_c/b [10]"),
    ({**_lstm("encoder/rnn", 8, 28), **_lstm("decoder/rnn", 8, 28), "w": [8, 10], "b": [10]},
     "2 RNNs: decoder/rnn, encoder/rnn; pick one with --scope"),
    ({**_lstm("rnn/multi_rnn_cell/cell_0", 8, 28), **_lstm("rnn/multi_rnn_cell/cell_1", 4, 8),
      "w": [4, 10], "b": [10]}, "the layers or directions differ in cell or size"),
    ({"rnn/basic_lstm_cell/kernel": [36, 32], "rnn/basic_lstm_cell/bias": [30]},
     "fit no registered cell with equal layer sizes"),
])
def test_what_the_checkpoint_leaves_unclear_is_one_line(tmp_path, shapes, line):
  arch = _inspect(tmp_path, shapes)
  assert any(line in u for u in arch.unclear), arch.unclear
  with pytest.raises(tf1_import.TF1ImportError) as e:
    tf1_inspect.import_defaults(arch, {"task": "mnist"})
  assert "\n" not in str(e.value) and line in str(e.value)
  assert str(e.value).startswith(f"cannot tell the model from {arch.prefix}: ")
  # With the architecture given as flags (and var_map for the rest), the import goes on.
  assert tf1_inspect.import_defaults(arch, {"task": "mnist", "num_units": 8}) is not None


def test_several_tasks_fit_and_none_is_given(tmp_path):
  arch = _inspect(tmp_path, {**_lstm("rnn", 8, 28), "w": [8, 10], "b": [10]})
  with pytest.raises(tf1_import.TF1ImportError,
                     match="it fits --task=mnist or --task=fashion_mnist; give --task"):
    tf1_inspect.import_defaults(arch, {})
  assert tf1_inspect.import_defaults(arch, {"task": "fashion_mnist", "cell": "lstm"}) == {
      "num_layers": 1, "num_units": 8, "bidirectional": False}
