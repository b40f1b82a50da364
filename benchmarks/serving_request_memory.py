#!/usr/bin/env python3
"""Peak memory of one IMDB text request against the export's request limits.

  python benchmarks/serving_request_memory.py [--vocab_size=20000 --embedding_dim=64
      --num_units=128 --max_length=600]

Exports an IMDB model of the given sizes (random weights: memory only) with
``tf_lstm.app.export.saved_model.export``, then, for each request, loads it in
a fresh process, sends two texts (warm-up), then the request, and reports how
much the request raised the process's peak RSS (``ru_maxrss``).  Requests: the
issue-20 probe (100,000 copies of "nice film") and full-length texts filling
the position limit (``request_limits.MAX_REQUEST_POSITIONS``).
"""

import argparse
import os
import subprocess
import sys
import tempfile

_MEASURE = """
import resource, sys, time
import tensorflow as tf
serve = tf.saved_model.load(sys.argv[1]).signatures["serving_default"]
text, rows = sys.argv[2], int(sys.argv[3])
serve(text=tf.constant([text] * 2))
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
start = time.perf_counter()
serve(text=tf.constant([text] * rows))["probabilities"].numpy()
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
  args = parser.parse_args()

  from tf_lstm.app import config as config_lib  # pylint: disable=g-import-not-at-top
  from tf_lstm.app import tasks  # pylint: disable=g-import-not-at-top
  from tf_lstm.app.export import request_limits  # pylint: disable=g-import-not-at-top
  from tf_lstm.app.export import saved_model  # pylint: disable=g-import-not-at-top
  from tf_lstm.app.export import text_serving  # pylint: disable=g-import-not-at-top

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
  print("| request | positions | peak RSS added (GiB) | seconds |")
  print("| --- | ---: | ---: | ---: |")
  with tempfile.TemporaryDirectory() as tmp:
    export = saved_model.export(module, os.path.join(tmp, "export"))
    for text, rows in requests:
      words_per_text = min(len(text.split()), args.max_length)
      out = subprocess.run([sys.executable, "-c", _MEASURE, export, text, str(rows)],
                           capture_output=True, text=True, check=True,
                           env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"})
      gib, seconds = out.stdout.split()
      print(f"| {rows} texts x {words_per_text} words | {rows * words_per_text} | {gib} | "
            f"{seconds} |")


if __name__ == "__main__":
  main()
