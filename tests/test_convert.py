"""bin/convert: tf_lstm models (and an imported TF1 checkpoint) as Keras 3 and PyTorch
models giving the same probabilities on real test data; refusals write nothing.

Each model is built once, its variables set to random values well away from their
initial ones (zero biases would hide a bias or forget_bias put in the wrong gate),
saved as a model directory the way training saves one, converted, and loaded back
from the written files.
"""

import dataclasses
import importlib.util
import os
import subprocess
import sys

import numpy as np
import pytest
import tensorflow as tf

from tests.conftest import MNIST_5K, ROOT, SHARED_DATA, run_bin
from tests.parity import harness
from tests.tolerances import assert_same_classes
from tf_lstm.app import config as config_lib
from tf_lstm.app import tasks
from tf_lstm.app import tf1_import
from tf_lstm.app.convert import ConvertError
from tf_lstm.app.convert import converter
from tf_lstm.app.convert import network as network_lib
from tf_lstm.app.convert import to_keras
from tf_lstm.app.convert import to_torch
from tf_lstm.app.data import imdb as imdb_data
from tf_lstm.app.data import text
from tf_lstm.app.training import builder
from tf_lstm.app.training import checkpoints

# PyTorch's note that its oneDNN kernels skip LSTMs with proj_size (it uses its own).
pytestmark = pytest.mark.filterwarnings(
    "ignore:LSTM with projections is not supported with oneDNN:UserWarning")
# |probability difference| allowed between tf_lstm and the converted models: the same
# float32 function from other kernels (summation orders) differed by <= 2.7e-7 here; a gate
# in the wrong place, a lost forget_bias or a misread mask moves probabilities by > 1e-2.
TOL = 1e-5
N = 16   # units: small and fast
MNIST_DIGITS = 2000   # of the 10,000 test digits: enough to meet every digit often
IMDB_VOCAB, IMDB_LENGTH, IMDB_REVIEWS = 2000, 200, 400

# id -> (ModelConfig settings, targets that convert)
CASES = {
    "lstm_1_layer": (dict(task="mnist", cell="lstm", num_layers=1), ("keras", "torch")),
    "lstm_2_layers_mean_projection": (
        dict(task="mnist", cell="lstm", num_layers=2, forget_bias=0.5, pooling="mean",
             input_projection=12), ("keras", "torch")),
    "lstm_full_projection_2_layers": (
        dict(task="mnist", cell="lstm_full", num_layers=2, num_proj=10), ("torch",)),
    "gru": (dict(task="mnist", cell="gru", num_layers=1), ("keras",)),
    "rnn_2_layers": (dict(task="mnist", cell="rnn", num_layers=2), ("keras", "torch")),
    "lstm_bidirectional_2_layers": (
        dict(task="mnist", cell="lstm", num_layers=2, bidirectional=True), ("keras", "torch")),
    "imdb_bidirectional_lstm": (
        dict(task="imdb", cell="lstm", num_layers=1, bidirectional=True),
        ("keras", "torch")),
    "imdb_bidirectional_rnn_2_layers": (
        dict(task="imdb", cell="rnn", num_layers=2, bidirectional=True), ("keras", "torch")),
}

# id -> (ModelConfig settings, target, what the refusal must say)
REFUSED = {
    "gflstm": (dict(task="mnist", cell="gflstm", num_layers=2), "keras",
               r"GFLSTMCell: the gated-feedback LSTM"),
    "binary_lstm": (dict(task="mnist", cell="binary_lstm"), "torch",
                    r"BinaryLSTMCell: the binary LSTM binarises its kernel"),
    "peepholes": (dict(task="mnist", cell="lstm_full", use_peepholes=True), "torch",
                  r"LSTMCell with peepholes .*: neither Keras's LSTM nor PyTorch's "
                  r"nn.LSTM has peephole connections"),
    "cell_clip": (dict(task="mnist", cell="lstm_full", cell_clip=3.0), "keras",
                  r"LSTMCell with cell_clip"),
    "projection_to_keras": (dict(task="mnist", cell="lstm_full", num_proj=10), "keras",
                            r"projection \(num_proj\) to Keras: Keras's LSTM has no output "
                            r"projection"),
    "gru_to_torch": (dict(task="mnist", cell="gru"), "torch",
                     r"GRUCell to PyTorch: TF1's GRU applies the reset gate before"),
}


@pytest.fixture(scope="module")
def tf1_run(tmp_path_factory):
  """A TF1 program trains a 2-layer BasicLSTMCell model 10 Adam steps on mnist-5k and
  saves its checkpoint and its logits on the 10,000 test digits (as
  test_tf1_trained_checkpoints.py does); started first, read by the last test."""
  out = str(tmp_path_factory.mktemp("tf1_lstm"))
  cmd = harness.legacy_command(
      "mnist_multilayer_lstm.py",
      ["--cell=lstm", "--num_layers=2", f"--num_units={N}", "--train_steps=10",
       "--learning_rate=0.01"],
      [f"--checkpoint_dir={out}", f"--test_logits_out={out}/logits.npy"])
  proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                          env=harness.LEGACY_ENV, cwd=ROOT)
  yield proc, out
  if proc.poll() is None:
    proc.kill()
    proc.communicate()


@pytest.fixture(scope="module", autouse=True)
def start_tf1_first(tf1_run):
  del tf1_run   # the TF1 program runs while the other tests do


@pytest.fixture(scope="module")
def mnist_test():
  """The first MNIST_DIGITS real test digits ([N, 28, 28] floats in [0, 1])."""
  task = tasks.get("mnist")
  images, _ = task.eval_arrays(task.load(MNIST_5K))
  return task.eval_transform()(images[:MNIST_DIGITS], None)[0].numpy()


@pytest.fixture(scope="module")
def imdb():
  """``(vocabulary, ids, lengths)``: IMDB_REVIEWS real test reviews, half of each class,
  encoded with a vocabulary of real training reviews (lengths up to IMDB_LENGTH)."""
  data = imdb_data.load(os.path.join(SHARED_DATA, "imdb"))
  words = text.build_vocab(data.train_texts[::10], IMDB_VOCAB)
  half = IMDB_REVIEWS // 2
  picked = np.concatenate([data.test_texts[:half], data.test_texts[-half:]])
  ids, lengths = text.encode_numpy(picked, words, IMDB_LENGTH)
  assert lengths.min() < IMDB_LENGTH == lengths.max()   # padding is exercised
  return words, ids, lengths


def randomize(model, seed):
  """Every variable to U(-0.5, 0.5): biases, forget gates and embeddings all matter."""
  rng = np.random.RandomState(seed)
  for v in model.trainable_variables:
    v.assign(rng.uniform(-0.5, 0.5, v.shape).astype(np.float32))


def write_model_dir(directory, settings, seed, vocab=None):
  """A model directory as tf-lstm-train leaves it (config.json, checkpoint, vocab)."""
  model_settings = dict(num_units=N, **settings)
  if settings["task"] == "imdb":
    model_settings.update(vocab_size=IMDB_VOCAB, embedding_dim=8, max_length=IMDB_LENGTH)
  config = config_lib.TrainConfig(model=config_lib.ModelConfig(**model_settings),
                                  model_dir=str(directory))
  _, model, optimizer = builder.build(config)
  randomize(model, seed)
  checkpoints.check_or_write_config(str(directory), config)
  checkpoints.make_manager(str(directory), model, optimizer)[1].save(checkpoint_number=0)
  if vocab is not None:
    text.save_vocab(os.path.join(str(directory), text.VOCAB_FILE), vocab)
  return str(directory), model


def load_torch(path):
  """The module written next to the state dict ``path``, loaded as a user would."""
  spec = importlib.util.spec_from_file_location("converted_model",
                                                os.path.splitext(path)[0] + ".py")
  module = importlib.util.module_from_spec(spec)
  spec.loader.exec_module(module)
  return module.load()


def probabilities_of(target, path, inputs):
  """What the written ``target`` model gives for ``inputs`` (images, or (ids, lengths))."""
  if target == "keras":
    keras = pytest.importorskip("keras", reason="the convert extra (keras) is not installed")
    model = keras.saving.load_model(path)
    x = inputs[0] if isinstance(inputs, tuple) else inputs
    return model.predict(x, batch_size=2500, verbose=0)
  torch = pytest.importorskip("torch", reason="the convert extra (torch) is not installed")
  model = load_torch(path)
  args = inputs if isinstance(inputs, tuple) else (inputs,)
  with torch.no_grad():
    return model(*[torch.from_numpy(np.asarray(a, np.int64 if a.dtype.kind == "i" else None))
                   for a in args]).softmax(-1).numpy()


def tf_probabilities(model, inputs):
  return tf.nn.softmax(model(inputs)).numpy()


def assert_same(probs, expected):
  assert probs.shape == expected.shape
  assert harness.max_abs_diff(probs, expected) <= TOL
  # Every class equal (the rule) up to near-ties: one case has two best
  # probabilities 8.7e-7 apart, and kernels differ by up to 2.7e-7.
  assert_same_classes(probs.argmax(1), expected, TOL)


@pytest.fixture(scope="module")
def converted(tmp_path_factory, imdb):
  """{(case, target): (written path, the tf_lstm model, its real inputs or None for
  the MNIST digits)}: every case built and converted once."""
  out = {}
  for seed, (name, (settings, targets)) in enumerate(CASES.items()):
    base = tmp_path_factory.mktemp(name)
    is_text = settings["task"] == "imdb"
    model_dir, model = write_model_dir(base / "run", settings, seed,
                                       imdb[0] if is_text else None)
    inputs = imdb[1:] if is_text else None
    for target in targets:
      if target == "keras":
        pytest.importorskip("keras", reason="the convert extra (keras) is not installed")
      else:
        pytest.importorskip("torch", reason="the convert extra (torch) is not installed")
      path = str(base / ("model.keras" if target == "keras" else "model.pt"))
      assert converter.convert(model_dir, target, path, log=lambda _: None) == (
          [path] if target == "keras" else [path, str(base / "model.py")])
      out[name, target] = (path, model, inputs)
  return out


@pytest.fixture(scope="module")
def expected(converted, mnist_test):
  """{case: (the real inputs, the tf_lstm model's probabilities on them)}, each once."""
  cache = {}

  def get(name):
    if name not in cache:
      _, model, inputs = next(v for k, v in converted.items() if k[0] == name)
      inputs = mnist_test if inputs is None else tuple(inputs)
      cache[name] = inputs, tf_probabilities(model, inputs)
    return cache[name]
  return get


@pytest.mark.parametrize("name,target", [(n, t) for n, (_, ts) in CASES.items() for t in ts])
def test_converted_model_gives_the_same_probabilities(converted, expected, name, target):
  inputs, probs = expected(name)
  assert_same(probabilities_of(target, converted[name, target][0], inputs), probs)


@pytest.mark.parametrize("name", list(REFUSED))
def test_refused_with_the_reason_and_nothing_written(tmp_path, name):
  settings, target, reason = REFUSED[name]
  model_dir, _ = write_model_dir(tmp_path / "run", settings, 0)
  output = str(tmp_path / ("model.keras" if target == "keras" else "model.pt"))
  with pytest.raises(ConvertError, match=reason):
    converter.convert(model_dir, target, output)
  assert sorted(os.listdir(tmp_path)) == ["run"]   # no output, no module, no staging


def test_a_wrong_conversion_is_caught_before_anything_is_written(converted, monkeypatch,
                                                                tmp_path):
  """The converter's own check against the tf_lstm model: a network whose forget gates
  lost TF1's forget_bias (1.0) is refused for both targets."""
  describe = converter.network_lib.describe

  def forget_bias_lost(model):
    network = describe(model)
    layer = network.layers_fw[0]
    bias = layer.bias.copy()
    bias[layer.units:2 * layer.units] -= 1.0   # Keras's gate order: i, f, c, o
    return dataclasses.replace(network, layers_fw=(dataclasses.replace(layer, bias=bias),))
  monkeypatch.setattr(converter.network_lib, "describe", forget_bias_lost)
  model_dir = os.path.join(os.path.dirname(converted["lstm_1_layer", "torch"][0]), "run")
  for target, output in (("keras", "model.keras"), ("torch", "model.pt")):
    with pytest.raises(ConvertError, match=r"does not compute the tf_lstm model's function "
                                           r"\(probabilities differ by 0\.\d+ > 0\.0001"):
      converter.convert(model_dir, target, str(tmp_path / output))
  assert os.listdir(tmp_path) == []


def test_bad_target_output_or_model_named_before_any_work():
  with pytest.raises(ConvertError, match=r"unknown target 'onnx'; expected one of keras, "
                                         r"torch"):
    converter.check_output("onnx", "m.onnx")
  with pytest.raises(ConvertError, match=r"--output m.keras: a torch model is written to "
                                         r"a .pt or .pth file"):
    converter.check_output("torch", "m.keras")
  with pytest.raises(ConvertError, match=r"cannot convert a Module: the converter takes "
                                         r"the image classifiers .* and the text classifier"):
    network_lib.describe(tf.Module())


def test_without_the_extra_the_error_says_what_to_install(monkeypatch):
  monkeypatch.setitem(sys.modules, "keras", None)   # as if not installed
  monkeypatch.setitem(sys.modules, "torch", None)
  with pytest.raises(ConvertError, match=r"--to=keras needs Keras 3, which is not "
                                         r"installed: pip install 'tf_lstm\[convert\]'"):
    to_keras.import_keras()
  with pytest.raises(ConvertError, match=r"--to=torch needs PyTorch, which is not "
                                         r"installed: pip install 'tf_lstm\[convert\]'"):
    to_torch.import_torch()


def test_unwritable_output_is_an_error_that_leaves_nothing(converted, tmp_path):
  model_dir = os.path.join(os.path.dirname(converted["rnn_2_layers", "torch"][0]), "run")
  blocked = tmp_path / "file"
  blocked.write_text("not a directory")
  with pytest.raises(ConvertError, match=r"--output .*/file/m.pt: .*/file is not a "
                                         r"directory"):
    converter.convert(model_dir, "torch", str(blocked / "m.pt"))
  # Found only when writing: the folder to create is under a file.
  with pytest.raises(ConvertError, match=r"cannot write .*/file/sub/m.pt \(.*\); "
                                         r"nothing written"):
    converter.convert(model_dir, "torch", str(blocked / "sub" / "m.pt"))
  assert sorted(os.listdir(tmp_path)) == ["file"] and blocked.read_text() == "not a directory"


def test_existing_output_is_never_overwritten(converted):
  path, _, _ = converted["lstm_1_layer", "torch"]
  module = os.path.splitext(path)[0] + ".py"
  before = open(path, "rb").read(), open(module, "rb").read()
  with pytest.raises(ConvertError, match=r"model.pt already exists; a conversion never "
                                         r"overwrites"):
    converter.convert(os.path.join(os.path.dirname(path), "run"), "torch", path)
  assert (open(path, "rb").read(), open(module, "rb").read()) == before


def test_bin_convert_refuses_with_the_reason(tmp_path):
  model_dir, _ = write_model_dir(tmp_path / "run", REFUSED["gru_to_torch"][0], 0)
  output = tmp_path / "out" / "gru.pt"
  proc = run_bin("convert", f"--model_dir={model_dir}", "--to=torch", f"--output={output}")
  assert proc.returncode == 1, proc.stderr
  assert "error: cannot convert a GRUCell to PyTorch: TF1's GRU applies the reset gate" \
      in proc.stderr
  assert not os.path.exists(tmp_path / "out")


def test_imported_tf1_checkpoint_converts_with_tf1s_probabilities(tf1_run, mnist_test,
                                                                  tmp_path):
  """TF1 checkpoint -> tf-lstm-import-tf1's steps -> convert: TF1's own probabilities."""
  proc, out = tf1_run
  stdout, stderr = proc.communicate(timeout=600)
  assert proc.returncode == 0, f"{stdout}\n{stderr[-4000:]}"
  tf1_logits = np.load(os.path.join(out, "logits.npy"))
  assert tf1_logits.shape == (10000, 10)
  tf1_probs = tf.nn.softmax(tf1_logits[:MNIST_DIGITS]).numpy()
  # What bin/import_tf1 --task=mnist --cell=lstm --num_layers=2 --num_units=16 does.
  model_dir = str(tmp_path / "imported")
  config = config_lib.TrainConfig(model=config_lib.ModelConfig(
      task="mnist", cell="lstm", num_layers=2, num_units=N), model_dir=model_dir)
  _, model, optimizer = builder.build(config)
  tf1_import.load(model, os.path.join(out, "model.ckpt"))
  checkpoints.check_or_write_config(model_dir, config)
  checkpoints.make_manager(model_dir, model, optimizer)[1].save(checkpoint_number=0)
  for target, name in (("keras", "tf1.keras"), ("torch", "tf1.pt")):
    path = str(tmp_path / name)
    converter.convert(model_dir, target, path, log=lambda _: None)
    assert_same(probabilities_of(target, path, mnist_test), tf1_probs)
