#!/usr/bin/env python3
"""IMDB benchmark: bin/train --task=imdb on the real 24,980 + 24,980 reviews.

Target (issue 7): >= 87.0% test accuracy with under 20 minutes of training on
a 2-core CPU.  Prints the run's log tail and one summary line.

  python benchmarks/imdb.py [--data_dir=../shared/data/imdb] [--model_dir=/tmp/imdb_bench]
"""

import argparse
import json
import os
import shutil
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# The imdb task's defaults (tf_lstm/app/tasks/imdb.py) are the benchmarked model.
FLAGS = ["--task=imdb", "--checkpoint_every=500", "--log_every=100"]


def main():
  parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
  parser.add_argument("--data_dir", default=os.path.join(os.path.dirname(ROOT), "shared",
                                                         "data", "imdb"))
  parser.add_argument("--model_dir", default="/tmp/imdb_bench")
  parser.add_argument("extra", nargs="*", help="more bin/train flags (override the above)")
  args = parser.parse_args()
  shutil.rmtree(args.model_dir, ignore_errors=True)
  cmd = [sys.executable, os.path.join(ROOT, "bin", "train"), *FLAGS, *args.extra,
         f"--data_dir={args.data_dir}", f"--model_dir={args.model_dir}",
         f"--export_dir={os.path.join(args.model_dir, 'export')}"]
  print(" ".join(cmd), flush=True)
  t = time.time()
  proc = subprocess.run(cmd, cwd=ROOT, env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2"))
  wall = time.time() - t
  if proc.returncode:
    return proc.returncode
  with open(os.path.join(args.model_dir, "results.json")) as f:
    r = json.load(f)
  ok = r["test_accuracy"] >= 0.87 and r["train_seconds"] < 1200
  print(f"IMDB: test accuracy {r['test_accuracy']:.4f} on {r['test_examples']} reviews, "
        f"training {r['train_seconds']:.0f} s ({r['global_step']} steps), wall {wall:.0f} s; "
        f"target >= 0.870 in < 1200 s: {'MET' if ok else 'NOT MET'}")
  return 0 if ok else 2


if __name__ == "__main__":
  sys.exit(main())
