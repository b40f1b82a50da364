"""Text pieces: tokeniser, vocabulary, IMDB/CoNLL readers, conlleval, padding invariance."""

import os
import tarfile

import numpy as np
import pytest
import tensorflow as tf

import tf_lstm
from tf_lstm import unroll
from tf_lstm.app import conlleval
from tf_lstm.app import losses
from tf_lstm.app.data import DataError
from tf_lstm.app.data import conll
from tf_lstm.app.data import imdb
from tf_lstm.app.data import text
from tf_lstm.app.data import token_features
from tf_lstm.app.models.tagger import SequenceTagger
from tf_lstm.app.models.text_classifier import TextClassifier


def test_tokenize_lowercases_strips_br_and_splits_on_non_letters():
  got = text.tokenize(["Great<br /><br />film!! It's CAFÉ-3x", ""]).to_list()
  assert got == [[b"great", b"film", b"it", b"s", "café".encode(), b"x"], []]


def test_build_vocab_by_frequency_then_alphabetical(tmp_path):
  words = text.build_vocab(np.array(["b a c", "a b", "a d"], dtype=object), 3)
  assert words == ["a", "b", "c"]
  path = str(tmp_path / "vocab.txt")
  text.save_vocab(path, words)
  assert text.load_vocab(path) == words


@pytest.mark.parametrize("content,where", [("a\n\nb\n", ":2:"), ("a\na\n", ":2: duplicate"),
                                           ("a b\n", ":1:")])
def test_load_vocab_names_the_bad_line(tmp_path, content, where):
  path = tmp_path / "vocab.txt"
  path.write_text(content)
  with pytest.raises(DataError, match=str(path) + where):
    text.load_vocab(str(path))


def test_encode_pads_after_the_kept_tokens():
  table = text.lookup_table(["the", "film"])
  ids, lengths = text.encode(["The film was the film", "film"], table, 3, keep="last")
  np.testing.assert_array_equal(ids, [[1, 2, 3], [3, 0, 0]])   # was -> OOV (1)
  np.testing.assert_array_equal(lengths, [3, 1])
  ids, _ = text.encode(["The film was the film"], table, 3, keep="first")
  np.testing.assert_array_equal(ids, [[2, 3, 1]])


def _write_acl(root):
  reviews = {("train", "pos"): ["Loved it", "Great<br />fun"],
             ("train", "neg"): ["Awful", "Boring film"],
             ("test", "pos"): ["Great"], ("test", "neg"): ["Bad"]}
  for (split, cls), texts in reviews.items():
    os.makedirs(root / "aclImdb" / split / cls)
    for i, t in enumerate(texts):
      (root / "aclImdb" / split / cls / f"{i + 10}_{7 if cls == 'pos' else 2}.txt").write_text(t)
  return root


def test_imdb_folder_and_tarball_read_the_same(tmp_path):
  root = _write_acl(tmp_path / "d")
  with tarfile.open(tmp_path / "aclImdb_x.tar.gz", "w:gz") as tar:
    tar.add(root / "aclImdb", arcname="aclImdb")
  a = imdb.load(str(root))
  b = imdb.load(str(tmp_path / "aclImdb_x.tar.gz"))
  assert list(a.train_texts) == list(b.train_texts) == ["Awful", "Boring film", "Loved it",
                                                         "Great<br />fun"]
  np.testing.assert_array_equal(a.train_labels, [0, 0, 1, 1])
  np.testing.assert_array_equal(b.test_labels, [0, 1])


def test_imdb_errors_name_the_problem(tmp_path):
  root = _write_acl(tmp_path / "d")
  (root / "aclImdb" / "train" / "pos" / "99_9.txt").write_text("  \n")
  with pytest.raises(DataError, match="99_9: empty review"):
    imdb.load(str(root))
  with pytest.raises(DataError, match="no IMDB data"):
    imdb.load(str(tmp_path))


def test_imdb_tfds_path_with_mock_data():
  import tensorflow_datasets as tfds
  with tfds.testing.mock_data(num_examples=6):
    data = imdb.load(None)
  assert len(data.train_texts) == len(data.train_labels) == 6
  assert set(data.test_labels) <= {0, 1}


def test_conll_reader_and_errors(tmp_path):
  good = tmp_path / "train.txt"
  good.write_text("EU NNP B-ORG\nrejects VBZ O\n\n\nPeter NNP B-PER\n")
  sents = conll.read_file(str(good))
  assert [s.words for s in sents] == [("EU", "rejects"), ("Peter",)]
  assert sents[0].ner == ("B-ORG", "O")
  bad = tmp_path / "bad.txt"
  bad.write_text("EU NNP B-ORG\nrejects VBZ\n")
  with pytest.raises(DataError, match=f"{bad}:2: expected 'word POS NER'"):
    conll.read_file(str(bad))
  with pytest.raises(DataError, match="tag 'B-XYZ', not seen in training"):
    conll.check_tags([conll.Sentence(("a",), ("NN",), ("B-XYZ",))], "ner", ["O"], "test")


def test_conlleval_exact_spans_and_types():
  gold = [["B-PER", "I-PER", "O", "B-LOC", "O", "B-ORG", "I-ORG"]]
  pred = [["B-PER", "I-PER", "O", "B-ORG", "O", "B-ORG", "O"]]
  r = conlleval.evaluate(gold, pred)   # PER right; LOC wrong type; ORG wrong end
  assert (r["correct"], r["found"], r["gold"]) == (1, 3, 3)
  assert r["f1"] == pytest.approx(100 / 3)
  # conlleval's IOB1 rules: I- after O starts a chunk; B- splits same-type chunks.
  assert conlleval.chunks(["I-PER", "I-PER", "B-PER", "O", "I-LOC"]) == {
      (0, 2, "PER"), (2, 3, "PER"), (4, 5, "LOC")}
  assert conlleval.evaluate([["O"]], [["O"]])["f1"] == 0.0


def test_token_terms_ignore_padding():
  logits = tf.constant([[[2.0, 0.0], [0.0, 2.0], [9.0, -9.0]]])
  s, c, n = losses.token_terms(logits, tf.constant([[0, 0, -1]]))
  assert (float(c), float(n)) == (1.0, 2.0)
  expected = np.log1p(np.exp(-2.0)) + np.log1p(np.exp(2.0))
  assert float(s) == pytest.approx(expected, rel=1e-6)


def test_bidirectional_matches_static_and_reads_each_row_reversed():
  tf.random.set_seed(1)
  fw, bw = tf_lstm.BasicLSTMCell(5), tf_lstm.BasicLSTMCell(5)
  x = tf.random.normal([2, 4, 3])
  lengths = tf.constant([4, 2])
  (of, ob), _ = unroll.bidirectional_dynamic_rnn(fw, bw, x, sequence_length=lengths)
  static, _, _ = unroll.static_bidirectional_rnn(fw, bw, tf.unstack(x, axis=1),
                                                        sequence_length=lengths)
  np.testing.assert_allclose(tf.concat([of, ob], -1), tf.stack(static, 1), atol=1e-6)
  # Row 1 (length 2): the backward output at t=0 has read x[1,1] then x[1,0].
  manual, _ = tf_lstm.static_rnn(bw, [x[1:, 1], x[1:, 0]], dtype=tf.float32)
  np.testing.assert_allclose(ob[1, 0], manual[1][0], atol=1e-6)
  np.testing.assert_array_equal(ob[1, 2:], 0.0)   # exact: padding is masked to zeros


@pytest.mark.parametrize("bidi", [False, True])
def test_padding_never_changes_a_text_prediction(bidi):
  tf.random.set_seed(0)
  model = TextClassifier(50, 8, tf_lstm.BasicLSTMCell(6), 2,
                         tf_lstm.BasicLSTMCell(6) if bidi else None)
  ids = np.array([[5, 6, 7, 0, 0, 0], [9, 3, 0, 0, 0, 0]], np.int32)
  lengths = np.array([3, 2], np.int32)
  base = model((ids, lengths)).numpy()
  junk = ids.copy()
  junk[:, 3:] = 42                         # other ids in the padding
  wider = np.pad(ids, [[0, 0], [0, 7]])     # more padding
  np.testing.assert_allclose(model((junk, lengths)), base, atol=1e-6)
  np.testing.assert_allclose(model((wider, lengths)), base, atol=1e-6)
  alone = model((ids[1:, :2], lengths[1:])).numpy()   # unpadded, batch of one
  np.testing.assert_allclose(alone, base[1:], atol=1e-6)


def test_padding_never_changes_a_tag():
  tf.random.set_seed(0)
  feat = token_features.Featurizer(["eu", "rejects"], [ord(c) for c in "EUrejcts"])
  model = SequenceTagger(feat.vocab_size, 8, token_features.NUM_CASES, feat.num_chars, 4,
                         tf_lstm.BasicLSTMCell(6), tf_lstm.BasicLSTMCell(6), 3)
  short = model(feat(tf.constant([["EU", "rejects"]]), [2]))
  long = model(feat(tf.constant([["EU", "rejects", "x", "y"]]), [2]))
  np.testing.assert_allclose(long[:, :2], short, atol=1e-6)
