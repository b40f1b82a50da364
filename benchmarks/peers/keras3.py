"""Benchmark worker: Keras 3 ``keras.layers.LSTM`` of the same size.

``Sequential([LSTM(N, return_sequences=...)] * L + [Dense(C)])``, Adam,
sparse categorical cross-entropy from logits, stepped with
``model.train_on_batch`` (Keras' own compiled train function, as ``fit`` uses).
"""

import os
import sys

os.environ.pop("TF_USE_LEGACY_KERAS", None)
os.environ.setdefault("KERAS_BACKEND", "tensorflow")

import _worker  # pylint: disable=g-import-not-at-top
import keras  # pylint: disable=g-import-not-at-top
import numpy as np

LAYERS = {"lstm": "LSTM", "gru": "GRU", "rnn": "SimpleRNN"}


def main():
  cfg = _worker.config()
  b, t, d, c = cfg["batch_size"], cfg["time_steps"], cfg["input_depth"], cfg["num_classes"]
  keras.utils.set_random_seed(0)
  layer = getattr(keras.layers, LAYERS[cfg["cell"]])
  stack = [keras.Input((t, d), batch_size=b)]
  for k in range(cfg["num_layers"]):
    stack.append(layer(cfg["num_units"], return_sequences=k + 1 < cfg["num_layers"]))
  stack.append(keras.layers.Dense(c))
  model = keras.Sequential(stack)
  model.compile(optimizer=keras.optimizers.Adam(1e-3),
                loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
  rng = np.random.RandomState(0)
  x = rng.rand(b, t, d).astype(np.float32)
  y = rng.randint(0, c, b).astype(np.int32)

  def step():
    return float(model.train_on_batch(x, y))

  _worker.serve(step, {"what": f"keras {keras.__version__} {LAYERS[cfg['cell']]} "
                               "model.train_on_batch (jit_compile=auto)"})


if __name__ == "__main__":
  sys.exit(main())
