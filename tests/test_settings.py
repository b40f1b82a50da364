"""Each setting is declared once: the flags, the config records, config.json, the docs
table and the task defaults all come from (or are checked against) the declarations."""

import json
import os
import re
import shutil

import numpy as np
import pytest
import tensorflow as tf
from absl import flags

from tests.conftest import ROOT
from tf_lstm.app import config as config_lib
from tf_lstm.app import models
from tf_lstm.app import tasks
from tf_lstm.app import tf1_import
from tf_lstm.app.commands import train as train_cmd
from tf_lstm.app.training import checkpoints
from tf_lstm.app.training import loop
from tf_lstm.cells import base
from tf_lstm.cells import registry

DATA = os.path.join(ROOT, "tests", "data")


def parsed(*argv):
  """A fresh ``FlagValues`` with bin/train's flags, parsed from ``argv``."""
  fv = flags.FlagValues()
  train_cmd.define_flags(fv)
  fv(["train", "--model_dir=/tmp/unused", *argv])
  return fv


def test_every_setting_is_a_flag_with_its_declared_default_and_rules():
  fv = parsed()
  declared = config_lib.all_settings()
  for name, option in declared.items():
    default = None if name in train_cmd.RUN_DIRS else option.default
    assert fv[name].default == default, name
    if option.choices:
      assert fv[name].parser.enum_values == [str(c) for c in option.choices], name
  assert set(fv["cell"].parser.enum_values) == set(registry.names())
  assert set(fv["task"].parser.enum_values) == set(tasks.TASKS)
  for bad in ("--num_layers=0", "--learning_rate=0", "--dropout=0.99", "--augment_shift=9",
              "--optimizer=adagrad", "--binary_scale=two"):
    with pytest.raises(flags.IllegalFlagValueError):
      parsed(bad)


@pytest.mark.parametrize("argv, message", [
    (["--vocab_size=5"], "--vocab_size=5 is for --task=imdb/conll_pos/conll_ner only, "
                         "not --task=mnist"),
    (["--task=ptb", "--dtype=bfloat16"], "--dtype=bfloat16 is for "
                                         "--task=mnist/fashion_mnist/imdb only, not --task=ptb"),
    (["--num_proj=4"], "--num_proj=4 is for --cell=lstm_full only, not --cell=lstm"),
    (["--cell=lstm_full", "--proj_clip=1"], "proj_clip needs num_proj"),
    (["--config=small"], "--config=small applies to --task=ptb only"),
    (["--tflite"], "a TFLite export needs an export_dir and an image task"),
])
def test_settings_of_another_owner_fail_at_parse_time(argv, message):
  with pytest.raises(flags.IllegalFlagValueError, match=re.escape(message)):
    parsed(*argv)


def test_task_defaults_fill_only_what_is_not_given_and_no_task_is_built(monkeypatch):
  def no_build(self, *args, **kwargs):
    raise AssertionError("a task was built to read its defaults")
  for cls in tasks.TASKS.values():
    monkeypatch.setattr(cls, "__init__", no_build)
  fv = parsed("--task=mnist", "--num_units=64")
  values = train_cmd.resolve(fv)
  assert values["num_layers"] == 2 and values["learning_rate"] == 2e-3   # mnist's
  assert values["num_units"] == 64                                       # given
  assert fv["num_layers"].value == 1 and not fv["num_layers"].present    # flags untouched
  # ptb's preset holds forget_bias=0, which GRU cells do not take: left out.
  ptb = train_cmd.resolve(parsed("--task=ptb", "--cell=gru", "--config=medium"))
  assert ptb["num_units"] == 650 and ptb["forget_bias"] == 1.0
  assert train_cmd.resolve(parsed("--task=ptb"))["forget_bias"] == 0.0


def test_conll_defaults_are_the_measured_configuration():
  """benchmarks/conll.py measured POS 94.6% token accuracy with these (docs/benchmarks.md);
  bin/train --task=conll_pos with only --data_dir/--model_dir must train the same run."""
  for task in ("conll_pos", "conll_ner"):
    values = train_cmd.resolve(parsed(f"--task={task}"))
    assert {k: values[k] for k in (
        "vocab_size", "embedding_dim", "char_features", "num_layers", "num_units",
        "batch_size", "optimizer", "learning_rate", "lr_schedule", "epochs", "clip_norm")} == {
            "vocab_size": 30000, "embedding_dim": 100, "char_features": 30, "num_layers": 1,
            "num_units": 100, "batch_size": 32, "optimizer": "adam", "learning_rate": 2e-3,
            "lr_schedule": "cosine", "epochs": 5.0, "clip_norm": 5.0}


def test_config_json_holds_only_what_applies():
  mnist = train_cmd.make_config(train_cmd.resolve(parsed())).to_dict()
  for name in ("vocab_size", "embedding_dim", "tie_embeddings", "num_proj", "binary_scale"):
    assert name not in mnist["model"], name
  assert "num_steps" not in mnist and mnist["augment_shift"] == 2
  assert mnist["model"]["pooling"] == "last" and mnist["model"]["num_layers"] == 2
  imdb = config_lib.TrainConfig(model=config_lib.ModelConfig(task="imdb", cell="gru")).to_dict()
  assert imdb["model"]["vocab_size"] == 20000 and "pooling" not in imdb["model"]
  assert "forget_bias" not in imdb["model"] and imdb["dtype"] == "float32"   # gru
  full = config_lib.ModelConfig(cell="lstm_full", num_proj=4).to_dict()
  assert full["num_proj"] == 4 and "binary_scale" not in full
  assert config_lib.TrainConfig.from_dict(json.loads(json.dumps(
      config_lib.TrainConfig(model=config_lib.ModelConfig(cell="lstm_full", num_proj=4))
      .to_dict()))).model.num_proj == 4


def test_an_old_every_field_config_json_still_resumes(small_mnist_dir, tmp_path):
  """tests/data/old_config_mnist.json is config.json as the code before the settings
  redesign wrote it (every task's and cell's field, ``export_tflite``)."""
  with open(os.path.join(DATA, "old_config_mnist.json")) as f:
    old = json.load(f)
  assert "vocab_size" in old["model"] and "export_tflite" in old   # the old format
  model_dir = str(tmp_path / "run")
  config = config_lib.TrainConfig(
      model=config_lib.ModelConfig(num_layers=1, num_units=8), batch_size=32, train_steps=2,
      data_dir=small_mnist_dir, model_dir=model_dir)
  loop.train(config, log=lambda _: None)
  shutil.copy(os.path.join(DATA, "old_config_mnist.json"),
              os.path.join(model_dir, checkpoints.CONFIG_FILE))
  lines = []
  results = loop.train(config.replace(train_steps=3), log=lines.append)
  assert any(re.match(r"resumed from .*ckpt-2 at step 2", line) for line in lines), lines
  assert results["global_step"] == 3
  with open(os.path.join(model_dir, checkpoints.CONFIG_FILE)) as f:
    rewritten = json.load(f)
  assert "vocab_size" not in rewritten["model"] and rewritten["tflite"] is False
  shutil.copy(os.path.join(DATA, "old_config_mnist.json"),
              os.path.join(model_dir, checkpoints.CONFIG_FILE))
  with pytest.raises(checkpoints.ResumeError, match="num_units: 8 in the checkpoint vs 16 now"):
    loop.train(config.replace(model=config_lib.ModelConfig(num_layers=1, num_units=16)),
               log=lambda _: None)


def _docs_value(text):
  """A docs table default cell (```mnist```, ``2``, ``none (tfds)``...) as a value."""
  text = text.split(" (")[0].strip().strip("`")
  if text in ("none", "required", "''"):
    return None
  if text in ("true", "false"):
    return text == "true"
  try:
    return float(text)
  except ValueError:
    return text


def test_docs_training_table_matches_the_flags():
  """docs/training.md's flag table: one row per bin/train flag, each with the flag's
  declared default (what ``bin/train --helpfull`` shows; the tasks' own are in the text)."""
  with open(os.path.join(ROOT, "docs", "training.md")) as f:
    text = f.read()
  table = text[text.index("| flag | default | meaning |"):].split("\n\n")[0].splitlines()[2:]
  rows = {}
  for row in table:
    flag, default = [c.strip() for c in row.strip("|").split("|")][:2]
    rows[flag.strip("`").lstrip("-")] = _docs_value(default)
  fv = parsed()   # a fresh FlagValues: bin/train's flags only
  assert set(rows) == set(fv), (sorted(set(rows) - set(fv)), sorted(set(fv) - set(rows)))
  for name, shown in rows.items():
    want = None if fv[name].default in ("", None) else fv[name].default
    if isinstance(want, (int, float)) and not isinstance(want, bool):
      assert shown == pytest.approx(float(want)), name
    else:
      assert shown == want, name


class ToyCell(base.RNNCell):
  """``h' = tanh([x, h] @ kernel)``: a cell the tests register."""

  def __init__(self, num_units, input_depth=None, name="toy_cell"):
    self._num_units = int(num_units)
    super().__init__(input_depth=input_depth, name=name)

  @property
  def state_size(self):
    return self._num_units

  @property
  def output_size(self):
    return self._num_units

  def _create_variables(self, input_depth):
    self.kernel = self.add_weight("kernel", [input_depth + self._num_units, self._num_units])

  def _step(self, inputs, state):
    out = tf.tanh(tf.matmul(tf.concat([inputs, state], 1), self.kernel))
    return out, out


@pytest.fixture
def toy_cell():
  registry.register("toy")(ToyCell)   # the one line a new cell adds
  yield ToyCell
  registry.unregister("toy")


def test_a_registered_cell_reaches_the_flags_the_factory_and_the_importer(toy_cell, tmp_path):
  config = train_cmd.make_config(train_cmd.resolve(parsed("--cell=toy", "--num_units=4")))
  assert config.check().model.cell == "toy"
  _, model, _ = loop.build(config)
  assert [type(c) for c in model.cell.cells] == [toy_cell, toy_cell]   # mnist: 2 layers
  one = models.make_cell("toy", 4)
  assert isinstance(one, toy_cell)
  single = loop.build(config.replace(model=config.model.__class__(
      **{**config.model.to_dict(), "num_layers": 1})))[1]
  pvs = tf1_import.port_variables(single)
  assert pvs[0].name == "cell/layer_0/kernel"
  assert pvs[0].defaults == ("rnn/toy_cell/kernel", "rnn/multi_rnn_cell/cell_0/toy_cell/kernel")
  arrays = {"rnn/toy_cell/kernel": np.full([28 + 4, 4], 0.5, np.float32),
            "Variable": np.ones([4, 10], np.float32), "Variable_1": np.zeros([10], np.float32)}
  prefix = str(tmp_path / "model.ckpt")
  names = sorted(arrays)
  tf.raw_ops.SaveV2(prefix=prefix, tensor_names=names, shape_and_slices=[""] * len(names),
                    tensors=[arrays[n] for n in names])
  assert tf1_import.load(single, prefix)["cell/layer_0/kernel"] == "rnn/toy_cell/kernel"
  np.testing.assert_array_equal(single.cell.kernel.numpy(), arrays["rnn/toy_cell/kernel"])


def test_task_contract_is_abstract_and_build_model_needs_no_prepare_or_says_so():
  class Incomplete(tasks.Task):
    name = "incomplete"

    def load(self, data_dir):
      return data_dir
  with pytest.raises(TypeError, match="abstract"):
    Incomplete()
  for name in tasks.TASKS:
    config = config_lib.ModelConfig(task=name, num_units=4, vocab_size=10, embedding_dim=4)
    task = tasks.get(name)
    try:
      model = task.build_model(config)
    except ValueError as e:   # DataError is a ValueError
      assert "prepare() or use_assets() must run before build_model()" in str(e), name
    else:
      assert isinstance(model, tf.Module), name
