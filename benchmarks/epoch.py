#!/usr/bin/env python3
"""One MNIST epoch's worth of bin/train steps (469 x batch 128), and its parts.

  python benchmarks/epoch.py --data_dir=../shared/data/mnist-5k [--steps=469]

Prints, for the same model (bin/train flags --num_layers/--num_units):
  bin/train   wall time of ``--train_steps=STEPS`` as results.json reports it
              (train_seconds: the step loop, first step's tracing included)
  steps only  the same number of ``loop.make_train_step`` calls on one fixed
              batch with float(loss) (no input pipeline, no logging), tracing excluded
  pipeline    iterating the training tf.data pipeline alone for STEPS batches
              (index shuffle, gather, scale, random shift): its share of the epoch
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
sys.path.insert(0, os.path.join(ROOT, "bin"))
import tf_env  # noqa: E402  pylint: disable=g-import-not-at-top
tf_env.apply()   # the parts measured in this process use bin/train's kernels


def main():
  parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
  parser.add_argument("--data_dir", default=os.path.join(os.path.dirname(ROOT), "shared",
                                                        "data", "mnist-5k"))
  parser.add_argument("--steps", type=int, default=469)
  parser.add_argument("--batch_size", type=int, default=128)
  parser.add_argument("--num_layers", type=int, default=1)
  parser.add_argument("--num_units", type=int, default=128)
  parser.add_argument("--augment_shift", type=int, default=2)
  args = parser.parse_args()

  with tempfile.TemporaryDirectory() as tmp:
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2")
    t0 = time.perf_counter()
    subprocess.run(
        [sys.executable, os.path.join(ROOT, "bin", "train"), "--task=mnist",
         f"--data_dir={args.data_dir}", f"--model_dir={tmp}/model",
         f"--train_steps={args.steps}", f"--batch_size={args.batch_size}",
         f"--num_layers={args.num_layers}", f"--num_units={args.num_units}",
         f"--augment_shift={args.augment_shift}", "--checkpoint_every=1000000",
         f"--log_every={args.steps}"], check=True, env=env, capture_output=True)
    process_s = time.perf_counter() - t0
    with open(os.path.join(tmp, "model", "results.json")) as f:
      train_s = json.load(f)["train_seconds"]


  import tensorflow as tf  # pylint: disable=g-import-not-at-top
  from tf_lstm.app import config as config_lib  # pylint: disable=g-import-not-at-top
  from tf_lstm.app import tasks  # pylint: disable=g-import-not-at-top
  from tf_lstm.app.data import pipeline  # pylint: disable=g-import-not-at-top
  from tf_lstm.app.training import loop  # pylint: disable=g-import-not-at-top

  task = tasks.get("mnist")
  data = task.load(args.data_dir)
  arrays = task.train_arrays(data)
  ds = pipeline.gather_batches(
      pipeline.train_dataset(len(arrays[0]), args.batch_size, 0),
      arrays, task.train_transform(args.augment_shift))
  it = iter(ds)
  next(it)
  t0 = time.perf_counter()
  for _ in range(args.steps):
    next(it)
  pipeline_s = time.perf_counter() - t0

  cfg = config_lib.TrainConfig(
      model=config_lib.ModelConfig(num_layers=args.num_layers, num_units=args.num_units),
      batch_size=args.batch_size)
  _, model, optimizer = loop.build(cfg)
  step_fn = loop.make_train_step(model, optimizer)
  x, y = next(it)
  t0 = time.perf_counter()
  float(step_fn(x, y)[0])
  first_s = time.perf_counter() - t0
  t0 = time.perf_counter()
  for _ in range(args.steps):
    float(step_fn(x, y)[0])
  steps_s = time.perf_counter() - t0

  rows = [("bin/train --train_steps (results.json train_seconds)", train_s),
          ("  same, whole process incl. imports/eval/save", process_s),
          ("make_train_step x steps, fixed batch (first step excluded)", steps_s),
          ("  first step (tracing)", first_s),
          ("input pipeline alone, steps batches", pipeline_s)]
  print(f"{args.steps} steps of batch {args.batch_size}, {args.num_layers} x "
        f"{args.num_units} lstm, augment_shift {args.augment_shift}")
  print("| what | s | ms/step |")
  print("| --- | ---: | ---: |")
  for name, s in rows:
    print(f"| {name} | {s:.1f} | {s / args.steps * 1e3:.1f} |")
  print(f"input pipeline / bin/train epoch: {pipeline_s / train_s:.0%}; "
        f"loop overhead beyond the bare steps: {(train_s - steps_s - first_s) / train_s:.0%}; "
        f"load average {os.getloadavg()[0]:.1f}")



if __name__ == "__main__":
  main()
