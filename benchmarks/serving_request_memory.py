#!/usr/bin/env python3
"""Peak memory of one IMDB text (or MNIST image) request against the export's request limits.

  python benchmarks/serving_request_memory.py [--vocab_size=20000 --embedding_dim=64
      --num_units=128 --max_length=600]
  python benchmarks/serving_request_memory.py --task=mnist [--num_units=128 --num_layers=1]

Exports an IMDB model of the given sizes (random weights: memory only) with
``tf_lstm.app.export.saved_model.export``, then, for each request, loads it in
a fresh process, sends two texts (warm-up), then the request, and reports how
much the request raised the process's peak RSS (``ru_maxrss``).  Requests: the
issue-20 probe (100,000 copies of "nice film") and full-length texts filling
the position limit (``request_limits.MAX_REQUEST_POSITIONS``).  ``--task=mnist``:
10,000 zero images and the image limit (``MAX_REQUEST_IMAGES``) to ``predict_uint8``.
"""

import argparse
import os
import subprocess
import sys
import tempfile

_MEASURE = """
import resource, sys, time
import tensorflow as tf
text, rows = sys.argv[2], int(sys.argv[3])
if text:
  serve = tf.saved_model.load(sys.argv[1]).signatures["serving_default"]
  request = lambda n: dict(text=tf.constant([text] * n))
else:
  serve = tf.saved_model.load(sys.argv[1]).signatures["predict_uint8"]
  request = lambda n: dict(images=tf.zeros([n, 28, 28], tf.uint8))
serve(**request(2))
inputs = request(rows)
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
start = time.perf_counter()
serve(**inputs)["probabilities"].numpy()
seconds = time.perf_counter() - start
after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(f"{(after - before) / 2**20:.2f} {seconds:.1f}")
"""


def main():
  parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
  parser.add_argument("--vocab_size", type=int, default=20000)
  parser.add_argument("--embedding_dim", type=int, default=64)
  parser.add_argument("--num_units", type=int, default=128)
  parser.add_argument("--max_length", type=int, default=600)
  parser.add_argument("--task", choices=["imdb", "mnist"], default="imdb")
  parser.add_argument("--num_layers", type=int, default=1, help="mnist only")
  args = parser.parse_args()

  from tf_lstm.app import config as config_lib  # pylint: disable=g-import-not-at-top
  from tf_lstm.app import tasks  # pylint: disable=g-import-not-at-top
  from tf_lstm.app.export import request_limits  # pylint: disable=g-import-not-at-top
  from tf_lstm.app.export import saved_model  # pylint: disable=g-import-not-at-top
  from tf_lstm.app.export import text_serving  # pylint: disable=g-import-not-at-top

  if args.task == "mnist":
    from tf_lstm.app.export import image_serving  # pylint: disable=g-import-not-at-top
    config = config_lib.ModelConfig(num_units=args.num_units, num_layers=args.num_layers)
    module = image_serving.ImageServing(tasks.get("mnist").build_model(config))
    print(f"MNIST export: {args.num_layers} x LSTM({args.num_units}); "
          f"limit {request_limits.MAX_REQUEST_IMAGES} images")
    _report(module, [("", 10_000), ("", request_limits.MAX_REQUEST_IMAGES)], saved_model)
    return
  words = [f"w{i}" for i in range(args.vocab_size)]
  config = config_lib.ModelConfig(task="imdb", vocab_size=args.vocab_size,
                                  embedding_dim=args.embedding_dim, num_units=args.num_units)
  module = text_serving.TextClassifierServing(tasks.get("imdb").build_model(config), words,
                                              args.max_length)
  long_text = " ".join(words[i % len(words)] for i in range(args.max_length))
  requests = [("nice film", 100_000),
              (long_text, request_limits.MAX_REQUEST_POSITIONS // args.max_length)]
  print(f"IMDB export: vocab {args.vocab_size}, embedding {args.embedding_dim}, "
        f"LSTM({args.num_units}), max_length {args.max_length}; "
        f"limit {request_limits.MAX_REQUEST_POSITIONS} positions")
  _report(module, requests, saved_model, args.max_length)


def _report(module, requests, saved_model, max_length=None):
  """Exports ``module``, then measures each ``(text, rows)`` request (``""``: images)."""
  print("| request | positions | peak RSS added (GiB) | seconds |")
  print("| --- | ---: | ---: | ---: |")
  with tempfile.TemporaryDirectory() as tmp:
    export = saved_model.export(module, os.path.join(tmp, "export"))
    for text, rows in requests:
      out = subprocess.run([sys.executable, "-c", _MEASURE, export, text, str(rows)],
                           capture_output=True, text=True, check=True,
                           env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"})
      gib, seconds = out.stdout.split()
      if text:
        words = min(len(text.split()), max_length)
        print(f"| {rows} texts x {words} words | {rows * words} | {gib} | {seconds} |")
      else:
        print(f"| {rows} images x 28 steps | {rows * 28} | {gib} | {seconds} |")


if __name__ == "__main__":
  main()
