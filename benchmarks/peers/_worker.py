"""The protocol every benchmark worker speaks (one peer per subprocess).

A worker is started as ``python benchmarks/peers/<peer>.py '<config json>'``.
It builds its model, times the first training step (tracing / graph building
included) and a few warm-up steps, then prints one JSON line
``{"ready": true, "first_step_ms": ..., "warmup_ms": ..., "info": ...}``.
Then, for each stdin line ``run K`` it runs K training steps, each ending in a
host sync (as ``bin/train`` does with ``float(loss)``), and prints
``{"ms_per_step": ..., "cpu_ms_per_step": ...}`` (wall and process CPU time); ``quit`` (or EOF) ends it.  The driver
(``bin/benchmark``) interleaves the ``run`` requests of all workers so that
they share the machine's load fairly.
"""

import json
import sys
import time

WARMUP_STEPS = 3


def config():
  return json.loads(sys.argv[1])


def serve(step, info=None):
  """``step()`` runs one synchronised training step; answers the driver."""
  t0 = time.perf_counter()
  step()
  first = time.perf_counter() - t0
  t0 = time.perf_counter()
  for _ in range(WARMUP_STEPS):
    step()
  warm = (time.perf_counter() - t0) / WARMUP_STEPS
  _say({"ready": True, "first_step_ms": first * 1e3, "warmup_ms": warm * 1e3,
        "info": info or {}})
  for line in sys.stdin:
    cmd = line.split()
    if not cmd or cmd[0] == "quit":
      break
    if cmd[0] != "run":
      _say({"error": f"unknown command {line!r}"})
      continue
    n = int(cmd[1])
    t0, c0 = time.perf_counter(), time.process_time()
    for _ in range(n):
      step()
    _say({"ms_per_step": (time.perf_counter() - t0) / n * 1e3,
          "cpu_ms_per_step": (time.process_time() - c0) / n * 1e3})


def _say(obj):
  sys.stdout.write(json.dumps(obj) + "\n")
  sys.stdout.flush()
