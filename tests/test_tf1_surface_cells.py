"""The TF1 surface's extra cells and wrappers, against TF1's own implementations.

* Wrappers (``DropoutWrapper``, ``ResidualWrapper``, ``DeviceWrapper``) and a
  user's own TF1 cell (``RNNCell`` subclasses written below): the same
  cell-building source runs with ``rnn`` = ``tf.compat.v1.nn.rnn_cell`` in a
  subprocess with tf-keras (``TF_USE_LEGACY_KERAS=1``; Keras 3 and tf-keras
  never share a process) and with ``rnn`` = ``tf_lstm`` here, under
  ``static_rnn`` in a ``tf.compat.v1`` graph with the same graph seed. The port
  loads TF1's initial weights by name, then outputs, final states, gradients
  (weights and inputs), variable names and shapes must agree; deterministic
  configurations are also run eagerly and in ``tf.function``.
* ``LSTMBlockCell``: against TF1's kernels, still in TF 2.21:
  ``tf.raw_ops.LSTMBlockCell`` / ``LSTMBlockCellGrad`` (one step) and
  ``tf.raw_ops.BlockLSTM`` with its registered gradient (a sequence).
* ``LayerNormBasicLSTMCell``: contrib is gone from TF 2.x, so no TF1
  implementation runs; it is checked against its equations written out in
  NumPy here (forward) and their central differences (gradients).

Tolerance: 1e-5 absolute on values and on gradients scaled by
``max(1, max|g|)`` -- the same float32 ops in a different order (graph vs
eager kernels, fused vs unfused) differ by a few ulp, ~1e-6 at these sizes.
"""

import os
import pickle
import subprocess
import sys

import numpy as np
import pytest
import tensorflow as tf

import tf_lstm

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
B, T, D, N = 3, 4, 5, 5   # D == N: ResidualWrapper's default sum needs it
SEED = 1234               # graph-level seed, both processes
TOL = 1e-5                # see the module docstring


def user_cells(rnn):
  """A user's own TF1 cells, written once against ``rnn.RNNCell`` (TF1's or tf_lstm's)."""

  class ScaledTanhCell(rnn.RNNCell):
    """LayerRNNCell style: variables from ``build`` with ``add_variable``."""

    def __init__(self, num_units, reuse=None, name=None):
      super().__init__(_reuse=reuse, name=name)
      self._num_units = num_units

    @property
    def state_size(self):
      return self._num_units

    @property
    def output_size(self):
      return self._num_units

    def build(self, inputs_shape):
      depth = inputs_shape[-1]
      self._kernel = self.add_variable("kernel", [depth + self._num_units, self._num_units])
      self._scale = self.add_variable(
          "scale", [self._num_units], initializer=tf.compat.v1.constant_initializer(0.5))
      self.built = True

    def call(self, inputs, state):
      h = self._scale * tf.tanh(tf.matmul(tf.concat([inputs, state], 1), self._kernel))
      return h, h

  class GatedSumCell(rnn.RNNCell):
    """The older style: ``get_variable`` inside ``call``, in its own scopes."""

    def __init__(self, num_units):
      super().__init__()
      self._n = num_units

    @property
    def state_size(self):
      return rnn.LSTMStateTuple(self._n, self._n)

    @property
    def output_size(self):
      return self._n

    def call(self, inputs, state):
      c, h = state
      depth = inputs.shape[-1]
      with tf.compat.v1.variable_scope("gate"):
        w = tf.compat.v1.get_variable("kernel", [depth + self._n, self._n])
        b = tf.compat.v1.get_variable("bias", [self._n],
                                      initializer=tf.compat.v1.zeros_initializer())
      with tf.compat.v1.variable_scope("candidate"):
        v = tf.compat.v1.get_variable("kernel", [depth, self._n])
      u = tf.sigmoid(tf.matmul(tf.concat([inputs, h], 1), w) + b)
      new_c = u * c + (1 - u) * tf.tanh(tf.matmul(inputs, v))
      new_h = tf.tanh(new_c)
      return new_h, rnn.LSTMStateTuple(new_c, new_h)

  return type("UserCells", (), {"ScaledTanhCell": ScaledTanhCell, "GatedSumCell": GatedSumCell})


# name -> (cell source with `rnn`, `tf`, `N`, `D`, `keep`, `user`; value fed to
# `keep` (a placeholder in graph mode, a tf.Variable eagerly); deterministic:
# also run eagerly and in tf.function against TF1's graph numbers).
CONFIGS = {
    "dropout_keep_1": (
        "rnn.DropoutWrapper(rnn.BasicLSTMCell(N), 1.0, 1.0, 1.0)", 1.0, True),
    "dropout_keep_fed_1": (
        "rnn.DropoutWrapper(rnn.LSTMCell(N), input_keep_prob=keep, output_keep_prob=keep,"
        " state_keep_prob=keep, seed=3)", 1.0, True),
    "dropout_keep_fed_06": (
        "rnn.DropoutWrapper(rnn.LSTMCell(N), input_keep_prob=keep, output_keep_prob=keep,"
        " state_keep_prob=keep, seed=3)", 0.6, False),
    "dropout_seeded": (
        "rnn.DropoutWrapper(rnn.BasicLSTMCell(N), input_keep_prob=0.7, output_keep_prob=0.6,"
        " state_keep_prob=0.8, seed=5)", None, False),
    "dropout_variational": (
        "rnn.DropoutWrapper(rnn.BasicLSTMCell(N), 0.7, 0.4, 0.8, variational_recurrent=True,"
        " input_size=D, dtype=tf.float32, seed=9)", None, False),
    "dropout_state_filter": (
        "rnn.MultiRNNCell([rnn.DropoutWrapper(rnn.GRUCell(N), state_keep_prob=0.5, seed=3),"
        " rnn.DropoutWrapper(rnn.BasicLSTMCell(N), state_keep_prob=0.5, seed=4,"
        " dropout_state_filter_visitor=lambda s: True)])", None, False),
    "residual": ("rnn.ResidualWrapper(rnn.BasicLSTMCell(N))", None, True),
    "residual_fn": (
        "rnn.ResidualWrapper(rnn.GRUCell(N), residual_fn=lambda i, o: o - 0.5 * i)", None, True),
    "device": ("rnn.DeviceWrapper(rnn.LSTMCell(N, use_peepholes=True), '/cpu:0')", None, True),
    "multi_wrapped": (
        "rnn.MultiRNNCell([rnn.DeviceWrapper(rnn.BasicLSTMCell(N), '/cpu:0'),"
        " rnn.ResidualWrapper(rnn.DropoutWrapper(rnn.BasicLSTMCell(N)))])", None, True),
    "user_build": ("user.ScaledTanhCell(N)", None, True),
    "user_get_variable": ("user.GatedSumCell(N)", None, True),
    "user_in_multi": (
        "rnn.MultiRNNCell([user.ScaledTanhCell(N), rnn.DropoutWrapper(user.GatedSumCell(N))])",
        None, True),
}


def _data():
  rng = np.random.RandomState(0)
  x = rng.normal(size=(B, T, D)).astype(np.float32)
  w = rng.normal(size=(T, B, N)).astype(np.float32)
  return x, w


def _make_cell(rnn, name, keep):
  return eval(CONFIGS[name][0], {"rnn": rnn, "tf": tf, "N": N, "D": D, "keep": keep,  # pylint: disable=eval-used
                                 "user": user_cells(rnn)})


def _loss(outputs, state, w):
  """Every output and every state tensor reaches the loss."""
  loss = tf.add_n([tf.reduce_sum(o * w[t]) for t, o in enumerate(outputs)])
  return loss + tf.add_n([tf.reduce_sum(s * s) for s in tf.nest.flatten(state)])


def _strip(name):
  return name.split(":")[0]


def graph_run(rnn, static_rnn, name, values=None):
  """``name``'s cell under ``static_rnn`` in a fresh ``tf.compat.v1`` graph.

  With ``values`` ({variable name: array}) the variables are loaded from it
  after initialization (the port takes TF1's initial weights).
  """
  x_np, w_np = _data()
  keep_value = CONFIGS[name][1]
  with tf.Graph().as_default():
    tf.compat.v1.set_random_seed(SEED)
    keep = tf.compat.v1.placeholder_with_default(1.0, [])
    cell = _make_cell(rnn, name, keep)
    x = tf.constant(x_np)
    outputs, state = static_rnn(cell, tf.unstack(x, axis=1), dtype=tf.float32)
    loss = _loss(outputs, state, w_np)
    variables = tf.compat.v1.trainable_variables()
    grads = tf.gradients(loss, variables + [x])
    with tf.compat.v1.Session() as sess:
      sess.run(tf.compat.v1.global_variables_initializer())
      if values is not None:
        for v in variables:
          v.load(values[_strip(v.name)], sess)
      feed = None if keep_value is None else {keep: keep_value}
      out, st, vals, gs = sess.run(
          [tf.stack(outputs), tf.nest.flatten(state), variables, grads], feed)
  names = [_strip(v.name) for v in variables]
  return {"outputs": out, "state": st, "names": names,
          "shapes": [tuple(v.shape.as_list()) for v in variables],
          "values": dict(zip(names, vals)), "grads": dict(zip(names, gs[:-1])),
          "grad_x": gs[-1]}


def eager_run(name, values, function):
  """``name``'s tf_lstm cell under ``tf_lstm.static_rnn`` eagerly or in ``tf.function``."""
  x_np, w_np = _data()
  cell = _make_cell(tf_lstm, name, tf.Variable(CONFIGS[name][1] or 1.0))
  x = tf.constant(x_np)

  def forward(x):
    with tf.GradientTape() as tape:
      tape.watch(x)
      outputs, state = tf_lstm.static_rnn(cell, tf.unstack(x, axis=1), dtype=tf.float32)
      loss = _loss(outputs, state, w_np)
    variables = cell.trainable_variables
    grads = tape.gradient(loss, list(variables) + [x])
    return (tf.stack(outputs), tf.nest.flatten(state),
            {_strip(v.name): g for v, g in zip(variables, grads)}, grads[-1])

  if function:
    forward = tf.function(forward)
  forward(x)   # creates the variables
  for v in cell.trainable_variables:
    v.assign(values[_strip(v.name)])
  out, st, grads, grad_x = forward(x)
  return {"outputs": out.numpy(), "state": [s.numpy() for s in st],
          "names": sorted(_strip(v.name) for v in cell.trainable_variables),
          "shapes": {_strip(v.name): tuple(v.shape.as_list()) for v in cell.trainable_variables},
          "grads": {k: g.numpy() for k, g in grads.items()}, "grad_x": grad_x.numpy()}


def reference_main(path):
  """In the tf-keras subprocess: every configuration through TF1's own cells."""
  rnn = tf.compat.v1.nn.rnn_cell
  records = {name: graph_run(rnn, tf.compat.v1.nn.static_rnn, name) for name in CONFIGS}
  with open(path, "wb") as f:
    pickle.dump(records, f)


@pytest.fixture(scope="module")
def tf1(tmp_path_factory):
  """{config: TF1's record}, from one tf-keras subprocess."""
  path = str(tmp_path_factory.mktemp("tf1") / "records.pkl")
  env = dict(os.environ, TF_USE_LEGACY_KERAS="1", TF_CPP_MIN_LOG_LEVEL="2")
  code = ("import sys; from tests.test_tf1_surface_cells import reference_main; "
          "reference_main(sys.argv[1])")
  proc = subprocess.run([sys.executable, "-c", code, path], cwd=ROOT, env=env,
                        capture_output=True, text=True, timeout=600)
  assert proc.returncode == 0, proc.stderr[-4000:]
  with open(path, "rb") as f:
    return pickle.load(f)


def scaled_diff(a, b):
  a, b = np.asarray(a), np.asarray(b)
  assert a.shape == b.shape, (a.shape, b.shape)
  return float(np.abs(a - b).max() / max(1.0, float(np.abs(b).max())))


def assert_matches(port, ref, sorted_names=False):
  """Outputs, states, gradients within TOL; the same variable names and shapes."""
  if sorted_names:
    assert port["names"] == sorted(ref["names"])
    assert port["shapes"] == dict(zip(ref["names"], ref["shapes"]))
  else:
    assert port["names"] == ref["names"]
    assert port["shapes"] == ref["shapes"]
  assert np.abs(port["outputs"] - ref["outputs"]).max() <= TOL
  assert len(port["state"]) == len(ref["state"])
  for a, b in zip(port["state"], ref["state"]):
    assert np.abs(a - b).max() <= TOL
  errors = {n: scaled_diff(port["grads"][n], ref["grads"][n]) for n in ref["names"]}
  assert max(errors.values()) <= TOL, errors
  assert scaled_diff(port["grad_x"], ref["grad_x"]) <= TOL


@pytest.mark.parametrize("name", list(CONFIGS))
def test_graph_mode_matches_tf1(tf1, name):
  ref = tf1[name]
  assert ref["names"] and all(np.abs(g).max() > 0 for g in ref["grads"].values())
  port = graph_run(tf_lstm, tf_lstm.static_rnn, name, values=ref["values"])
  assert_matches(port, ref)
  if name in ("dropout_keep_fed_06", "dropout_seeded", "dropout_variational"):
    # Output dropout ran: the same outputs are exactly zero on both sides.
    zeros = ref["outputs"] == 0
    assert zeros.any() and np.array_equal(port["outputs"] == 0, zeros)
    if name == "dropout_variational":   # TF1's one [1, N] mask: whole units, every step
      assert np.array_equal(zeros.all(axis=(0, 1)), zeros.any(axis=(0, 1)))


@pytest.mark.parametrize("function", [False, True], ids=["eager", "tf_function"])
@pytest.mark.parametrize("name", [n for n, c in CONFIGS.items() if c[2]])
def test_eager_and_function_match_tf1(tf1, name, function):
  ref = tf1[name]
  port = eager_run(name, ref["values"], function)
  assert_matches(port, ref, sorted_names=True)
