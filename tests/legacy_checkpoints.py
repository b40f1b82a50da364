"""Runs several legacy/ programs in one process (one TensorFlow start) for their checkpoints.

    TF_USE_LEGACY_KERAS=1 python tests/legacy_checkpoints.py JOBS.json

JOBS.json: ``[[kind, [argv...]], ...]``; kind ``parity`` runs
``legacy/_run_with_parity.py ARGV`` (an MNIST program with the runner's
``--train_steps``/``--checkpoint_dir``/``--test_logits_out``), kind ``direct``
runs the program ``ARGV[0]`` with ``ARGV[1:]`` (one that writes its own
checkpoint or parity record).  Each job builds in a fresh default graph.
"""

import json
import os
import runpy
import sys

LEGACY = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "legacy")
sys.path.insert(0, LEGACY)

import _compat  # noqa: E402,F401  before tensorflow: TF_USE_LEGACY_KERAS, shims
import _run_with_parity  # noqa: E402
import tensorflow.compat.v1 as tf  # noqa: E402


def main(path):
  with open(path) as f:
    jobs = json.load(f)
  for kind, argv in jobs:
    tf.reset_default_graph()
    if kind == "parity":
      _run_with_parity.main(argv)
      continue
    sys.argv = list(argv)
    try:
      runpy.run_path(argv[0], run_name="__main__")
    except SystemExit as e:
      if e.code not in (None, 0):
        raise RuntimeError(f"{' '.join(argv)} exited with {e.code}") from e


if __name__ == "__main__":
  main(sys.argv[1])
