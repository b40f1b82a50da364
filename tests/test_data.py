"""IDX reading (and its errors) and the step-indexed training stream."""

import gzip
import os

import numpy as np
import pytest
import tensorflow as tf

from tests.conftest import write_mnist_idx
from tf_lstm.app.data import DataError, idx, images, pipeline


def _tiny(tmp_path, n_train=20, n_test=10, gz=True):
  rng = np.random.RandomState(0)
  return write_mnist_idx(
      tmp_path, rng.randint(0, 256, (n_train, 28, 28)), rng.randint(0, 10, n_train),
      rng.randint(0, 256, (n_test, 28, 28)), rng.randint(0, 10, n_test), gz=gz)


@pytest.mark.parametrize("gz", [True, False])
def test_roundtrip_plain_and_gz(tmp_path, gz):
  d = _tiny(tmp_path, gz=gz)
  data = images.load_idx(d)
  assert data.train_images.shape == (20, 28, 28) and data.train_images.dtype == np.uint8
  assert data.test_labels.shape == (10,) and data.test_labels.dtype == np.int64


def test_real_mnist_5k_loads(tmp_path):
  from tests.conftest import MNIST_5K
  data = images.load_idx(MNIST_5K)
  assert data.train_images.shape == (5000, 28, 28)
  assert data.test_images.shape == (10000, 28, 28)
  np.testing.assert_array_equal(np.bincount(data.train_labels), [500] * 10)


def test_missing_file_names_it(tmp_path):
  d = _tiny(tmp_path)
  os.remove(os.path.join(d, "t10k-labels-idx1-ubyte.gz"))
  with pytest.raises(DataError, match=r"missing data file: expected .*t10k-labels-idx1-ubyte\[\.gz\]"):
    images.load_idx(d)


def test_truncated_file(tmp_path):
  d = _tiny(tmp_path, gz=False)
  path = os.path.join(d, "train-images-idx3-ubyte")
  with open(path, "rb") as f:
    raw = f.read()
  with open(path, "wb") as f:
    f.write(raw[:-100])
  with pytest.raises(DataError, match=r"train-images-idx3-ubyte: truncated or padded: 15580 "
                                      r"data bytes, expected 15680"):
    images.load_idx(d)


def test_truncated_gzip(tmp_path):
  d = _tiny(tmp_path)
  path = os.path.join(d, "train-images-idx3-ubyte.gz")
  with open(path, "rb") as f:
    raw = f.read()
  with open(path, "wb") as f:
    f.write(raw[: len(raw) // 2])
  with pytest.raises(DataError, match="train-images-idx3-ubyte.gz: cannot read IDX file"):
    images.load_idx(d)


def test_wrong_magic(tmp_path):
  d = _tiny(tmp_path)
  # A labels file where images are expected.
  os.replace(os.path.join(d, "train-labels-idx1-ubyte.gz"),
             os.path.join(d, "train-images-idx3-ubyte.gz"))
  idx.write_idx(os.path.join(d, "train-labels-idx1-ubyte.gz"), np.zeros(20, np.uint8))
  with pytest.raises(DataError, match=r"wrong magic number 0x00000801, expected 0x00000803"):
    images.load_idx(d)


def test_count_mismatch(tmp_path):
  d = _tiny(tmp_path)
  idx.write_idx(os.path.join(d, "train-labels-idx1-ubyte.gz"), np.zeros(19, np.uint8))
  with pytest.raises(DataError, match="has 20 images but .* has 19 labels"):
    images.load_idx(d)


def test_label_out_of_range(tmp_path):
  d = _tiny(tmp_path)
  idx.write_idx(os.path.join(d, "t10k-labels-idx1-ubyte.gz"), np.full(10, 12, np.uint8))
  with pytest.raises(DataError, match="label 12 out of range"):
    images.load_idx(d)


def test_offline_tfds_failure_mentions_data_dir(monkeypatch):
  import tensorflow_datasets as tfds

  def fail(*args, **kwargs):
    raise ConnectionError("no network")
  monkeypatch.setattr(tfds, "load", fail)
  with pytest.raises(DataError, match="pass --data_dir=DIR"):
    images.load("mnist", None)


def test_train_stream_shuffles_every_epoch_and_covers_all():
  batches = [b.numpy() for b in pipeline.train_dataset(12, 4, seed=7).take(6)]
  epoch0, epoch1 = np.concatenate(batches[:3]), np.concatenate(batches[3:])
  assert sorted(epoch0) == list(range(12)) and sorted(epoch1) == list(range(12))
  assert list(epoch0) != list(epoch1) and list(epoch0) != list(range(12))


def test_train_stream_resumes_at_any_step():
  full = [b.numpy().tolist() for b in pipeline.train_dataset(10, 4, seed=3).take(8)]
  for start in (1, 2, 5):
    resumed = [b.numpy().tolist()
               for b in pipeline.train_dataset(10, 4, seed=3, start_step=start).take(8 - start)]
    assert resumed == full[start:]
  other_seed = [b.numpy().tolist() for b in pipeline.train_dataset(10, 4, seed=4).take(8)]
  assert other_seed != full


def test_eval_dataset_covers_every_example_once():
  xs = np.arange(23)
  seen = [x.numpy() for x, in pipeline.eval_dataset([xs], 5, lambda x: (x,))]
  assert [len(s) for s in seen] == [5, 5, 5, 5, 3]
  np.testing.assert_array_equal(np.concatenate(seen), xs)
