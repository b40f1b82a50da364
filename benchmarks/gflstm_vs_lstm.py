#!/usr/bin/env python3
"""2-layer GFLSTM vs 2-layer LSTM on MNIST-5k, same budget, via bin/train.

  python benchmarks/gflstm_vs_lstm.py --train_steps=400 --num_units=64

Trains both with the same flags (seed, steps, batch, Adam + cosine schedule),
prints their test accuracies on the 10,000 test digits and fails (exit 1) if
the GFLSTM is worse than the LSTM by more than --max_gap points.
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DATA = os.path.join(os.path.dirname(ROOT), "shared", "data", "mnist-5k")


def train(cell, args, workdir):
  model_dir = os.path.join(workdir, cell)
  cmd = [sys.executable, os.path.join(ROOT, "bin", "train"), "--task=mnist",
         f"--cell={cell}", "--num_layers=2", f"--num_units={args.num_units}",
         f"--train_steps={args.train_steps}", f"--batch_size={args.batch_size}",
         f"--learning_rate={args.learning_rate}", "--lr_schedule=cosine",
         "--augment_shift=0", f"--seed={args.seed}", f"--data_dir={args.data_dir}",
         f"--model_dir={model_dir}", f"--log_every={max(1, args.train_steps // 4)}",
         f"--checkpoint_every={args.train_steps}"]
  print("$", " ".join(cmd), flush=True)
  env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2")
  subprocess.run(cmd, check=True, env=env)
  with open(os.path.join(model_dir, "results.json")) as f:
    return json.load(f)


def main():
  parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
  parser.add_argument("--train_steps", type=int, default=400)
  parser.add_argument("--num_units", type=int, default=64)
  parser.add_argument("--batch_size", type=int, default=128)
  parser.add_argument("--learning_rate", type=float, default=3e-3)
  parser.add_argument("--seed", type=int, default=0)
  parser.add_argument("--max_gap", type=float, default=0.5, help="percentage points")
  parser.add_argument("--data_dir", default=DATA)
  args = parser.parse_args()
  with tempfile.TemporaryDirectory() as workdir:
    results = {cell: train(cell, args, workdir) for cell in ("lstm", "gflstm")}
  print(f"\n| cell (2 layers x {args.num_units}) | test accuracy | train seconds |")
  print("| --- | --- | --- |")
  for cell, r in results.items():
    print(f"| {cell} | {100 * r['test_accuracy']:.2f}% | {r['train_seconds']:.0f} |")
  gap = 100 * (results["lstm"]["test_accuracy"] - results["gflstm"]["test_accuracy"])
  print(f"\nLSTM - GFLSTM = {gap:+.2f} points (allowed: <= {args.max_gap}) after "
        f"{args.train_steps} steps of batch {args.batch_size}")
  return 0 if gap <= args.max_gap else 1


if __name__ == "__main__":
  sys.exit(main())
