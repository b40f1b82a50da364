"""Converts the newest checkpoint of a model directory (``bin/convert``).

Order: the output path is checked, the model restored and described
(``network``), the target model built (``to_keras`` / ``to_torch``) and run next to
the tf_lstm model on a few random inputs; only then are the files written, into
a temporary folder beside ``output`` and renamed into place.  Any refusal or
failure leaves nothing behind, and existing files are never overwritten.
"""

import os
import shutil
import tempfile

import numpy as np
import tensorflow as tf

from tf_lstm.app.convert import ConvertError
from tf_lstm.app.convert import network as network_lib
from tf_lstm.app.convert import to_keras
from tf_lstm.app.convert import to_torch
from tf_lstm.app.export import from_checkpoint
from tf_lstm.app.export import saved_model

SUFFIXES = {"keras": (".keras",), "torch": (".pt", ".pth")}
# The self-check's bound on |probability difference|: float32 models computing the same
# function differ by ~1e-6 on these short inputs (summation orders); a wrong gate order,
# a lost forget_bias or a misread mask moves probabilities by far more than 1e-4.
CHECK_TOL = 1e-4


def outputs(to, output):
  """The files ``convert`` writes: ``[output]`` (keras) or ``[output, <stem>.py]`` (torch)."""
  return [output] if to == "keras" else [output, to_torch.companion(output)]


def check_output(to, output):
  """``ConvertError`` for an unknown target, a wrong suffix or an existing file."""
  if to not in SUFFIXES:
    raise ConvertError(f"unknown target {to!r}; expected one of {', '.join(SUFFIXES)}")
  if not output.endswith(SUFFIXES[to]):
    raise ConvertError(f"--output {output}: a {to} model is written to a "
                       f"{' or '.join(SUFFIXES[to])} file")
  for path in outputs(to, output):
    if os.path.exists(path):
      raise ConvertError(f"{path} already exists; a conversion never overwrites a file "
                         "(remove it or give another --output)")
  parent = os.path.dirname(os.path.abspath(output))
  if os.path.exists(parent) and not os.path.isdir(parent):
    raise ConvertError(f"--output {output}: {parent} is not a directory")


def restore(model_dir):
  """``(config, model)`` of the newest checkpoint in ``model_dir``."""
  try:
    config, _, model, _ = from_checkpoint.restore_latest_model(model_dir)
  except saved_model.ExportError as e:
    raise ConvertError(str(e)) from e
  return config, model


def sample(network, batch=4, steps=12, seed=0):
  """Random inputs for ``network``: images ``[B, T, D]`` or ``(ids, lengths)`` with
  lengths from 1 to T and padding id 0 after them."""
  rng = np.random.RandomState(seed)
  if network.kind == "image":
    return rng.uniform(0.0, 1.0, [batch, steps, network.input_depth]).astype(np.float32)
  lengths = np.linspace(steps, 1, batch).astype(np.int32)
  ids = rng.randint(2, network.embedding.shape[0], [batch, steps]).astype(np.int32)
  ids[np.arange(steps)[None, :] >= lengths[:, None]] = 0
  return ids, lengths


def probabilities(to, converted, network, inputs):
  """What the converted model gives for ``inputs`` (``sample``'s), as probabilities."""
  if to == "keras":
    x = inputs if network.kind == "image" else inputs[0]
    return np.asarray(converted(x, training=False))
  torch = to_torch.import_torch()
  args = (inputs,) if network.kind == "image" else (inputs[0].astype(np.int64), inputs[1])
  with torch.no_grad():
    return converted(*map(torch.from_numpy, args)).softmax(-1).numpy()


def self_check(to, model, converted, network):
  """``ConvertError`` unless both models give the same probabilities; the largest
  difference otherwise."""
  inputs = sample(network)
  expected = tf.nn.softmax(model(inputs)).numpy()
  got = probabilities(to, converted, network, inputs)
  diff = float(np.max(np.abs(got - expected)))
  if not diff <= CHECK_TOL:
    raise ConvertError(f"the {to} model does not compute the tf_lstm model's function "
                       f"(probabilities differ by {diff:.3g} > {CHECK_TOL} on random "
                       "inputs); nothing written")
  return diff


def _write(to, converted, cfg, output):
  parent = os.path.dirname(os.path.abspath(output))
  os.makedirs(parent, exist_ok=True)
  staging = tempfile.mkdtemp(prefix=".tf_lstm_convert-", dir=parent)
  try:
    staged = os.path.join(staging, os.path.basename(output))
    if to == "keras":
      to_keras.save(converted, staged)
    else:
      to_torch.save(converted, cfg, staged)
    check_output(to, output)   # nothing appeared there meanwhile
    for path in outputs(to, output):
      os.replace(os.path.join(staging, os.path.basename(path)), path)
  finally:
    shutil.rmtree(staging, ignore_errors=True)


def convert(model_dir, to, output, log=print):
  """Converts ``model_dir``'s newest checkpoint to ``to`` ("keras" or "torch") at
  ``output``; returns the written paths.  ``ConvertError`` (nothing written) names
  the reason when the model has no exact counterpart there."""
  check_output(to, output)
  config, model = restore(model_dir)
  network = network_lib.describe(model)
  if to == "keras":
    converted, cfg = to_keras.build(network), None
  else:
    converted, cfg = to_torch.build(network)
  diff = self_check(to, model, converted, network)
  log(f"checked: on random inputs the {to} model's probabilities differ from the tf_lstm "
      f"model's ({config.model.task}, cell {config.model.cell}) by at most {diff:.2g}")
  try:
    _write(to, converted, cfg, output)
  except OSError as e:
    raise ConvertError(f"cannot write {output} ({e}); nothing written") from e
  return outputs(to, output)
