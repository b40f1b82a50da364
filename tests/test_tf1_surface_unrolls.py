"""tf_lstm's unrolls against TF1's own (tf-keras cells, ``tf.compat.v1.nn`` unrolls).

tests/tf1_unroll_reference.py runs every case of tests/tf1_unroll_cases.py with
TF1's implementation in a subprocess (TF_USE_LEGACY_KERAS=1: Keras 3 and
tf-keras never share a process); here the same cases run with ``tf_lstm`` in a
``tf.compat.v1`` graph (Session), eagerly and in ``tf.function``, from TF1's
initial values.  Checked: variable names and shapes equal; outputs, final
states and gradients (inputs and every variable) within 1e-5; and TF1's scope
rules (reuse, AUTO_REUSE, "already exists", numbered cell scopes) give the same
variables or the same errors.
"""

import importlib
import json
import os
import subprocess
import sys

import numpy as np
import pytest
import tensorflow as tf

import tf_lstm
from tests import tf1_unroll_cases as cases
from tests.conftest import ROOT

# Same math in another graph (TF1's kernels vs ours, other summation orders):
# float32 values of order 1 agree to a few ulp; 1e-5 is the bound,
# scaled by max(1, max |TF1 value|) for gradients that sum over steps.
TOL = 1e-5


@pytest.fixture(scope="module")
def tf1(tmp_path_factory):
  out = tmp_path_factory.mktemp("tf1_unrolls") / "tf1.npz"
  env = dict(os.environ, TF_USE_LEGACY_KERAS="1", TF_CPP_MIN_LOG_LEVEL="2")
  proc = subprocess.run([sys.executable, os.path.join(ROOT, "tests", "tf1_unroll_reference.py"),
                         str(out)], capture_output=True, text=True, env=env, cwd=ROOT,
                        timeout=600)
  assert proc.returncode == 0, proc.stderr[-4000:]
  with np.load(out) as f:
    record = {k: f[k] for k in f.files}
  return record, json.loads(str(record.pop("meta")))


def _unique_variables(cells):
  seen, out = set(), []
  for cell in cells:
    for v in cell.trainable_variables:
      if id(v) not in seen:
        seen.add(id(v))
        out.append(v)
  return out


def _graph_run(case, record):
  make_cells, unroll = cases.CASES[case]
  with tf.Graph().as_default():
    x = tf.constant(cases.inputs())
    results = unroll(tf_lstm, make_cells(tf_lstm), x, tf.constant(cases.LENGTHS))
    tvars = tf.compat.v1.trainable_variables()
    grads = tf.gradients(cases.loss_of(results), [x] + tvars)
    with tf.compat.v1.Session() as sess:
      sess.run(tf.compat.v1.global_variables_initializer())
      for v in tvars:
        v.load(record[f"{case}/init/{v.name}"], sess)
      flat, grad_values = sess.run([tf.nest.flatten(results), grads])
  return [v.name for v in tvars], [v.shape.as_list() for v in tvars], flat, grad_values


def _tf2_run(case, record, in_function):
  make_cells, unroll = cases.CASES[case]
  cells = make_cells(tf_lstm)
  x, lengths = tf.constant(cases.inputs()), tf.constant(cases.LENGTHS)
  build = lambda: unroll(tf_lstm, cells, x, lengths)   # noqa: E731
  (tf.function(build) if in_function else build)()     # creates the variables
  tvars = _unique_variables(cells)
  for v in tvars:
    v.assign(record[f"{case}/init/{v.name}"])

  def compute():
    with tf.GradientTape() as tape:
      tape.watch(x)
      results = build()
      loss = cases.loss_of(results)
    return tf.nest.flatten(results), tape.gradient(loss, [x] + tvars)

  flat, grads = (tf.function(compute) if in_function else compute)()
  return ([v.name for v in tvars], [v.shape.as_list() for v in tvars],
          [t.numpy() for t in flat], [g.numpy() for g in grads])


def _scaled_error(got, want):
  return float(np.max(np.abs(got - want), initial=0.0)) / max(1.0, float(np.max(np.abs(want),
                                                                                 initial=0.0)))


@pytest.mark.parametrize("mode", ["graph", "eager", "function"])
@pytest.mark.parametrize("case", list(cases.CASES))
def test_unroll_equals_tf1(tf1, case, mode):
  record, meta = tf1
  if mode == "graph":
    names, shapes, flat, grads = _graph_run(case, record)
  else:
    names, shapes, flat, grads = _tf2_run(case, record, in_function=mode == "function")
  assert sorted(zip(names, map(tuple, shapes))) == sorted(
      (n, tuple(s)) for n, s in meta[case])
  want_flat = [record[f"{case}/out/{k}"] for k in range(len(flat))]
  assert f"{case}/out/{len(flat)}" not in record           # same number of outputs
  for k, (got, want) in enumerate(zip(flat, want_flat)):
    assert got.shape == want.shape, k
    assert _scaled_error(got, want) <= TOL, (k, _scaled_error(got, want))
  errors = {"x": _scaled_error(grads[0], record[f"{case}/grad/x"])}
  for name, g in zip(names, grads[1:]):
    errors[name] = _scaled_error(np.asarray(g), record[f"{case}/grad/{name}"])
  assert max(errors.values()) <= TOL, errors
  assert np.max(np.abs(record[f"{case}/grad/x"])) > 1e-3    # the gradient reaches the inputs


def test_scope_rules_equal_tf1(tf1):
  _, meta = tf1
  with tf.Graph().as_default():
    assert cases.reuse_scenario(tf_lstm) == meta["reuse_scenario"]


def test_tf2_names_follow_the_unroll_scope():
  cell = tf_lstm.MultiRNNCell([tf_lstm.LSTMCell(4, num_proj=3), tf_lstm.GRUCell(2)])
  with tf.compat.v1.variable_scope("model"):
    tf_lstm.static_rnn(cell, tf.zeros([2, 3, 5]))
  assert sorted(v.name for v in cell.trainable_variables) == [
      "model/rnn/multi_rnn_cell/cell_0/lstm_cell/bias:0",
      "model/rnn/multi_rnn_cell/cell_0/lstm_cell/kernel:0",
      "model/rnn/multi_rnn_cell/cell_0/lstm_cell/projection/kernel:0",
      "model/rnn/multi_rnn_cell/cell_1/gru_cell/candidate/bias:0",
      "model/rnn/multi_rnn_cell/cell_1/gru_cell/candidate/kernel:0",
      "model/rnn/multi_rnn_cell/cell_1/gru_cell/gates/bias:0",
      "model/rnn/multi_rnn_cell/cell_1/gru_cell/gates/kernel:0"]
  built = tf_lstm.BasicLSTMCell(2, input_depth=3)        # built outside any scope
  assert sorted(v.name for v in built.trainable_variables) == [
      "basic_lstm_cell/bias:0", "basic_lstm_cell/kernel:0"]


def test_top_level_names():
  for name in ("static_rnn", "dynamic_rnn", "static_bidirectional_rnn",
               "bidirectional_dynamic_rnn", "stack_bidirectional_rnn",
               "stack_bidirectional_dynamic_rnn", "BasicLSTMCell", "LSTMCell", "GRUCell",
               "BasicRNNCell", "MultiRNNCell", "RNNCell", "LSTMStateTuple"):
    assert callable(getattr(tf_lstm, name)), name
  # The modules are not hidden by the functions they define.
  assert importlib.import_module("tf_lstm.unroll.dynamic").dynamic_rnn is tf_lstm.dynamic_rnn
  assert importlib.import_module("tf_lstm.unroll.static").static_rnn is tf_lstm.static_rnn


def test_stack_arguments_are_checked():
  x = [tf.zeros([2, 3])] * 2
  cell = lambda: tf_lstm.BasicLSTMCell(2)   # noqa: E731
  with pytest.raises(ValueError, match="1 forward cells but 2 backward"):
    tf_lstm.stack_bidirectional_rnn([cell()], [cell(), cell()], x)
  with pytest.raises(ValueError, match="initial_states_fw must hold one state per layer"):
    tf_lstm.stack_bidirectional_rnn([cell()], [cell()], x, initial_states_fw=[None, None])
  with pytest.raises(ValueError, match="cells_fw must be a non-empty list"):
    tf_lstm.stack_bidirectional_dynamic_rnn([], [], tf.zeros([2, 2, 3]))


def test_tf1_tensor_shapes():
  """Under ``disable_v2_behavior`` shapes hold ``Dimension``s: depths still read as ints."""
  tf.compat.v1.disable_v2_tensorshape()
  try:
    with tf.Graph().as_default():
      x = tf.compat.v1.placeholder(tf.float32, [None, None, 3])
      with pytest.raises(ValueError, match="time dimension must be known"):
        tf_lstm.static_rnn(tf_lstm.BasicLSTMCell(2), x)
      outputs, _ = tf_lstm.dynamic_rnn(tf_lstm.GRUCell(2), x, dtype=tf.float32)
      assert outputs.shape.as_list() == [None, None, 2]
      steps = tf.unstack(tf.compat.v1.placeholder(tf.float32, [4, 2, 3]), axis=1)
      tf_lstm.static_rnn(tf_lstm.BasicRNNCell(5), steps, dtype=tf.float32)
      assert "rnn/basic_rnn_cell/kernel:0" in {v.name for v in tf.compat.v1.global_variables()}
  finally:
    tf.compat.v1.enable_v2_tensorshape()


@pytest.mark.parametrize("graph", [True, False])
def test_scope_initializer_is_the_default(graph):
  """TF1: variables created without an initializer (kernels) take the enclosing
  variable_scope's; explicit ones (zero biases, GRU's gate biases of one) keep theirs."""
  def build():
    cell = tf_lstm.MultiRNNCell([tf_lstm.BasicLSTMCell(3), tf_lstm.GRUCell(2)])
    with tf.compat.v1.variable_scope("m", initializer=tf.compat.v1.constant_initializer(0.25)):
      tf_lstm.static_rnn(cell, [tf.zeros([2, 4])] * 2)
    return cell.variables

  if graph:
    with tf.Graph().as_default():
      variables = build()
      with tf.compat.v1.Session() as sess:
        sess.run(tf.compat.v1.global_variables_initializer())
        values = dict(zip([v.name for v in variables], sess.run(variables)))
  else:
    values = {v.name: v.numpy() for v in build()}
  expected = {"kernel": 0.25, "basic_lstm_cell/bias": 0.0, "gates/bias": 1.0,
              "candidate/bias": 0.0}
  for name, value in values.items():
    want = [w for k, w in expected.items() if name[:-2].endswith(k)]
    assert len(want) == 1 and np.all(value == want[0]), name   # exact: constants
  assert len(values) == 6
