"""Process-wide TensorFlow settings of the training binaries, applied before TF loads.

``TF_ENABLE_ONEDNN_OPTS=1``: oneDNN matrix kernels.  TensorFlow turns them on
by default only on some Intel CPUs; on the 2-core AMD EPYC (AVX2) machine the
project is measured on they make a training step ~1.5x faster (``bin/benchmark``,
README "Speed").  A value already in the environment wins, so
``TF_ENABLE_ONEDNN_OPTS=0 bin/train ...`` gets TensorFlow's Eigen kernels.
"""

import os
import sys

DEFAULTS = {"TF_ENABLE_ONEDNN_OPTS": "1"}


def apply():
  """Sets the defaults not already set; must run before ``import tensorflow``."""
  if "tensorflow" in sys.modules:
    raise RuntimeError("tf_env.apply() must run before TensorFlow is imported")
  for key, value in DEFAULTS.items():
    os.environ.setdefault(key, value)
