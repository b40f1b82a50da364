"""Shared fixtures: small IDX data written by the tests, and CLI runners."""

import os
import subprocess
import sys

import numpy as np
import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SHARED_DATA = os.path.join(os.path.dirname(ROOT), "shared", "data")
MNIST_5K = os.path.join(SHARED_DATA, "mnist-5k")

if ROOT not in sys.path:
  sys.path.insert(0, ROOT)

from tf_lstm.app.data import idx  # pylint: disable=g-import-not-at-top


def real_mnist():
  """The real ../shared/data/mnist-5k arrays (train x, y, test x, y)."""
  from tf_lstm.app.data import images
  return images.load_idx(MNIST_5K)


def write_mnist_idx(directory, train_x, train_y, test_x, test_y, gz=True):
  """Writes the four MNIST IDX files into ``directory``; returns it."""
  os.makedirs(directory, exist_ok=True)
  ext = ".gz" if gz else ""
  idx.write_idx(os.path.join(directory, "train-images-idx3-ubyte" + ext), train_x)
  idx.write_idx(os.path.join(directory, "train-labels-idx1-ubyte" + ext), train_y)
  idx.write_idx(os.path.join(directory, "t10k-images-idx3-ubyte" + ext), test_x)
  idx.write_idx(os.path.join(directory, "t10k-labels-idx1-ubyte" + ext), test_y)
  return str(directory)


@pytest.fixture(scope="session")
def small_mnist_dir(tmp_path_factory):
  """512 training and 200 test digits from the real data, as IDX files."""
  data = real_mnist()
  rng = np.random.RandomState(0)
  train = rng.choice(len(data.train_labels), 512, replace=False)
  return write_mnist_idx(tmp_path_factory.mktemp("small_mnist"),
                         data.train_images[train], data.train_labels[train],
                         data.test_images[:200], data.test_labels[:200])


def run_bin(name, *args, env=None, timeout=600, check=False):
  """Runs ``bin/<name> args`` in a fresh Python; returns CompletedProcess."""
  full_env = dict(os.environ)
  full_env.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
  full_env.update(env or {})
  proc = subprocess.run([sys.executable, os.path.join(ROOT, "bin", name), *args],
                        capture_output=True, text=True, env=full_env, timeout=timeout,
                        cwd=ROOT)
  if check and proc.returncode != 0:
    raise AssertionError(f"bin/{name} failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}")
  return proc
