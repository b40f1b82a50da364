#!/usr/bin/env python3
"""Serving latency of the exported SavedModel vs a TF1 session vs Keras 3.

  python benchmarks/export_latency.py [--num_layers=2 --num_units=128 --rounds=5]
      [--tcmalloc=/usr/lib/x86_64-linux-gnu/libtcmalloc_minimal.so.4]

Same network everywhere: ``num_layers`` x LSTM(``num_units``) over 28 rows of
28 pixels, linear head to 10 classes, random weights (speed only).  Each
implementation runs in its own fresh process (Keras 3, tf-keras and tf_lstm
never share one), rounds interleave them, and the table reports medians over
rounds of: batch-1 request latency (median and p99 of ``--requests`` calls),
batch-256 throughput and, for the SavedModel and the session, the median of an
empty (batch-0) request: the same ops on empty tensors, i.e. the cost of the
call and of dispatching every op, without the arithmetic (not so for the XLA
export, which pads an empty batch to its bucket of 1).

- ``savedmodel``: ``tf.saved_model.load(E/1).signatures["serving_default"]``,
  exported by ``tf_lstm.app.export.saved_model.export`` (what ``bin/export`` writes);
  the loading process never imports tf_lstm.
- ``savedmodel_xla``: the same with ``bin/export --jit_compile`` (the network
  is an XLA function, compiled once per power-of-two batch bucket; the warm-up
  calls absorb that, and the first requests of a new bucket (b=37 -> 64) and
  of a new size in a compiled bucket (b=200 -> 256) are reported apart).
- ``tf1_session``: ``session.run`` on a ``tf.compat.v1`` static_rnn +
  MultiRNNCell(BasicLSTMCell) graph (TF_USE_LEGACY_KERAS=1), fetching the
  same three outputs.
- ``keras_call`` / ``keras_predict``: Keras 3 ``LSTM`` stack, ``model(x)`` and
  ``model.predict(x)``.
- ``savedmodel+tcmalloc`` / ``tf1_session+tcmalloc`` (with ``--tcmalloc=LIB``):
  the same two with tcmalloc preloaded as the process's allocator, as TF
  Serving's own binary has it.
- ``savedmodel_c_api``, ``savedmodel_xla_c_api``, ``tf1_session_c_api``: the
  two exports, and the same TF1 graph saved with ``simple_save``, each loaded
  with TensorFlow's C API (``TF_LoadSessionFromSavedModel``) and run with
  ``TF_SessionRun`` on the signature's tensors, called through ctypes from a
  process that never imports TensorFlow's Python package: how a C++ server
  (TF Serving's ``SavedModelBundle`` + ``Session::Run``) runs the model,
  without the Python call of the rows above.
"""

import argparse
import importlib.util
import json
import os
import subprocess
import sys
import tempfile
import textwrap

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# TF Serving's binary is linked with tcmalloc; a Python server can preload it.
TCMALLOC = "/usr/lib/x86_64-linux-gnu/libtcmalloc_minimal.so.4"

COMMON = """
import json, sys, time
import numpy as np
def latencies(call, x, requests):
  for _ in range(20):
    call(x)
  times = []
  for _ in range(requests):
    t = time.perf_counter(); call(x); times.append(time.perf_counter() - t)
  return 1e3 * np.array(times)
def measure(call, make, requests, big_batches, empty=False):
  times = latencies(call, make(1), requests)
  x256 = make(256)
  call(x256)
  t = time.perf_counter()
  for _ in range(big_batches):
    call(x256)
  result = {"median_ms": float(np.median(times)), "p99_ms": float(np.percentile(times, 99)),
            "throughput": 256 * big_batches / (time.perf_counter() - t)}
  if empty:   # every op still runs, on empty tensors: call + dispatch cost, no arithmetic
    result["b0_median_ms"] = float(np.median(latencies(call, make(0), requests)))
  return result
layers, units, requests, big_batches = map(int, sys.argv[2:6])
rng = np.random.default_rng(0)
"""

EXPORT = """
import sys
from tf_lstm.app import config as config_lib
from tf_lstm.app.training import loop
from tf_lstm.app.export import saved_model
layers, units, base = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
cfg = config_lib.TrainConfig(model=config_lib.ModelConfig(num_layers=layers, num_units=units))
task, model, _ = loop.build(cfg)
print(saved_model.export(task.serving_module(model), base, 1),
      saved_model.export(task.serving_module(model, jit_compile=True), base, 2))
"""

# The signature's tensor names, for the C API worker (which has no TF Python).
TENSOR_NAMES = """
import sys
from tensorflow.core.protobuf import saved_model_pb2
saved = saved_model_pb2.SavedModel()
with open(sys.argv[1] + "/saved_model.pb", "rb") as f:
  saved.ParseFromString(f.read())
sig = saved.meta_graphs[0].signature_def["serving_default"]
print(sig.inputs["images"].name,
      ",".join(sig.outputs[k].name for k in ("probabilities", "classes", "logits")))
"""

SAVEDMODEL = COMMON + """
import tensorflow as tf
sig = tf.saved_model.load(sys.argv[1]).signatures["serving_default"]
assert "tf_lstm" not in sys.modules
make = lambda b: tf.constant(rng.random((b, 28, 28), np.float32))
result = measure(lambda x: sig(images=x), make, requests, big_batches, empty=True)
# First request of a new size: 37 (XLA: a new power-of-two bucket, 64) and 200
# (XLA: in the bucket of 256, compiled by the throughput calls).
for size in (37, 200):
  t = time.perf_counter(); sig(images=make(size))
  result[f"new_batch_size_{size}_ms"] = 1e3 * (time.perf_counter() - t)
print(json.dumps({sys.argv[6]: result}))
"""

TF1_SESSION = COMMON + """
import os
assert os.environ["TF_USE_LEGACY_KERAS"] == "1"
import tensorflow as tf
v1 = tf.compat.v1
v1.disable_eager_execution()
images = v1.placeholder(tf.float32, [None, 28, 28], name="images")
cell = v1.nn.rnn_cell.MultiRNNCell(
    [v1.nn.rnn_cell.BasicLSTMCell(units) for _ in range(layers)])
outputs, _ = v1.nn.static_rnn(cell, tf.unstack(images, 28, 1), dtype=tf.float32)
w = tf.Variable(v1.random_normal([units, 10], stddev=0.1))
b = tf.Variable(tf.zeros([10]))
logits = tf.matmul(outputs[-1], w) + b
fetches = {"probabilities": tf.nn.softmax(logits), "classes": tf.argmax(logits, 1),
           "logits": logits}
sess = v1.Session()
sess.run(v1.global_variables_initializer())
if sys.argv[1] != "-":   # save the graph for the C API row instead
  v1.saved_model.simple_save(sess, sys.argv[1], {"images": images}, fetches)
  print(sys.argv[1])
  sys.exit()
make = lambda b: rng.random((b, 28, 28), np.float32)
print(json.dumps({sys.argv[6]: measure(lambda x: sess.run(fetches, {images: x}), make,
                                        requests, big_batches, empty=True)}))
"""

# argv[1]: "export_dir|input tensor|output tensors"; argv[7]: TensorFlow's package dir.
C_API = COMMON + """
import ctypes
export, input_name, output_names = sys.argv[1].split("|")
output_names = output_names.split(",")
lib = ctypes.CDLL(sys.argv[7] + "/libtensorflow_cc.so.2")
P, I = ctypes.c_void_p, ctypes.c_int
for name, restype, argtypes in [
    ("TF_NewStatus", P, []), ("TF_GetCode", I, [P]), ("TF_Message", ctypes.c_char_p, [P]),
    ("TF_NewGraph", P, []), ("TF_NewSessionOptions", P, []),
    ("TF_LoadSessionFromSavedModel", P,
     [P, P, ctypes.c_char_p, ctypes.POINTER(ctypes.c_char_p), I, P, P, P]),
    ("TF_GraphOperationByName", P, [P, ctypes.c_char_p]),
    ("TF_AllocateTensor", P, [I, ctypes.POINTER(ctypes.c_int64), I, ctypes.c_size_t]),
    ("TF_TensorData", P, [P]), ("TF_DeleteTensor", None, [P]),
    ("TF_SessionRun", None, [P, P, P, P, I, P, P, I, P, I, P, P])]:
  getattr(lib, name).restype, getattr(lib, name).argtypes = restype, argtypes
class Output(ctypes.Structure):
  _fields_ = [("oper", P), ("index", I)]
status = lib.TF_NewStatus()
def check():
  if lib.TF_GetCode(status):
    raise RuntimeError(lib.TF_Message(status).decode())
graph = lib.TF_NewGraph()
session = lib.TF_LoadSessionFromSavedModel(lib.TF_NewSessionOptions(), None, export.encode(),
                                           (ctypes.c_char_p * 1)(b"serve"), 1, graph, None,
                                           status)
check()
def output(name):
  op, _, index = name.partition(":")
  oper = lib.TF_GraphOperationByName(graph, op.encode())
  if not oper:
    raise RuntimeError(f"no operation {op} in {export}")
  return Output(oper, int(index or 0))
inputs = (Output * 1)(output(input_name))
outputs = (Output * len(output_names))(*map(output, output_names))
values = (P * len(output_names))()
def make(b):
  x = rng.random((b, 28, 28), np.float32)
  tensor = lib.TF_AllocateTensor(1, (ctypes.c_int64 * 3)(*x.shape), 3, x.nbytes)   # 1: TF_FLOAT
  ctypes.memmove(lib.TF_TensorData(tensor), x.ctypes.data, x.nbytes)
  return (P * 1)(tensor)
def call(x):
  lib.TF_SessionRun(session, None, inputs, x, 1, outputs, values, len(values), None, 0, None,
                    status)
  check()
  for value in values:
    lib.TF_DeleteTensor(value)
assert "tensorflow" not in sys.modules
print(json.dumps({sys.argv[6]: measure(call, make, requests, big_batches, empty=True)}))
"""

KERAS = COMMON + """
import keras
assert keras.__version__.startswith("3"), keras.__version__
stack = [keras.layers.LSTM(units, return_sequences=True) for _ in range(layers - 1)]
model = keras.Sequential([keras.Input((28, 28)), *stack, keras.layers.LSTM(units),
                          keras.layers.Dense(10)])
make = lambda b: rng.random((b, 28, 28), np.float32)
print(json.dumps({
    "keras_call": measure(lambda x: model(x), make, max(requests // 5, 20), big_batches),
    "keras_predict": measure(lambda x: model.predict(x, verbose=0), make,
                             max(requests // 5, 20), big_batches)}))
"""


def run(code, *args, legacy=False, preload=None):
  env = {k: v for k, v in os.environ.items()
         if k not in ("TF_USE_LEGACY_KERAS", "PYTHONPATH", "LD_PRELOAD")}
  env["TF_CPP_MIN_LOG_LEVEL"] = "2"
  if legacy:
    env["TF_USE_LEGACY_KERAS"] = "1"
  if preload:
    env["LD_PRELOAD"] = preload
  proc = subprocess.run([sys.executable, "-c", textwrap.dedent(code), *map(str, args)],
                        capture_output=True, text=True, env=env, cwd=tempfile.gettempdir())
  if proc.returncode != 0:
    raise RuntimeError(f"benchmark subprocess failed:\n{proc.stderr[-3000:]}")
  return proc.stdout.strip().splitlines()[-1]


def main():
  parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
  parser.add_argument("--num_layers", type=int, default=2)
  parser.add_argument("--num_units", type=int, default=128)
  parser.add_argument("--requests", type=int, default=300)
  parser.add_argument("--big_batches", type=int, default=10)
  parser.add_argument("--rounds", type=int, default=5)
  parser.add_argument("--tcmalloc", default="",
                      help="a tcmalloc shared library (Debian libtcmalloc-minimal4: "
                           f"{TCMALLOC}): the savedmodel and tf1_session rows are repeated "
                           "with it in LD_PRELOAD")
  args = parser.parse_args()
  sizes = [args.num_layers, args.num_units, args.requests, args.big_batches]
  if args.tcmalloc and not os.path.isfile(args.tcmalloc):
    parser.error(f"--tcmalloc: no file {args.tcmalloc} "
                 "(Debian: apt-get install libtcmalloc-minimal4)")
  with tempfile.TemporaryDirectory() as tmp:
    plain, xla = run(EXPORT.replace("import sys", f"import sys; sys.path.insert(0, {ROOT!r})", 1),
                     args.num_layers, args.num_units, os.path.join(tmp, "E")).split()
    tf1_export = os.path.join(tmp, "tf1", "1")
    run(TF1_SESSION, tf1_export, *sizes, "-", legacy=True)
    c_api = {name: "|".join([path, *run(TENSOR_NAMES, path).split()])
             for name, path in [("savedmodel_c_api", plain), ("savedmodel_xla_c_api", xla),
                                ("tf1_session_c_api", tf1_export)]}
    tf_dir = os.path.dirname(importlib.util.find_spec("tensorflow").origin)
    # (label, code, first argument, legacy, LD_PRELOAD)
    entries = [("savedmodel", SAVEDMODEL, plain, False, None),
               ("savedmodel_xla", SAVEDMODEL, xla, False, None),
               ("tf1_session", TF1_SESSION, "-", True, None),
               ("keras", KERAS, "-", False, None),
               *[(name, C_API, spec, False, None) for name, spec in c_api.items()]]
    if args.tcmalloc:
      entries += [("savedmodel+tcmalloc", SAVEDMODEL, plain, False, args.tcmalloc),
                  ("tf1_session+tcmalloc", TF1_SESSION, "-", True, args.tcmalloc)]
    results = {}
    for r in range(args.rounds):
      for label, code, first, legacy, preload in entries:
        out = run(code, first, *sizes, label, tf_dir, legacy=legacy, preload=preload)
        for name, m in json.loads(out).items():
          results.setdefault(name, []).append(m)
          print(f"round {r + 1} {name}: {m}", file=sys.stderr)
  median = lambda xs: sorted(xs)[len(xs) // 2]
  print(f"{args.num_layers} x LSTM({args.num_units}), 28 steps; medians over {args.rounds} "
        f"rounds; {os.cpu_count()} CPUs")
  print(f"{'implementation':<21} {'b=1 median ms':>14} {'b=1 p99 ms':>11} "
        f"{'b=256 ex/s':>11} {'vs tf1 session':>14} {'first b=37 ms':>14} {'first b=200 ms':>15} "
        f"{'b=0 median ms':>14}")
  for name, ms in results.items():
    # Each row against the session run the same way.
    session = ("tf1_session+tcmalloc" if name.endswith("+tcmalloc") else
               "tf1_session_c_api" if name.endswith("_c_api") else "tf1_session")
    ref = median([m["median_ms"] for m in results[session]])
    med = median([m["median_ms"] for m in ms])
    print(f"{name:<21} {med:>14.3f} {median([m['p99_ms'] for m in ms]):>11.3f} "
          f"{median([m['throughput'] for m in ms]):>11.0f} {med / ref:>13.2f}x "
          f"{median([m.get('new_batch_size_37_ms', float('nan')) for m in ms]):>14.1f} "
          f"{median([m.get('new_batch_size_200_ms', float('nan')) for m in ms]):>15.1f} "
          f"{median([m.get('b0_median_ms', float('nan')) for m in ms]):>14.3f}")


if __name__ == "__main__":
  main()
