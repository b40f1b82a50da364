"""Benchmark worker: the port's training step exactly as ``bin/train`` runs it.

``loop.build`` + ``loop.make_train_step`` (forward, backward, Adam), fed the
same fixed batch every step, synchronised with ``float(loss)`` like the loop.
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
from tf_lstm import unroll
from tf_lstm.app.training import loop


def main():
  cfg = _worker.config()
  if cfg.get("intra_op_threads"):
    tf.config.threading.set_intra_op_parallelism_threads(cfg["intra_op_threads"])
  if cfg.get("inter_op_threads"):
    tf.config.threading.set_inter_op_parallelism_threads(cfg["inter_op_threads"])
  b, t, d = cfg["batch_size"], cfg["time_steps"], cfg["input_depth"]
  what = "loop.make_train_step (tf.function, GradientTape, ResourceApplyAdam), float(loss)"
  if cfg.get("fused_unroll"):   # the experiment benchmarks/fused_lstm.py replaces the unroll
    from benchmarks import fused_lstm
    one_product = cfg.get("one_product_weight_gradient", True)
    unroll.static_rnn = lambda *a, **k: fused_lstm.static_rnn(
        *a, **k, one_product_weight_gradient=one_product)
    what += f"; fused_lstm.static_rnn(one_product_weight_gradient={one_product})"
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
  if dtype != "float32":
    what += f"; compute_dtype={dtype}"
  step_fn = loop.make_train_step(model, optimizer, compute_dtype=dtype)
  rng = np.random.RandomState(0)
  x = tf.constant(rng.rand(b, t, d).astype(np.float32))
  y = tf.constant(rng.randint(0, cfg["num_classes"], b).astype(np.int32))

  def step():
    loss, _, _ = step_fn(x, y)
    return float(loss)

  _worker.serve(step, {"what": what,
                       "threads": [tf.config.threading.get_intra_op_parallelism_threads(),
                                   tf.config.threading.get_inter_op_parallelism_threads()]})


if __name__ == "__main__":
  main()
