#!/usr/bin/env python3
"""Training steps/s on one device vs MirroredStrategy over 2 logical CPU devices.

  python benchmarks/distribute_scaling.py [--per_replica=16,64,256] [--steps=30]

The model is bin/train's MNIST model (28 steps of 28 inputs, LSTM, Adam), the
step is tf_lstm.app.training.loop's, the data goes through the same
``distribute_datasets_from_function`` path as training (random images, so
no data files are needed). For each per-replica batch ``b`` it times

  1 device, batch b      (the same work per replica)
  1 device, batch 2b     (the same global batch)
  2 replicas, global 2b  (b per replica)

and prints steps/s and examples/s. Distribution pays off where "2 replicas"
beats "1 device, batch 2b" in examples/s. The logical CPU devices share one
machine's cores (and its thread pool), so this measures the cost of the
replication machinery, not a speed-up from new hardware.
"""

import argparse
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from tf_lstm.app import distribute  # pylint: disable=g-import-not-at-top

MIRRORED = distribute.make_strategy("mirrored", num_cpu_devices=2)   # before any TF op

import numpy as np  # pylint: disable=g-import-not-at-top,g-bad-import-order
import tensorflow as tf  # pylint: disable=g-import-not-at-top

from tf_lstm.app import config as config_lib  # pylint: disable=g-import-not-at-top
from tf_lstm.app.data import pipeline  # pylint: disable=g-import-not-at-top
from tf_lstm.app.training import loop  # pylint: disable=g-import-not-at-top

NUM_TRAIN = 4096


def time_steps(strategy, global_batch, num_units, num_layers, steps, warmup=3):
  config = config_lib.TrainConfig(
      model=config_lib.ModelConfig(task="mnist", num_units=num_units, num_layers=num_layers),
      optimizer="adam", batch_size=global_batch, train_steps=steps + warmup)
  task, model, optimizer = loop.build(config, strategy)
  rng = np.random.RandomState(0)
  arrays = (rng.randint(0, 256, (NUM_TRAIN, 28, 28)).astype(np.uint8),
            rng.randint(0, 10, NUM_TRAIN).astype(np.int64))

  def dataset_fn(ctx):
    return pipeline.gather_batches(
        distribute.replica_index_batches(
            pipeline.train_dataset(NUM_TRAIN, global_batch, 0), ctx),
        arrays, task.train_transform(0))

  iterator = iter(strategy.distribute_datasets_from_function(dataset_fn))
  step = loop.make_train_step(model, optimizer, strategy=strategy,
                              loss_terms=task.loss_terms)
  for _ in range(warmup):
    float(step(*next(iterator))[0])
  start = time.perf_counter()
  for _ in range(steps):
    float(step(*next(iterator))[0])   # the loop reads the loss every step too
  return steps / (time.perf_counter() - start)


def main():
  parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
  parser.add_argument("--per_replica", default="16,64,256")
  parser.add_argument("--steps", type=int, default=30)
  parser.add_argument("--num_units", type=int, default=128)
  parser.add_argument("--num_layers", type=int, default=1)
  args = parser.parse_args()
  single = tf.distribute.get_strategy()
  print(f"TF {tf.__version__}, {os.cpu_count()} CPU cores, LSTM {args.num_layers}x"
        f"{args.num_units}, Adam, {args.steps} timed steps after 3 warm-up")
  print(f"{'per-replica b':>13} | {'1 dev, batch b':>20} | {'1 dev, batch 2b':>20} | "
        f"{'2 replicas, 2b':>20} | 2 rep / 1 dev@2b")
  rows = []
  for b in [int(x) for x in args.per_replica.split(",")]:
    runs = [(single, b), (single, 2 * b), (MIRRORED, 2 * b)]
    rates = [time_steps(s, g, args.num_units, args.num_layers, args.steps) for s, g in runs]
    cells = [f"{r:6.1f} st/s {r * g:7.0f} ex/s" for r, (_, g) in zip(rates, runs)]
    ratio = rates[2] / rates[1]
    rows.append((b, ratio))
    print(f"{b:>13} | {cells[0]:>20} | {cells[1]:>20} | {cells[2]:>20} | {ratio:.2f}")
  paying = [b for b, ratio in rows if ratio >= 1.0]
  print("2 replicas at least match 1 device on the same global batch from per-replica "
        f"batch {paying[0]}" if paying else
        "2 logical replicas never beat 1 device on the same global batch here")


if __name__ == "__main__":
  main()
