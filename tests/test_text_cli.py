"""bin/train --task=imdb / conll_*: learning, vocab saved and reused, export, bad input."""

import json
import os

import numpy as np
import pytest
import tensorflow as tf

from tests.conftest import SHARED_DATA, run_bin

POS = ["great", "wonderful", "loved", "superb", "brilliant"]
NEG = ["awful", "boring", "hated", "terrible", "dull"]
FILLER = ["the", "movie", "was", "a", "plot", "actor", "and", "it", "film", "scene"]
IMDB_FLAGS = ["--task=imdb", "--num_layers=1", "--num_units=16", "--embedding_dim=16",
              "--vocab_size=50", "--max_length=12", "--batch_size=20", "--log_every=10",
              "--learning_rate=0.02", "--lr_schedule=constant", "--checkpoint_every=20"]


def _write_reviews(root, n_train=120, n_test=40, seed=0):
  rng = np.random.RandomState(seed)
  for split, n in (("train", n_train), ("test", n_test)):
    for cls, words in (("pos", POS), ("neg", NEG)):
      os.makedirs(root / "aclImdb" / split / cls)
      for i in range(n // 2):
        toks = list(rng.choice(FILLER, rng.randint(3, 15))) + list(rng.choice(words, 2))
        rng.shuffle(toks)
        text = " ".join(toks).capitalize() + ".<br /><br />The End"
        (root / "aclImdb" / split / cls / f"{i + 10}_5.txt").write_text(text)
  return str(root)


def _results(model_dir):
  with open(os.path.join(model_dir, "results.json")) as f:
    return json.load(f)


@pytest.fixture(scope="module")
def imdb_run(tmp_path_factory):
  base = tmp_path_factory.mktemp("imdb")
  data = _write_reviews(base / "data")
  model_dir, export_dir = str(base / "model"), str(base / "export")
  proc = run_bin("train", *IMDB_FLAGS, "--train_steps=60", f"--data_dir={data}",
                 f"--model_dir={model_dir}", f"--export_dir={export_dir}", check=True)
  return data, model_dir, export_dir, proc


def test_imdb_learns_and_writes_results(imdb_run):
  _, model_dir, _, proc = imdb_run
  r = _results(model_dir)
  assert r["task"] == "imdb" and r["metric"] == "accuracy"
  assert r["test_examples"] == 40
  assert r["test_accuracy"] >= 0.9, proc.stdout
  assert "step 60/60" in proc.stdout
  words = open(os.path.join(model_dir, "vocab.txt")).read().split()
  assert len(words) <= 50 and "the" in words and "br" not in words
  assert os.path.isdir(os.path.join(model_dir, "train"))   # TensorBoard


def test_imdb_resume_reuses_the_saved_vocabulary(imdb_run, tmp_path):
  data, model_dir, _, _ = imdb_run
  vocab = os.path.join(model_dir, "vocab.txt")
  with open(vocab, "a") as f:   # a word the data never had: kept only if the file is reused
    f.write("zzzunseen\n")
  proc = run_bin("train", *IMDB_FLAGS, "--train_steps=70", f"--data_dir={data}",
                 f"--model_dir={model_dir}", check=True)
  assert "resumed from" in proc.stdout and "at step 60" in proc.stdout
  assert open(vocab).read().split()[-1] == "zzzunseen"
  assert _results(model_dir)["global_step"] == 70


def test_imdb_export_takes_raw_text_and_token_ids(imdb_run):
  _, model_dir, export_dir, _ = imdb_run
  loaded = tf.saved_model.load(os.path.join(export_dir, "1"))
  serve = loaded.signatures["serving_default"]
  out = serve(text=tf.constant(["Loved it, a great and superb film!",
                                "Awful<br />boring, terrible plot"]))
  assert out["probabilities"].shape == (2, 2)
  np.testing.assert_array_equal(out["classes"], [1, 0])
  words = open(os.path.join(model_dir, "vocab.txt")).read().split()
  ids = [[words.index(w) + 2 for w in ("loved", "great", "superb")] + [0, 0]]
  by_ids = loaded.signatures["predict_ids"](ids=tf.constant(ids, tf.int32),
                                            lengths=tf.constant([3]))
  by_text = serve(text=tf.constant(["Loved GREAT superb"]))
  np.testing.assert_allclose(by_ids["probabilities"], by_text["probabilities"], atol=1e-6)


def test_imdb_bin_export_serves_the_latest_checkpoint(imdb_run, tmp_path):
  from tf_lstm.app.export import from_checkpoint
  _, model_dir, _, _ = imdb_run
  run_bin("export", f"--model_dir={model_dir}", f"--export_dir={tmp_path / 'e'}", check=True)
  text = tf.constant(["Loved it, a great and superb film!", "Awful<br />boring"])
  exported = tf.saved_model.load(str(tmp_path / "e" / "1")).signatures["serving_default"]
  _, task, model, _ = from_checkpoint.restore_latest_model(model_dir)
  module = task.serving_module(model)   # (a tf.function method holds its module weakly)
  in_process = module.serve_text(text)
  np.testing.assert_allclose(exported(text=text)["probabilities"],
                             in_process["probabilities"], atol=1e-6)


def test_imdb_bad_data_dir_fails_before_writing(tmp_path):
  model_dir = tmp_path / "model"
  proc = run_bin("train", *IMDB_FLAGS, f"--data_dir={tmp_path}", f"--model_dir={model_dir}")
  assert proc.returncode == 1
  assert "no IMDB data in" in proc.stderr
  assert not model_dir.exists()


def _small_conll(root, n_train=150, n_test=40):
  os.makedirs(root)
  for name, n in (("train.txt", n_train), ("test.txt", n_test)):
    src = os.path.join(SHARED_DATA, "conll2003", name)
    out, count = [], 0
    for line in open(src, encoding="utf-8"):
      out.append(line)
      if not line.strip():
        count += 1
        if count == n:
          break
    (root / name).write_text("".join(out))
  return str(root)


def test_conll_ner_trains_reports_f1_and_exports_tags(tmp_path):
  data = _small_conll(tmp_path / "data")
  model_dir, export_dir = str(tmp_path / "model"), str(tmp_path / "export")
  proc = run_bin("train", "--task=conll_ner", "--num_layers=1", "--num_units=16",
                 "--embedding_dim=16", "--char_features=8", "--batch_size=16",
                 "--train_steps=25", "--log_every=5", f"--data_dir={data}",
                 f"--model_dir={model_dir}", f"--export_dir={export_dir}", check=True)
  r = _results(model_dir)
  assert r["metric"] == "f1" and 0.0 <= r["test_f1"] <= 100.0
  assert r["test_accuracy"] > 0.75, proc.stdout   # "O" dominates even early
  assets = json.load(open(os.path.join(model_dir, "token_vocab.json")))
  assert "B-PER" in assets["tags"]
  serve = tf.saved_model.load(os.path.join(export_dir, "1")).signatures["serving_default"]
  out = serve(tokens=tf.constant([["Peter", "Blackburn", "said", "."], ["EU", "", "", ""]]),
              lengths=tf.constant([4, 1]))
  tags = out["tags"].numpy()
  assert tags.shape == (2, 4)
  assert all(t.decode() in assets["tags"] for t in tags[0])
  assert list(tags[1, 1:]) == [b"", b"", b""]
  assert list(out["tag_ids"].numpy()[1, 1:]) == [-1, -1, -1]
  # bin/export rebuilds the tagger from the run's saved vocabularies.
  run_bin("export", f"--model_dir={model_dir}", f"--export_dir={export_dir}", check=True)
  again = tf.saved_model.load(os.path.join(export_dir, "2")).signatures["serving_default"](
      tokens=tf.constant([["Peter", "Blackburn", "said", "."], ["EU", "", "", ""]]),
      lengths=tf.constant([4, 1]))
  np.testing.assert_array_equal(again["tags"], out["tags"])


def test_conll_malformed_line_fails_before_writing(tmp_path):
  data = tmp_path / "data"
  os.makedirs(data)
  (data / "train.txt").write_text("EU NNP B-ORG\n\nPeter NNP\n")
  (data / "test.txt").write_text("EU NNP B-ORG\n")
  model_dir = tmp_path / "model"
  proc = run_bin("train", "--task=conll_pos", f"--data_dir={data}", f"--model_dir={model_dir}")
  assert proc.returncode == 1
  assert f"{data / 'train.txt'}:3: expected 'word POS NER'" in proc.stderr
  assert not model_dir.exists()
