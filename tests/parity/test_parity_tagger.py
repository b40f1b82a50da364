"""legacy/conll_bilstm_tagger.py (TF1 bidirectional_dynamic_rnn tagger) vs the app's conll model.

The TF1 script featurises the first N sentences of ../shared/data/conll2003/train.txt,
records its initial weights (biases drawn non-zero), logits, loss and gradients on a
fixed batch and the losses of S Adam steps.  The port is what ``bin/train
--task=conll_ner`` builds (``ConllTask`` featurisation, ``SequenceTagger``, the
app's Adam and training step) with the same sizes, loaded from the TF1 checkpoint
through the TF1 names written out below.
"""

import os
import subprocess
import sys

import numpy as np
import pytest
import tensorflow as tf

from tests.conftest import ROOT, SHARED_DATA
from tests.parity.harness import relative_diff
from tf_lstm.app import config as config_lib
from tf_lstm.app import tf1_import
from tf_lstm.app.data import conll as conll_data
from tf_lstm.app.tasks.conll import ConllTask
from tf_lstm.app.training import loop

CONLL = os.path.join(SHARED_DATA, "conll2003")
# Small enough for seconds, large enough that every feature is used: 200 sentences,
# 300 words (the cap is reached), 9 NER tags, char-CNN on.
N, V, E, F, H, B, STEPS, LR = 200, 300, 12, 6, 10, 8, 20, 1e-2
COLUMN = "ner"


def tf1_variables(model):
  """``{TF1 name: port variable}``: the mapping a TF1 user of this model expects."""
  fw, bw = model.cell_fw, model.cell_bw
  return {
      "embedding": model.embedding,
      "case_embedding": model.case_embedding,
      "chars/embedding": model.char_embedding,
      "chars/kernel": model.char_kernel,
      "chars/bias": model.char_bias,
      "bidirectional_rnn/fw/basic_lstm_cell/kernel": fw.kernel,
      "bidirectional_rnn/fw/basic_lstm_cell/bias": fw.bias,
      "bidirectional_rnn/bw/basic_lstm_cell/kernel": bw.kernel,
      "bidirectional_rnn/bw/basic_lstm_cell/bias": bw.bias,
      "output/kernel": model.output_kernel,
      "output/bias": model.output_bias,
  }


@pytest.fixture(scope="module")
def record(tmp_path_factory):
  dump_dir = tmp_path_factory.mktemp("tagger_parity") / "dump"
  env = dict(os.environ, TF_USE_LEGACY_KERAS="1", TF_CPP_MIN_LOG_LEVEL="2")
  cmd = [sys.executable, os.path.join(ROOT, "legacy", "conll_bilstm_tagger.py"),
         f"--data_dir={CONLL}", f"--column={COLUMN}", f"--max_sentences={N}",
         f"--vocab_size={V}", f"--embedding_dim={E}", f"--char_features={F}",
         f"--num_units={H}", f"--batch_size={B}", f"--learning_rate={LR}",
         f"--parity_steps={STEPS}", f"--dump_dir={dump_dir}"]
  proc = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=ROOT, timeout=300)
  assert proc.returncode == 0, f"{' '.join(cmd)}:\n{proc.stdout}\n{proc.stderr[-3000:]}"
  with np.load(dump_dir / "record.npz") as f:
    rec = {k: f[k] for k in f.files}
  rec["init_ckpt"] = str(dump_dir / "init_ckpt" / "model.ckpt")
  return rec


@pytest.fixture(scope="module")
def app(record):
  """The app's task (vocabularies and id arrays of the same sentences) and config."""
  del record  # The TF1 dump runs first: its output explains a failure better.
  sentences = conll_data.read_file(os.path.join(CONLL, "train.txt"))[:N]
  config = config_lib.TrainConfig(
      model=config_lib.ModelConfig(task=f"conll_{COLUMN}", vocab_size=V, embedding_dim=E,
                                   char_features=F, num_units=H, bidirectional=True),
      optimizer="adam", learning_rate=LR, lr_schedule="constant", batch_size=B)
  task = ConllTask(COLUMN)
  data = task.prepare(conll_data.ConllData(sentences, sentences, sentences), config)
  return task, data["train"], config


def port(app, record):
  """A fresh app model + optimizer holding the TF1 initial weights."""
  task, _, config = app
  _, model, optimizer = loop.build(config, task=task)
  variables = tf1_variables(model)
  assert {v.ref() for v in variables.values()} == {v.ref() for v in model.trainable_variables}
  reader = tf.train.load_checkpoint(record["init_ckpt"])
  saved = {n for n in reader.get_variable_to_shape_map() if not tf1_import.is_optimizer_slot(n)}
  assert saved == set(variables)
  for name, v in variables.items():
    v.assign(reader.get_tensor(name))
  return model, optimizer, variables


def test_app_features_equal_the_tf1_scripts(app, record):
  task, arrays, _ = app
  assert task.assets["words"] == record["vocab_words"].tolist()
  assert task.assets["chars"] == record["vocab_chars"].tolist()
  assert task.assets["tags"] == record["tags"].tolist()
  for key, array in zip(("words", "cases", "chars", "lengths", "labels"), arrays):
    np.testing.assert_array_equal(array, record[key], err_msg=key)


def test_starting_biases_are_distinct(record):
  # A swap of two equal-shaped biases (fw <-> bw) must change the numbers below.
  assert sorted(record["noised"]) == [
      "bidirectional_rnn/bw/basic_lstm_cell/bias", "bidirectional_rnn/fw/basic_lstm_cell/bias",
      "chars/bias", "output/bias"]
  fw = record["init/bidirectional_rnn/fw/basic_lstm_cell/bias"]
  bw = record["init/bidirectional_rnn/bw/basic_lstm_cell/bias"]
  assert np.min(np.abs(fw - bw)) > 0 and np.min(np.abs(fw)) > 0


def test_logits_loss_and_gradients(app, record):
  task = app[0]
  model, _, variables = port(app, record)
  idx = record["idx0"]
  inputs = tuple(tf.constant(record[k][idx]) for k in ("words", "cases", "chars", "lengths"))
  labels = tf.constant(record["labels"][idx])
  with tf.GradientTape() as tape:
    logits = model(inputs)
    loss_sum, _, count = task.loss_terms(logits, labels)
    loss = loss_sum / count
  # Logits are O(1) sums of O(10) float32 products: a few ulp apart; 1e-5 absolute is
  # ~100x that, and far below any real difference (a wrong gate or a direction
  # reading padding moves logits by > 1e-3).  Every position is compared: past a
  # sentence's length both give the output bias (the RNN outputs are zero there).
  np.testing.assert_allclose(logits.numpy(), record["logits0"], rtol=0, atol=1e-5)
  assert abs(float(loss) - float(record["loss0"])) <= 1e-6   # ~2: a few ulp
  names = list(variables)
  grads = tape.gradient(loss, [variables[n] for n in names])
  for name, g in zip(names, grads):
    # Per variable, max|dg| / max|g| <= 1e-5 (the README's gradient parity): float32
    # sums in another order differ by ~1e-7 relative; 1e-5 leaves room for the
    # backward pass's longer sums over time and batch.
    rel = relative_diff(tf.convert_to_tensor(g), record["grad/" + name])
    assert rel <= 1e-5, (name, rel)


def test_adam_loss_trajectory_and_final_weights(app, record):
  task, arrays, _ = app
  model, optimizer, variables = port(app, record)
  trim = task.train_transform()   # the app's batches: padding columns cut to BUCKET
  batches = [trim(*(tf.constant(a[idx]) for a in arrays)) for idx in record["train_idx"]]
  # One trace for every trimmed width, as the app's dataset (batch and time dims None).
  step = loop.make_train_step(model, optimizer, loss_terms=task.loss_terms).get_concrete_function(
      *tf.nest.map_structure(lambda t: tf.TensorSpec([None] * t.shape.rank, t.dtype), batches[0]))
  losses = [float(step(inputs, labels)[0]) for inputs, labels in batches]
  # 20 Adam steps at lr 1e-2: rounding differences (1e-7 relative) grow through the
  # updates; measured max gap ~1e-6 on losses ~1; 1e-4 is the suite's trajectory
  # tolerance, while an update rule or mask off by anything real moves losses by >1e-2.
  np.testing.assert_allclose(losses, record["losses"], rtol=0, atol=1e-4)
  for name, v in variables.items():
    # Weights are O(0.1-1); Adam moves each by <= lr per step: same 1e-4 budget.
    assert relative_diff(v.numpy(), record["final/" + name]) <= 1e-4, name
