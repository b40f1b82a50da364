"""LSTMCell (TF1), GFLSTMCell and BinaryLSTMCell: equations, layouts, training hooks."""

import os

import numpy as np
import pytest
import tensorflow as tf

import tf_lstm
from tf_lstm import cells
from tf_lstm.app import config as config_lib
from tf_lstm.app import models
from tf_lstm.cells import binary_lstm
from tf_lstm.app.training import loop

B, D = 3, 4


def sigmoid(x):
  return 1.0 / (1.0 + np.exp(-x))


def _randomize(module, seed=0):
  rng = np.random.RandomState(seed)
  for v in module.trainable_variables:
    v.assign(rng.uniform(-0.8, 0.8, v.shape).astype(np.float32))


def _x(t=None, seed=1):
  shape = (B, D) if t is None else (B, t, D)
  return np.random.RandomState(seed).randn(*shape).astype(np.float32)


# ---------------------------------------------------------------- LSTMCell

def test_lstm_cell_without_options_is_basic_lstm():
  full, basic = cells.LSTMCell(5, input_depth=D), cells.BasicLSTMCell(5, input_depth=D)
  _randomize(basic)
  full.kernel.assign(basic.kernel)
  full.bias.assign(basic.bias)
  x = _x(6)
  state_f, state_b = full.zero_state(B), basic.zero_state(B)
  for t in range(6):   # step by step: the same element-wise function, bit for bit
    out_f, state_f = full(x[:, t], state_f)
    out_b, state_b = basic(x[:, t], state_b)
    np.testing.assert_array_equal(out_f, out_b)
  np.testing.assert_array_equal(state_f.c, state_b.c)


def test_lstm_cell_peepholes_clip_projection_match_tf1_equations():
  n, p = 5, 3
  cell = cells.LSTMCell(n, use_peepholes=True, cell_clip=0.7, num_proj=p, proj_clip=0.4,
                        forget_bias=0.5, input_depth=D)
  assert {v.name for v in cell.trainable_variables} == {
      "lstm_cell/kernel:0", "lstm_cell/bias:0", "lstm_cell/w_f_diag:0",
      "lstm_cell/w_i_diag:0", "lstm_cell/w_o_diag:0", "lstm_cell/projection/kernel:0"}
  assert cell.kernel.shape == (D + p, 4 * n) and cell.projection_kernel.shape == (n, p)
  assert cell.state_size == (n, p) and cell.output_size == p
  _randomize(cell)
  k, b = cell.kernel.numpy(), cell.bias.numpy()
  wi, wf, wo = cell.w_i_diag.numpy(), cell.w_f_diag.numpy(), cell.w_o_diag.numpy()
  # Its own generator: these draws make both clips bind (a test-order-dependent
  # state would miss one in ~1 of 5 draws).
  rng = np.random.RandomState(0)
  c, m = rng.randn(B, n).astype(np.float32) * 2, rng.randn(B, p).astype(np.float32)
  x = _x()
  out, state = cell(x, cells.LSTMStateTuple(c, m))
  i, j, f, o = np.split(np.concatenate([x, m], 1) @ k + b, 4, axis=1)
  c2 = np.clip(sigmoid(f + 0.5 + wf * c) * c + sigmoid(i + wi * c) * np.tanh(j), -0.7, 0.7)
  m2 = np.clip((sigmoid(o + wo * c2) * np.tanh(c2)) @ cell.projection_kernel.numpy(), -0.4, 0.4)
  np.testing.assert_allclose(state.c, c2, atol=1e-5)
  np.testing.assert_allclose(out, m2, atol=1e-5)
  assert np.abs(c2).max() == pytest.approx(0.7) and np.abs(m2).max() == pytest.approx(0.4)


@pytest.mark.parametrize("kwargs, match", [
    (dict(num_proj=0), "num_proj must be positive"),
    (dict(cell_clip=-1.0), "cell_clip must be positive"),
    (dict(proj_clip=1.0), "proj_clip needs num_proj"),
])
def test_lstm_cell_bad_options(kwargs, match):
  with pytest.raises(ValueError, match=match):
    cells.LSTMCell(4, **kwargs)


# ---------------------------------------------------------------- GFLSTMCell

def _gflstm_reference(cell, x, state):
  """numpy Chung et al. 2015 eqs. (gated feedback into the candidate only)."""
  prev_h = [s[1] for s in state]
  h_star = np.concatenate(prev_h, 1)
  inp, new = x, []
  for layer, (c, h) in zip(cell.layers, state):
    g = {k: v.numpy() for k, v in layer.items()}
    n = h.shape[1]
    pre = np.concatenate([inp, h], 1) @ g["gates_kernel"] + g["gates_bias"]
    i, f, o = pre[:, :n], pre[:, n:2 * n], pre[:, 2 * n:]
    cand = inp @ g["input_kernel"] + g["candidate_bias"]
    row = 0
    for k, hk in enumerate(prev_h):
      reset = sigmoid(np.concatenate([inp, h_star], 1) @ g["reset_kernel"][:, k])[:, None]
      cand = cand + reset * hk @ g["recurrent_kernel"][row:row + hk.shape[1]]
      row += hk.shape[1]
    c2 = c * sigmoid(f + 1.0) + sigmoid(i) * np.tanh(cand)
    h2 = np.tanh(c2) * sigmoid(o)
    new.append((c2, h2))
    inp = h2
  return inp, new


def test_gflstm_matches_paper_equations_and_layout():
  cell = cells.GFLSTMCell([5, 3], input_depth=D)
  shapes = {v.name: tuple(v.shape) for v in cell.trainable_variables}
  assert shapes == {
      "gflstm_cell/cell_0/gates/kernel:0": (D + 5, 15), "gflstm_cell/cell_0/gates/bias:0": (15,),
      "gflstm_cell/cell_0/candidate/input_kernel:0": (D, 5),
      "gflstm_cell/cell_0/candidate/recurrent_kernel:0": (8, 5),
      "gflstm_cell/cell_0/candidate/bias:0": (5,),
      "gflstm_cell/cell_0/global_reset/kernel:0": (D + 8, 2),
      "gflstm_cell/cell_1/gates/kernel:0": (5 + 3, 9), "gflstm_cell/cell_1/gates/bias:0": (9,),
      "gflstm_cell/cell_1/candidate/input_kernel:0": (5, 3),
      "gflstm_cell/cell_1/candidate/recurrent_kernel:0": (8, 3),
      "gflstm_cell/cell_1/candidate/bias:0": (3,),
      "gflstm_cell/cell_1/global_reset/kernel:0": (5 + 8, 2)}
  _randomize(cell)
  rng = np.random.RandomState(2)
  state = tuple(cells.LSTMStateTuple(rng.randn(B, n).astype(np.float32),
                                     rng.randn(B, n).astype(np.float32)) for n in (5, 3))
  x = _x()
  out, new_state = cell(x, state)
  ref_out, ref_state = _gflstm_reference(cell, x, state)
  np.testing.assert_allclose(out, ref_out, atol=1e-5)
  for got, want in zip(new_state, ref_state):
    np.testing.assert_allclose(got.c, want[0], atol=1e-5)
    np.testing.assert_allclose(got.h, want[1], atol=1e-5)
  # The feedback really is gated: with positive inputs and states, a very
  # negative global-reset kernel closes every gate and the upper layer's h no
  # longer reaches layer 0; a very positive one opens them and it does.
  pos_x = np.abs(x)
  pos = tuple(cells.LSTMStateTuple(s.c, np.abs(s.h)) for s in state)
  bumped = (pos[0], cells.LSTMStateTuple(pos[1].c, pos[1].h + 1.0))
  for sign, changes in ((-1e4, False), (1e4, True)):
    for layer in cell.layers:
      layer["reset_kernel"].assign(tf.fill(layer["reset_kernel"].shape, sign))
    _, (l0_a, _) = cell(pos_x, pos)
    _, (l0_b, _) = cell(pos_x, bumped)
    assert (np.abs(l0_a.h - l0_b.h).max() > 1e-3) == changes


def test_gflstm_static_equals_dynamic_with_lengths():
  cell = cells.GFLSTMCell([4, 4], input_depth=D)
  x = tf.constant(_x(5))
  s_out, s_state = tf_lstm.static_rnn(cell, x, sequence_length=[5, 2, 0])
  d_out, d_state = tf_lstm.dynamic_rnn(cell, x, sequence_length=[5, 2, 0])
  np.testing.assert_allclose(d_out, tf.stack(s_out, 1), atol=1e-6)
  for a, b in zip(tf.nest.flatten(d_state), tf.nest.flatten(s_state)):
    np.testing.assert_allclose(a, b, atol=1e-6)


# ---------------------------------------------------------------- BinaryLSTMCell

def test_binary_kernel_has_two_values_and_ste_gradient():
  cell = cells.BinaryLSTMCell(6, input_depth=D)
  h = np.sqrt(6.0 / (D + 6 + 24))
  assert cell.scale == pytest.approx(h)
  kb = cell.binary_kernel().numpy()
  np.testing.assert_array_equal(np.unique(kb), np.float32([-h, h]))
  np.testing.assert_array_equal(np.sign(kb), np.where(cell.kernel.numpy() >= 0, 1, -1))
  assert cells.BinaryLSTMCell(6, scale="none", input_depth=D).scale == 1.0
  # Straight-through: d loss / d shadow = scale * d loss / d binary kernel.
  x = tf.constant(_x(4))
  with tf.GradientTape(persistent=True) as tape:
    kb_t = cell.binary_kernel()
    tape.watch(kb_t)
    out, _ = tf_lstm.static_rnn(cell, x)
    loss = tf.reduce_sum(tf.square(out[-1]))
  g_shadow = tape.gradient(loss, cell.kernel)
  # The same step written with an explicit binary kernel gives the reference.
  ref = cells.BasicLSTMCell(6, input_depth=D)
  ref.kernel.assign(kb)
  with tf.GradientTape() as tape2:
    out_r, _ = tf_lstm.static_rnn(ref, x)
    loss_r = tf.reduce_sum(tf.square(out_r[-1]))
  np.testing.assert_allclose(loss, loss_r, rtol=1e-6)
  np.testing.assert_allclose(g_shadow, h * tape2.gradient(loss_r, ref.kernel), rtol=1e-4,
                             atol=1e-7)
  # Outside [-1, 1] the hard-tanh STE passes no gradient.
  w = tf.constant([[-1.5, -0.5, 0.5, 2.0]])
  with tf.GradientTape() as tape3:
    tape3.watch(w)
    y = binary_lstm.binarize(w, 0.5)
  np.testing.assert_array_equal(y, [[-0.5, -0.5, 0.5, 0.5]])
  np.testing.assert_array_equal(tape3.gradient(y, w), [[0.0, 0.5, 0.5, 0.0]])


def test_binary_ste_gradient_at_the_clip_boundary():
  """|w| = 1 passes the gradient, the next float32 outside does not (hard-tanh STE)."""
  one_up, one_down = np.nextafter(np.float32(1), np.float32(2)), np.nextafter(
      np.float32(1), np.float32(0))
  w = tf.constant([-one_up, -1.0, -one_down, 0.0, one_down, 1.0, one_up], tf.float32)
  dy = tf.constant([1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0])
  with tf.GradientTape() as tape:
    tape.watch(w)
    y = binary_lstm.binarize(w, 0.25)
    loss = tf.reduce_sum(y * dy)
  np.testing.assert_array_equal(y, [-0.25, -0.25, -0.25, 0.25, 0.25, 0.25, 0.25])
  np.testing.assert_array_equal(tape.gradient(loss, w),   # exact: dy * 0.25 is exact
                                [0.0, 0.5, 0.75, 1.0, 1.25, 1.5, 0.0])


def test_clipped_shadow_weights_still_learn():
  """After the clip many shadow weights sit exactly at +-1; they keep the STE gradient."""
  cell = cells.BinaryLSTMCell(6, input_depth=D)
  cell.kernel.assign(tf.clip_by_value(3.0 * cell.kernel, -1.0, 1.0))
  at_one = np.abs(cell.kernel.numpy()) == 1.0
  assert at_one.mean() > 0.5
  x = tf.constant(_x(4))
  with tf.GradientTape() as tape:
    out, _ = tf_lstm.static_rnn(cell, x)
    loss = tf.reduce_sum(tf.square(out[-1]))
  g_shadow = tape.gradient(loss, cell.kernel).numpy()
  ref = cells.BasicLSTMCell(6, input_depth=D)   # the same step with the binary kernel
  ref.kernel.assign(cell.binary_kernel())
  with tf.GradientTape() as tape2:
    out_r, _ = tf_lstm.static_rnn(ref, x)
    loss_r = tf.reduce_sum(tf.square(out_r[-1]))
  expected = cell.scale * tape2.gradient(loss_r, ref.kernel).numpy()
  assert np.abs(expected[at_one]).min() > 0   # every weight at +-1 has a gradient to get
  # Same ops on the same values; rtol 1e-4 as above for the scale multiply's rounding.
  np.testing.assert_allclose(g_shadow, expected, rtol=1e-4, atol=1e-7)


def test_binary_lstm_bad_scale():
  with pytest.raises(ValueError, match="unknown binary scale 'mean'"):
    cells.BinaryLSTMCell(4, scale="mean")


def test_train_step_clips_shadow_weights_of_every_layer():
  tf.random.set_seed(0)
  from tf_lstm.app import optimizers
  model = models.SequenceClassifier(models.make_cell("binary_lstm", 8, 2), 10, input_depth=D)
  layers = model.cell.cells
  layers[0].kernel.assign(tf.fill(layers[0].kernel.shape, 0.999))
  layers[1].kernel.assign(-tf.fill(layers[1].kernel.shape, 0.999))
  opt = optimizers.make_optimizer("sgd", 100.0)   # huge steps: the clip must act
  step = loop.make_train_step(model, opt)
  before = [l.kernel.numpy() for l in layers]
  step(tf.constant(_x(5)), tf.constant([1, 2, 3]))
  for l, b in zip(layers, before):
    k = l.kernel.numpy()
    assert np.abs(k).max() <= 1.0
    assert np.any(k != b)                  # it did train
    assert np.any(np.abs(k) == 1.0)        # and the clip held it at the bound
  assert np.abs(model.output_kernel.numpy()).max() > 1.0   # the head is not clipped


def test_binary_lstm_export_serves_only_binary_kernels(small_mnist_dir, tmp_path):
  cfg = config_lib.TrainConfig(
      model=config_lib.ModelConfig(cell="binary_lstm", num_units=16, num_layers=1),
      batch_size=32, train_steps=3, log_every=3, data_dir=small_mnist_dir,
      model_dir=str(tmp_path / "run"), export_dir=str(tmp_path / "export"))
  results = loop.train(cfg, log=lambda *_: None)
  loaded = tf.saved_model.load(results["export_path"])
  shadow = loaded.model.cell.kernel
  assert np.abs(shadow.numpy()).max() <= 1.0
  images = tf.constant(_images(small_mnist_dir))
  served = loaded.signatures["serving_default"](images=images)["logits"].numpy()
  # Reference: the model evaluated in numpy with sign(shadow) * scale.
  h = np.sqrt(6.0 / (shadow.shape[0] + shadow.shape[1]))
  kb = np.where(shadow.numpy() >= 0, h, -h)
  c = m = np.zeros([images.shape[0], 16], np.float32)
  for t in range(28):
    i, j, f, o = np.split(np.concatenate([images[:, t], m], 1) @ kb
                          + loaded.model.cell.bias.numpy(), 4, axis=1)
    c = c * sigmoid(f + 1.0) + sigmoid(i) * np.tanh(j)
    m = np.tanh(c) * sigmoid(o)
  ref = m @ loaded.model.output_kernel.numpy() + loaded.model.output_bias.numpy()
  np.testing.assert_allclose(served, ref, atol=1e-4)
  # Any shadow magnitudes with the same signs serve the same logits exactly.
  shadow.assign(np.where(shadow.numpy() >= 0, 0.01, -0.99).astype(np.float32))
  again = loaded.signatures["serving_default"](images=images)["logits"].numpy()
  np.testing.assert_array_equal(again, served)


def _images(data_dir):
  from tf_lstm.app.data import images
  return images.load_idx(data_dir).test_images[:16].astype(np.float32) / 255.0


# ---------------------------------------------------------------- factory

def test_factory_builds_new_cells_and_rejects_misplaced_options():
  gf = models.make_cell("gflstm", 8, 3)
  assert isinstance(gf, cells.GFLSTMCell) and gf.num_units_per_layer == [8, 8, 8]
  full = models.make_cell("lstm_full", 8, 2, use_peepholes=True, num_proj=4, cell_clip=3.0,
                          proj_clip=0.0, binary_scale="glorot")
  assert isinstance(full, cells.MultiRNNCell) and full.output_size == 4
  assert full.cells[0]._use_peepholes and full.cells[1]._cell_clip == 3.0
  binary = models.make_cell("binary_lstm", 8, 1, binary_scale="none")
  assert isinstance(binary, cells.BinaryLSTMCell) and binary._scale_kind == "none"
  with pytest.raises(ValueError, match="num_proj=4 applies to cell lstm_full only"):
    models.make_cell("gru", 8, num_proj=4)
  with pytest.raises(ValueError, match="binary_scale='none' applies to cell binary_lstm"):
    models.make_cell("lstm_full", 8, binary_scale="none")
