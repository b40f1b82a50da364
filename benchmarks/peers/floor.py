"""Benchmark worker: the training step's matrix products alone (the floor).

Runs, in one ``tf.function``, every matrix product of one training step of the
TF1 graph at its own shape, on distinct inputs (so none is merged), nothing
else: per layer l (input depth D_l, gate width G: 4N lstm, 3N gru, N rnn) and
per time step, the forward ``[B, D_l+N] x [D_l+N, G]``, the input/state
gradient ``[B, G] x [G, D_l+N]`` and the weight gradient
``[D_l+N, B] x [B, G]``; plus the head's three ``[B, N] x [N, C]``-sized
products.  FLOP per step = sum 2*m*k*n = 3 * 2*B*T*sum_l (D_l+N)*G + 3 * 2*B*N*C.
Its time is the floor; FLOP / time is the measured GFLOP/s of those shapes.
"""

import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__)))), "bin"))
import tf_env  # pylint: disable=g-import-not-at-top
tf_env.apply()   # the port's kernels (bin/train's settings)

import _worker  # pylint: disable=g-import-not-at-top
import tensorflow as tf

GATES = {"lstm": 4, "gru": 3, "rnn": 1}


def step_matmul_shapes(cfg):
  """[(m, k, n)] of one training step (forward and backward), in FLOP order."""
  b, t, n, c = cfg["batch_size"], cfg["time_steps"], cfg["num_units"], cfg["num_classes"]
  g = GATES[cfg["cell"]] * n
  shapes = []
  for layer in range(cfg["num_layers"]):
    k = (cfg["input_depth"] if layer == 0 else n) + n
    shapes += [(b, k, g), (b, g, k), (k, b, g)] * t
  shapes += [(b, n, c), (b, c, n), (n, b, c)]
  return shapes


def main():
  cfg = _worker.config()
  shapes = step_matmul_shapes(cfg)
  flop = sum(2 * m * k * n for m, k, n in shapes)
  distinct = sorted(set(shapes))
  weights = {s: tf.random.uniform([s[1], s[2]]) for s in distinct}
  lhs = [tf.random.uniform([m, k]) for m, k, _ in shapes]

  @tf.function
  def matmuls(lhs):
    return [tf.matmul(a, weights[s]) for a, s in zip(lhs, shapes)]

  def step():
    matmuls(lhs)

  _worker.serve(step, {"what": "the step's matmuls alone, at their own shapes, one tf.function",
                       "flop_per_step": flop, "matmuls_per_step": len(shapes),
                       "formula": "floor_ms = FLOP_per_step / measured GFLOP/s of these "
                                  "shapes; FLOP = 3*2*B*T*sum_l (D_l+N)*G + 3*2*B*N*C"})


if __name__ == "__main__":
  main()
