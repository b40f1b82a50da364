"""IDX reading (and its errors) and the step-indexed training stream."""

import gzip
import os
import struct

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


def _write_by_hand(path, magic, dims, values, gz):
  """An IDX file built byte by byte (not with idx.write_idx, which would mirror the reader)."""
  raw = struct.pack(">I", magic) + b"".join(struct.pack(">I", d) for d in dims) + bytes(values)
  with (gzip.open if gz else open)(path, "wb") as f:
    f.write(raw)


@pytest.mark.parametrize("gz", [True, False])
def test_reads_the_values_of_a_file_written_by_hand(tmp_path, gz):
  ext = ".gz" if gz else ""
  # Two 28x28 images: pixel (r, c) of image k is (k * 100 + r * 3 + c) % 256, row-major.
  pixels = [(k * 100 + r * 3 + c) % 256 for k in range(2) for r in range(28) for c in range(28)]
  for split, n, labels in (("train", 2, [7, 0]), ("t10k", 2, [3, 9])):
    _write_by_hand(tmp_path / f"{split}-images-idx3-ubyte{ext}", 0x803, (n, 28, 28), pixels, gz)
    _write_by_hand(tmp_path / f"{split}-labels-idx1-ubyte{ext}", 0x801, (n,), labels, gz)
  data = images.load_idx(str(tmp_path))
  assert data.train_images.dtype == np.uint8 and data.test_labels.dtype == np.int64
  assert data.train_images.shape == (2, 28, 28)
  assert data.train_images[0, 0, :4].tolist() == [0, 1, 2, 3]      # first row, in order
  assert data.train_images[0, 1, 0] == 3 and data.train_images[0, 27, 27] == 108
  assert data.train_images[1, 0, 0] == 100 and data.train_images[1, 27, 27] == 208
  np.testing.assert_array_equal(data.test_images, data.train_images)
  assert data.train_labels.tolist() == [7, 0] and data.test_labels.tolist() == [3, 9]


def test_real_mnist_5k_loads(tmp_path):
  from tests.conftest import MNIST_5K
  data = images.load_idx(MNIST_5K)
  assert data.train_images.shape == (5000, 28, 28)
  assert data.test_images.shape == (10000, 28, 28)
  # The training file is 500 digits per class, sorted by label (../shared/data/README.md).
  np.testing.assert_array_equal(data.train_labels, np.repeat(np.arange(10), 500))
  # The official MNIST test set: its first labels and its class counts.
  assert data.test_labels[:10].tolist() == [7, 2, 1, 0, 4, 1, 4, 9, 5, 9]
  np.testing.assert_array_equal(np.bincount(data.test_labels),
                                [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009])
  # Pixels: the same bytes as the file's payload after its 16-byte header, row-major.
  with gzip.open(os.path.join(MNIST_5K, "t10k-images-idx3-ubyte.gz"), "rb") as f:
    raw = f.read()
  assert raw[:16] == struct.pack(">IIII", 0x803, 10000, 28, 28)
  assert data.test_images.reshape(-1).tobytes() == raw[16:]
  assert data.test_images.min() == 0 and data.test_images.max() == 255
  assert 0.12 < data.test_images.mean() / 255 < 0.14   # MNIST's well-known mean, 0.1325


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
  with pytest.raises(DataError, match="data_dir=DIR"):
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
