#!/usr/bin/env python3
"""Binary-weight LSTM: hidden size x learning rate grid on MNIST-5k -> docs/binary_lstm_grid.md.

  python benchmarks/binary_lstm_grid.py --train_steps=150 --units=32,64 --rates=3e-3,1e-2

A thin wrapper over bin/sweep (one in-process training run per grid point);
the table it writes records the exact bin/sweep command.
"""

import argparse
import os
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DATA = os.path.join(os.path.dirname(ROOT), "shared", "data", "mnist-5k")


def main():
  parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
  parser.add_argument("--units", default="32,64")
  parser.add_argument("--rates", default="3e-3,1e-2")
  parser.add_argument("--train_steps", type=int, default=150)
  parser.add_argument("--num_layers", type=int, default=1)
  parser.add_argument("--data_dir", default=DATA)
  parser.add_argument("--table", default=os.path.join(ROOT, "docs", "binary_lstm_grid.md"))
  args = parser.parse_args()
  with tempfile.TemporaryDirectory() as sweep_dir:
    cmd = [sys.executable, os.path.join(ROOT, "bin", "sweep"), "--cell=binary_lstm",
           f"--num_layers={args.num_layers}", f"--grid_num_units={args.units}",
           f"--grid_learning_rates={args.rates}", f"--train_steps={args.train_steps}",
           "--batch_size=128", "--lr_schedule=cosine", f"--data_dir={args.data_dir}",
           f"--sweep_dir={sweep_dir}", f"--table={args.table}",
           f"--title=Binary-weight LSTM on MNIST-5k: hidden size x learning rate "
           f"({args.train_steps} steps of batch 128, Adam, cosine schedule, "
           f"{args.num_layers} layer(s), binary kernels +-sqrt(6/(fan_in+fan_out)))"]
    print("$", " ".join(cmd), flush=True)
    return subprocess.run(cmd, env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2")).returncode


if __name__ == "__main__":
  sys.exit(main())
