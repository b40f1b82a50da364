"""Benchmark worker: the training step's matrix products alone (the floor).

Runs, in one ``tf.function`` with the port's kernels, every matrix product of
one training step of the TF1 graph at its own shape
(``_step_shapes.step_matmul_shapes``), on distinct inputs (so none is merged),
nothing else.  Its time is the floor; FLOP / time is the measured GFLOP/s of
those shapes.
"""

import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__)))), "bin"))
import tf_env  # pylint: disable=g-import-not-at-top
tf_env.apply()   # the port's kernels (bin/train's settings)

import _step_shapes  # pylint: disable=g-import-not-at-top
import _worker  # pylint: disable=g-import-not-at-top
import tensorflow as tf


def main():
  cfg = _worker.config()
  shapes = _step_shapes.step_matmul_shapes(cfg)
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
                       "formula": _step_shapes.FORMULA})


if __name__ == "__main__":
  main()
