#!/usr/bin/env python3
"""PTB benchmark: LSTM language model vs an interpolated Kneser-Ney trigram.

Offline only ptb.valid.txt (70k words) and ptb.test.txt exist, so both models
train on ptb.valid.txt and are scored on ptb.test.txt, with the same
vocabulary (the training file's words + <unk>, <eos> ending each line) and on
the same target words: those the LSTM's contiguous batching scores (row b of
B predicts stream positions b*L + 1 ... b*L + E*T).  The trigram sees the
stream's two previous words as history (across line ends, like the LSTM).

  python benchmarks/ptb.py [--data_dir=../shared/data/ptb-sample] [--model_dir=/tmp/ptb_bench]
                           [-- more bin/train flags]
"""

import argparse
import collections
import json
import math
import os
import shutil
import subprocess
import sys
import time

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from tf_lstm.app.data import ptb as ptb_data  # noqa: E402

# --config=small's network (2 x 200, 20-word windows, batch 20), regularised for
# 70k training words: tied embeddings, dropout 0.6, Adam 2e-3 with a cosine decay
# over 40 epochs (the tutorial's SGD 1.0 plateaus with 184 steps per epoch).
# Results: docs/benchmarks.md.
FLAGS = ["--task=ptb", "--config=small", "--train_file=ptb.valid.txt",
         "--eval_file=ptb.test.txt", "--tie_embeddings", "--dropout=0.6",
         "--optimizer=adam", "--learning_rate=2e-3", "--lr_schedule=cosine", "--epochs=40",
         "--log_every=184", "--checkpoint_every=1000"]


def discount(counts):
  """Ney's absolute discount ``n1 / (n1 + 2 n2)`` from a counts dict."""
  n = collections.Counter(c for c in counts.values() if c <= 2)
  return n[1] / (n[1] + 2 * n[2]) if n[1] else 0.5


class KneserNeyTrigram:
  """Interpolated Kneser-Ney (Chen & Goodman 1998), one discount per order.

  ``P3(w|u,v) = max(c(uvw) - D3, 0) / c(uv.) + D3 N1+(uv.) / c(uv.) * P2(w|v)``
  ``P2(w|v) = max(N1+(.vw) - D2, 0) / N1+(.v.) + D2 N1+(v.) / N1+(.v.) * P1(w)``
  ``P1(w) = max(N1+(.w) - D1, 0) / N1+(..) + D1 N1+(.) / N1+(..) / V``
  (``N1+(.vw)``: distinct words before ``vw``; an unseen context passes its mass down).
  """

  def __init__(self, ids, vocab_size):
    self.V = vocab_size
    tri = collections.Counter(zip(ids, ids[1:], ids[2:]))
    self.c3 = tri
    self.c2ctx = collections.Counter()      # c(uv.)
    self.n3ctx = collections.Counter()      # N1+(uv.)
    for (u, v, _), c in tri.items():
      self.c2ctx[u, v] += c
      self.n3ctx[u, v] += 1
    self.cont2 = collections.Counter((v, w) for (_, v, w) in tri)   # N1+(.vw)
    bi = set(zip(ids, ids[1:]))
    self.cont1 = collections.Counter(w for (_, w) in bi)             # N1+(.w)
    self.n1total = len(bi)                                           # N1+(..)
    self.cont2ctx = collections.Counter()   # N1+(.v.) = sum_w N1+(.vw)
    self.n2ctx = collections.Counter()      # N1+(v.) among continuation bigrams
    for (v, _), c in self.cont2.items():
      self.cont2ctx[v] += c
      self.n2ctx[v] += 1
    self.d3, self.d2, self.d1 = discount(tri), discount(self.cont2), discount(self.cont1)

  def p1(self, w):
    return (max(self.cont1[w] - self.d1, 0) / self.n1total
            + self.d1 * len(self.cont1) / self.n1total / self.V)

  def p2(self, v, w):
    ctx = self.cont2ctx[v]
    if not ctx:
      return self.p1(w)
    return (max(self.cont2[v, w] - self.d2, 0) / ctx
            + self.d2 * self.n2ctx[v] / ctx * self.p1(w))

  def p3(self, u, v, w):
    ctx = self.c2ctx[u, v]
    if not ctx:
      return self.p2(v, w)
    return (max(self.c3[u, v, w] - self.d3, 0) / ctx
            + self.d3 * self.n3ctx[u, v] / ctx * self.p2(v, w))


def scored_positions(n, batch_size, num_steps):
  """Stream positions of the targets the LSTM's evaluation scores."""
  length = n // batch_size
  span = (length - 1) // num_steps * num_steps
  return np.concatenate([b * length + 1 + np.arange(span) for b in range(batch_size)])


def kn_perplexity(train_path, eval_path, batch_size, num_steps):
  train_words = ptb_data.read_words(train_path)
  vocab = ptb_data.build_vocab(train_words)
  train = ptb_data.to_ids(train_words, vocab).tolist()
  test = ptb_data.to_ids(ptb_data.read_words(eval_path), vocab).tolist()
  lm = KneserNeyTrigram(train, len(vocab))
  # Sanity: a distribution over the vocabulary for a seen and an unseen context.
  for u, v in ((train[0], train[1]), (len(vocab) - 1, len(vocab) - 1)):
    total = sum(lm.p3(u, v, w) for w in range(len(vocab)))
    assert abs(total - 1) < 1e-6, total
  logp = [math.log(lm.p3(test[i - 2] if i >= 2 else -1, test[i - 1], test[i]))
          for i in scored_positions(len(test), batch_size, num_steps)]
  return math.exp(-sum(logp) / len(logp)), len(logp), len(vocab)


def main():
  parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
  parser.add_argument("--data_dir", default=os.path.join(os.path.dirname(ROOT), "shared",
                                                         "data", "ptb-sample"))
  parser.add_argument("--model_dir", default="/tmp/ptb_bench")
  parser.add_argument("extra", nargs="*", help="more bin/train flags (override the above)")
  args = parser.parse_args()
  train_path = os.path.join(args.data_dir, "ptb.valid.txt")
  eval_path = os.path.join(args.data_dir, "ptb.test.txt")
  t = time.time()
  kn, n, v = kn_perplexity(train_path, eval_path, 20, 20)
  print(f"KN trigram: test perplexity {kn:.1f} on {n} words, vocabulary {v} "
        f"(discounts fitted on ptb.valid.txt, {time.time() - t:.0f} s)", flush=True)
  shutil.rmtree(args.model_dir, ignore_errors=True)
  cmd = [sys.executable, os.path.join(ROOT, "bin", "train"), *FLAGS, *args.extra,
         f"--data_dir={args.data_dir}", f"--model_dir={args.model_dir}",
         f"--export_dir={os.path.join(args.model_dir, 'export')}"]
  print(" ".join(cmd), flush=True)
  t = time.time()
  proc = subprocess.run(cmd, cwd=ROOT, env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2"))
  if proc.returncode:
    return proc.returncode
  with open(os.path.join(args.model_dir, "results.json")) as f:
    r = json.load(f)
  lstm = r["test_perplexity"]
  print(f"PTB (train ptb.valid.txt, test ptb.test.txt): LSTM test perplexity {lstm:.1f} "
        f"on {r['test_examples']} words ({r['global_step']} steps, {r['train_seconds']:.0f} s "
        f"training, wall {time.time() - t:.0f} s); KN trigram {kn:.1f}; "
        f"LSTM lower: {'YES' if lstm < kn else 'NO'}")
  return 0 if lstm < kn else 2


if __name__ == "__main__":
  sys.exit(main())
