"""A TF1 run stopped at step 100 goes on in tf_lstm: optimizer slots and step import.

tests/tf1_continuation.py (a TF1 program, in a subprocess) trains a 1x32
BasicLSTMCell on the real mnist-5k digits for 100 steps, saves, and trains 100
more.  tf_lstm imports the step-100 checkpoint as bin/import_tf1 does (the
architecture and the optimizer from the checkpoint), resumes the model dir as
bin/train does and trains the same 100 batches with its own training step.
"""

import os
import subprocess
import sys

import numpy as np
import pytest
import tensorflow as tf

from tests.conftest import MNIST_5K, ROOT
from tests.parity import harness
from tests.test_tf1_import import write_tf1_checkpoint
from tf_lstm.app import config as config_lib
from tf_lstm.app import optimizers
from tf_lstm.app import tasks
from tf_lstm.app import tf1_import
from tf_lstm.app import tf1_inspect
from tf_lstm.app import tf1_optimizer_state
from tf_lstm.app.commands import import_tf1
from tf_lstm.app.training import builder
from tf_lstm.app.training import checkpoints
from tf_lstm.app.training import loop

OPTIMIZERS = ("adam", "rmsprop", "momentum")
STEPS, BATCH, LR = 100, 32, 1e-3   # TF1's default learning rate of Adam and RMSProp


@pytest.fixture(scope="module")
def tf1_run(tmp_path_factory):
  out = str(tmp_path_factory.mktemp("tf1_continuation"))
  cmd = [sys.executable, os.path.join(ROOT, "tests", "tf1_continuation.py"),
         f"--data_dir={MNIST_5K}", f"--out_dir={out}", f"--optimizers={','.join(OPTIMIZERS)}",
         f"--steps={STEPS}", f"--batch_size={BATCH}", f"--learning_rate={LR}"]
  proc = subprocess.run(cmd, capture_output=True, text=True, env=harness.LEGACY_ENV,
                        cwd=ROOT, timeout=600)
  if proc.returncode != 0:
    raise AssertionError(f"{' '.join(cmd)} failed:\n{proc.stdout}\n{proc.stderr[-4000:]}")
  return out


@pytest.fixture(scope="module")
def train_data():
  task = tasks.get("mnist")
  return (task,) + tuple(task.train_arrays(task.load(MNIST_5K)))


def import_run(prefix, model_dir, **given):
  """bin/import_tf1 --checkpoint=prefix --task=mnist GIVEN --model_dir=model_dir, in-process:
  ``(config, printed lines)``."""
  given = dict(task="mnist", learning_rate=LR, batch_size=BATCH, **given)
  found = tf1_inspect.import_defaults(tf1_inspect.inspect(prefix), given)
  values = {**given, **found}
  config = config_lib.TrainConfig(
      model=config_lib.ModelConfig(**{k: v for k, v in values.items()
                                      if k in config_lib.MODEL_SETTINGS}),
      model_dir=model_dir, **{k: v for k, v in values.items()
                              if k in config_lib.TRAIN_SETTINGS})
  lines = []
  import_tf1.import_checkpoint(config, prefix, log=lines.append)
  return config, lines


def resume(config):
  """The model and optimizer restored from ``config.model_dir`` (as bin/train resumes)."""
  _, model, optimizer = builder.build(config)
  ckpt, manager = checkpoints.make_manager(config.model_dir, model, optimizer)
  assert checkpoints.restore_latest(ckpt, manager)
  return model, optimizer


@pytest.mark.parametrize("name", OPTIMIZERS)
def test_tf1_run_goes_on_in_tf_lstm(tf1_run, train_data, tmp_path, name):
  prefix = os.path.join(tf1_run, name, f"model.ckpt-{STEPS}")
  config, lines = import_run(prefix, str(tmp_path / "run"))
  assert config.optimizer == name   # from the checkpoint's slots
  assert f"the step count continues from {STEPS}" in lines
  model, optimizer = resume(config)
  assert int(optimizer.iterations.numpy()) == STEPS
  task, images, labels = train_data
  with np.load(os.path.join(tf1_run, name, "after.npz")) as f:
    tf1 = {k: f[k] for k in f.files}
  step = loop.make_train_step(model, optimizer)
  transform = task.train_transform()
  losses = np.array([float(step(*transform(tf.gather(images, idx), tf.gather(labels, idx)))[0])
                     for idx in tf1["batches"]])
  # Same kernels (ResourceApplyAdam, ...RMSProp, ...Momentum), same batches; the
  # forward and backward graphs differ from TF1's in summation order only:
  # measured 2e-6 on the losses and 7e-7 on the weights after 100 steps.  With
  # Adam's slots started fresh instead, the losses differ by 0.12.
  assert harness.max_abs_diff(losses, tf1["losses"]) <= 1e-4
  mapping = tf1_import.name_mapping(tf.train.load_checkpoint(prefix), model)
  for pv in tf1_import.port_variables(model):
    tf1_name = mapping[pv.name]
    assert harness.max_abs_diff(pv.variable.numpy(), tf1["final/" + tf1_name]) <= 1e-5, tf1_name


def _weights_only(reader, directory):
  names = [n for n in reader.get_variable_to_shape_map()
           if not tf1_import.training_state(n, reader.get_variable_to_shape_map()[n])]
  return write_tf1_checkpoint(directory, {n: reader.get_tensor(n) for n in names})


def test_without_slots_the_import_says_they_start_fresh(tf1_run, tmp_path):
  reader = tf.train.load_checkpoint(os.path.join(tf1_run, "adam", f"model.ckpt-{STEPS}"))
  prefix = _weights_only(reader, tmp_path)
  config, lines = import_run(prefix, str(tmp_path / "run"), optimizer="adam")
  assert "no Adam slots in the checkpoint: the Adam slots start fresh" in lines
  assert "no global_step: the step count starts at 0" in lines
  _, optimizer = resume(config)
  assert int(optimizer.iterations.numpy()) == 0
  for _, slots in optimizer.variable_slots():
    assert not np.any(slots["m"].numpy()) and not np.any(slots["v"].numpy())


def _adam(shapes):
  """A built tf_lstm Adam over variables of ``shapes``, and {ref: TF1 name}."""
  variables = {n: tf.Variable(tf.zeros(s)) for n, s in shapes.items()}
  opt = optimizers.Adam(LR)
  opt.build(list(variables.values()))
  return opt, {v.ref(): n for n, v in variables.items()}


def _checkpoint(directory, arrays):
  return tf.train.load_checkpoint(write_tf1_checkpoint(directory, arrays))


def test_step_from_beta_powers_and_their_checks(tmp_path):
  w = np.ones([3], np.float32)
  base = {"w": w, "w/Adam": w * 0.5, "w/Adam_1": w * 0.25}
  opt, names = _adam({"w": [3]})
  powers = {"beta1_power": np.float32(0.9) ** 8, "beta2_power": np.float32(0.999) ** 8}
  state = tf1_optimizer_state.plan(_checkpoint(tmp_path / "a", {**base, **powers}), opt, names)
  assert state.iterations == 7    # beta^(t+1) after t updates
  tf1_optimizer_state.assign(state)
  assert int(opt.iterations.numpy()) == 7
  np.testing.assert_array_equal(opt.variable_slots()[0][1]["v"].numpy(), w * 0.25)

  with_step = {**base, **powers, "global_step": np.int64(12)}
  state = tf1_optimizer_state.plan(_checkpoint(tmp_path / "b", with_step), opt, names)
  assert state.iterations == 7
  assert any("global_step is 12 but Adam made 7 updates" in n for n in state.notes)

  other_betas = {**base, "beta1_power": np.float32(0.8) ** 8, "beta2_power": powers["beta2_power"]}
  with pytest.raises(tf1_optimizer_state.OptimizerStateError, match="other betas"):
    tf1_optimizer_state.plan(_checkpoint(tmp_path / "c", other_betas), opt, names)


def test_centered_rmsprop_and_wrong_slot_shapes_are_refused(tmp_path):
  w = np.ones([3], np.float32)
  variable = tf.Variable(tf.zeros([3]))
  opt = optimizers.RMSProp(LR)
  opt.build([variable])
  names = {variable.ref(): "w"}
  centered = {"w": w, "w/RMSProp": w, "w/RMSProp_1": w, "w/RMSProp_2": w}
  with pytest.raises(tf1_optimizer_state.OptimizerStateError, match="centered"):
    tf1_optimizer_state.plan(_checkpoint(tmp_path / "a", centered), opt, names)
  wrong = {"w": w, "w/RMSProp": np.ones([4], np.float32), "w/RMSProp_1": w}
  with pytest.raises(tf1_optimizer_state.OptimizerStateError, match=r"w/RMSProp is \[4\]"):
    tf1_optimizer_state.plan(_checkpoint(tmp_path / "b", wrong), opt, names)
