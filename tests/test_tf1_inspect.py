"""``bin/import_tf1 --inspect`` and imports without architecture flags.

On the checkpoint of seed 003's TF1 program (legacy/mnist_static_rnn.py, 3
training steps, through the parity runner) and on hand-written checkpoints (old
names, other cells, checkpoints that do not determine the model).  The other
legacy programs' checkpoints are inspected where their tests train them anyway:
tests/test_tf1_trained_checkpoints.py (every MNIST cell variant) and
tests/test_tf1_import_families.py (bidirectional MNIST, IMDB, CoNLL, PTB).
The expected architectures are written out here, not taken from the inspector.
"""

import os

import numpy as np
import pytest
from absl import flags

from tests.conftest import real_mnist, run_bin, write_mnist_idx
from tests.parity import harness
from tests.test_tf1_import import write_tf1_checkpoint
from tests.tolerances import assert_same_classes
from tf_lstm.app import tasks
from tf_lstm.app import tf1_import
from tf_lstm.app import tf1_inspect
from tf_lstm.app.commands import train as train_cmd
from tf_lstm.app.training import builder
from tf_lstm.app.training import checkpoints

TEST_DIGITS = 2000   # real test digits the TF1 program writes logits for
MNIST = ("mnist", "fashion_mnist")
# What the seed program (no flags: BasicLSTMCell(128) under static_rnn) must be found to be.
SEED = dict(cell="lstm", num_layers=1, num_units=128, bidirectional=False)


@pytest.fixture(scope="module")
def seed_program(tmp_path_factory):
  """``(checkpoint prefix, TF1 logits [TEST_DIGITS, 10])`` after 3 Adam steps."""
  base = str(tmp_path_factory.mktemp("tf1_inspect"))
  train_x, train_y, test_x, test_y = real_mnist()
  data = write_mnist_idx(os.path.join(base, "mnist"), train_x[::10], train_y[::10],
                         test_x[:TEST_DIGITS], test_y[:TEST_DIGITS])
  harness.run_legacy("mnist_static_rnn.py", [f"--data_dir={data}"],
                     ["--train_steps=3", f"--checkpoint_dir={base}",
                      f"--test_logits_out={base}/logits.npy"])
  return os.path.join(base, "model.ckpt"), np.load(os.path.join(base, "logits.npy"))


@pytest.fixture(scope="module")
def test_images():
  return tasks.get("mnist").eval_transform()(real_mnist()[2][:TEST_DIGITS], None)[0]


def test_inspect_names_the_seed_programs_architecture(seed_program):
  arch = tf1_inspect.inspect(seed_program[0])
  assert arch.unclear == [] and arch.unused == [] and arch.tasks == MNIST
  assert {k: arch.settings.get(k) for k in SEED} == SEED
  assert arch.optimizer == "Adam"
  assert tf1_inspect.import_defaults(arch, {"task": "mnist"}) == {**SEED, "optimizer": "adam"}


def _logits_of_model_dir(model_dir, images):
  config = checkpoints.read_config(model_dir)
  _, model, optimizer = builder.build(config)
  ckpt, manager = checkpoints.make_manager(model_dir, model, optimizer)
  assert checkpoints.restore_latest(ckpt, manager)
  return model(images).numpy(), optimizer


def test_cli_inspect_then_import_without_architecture_flags(seed_program, test_images,
                                                            tmp_path):
  prefix, tf1_logits = seed_program
  proc = run_bin("import_tf1", f"--checkpoint={prefix}", "--inspect")
  assert proc.returncode == 0, proc.stderr
  for line in ("  cell             lstm (BasicLSTMCell: basic_lstm_cell/{bias, kernel})",
               "  layers           1", "  units            128", "  directions       1",
               "  input depth      28", "  task             mnist or fashion_mnist (same "
               "shapes: pick with --task)", "optimizer state: Adam (10 slots: Variable/Adam, "
               "Variable/Adam_1, Variable_1/Adam, ...)",
               f"  bin/import_tf1 --checkpoint={prefix} --task=mnist --cell=lstm "
               "--num_layers=1 --num_units=128 --nobidirectional --optimizer=adam "
               "--batch_size=128 --model_dir=DIR"):
    assert line + "\n" in proc.stdout, (line, proc.stdout)
  assert not os.listdir(tmp_path)   # --inspect writes nothing
  train_line = proc.stdout.split("then train on with")[1].splitlines()[1].split()
  model_dir = str(tmp_path / "run")
  proc = run_bin("import_tf1", f"--checkpoint={prefix}", "--task=mnist",
                 f"--model_dir={model_dir}")
  assert proc.returncode == 0, proc.stderr
  # The printed bin/train command resumes the imported run (its fixed settings agree).
  fv = flags.FlagValues()
  train_cmd.define_flags(fv)
  fv([a.replace("=LR", "=0.001").replace("=DATA", f"={tmp_path}").replace("=DIR", f"={model_dir}")
      .replace("=STEPS", "=10") for a in train_line])
  checkpoints.check_or_write_config(model_dir, train_cmd.make_config(train_cmd.resolve(fv)),
                                    write=False)
  assert ("from the checkpoint: cell=lstm num_layers=1 num_units=128 bidirectional=False "
          "optimizer=adam\n") in proc.stdout
  assert "Adam slots of all 4 variables imported\n" in proc.stdout
  logits, optimizer = _logits_of_model_dir(model_dir, test_images)
  assert int(optimizer.iterations.numpy()) == 3   # TF1's beta1_power after 3 updates
  # 1e-5: the same float32 weights in two graphs; only summation orders differ
  # (tests/test_tf1_trained_checkpoints.py: at most 2e-6 on these logits).
  assert harness.max_abs_diff(logits, tf1_logits) <= 1e-5
  assert_same_classes(logits.argmax(1), tf1_logits, 1e-5)


# Hand-written checkpoints: names and shapes only.
def _lstm(prefix, n, depth, scope="basic_lstm_cell"):
  return {f"{prefix}/{scope}/kernel": [depth + n, 4 * n], f"{prefix}/{scope}/bias": [4 * n]}


def _inspect(tmp_path, shapes):
  rng = np.random.RandomState(0)
  arrays = {n: np.asarray(rng.randn(*s), np.float32) for n, s in shapes.items()}
  return tf1_inspect.inspect(write_tf1_checkpoint(tmp_path, arrays))


@pytest.mark.parametrize("shapes, fits, expected", [
    # The PTB tutorial run with LSTMBlockCell (lstm_cell), tied softmax, global_step.
    ({**_lstm("Model/RNN/multi_rnn_cell/cell_0", 24, 24, "lstm_cell"),
      **_lstm("Model/RNN/multi_rnn_cell/cell_1", 24, 24, "lstm_cell"),
      "Model/embedding": [300, 24], "Model/softmax_b": [300], "Model/global_step": []},
     ("ptb",), dict(cell="lstm_full", num_layers=2, num_units=24, tie_embeddings=True)),
    # TF 0.12 names: RNN/MultiRNNCell/CellK/BasicLSTMCell/Linear/{Matrix,Bias}.
    ({"RNN/MultiRNNCell/Cell0/BasicLSTMCell/Linear/Matrix": [40, 48],
      "RNN/MultiRNNCell/Cell0/BasicLSTMCell/Linear/Bias": [48],
      "RNN/MultiRNNCell/Cell1/BasicLSTMCell/Linear/Matrix": [24, 48],
      "RNN/MultiRNNCell/Cell1/BasicLSTMCell/Linear/Bias": [48],
      "softmax/w": [12, 10], "softmax/b": [10]},
     MNIST, dict(cell="lstm", num_layers=2, num_units=12, bidirectional=False)),
    # CudnnCompatibleLSTMCell: BasicLSTMCell's variables, forget_bias 0 (not stored).
    ({**_lstm("rnn", 8, 28, "cudnn_compatible_lstm_cell"), "w": [8, 10], "b": [10]},
     MNIST, dict(cell="lstm", num_units=8, forget_bias=0.0)),
    # LSTMCell with peepholes and a projection (6) narrower than its units (8), 2 layers.
    ({**{f"rnn/multi_rnn_cell/cell_{k}/lstm_cell/{v}": s for k, d in ((0, 28), (1, 6))
         for v, s in (("kernel", [d + 6, 32]), ("bias", [32]), ("w_f_diag", [8]),
                      ("w_i_diag", [8]), ("w_o_diag", [8]), ("projection/kernel", [8, 6]))},
      "Variable": [6, 10], "Variable_1": [10]},
     MNIST, dict(cell="lstm_full", num_layers=2, num_units=8, num_proj=6, use_peepholes=True)),
    # A projection of the image rows, then a GRU; bidirectional basic RNN text classifier.
    ({"W_in": [28, 6], "b_in": [6], "rnn/gru_cell/gates/kernel": [14, 16],
      "rnn/gru_cell/gates/bias": [16], "rnn/gru_cell/candidate/kernel": [14, 8],
      "rnn/gru_cell/candidate/bias": [8], "Variable": [8, 10], "Variable_1": [10]},
     MNIST, dict(cell="gru", num_units=8, input_projection=6)),
    ({"embedding": [50, 6], "bidirectional_rnn/fw/basic_rnn_cell/kernel": [11, 5],
      "bidirectional_rnn/fw/basic_rnn_cell/bias": [5],
      "bidirectional_rnn/bw/basic_rnn_cell/kernel": [11, 5],
      "bidirectional_rnn/bw/basic_rnn_cell/bias": [5],
      "output/kernel": [10, 2], "output/bias": [2]},
     ("imdb",), dict(cell="rnn", num_units=5, bidirectional=True, embedding_dim=6)),
])
def test_inspect_hand_written_checkpoints(tmp_path, shapes, fits, expected):
  arch = _inspect(tmp_path, shapes)
  assert arch.unclear == [] and arch.unused == []
  assert arch.tasks == fits
  assert {k: arch.settings.get(k) for k in expected} == expected


@pytest.mark.parametrize("shapes, line", [
    ({**_lstm("rnn", 8, 28), "head_a/w": [8, 10], "head_a/b": [10], "head_c/w": [8, 10],
      "head_c/b": [10]}, "several candidate output layers: head_a/w [8, 10] + head_a/b [10]; "
     "head_c/w [8, 10] + head_c/b [10]"),
    ({**_lstm("encoder/rnn", 8, 28), **_lstm("decoder/rnn", 8, 28), "w": [8, 10], "b": [10]},
     "2 RNNs: decoder/rnn, encoder/rnn; pick one with --scope"),
    ({**_lstm("rnn/multi_rnn_cell/cell_0", 8, 28), **_lstm("rnn/multi_rnn_cell/cell_1", 4, 8),
      "w": [4, 10], "b": [10]}, "the layers or directions differ in cell or size"),
    ({"rnn/basic_lstm_cell/kernel": [36, 32], "rnn/basic_lstm_cell/bias": [30]},
     "fit no registered cell with equal layer sizes"),
])
def test_what_the_checkpoint_leaves_unclear_is_one_line(tmp_path, shapes, line):
  arch = _inspect(tmp_path, shapes)
  assert any(line in u for u in arch.unclear), arch.unclear
  with pytest.raises(tf1_import.TF1ImportError) as e:
    tf1_inspect.import_defaults(arch, {"task": "mnist"})
  assert "\n" not in str(e.value) and line in str(e.value)
  assert str(e.value).startswith(f"cannot tell the model from {arch.prefix}: ")
  # With the architecture given as flags (and var_map for the rest), the import goes on.
  assert tf1_inspect.import_defaults(arch, {"task": "mnist", "num_units": 8}) is not None


def test_several_tasks_fit_and_none_is_given(tmp_path):
  tagger = {"embedding": [50, 6], "case_embedding": [6, 2], "output/kernel": [16, 9],
            "output/bias": [9], **_lstm("bidirectional_rnn/fw", 8, 8),
            **_lstm("bidirectional_rnn/bw", 8, 8)}
  arch = _inspect(tmp_path / "tagger", tagger)
  assert arch.unclear == [] and arch.tasks == ("conll_pos", "conll_ner")
  with pytest.raises(tf1_import.TF1ImportError,
                     match="it fits --task=conll_pos or --task=conll_ner; give --task$"):
    tf1_inspect.import_defaults(arch, {})
  # mnist and fashion_mnist: the declared default task, as plain imports had.
  arch = _inspect(tmp_path / "image", {**_lstm("rnn", 8, 28), "w": [8, 10], "b": [10]})
  assert tf1_inspect.import_defaults(arch, {})["task"] == "mnist"
  assert tf1_inspect.import_defaults(arch, {"task": "fashion_mnist", "cell": "lstm"}) == {
      "num_layers": 1, "num_units": 8, "bidirectional": False}


def test_scope_picks_one_of_two_models_in_any_spelling(tmp_path):
  old = lambda p, n: {f"{p}/BasicLSTMCell/Linear/Matrix": [28 + n, 4 * n],   # TF 0.12
                      f"{p}/BasicLSTMCell/Linear/Bias": [4 * n]}
  rng = np.random.RandomState(0)
  shapes = {**old("enc/RNN", 8), **old("dec/RNN", 4), "enc/w": [8, 10], "enc/b": [10],
            "dec/w": [4, 10], "dec/b": [10]}
  prefix = write_tf1_checkpoint(tmp_path, {n: np.asarray(rng.randn(*s), np.float32)
                                           for n, s in shapes.items()})
  assert tf1_inspect.inspect(prefix).unclear == ["2 RNNs: dec/rnn, enc/rnn; pick one with "
                                                 "--scope"]
  for scope, units in (("enc", 8), ("dec/", 4)):
    arch = tf1_inspect.inspect(prefix, scope)
    assert arch.unclear == [] and arch.settings["num_units"] == units
