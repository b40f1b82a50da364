"""PTB language model: contiguous batching, carried state, bin/train --task=ptb, bin/sample."""

import json
import math
import os

import numpy as np
import pytest
import tensorflow as tf

import tf_lstm
from tests.conftest import run_bin
from tf_lstm.app.data import DataError
from tf_lstm.app.data import ptb as ptb_data
from tf_lstm.app.models.language_model import LanguageModel

SENTENCES = ["the cat sat on the mat", "a dog sat on the log", "the dog saw a cat"]


def test_windows_follow_the_tutorial_layout():
  ids = np.arange(23, dtype=np.int32)
  x, y = ptb_data.windows(ids, batch_size=2, num_steps=3)   # L = 11, E = (11 - 1) // 3 = 3
  assert x.shape == y.shape == (3, 2, 3)
  for e in range(3):
    for b in range(2):
      np.testing.assert_array_equal(x[e, b], b * 11 + e * 3 + np.arange(3))
      np.testing.assert_array_equal(y[e, b], x[e, b] + 1)
  with pytest.raises(DataError, match="too few"):
    ptb_data.windows(ids[:7], batch_size=2, num_steps=3)


def test_vocabulary_eos_and_unknown_words(tmp_path):
  path = tmp_path / "train.txt"
  path.write_text("b a b\nc b\n")
  words = ptb_data.read_words(str(path))
  assert words == ["b", "a", "b", "<eos>", "c", "b", "<eos>"]
  vocab = ptb_data.build_vocab(words)
  assert vocab == ["b", "<eos>", "a", "c", "<unk>"]
  np.testing.assert_array_equal(ptb_data.to_ids(["c", "zebra", "<eos>"], vocab), [3, 4, 1])
  (tmp_path / "empty.txt").write_text("\n\n")
  with pytest.raises(DataError, match="empty.txt: contains no words"):
    ptb_data.read_words(str(tmp_path / "empty.txt"))
  with pytest.raises(DataError, match="missing.txt: no such file"):
    ptb_data.read_words(str(tmp_path / "missing.txt"))


def test_carried_state_equals_one_long_unroll():
  tf.random.set_seed(1)
  cells = [tf_lstm.BasicLSTMCell(8, forget_bias=0.0) for _ in range(2)]
  model = LanguageModel(13, cells, train_batch=2, eval_batch=2, init_scale=0.1)
  ids = tf.constant(np.random.RandomState(0).randint(0, 13, [2, 10]), tf.int32)
  full, _ = model.unroll(ids)
  first = model((ids[:, :4], tf.constant(True)))
  second = model((ids[:, 4:], tf.constant(False)))
  np.testing.assert_allclose(tf.concat([first, second], 1), full, atol=1e-6)
  again = model((ids[:, :4], tf.constant(True)))             # reset: back to the zero state
  np.testing.assert_allclose(again, first, atol=1e-6)
  assert all(float(tf.reduce_max(tf.abs(v))) == 0 for v in model.train_state)  # eval only
  assert all(-0.1 <= float(tf.reduce_min(v)) and float(tf.reduce_max(v)) <= 0.1
             for v in model.trainable_variables)


def test_tied_embeddings_share_the_embedding_matrix():
  tf.random.set_seed(2)
  cells = [tf_lstm.BasicLSTMCell(6) for _ in range(2)]
  model = LanguageModel(11, cells, train_batch=2, eval_batch=2, tie_embeddings=True)
  assert model.softmax_w is None
  assert {v.name for v in model.trainable_variables} == {
      "language_model/embedding:0", "language_model/softmax_b:0",
      *(v.name for c in cells for v in c.trainable_variables)}
  ids = tf.constant([[1, 4, 7], [0, 10, 3]], tf.int32)
  logits, _ = model.unroll(ids)
  # The last layer's outputs times embedding^T (plus the bias), by hand:
  x = tf.nn.embedding_lookup(model.embedding, ids)
  for cell in cells:
    x, _ = tf_lstm.dynamic_rnn(cell, x, dtype=tf.float32)
  expected = np.einsum("btd,vd->btv", x.numpy(), model.embedding.numpy())
  np.testing.assert_allclose(logits, expected + model.softmax_b.numpy(), atol=1e-6)
  with tf.GradientTape() as tape:
    loss = tf.reduce_sum(model.unroll(ids)[0][:, :, 5])
  grad = tape.gradient(loss, model.embedding)
  grad = tf.convert_to_tensor(grad).numpy()
  assert np.abs(grad[5]).sum() > 0     # output word 5 (never an input) gets a gradient
  with pytest.raises(ValueError, match="tie_embeddings needs the last layer's 4 units"):
    LanguageModel(11, [tf_lstm.BasicLSTMCell(6), tf_lstm.BasicLSTMCell(4)], 2, 2,
                  tie_embeddings=True)


@pytest.fixture(scope="module")
def ptb_run(tmp_path_factory):
  base = tmp_path_factory.mktemp("ptb")
  data = base / "data"
  data.mkdir()
  rng = np.random.RandomState(0)
  lines = [SENTENCES[i] for i in rng.randint(0, 3, 300)]
  (data / "ptb.train.txt").write_text("\n".join(lines) + "\n")
  (data / "ptb.test.txt").write_text("\n".join(lines[:60]) + "\nthe zebra sat\n")
  (data / "ptb.valid.txt").write_text("\n".join(lines[60:120]) + "\n")
  model_dir = base / "run"
  proc = run_bin("train", "--task=ptb", f"--data_dir={data}", f"--model_dir={model_dir}",
                 f"--export_dir={base / 'export'}", "--num_units=16", "--batch_size=4",
                 "--num_steps=5", "--epochs=3", "--optimizer=adam", "--learning_rate=0.01",
                 "--log_every=20")
  assert proc.returncode == 0, proc.stderr[-3000:]
  with open(model_dir / "results.json") as f:
    return base, data, model_dir, json.load(f), proc


def test_train_reports_perplexity_and_learns(ptb_run):
  base, _, model_dir, results, _ = ptb_run
  config = results["config"]
  assert (config["model"]["num_layers"], config["model"]["forget_bias"],
          config["lr_schedule"], config["lr_decay"], config["clip_norm"],
          config["model"]["init_scale"]) == (2, 0.0, "epoch_decay", 0.5, 5.0, 0.1)
  assert results["test_perplexity"] == pytest.approx(math.exp(results["test_loss"]))
  # 9 words + <eos> + <unk>: a uniform model scores 11; the grammar is far more predictable.
  assert results["test_perplexity"] < 5.0
  assert results["valid_perplexity"] < 5.0
  vocab = (model_dir / "vocab.txt").read_text().split()
  assert len(vocab) == 11 and "<eos>" in vocab and "<unk>" in vocab
  # 300 lines * ~6 words: steps per epoch = ((N // 4) - 1) // 5.
  assert results["global_step"] == 3 * ((len(ptb_data.read_words(
      str(base / "data" / "ptb.train.txt"))) // 4 - 1) // 5)


def test_export_next_word_probabilities(ptb_run):
  base, *_ = ptb_run
  loaded = tf.saved_model.load(str(base / "export" / "1"))
  # A sentence start: the model always saw text after <eos> (never a zero state mid-text).
  out = loaded.signatures["predict_words"](words=tf.constant([["<eos>", "the", "cat", "sat"]]))
  probs = out["next_word_probabilities"].numpy()
  assert probs.shape == (1, 11)
  np.testing.assert_allclose(probs.sum(), 1.0, rtol=1e-5)
  by_ids = loaded.signatures["serving_default"](ids=out["ids"])
  np.testing.assert_allclose(by_ids["logits"], out["logits"], atol=1e-5)
  vocab = (base / "run" / "vocab.txt").read_text().split()
  assert vocab[int(np.argmax(probs))] == "on"          # "... the cat sat" -> "on"


def test_bin_export_writes_the_training_export_again(ptb_run):
  base, _, model_dir, _, _ = ptb_run
  proc = run_bin("export", f"--model_dir={model_dir}", f"--export_dir={base / 'export'}")
  assert proc.returncode == 0, proc.stderr[-2000:]
  words = tf.constant([["<eos>", "the", "dog", "ran", "zebra"]])
  first, second = (tf.saved_model.load(str(base / "export" / v)).signatures["predict_words"]
                   for v in ("1", "2"))
  np.testing.assert_allclose(second(words=words)["logits"], first(words=words)["logits"],
                             atol=1e-6)


def test_sample_is_seeded_and_grammatical(ptb_run):
  _, _, model_dir, _, _ = ptb_run
  args = ("sample", f"--model_dir={model_dir}", "--length=12", "--prime=the dog",
          "--temperature=0.5")
  a, b = run_bin(*args, "--seed=1"), run_bin(*args, "--seed=1")
  assert a.returncode == 0, a.stderr[-2000:]
  assert a.stdout == b.stdout and a.stdout.startswith("the dog ")
  assert set(a.stdout.split()) <= set((model_dir / "vocab.txt").read_text().split())


def test_bad_input_fails_before_writing(tmp_path, ptb_run):
  _, data, _, _, _ = ptb_run
  model_dir = tmp_path / "run"
  proc = run_bin("train", "--task=ptb", f"--data_dir={data}", f"--model_dir={model_dir}",
                 "--train_file=nope.txt")
  assert proc.returncode == 1
  assert "nope.txt: no such file" in proc.stderr
  assert not model_dir.exists() or not os.listdir(model_dir)
  proc = run_bin("train", "--task=mnist", "--config=small", f"--model_dir={model_dir}")
  assert proc.returncode != 0 and "--config=small applies to --task=ptb only" in proc.stderr
  proc = run_bin("train", "--task=ptb", f"--data_dir={data}", f"--model_dir={model_dir}",
                 "--strategy=mirrored", "--num_cpu_devices=2", "--batch_size=4")
  assert proc.returncode == 1
  assert "task ptb trains on one replica only" in proc.stderr
  assert "has 2 replicas; use the default strategy" in proc.stderr
  assert "Traceback" not in proc.stderr
  assert not model_dir.exists() or not os.listdir(model_dir)
