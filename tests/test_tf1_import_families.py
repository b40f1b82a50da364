"""TF1 checkpoints of every model family tf_lstm trains, imported and checked by numbers.

Four legacy/ TF1 programs run once, at the same time, in subprocesses (small
models, 10-20 training steps), each saving a ``tf.compat.v1.train.Saver``
checkpoint and its outputs on the real test data of ../shared/data:

  legacy/mnist_bidirectional_rnn.py  2 x BasicLSTMCell each way (static_bidirectional_rnn)
  legacy/conll_bilstm_tagger.py      biLSTM NER tagger with char-CNN
  legacy/imdb_lstm.py                the reviews' text, its own vocabulary file
  legacy/ptb_lm.py                   the PTB tutorial's Model/ names, reader vocabulary

tf_lstm imports each (the PTB one through bin/import_tf1, the others through
the function it calls) into a new model dir, restores that dir and computes the
same outputs: probabilities within 1e-5 and every argmax equal on all the test
data, PTB test perplexity within 1e-4 relative.  The expected port-to-TF1 names
are written out.  Old TF1 spellings (TF 0.12, 1.0/1.1, LSTMBlockCell,
CudnnCompatibleLSTMCell, GRUBlockCell) are checked by renaming a checkpoint
with tf.compat.v1 and importing it again.
"""

import math
import os
import subprocess
import sys

import numpy as np
import pytest
import tensorflow as tf

from tests.conftest import MNIST_5K, ROOT, SHARED_DATA, run_bin
from tests.parity import harness
from tests.tolerances import assert_same_classes
from tests.test_tf1_import import random_arrays, write_tf1_checkpoint
from tf_lstm.app import config as config_lib
from tf_lstm.app import tasks
from tf_lstm.app import tf1_import
from tf_lstm.app import tf1_inspect
from tf_lstm.app.commands import import_tf1
from tf_lstm.app.data import imdb as imdb_data
from tf_lstm.app.data import pipeline
from tf_lstm.app.data import text
from tf_lstm.app.data import token_features
from tf_lstm.app.tasks import imdb as imdb_task
from tf_lstm.app.training import builder
from tf_lstm.app.training import checkpoints
from tf_lstm.app.training import evaluation

N = 16   # units everywhere: small and fast
PTB = os.path.join(SHARED_DATA, "ptb-sample")
CONLL = os.path.join(SHARED_DATA, "conll2003")
IMDB = os.path.join(SHARED_DATA, "imdb")
TRAIN = ["--train_steps=10", "--learning_rate=0.01"]
# The PTB program's sizes; its BasicLSTMCells run with forget_bias 0 (the tutorial's).
PTB_FLAGS = ["--num_layers=2", f"--num_units={N}", "--batch_size=20", "--num_steps=20"]
IMDB_SIZES = dict(vocab_size=2000, max_length=100, embedding_dim=N)
# 1e-5: both sides compute in float32 from the same weights; only the kernels' summation
# order differs (TF1's graph vs the port's ops), a few 1e-7 on probabilities here.
PROB_TOL = 1e-5


def _commands(base):
  """{name: (argv, output dir)} of the four TF1 programs."""
  out = {n: os.path.join(base, n) for n in ("mnist_bi", "conll", "imdb", "ptb")}
  legacy = lambda script: os.path.join(ROOT, "legacy", script)
  py = sys.executable
  return {
      "mnist_bi": harness.legacy_command(
          "mnist_bidirectional_rnn.py", [f"--num_units={N}", "--num_layers=2", *TRAIN],
          [f"--checkpoint_dir={out['mnist_bi']}",
           f"--test_logits_out={out['mnist_bi']}/logits.npy"]),
      "conll": [py, legacy("conll_bilstm_tagger.py"), f"--data_dir={CONLL}", "--column=ner",
                "--max_eval_sentences=0", f"--embedding_dim={N}", f"--num_units={N}",
                "--char_features=8", "--batch_size=32", *TRAIN,
                f"--checkpoint_dir={out['conll']}",
                f"--test_probs_out={out['conll']}/probs.npz"],
      "imdb": [py, legacy("imdb_lstm.py"), f"--data_dir={IMDB}", "--max_train=4000",
               *(f"--{k}={v}" for k, v in IMDB_SIZES.items()), f"--num_units={N}",
               "--batch_size=32", "--train_steps=20", "--learning_rate=0.01",
               f"--vocab_out={out['imdb']}/vocab.txt", f"--checkpoint_dir={out['imdb']}",
               f"--test_probs_out={out['imdb']}/probs.npz"],
      "ptb": [py, legacy("ptb_lm.py"), f"--data_dir={PTB}", "--train_file=ptb.valid.txt",
              "--eval_file=ptb.test.txt", *PTB_FLAGS, "--max_max_epoch=1",
              f"--checkpoint_dir={out['ptb']}", f"--eval_out={out['ptb']}/perplexity.txt",
              f"--vocab_out={out['ptb']}/vocab.txt"],
  }, out


@pytest.fixture(scope="module")
def tf1(tmp_path_factory):
  """Runs the four TF1 programs at once; {name: their output dir}."""
  commands, out = _commands(str(tmp_path_factory.mktemp("tf1_families")))
  procs = {}
  for name, cmd in commands.items():
    os.makedirs(out[name], exist_ok=True)
    procs[name] = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                   text=True, env=harness.LEGACY_ENV, cwd=ROOT)
  for name, proc in procs.items():
    stdout, stderr = proc.communicate(timeout=900)
    if proc.returncode != 0:
      raise AssertionError(f"{' '.join(commands[name])} failed:\n{stdout}\n{stderr[-4000:]}")
  return out


def train_config(task, model_dir, data_dir="", **model):
  return config_lib.TrainConfig(model=config_lib.ModelConfig(task=task, num_units=N, **model),
                                model_dir=str(model_dir), data_dir=data_dir).check()


def restored(model_dir):
  """The task (assets read back) and model of an imported run, from its own files."""
  config = checkpoints.read_config(model_dir)
  task = tasks.get(config.model.task)
  task.use_assets(model_dir, config)
  _, model, _ = builder.build(config, task=task)
  latest = tf.train.latest_checkpoint(os.path.join(model_dir, "checkpoints"))
  tf.train.Checkpoint(model=model).restore(latest).assert_existing_objects_matched()
  return config, task, model


def assert_same_predictions(probs, tf1_probs):
  assert probs.shape == tf1_probs.shape
  assert harness.max_abs_diff(probs, tf1_probs) <= PROB_TOL
  assert_same_classes(probs.argmax(-1), tf1_probs, PROB_TOL)


def lstm_names(scope, layers):
  """{port: TF1 name} of BasicLSTMCell layers under ``scope`` (a MultiRNNCell if > 1)."""
  port = {"bidirectional_rnn/fw": "fw", "bidirectional_rnn/bw": "bw"}.get(scope, "cell")
  out = {}
  for k in range(layers):
    cell = f"{scope}/multi_rnn_cell/cell_{k}" if layers > 1 else scope
    for var in ("kernel", "bias"):
      out[f"{port}/layer_{k}/{var}"] = f"{cell}/basic_lstm_cell/{var}".lstrip("/")
  return out


# ------------------------------------------------------------ image classifier


BI_MAPPING = {**lstm_names("bidirectional_rnn/fw", 2), **lstm_names("bidirectional_rnn/bw", 2),
              "output/kernel": "Variable", "output/bias": "Variable_1"}


@pytest.fixture(scope="module")
def test_images():
  task = tasks.get("mnist")
  test_x, _ = task.eval_arrays(task.load(MNIST_5K))
  return task.eval_transform()(test_x, None)[0]


@pytest.fixture(scope="module")
def mnist_bi(tf1, tmp_path_factory):
  model_dir = tmp_path_factory.mktemp("mnist_bi") / "model"
  config = train_config("mnist", model_dir, num_layers=2, bidirectional=True)
  mapping = import_tf1.import_checkpoint(config, tf1["mnist_bi"], log=lambda _: None)
  return str(model_dir), mapping


def image_probs(model, images):
  return np.concatenate([tf.nn.softmax(model(images[i:i + 2500])).numpy()
                         for i in range(0, len(images), 2500)])


def test_bidirectional_image_classifier(tf1, mnist_bi, test_images):
  model_dir, mapping = mnist_bi
  assert mapping == BI_MAPPING
  _, _, model = restored(model_dir)
  tf1_probs = tf.nn.softmax(np.load(os.path.join(tf1["mnist_bi"], "logits.npy"))).numpy()
  assert_same_predictions(image_probs(model, test_images), tf1_probs)


# ---------------------------------------------------------------- tagger


def test_conll_tagger(tf1, tmp_path):
  model_dir = str(tmp_path / "model")
  config = train_config("conll_ner", model_dir, CONLL, embedding_dim=N, char_features=8,
                        vocab_size=20000)   # the TF1 program's vocabulary rules and cap
  mapping = import_tf1.import_checkpoint(config, tf1["conll"], log=lambda _: None)
  assert mapping == {
      "embedding": "embedding", "case_embedding": "case_embedding",
      "chars/embedding": "chars/embedding", "chars/kernel": "chars/kernel",
      "chars/bias": "chars/bias", **lstm_names("bidirectional_rnn/fw", 1),
      **lstm_names("bidirectional_rnn/bw", 1),
      "output/kernel": "output/kernel", "output/bias": "output/bias"}
  _, task, model = restored(model_dir)
  with np.load(os.path.join(tf1["conll"], "probs.npz")) as f:
    tf1_probs, lengths, tags = f["probs"], f["lengths"], list(f["tags"])
  assert task.assets["tags"] == tags
  sentences = [s.words for s in task.load(CONLL).test]
  words, cases, chars, lens = token_features.featurize_numpy(
      task.featurizer(), sentences, tf1_probs.shape[1])
  np.testing.assert_array_equal(lens, lengths)
  probs = np.concatenate([tf.nn.softmax(model(tuple(a[i:i + 500] for a in (
      words, cases, chars, lens)))).numpy() for i in range(0, len(lens), 500)])
  valid = np.arange(probs.shape[1])[None, :] < lengths[:, None]   # every real test token
  assert valid.sum() == 46435
  assert_same_predictions(probs[valid], tf1_probs[valid])


# ------------------------------------------------------------ text classifier


def test_imdb_text_classifier_with_the_tf1_vocabulary(tf1, tmp_path):
  vocab = os.path.join(tf1["imdb"], "vocab.txt")
  model_dir = str(tmp_path / "model")
  sizes = {k: v for k, v in IMDB_SIZES.items() if k != "vocab_size"}
  config = train_config("imdb", model_dir, **sizes)
  mapping = import_tf1.import_checkpoint(config, tf1["imdb"], vocab=vocab, log=lambda _: None)
  assert mapping == {"embedding": "embedding", **lstm_names("rnn", 1),
                     "output/kernel": "output/kernel", "output/bias": "output/bias"}
  config, task, model = restored(model_dir)
  assert config.model.vocab_size == IMDB_SIZES["vocab_size"] - text.NUM_RESERVED
  with open(vocab) as f:   # ids 2... are the TF1 program's words, in its order
    assert task.words == f.read().split("\n")[2:-1]
  data = imdb_data.load(IMDB)   # the reviews' text, encoded by the task's own path
  ids, lengths = text.encode_numpy(data.test_texts, task.words, task.max_length,
                                   imdb_task.KEEP)
  probs = np.concatenate([tf.nn.softmax(model((ids[i:i + 2500], lengths[i:i + 2500])))
                          .numpy() for i in range(0, len(ids), 2500)])
  with np.load(os.path.join(tf1["imdb"], "probs.npz")) as f:
    np.testing.assert_array_equal(f["labels"], data.test_labels)   # same reviews, same order
    assert_same_predictions(probs, f["probs"])


# --------------------------------------------------------------- language model


PTB_MAPPING = {"embedding": "Model/embedding",
               **{k: f"Model/RNN/{v}" for k, v in lstm_names("", 2).items()
                  if k.startswith("cell/")},
               "softmax_w": "Model/softmax_w", "softmax_b": "Model/softmax_b"}


def ptb_test_perplexity(model_dir):
  """The imported run's perplexity on ptb.test.txt, through the task's own evaluation."""
  config, task, model = restored(model_dir)
  data = task.prepare(task.load(PTB), config)   # reads the vocabulary back from model_dir
  dataset = pipeline.eval_dataset(task.eval_arrays(data), task.eval_batch_size,
                                  task.eval_transform())
  return math.exp(evaluation.evaluate(model, dataset, loss_terms=task.loss_terms)["loss"])


def test_ptb_language_model_through_bin_import_tf1(tf1, tmp_path):
  model_dir = str(tmp_path / "model")
  proc = run_bin("import_tf1", f"--checkpoint={tf1['ptb']}", "--task=ptb", *PTB_FLAGS,
                 "--forget_bias=0", f"--data_dir={PTB}", "--train_file=ptb.valid.txt",
                 "--eval_file=ptb.test.txt", f"--model_dir={model_dir}", check=True)
  assert "in the PTB reader's order (count, then word)" in proc.stdout
  for port, tf1_name in PTB_MAPPING.items():
    assert f"{port} <- {tf1_name}\n" in proc.stdout
  # global_step and the learning-rate variable are training state, not unused weights.
  names = {n for n, _ in tf.train.list_variables(tf1["ptb"])}
  assert {"Model/global_step", "Model/learning_rate"} <= names
  with open(os.path.join(tf1["ptb"], "perplexity.txt")) as f:
    tf1_perplexity = float(f.read())
  perplexity = ptb_test_perplexity(model_dir)
  # 1e-4 relative: exp of a mean over 78k float32 cross-entropies summed in another order.
  assert abs(perplexity - tf1_perplexity) <= 1e-4 * tf1_perplexity, (perplexity,
                                                                       tf1_perplexity)
  assert 100 < tf1_perplexity < 5000   # trained one epoch: far below the 6k-word vocabulary


def test_ptb_with_the_tf1_programs_vocabulary_file(tf1, tmp_path):
  """--vocab: the TF1 program's own word list, written to the model dir as it is."""
  vocab = os.path.join(tf1["ptb"], "vocab.txt")
  config = train_config("ptb", tmp_path / "model", num_layers=2, forget_bias=0.0)
  mapping = import_tf1.import_checkpoint(config, tf1["ptb"], vocab=vocab, log=lambda _: None)
  assert mapping == PTB_MAPPING
  with open(vocab) as f, open(tmp_path / "model" / "vocab.txt") as g:
    assert f.read() == g.read()
  bad = tmp_path / "no_unk.txt"
  bad.write_text("the\na\n")
  config = train_config("ptb", tmp_path / "bad", num_layers=2)
  for kw, message in ((dict(vocab=str(bad)), "has no <unk> word"),
                      ({}, "ptb: give vocab .* or data_dir")):
    with pytest.raises(tf1_import.TF1ImportError, match=message):
      import_tf1.import_checkpoint(config, tf1["ptb"], log=lambda _: None, **kw)
  assert not os.path.exists(tmp_path / "bad")


# ----------------------------------------------------------------- old names


def rename_checkpoint(prefix, directory, rename):
  """A copy of checkpoint ``prefix`` with each variable named ``rename(name)``, saved by a
  ``tf.compat.v1.train.Saver`` as TF1 programs did; returns its prefix."""
  reader = tf.train.load_checkpoint(prefix)
  with tf.Graph().as_default():
    variables = [tf.compat.v1.Variable(reader.get_tensor(n), name=rename(n))
                 for n in sorted(reader.get_variable_to_shape_map())]
    with tf.compat.v1.Session() as sess:
      sess.run(tf.compat.v1.global_variables_initializer())
      return tf.compat.v1.train.Saver(variables).save(sess, os.path.join(directory, "model.ckpt"))


TF_0_12 = [("bidirectional_rnn", "BiRNN"), ("/fw/", "/FW/"), ("/bw/", "/BW/"),
           ("multi_rnn_cell/cell_", "MultiRNNCell/Cell"), ("basic_lstm_cell", "BasicLSTMCell"),
           ("/kernel", "/Linear/Matrix"), ("/bias", "/Linear/Bias")]
TF_1_0 = [("/kernel", "/weights"), ("/bias", "/biases")]
LSTM_BLOCK = [("basic_lstm_cell", "lstm_cell")]


def renamer(pairs):
  def rename(name):
    for old, new in pairs:
      name = name.replace(old, new)
    return name
  return rename


@pytest.mark.parametrize("pairs", [TF_0_12, TF_1_0, LSTM_BLOCK],
                         ids=["tf_0_12", "tf_1_0", "lstm_block_cell"])
def test_old_names_of_a_trained_checkpoint(tf1, mnist_bi, test_images, tmp_path, pairs):
  """The bidirectional MNIST checkpoint renamed to an older spelling imports to the same
  variables (so the same numbers); the mapping names the old spelling."""
  rename = renamer(pairs)
  prefix = rename_checkpoint(tf1["mnist_bi"] + "/model.ckpt", str(tmp_path), rename)
  _, _, reference = restored(mnist_bi[0])
  config = train_config("mnist", tmp_path / "model", num_layers=2, bidirectional=True)
  model = builder.build(config)[1]
  mapping = tf1_import.load(model, prefix)
  assert mapping == {p: rename(t) for p, t in BI_MAPPING.items()}
  assert "Variable/Adam_1" in dict(tf.train.list_variables(prefix))   # slots kept, not unused
  for a, b in zip(model.trainable_variables, reference.trainable_variables):
    np.testing.assert_array_equal(a.numpy(), b.numpy())
  tf1_probs = tf.nn.softmax(np.load(os.path.join(tf1["mnist_bi"], "logits.npy"))).numpy()
  assert_same_predictions(image_probs(model, test_images[:500]), tf1_probs[:500])


def test_cudnn_compatible_lstm_cell_names_need_forget_bias_0(tf1, tmp_path):
  """The PTB checkpoint (forget_bias 0) as CudnnCompatibleLSTMCell wrote it, TF 1.0's
  weights/biases leaves included: it imports with forget_bias 0, and says so otherwise."""
  rename = renamer([("basic_lstm_cell/kernel", "cudnn_compatible_lstm_cell/weights"),
                    ("basic_lstm_cell/bias", "cudnn_compatible_lstm_cell/biases")])
  prefix = rename_checkpoint(tf1["ptb"] + "/model.ckpt", str(tmp_path), rename)
  vocab_size = dict(tf.train.list_variables(prefix))["Model/embedding"][0]
  task = tasks.get("ptb")
  task.vocab.get("", lambda: [f"w{i}" for i in range(vocab_size)])   # its size only
  task.batch_size = 20
  for forget_bias, ok in ((1.0, False), (0.0, True)):
    config = train_config("ptb", tmp_path / "m", num_layers=2, forget_bias=forget_bias)
    model = builder.build(config, task=task)[1]
    if ok:
      mapping = tf1_import.load(model, prefix)
      assert mapping["cell/layer_1/kernel"] == (
          "Model/RNN/multi_rnn_cell/cell_1/cudnn_compatible_lstm_cell/weights")
    else:
      with pytest.raises(tf1_import.TF1ImportError, match=r"cudnn_compatible_lstm_cell ran "
                         r"with forget_bias=0, the model has 1 .*set forget_bias=0"):
        tf1_import.load(model, prefix)


@pytest.mark.parametrize("cell,old,options", [
    ("gru", {"rnn/GRUCell/Gates/Linear/Matrix": "gates/kernel",      # TF 0.12
             "rnn/GRUCell/Gates/Linear/Bias": "gates/bias",
             "rnn/GRUCell/Candidate/Linear/Matrix": "candidate/kernel",
             "rnn/GRUCell/Candidate/Linear/Bias": "candidate/bias"}, {}),
    ("gru", {"rnn/gru_cell/w_ru": "gates/kernel",   # GRUBlockCell
             "rnn/gru_cell/b_ru": "gates/bias", "rnn/gru_cell/w_c": "candidate/kernel",
             "rnn/gru_cell/b_c": "candidate/bias"}, {}),
    ("lstm_full", {"RNN/LSTMCell/W_0": "kernel", "RNN/LSTMCell/B": "bias",   # TF 0.12 LSTMCell
                   "RNN/LSTMCell/W_F_diag": "w_f_diag", "RNN/LSTMCell/W_I_diag": "w_i_diag",
                   "RNN/LSTMCell/W_O_diag": "w_o_diag",
                   "RNN/LSTMCell/W_P_0": "projection/kernel"},
     {"use_peepholes": True, "num_proj": 4}),
    ("lstm_full", {"rnn/lstm_cell/weights": "kernel", "rnn/lstm_cell/biases": "bias",   # 1.0
                   "rnn/lstm_cell/w_f_diag": "w_f_diag", "rnn/lstm_cell/w_i_diag": "w_i_diag",
                   "rnn/lstm_cell/w_o_diag": "w_o_diag",
                   "rnn/lstm_cell/projection/weights": "projection/kernel"},
     {"use_peepholes": True, "num_proj": 4}),
], ids=["gru_tf_0_12", "gru_block_cell", "lstm_cell_tf_0_12", "lstm_cell_tf_1_0"])
def test_old_cell_names(tmp_path, cell, old, options):
  """Each old name lands on the port variable of today's name (values told apart)."""
  config = train_config("mnist", tmp_path / "m", cell=cell, **options)
  model = builder.build(config)[1]
  shapes = {pv.name: pv.variable.shape.as_list() for pv in tf1_import.port_variables(model)}
  arrays = random_arrays({**{name: shapes[f"cell/layer_0/{v}"] for name, v in old.items()},
                          "Variable": shapes["output/kernel"],
                          "Variable_1": shapes["output/bias"]})
  # A learning-rate scalar, a step and the slots of RMSProp and Momentum are training state.
  arrays.update({"lr": np.float32(0.1), "global_step": np.int64(7),
                 **{f"{n}/RMSProp{s}": arrays[n] for n in old for s in ("", "_1")},
                 **{f"{n}/Momentum": arrays[n] for n in old}})
  mapping = tf1_import.load(model, write_tf1_checkpoint(tmp_path, arrays))
  assert mapping == {**{f"cell/layer_0/{v}": name for name, v in old.items()},
                     "output/kernel": "Variable", "output/bias": "Variable_1"}
  for pv in tf1_import.port_variables(model):
    np.testing.assert_array_equal(pv.variable.numpy(), arrays[mapping[pv.name]])


# ------------------------------------------------- other cells, user scopes


@pytest.mark.parametrize("task,cell,layers,scope,extra", [
    ("mnist", "gru", 2, "my_net/", {}),
    ("mnist", "gflstm", 2, "", {}),
    ("mnist", "lstm_full", 1, "Model/", {"num_proj": 4}),
    ("imdb", "lstm", 1, "classifier/", {"embedding_dim": 8, "vocab_size": 30}),
], ids=["mnist_gru_2_layers", "mnist_gflstm", "mnist_lstm_projection", "imdb"])
def test_bidirectional_models_under_a_user_scope(tmp_path, task, cell, layers, scope, extra):
  """Any registered cell, bidirectional, under a user scope: every port variable gets the
  TF1 variable of its own name (values told apart), fw and bw never exchanged."""
  config = train_config(task, tmp_path / "m", cell=cell, num_layers=layers,
                        bidirectional=True, **extra)
  task_obj = tasks.get(task)
  if task == "imdb":
    task_obj.vocab.get("", lambda: [f"w{i}" for i in range(extra["vocab_size"])])
  model = builder.build(config, task=task_obj)[1]
  pvs = tf1_import.port_variables(model)
  expected = {}
  for pv in pvs:
    direction, _, rest = pv.name.partition("/")
    if direction in ("fw", "bw"):
      k = int(rest.partition("/")[0][len("layer_"):])
      (rel,) = [r for r, v in tf1_import.cell_variables(pv.cell) if v is pv.variable]
      # gflstm: one cell holds every layer (<cell>/cell_K/<var>); else a MultiRNNCell's.
      name = rel if cell == "gflstm" or layers == 1 else f"multi_rnn_cell/cell_{k}/{rel}"
      expected[pv.name] = f"{scope}bidirectional_rnn/{direction}/{name}"
    else:
      expected[pv.name] = {"output/kernel": "Variable", "output/bias": "Variable_1"}.get(
          pv.name, f"{scope}{pv.name}")
  arrays = random_arrays({expected[pv.name]: pv.variable.shape.as_list() for pv in pvs})
  arrays[f"{scope}global_step"] = np.int64(3)
  if scope:   # the PTB tutorial's learning rate: a scalar tf.Variable, Model/Variable
    arrays[f"{scope}Variable"] = np.float32(1.0)
  mapping = tf1_import.load(model, write_tf1_checkpoint(tmp_path, arrays))
  assert mapping == expected
  for pv in pvs:
    np.testing.assert_array_equal(pv.variable.numpy(), arrays[expected[pv.name]])


# ------------------------------------------------------------------- failures


def test_a_mismatch_lists_the_checkpoint_and_writes_nothing(tf1, tmp_path):
  model_dir = tmp_path / "model"
  config = train_config("mnist", model_dir, num_layers=2)   # unidirectional: does not fit
  with pytest.raises(tf1_import.TF1ImportError) as e:
    import_tf1.import_checkpoint(config, tf1["mnist_bi"], log=lambda _: None)
  msg = str(e.value)
  assert "missing rnn/multi_rnn_cell/cell_0/basic_lstm_cell/kernel" in msg
  assert "  cell/layer_1/bias [64] <- rnn/multi_rnn_cell/cell_1/basic_lstm_cell/bias" in msg
  assert "  bidirectional_rnn/bw/multi_rnn_cell/cell_1/basic_lstm_cell/kernel [32, 64]\n" in msg
  assert "Adam" not in msg and "beta1_power" not in msg
  assert not os.path.exists(model_dir)
  # A vocabulary that does not fit the embedding: nothing written either.
  bad_vocab = tmp_path / "vocab.txt"
  bad_vocab.write_text("<pad>\n<unk>\nthe\na\n")
  config = train_config("imdb", model_dir, **{k: v for k, v in IMDB_SIZES.items()
                                               if k != "vocab_size"})
  with pytest.raises(tf1_import.TF1ImportError, match=r"wrong shape: embedding is "
                     r"\[2000, 16\] in the checkpoint, embedding is \[4, 16\]"):
    import_tf1.import_checkpoint(config, tf1["imdb"], vocab=str(bad_vocab), log=lambda _: None)
  with pytest.raises(tf1_import.TF1ImportError, match="imdb: give vocab"):
    import_tf1.import_checkpoint(config, tf1["imdb"], log=lambda _: None)
  assert not os.path.exists(model_dir)


# ------------------------------------------------------- inspection (bin/import_tf1 --inspect)


@pytest.mark.parametrize("name, fits, expected", [
    ("mnist_bi", ("mnist", "fashion_mnist"),
     dict(cell="lstm", num_layers=2, num_units=N, bidirectional=True, optimizer="adam")),
    ("conll", ("conll_pos", "conll_ner"),
     dict(cell="lstm", num_layers=1, num_units=N, embedding_dim=N, char_features=8,
          optimizer="adam")),
    ("imdb", ("imdb",), dict(cell="lstm", num_layers=1, num_units=N, bidirectional=False,
                             embedding_dim=N, optimizer="adam")),
    ("ptb", ("ptb",), dict(cell="lstm", num_layers=2, num_units=N, tie_embeddings=False)),
])
def test_inspect_finds_the_settings_the_imports_above_give(tf1, name, fits, expected):
  """tf1_inspect: what --inspect reports and an import without architecture flags uses
  (forget_bias is not in checkpoints: the PTB import above still gives it)."""
  arch = tf1_inspect.inspect(tf1[name])
  assert arch.unclear == [] and arch.unused == [] and arch.tasks == fits
  assert tf1_inspect.import_defaults(arch, {"task": fits[-1]}) == expected
