"""Text generation from a trained language model (``bin/sample``)."""

import numpy as np
import tensorflow as tf

from tf_lstm.app.data import ptb as ptb_data
from tf_lstm.app.export import from_checkpoint


def load_trained(model_dir):
  """``(model, words, step)`` from ``model_dir``'s config, vocab.txt and newest checkpoint."""
  config = from_checkpoint.read_run_config(model_dir)
  if config.model.task != "ptb":
    raise ValueError(f"{model_dir} holds a {config.model.task} run; sampling needs "
                     "a ptb language model")
  _, task, model, step = from_checkpoint.restore_latest_model(model_dir, config)
  return model, task.words, step


def sample(model, prime_ids, length, temperature=1.0, seed=0):
  """``length`` ids drawn after ``prime_ids``: ``w_{k+1} ~ softmax(logits_k / temperature)``,
  draw ``k`` from the stateless seed ``(seed, k)`` (same seed, same text)."""
  if temperature <= 0:
    raise ValueError(f"temperature must be > 0, got {temperature}")
  step = tf.function(lambda ids, state: model.unroll(ids, state))
  ids = tf.constant([list(prime_ids)], tf.int32)
  logits, state = model.unroll(ids)
  out = []
  for k in range(length):
    draw = tf.random.stateless_categorical(logits[:, -1] / temperature, 1,
                                           seed=[seed, k], dtype=tf.int32)
    out.append(int(draw[0, 0]))
    logits, state = step(draw, state)
  return out


def words_to_ids(words, vocab):
  """Prime words -> ids (unknown -> ``<unk>``); ``<eos>`` if empty."""
  return ptb_data.to_ids(list(words) or [ptb_data.EOS], vocab).tolist()


def to_text(ids, vocab):
  """Words joined by spaces, a line break for each ``<eos>``."""
  words = np.asarray(vocab, dtype=object)[ids]
  return " ".join(words).replace(f" {ptb_data.EOS} ", "\n").replace(ptb_data.EOS, "\n")
