"""TF1 checkpoint import: name matching and errors (in-process), and bin/import_tf1
end to end on a checkpoint trained by legacy/mnist_multilayer_lstm.py."""

import json
import os
import re
import shutil

import numpy as np
import pytest
import tensorflow as tf

from tests.conftest import MNIST_5K, real_mnist, run_bin
from tests.parity import harness
from tests.tolerances import assert_same_classes
from tf_lstm.app import config as config_lib
from tf_lstm.app import tf1_import
from tf_lstm.app.training import checkpoints
from tf_lstm.app.training import loop

N = 8   # units of the in-process models


def build(cell="lstm", num_layers=1, num_units=N, **options):
  config = config_lib.TrainConfig(model=config_lib.ModelConfig(
      task="mnist", cell=cell, num_layers=num_layers, num_units=num_units, **options))
  return loop.build(config)[1]


def write_tf1_checkpoint(directory, arrays):
  """A name-based checkpoint as tf.compat.v1.train.Saver writes it; returns the prefix."""
  prefix = os.path.join(str(directory), "model.ckpt")
  names = sorted(arrays)
  tf.raw_ops.SaveV2(prefix=prefix, tensor_names=names, shape_and_slices=[""] * len(names),
                    tensors=[np.asarray(arrays[n]) for n in names])
  return prefix


def random_arrays(shapes, seed=0):
  rng = np.random.RandomState(seed)
  return {n: np.asarray(rng.randn(*s), np.float32) for n, s in shapes.items()}


def lstm_shapes(prefix="rnn/basic_lstm_cell", n=N, depth=28):
  return {f"{prefix}/kernel": [depth + n, 4 * n], f"{prefix}/bias": [4 * n]}


OUTPUT = {"Variable": [N, 10], "Variable_1": [10]}


def assert_loaded(model, arrays, mapping):
  for pv in tf1_import.port_variables(model):
    np.testing.assert_array_equal(pv.variable.numpy(), arrays[mapping[pv.name]], pv.name)


# ------------------------------------------------------------------ in-process


def test_port_names_and_default_tf1_names():
  pvs = tf1_import.port_variables(build(num_layers=2))
  assert [pv.name for pv in pvs] == [
      "cell/layer_0/kernel", "cell/layer_0/bias", "cell/layer_1/kernel", "cell/layer_1/bias",
      "output/kernel", "output/bias"]
  assert pvs[2].defaults == ("rnn/multi_rnn_cell/cell_1/basic_lstm_cell/kernel",
                            "rnn/multi_rnn_cell/cell_1/lstm_cell/kernel",
                            "rnn/multi_rnn_cell/cell_1/cudnn_compatible_lstm_cell/kernel")
  assert pvs[-1].defaults == ("output/bias",) and pvs[-1].by_shape


@pytest.mark.parametrize("scope", ["", "my_scope/"])
def test_multilayer_under_a_scope_with_optimizer_slots(tmp_path, scope):
  shapes = {**lstm_shapes(f"{scope}rnn/multi_rnn_cell/cell_0/basic_lstm_cell"),
            **lstm_shapes(f"{scope}rnn/multi_rnn_cell/cell_1/basic_lstm_cell", depth=N),
            **OUTPUT}
  slots = {f"{n}/Adam{s}": shape for n, shape in shapes.items() for s in ("", "_1")}
  slots.update({"beta1_power": [], "beta2_power": [], "global_step": []})
  arrays = random_arrays({**shapes, **slots})
  model = build(num_layers=2)
  mapping = tf1_import.load(model, write_tf1_checkpoint(tmp_path, arrays))
  assert mapping == {   # written out: equal-shape biases must not trade places
      "cell/layer_0/kernel": f"{scope}rnn/multi_rnn_cell/cell_0/basic_lstm_cell/kernel",
      "cell/layer_0/bias": f"{scope}rnn/multi_rnn_cell/cell_0/basic_lstm_cell/bias",
      "cell/layer_1/kernel": f"{scope}rnn/multi_rnn_cell/cell_1/basic_lstm_cell/kernel",
      "cell/layer_1/bias": f"{scope}rnn/multi_rnn_cell/cell_1/basic_lstm_cell/bias",
      "output/kernel": "Variable", "output/bias": "Variable_1"}
  assert_loaded(model, arrays, mapping)


@pytest.mark.parametrize("cell,ports,options", [   # port name: (TF1 name, shape)
    ("gru", {"cell/layer_0/gates/kernel": ("rnn/gru_cell/gates/kernel", [28 + N, 2 * N]),
             "cell/layer_0/gates/bias": ("rnn/gru_cell/gates/bias", [2 * N]),
             "cell/layer_0/candidate/kernel": ("rnn/gru_cell/candidate/kernel", [28 + N, N]),
             "cell/layer_0/candidate/bias": ("rnn/gru_cell/candidate/bias", [N])}, {}),
    ("rnn", {"cell/layer_0/kernel": ("rnn/basic_rnn_cell/kernel", [28 + N, N]),
             "cell/layer_0/bias": ("rnn/basic_rnn_cell/bias", [N])}, {}),
    ("lstm_full", {"cell/layer_0/kernel": ("rnn/lstm_cell/kernel", [28 + 4, 4 * N]),
                   "cell/layer_0/bias": ("rnn/lstm_cell/bias", [4 * N]),
                   "cell/layer_0/w_f_diag": ("rnn/lstm_cell/w_f_diag", [N]),
                   "cell/layer_0/w_i_diag": ("rnn/lstm_cell/w_i_diag", [N]),
                   "cell/layer_0/w_o_diag": ("rnn/lstm_cell/w_o_diag", [N]),
                   "cell/layer_0/projection/kernel": ("rnn/lstm_cell/projection/kernel", [N, 4])},
     {"use_peepholes": True, "num_proj": 4}),
])
def test_other_cells(tmp_path, cell, ports, options):
  output = {"Variable": [options.get("num_proj", N), 10], "Variable_1": [10]}
  arrays = random_arrays({**dict(ports.values()), **output})
  model = build(cell, **options)
  mapping = tf1_import.load(model, write_tf1_checkpoint(tmp_path, arrays))
  assert mapping == {**{p: tf1 for p, (tf1, _) in ports.items()},
                     "output/kernel": "Variable", "output/bias": "Variable_1"}
  assert_loaded(model, arrays, mapping)


def gflstm_shapes(n=N, num_layers=2, depth=28):
  """legacy/mnist_gflstm.py's variables (one GFLSTMCell of num_layers layers)."""
  out, total = {}, num_layers * n
  for j in range(num_layers):
    d, p = (depth if j == 0 else n), f"rnn/gflstm_cell/cell_{j}"
    out.update({f"{p}/gates/kernel": [d + n, 3 * n], f"{p}/gates/bias": [3 * n],
                f"{p}/candidate/input_kernel": [d, n],
                f"{p}/candidate/recurrent_kernel": [total, n], f"{p}/candidate/bias": [n],
                f"{p}/global_reset/kernel": [d + total, num_layers]})
  return out


def binary_lstm_shapes(n=N, num_layers=2):
  """legacy/mnist_binary_lstm.py's variables (BasicLSTMCell layout, binary_lstm_cell)."""
  return {name: shape for k in range(num_layers) for name, shape in lstm_shapes(
      f"rnn/multi_rnn_cell/cell_{k}/binary_lstm_cell", depth=28 if k == 0 else N).items()}


def assert_wrong_num_units_lists_everything(prefix, arrays, model, wrong_shape, expects):
  before = [v.numpy() for v in model.trainable_variables]
  with pytest.raises(tf1_import.TF1ImportError) as e:
    tf1_import.load(model, prefix)
  msg = str(e.value)
  assert wrong_shape in msg
  assert "the port model expects (port name [shape] <- TF1 name):\n" in msg
  assert expects in msg
  assert "the checkpoint holds (optimizer slots omitted):\n" in msg
  for name in arrays:
    if not tf1_import.is_optimizer_slot(name):
      shape = ", ".join(str(d) for d in arrays[name].shape)
      assert f"  {name} [{shape}]\n" in msg, name
  assert "Adam" not in msg and "check the cell, num_layers and num_units" in msg
  for v, b in zip(model.trainable_variables, before):   # nothing assigned
    np.testing.assert_array_equal(v.numpy(), b)


def test_gflstm(tmp_path):
  shapes = {**gflstm_shapes(), **OUTPUT}
  slots = {f"{n}/Adam{s}": shape for n, shape in shapes.items() for s in ("", "_1")}
  arrays = random_arrays({**shapes, **slots, "beta1_power": [], "beta2_power": []})
  prefix = write_tf1_checkpoint(tmp_path, arrays)
  model = build("gflstm", num_layers=2)
  mapping = tf1_import.load(model, prefix)
  assert mapping == {
      **{f"cell/layer_{k}/{v}": f"rnn/gflstm_cell/cell_{k}/{v}" for k in (0, 1) for v in (
          "gates/kernel", "gates/bias", "candidate/input_kernel", "candidate/recurrent_kernel",
          "candidate/bias", "global_reset/kernel")},
      "output/kernel": "Variable", "output/bias": "Variable_1"}
  assert len(mapping) == len(model.trainable_variables) == 14
  assert_loaded(model, arrays, mapping)
  np.testing.assert_array_equal(model.cell.layers[0]["reset_kernel"].numpy(),
                                arrays["rnn/gflstm_cell/cell_0/global_reset/kernel"])
  assert_wrong_num_units_lists_everything(
      prefix, arrays, build("gflstm", num_layers=2, num_units=16),
      "wrong shape: rnn/gflstm_cell/cell_0/gates/kernel is [36, 24] in the checkpoint, "
      "cell/layer_0/gates/kernel is [44, 48]",
      "  cell/layer_1/global_reset/kernel [48, 2] <- "
      "rnn/gflstm_cell/cell_1/global_reset/kernel\n")


def test_binary_lstm(tmp_path):
  shapes = {**binary_lstm_shapes(), **OUTPUT}
  arrays = random_arrays(shapes)
  for name in arrays:   # TF1's real-valued shadow kernels live in [-1, 1].
    if name.endswith("/kernel"):
      arrays[name] = np.clip(arrays[name], -1.0, 1.0)
  prefix = write_tf1_checkpoint(tmp_path, arrays)
  model = build("binary_lstm", num_layers=2)
  mapping = tf1_import.load(model, prefix)
  assert mapping == {
      "cell/layer_0/kernel": "rnn/multi_rnn_cell/cell_0/binary_lstm_cell/kernel",
      "cell/layer_0/bias": "rnn/multi_rnn_cell/cell_0/binary_lstm_cell/bias",
      "cell/layer_1/kernel": "rnn/multi_rnn_cell/cell_1/binary_lstm_cell/kernel",
      "cell/layer_1/bias": "rnn/multi_rnn_cell/cell_1/binary_lstm_cell/bias",
      "output/kernel": "Variable", "output/bias": "Variable_1"}
  assert_loaded(model, arrays, mapping)
  layer = model.cell.cells[1]   # the shadow kernel is TF1's; the step binarises it
  shadow = arrays["rnn/multi_rnn_cell/cell_1/binary_lstm_cell/kernel"]
  np.testing.assert_array_equal(layer.binary_kernel().numpy(),
                                np.where(shadow >= 0, layer.scale, -layer.scale)
                                .astype(np.float32))
  assert_wrong_num_units_lists_everything(
      prefix, arrays, build("binary_lstm", num_layers=2, num_units=16),
      "wrong shape: rnn/multi_rnn_cell/cell_0/binary_lstm_cell/kernel is [36, 32] in the "
      "checkpoint, cell/layer_0/kernel is [44, 64]",
      "  cell/layer_1/kernel [32, 64] <- rnn/multi_rnn_cell/cell_1/binary_lstm_cell/kernel\n")


@pytest.mark.parametrize("cell,shapes,flags", [
    ("gflstm", gflstm_shapes(), []),
    ("binary_lstm", binary_lstm_shapes(), ["--binary_scale=none"])])
def test_cli_extra_cells(tmp_path, cell, shapes, flags):
  arrays = random_arrays({**shapes, **OUTPUT})
  (tmp_path / "tf1").mkdir()
  prefix = write_tf1_checkpoint(tmp_path / "tf1", arrays)
  proc = run_bin("import_tf1", f"--checkpoint={prefix}", "--task=mnist", f"--cell={cell}",
                 "--num_layers=2", f"--num_units={N}", f"--model_dir={tmp_path / 'model'}",
                 *flags, check=True)
  assert "cell/layer_1/" in proc.stdout and "output/kernel <- Variable\n" in proc.stdout
  config = checkpoints.read_config(str(tmp_path / "model"))
  assert config.model.cell == cell and config.model.num_layers == 2
  if cell == "binary_lstm":   # the recorded scale is the one the model computes with
    assert config.model.binary_scale == "none"
    assert loop.build(config)[1].cell.cells[1].scale == 1.0
  model = loop.build(config)[1]
  latest = tf.train.latest_checkpoint(str(tmp_path / "model" / "checkpoints"))
  tf.train.Checkpoint(model=model).restore(latest).assert_existing_objects_matched()
  assert_loaded(model, arrays, tf1_import.plan(model, prefix)[1])


def test_ambiguous_output_layer_then_var_map(tmp_path):
  arrays = random_arrays({**lstm_shapes(), "softmax/w": [N, 10], "aux/w": [N, 10],
                          "softmax/b": [10]})
  prefix = write_tf1_checkpoint(tmp_path, arrays)
  model = build()
  before = [v.numpy() for v in model.trainable_variables]
  with pytest.raises(tf1_import.TF1ImportError) as e:
    tf1_import.load(model, prefix)
  msg = str(e.value)
  assert "ambiguous output/kernel: 2 variables of shape [8, 10] (aux/w, softmax/w)" in msg
  assert "the checkpoint holds" in msg and "  aux/w [8, 10]" in msg
  assert "  rnn/basic_lstm_cell/kernel [36, 32]" in msg
  for v, b in zip(model.trainable_variables, before):   # nothing assigned
    np.testing.assert_array_equal(v.numpy(), b)
  with pytest.raises(tf1_import.TF1ImportError, match="no port variable takes: aux/w"):
    tf1_import.load(model, prefix, var_map={"output/kernel": "softmax/w"})
  mapping = tf1_import.load(model, prefix, var_map=tf1_import.parse_var_map(
      "output/kernel=softmax/w, output/bias=softmax/b"), allow_unused=True)
  assert mapping["output/kernel"] == "softmax/w"
  assert_loaded(model, arrays, mapping)


def test_missing_and_wrong_shape_list_the_checkpoint(tmp_path):
  arrays = random_arrays({"rnn/basic_lstm_cell/kernel": [28 + N, 4 * N], **OUTPUT})
  prefix = write_tf1_checkpoint(tmp_path, arrays)
  with pytest.raises(tf1_import.TF1ImportError) as e:
    tf1_import.load(build(), prefix)
  msg = str(e.value)
  assert "missing rnn/basic_lstm_cell/bias" in msg
  assert "  cell/layer_0/bias [32] <- rnn/basic_lstm_cell/bias" in msg
  assert "  Variable [8, 10]" in msg
  with pytest.raises(tf1_import.TF1ImportError) as e:
    tf1_import.load(build(num_units=16), prefix)
  msg = str(e.value)
  assert ("wrong shape: rnn/basic_lstm_cell/kernel is [36, 32] in the checkpoint, "
          "cell/layer_0/kernel is [44, 64]") in msg
  assert "missing output/kernel: no output/kernel and no variable of shape [16, 10]" in msg


def test_layer_count_mismatch_and_ambiguous_scopes(tmp_path):
  three = {**lstm_shapes("rnn/multi_rnn_cell/cell_0/basic_lstm_cell"), **OUTPUT}
  for k in (1, 2):
    three.update(lstm_shapes(f"rnn/multi_rnn_cell/cell_{k}/basic_lstm_cell", depth=N))
  with pytest.raises(tf1_import.TF1ImportError,
                     match=r"no port variable takes: rnn/multi_rnn_cell/cell_2/"):
    tf1_import.load(build(num_layers=2), write_tf1_checkpoint(tmp_path / "3", random_arrays(three)))
  two_scopes = random_arrays({**lstm_shapes("a/rnn/basic_lstm_cell"),
                              **lstm_shapes("b/rnn/basic_lstm_cell"), **OUTPUT})
  prefix = write_tf1_checkpoint(tmp_path / "2", two_scopes)
  with pytest.raises(tf1_import.TF1ImportError, match="ambiguous cell/layer_0/kernel: "
                     "a/rnn/basic_lstm_cell/kernel, b/rnn/basic_lstm_cell/kernel"):
    tf1_import.load(build(), prefix)
  model = build()
  mapping = tf1_import.load(model, prefix, scope="b", allow_unused=True)
  assert mapping["cell/layer_0/kernel"] == "b/rnn/basic_lstm_cell/kernel"
  assert_loaded(model, two_scopes, mapping)


def test_bad_paths_and_var_maps(tmp_path):
  with pytest.raises(tf1_import.TF1ImportError, match="no TF1 checkpoint at .*nope"):
    tf1_import.load(build(), str(tmp_path / "nope"))
  with pytest.raises(tf1_import.TF1ImportError, match="no checkpoint in directory"):
    tf1_import.load(build(), str(tmp_path))
  prefix = write_tf1_checkpoint(tmp_path, random_arrays({**lstm_shapes(), **OUTPUT}))
  with pytest.raises(tf1_import.TF1ImportError, match="unknown port variable 'out/kernel'"):
    tf1_import.load(build(), prefix, var_map={"out/kernel": "Variable"})
  with pytest.raises(tf1_import.TF1ImportError, match="'W', which is not in the checkpoint"):
    tf1_import.load(build(), prefix, var_map={"output/kernel": "W"})
  with pytest.raises(tf1_import.TF1ImportError, match="expected port_name=tf1_name"):
    tf1_import.parse_var_map("output/kernel")
  assert tf1_import.load(build(), prefix + ".index")["output/bias"] == "Variable_1"


# ------------------------------------------------- end to end with legacy/ TF1

UNITS = 32


@pytest.fixture(scope="module")
def legacy_trained(tmp_path_factory):
  """legacy/mnist_multilayer_lstm.py, one BasicLSTMCell, trained 30 steps (Adam 0.01):
  checkpoint dir, test logits."""
  base = tmp_path_factory.mktemp("legacy_trained")
  harness.run_legacy("mnist_multilayer_lstm.py", [
      "--num_layers=1", f"--num_units={UNITS}", "--train_steps=30", "--learning_rate=0.01"],
      [f"--checkpoint_dir={base / 'ckpt'}", f"--test_logits_out={base / 'logits.npy'}"])
  return str(base / "ckpt"), np.load(base / "logits.npy")


@pytest.fixture(scope="module")
def imported(legacy_trained, tmp_path_factory):
  base = tmp_path_factory.mktemp("imported")
  model_dir, export_dir = str(base / "model"), str(base / "export")
  proc = run_bin("import_tf1", f"--checkpoint={legacy_trained[0]}", "--task=mnist",
                 "--cell=lstm", "--num_layers=1", f"--num_units={UNITS}",
                 f"--model_dir={model_dir}", f"--export_dir={export_dir}", check=True)
  assert "output/kernel <- Variable\n" in proc.stdout
  return model_dir, os.path.join(export_dir, "1")


def test_imported_model_predicts_like_tf1(legacy_trained, imported):
  tf1_logits = legacy_trained[1]
  model_dir, export_path = imported
  config = checkpoints.read_config(model_dir)
  task, model, _ = loop.build(config)
  latest = tf.train.latest_checkpoint(os.path.join(model_dir, "checkpoints"))
  assert latest.endswith("ckpt-30")   # the run continues at TF1's step (its Adam state)
  tf.train.Checkpoint(model=model).restore(latest).assert_existing_objects_matched()
  test_x, _ = task.eval_arrays(task.load(MNIST_5K))
  scale = task.eval_transform()
  logits = np.concatenate([model(scale(test_x[i:i + 2000], None)[0]).numpy()
                           for i in range(0, len(test_x), 2000)])
  assert logits.shape == tf1_logits.shape == (10000, 10)
  assert harness.max_abs_diff(logits, tf1_logits) <= 1e-5
  assert_same_classes(logits.argmax(1), tf1_logits, 1e-5)   # within the logits' 1e-5
  served = tf.saved_model.load(export_path).signatures["predict_uint8"](
      images=tf.constant(test_x))
  assert harness.max_abs_diff(served["logits"], tf1_logits) <= 1e-5
  assert_same_classes(served["classes"].numpy(), tf1_logits, 1e-5)


def test_bin_train_resumes_the_imported_run(legacy_trained, imported, small_mnist_dir, tmp_path):
  model_dir = str(tmp_path / "model")
  shutil.copytree(imported[0], model_dir)
  proc = run_bin("train", "--task=mnist", "--num_layers=1", f"--num_units={UNITS}",
                 "--learning_rate=0.001", "--lr_schedule=constant", "--augment_shift=0",
                 "--train_steps=33", "--log_every=1", f"--data_dir={small_mnist_dir}",
                 f"--model_dir={model_dir}", check=True)
  assert re.search(r"resumed from .*ckpt-30 at step 30", proc.stdout)
  with open(os.path.join(model_dir, "results.json")) as f:
    results = json.load(f)
  assert results["global_step"] == 33 and results["resumed_from_step"] == 30
  # The small test split is real test digits 0..199; 3 small steps (Adam 0.001) keep
  # the accuracy near TF1's (a fresh model would be near 10%).
  labels = real_mnist().test_labels[:200]
  tf1_accuracy = float(np.mean(legacy_trained[1][:200].argmax(1) == labels))
  assert tf1_accuracy > 0.4
  assert abs(results["test_accuracy"] - tf1_accuracy) <= 0.1


def _snapshot(directory):
  out = {}
  for root, _, files in os.walk(directory):
    for name in files:
      path = os.path.join(root, name)
      with open(path, "rb") as f:
        out[os.path.relpath(path, directory)] = (os.stat(path).st_mtime_ns, f.read())
  return out


def test_cli_wrong_num_units_writes_nothing(legacy_trained, tmp_path):
  proc = run_bin("import_tf1", f"--checkpoint={legacy_trained[0]}", "--task=mnist",
                 "--num_units=64", f"--model_dir={tmp_path / 'model'}",
                 f"--export_dir={tmp_path / 'export'}")
  assert proc.returncode == 1
  assert "wrong shape: rnn/basic_lstm_cell/kernel is [60, 128]" in proc.stderr
  assert "the checkpoint holds (optimizer slots omitted):\n  Variable [32, 10]" in proc.stderr
  assert "Adam" not in proc.stderr
  assert not os.path.exists(tmp_path / "model") and not os.path.exists(tmp_path / "export")


def test_cli_refuses_a_model_dir_with_checkpoints(legacy_trained, imported):
  before = _snapshot(imported[0])
  proc = run_bin("import_tf1", f"--checkpoint={legacy_trained[0]}", "--task=mnist",
                 f"--num_units={UNITS}", f"--model_dir={imported[0]}")
  assert proc.returncode == 1
  assert "already holds a run (config.json, checkpoints)" in proc.stderr
  assert _snapshot(imported[0]) == before
