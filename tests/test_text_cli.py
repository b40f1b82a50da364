"""bin/train --task=imdb / conll_*: learning, vocab saved and reused, export, bad input."""

import collections
import json
import os

import numpy as np
import pytest
import tensorflow as tf

from tests.conftest import SHARED_DATA, run_bin
from tests.tolerances import assert_same_classes

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


def _sentences(path):
  """[(words, pos tags, ner tags)] of a CoNLL file (``word POS NER`` lines)."""
  out, rows = [], []
  for line in open(path, encoding="utf-8"):
    if line.strip():
      rows.append(line.split())
    elif rows:
      out.append(tuple(list(column) for column in zip(*rows)))
      rows = []
  if rows:
    out.append(tuple(list(column) for column in zip(*rows)))
  return out


def _write(path, sentences):
  path.write_text("".join("".join(f"{w} {p} {n}\n" for w, p, n in zip(*s)) + "\n"
                          for s in sentences))


@pytest.fixture(scope="module")
def small_conll(tmp_path_factory):
  """The first 500 real training sentences, and the first 100 real test sentences
  whose POS and NER tags all occur in those (a tag unseen in training is refused)."""
  root = tmp_path_factory.mktemp("conll")
  train = _sentences(os.path.join(SHARED_DATA, "conll2003", "train.txt"))[:500]
  seen = {t for s in train for column in s[1:] for t in column}
  test = [s for s in _sentences(os.path.join(SHARED_DATA, "conll2003", "test.txt"))[:120]
          if seen.issuperset(s[1]) and seen.issuperset(s[2])]
  assert len(test) >= 90
  _write(root / "train.txt", train)
  _write(root / "test.txt", test)
  return str(root), train, test


# A small (bidirectional) tagger that learns these 500 sentences in 60 steps.
TAGGER_FLAGS = ["--num_layers=1", "--num_units=32", "--embedding_dim=32", "--char_features=16",
                "--batch_size=32", "--learning_rate=0.01", "--lr_schedule=constant",
                "--train_steps=60", "--log_every=20"]


def test_conll_ner_beats_the_all_o_tagger_and_exports_tags(small_conll, tmp_path):
  from tf_lstm.app import conlleval
  data, _, test = small_conll
  model_dir, export_dir = str(tmp_path / "model"), str(tmp_path / "export")
  proc = run_bin("train", "--task=conll_ner", *TAGGER_FLAGS, f"--data_dir={data}",
                 f"--model_dir={model_dir}", f"--export_dir={export_dir}", check=True)
  r = _results(model_dir)
  gold = [s[2] for s in test]
  all_o = conlleval.evaluate(gold, [["O"] * len(tags) for tags in gold])
  all_o_accuracy = np.mean([t == "O" for tags in gold for t in tags])   # ~0.8 on news text
  assert r["metric"] == "f1" and r["test_examples"] == sum(map(len, gold))
  assert r["test_accuracy"] > all_o_accuracy + 0.05, proc.stdout   # measured: 0.93 vs 0.76
  assert r["test_f1"] > all_o["f1"] + 20, proc.stdout              # measured: 71 vs 0
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
  # Each export traces its own graph: the same numbers within a few float32 ulp, and
  # the same tags except where two tags' probabilities tie within that.
  np.testing.assert_allclose(again["probabilities"], out["probabilities"], atol=1e-6)
  assert_same_classes(again["tag_ids"].numpy()[0], out["probabilities"].numpy()[0], 1e-6)
  assert list(again["tags"].numpy()[1, 1:]) == [b"", b"", b""]


def test_conll_pos_beats_the_majority_tag(small_conll, tmp_path):
  data, train, test = small_conll
  model_dir = str(tmp_path / "model")
  proc = run_bin("train", "--task=conll_pos", *TAGGER_FLAGS, f"--data_dir={data}",
                 f"--model_dir={model_dir}", check=True)
  r = _results(model_dir)
  counts = collections.Counter(t for s in train for t in s[1])
  majority = counts.most_common(1)[0][0]                     # NNP in these sentences
  gold = [t for s in test for t in s[1]]
  baseline = np.mean([t == majority for t in gold])          # ~0.2
  assert r["metric"] == "accuracy" and r["test_examples"] == len(gold)
  assert r["test_accuracy"] > baseline + 0.3, proc.stdout    # measured: 0.82 vs 0.19


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
