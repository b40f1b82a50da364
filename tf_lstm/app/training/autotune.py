"""Start-up timing of a model's training unrolls (as cuDNN's autotuner times kernels).

Which unroll of a plain LSTM trains fastest depends on the CPU (its cores,
vector units, memory): ``"native"`` (the layer as one C++ op per layer,
``tf_lstm.unroll.native``, float32, where it builds), ``"hand"``
(``tf_lstm.unroll.lstm_layer``, the hand-written gradient) or ``"autodiff"``
(``static_rnn`` differentiated by TensorFlow).  All compute the same function
and gradients (tests/test_lstm_layer.py, tests/test_native_lstm.py), so the
choice changes speed only.
"""

import statistics
import time

import tensorflow as tf

from tf_lstm.app import precision
from tf_lstm.unroll import lstm_layer
from tf_lstm.unroll.native import lstm_layer as native_layer

CANDIDATES = ("native", "hand", "autodiff")
# Below this many steps the timing (three traces, ~3-7 s) costs more than a few
# percent of the run can win: the run keeps the model's default.
MIN_STEPS = 500


def tunable(model):
  """Whether ``model`` has training unrolls to choose from."""
  return (hasattr(model, "training_unroll") and hasattr(model, "cell")
          and lstm_layer.lstm_layers(model.cell) is not None)


def candidates(compute_dtype="float32", log=print):
  """The unrolls that can run here in ``compute_dtype`` (logs why "native" cannot)."""
  if tf.as_dtype(compute_dtype) not in native_layer.DTYPES:
    return CANDIDATES[1:]
  why = native_layer.unavailable()
  if why:
    log(f"training unroll: the native LSTM op cannot run here ({why})")
    return CANDIDATES[1:]
  return CANDIDATES


def time_unrolls(model, loss_terms, inputs, labels, compute_dtype="float32", steps=4,
                 rounds=(5, 9), budget_s=2.0, names=CANDIDATES):
  """``{candidate: median ms}`` of a forward and backward pass (no update) per candidate.

  Each candidate's gradient function is traced and run once, then the timed
  runs of ``steps`` passes alternate between candidates, for ``rounds[0]``
  rounds and then more, up to ``rounds[1]``, while the timing has taken less
  than ``budget_s`` seconds (small models get more rounds: their candidates
  differ by less than the machine's noise), so a load change hits all of them.
  Five rounds at least: replaying measured 2 x 256 timings, three rounds'
  medians picked a candidate over 5% slower in 13 of 56 windows, five in 6 of 40.
  The model's variables are not changed.
  """
  variables = model.trainable_variables
  forward = precision.forward_in(compute_dtype, lambda x: model(x, training=True), model)
  original = model.training_unroll
  functions = {}
  try:
    for candidate in names:
      model.training_unroll = candidate

      @tf.function
      def grads(x, y):
        with tf.GradientTape() as tape:
          loss_sum, _, count = loss_terms(forward(x), y)
          loss = loss_sum / tf.maximum(count, 1.0)
        return tape.gradient(loss, variables)

      grads(inputs, labels)   # traces with this candidate
      functions[candidate] = grads
  finally:
    model.training_unroll = original
  times = {c: [] for c in names}
  start = time.perf_counter()
  for r in range(rounds[1]):
    if r >= rounds[0] and time.perf_counter() - start > budget_s:
      break
    for candidate in (names if r % 2 == 0 else names[::-1]):
      t0 = time.perf_counter()
      for _ in range(steps):
        out = functions[candidate](inputs, labels)
      out[0].numpy()
      times[candidate].append((time.perf_counter() - t0) / steps * 1e3)
  return {c: statistics.median(t) for c, t in times.items()}


def choose_unroll(model, loss_terms, inputs, labels, compute_dtype="float32", log=print):
  """Sets ``model.training_unroll`` to the fastest candidate; logs and returns it."""
  ms = time_unrolls(model, loss_terms, inputs, labels, compute_dtype,
                    names=candidates(compute_dtype, log))
  best = min(ms, key=ms.get)
  model.training_unroll = best
  others = ", ".join(f"{c} {m:.1f} ms" for c, m in ms.items() if c != best)
  log(f"training unroll: {best} ({ms[best]:.1f} ms per forward+backward pass; {others}), "
      f"chosen by timing {', '.join(ms)} at start-up")
  return best
