"""bin/import_tf1 --rename_to: an old TF1 checkpoint copied with today's names, which a
TF1 graph program ported by its imports then restores with its own Saver."""

import os

import numpy as np
import tensorflow as tf

import tf_lstm
from tests.conftest import run_bin
from tests.test_tf1_import import random_arrays, write_tf1_checkpoint
from tf_lstm.app.tf1_import import rename

D, N = 3, 4
L0 = "rnn/multi_rnn_cell/cell_0/basic_lstm_cell/"   # TF 1.0/1.1 names, with Adam slots
L1 = "RNN/MultiRNNCell/Cell1/BasicLSTMCell/Linear/"  # TF 0.12 names
OLD = {L0 + "weights": [D + N, 4 * N], L0 + "biases": [4 * N],
       L0 + "weights/Adam": [D + N, 4 * N], L0 + "weights/Adam_1": [D + N, 4 * N],
       L1 + "Matrix": [2 * N, 4 * N], L1 + "Bias": [4 * N], "beta1_power": [], "global_step": []}
TODAY_1 = "rnn/multi_rnn_cell/cell_1/basic_lstm_cell/"
NEW = {L0 + "weights": L0 + "kernel", L0 + "biases": L0 + "bias",
       L0 + "weights/Adam": L0 + "kernel/Adam", L0 + "weights/Adam_1": L0 + "kernel/Adam_1",
       L1 + "Matrix": TODAY_1 + "kernel", L1 + "Bias": TODAY_1 + "bias"}


def test_renamed_names():
  for old, new in NEW.items():
    assert rename.renamed(old) == new
  for name in ("beta1_power", "global_step", "Variable", "rnn/basic_lstm_cell/kernel/Adam"):
    assert rename.renamed(name) == name


def test_cli_renames_and_a_ported_graph_program_restores(tmp_path):
  old = random_arrays(OLD)
  (tmp_path / "old").mkdir()
  prefix = write_tf1_checkpoint(tmp_path / "old", old)
  destination = str(tmp_path / "new" / "model.ckpt")
  proc = run_bin("import_tf1", f"--checkpoint={prefix}", f"--rename_to={destination}",
                 check=True)
  assert ("  RNN/MultiRNNCell/Cell1/BasicLSTMCell/Linear/Matrix -> "
          "rnn/multi_rnn_cell/cell_1/basic_lstm_cell/kernel\n") in proc.stdout
  assert f"wrote {destination} (6 of 8 entries renamed)" in proc.stdout
  reader = tf.train.load_checkpoint(str(tmp_path / "new"))   # the 'checkpoint' file points at it
  assert sorted(reader.get_variable_to_shape_map()) == sorted(NEW.get(n, n) for n in OLD)
  for name, value in old.items():
    np.testing.assert_array_equal(reader.get_tensor(NEW.get(name, name)), value)

  with tf.Graph().as_default():   # the TF1 program, ported: its Saver restores by name
    cell = tf_lstm.MultiRNNCell([tf_lstm.BasicLSTMCell(N) for _ in range(2)])
    tf_lstm.static_rnn(cell, [tf.zeros([2, D])], dtype=tf.float32)
    with tf.compat.v1.Session() as sess:
      tf.compat.v1.train.Saver().restore(sess, destination)
      kernels = sess.run([c.kernel for c in cell.cells])
  np.testing.assert_array_equal(kernels[0], old[L0 + "weights"])
  np.testing.assert_array_equal(kernels[1], old[L1 + "Matrix"])


def test_cli_rename_refusals_write_nothing(tmp_path):
  (tmp_path / "old").mkdir()
  prefix = write_tf1_checkpoint(tmp_path / "old", random_arrays(OLD))
  taken = str(tmp_path / "old" / "model.ckpt")   # the source itself
  before = sorted(os.listdir(tmp_path / "old"))
  proc = run_bin("import_tf1", f"--checkpoint={prefix}", f"--rename_to={taken}")
  assert proc.returncode == 1 and "a checkpoint with this prefix exists already" in proc.stderr
  assert sorted(os.listdir(tmp_path / "old")) == before

  proc = run_bin("import_tf1", f"--checkpoint={prefix}", f"--rename_to={tmp_path / 'old'}/")
  assert proc.returncode == 1 and "is a directory; expected a new checkpoint prefix" in proc.stderr
  assert sorted(os.listdir(tmp_path / "old")) == before

  (tmp_path / "clash").mkdir()
  clash = write_tf1_checkpoint(tmp_path / "clash", random_arrays(
      {"rnn/basic_lstm_cell/weights": [2, 4], "rnn/basic_lstm_cell/kernel": [2, 4]}))
  proc = run_bin("import_tf1", f"--checkpoint={clash}", f"--rename_to={tmp_path / 'x' / 'm'}")
  assert proc.returncode == 1 and "two checkpoint entries would get the same name" in proc.stderr
  assert not os.path.exists(tmp_path / "x")

  (tmp_path / "today").mkdir()
  today = write_tf1_checkpoint(tmp_path / "today",
                               random_arrays({"rnn/basic_lstm_cell/kernel": [2, 4]}))
  proc = run_bin("import_tf1", f"--checkpoint={today}", f"--rename_to={tmp_path / 'y' / 'm'}",
                 check=True)
  assert "already has today's names" in proc.stdout and not os.path.exists(tmp_path / "y")

  proc = run_bin("import_tf1", f"--checkpoint={today}", f"--rename_to={tmp_path / 'z'}",
                 f"--model_dir={tmp_path / 'run'}")
  assert proc.returncode != 0 and "exactly one of --model_dir" in proc.stderr
