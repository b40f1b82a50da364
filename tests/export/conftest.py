"""One small trained run shared by the export tests, and an isolated Python.

``trained_run`` trains a 1-layer LSTM(32) for 60 steps on ``small_mnist_dir``
with ``loop.train(export_dir=...)`` (-> ``E/1``); ``cli_export`` then runs
``bin/export --tflite`` on it (-> ``E/2``).
"""

import collections
import os
import site
import subprocess
import sys
import textwrap

import numpy as np
import pytest
import tensorflow as tf

from tests.conftest import run_bin
from tf_lstm.app import config as config_lib
from tf_lstm.app.training import checkpoints
from tf_lstm.app.training import loop

Run = collections.namedtuple("Run", "model_dir export_base export config")

def _site_dirs():
  """The running environment's site-packages directories, in ``sys.path`` order.

  Taken from this (parent) process: under ``-S`` a child never processes
  ``pyvenv.cfg``, so its own ``sysconfig`` names the base interpreter's
  directories, not the venv's. Only the site directories themselves are
  passed on: the editable install's ``.pth`` entries (the repository, or a
  finder hook) are not, so tf_lstm stays unimportable in the child.
  """
  known = set(site.getsitepackages())
  if site.ENABLE_USER_SITE:
    known.add(site.getusersitepackages())
  return [p for p in sys.path if p in known and os.path.isdir(p)]


# Prepended to code run by ``run_isolated``: the environment's site-packages
# without its .pth files (so the editable install of tf_lstm is not on the path),
# and tf_lstm, keras and tf_keras made unimportable, as on a serving machine
# without them. ``{site_dirs}`` is filled in by ``run_isolated``.
_ISOLATION = textwrap.dedent("""
    import sys
    sys.path.extend({site_dirs!r})

    class _Hide:
      # Finds modules as before, except these, as if not installed.
      def __init__(self, finders):
        self.finders = finders
      def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in ("tf_lstm", "keras", "tf_keras"):
          return None
        for finder in self.finders:
          spec = finder.find_spec(name, path, target)
          if spec is not None:
            return spec
        return None
    sys.meta_path[:] = [_Hide(list(sys.meta_path))]
    try:
      import tf_lstm
      raise SystemExit("tf_lstm is importable in the isolated process")
    except ImportError:
      pass
""")


def run_isolated(code, *args, timeout=600):
  """Runs ``code`` in ``python -I -S`` from an empty cwd without tf_lstm."""
  env = {"PATH": os.environ.get("PATH", ""), "TF_CPP_MIN_LOG_LEVEL": "2",
         "HOME": os.environ.get("HOME", "/tmp")}
  cwd = os.path.dirname(os.path.abspath(args[0])) if args else "/"
  prelude = _ISOLATION.replace("{site_dirs!r}", repr(_site_dirs()))
  return subprocess.run([sys.executable, "-I", "-S", "-c", prelude + textwrap.dedent(code),
                         *args], capture_output=True, text=True, env=env, cwd=cwd,
                        timeout=timeout)


@pytest.fixture(scope="session")
def trained_run(small_mnist_dir, tmp_path_factory):
  root = tmp_path_factory.mktemp("export_run")
  config = config_lib.TrainConfig(
      model=config_lib.ModelConfig(num_layers=1, num_units=32), batch_size=64,
      learning_rate=5e-3, train_steps=60, checkpoint_every=60, log_every=60,
      data_dir=small_mnist_dir, model_dir=str(root / "model"),
      export_dir=str(root / "export"))
  results = loop.train(config, log=lambda _: None)
  return Run(config.model_dir, config.export_dir, results["export_path"], config)


@pytest.fixture(scope="session")
def cli_export(trained_run):
  """``E/2`` written by ``bin/export --tflite`` from the same checkpoint."""
  proc = run_bin("export", f"--model_dir={trained_run.model_dir}",
                 f"--export_dir={trained_run.export_base}", "--tflite", check=True)
  path = os.path.join(trained_run.export_base, "2")
  assert f"exported {path}" in proc.stdout
  return path


def restored_model(run):
  """The run's model rebuilt in-process from its latest checkpoint."""
  _, model, optimizer = loop.build(run.config)
  ckpt, manager = checkpoints.make_manager(run.model_dir, model, optimizer)
  assert checkpoints.restore_latest(ckpt, manager)
  return model


def in_process_probabilities(model, images_uint8):
  logits = model(tf.constant(images_uint8, tf.float32) / 255.0)
  return tf.nn.softmax(logits).numpy()


@pytest.fixture(scope="session")
def loaded(trained_run):
  return tf.saved_model.load(trained_run.export)


def as_float(images_uint8):
  return np.asarray(images_uint8, np.float32) / 255.0
