"""legacy/'s TF1 programs run again with only their rnn import switched to tf_lstm.

Each program runs twice: as written, with TF1's cells (tf-keras,
TF_USE_LEGACY_KERAS=1), and as a copy whose one rnn import line
(``from tensorflow.contrib import rnn`` or ``rnn = tf.nn.rnn_cell``) reads
``import tf_lstm as rnn``, in a process where tf-keras cannot be imported.  The
MNIST programs write their parity record through legacy/_run_with_parity.py,
the others (``--dump_dir``) themselves.  The copy restores the first run's
starting checkpoint right after its own variable initialisation (a
``tf.compat.v1.train.Saver`` over all its variables: TF1's checkpoint loads
into the tf_lstm program by name and shape; again after the program's own
assignments before training, mnist_binary_lstm's shadow kernels), so both
records start from the same weights.  Asserted: the same record keys and variable names; equal
starting weights and data; logits, loss and gradients within 1e-5; the loss
trajectory and final weights within 1e-4 (tests/parity's tolerances); both
programs' checkpoints hold the same variables (names, shapes, dtypes, optimizer
slots included), and the tf_lstm program's checkpoint restores into the TF1
program.

Runs are small (16 units, a few recorded steps of small batches) to keep graph
building, not training, the cost.
"""

import collections
import os
import subprocess
import sys

import numpy as np
import pytest
import tensorflow as tf

from tests.conftest import MNIST_5K, ROOT, SHARED_DATA
from tests.parity import harness

RUN = os.path.join(ROOT, "tests", "legacy_port_run.py")
PORT_IMPORT = "import tf_lstm as rnn\n"
CONTRIB = "from tensorflow.contrib import rnn\n"
NN_RNN_CELL = "rnn = tf.nn.rnn_cell  # was: tf.contrib.rnn\n"
MNIST_RECORD = ["--parity_steps=8", "--parity_batch_size=16"]
UNITS = "--num_units=16"

# import_line: the line switched; direct: the program writes its own record;
# inputs(directory): writes the program's input files there, returns their flags.
Program = collections.namedtuple("Program", "import_line flags direct inputs",
                                 defaults=(None,))


def imdb_ids(directory):
  """Token ids as legacy/imdb_lstm.py reads them: variable lengths, 0-padded."""
  rng = np.random.RandomState(0)
  n, steps = 48, 10
  lengths = rng.randint(1, steps + 1, size=n).astype(np.int32)
  ids = rng.randint(2, 40, size=(n, steps)).astype(np.int32)
  ids[np.arange(steps)[None, :] >= lengths[:, None]] = 0
  path = os.path.join(str(directory), "ids.npz")
  np.savez(path, train_ids=ids, train_lengths=lengths,
           train_labels=rng.randint(0, 2, n).astype(np.int32))
  return [f"--ids={path}", "--vocab_size=40"]


MNIST = f"--data_dir={MNIST_5K}"
PROGRAMS = {
    "mnist_static_rnn": Program(CONTRIB, [MNIST], False),   # seed 003's: no other flags
    "mnist_multilayer_lstm": Program(CONTRIB, [MNIST, UNITS], False),
    "mnist_bidirectional_rnn": Program(CONTRIB, [MNIST, UNITS], False),
    "mnist_dropout_lstm": Program(CONTRIB, [MNIST, UNITS], False),
    # A user's TF1 cell subclass (get_variable in call).
    "mnist_gflstm": Program(CONTRIB, [MNIST, UNITS], False),
    # A subclass of the concrete BasicLSTMCell overriding build and call (reads _kernel).
    "mnist_binary_lstm": Program(CONTRIB, [MNIST, "--hidden_size=16"], False),
    # tf.nn.bidirectional_dynamic_rnn (TF's own unroll) over tf_lstm cells.
    "conll_bilstm_tagger": Program(NN_RNN_CELL, [
        f"--data_dir={os.path.join(SHARED_DATA, 'conll2003')}", "--max_sentences=200",
        UNITS, "--embedding_dim=16", "--char_features=8", "--batch_size=8",
        "--parity_steps=5"], True),
    # The cell called step by step under variable_scope("Model", initializer=...)/"RNN"
    # with reuse_variables() (TF's PTB tutorial idiom); state fed back.
    "ptb_lm": Program(NN_RNN_CELL, [
        f"--data_dir={os.path.join(SHARED_DATA, 'ptb-sample')}", "--train_file=ptb.valid.txt",
        UNITS, "--num_steps=5",
        "--batch_size=4", "--parity_windows=2", "--parity_steps=5"], True),
    # tf.nn.dynamic_rnn (TF's own unroll) with sequence_length over a tf_lstm cell.
    "imdb_lstm": Program(CONTRIB, [
        UNITS, "--embedding_dim=8", "--batch_size=6", "--learning_rate=0.01",
        "--train_steps=5"], True, imdb_ids),
}
SEED_PROGRAM = "mnist_static_rnn"
# Same graphs with TF1's kernels vs ours: float32 values of order 1 agree to a
# few ulp per step; these are tests/parity/test_parity.py's bounds.
TOL_STEP = 1e-5    # logits, loss and gradients at the starting weights (scaled)
TOL_TRAIN = 1e-4   # the short loss trajectory and the final weights (scaled)


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
  line = PROGRAMS[program].import_line
  with open(os.path.join(ROOT, "legacy", program + ".py")) as f:
    text = f.read()
  assert text.count(line) == 1, f"{program}: expected one line {line!r}"
  path = os.path.join(str(directory), program + ".py")
  with open(path, "w") as f:
    f.write(text.replace(line, PORT_IMPORT))
  return path


def _command(program, path, dump_dir):
  spec = PROGRAMS[program]
  flags = spec.flags + (spec.inputs(os.path.dirname(dump_dir)) if spec.inputs else [])
  if spec.direct:
    return ["--direct", "--", path, *flags, f"--dump_dir={dump_dir}"]
  return ["--", f"--dump_dir={dump_dir}", *MNIST_RECORD, path, *flags]


_RUNS = {}


def runs_of(program, tmp_path_factory):
  """The TF1 run and the tf_lstm run of ``program`` (once per test session)."""
  if program not in _RUNS:
    tmp = tmp_path_factory.mktemp(program)
    tf1_dir, port_dir = str(tmp / "tf1"), str(tmp / "tf_lstm")
    _run(_command(program, os.path.join(ROOT, "legacy", program + ".py"), tf1_dir), False,
         tmp)
    restore = f"--restore={os.path.join(tf1_dir, 'init_ckpt', 'model.ckpt')}"
    _run([restore, *_command(program, ported_copy(program, tmp), port_dir)], True, tmp)
    _RUNS[program] = program, tmp, tf1_dir, port_dir
  return _RUNS[program]


@pytest.fixture(params=list(PROGRAMS), ids=list(PROGRAMS))
def runs(request, tmp_path_factory):
  return runs_of(request.param, tmp_path_factory)


def test_record_equals_tf1(runs):
  _, _, tf1_dir, port_dir = runs
  tf1, port = _record(tf1_dir), _record(port_dir)
  assert sorted(port) == sorted(tf1)
  assert len(tf1["noised"]) > 0 and len(port["noised"]) == 0   # the port restored noised values
  # Computed at the starting weights / over the recorded training steps
  # (logits, reset_logits, costs, state, grad_norms, train_state: ptb_lm's).
  tolerances = {"grad": TOL_STEP, "logits0": TOL_STEP, "loss0": TOL_STEP,
                "logits": TOL_STEP, "reset_logits": TOL_STEP, "costs": TOL_STEP,
                "state": TOL_STEP, "losses": TOL_TRAIN, "final": TOL_TRAIN,
                "grad_norms": TOL_TRAIN, "train_state": TOL_TRAIN}
  errors = {}
  for key, want in tf1.items():
    tol = tolerances.get(key.split("/")[0])
    if key == "noised":
      continue
    if tol is None:   # starting weights, data, metadata: the same by construction
      np.testing.assert_array_equal(port[key], want, err_msg=key)
    else:
      errors[key] = (harness.scaled_diff(port[key], want), tol)
  assert errors and all(err <= tol for err, tol in errors.values()), errors
  moved = max(harness.max_abs_diff(w, tf1["init/" + n])
              for n, w in harness.prefixed(tf1, "final").items())
  assert moved > 100 * max(err for err, _ in errors.values())   # the match is not trivial


def test_checkpoints_hold_the_same_variables(runs):
  _, _, tf1_dir, port_dir = runs
  tf1 = _checkpoint_variables(tf1_dir)
  assert _checkpoint_variables(port_dir) == tf1
  assert any("rnn/" in name.lower() for name in tf1)   # rnn/, bidirectional_rnn/, Model/RNN/
  # Optimizer slots (".../Adam", "beta1_power") are compared too: all global variables.


def test_tf_lstm_checkpoint_restores_into_the_tf1_program(tmp_path_factory):
  """Literally, for seed 003's program (the others' checkpoints hold the same
  variables as their TF1 programs', test_checkpoints_hold_the_same_variables)."""
  program, tmp, _, port_dir = runs_of(SEED_PROGRAM, tmp_path_factory)
  out = _run([f"--restore={os.path.join(port_dir, 'init_ckpt', 'model.ckpt')}",
              "--stop_after_restore", "--", os.path.join(ROOT, "legacy", program + ".py"),
              MNIST], False, tmp)
  assert "restored" in out
