"""Comparing what two computations of the same scores chose, up to near-ties.

Scores from another graph, kernel or CPU differ in the last float32 bits (oneDNN
picks other kernels and summation orders on AVX2, AVX-512 and AMX CPUs), so where
the two best scores are within that difference either may win an argmax.
"""

import numpy as np


def near_ties(scores, tol):
  """Number of rows of ``scores`` [N, K] whose two best entries are within ``2 * tol``."""
  top2 = np.sort(np.asarray(scores), axis=-1)[..., -2:]
  return int(np.sum(top2[..., 1] - top2[..., 0] <= 2 * tol))


def assert_same_classes(classes, reference_scores, tol):
  """Asserts ``classes`` [N] are the argmax of ``reference_scores`` [N, K] up to ties.

  ``tol`` bounds how far the scores behind ``classes`` may be from the reference's:
  a class other than the reference's argmax is accepted only where its reference
  score is within ``2 * tol`` of the best one.
  """
  classes, scores = np.asarray(classes), np.asarray(reference_scores)
  assert classes.shape == scores.shape[:-1], (classes.shape, scores.shape)
  chosen = np.take_along_axis(scores, classes[..., None], axis=-1)[..., 0]
  lag = scores.max(axis=-1) - chosen
  assert np.all(lag <= 2 * tol), (
      f"{int(np.sum(lag > 2 * tol))} of {classes.size} classes differ from the "
      f"reference's argmax by more than a near-tie (largest score gap {lag.max():.3g})")
