"""Benchmark worker: the port's training step exactly as ``bin/train`` runs it.

``loop.build`` + ``loop.make_train_step`` (forward, backward, Adam), fed the
same fixed batch every step, synchronised with ``float(loss)`` like the loop.
The LSTM's training unroll is chosen by timing at start-up, as bin/train does
(``autotune``), unless the config names one (``training_unroll``).
"""

import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, ROOT)
sys.path.insert(0, os.path.join(ROOT, "bin"))
import tf_env  # pylint: disable=g-import-not-at-top
tf_env.apply()   # the settings bin/train runs with

import _worker  # pylint: disable=g-import-not-at-top
import numpy as np
import tensorflow as tf

from tf_lstm.app import config as config_lib
from tf_lstm.app import losses
from tf_lstm.app.training import autotune
from tf_lstm.app.training import loop


def main():
  cfg = _worker.config()
  if cfg.get("intra_op_threads"):
    tf.config.threading.set_intra_op_parallelism_threads(cfg["intra_op_threads"])
  if cfg.get("inter_op_threads"):
    tf.config.threading.set_inter_op_parallelism_threads(cfg["inter_op_threads"])
  b, t, d = cfg["batch_size"], cfg["time_steps"], cfg["input_depth"]
  what = "loop.make_train_step (tf.function, GradientTape, ResourceApplyAdam), float(loss)"
  model_cfg = config_lib.ModelConfig(task="mnist", cell=cfg["cell"],
                                     num_layers=cfg["num_layers"], num_units=cfg["num_units"])
  train_cfg = config_lib.TrainConfig(model=model_cfg, optimizer="adam", batch_size=b)
  _, model, optimizer = loop.build(train_cfg)
  if d != 28:   # the mnist model reads 28-pixel rows; other depths: same model class
    from tf_lstm.app import models
    tf.random.set_seed(0)
    model = models.SequenceClassifier(
        models.make_cell(cfg["cell"], cfg["num_units"], cfg["num_layers"]),
        cfg["num_classes"], input_depth=d)
    optimizer = type(optimizer)(train_cfg.learning_rate)
    optimizer.build(model.trainable_variables)
  dtype = cfg.get("dtype", "float32")
  rng = np.random.RandomState(0)
  x = tf.constant(rng.rand(b, t, d).astype(np.float32))
  y = tf.constant(rng.randint(0, cfg["num_classes"], b).astype(np.int32))
  tune_log = []
  if cfg.get("training_unroll"):
    model.training_unroll = cfg["training_unroll"]
  elif autotune.tunable(model):   # as bin/train does at start-up (a long run)
    autotune.choose_unroll(model, losses.classification_terms, x, y, dtype, tune_log.append)
  if dtype != "float32":
    what += f"; compute_dtype={dtype}"
  step_fn = loop.make_train_step(model, optimizer, compute_dtype=dtype)

  def step():
    loss, _, _ = step_fn(x, y)
    return float(loss)

  unroll = model.training_unroll if autotune.tunable(model) else "autodiff"
  what += f"; training_unroll={unroll}" + (f" ({tune_log[0]})" if tune_log else "")
  _worker.serve(step, {"what": what, "training_unroll": unroll, "autotune": tune_log,
                       "threads": [tf.config.threading.get_intra_op_parallelism_threads(),
                                   tf.config.threading.get_inter_op_parallelism_threads()]})


if __name__ == "__main__":
  main()
