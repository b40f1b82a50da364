"""Serving memory is bounded (issue 20): text is padded to the request's longest text,
requests over ``request_limits`` are refused before their large tensors exist, and
``lengths`` are checked, in the IMDB, tagger, language-model and image exports; empty
requests (no rows, width 0) are answered or refused by name, never failing in the RNN."""

import re

import numpy as np
import pytest
import tensorflow as tf

import tf_lstm
from tf_lstm.app import config as config_lib
from tf_lstm.app import tasks
from tf_lstm.app.data import ptb as ptb_data
from tf_lstm.app.data import text as text_lib
from tf_lstm.app.data import token_features
from tf_lstm.app.export import image_serving
from tf_lstm.app.export import lm_serving
from tf_lstm.app.export import request_limits as limits
from tf_lstm.app.export import saved_model
from tf_lstm.app.export import text_serving
from tf_lstm.app.models.language_model import LanguageModel
from tf_lstm.app.models.tagger import SequenceTagger

WORDS = ["nice", "film", "great", "awful", "plot"]
MAX_LENGTH = 12
# V = 300 > 256: the output limit (2**26 / V ids) binds before the position limit (2**18).
LM_WORDS = [ptb_data.UNK] + [f"w{i}" for i in range(299)]
MAX_BYTES, MAX_POSITIONS, MAX_OUTPUTS = (limits.MAX_REQUEST_BYTES, limits.MAX_REQUEST_POSITIONS,
                                         limits.MAX_REQUEST_OUTPUTS)
MAX_IMAGES = limits.MAX_REQUEST_IMAGES


def _imdb_module():
  tf.random.set_seed(0)
  config = config_lib.ModelConfig(task="imdb", vocab_size=len(WORDS), embedding_dim=6,
                                  num_units=5)
  model = tasks.get("imdb").build_model(config)
  for v in model.trainable_variables:   # trained-like: every weight matters
    v.assign(tf.random.stateless_normal(v.shape, [1, v.shape.num_elements()]) * 0.5)
  return text_serving.TextClassifierServing(model, WORDS, MAX_LENGTH, keep="last")


def _tagger_module():
  tf.random.set_seed(0)
  feat = token_features.Featurizer(["eu", "rejects"], [ord(c) for c in "EUrejcts"])
  model = SequenceTagger(feat.vocab_size, 8, token_features.NUM_CASES, feat.num_chars, 4,
                         tf_lstm.BasicLSTMCell(6), tf_lstm.BasicLSTMCell(6), 3)
  return text_serving.TaggerServing(model, feat, ["O", "B-ORG", "I-ORG"])


def _lm_module():
  tf.random.set_seed(0)
  return lm_serving.LanguageModelServing(
      LanguageModel(len(LM_WORDS), [tf_lstm.BasicLSTMCell(4)], 1, 1), LM_WORDS)


def _image_module():
  tf.random.set_seed(0)
  model = tasks.get("mnist").build_model(config_lib.ModelConfig(num_units=2))
  return image_serving.ImageServing(model)


@pytest.fixture(scope="module")
def modules():
  return {"imdb": _imdb_module(), "tagger": _tagger_module(), "lm": _lm_module(),
          "image": _image_module()}


@pytest.fixture(scope="module")
def exported(modules, tmp_path_factory):
  """Each module saved as an export and loaded back (what a server runs)."""
  base = tmp_path_factory.mktemp("limits")
  return {name: tf.saved_model.load(saved_model.export(m, str(base / name))).signatures
          for name, m in modules.items()}


def refused(match):
  return pytest.raises(tf.errors.InvalidArgumentError, match=match)


def too_large(what, size, limit):
  """The refusal's text: what was counted, the request's size, the limit."""
  return re.escape(f"request too large: {what} = {size}, more than the limit of {limit} "
                   "per request")


# -- the IMDB text signature pads to the request's longest text ---------------------

def test_the_issue_probe_pads_to_the_text_not_to_max_length(modules, exported):
  encode = tf.function(modules["imdb"].encode)   # what serving_default runs first
  ids, lengths = encode(tf.constant(["nice film"] * 100_000))
  assert ids.shape == (100_000, 2)               # not (100_000, MAX_LENGTH)
  np.testing.assert_array_equal(lengths, 2)
  long = " ".join(["plot"] * 30)
  assert encode(tf.constant(["nice film", long]))[0].shape == (2, MAX_LENGTH)
  assert encode(tf.constant(["", "?!"]))[0].shape == (2, 1)   # an unroll needs a step
  # The issue's probe (100,000 copies took ~17 GB) is answered: 200,000 positions.
  out = exported["imdb"]["serving_default"](text=tf.constant(["nice film"] * 100_000))
  assert out["probabilities"].shape == (100_000, 2)
  alone = exported["imdb"]["serving_default"](text=tf.constant(["nice film"]))
  # Same text, same answer; another batch size may change a matmul's summation order
  # (float32 ulps of probabilities < 1): 1e-6 is ~10x that.
  np.testing.assert_allclose(out["probabilities"],
                             np.broadcast_to(alone["probabilities"], (100_000, 2)), atol=1e-6)


def test_padding_to_the_longest_text_changes_no_prediction(exported):
  texts = ["Nice film", "awful plot, awful film", "great " * 20 + "awful",
           "unknown words only", ""]
  by_text = exported["imdb"]["serving_default"](text=tf.constant(texts))["probabilities"]
  table = text_lib.lookup_table(WORDS)
  ids, lengths = text_lib.encode(tf.constant(texts), table, MAX_LENGTH, "last")
  assert ids.shape == (5, MAX_LENGTH)            # training's padding
  by_ids = exported["imdb"]["predict_ids"](ids=ids, lengths=lengths)["probabilities"]
  # Masking makes padding irrelevant; other widths may change a matmul's summation
  # order (float32 ulps of probabilities < 1): 1e-6 is ~10x that.
  np.testing.assert_allclose(by_text, by_ids, atol=1e-6)
  alone = [exported["imdb"]["serving_default"](text=tf.constant([t]))["probabilities"][0]
           for t in texts]
  np.testing.assert_allclose(by_text, alone, atol=1e-6)


# -- oversized requests are refused, naming the limit and the request's size -----------

def test_a_request_at_the_byte_limit_is_served(exported):
  out = exported["imdb"]["serving_default"](text=tf.constant(["a" * MAX_BYTES]))
  assert out["probabilities"].shape == (1, 2)


ROWS = MAX_POSITIONS // MAX_LENGTH + 1             # texts of > MAX_LENGTH words
OVER_OUTPUTS = MAX_OUTPUTS // len(LM_WORDS) + 1
HUGE = "a " * (MAX_BYTES // 2) + "a"               # MAX_BYTES + 1 bytes
OVER_BYTES = too_large("bytes of text", MAX_BYTES + 1, MAX_BYTES)
OVER_POSITIONS = too_large(f"padded positions ({ROWS} rows x {MAX_LENGTH} wide)",
                           ROWS * MAX_LENGTH, MAX_POSITIONS)
OVER_OUTPUT_VALUES = too_large(
    f"output values (1 rows x {OVER_OUTPUTS} ids x {len(LM_WORDS)} words)",
    OVER_OUTPUTS * len(LM_WORDS), MAX_OUTPUTS)
# (export, signature, inputs (built when run), the refusal); each just over one limit.
OVERSIZED = {
    "imdb_bytes": ("imdb", "serving_default", lambda: dict(text=[HUGE]), OVER_BYTES),
    "imdb_positions": ("imdb", "serving_default", lambda: dict(text=["nice " * 13] * ROWS),
                       OVER_POSITIONS),
    "imdb_ids_positions": ("imdb", "predict_ids", lambda: dict(
        ids=tf.zeros([ROWS, MAX_LENGTH], tf.int32), lengths=tf.zeros([ROWS], tf.int32)),
                           OVER_POSITIONS),
    "tagger_bytes": ("tagger", "serving_default", lambda: dict(
        tokens=[["a" * MAX_BYTES, "b"]], lengths=[2]), OVER_BYTES),
    "tagger_positions": ("tagger", "serving_default", lambda: dict(
        tokens=tf.fill([2, MAX_POSITIONS // 2 + 1], ""), lengths=[1, 1]),
                         too_large(f"padded positions (2 rows x {MAX_POSITIONS // 2 + 1} wide)",
                                   MAX_POSITIONS + 2, MAX_POSITIONS)),
    "lm_outputs": ("lm", "serving_default", lambda: dict(
        ids=tf.zeros([1, OVER_OUTPUTS], tf.int32)), OVER_OUTPUT_VALUES),
    "lm_words_outputs": ("lm", "predict_words", lambda: dict(
        words=tf.fill([1, OVER_OUTPUTS], "w1")), OVER_OUTPUT_VALUES),
    "lm_words_bytes": ("lm", "predict_words", lambda: dict(words=[[HUGE]]), OVER_BYTES),
    # 51 MB and 205 MB: refused before the model (or a float copy) sees them.
    "image_uint8_rows": ("image", "predict_uint8", lambda: dict(
        images=tf.zeros([MAX_IMAGES + 1, 28, 28], tf.uint8)),
                         too_large("images", MAX_IMAGES + 1, MAX_IMAGES)),
    "image_float_rows": ("image", "serving_default", lambda: dict(
        images=tf.zeros([MAX_IMAGES + 1, 28, 28], tf.float32)),
                         too_large("images", MAX_IMAGES + 1, MAX_IMAGES)),
}


@pytest.mark.parametrize("case", sorted(OVERSIZED))
def test_a_request_just_over_a_limit_is_refused(exported, case):
  name, signature, inputs, message = OVERSIZED[case]
  inputs = {k: tf.constant(v) if isinstance(v, list) else v for k, v in inputs().items()}
  with refused(message):
    exported[name][signature](**inputs)


def _ancestors(op):
  """Every op ``op`` waits for (data and control inputs, transitively)."""
  seen, todo = set(), [op]
  while todo:
    current = todo.pop()
    for parent in [t.op for t in current.inputs] + list(current.control_inputs):
      if parent not in seen:
        seen.add(parent)
        todo.append(parent)
  return seen


def test_size_checks_run_before_tokenising_and_padding(modules):
  graph = modules["imdb"].serve_text.get_concrete_function().graph
  by_type = lambda t: [op for op in graph.get_operations() if op.type == t]
  (split,) = by_type("StringSplitV2")             # tokenising
  (pad,) = by_type("RaggedTensorToTensor")        # the dense [N, W] ids
  before_split = [a for a in by_type("Assert") if a in _ancestors(split)]
  assert len(before_split) == 1                   # the bytes of the raw text
  assert "StringLength" in {op.type for op in _ancestors(before_split[0])}
  on_tokens = [a for a in by_type("Assert")
               if split in _ancestors(a) and a in _ancestors(pad)]
  assert len(on_tokens) == 1                      # the positions of the tokens
  lookups = by_type("LookupTableFindV2")
  assert lookups and all(on_tokens[0] in _ancestors(op) for op in lookups)


@pytest.mark.parametrize("signature,first", [("serve_uint8", "Cast"),
                                             ("serve_float", "CheckNumerics")])
def test_the_image_count_is_checked_before_the_images_are_used(modules, signature, first):
  graph = getattr(modules["image"], signature).get_concrete_function().graph
  by_type = lambda t: [op for op in graph.get_operations() if op.type == t]
  (check,) = by_type("Assert")                    # the image count, the only assertion
  # What the model's input comes from: uint8 -> float, or the float images checked.
  (use,) = [op for op in by_type(first) if op.inputs[0].dtype in (tf.uint8, tf.float32)]
  assert check in _ancestors(use)


# -- lengths and shapes -------------------------------------------------------------

LENGTH_CASES = [([50], "lengths must be <= the width of the input"),
                ([-2], "lengths must be >= 0"),
                ([3, 3], "lengths must have one entry per row of the input")]


@pytest.mark.parametrize("lengths,message", LENGTH_CASES)
def test_predict_ids_checks_lengths(exported, lengths, message):
  with refused(message):
    exported["imdb"]["predict_ids"](ids=tf.constant([[2, 3, 4]]),
                                    lengths=tf.constant(lengths))


@pytest.mark.parametrize("lengths,message", LENGTH_CASES)
def test_the_tagger_checks_lengths_the_same_way(exported, lengths, message):
  with refused(message):
    exported["tagger"]["serving_default"](tokens=tf.constant([["EU", "rejects", "x"]]),
                                          lengths=tf.constant(lengths))


@pytest.mark.parametrize("ids,message", [([[2, -1]], "ids must be >= 0"),
                                         ([[2, 7]], "ids must be < the vocabulary size")])
def test_predict_ids_checks_ids(exported, ids, message):
  with refused(message):
    exported["imdb"]["predict_ids"](ids=tf.constant(ids), lengths=tf.constant([2]))


# -- empty requests: no rows, or rows of width 0 --------------------------------------

def test_predict_ids_answers_width_0_as_the_empty_text(exported):
  empty_text = exported["imdb"]["serving_default"](text=tf.constant(["", ""]))
  for rows in (2, 0):
    out = exported["imdb"]["predict_ids"](ids=tf.zeros([rows, 0], tf.int32),
                                          lengths=tf.zeros([rows], tf.int32))
    assert out["probabilities"].shape == (rows, 2) and out["classes"].shape == (rows,)
    # Both run the zero-length RNN on one padded position, in two graphs: float32
    # ulps of probabilities < 1, and 1e-6 is ~10x that.
    np.testing.assert_allclose(out["probabilities"], empty_text["probabilities"][:rows],
                               atol=1e-6)
  with refused("lengths must be <= the width of the input"):
    exported["imdb"]["predict_ids"](ids=tf.zeros([1, 0], tf.int32), lengths=tf.constant([1]))


@pytest.mark.parametrize("rows,width", [(2, 0), (0, 0), (0, 3)])
def test_the_tagger_answers_an_empty_request_with_empty_outputs(exported, rows, width):
  out = exported["tagger"]["serving_default"](tokens=tf.fill([rows, width], ""),
                                              lengths=tf.zeros([rows], tf.int32))
  assert out["tags"].shape == out["tag_ids"].shape == (rows, width)
  assert out["probabilities"].shape == (rows, width, 3)


@pytest.mark.parametrize("signature,inputs", [
    ("serving_default", lambda rows: dict(ids=tf.zeros([rows, 0], tf.int32))),
    ("predict_words", lambda rows: dict(words=tf.zeros([rows, 0], tf.string)))])
@pytest.mark.parametrize("rows", [2, 0])
def test_the_language_model_refuses_width_0(exported, signature, inputs, rows):
  # No id, so no word after the last id (next_word_probabilities): refused, by name.
  with refused(re.escape("the input must be at least 1 wide (dimension 1): the language "
                         "model predicts the word after each id")):
    exported["lm"][signature](**inputs(rows))
