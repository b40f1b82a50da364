"""TF1 checkpoints *trained* by the legacy/ programs, imported into the port.

Each legacy program trains a few Adam steps on ../shared/data/mnist-5k, saves a
``tf.compat.v1.train.Saver`` checkpoint and its logits on the 10,000 real test
digits.  Training moves every variable away from its initial value (TF1 starts
biases at zero), so a variable the importer puts in the place of another one of
the same shape (the two layers' biases, ``w_f_diag``/``w_i_diag``) changes the
logits even when the mapping the importer returns hides it.  The expected
port-to-TF1 names are written out here, not taken from the importer.
"""

import os
import subprocess

import numpy as np
import pytest
import tensorflow as tf

from tests.conftest import MNIST_5K, ROOT
from tests.parity import harness
from tests.tolerances import assert_same_classes
from tf_lstm.app import config as config_lib
from tf_lstm.app import tasks
from tf_lstm.app import tf1_import
from tf_lstm.app import tf1_inspect
from tf_lstm.app.training import loop

N = 16   # units: small and fast; a trained swap still moves the logits by >> 1e-5
STEPS = ["--train_steps=10", "--learning_rate=0.01"]
MULTI = "rnn/multi_rnn_cell/cell_{}/"

# id -> (legacy script, its flags, port ModelConfig options, {port name: TF1 name})
CASES = {
    "lstm_2_layers": (
        "mnist_multilayer_lstm.py", ["--cell=lstm", "--num_layers=2", f"--num_units={N}", *STEPS],
        dict(cell="lstm", num_layers=2),
        {"cell/layer_0/kernel": "rnn/multi_rnn_cell/cell_0/basic_lstm_cell/kernel",
         "cell/layer_0/bias": "rnn/multi_rnn_cell/cell_0/basic_lstm_cell/bias",
         "cell/layer_1/kernel": "rnn/multi_rnn_cell/cell_1/basic_lstm_cell/kernel",
         "cell/layer_1/bias": "rnn/multi_rnn_cell/cell_1/basic_lstm_cell/bias"}),
    "gru": (
        "mnist_multilayer_lstm.py", ["--cell=gru", "--num_layers=1", f"--num_units={N}", *STEPS],
        dict(cell="gru", num_layers=1),
        {"cell/layer_0/gates/kernel": "rnn/gru_cell/gates/kernel",
         "cell/layer_0/gates/bias": "rnn/gru_cell/gates/bias",
         "cell/layer_0/candidate/kernel": "rnn/gru_cell/candidate/kernel",
         "cell/layer_0/candidate/bias": "rnn/gru_cell/candidate/bias"}),
    "rnn_2_layers": (
        "mnist_multilayer_lstm.py", ["--cell=rnn", "--num_layers=2", f"--num_units={N}", *STEPS],
        dict(cell="rnn", num_layers=2),
        {"cell/layer_0/kernel": "rnn/multi_rnn_cell/cell_0/basic_rnn_cell/kernel",
         "cell/layer_0/bias": "rnn/multi_rnn_cell/cell_0/basic_rnn_cell/bias",
         "cell/layer_1/kernel": "rnn/multi_rnn_cell/cell_1/basic_rnn_cell/kernel",
         "cell/layer_1/bias": "rnn/multi_rnn_cell/cell_1/basic_rnn_cell/bias"}),
    "lstm_peepholes_projection": (
        "mnist_multilayer_lstm.py",
        ["--cell=lstm_full", "--num_layers=1", f"--num_units={N}", *STEPS],
        dict(cell="lstm_full", num_layers=1, use_peepholes=True, num_proj=N),
        {"cell/layer_0/kernel": "rnn/lstm_cell/kernel",
         "cell/layer_0/bias": "rnn/lstm_cell/bias",
         "cell/layer_0/w_f_diag": "rnn/lstm_cell/w_f_diag",
         "cell/layer_0/w_i_diag": "rnn/lstm_cell/w_i_diag",
         "cell/layer_0/w_o_diag": "rnn/lstm_cell/w_o_diag",
         "cell/layer_0/projection/kernel": "rnn/lstm_cell/projection/kernel"}),
    "gflstm_2_layers": (
        "mnist_gflstm.py", ["--num_layers=2", f"--num_units={N}", *STEPS],
        dict(cell="gflstm", num_layers=2),
        {f"cell/layer_{k}/{v}": f"rnn/gflstm_cell/cell_{k}/{v}" for k in (0, 1) for v in (
            "gates/kernel", "gates/bias", "candidate/input_kernel",
            "candidate/recurrent_kernel", "candidate/bias", "global_reset/kernel")}),
    "binary_lstm_2_layers": (
        # --epochs=0.25: round(0.25 * 5000 / 128) = 10 steps of batch 128.
        "mnist_binary_lstm.py", ["--num_layers=2", f"--hidden_size={N}", "--epochs=0.25",
                                 "--learning_rate=0.01"],
        dict(cell="binary_lstm", num_layers=2),
        {"cell/layer_0/kernel": "rnn/multi_rnn_cell/cell_0/binary_lstm_cell/kernel",
         "cell/layer_0/bias": "rnn/multi_rnn_cell/cell_0/binary_lstm_cell/bias",
         "cell/layer_1/kernel": "rnn/multi_rnn_cell/cell_1/binary_lstm_cell/kernel",
         "cell/layer_1/bias": "rnn/multi_rnn_cell/cell_1/binary_lstm_cell/bias"}),
}
HEAD = {"output/kernel": "Variable", "output/bias": "Variable_1"}   # TF1's tf.Variable names

# Pairs of equal shape that a wrong importer could exchange; each must be trained apart.
SWAPPABLE = {
    "lstm_2_layers": ("cell/layer_0/bias", "cell/layer_1/bias"),
    "rnn_2_layers": ("cell/layer_0/bias", "cell/layer_1/bias"),
    "lstm_peepholes_projection": ("cell/layer_0/w_f_diag", "cell/layer_0/w_i_diag"),
    "gflstm_2_layers": ("cell/layer_0/candidate/bias", "cell/layer_1/candidate/bias"),
    "binary_lstm_2_layers": ("cell/layer_0/bias", "cell/layer_1/bias"),
}


@pytest.fixture(scope="session")
def trained(tmp_path_factory):
  """Trains every case's legacy program at once; {id: (checkpoint prefix, test logits)}."""
  base = str(tmp_path_factory.mktemp("tf1_trained"))
  env = dict(os.environ, TF_USE_LEGACY_KERAS="1", TF_CPP_MIN_LOG_LEVEL="2")
  procs = {}
  for name, (script, flags, _, _) in CASES.items():
    out = os.path.join(base, name)
    cmd = harness.legacy_command(script, flags, [f"--checkpoint_dir={out}",
                                                 f"--test_logits_out={out}/logits.npy"])
    procs[name] = (subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                    text=True, env=env, cwd=ROOT), out, cmd)
  result = {}
  for name, (proc, out, cmd) in procs.items():
    stdout, stderr = proc.communicate(timeout=600)
    if proc.returncode != 0:
      raise AssertionError(f"{' '.join(cmd)} failed:\n{stdout}\n{stderr[-4000:]}")
    result[name] = (os.path.join(out, "model.ckpt"), np.load(os.path.join(out, "logits.npy")))
  return result


@pytest.fixture(scope="session")
def test_images():
  """The 10,000 real test digits as the port's models take them ([N, 28, 28] in [0, 1])."""
  task = tasks.get("mnist")
  test_x, _ = task.eval_arrays(task.load(MNIST_5K))
  return task.eval_transform()(test_x, None)[0]


def build(name):
  config = config_lib.TrainConfig(model=config_lib.ModelConfig(
      task="mnist", num_units=N, **CASES[name][2]))
  return loop.build(config)[1]


@pytest.mark.parametrize("name", list(CASES))
def test_trained_checkpoint_gives_tf1s_logits(trained, test_images, name):
  prefix, tf1_logits = trained[name]
  model = build(name)
  mapping = tf1_import.load(model, prefix)
  assert mapping == {**CASES[name][3], **HEAD}
  reader = tf.train.load_checkpoint(prefix)
  for port_name, tf1_name in {**CASES[name][3], **HEAD}.items():
    pv, = [pv for pv in tf1_import.port_variables(model) if pv.name == port_name]
    np.testing.assert_array_equal(pv.variable.numpy(), reader.get_tensor(tf1_name), port_name)
  logits = np.concatenate([model(test_images[i:i + 2500]).numpy()
                           for i in range(0, len(test_images), 2500)])
  assert logits.shape == tf1_logits.shape == (10000, 10)
  # 1e-5: both sides compute in float32 from the same weights; only the kernels'
  # summation order differs (TF1's graph vs the port's ops), which moved logits of
  # magnitude < 5 by at most 2e-6 here.  A trained variable in the place of another
  # of its shape moves them by 0.7 to 1.3 (test_equal_shape_variables_were_trained_apart).
  assert harness.max_abs_diff(logits, tf1_logits) <= 1e-5
  assert_same_classes(logits.argmax(1), tf1_logits, 1e-5)


@pytest.mark.parametrize("name", list(SWAPPABLE))
def test_equal_shape_variables_were_trained_apart(trained, test_images, name):
  """A swap of the pair is visible: the values differ and the logits move well past 1e-5."""
  prefix, tf1_logits = trained[name]
  reader = tf.train.load_checkpoint(prefix)
  a, b = (CASES[name][3][p] for p in SWAPPABLE[name])
  assert reader.get_tensor(a).shape == reader.get_tensor(b).shape
  assert harness.max_abs_diff(reader.get_tensor(a), reader.get_tensor(b)) > 1e-2
  model = build(name)
  tf1_import.load(model, prefix)
  variables = {pv.name: pv.variable for pv in tf1_import.port_variables(model)}
  va, vb = (variables[p] for p in SWAPPABLE[name])
  value_a = va.numpy()
  va.assign(vb)
  vb.assign(value_a)
  logits = model(test_images[:500]).numpy()
  assert harness.max_abs_diff(logits, tf1_logits[:500]) > 1e-2   # 1000x the 1e-5 above


@pytest.mark.parametrize("name", list(CASES))
def test_inspect_finds_the_architecture_and_an_import_without_it_gives_tf1s_logits(
    trained, test_images, name):
  """tf1_inspect (bin/import_tf1 --inspect; an import without architecture flags) on
  the same checkpoints: the settings written out in CASES, then TF1's logits."""
  prefix, tf1_logits = trained[name]
  arch = tf1_inspect.inspect(prefix)
  assert arch.unclear == [] and arch.tasks == ("mnist", "fashion_mnist")
  found = tf1_inspect.import_defaults(arch, {"task": "mnist"})
  assert found == {**CASES[name][2], "num_units": N, "bidirectional": False,
                   "optimizer": "adam"}
  del found["optimizer"]
  config = config_lib.TrainConfig(model=config_lib.ModelConfig(task="mnist", **found))
  model = loop.build(config)[1]
  tf1_import.load(model, prefix)
  logits = model(test_images[:2000]).numpy()
  # 1e-5: as in test_trained_checkpoint_gives_tf1s_logits.
  assert harness.max_abs_diff(logits, tf1_logits[:2000]) <= 1e-5
