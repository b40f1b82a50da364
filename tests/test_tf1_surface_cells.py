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

  class Tf10Cell(rnn.RNNCell):
    """TF 1.0 style: no ``super().__init__()``, ``__call__`` itself, ``get_variable``."""

    def __init__(self, num_units):   # pylint: disable=super-init-not-called
      self._n = num_units

    @property
    def state_size(self):
      return self._n

    @property
    def output_size(self):
      return self._n

    def __call__(self, inputs, state, scope=None):
      with tf.compat.v1.variable_scope(scope or type(self).__name__):
        w = tf.compat.v1.get_variable("W", [inputs.shape[-1] + self._n, self._n])
        b = tf.compat.v1.get_variable("b", [self._n],
                                      initializer=tf.compat.v1.constant_initializer(0.1))
        h = tf.tanh(tf.matmul(tf.concat([inputs, state], 1), w) + b)
      return h, h

  return type("UserCells", (), {"ScaledTanhCell": ScaledTanhCell, "GatedSumCell": GatedSumCell,
                                "Tf10Cell": Tf10Cell})


# name -> (cell source with `rnn`, `tf`, `N`, `D`, `keep`, `user`; value fed to
# `keep` (a placeholder in graph mode, a tf.Variable eagerly); deterministic:
# also run eagerly and in tf.function against TF1's graph numbers). Names
# ending in _dynamic unroll with dynamic_rnn, the others with static_rnn.
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
    "dropout_variational_dynamic": (   # masks drawn outside tf.while_loop, kept inside
        "rnn.DropoutWrapper(rnn.GRUCell(N), 0.7, 0.4, 0.8, variational_recurrent=True,"
        " input_size=D, dtype=tf.float32, seed=9)", None, False),
    "user_get_variable_dynamic": ("user.GatedSumCell(N)", None, True),
    "user_in_multi": (
        "rnn.MultiRNNCell([user.ScaledTanhCell(N), rnn.DropoutWrapper(user.GatedSumCell(N))])",
        None, True),
    # [cell] * 2: TF 1.2-1.15 share the one cell's weights (cell_0/ only).
    "multi_same_cell": ("rnn.MultiRNNCell([rnn.BasicLSTMCell(N)] * 2)", None, True),
    # TF 1.0 cells (graph programs only): static_rnn reuses its scope after step 0,
    # MultiRNNCell calls layer k under multi_rnn_cell/cell_<k>/.
    "user_tf10": ("user.Tf10Cell(N)", None, False),
    "user_tf10_in_multi": (
        "rnn.MultiRNNCell([user.Tf10Cell(N), rnn.BasicLSTMCell(N)], state_is_tuple=True)",
        None, False),
    "user_tf10_in_multi_dynamic": (
        "rnn.MultiRNNCell([user.Tf10Cell(N), user.Tf10Cell(N)])", None, False),
}


def _data():
  rng = np.random.RandomState(0)
  x = rng.normal(size=(B, T, D)).astype(np.float32)
  w = rng.normal(size=(T, B, N)).astype(np.float32)
  return x, w


def _make_cell(rnn, name, keep):
  namespace = {"rnn": rnn, "tf": tf, "N": N, "D": D, "keep": keep, "user": user_cells(rnn)}
  return eval(CONFIGS[name][0], namespace)  # pylint: disable=eval-used


def _loss(outputs, state, w):
  """Every output and every state tensor reaches the loss."""
  loss = tf.add_n([tf.reduce_sum(o * w[t]) for t, o in enumerate(outputs)])
  return loss + tf.add_n([tf.reduce_sum(s * s) for s in tf.nest.flatten(state)])


def _strip(name):
  return name.split(":")[0]


def _unroll(nn, cell, x, name):
  """``nn.static_rnn`` (or ``nn.dynamic_rnn`` for a ``_dynamic`` config): a list of outputs."""
  if name.endswith("_dynamic"):
    outputs, state = nn.dynamic_rnn(cell, x, dtype=tf.float32)
    return tf.unstack(outputs, axis=1), state
  return nn.static_rnn(cell, tf.unstack(x, axis=1), dtype=tf.float32)


def graph_run(rnn, nn, name, values=None):
  """``name``'s cell (from module ``rnn``) unrolled by ``nn`` in a fresh ``tf.compat.v1`` graph.

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
    outputs, state = _unroll(nn, cell, x, name)
    try:   # the cell's own list, in TF1's order (a TF 1.0 cell without __init__ has none)
      cell_names = [_strip(v.name) for v in cell.trainable_weights]
    except AttributeError:
      cell_names = None
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
  return {"outputs": out, "state": st, "names": names, "cell_names": cell_names,
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
      outputs, state = _unroll(tf_lstm, cell, x, name)
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


def arguments_run(rnn):
  """TF1's constructor and call arguments in a graph: the variables they make.

  Positional arguments in TF1's order, ``activation=None``, ``initializer`` /
  ``kernel_initializer`` / ``bias_initializer``, ``dtype``, ``name``, the
  cell's ``reuse=True`` and ``scope=`` on the building call.  Returns
  ``[(name, dtype, shape, min, max)]`` (min/max of the constant-initialized
  variables, else None) and the cells' outputs.
  """
  const = tf.compat.v1.constant_initializer
  with tf.Graph().as_default():
    tf.compat.v1.set_random_seed(SEED)
    x = tf.constant(_data()[0][:, 0])
    lstm = rnn.BasicLSTMCell(N, 0.5, True, None, None)
    out = [lstm(x, lstm.zero_state(B, tf.float32), scope="my_lstm")[0],
           lstm(x, lstm.zero_state(B, tf.float32))[0]]   # built: no new variables
    with tf.compat.v1.variable_scope("shared"):
      gru = rnn.GRUCell(N, None, None, const(0.3), const(0.2))
      out.append(gru(x, gru.zero_state(B, tf.float32))[0])
    with tf.compat.v1.variable_scope("shared"):
      again = rnn.GRUCell(N, reuse=True)
      out.append(again(x, again.zero_state(B, tf.float32))[0])
    proj = rnn.LSTMCell(N, False, None, const(0.1), 3, None, None, None, 1.0, True, None, None,
                        "proj_lstm", tf.float64)
    out.append(tf.cast(proj(tf.cast(x, tf.float64), proj.zero_state(B, tf.float64))[0],
                       tf.float32))
    variables = tf.compat.v1.global_variables()
    with tf.compat.v1.Session() as sess:
      sess.run(tf.compat.v1.global_variables_initializer())
      values, outputs = sess.run([variables, out])
  constant = ("shared/", "proj_lstm/")
  return [(_strip(v.name), v.dtype.base_dtype.name, tuple(v.shape.as_list()),
           *((float(a.min()), float(a.max())) if v.name.startswith(constant) else (None, None)))
          for v, a in zip(variables, values)], outputs


def reference_main(path):
  """In the tf-keras subprocess: every configuration through TF1's own cells."""
  rnn = tf.compat.v1.nn.rnn_cell
  records = {name: graph_run(rnn, tf.compat.v1.nn, name) for name in CONFIGS}
  records["arguments"] = arguments_run(rnn)
  records["rnn_cell names"] = sorted(n for n in dir(rnn) if not n.startswith("_"))
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


def test_every_tf1_rnn_cell_name_is_in_tf_lstm(tf1):
  """What ``tf.compat.v1.nn.rnn_cell`` exports (TF1's ``tf.nn.rnn_cell``), plus contrib's cells."""
  names = tf1["rnn_cell names"]
  assert {"BasicLSTMCell", "DropoutWrapper", "LSTMStateTuple", "RNNCell"} <= set(names)
  missing = [n for n in names + ["LSTMBlockCell", "LayerNormBasicLSTMCell", "LayerRNNCell"]
             if not hasattr(tf_lstm, n)]
  assert not missing


# multi_same_cell's sharing warning is asserted in tests/test_cells.py.
SHARED_CELL_WARNING = "ignore:MultiRNNCell. the same cell object:UserWarning"


@pytest.mark.filterwarnings(SHARED_CELL_WARNING)
@pytest.mark.parametrize("name", list(CONFIGS))
def test_graph_mode_matches_tf1(tf1, name):
  ref = tf1[name]
  assert ref["names"] and all(np.abs(g).max() > 0 for g in ref["grads"].values())
  port = graph_run(tf_lstm, tf_lstm, name, values=ref["values"])
  if name == "user_tf10_in_multi":
    # TF1 makes variables in call order; tf_lstm builds its own cells when the
    # stack is built, before the TF 1.0 cell's first call: same set, other order.
    order = [port["names"].index(n) for n in ref["names"]]
    port["names"], port["shapes"] = ref["names"], [port["shapes"][i] for i in order]
  assert_matches(port, ref)
  if ref["cell_names"]:
    # cell.trainable_weights in TF1's order. TF1 lists a variable once per layer that
    # holds it (multi_same_cell) and nothing inside a wrapper; tf_lstm each variable once.
    tf1_names = list(dict.fromkeys(ref["cell_names"]))
    assert [n for n in port["cell_names"] if n in tf1_names] == tf1_names
  if name in ("dropout_keep_fed_06", "dropout_seeded", "dropout_variational",
              "dropout_variational_dynamic"):
    # Output dropout ran: the same outputs are exactly zero on both sides.
    zeros = ref["outputs"] == 0
    assert zeros.any() and np.array_equal(port["outputs"] == 0, zeros)
    if "variational" in name:   # TF1's one [1, N] mask: whole units, every step
      assert np.array_equal(zeros.all(axis=(0, 1)), zeros.any(axis=(0, 1)))


def test_tf1_constructor_and_call_arguments_match_tf1(tf1):
  ref_variables, ref_outputs = tf1["arguments"]
  variables, outputs = arguments_run(tf_lstm)
  assert [v[0] for v in ref_variables] == [
      "my_lstm/kernel", "my_lstm/bias", "shared/gru_cell/gates/kernel",
      "shared/gru_cell/gates/bias", "shared/gru_cell/candidate/kernel",
      "shared/gru_cell/candidate/bias", "proj_lstm/kernel", "proj_lstm/bias",
      "proj_lstm/projection/kernel"]
  assert variables == ref_variables
  for a, b in zip(outputs[2:], ref_outputs[2:]):   # the constant-initialized cells
    assert np.abs(a - b).max() <= TOL
  assert np.array_equal(outputs[0], outputs[1]) and outputs[0].shape == (B, N)


def test_tf1_arguments_not_supported_say_so():
  with pytest.raises(ValueError, match="state_is_tuple=False"):
    tf_lstm.BasicLSTMCell(N, state_is_tuple=False)
  with pytest.raises(ValueError, match="state_is_tuple=False"):
    tf_lstm.MultiRNNCell([tf_lstm.GRUCell(N)], False)
  cell = tf_lstm.LSTMCell(N, num_unit_shards=2, num_proj_shards=2)   # storage only in TF1
  cell.build(D)
  assert sorted(tuple(v.shape) for v in cell.trainable_variables) == [(D + N, 4 * N), (4 * N,)]


def test_sharded_lstm_checkpoint_restores_into_one_variable(tmp_path):
  """TF1's LSTMCell(num_unit_shards=2) saved its kernel in slices (fixed_size_partitioner)."""
  path = str(tmp_path / "sharded.ckpt")
  with tf.Graph().as_default():
    with tf.compat.v1.variable_scope(
        "rnn/lstm_cell", partitioner=tf.compat.v1.fixed_size_partitioner(2)):
      kernel = tf.compat.v1.get_variable("kernel", [D + N, 4 * N])
    with tf.compat.v1.variable_scope("rnn/lstm_cell"):
      bias = tf.compat.v1.get_variable("bias", [4 * N],
                                       initializer=tf.compat.v1.random_normal_initializer())
    with tf.compat.v1.Session() as sess:
      sess.run(tf.compat.v1.global_variables_initializer())
      saved = sess.run([tf.convert_to_tensor(kernel), bias])
      tf.compat.v1.train.Saver().save(sess, path)
  assert len(kernel) == 2   # two parts in TF1's graph
  with tf.Graph().as_default():
    cell = tf_lstm.LSTMCell(N, num_unit_shards=2)
    tf_lstm.static_rnn(cell, [tf.zeros([B, D])], dtype=tf.float32)
    with tf.compat.v1.Session() as sess:
      tf.compat.v1.train.Saver().restore(sess, path)
      restored = sess.run([cell.kernel, cell.bias])
  for a, b in zip(restored, saved):
    np.testing.assert_array_equal(a, b)


# Every deterministic configuration eagerly; in tf.function those where tracing
# changes something (a variable keep, nesting, devices, get_variable in call).
TRACED = ("dropout_keep_fed_1", "multi_wrapped", "device", "residual_fn", "user_in_multi")


@pytest.mark.filterwarnings(SHARED_CELL_WARNING)
@pytest.mark.parametrize("name,function", [
    (n, f) for n, c in CONFIGS.items() if c[2] for f in (False, True) if not f or n in TRACED])
def test_eager_and_function_match_tf1(tf1, name, function):
  ref = tf1[name]
  port = eager_run(name, ref["values"], function)
  assert_matches(port, ref, sorted_names=True)


# ---------------------------------------------------------------------------
# Any cell, in the three modes, with weights given by name.

MODES = ("eager", "tf_function", "graph")


def in_mode(mode, build, forward, weights):
  """Runs ``forward(build())`` eagerly, in ``tf.function`` or in a ``tf.compat.v1`` graph.

  The cell's variables are set to ``weights(name, shape)`` after the first
  (building) call; returns ``forward``'s structure as NumPy.
  """
  if mode == "graph":
    with tf.Graph().as_default():
      cell = build()
      out = forward(cell)
      with tf.compat.v1.Session() as sess:
        sess.run(tf.compat.v1.global_variables_initializer())
        for v in cell.trainable_variables:
          v.load(weights(_strip(v.name), v.shape), sess)
        return sess.run(out), cell
  cell = build()
  fn = (lambda: forward(cell)) if mode == "eager" else tf.function(lambda: forward(cell))
  fn()
  for v in cell.trainable_variables:
    v.assign(weights(_strip(v.name), v.shape))
  return tf.nest.map_structure(np.asarray, fn()), cell


def random_weights(scale=0.5):
  """name -> a fixed random array (the same in every mode)."""
  cache = {}

  def weights(name, shape):
    if name not in cache:
      rng = np.random.RandomState(sum(map(ord, name)))
      cache[name] = (scale * rng.normal(size=tuple(shape))).astype(np.float32)
    return cache[name]

  return weights


# ---------------------------------------------------------------------------
# LSTMBlockCell against TF1's kernels.

# (use_peephole, cell_clip, modes): every option eagerly, two in every mode.
BLOCK_CONFIGS = [(False, None, MODES), (True, None, ("eager",)), (True, 0.5, MODES),
                 (False, 0.3, ("eager",))]


@pytest.mark.parametrize("use_peephole,cell_clip,mode", [
    (p, c, m) for p, c, modes in BLOCK_CONFIGS for m in modes])
def test_lstm_block_cell_matches_block_lstm(mode, use_peephole, cell_clip):
  """Over 5 steps: outputs, final state and every gradient equal ``BlockLSTM``'s.

  With ``cell_clip`` the clip binds (weights scaled up) and the gradient is
  the kernel's, which passes through the clip.
  """
  rng = np.random.RandomState(3)
  steps, forget_bias = 5, 0.7
  x_np = rng.normal(size=(steps, B, D)).astype(np.float32)
  c_np, h_np = (rng.normal(size=(B, N)).astype(np.float32) for _ in range(2))
  w_out = np.cos(np.arange(steps * B * N)).reshape(steps, B, N).astype(np.float32)

  def forward(cell):
    x, c0, h0 = tf.constant(x_np), tf.constant(c_np), tf.constant(h_np)
    with tf.GradientTape(persistent=True) as tape:
      tape.watch([x, c0, h0])
      outputs, state = tf_lstm.static_rnn(cell, tf.unstack(x),
                                          initial_state=tf_lstm.LSTMStateTuple(c0, h0))
      zeros = tf.zeros([N])
      peepholes = ((cell.w_i_diag, cell.w_f_diag, cell.w_o_diag) if use_peephole
                   else (zeros, zeros, zeros))
      op = tf.raw_ops.BlockLSTM(
          seq_len_max=tf.constant(steps, tf.int64), x=x, cs_prev=c0, h_prev=h0,
          w=cell.kernel, wci=peepholes[0], wcf=peepholes[1], wco=peepholes[2], b=cell.bias,
          forget_bias=forget_bias, cell_clip=-1.0 if cell_clip is None else cell_clip,
          use_peephole=use_peephole)
      port_loss = tf.reduce_sum(tf.stack(outputs) * w_out) + tf.reduce_sum(state.c ** 2)
      op_loss = tf.reduce_sum(op.h * w_out) + tf.reduce_sum(op.cs[-1] ** 2)
    sources = [x, c0, h0] + [v for v in cell.trainable_variables]
    return {"port": (tf.stack(outputs), state.c, tape.gradient(port_loss, sources)),
            "op": (op.h, op.cs[-1], tape.gradient(op_loss, sources)),
            "clipped": tf.reduce_max(tf.abs(op.cs))}

  build = lambda: tf_lstm.LSTMBlockCell(N, forget_bias=forget_bias, cell_clip=cell_clip,
                                        use_peephole=use_peephole)
  out, cell = in_mode(mode, build, forward, random_weights(scale=1.5))
  (h, c, grads), (op_h, op_c, op_grads) = out["port"], out["op"]
  assert np.abs(h - op_h).max() <= TOL and np.abs(c - op_c).max() <= TOL
  for g, op_g in zip(grads, op_grads):
    assert scaled_diff(g, op_g) <= TOL
  if cell_clip is not None:
    assert out["clipped"] == np.float32(cell_clip)    # the clip was in play
  names = {_strip(v.name): tuple(v.shape) for v in cell.trainable_variables}
  want = {"rnn/lstm_cell/kernel": (D + N, 4 * N), "rnn/lstm_cell/bias": (4 * N,)}
  if use_peephole:
    want.update({f"rnn/lstm_cell/w_{g}_diag": (N,) for g in "ifo"})
  assert names == want


def test_lstm_block_cell_one_step_matches_op_and_its_gradient():
  """One step against ``LSTMBlockCell`` and ``LSTMBlockCellGrad`` (contrib's gradient)."""
  rng = np.random.RandomState(4)
  cell = tf_lstm.LSTMBlockCell(N, forget_bias=0.3, cell_clip=0.6, use_peephole=True)
  cell.build(D)
  for v in cell.trainable_variables:
    v.assign(1.5 * rng.normal(size=v.shape).astype(np.float32))
  x, c, h, dh, dc = (tf.constant(rng.normal(size=s).astype(np.float32))
                     for s in [(B, D), (B, N), (B, N), (B, N), (B, N)])
  with tf.GradientTape() as tape:
    tape.watch([x, c, h])
    out, state = cell(x, tf_lstm.LSTMStateTuple(c, h))
  sources = [x, c, h, cell.kernel, cell.bias, cell.w_i_diag, cell.w_f_diag, cell.w_o_diag]
  grads = tape.gradient([state.c, state.h], sources, output_gradients=[dc, dh])
  peep = dict(wci=cell.w_i_diag, wcf=cell.w_f_diag, wco=cell.w_o_diag)
  op = tf.raw_ops.LSTMBlockCell(x=x, cs_prev=c, h_prev=h, w=cell.kernel, b=cell.bias,
                                forget_bias=0.3, cell_clip=0.6, use_peephole=True, **peep)
  assert np.abs(state.c - op.cs).max() <= TOL and np.abs(out - op.h).max() <= TOL
  assert np.abs(op.cs).max() == np.float32(0.6)
  back = tf.raw_ops.LSTMBlockCellGrad(
      x=x, cs_prev=c, h_prev=h, w=cell.kernel, b=cell.bias, i=op.i, cs=op.cs, f=op.f,
      o=op.o, ci=op.ci, co=op.co, cs_grad=dc, h_grad=dh, use_peephole=True, **peep)
  xh_grad = tf.matmul(back.dicfo, cell.kernel, transpose_b=True)
  want = [xh_grad[:, :D], back.cs_prev_grad, xh_grad[:, D:],
          tf.matmul(tf.concat([x, h], 1), back.dicfo, transpose_a=True),
          tf.reduce_sum(back.dicfo, 0), back.wci_grad, back.wcf_grad, back.wco_grad]
  for g, w in zip(grads, want):
    assert scaled_diff(g, w) <= TOL


def test_lstm_block_cell_options():
  cell = tf_lstm.LSTMBlockCell(4)
  assert (cell.name, cell.state_size, cell.output_size) == (
      "lstm_cell", tf_lstm.LSTMStateTuple(4, 4), 4)
  half = tf_lstm.LSTMBlockCell(4, dtype=tf.float16, input_depth=3)
  assert {v.dtype for v in half.trainable_variables} == {tf.float16}
  with pytest.raises(ValueError, match="float16 or float32"):
    tf_lstm.LSTMBlockCell(4, dtype=tf.float64)


# ---------------------------------------------------------------------------
# LayerNormBasicLSTMCell against its equations in NumPy (no TF1 implementation
# runs in TF 2.x: contrib is gone).

GATE_SCOPES = ("input", "transform", "forget", "output", "state")


def np_layer_norm(x, gamma, beta):
  mean = x.mean(1, keepdims=True)
  var = ((x - mean) ** 2).mean(1, keepdims=True)
  return (x - mean) / np.sqrt(var + 1e-12) * gamma + beta


def np_layer_norm_lstm(xs, c, h, w, forget_bias, layer_norm):
  """contrib's equations over the steps of ``xs`` ``[T, B, D]`` (float64)."""
  sig = lambda z: 1 / (1 + np.exp(-z))
  outputs = []
  for x in xs:
    z = np.concatenate([x, h], 1) @ w["kernel"]
    if not layer_norm:
      z = z + w["bias"]
    i, j, f, o = np.split(z, 4, axis=1)
    if layer_norm:
      i, j, f, o = (np_layer_norm(g, w[f"{s}/gamma"], w[f"{s}/beta"])
                    for g, s in zip((i, j, f, o), GATE_SCOPES))
    c = c * sig(f + forget_bias) + sig(i) * np.tanh(j)
    if layer_norm:
      c = np_layer_norm(c, w["state/gamma"], w["state/beta"])
    h = np.tanh(c) * sig(o)
    outputs.append(h)
  return np.stack(outputs), c, h


def _ln_weights(layer_norm):
  rng = np.random.RandomState(5)
  w = {"kernel": rng.normal(size=(D + N, 4 * N))}
  if layer_norm:
    for s in GATE_SCOPES:
      w[f"{s}/gamma"] = 1 + 0.3 * rng.normal(size=N)
      w[f"{s}/beta"] = 0.3 * rng.normal(size=N)
  else:
    w["bias"] = rng.normal(size=4 * N)
  return w


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("layer_norm", [True, False])
def test_layer_norm_lstm_matches_numpy(mode, layer_norm):
  rng = np.random.RandomState(6)
  xs = rng.normal(size=(T, B, D))
  c0, h0 = rng.normal(size=(B, N)), rng.normal(size=(B, N))
  w = _ln_weights(layer_norm)
  prefix = "rnn/layer_norm_basic_lstm_cell/"

  def forward(cell):
    outputs, state = tf_lstm.static_rnn(
        cell, [tf.constant(x, tf.float32) for x in xs],
        initial_state=tf_lstm.LSTMStateTuple(tf.constant(c0, tf.float32),
                                             tf.constant(h0, tf.float32)))
    return tf.stack(outputs), state

  out, cell = in_mode(mode, lambda: tf_lstm.LayerNormBasicLSTMCell(N, forget_bias=0.5,
                                                                    layer_norm=layer_norm),
                      forward, lambda name, shape: w[name[len(prefix):]].astype(np.float32))
  want_out, want_c, want_h = np_layer_norm_lstm(xs, c0, h0, w, 0.5, layer_norm)
  assert np.abs(out[0] - want_out).max() <= TOL
  assert np.abs(out[1].c - want_c).max() <= TOL and np.abs(out[1].h - want_h).max() <= TOL
  assert {_strip(v.name): tuple(v.shape) for v in cell.trainable_variables} == {
      prefix + k: v.shape for k, v in w.items()}


def test_layer_norm_lstm_gradients_match_numpy_differences():
  """Every weight's gradient against central differences of the NumPy equations."""
  rng = np.random.RandomState(7)
  xs = rng.normal(size=(T, B, D))
  c0, h0 = rng.normal(size=(B, N)), rng.normal(size=(B, N))
  w = _ln_weights(True)
  w_out = rng.normal(size=(T, B, N))
  cell = tf_lstm.LayerNormBasicLSTMCell(N, forget_bias=0.5, input_depth=D)
  named = {_strip(v.name)[len("layer_norm_basic_lstm_cell/"):]: v
           for v in cell.trainable_variables}
  for k, v in named.items():
    v.assign(w[k].astype(np.float32))
  with tf.GradientTape() as tape:
    outputs, state = tf_lstm.static_rnn(
        cell, [tf.constant(x, tf.float32) for x in xs],
        initial_state=tf_lstm.LSTMStateTuple(tf.constant(c0, tf.float32),
                                             tf.constant(h0, tf.float32)))
    loss = tf.reduce_sum(tf.stack(outputs) * w_out) + tf.reduce_sum(state.c ** 2)
  grads = dict(zip(named, tape.gradient(loss, list(named.values()))))

  def np_loss(weights):
    out, c, _ = np_layer_norm_lstm(xs, c0, h0, weights, 0.5, True)
    return float((out * w_out).sum() + (c ** 2).sum())

  eps = 1e-6   # float64 central differences: truncation ~eps^2, rounding ~1e-16/eps
  for k, g in grads.items():
    numeric = np.zeros_like(w[k])
    for idx in np.ndindex(w[k].shape):
      plus, minus = dict(w), dict(w)
      plus[k], minus[k] = w[k].copy(), w[k].copy()
      plus[k][idx] += eps
      minus[k][idx] -= eps
      numeric[idx] = (np_loss(plus) - np_loss(minus)) / (2 * eps)
    # float32 gradients of a float64 function: measured <= 5e-7 scaled, so
    # the file's TOL holds with room.
    assert scaled_diff(g, numeric) <= TOL, k


def test_layer_norm_lstm_without_norm_is_basic_lstm_and_dropout_follows_keep_prob():
  rng = np.random.RandomState(8)
  x = tf.constant(rng.normal(size=(B, D)).astype(np.float32))
  state = tf_lstm.LSTMStateTuple(*(tf.constant(rng.normal(size=(B, N)).astype(np.float32))
                                   for _ in range(2)))
  keep = tf.Variable(1.0)
  plain = tf_lstm.LayerNormBasicLSTMCell(N, layer_norm=False, input_depth=D)
  dropped = tf_lstm.LayerNormBasicLSTMCell(N, layer_norm=False, dropout_keep_prob=keep,
                                           input_depth=D)
  basic = tf_lstm.BasicLSTMCell(N, input_depth=D)
  for a, b, c in zip(plain.trainable_variables, dropped.trainable_variables,
                     basic.trainable_variables):
    b.assign(a)
    c.assign(a)
  assert len(dropped.trainable_variables) == 2          # the keep variable is not a weight
  want = basic(x, state)[0].numpy()
  # Exact by construction: the same eager ops (lstm_step) on the same values.
  np.testing.assert_array_equal(plain(x, state)[0].numpy(), want)
  np.testing.assert_array_equal(dropped(x, state)[0].numpy(), want)
  keep.assign(0.5)
  assert np.abs(dropped(x, state)[0].numpy() - want).max() > 1e-3


# ---------------------------------------------------------------------------
# DropoutWrapper: when masks are drawn, and how training is switched off.

def _dropped_units(outputs):
  """[B, T, units] -> per (row, step) the set of units exactly zero."""
  zeros = np.asarray(outputs) == 0
  return zeros.reshape(-1, zeros.shape[-1])


def test_variational_masks_one_per_run_in_tf_function_and_while_loop():
  """Inside ``dynamic_rnn``'s ``tf.while_loop``: one mask for all steps and rows
  (TF1's ``[1, N]`` noise); the next call of the function draws a new one."""
  units = 64   # two independent masks of 64 units at keep 0.5 agree with chance 2^-64
  cell = tf_lstm.DropoutWrapper(tf_lstm.BasicRNNCell(units), output_keep_prob=0.5,
                                variational_recurrent=True, dtype=tf.float32)
  x = tf.constant(np.random.RandomState(9).normal(size=(B, 6, D)).astype(np.float32))
  run = tf.function(lambda x: tf_lstm.dynamic_rnn(cell, x, dtype=tf.float32)[0])
  first, second = _dropped_units(run(x)), _dropped_units(run(x))
  for zeros in (first, second):
    assert zeros.any() and (zeros == zeros[0]).all()    # the same units, every row and step
  assert not np.array_equal(first[0], second[0])        # a new run, a new mask


def test_variational_masks_eagerly_last_until_the_next_zero_state():
  units = 64   # inputs too: over 5 inputs, a mask dropping all (chance 1/32) zeroes every output
  cell = tf_lstm.DropoutWrapper(tf_lstm.BasicRNNCell(units), input_keep_prob=0.5,
                                output_keep_prob=0.5, variational_recurrent=True,
                                input_size=units, dtype=tf.float32)
  x = tf.constant(np.random.RandomState(10).normal(size=(B, 4, units)).astype(np.float32))
  first = _dropped_units(tf.stack(tf_lstm.static_rnn(cell, x)[0], 1))
  second = _dropped_units(tf.stack(tf_lstm.static_rnn(cell, x)[0], 1))
  assert (first == first[0]).all() and (second == second[0]).all()
  assert not np.array_equal(first[0], second[0])


def test_dropout_fresh_mask_per_step_without_seed():
  units = 64
  cell = tf_lstm.DropoutWrapper(tf_lstm.BasicRNNCell(units), output_keep_prob=0.5)
  x = tf.constant(np.random.RandomState(11).normal(size=(1, 3, D)).astype(np.float32))
  zeros = _dropped_units(tf.stack(tf_lstm.static_rnn(cell, x)[0], 1))
  assert zeros.any() and not (zeros == zeros[0]).all()


@pytest.mark.parametrize("variational", [False, True])
def test_keep_prob_variable_switches_training_in_one_traced_function(variational):
  """Evaluation is the keep probability set to 1, no retrace: outputs equal the bare cell's."""
  keep = tf.Variable(0.5)
  # Unseeded: a variational mask over 5 units would keep them all with chance
  # 1/32 (a flaky test); over 64, 2^-64.
  inner = tf_lstm.BasicLSTMCell(64)
  cell = tf_lstm.DropoutWrapper(inner, input_keep_prob=keep, output_keep_prob=keep,
                                state_keep_prob=keep, variational_recurrent=variational,
                                input_size=D, dtype=tf.float32)
  x = tf.constant(np.random.RandomState(12).normal(size=(B, T, D)).astype(np.float32))
  wrapped = tf.function(lambda: tf.stack(tf_lstm.static_rnn(cell, x)[0]))
  bare = tf.function(lambda: tf.stack(tf_lstm.static_rnn(inner, x)[0]))
  training = wrapped().numpy()
  traces = wrapped.experimental_get_tracing_count()
  assert (training == 0).any()
  keep.assign(1.0)
  # Keep 1 multiplies by exactly 1; two graphs may still fuse the LSTM ops
  # differently, so a few ulp apart at most.
  assert np.abs(wrapped().numpy() - bare().numpy()).max() <= TOL
  assert wrapped.experimental_get_tracing_count() == traces          # the same graph
  assert len(cell.variables) == 2     # kernel and bias: the keep is no weight


def test_keep_prob_variable_exports_in_a_saved_model(tmp_path):
  keep = tf.Variable(0.5)
  module = tf.Module()
  module.cell = tf_lstm.DropoutWrapper(tf_lstm.LayerNormBasicLSTMCell(N, dropout_keep_prob=keep),
                                       output_keep_prob=keep)
  module.run = tf.function(lambda x: tf.stack(tf_lstm.static_rnn(module.cell, x)[0], 1),
                           input_signature=[tf.TensorSpec([None, T, D])])
  x = tf.constant(np.random.RandomState(14).normal(size=(B, T, D)).astype(np.float32))
  keep.assign(1.0)   # evaluation: exact, so the loaded model must give the same numbers
  want = module.run(x).numpy()
  tf.saved_model.save(module, str(tmp_path / "model"))
  loaded = tf.saved_model.load(str(tmp_path / "model"))
  # The same function, reloaded: at most a few ulp apart (it may be optimized anew).
  assert np.abs(loaded.run(x).numpy() - want).max() <= TOL


def test_wrapper_errors():
  lstm = tf_lstm.BasicLSTMCell(N)
  with pytest.raises(ValueError, match="output_keep_prob must be in"):
    tf_lstm.DropoutWrapper(lstm, output_keep_prob=1.5)
  with pytest.raises(ValueError, match="needs dtype"):
    tf_lstm.DropoutWrapper(lstm, output_keep_prob=0.5, variational_recurrent=True)
  with pytest.raises(ValueError, match="needs input_size"):
    tf_lstm.DropoutWrapper(lstm, input_keep_prob=0.5, variational_recurrent=True,
                           dtype=tf.float32)
  with pytest.raises(TypeError, match="must be callable"):
    tf_lstm.DropoutWrapper(lstm, dropout_state_filter_visitor=3)
  with pytest.raises(TypeError, match="must be an RNNCell"):
    tf_lstm.ResidualWrapper("lstm")
  with pytest.raises(ValueError, match="outputs shaped like the inputs"):
    tf_lstm.ResidualWrapper(tf_lstm.BasicLSTMCell(N + 1))(
        tf.zeros([B, N]), tf_lstm.BasicLSTMCell(N + 1).zero_state(B))


def test_device_wrapper_places_the_step_and_the_variables():
  with tf.Graph().as_default():
    cell = tf_lstm.DeviceWrapper(tf_lstm.BasicLSTMCell(N), "/device:CPU:0")
    tf_lstm.static_rnn(cell, [tf.zeros([B, D])], dtype=tf.float32)
    ops = tf.compat.v1.get_default_graph().get_operations()
    matmuls = [op for op in ops if op.type == "MatMul"]
    assert matmuls and all("CPU:0" in op.device for op in matmuls)
    assert all("CPU:0" in v.device for v in cell.trainable_variables)


# ---------------------------------------------------------------------------
# A user's TF1 cell: TF1's RNNCell surface.

@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("cell_name", ["ScaledTanhCell", "GatedSumCell"])
def test_user_cell_under_dynamic_rnn_equals_static_rnn(mode, cell_name):
  """Built before the loop or (get_variable in call) inside the while body."""
  x_np = np.random.RandomState(13).normal(size=(B, T, D)).astype(np.float32)

  def forward(cell):
    x = tf.constant(x_np)
    with tf.compat.v1.variable_scope("shared", reuse=tf.compat.v1.AUTO_REUSE):
      dynamic, _ = tf_lstm.dynamic_rnn(cell, x, dtype=tf.float32, scope="rnn")
      static, _ = tf_lstm.static_rnn(cell, tf.unstack(x, axis=1), dtype=tf.float32,
                                     scope="rnn")
    return dynamic, tf.stack(static, 1)

  build = lambda: getattr(user_cells(tf_lstm), cell_name)(N)
  (dynamic, static), cell = in_mode(mode, build, forward, random_weights())
  assert np.abs(dynamic - static).max() <= TOL and np.abs(static).max() > 0.1
  prefix = "shared/rnn/" + ("scaled_tanh_cell/" if cell_name == "ScaledTanhCell"
                            else "gated_sum_cell/")
  assert all(_strip(v.name).startswith(prefix) for v in cell.trainable_variables)


def test_user_cell_is_an_rnn_cell_with_tf1_helpers():
  cell = user_cells(tf_lstm).GatedSumCell(N)
  assert isinstance(cell, tf_lstm.RNNCell) and isinstance(tf_lstm.GRUCell(2), tf_lstm.RNNCell)
  assert issubclass(tf_lstm.LSTMBlockCell, tf_lstm.RNNCell)
  assert not isinstance(object(), tf_lstm.RNNCell)
  assert cell.name == "gated_sum_cell"
  state = cell.get_initial_state(inputs=tf.zeros([B, D]))
  assert isinstance(state, tf_lstm.LSTMStateTuple) and state.c.shape == (B, N)
  cell(tf.zeros([B, D]), state, scope="other")   # TF1: the building call's scope= names it
  assert sorted(v.name for v in cell.trainable_variables) == [
      "other/candidate/kernel:0", "other/gate/bias:0", "other/gate/kernel:0"]


def test_every_cell_has_get_initial_state_in_a_graph_program():
  with tf.Graph().as_default():
    x = tf.compat.v1.placeholder(tf.float64, [None, D])   # TF1 Dimension shapes
    cells = [tf_lstm.BasicLSTMCell(N), tf_lstm.GRUCell(N),
             tf_lstm.MultiRNNCell([tf_lstm.GRUCell(N), tf_lstm.LSTMCell(N, num_proj=3)]),
             tf_lstm.DropoutWrapper(tf_lstm.LSTMCell(N))]
    states = [c.get_initial_state(inputs=x) for c in cells]
    with tf.compat.v1.Session() as sess:
      values = sess.run(states, {x: np.zeros([2, D])})
  assert isinstance(states[0], tf_lstm.LSTMStateTuple) and states[0].dtype == tf.float64
  with pytest.raises(TypeError, match="c is float32 but h is float64"):
    tf_lstm.LSTMStateTuple(tf.zeros([1]), tf.zeros([1], tf.float64)).dtype  # pylint: disable=expression-not-assigned
  assert [[v.shape for v in tf.nest.flatten(s)] for s in values] == [
      [(2, N), (2, N)], [(2, N)], [(2, N), (2, N), (2, 3)], [(2, N), (2, N)]]
  assert all(v.dtype == np.float64 and not v.any() for s in values for v in tf.nest.flatten(s))
