"""The C++ LSTM layer op (``tf_lstm.unroll.native``) equals the composed layer.

Same inputs, weights and upstream gradients: every step's output, the final
cell state and the gradients of the inputs, the initial state, the kernel and
the bias agree within 1e-5 relative (max |diff| / max |reference|) with
``lstm_layer.lstm_layer`` (itself proven equal to autodiff of ``static_rnn`` in
tests/test_lstm_layer.py), for batches split into one or several row blocks
(uneven ones too), one and several steps, eagerly, in a ``tf.function`` and in a
TF1 graph program; bad shapes are refused with a message; the build refuses
cleanly and leaves nothing half-written.
"""

import os

import numpy as np
import pytest
import tensorflow as tf

from tf_lstm import cells
from tf_lstm.unroll import lstm_layer
from tf_lstm.unroll.native import build
from tf_lstm.unroll.native import lstm_layer as native_layer

TOL = 1e-5


def _case(batch, steps, depth, units, seed=0):
  rng = np.random.default_rng(seed)
  f32 = lambda *shape, scale=1.0: tf.constant(rng.standard_normal(shape) * scale, tf.float32)
  return dict(xs=[f32(batch, depth) for _ in range(steps)],
              c0=f32(batch, units, scale=0.5), h0=f32(batch, units, scale=0.5),
              kernel=f32(depth + units, 4 * units, scale=0.3), bias=f32(4 * units, scale=0.3),
              d_hs=[f32(batch, units) for _ in range(steps)], d_c=f32(batch, units))


def _run(layer_fn, case, forget_bias, used="all", input_grads=True):
  """Outputs, c_T and the gradients of sum(d_h * h_t) + sum(d_c * c_T) (or of the
  last output alone: the other outputs' gradients are then absent); without
  ``input_grads`` none w.r.t. the inputs (as for a model's data)."""
  inputs = case["xs"] if input_grads else []
  watched = inputs + [case["c0"], case["h0"], case["kernel"], case["bias"]]
  with tf.GradientTape() as tape:
    tape.watch(watched)
    hs, c = layer_fn(case["xs"], case["c0"], case["h0"], case["kernel"], case["bias"],
                     forget_bias)
    if used == "last":
      loss = tf.reduce_sum(hs[-1] * case["d_hs"][-1])
    else:
      loss = tf.add_n([tf.reduce_sum(h * d) for h, d in zip(hs, case["d_hs"])])
      loss += tf.reduce_sum(c * case["d_c"])
  grads = tape.gradient(loss, watched)
  steps = len(inputs)
  got = {"h": tf.stack(hs), "c": c, "d_c0": grads[steps], "d_h0": grads[steps + 1],
         "d_kernel": grads[steps + 2], "d_bias": grads[steps + 3]}
  if input_grads:
    got["d_x"] = tf.stack(grads[:steps])
  return got


def _assert_close(got, want):
  assert list(got) == list(want)
  for name in want:
    g, w = np.asarray(got[name]), np.asarray(want[name])
    assert g.shape == w.shape, name
    rel = np.max(np.abs(g - w)) / np.max(np.abs(w))
    assert rel <= TOL, f"{name}: max|diff|/max|ref| = {rel:.2e} > {TOL}"


@pytest.fixture(scope="module", autouse=True)
def op_library():
  why = native_layer.unavailable()
  assert why is None, f"the native op must build on the test machine: {why}"


# batch 70 on two or more intra-op threads runs two row blocks of 35; 128: 64 + 64
# (or more blocks of 32); 1 and 5: one block.
@pytest.mark.parametrize("batch,steps,depth,units,forget_bias,used", [
    (1, 1, 3, 4, 1.0, "all"),
    (5, 7, 6, 8, 0.3, "all"),
    (70, 9, 28, 16, 1.0, "all"),
    (70, 9, 28, 16, 0.0, "last"),
    (128, 4, 28, 128, 1.0, "last"),
])
def test_equals_the_composed_layer(batch, steps, depth, units, forget_bias, used):
  case = _case(batch, steps, depth, units)
  _assert_close(_run(native_layer.lstm_layer, case, forget_bias, used),
                _run(lstm_layer.lstm_layer, case, forget_bias, used))


def test_equals_the_composed_layer_in_a_function_and_a_tf1_graph():
  case = _case(70, 6, 10, 12, seed=1)
  want = _run(lstm_layer.lstm_layer, case, 1.0)
  _assert_close(tf.function(lambda: _run(native_layer.lstm_layer, case, 1.0))(), want)
  # In a function nothing reads dx without input gradients: the op skips its products.
  no_dx = {k: v for k, v in want.items() if k != "d_x"}
  _assert_close(tf.function(lambda: _run(native_layer.lstm_layer, case, 1.0,
                                         input_grads=False))(), no_dx)

  graph = tf.Graph()
  with graph.as_default():
    consts = {k: ([tf.constant(x.numpy()) for x in v] if isinstance(v, list)
                  else tf.constant(v.numpy())) for k, v in case.items()}
    hs, c = native_layer.lstm_layer(consts["xs"], consts["c0"], consts["h0"],
                                    consts["kernel"], consts["bias"], 1.0)
    loss = tf.add_n([tf.reduce_sum(h * d) for h, d in zip(hs, consts["d_hs"])])
    loss += tf.reduce_sum(c * consts["d_c"])
    watched = consts["xs"] + [consts["c0"], consts["h0"], consts["kernel"], consts["bias"]]
    grads = tf.compat.v1.gradients(loss, watched)
    with tf.compat.v1.Session(graph=graph) as sess:
      got_hs, got_c, got_grads = sess.run([tf.stack(hs), c, grads])
  steps = len(case["xs"])
  _assert_close({"h": got_hs, "c": got_c, "d_c0": got_grads[steps], "d_h0": got_grads[steps + 1],
                 "d_kernel": got_grads[steps + 2], "d_bias": got_grads[steps + 3],
                 "d_x": np.stack(got_grads[:steps])}, want)


def test_back_to_back_and_concurrent_calls_agree():
  """Calls in quick succession (row blocks taken by pool threads kept awake by the
  previous call) and two layers the executor may run at once give the same results."""
  cases = [_case(70, 5, 6, 8, seed=s) for s in (2, 3)]
  want = [_run(lstm_layer.lstm_layer, case, 1.0) for case in cases]
  both = tf.function(lambda: [_run(native_layer.lstm_layer, case, 1.0) for case in cases])
  for _ in range(20):
    for got, expected in zip(both(), want):
      _assert_close(got, expected)


def test_bad_shapes_are_refused_with_what_was_expected():
  case = _case(4, 2, 3, 5)
  op = native_layer.library().tf_lstm_layer
  with pytest.raises(tf.errors.InvalidArgumentError, match=r"x\[1\] must be \[4, 3\]"):
    op([case["xs"][0], tf.zeros([4, 2])], case["c0"], case["h0"], case["kernel"],
       case["bias"])
  with pytest.raises(tf.errors.InvalidArgumentError, match="kernel must be"):
    op(case["xs"], case["c0"], case["h0"], tf.zeros([8, 19]), case["bias"])
  with pytest.raises(tf.errors.InvalidArgumentError, match=r"bias must be \[20\]"):
    op(case["xs"], case["c0"], case["h0"], case["kernel"], tf.zeros([5]))
  with pytest.raises(tf.errors.InvalidArgumentError, match=r"c0 and h0 must both be \[batch, 5\]"):
    op(case["xs"], case["c0"], tf.zeros([4, 6]), case["kernel"], case["bias"])
  with pytest.raises(ValueError, match="dtype float16.*runs in float32"):
    lstm_layer.static_lstm(cells.BasicLSTMCell(5), tf.zeros([4, 2, 3], tf.float16), native=True)


def test_vector_level_follows_the_cpu_and_the_onednn_cap():
  avx512 = {"avx512f", "avx512bw", "avx512dq", "avx512vl", "avx2", "fma"}
  assert build.vector_level(avx512, "")[0] == "avx512"
  assert build.vector_level(avx512, "AVX512_CORE_AMX")[0] == "avx512"
  assert build.vector_level(avx512, "avx2")[0] == "avx2"
  assert build.vector_level(avx512, "AVX2_VNNI")[0] == "avx2"
  assert build.vector_level(avx512, "SSE41")[0] == "baseline"
  assert build.vector_level({"avx2", "fma"}, "")[0] == "avx2"
  assert build.vector_level({"avx2"}, "") == ("baseline", [])
  assert "-mavx512f" in build.vector_level(avx512, "")[1]


def test_disabled_missing_compiler_and_failed_build_say_why_and_write_nothing(
    tmp_path, monkeypatch):
  monkeypatch.setattr(build, "_loaded", {})
  monkeypatch.setenv("TF_LSTM_CACHE_DIR", str(tmp_path / "cache"))
  monkeypatch.setenv("TF_LSTM_NATIVE_OPS", "0")
  with pytest.raises(build.NativeOpsUnavailable, match="TF_LSTM_NATIVE_OPS=0"):
    build.load_library("lstm_layer_op")
  monkeypatch.delenv("TF_LSTM_NATIVE_OPS")
  monkeypatch.setenv("CXX", "no-such-compiler-here")
  with pytest.raises(build.NativeOpsUnavailable, match="no C\\+\\+ compiler.*no-such-compiler"):
    build.load_library("lstm_layer_op")
  monkeypatch.delenv("CXX")
  source = tmp_path / "src"
  source.mkdir()
  (source / "broken_op.cc").write_text("this is not C++;\n")
  monkeypatch.setattr(build, "_HERE", str(source))
  with pytest.raises(build.NativeOpsUnavailable, match="building broken_op.cc failed"):
    build.load_library("broken_op")
  assert os.listdir(tmp_path / "cache") == []   # no half-written library, no temp file
  blocked = tmp_path / "file"
  blocked.write_text("")
  monkeypatch.setenv("TF_LSTM_CACHE_DIR", str(blocked / "cache"))
  with pytest.raises(build.NativeOpsUnavailable, match="cannot write to the cache directory"):
    build.load_library("broken_op")


def test_the_cache_key_follows_source_and_vector_level(tmp_path, monkeypatch):
  monkeypatch.setenv("TF_LSTM_CACHE_DIR", str(tmp_path))
  path = build.library_path("lstm_layer_op")
  assert os.path.dirname(path) == str(tmp_path)
  monkeypatch.setenv("ONEDNN_MAX_CPU_ISA", "SSE41")
  capped = build.library_path("lstm_layer_op")
  assert capped != path and "-baseline-" in os.path.basename(capped)
