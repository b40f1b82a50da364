"""legacy/'s TF1 programs run again with only their rnn import switched to tf_lstm.

Each program runs twice under legacy/_run_with_parity.py (the parity record of
tests/parity): as written, with TF1's cells (tf-keras, TF_USE_LEGACY_KERAS=1),
and as a copy whose one line ``from tensorflow.contrib import rnn`` reads
``import tf_lstm as rnn``, in a process where tf-keras cannot be imported.
The copy restores the first run's starting checkpoint right after its own
variable initialisation (a ``tf.compat.v1.train.Saver`` over all its
variables: TF1's checkpoint loads into the tf_lstm program by name and shape),
so both records start from the same weights.  Asserted: the same record keys
and variable names; equal starting weights; logits, loss and gradients within
1e-5; the loss trajectory and final weights within 1e-4 (tests/parity's
tolerances); both programs' checkpoints hold the same variables (names, shapes,
dtypes, optimizer slots included), and the tf_lstm program's checkpoint
restores into the TF1 program.

Runs are small (16 units where a program has the flag, 8 recorded steps of
batch 16) to keep graph building, not training, the cost.
"""

import os
import subprocess
import sys

import numpy as np
import pytest
import tensorflow as tf

from tests.conftest import MNIST_5K, ROOT
from tests.parity import harness

RUN = os.path.join(ROOT, "tests", "legacy_port_run.py")
TF1_IMPORT = "from tensorflow.contrib import rnn\n"
PORT_IMPORT = "import tf_lstm as rnn\n"
RECORD = ["--parity_steps=8", "--parity_batch_size=16"]
UNITS = "--num_units=16"
# program -> its flags (data_dir added).  mnist_static_rnn is seed 003's program:
# no flags, 128 units.
PROGRAMS = {
    "mnist_static_rnn": [],
    "mnist_multilayer_lstm": [UNITS],
    "mnist_bidirectional_rnn": [UNITS],
    "mnist_dropout_lstm": [UNITS],
    "mnist_mean_pool_lstm": [UNITS],
    "mnist_gflstm": [UNITS],   # a user's TF1 cell subclass (get_variable in call)
}
SEED_PROGRAM = "mnist_static_rnn"
# Same graphs with TF1's kernels vs ours: float32 values of order 1 agree to a
# few ulp per step; these are tests/parity/test_parity.py's bounds.
TOL_STEP = 1e-5    # logits, loss and gradients at the starting weights (scaled)
TOL_TRAIN = 1e-4   # the 8-step loss trajectory and the final weights (scaled)


def _run(args, tf_lstm, tmpdir):
  env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2")
  env.pop("TF_USE_LEGACY_KERAS", None)
  if not tf_lstm:
    env["TF_USE_LEGACY_KERAS"] = "1"
  cmd = [sys.executable, RUN] + (["--tf_lstm"] if tf_lstm else []) + args
  proc = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=str(tmpdir),
                        timeout=600)
  if proc.returncode != 0:
    raise AssertionError(f"{' '.join(cmd)} failed ({proc.returncode}):\n"
                         f"{proc.stdout[-2000:]}\n{proc.stderr[-4000:]}")
  return proc.stdout


def _record(dump_dir):
  with np.load(os.path.join(dump_dir, "record.npz")) as f:
    return {k: f[k] for k in f.files}


def _checkpoint_variables(dump_dir):
  prefix = os.path.join(dump_dir, "init_ckpt", "model.ckpt")
  reader = tf.train.load_checkpoint(prefix)
  dtypes = reader.get_variable_to_dtype_map()
  return {name: (tuple(shape), dtypes[name].name)
          for name, shape in tf.train.list_variables(prefix)}


def ported_copy(program, directory):
  """legacy/<program>.py with its rnn import switched; the copy's path."""
  with open(os.path.join(ROOT, "legacy", program + ".py")) as f:
    text = f.read()
  assert text.count(TF1_IMPORT) == 1, f"{program}: expected one line {TF1_IMPORT!r}"
  path = os.path.join(str(directory), program + ".py")
  with open(path, "w") as f:
    f.write(text.replace(TF1_IMPORT, PORT_IMPORT))
  return path


_RUNS = {}


def runs_of(program, tmp_path_factory):
  """The TF1 run and the tf_lstm run of ``program`` (once per test session)."""
  if program not in _RUNS:
    _RUNS[program] = _two_runs(program, PROGRAMS[program], tmp_path_factory.mktemp(program))
  return _RUNS[program]


def _two_runs(program, flags, tmp):
  tf1_dir, port_dir = str(tmp / "tf1"), str(tmp / "tf_lstm")
  program_flags = [f"--data_dir={MNIST_5K}", *flags]
  _run(["--", f"--dump_dir={tf1_dir}", *RECORD,
        os.path.join(ROOT, "legacy", program + ".py"), *program_flags], False, tmp)
  copy = ported_copy(program, tmp)
  _run([f"--restore={os.path.join(tf1_dir, 'init_ckpt', 'model.ckpt')}", "--",
        f"--dump_dir={port_dir}", *RECORD, copy, *program_flags], True, tmp)
  return program, tmp, tf1_dir, port_dir


@pytest.fixture(params=list(PROGRAMS), ids=list(PROGRAMS))
def runs(request, tmp_path_factory):
  return runs_of(request.param, tmp_path_factory)


def test_record_equals_tf1(runs):
  _, _, tf1_dir, port_dir = runs
  tf1, port = _record(tf1_dir), _record(port_dir)
  assert sorted(port) == sorted(tf1)
  assert len(tf1["noised"]) > 0 and len(port["noised"]) == 0   # the port restored noised values
  for key in ("script", "optimizer", "learning_rate", "seed", "parity_steps", "batch_size",
              "x0", "y0", "train_x", "train_y"):
    np.testing.assert_array_equal(port[key], tf1[key], err_msg=key)
  for name in harness.prefixed(tf1, "init"):
    np.testing.assert_array_equal(port["init/" + name], tf1["init/" + name], err_msg=name)
  assert harness.max_abs_diff(port["logits0"], tf1["logits0"]) <= TOL_STEP
  assert abs(float(port["loss0"]) - float(tf1["loss0"])) <= TOL_STEP
  grads = {n: harness.scaled_diff(port["grad/" + n], g)
           for n, g in harness.prefixed(tf1, "grad").items()}
  assert max(grads.values()) <= TOL_STEP, grads
  assert harness.max_abs_diff(port["losses"], tf1["losses"]) <= TOL_TRAIN
  final = {n: harness.scaled_diff(port["final/" + n], w)
           for n, w in harness.prefixed(tf1, "final").items()}
  assert max(final.values()) <= TOL_TRAIN, final
  moved = max(harness.max_abs_diff(w, tf1["init/" + n])
              for n, w in harness.prefixed(tf1, "final").items())
  assert moved > 100 * max(final.values())               # the match is not trivial


def test_checkpoints_hold_the_same_variables(runs):
  _, _, tf1_dir, port_dir = runs
  tf1 = _checkpoint_variables(tf1_dir)
  assert _checkpoint_variables(port_dir) == tf1
  assert any(name.startswith(("rnn/", "bidirectional_rnn/")) for name in tf1)
  # Optimizer slots (".../Adam", "beta1_power") are compared too: all global variables.


def test_tf_lstm_checkpoint_restores_into_the_tf1_program(tmp_path_factory):
  """Literally, for seed 003's program (the others' checkpoints hold the same
  variables as their TF1 programs', test_checkpoints_hold_the_same_variables)."""
  program, tmp, _, port_dir = runs_of(SEED_PROGRAM, tmp_path_factory)
  out = _run([f"--restore={os.path.join(port_dir, 'init_ckpt', 'model.ckpt')}",
              "--stop_after_restore", "--", os.path.join(ROOT, "legacy", program + ".py"),
              f"--data_dir={MNIST_5K}"], False, tmp)
  assert "restored" in out
