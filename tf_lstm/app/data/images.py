"""MNIST-style 28x28 digit data sets: from IDX files (a data directory) or tfds."""

import collections

import numpy as np

from tf_lstm.app.data import idx
from tf_lstm.app.data import online

ImageData = collections.namedtuple(
    "ImageData", ("train_images", "train_labels", "test_images", "test_labels"))
ImageData.__doc__ = """uint8 images ``[N, 28, 28]`` and int64 labels ``[N]`` per split."""

IDX_FILES = {
    "train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
}
NUM_CLASSES = 10


def _load_idx_split(data_dir, split):
  image_name, label_name = IDX_FILES[split]
  image_path = idx.find_file(data_dir, image_name)
  label_path = idx.find_file(data_dir, label_name)
  images = idx.read_idx(image_path, 3, inner_shape=(28, 28))
  labels = idx.read_idx(label_path, 1)
  if len(images) != len(labels):
    raise idx.DataError(f"{image_path} has {len(images)} images but {label_path} has "
                        f"{len(labels)} labels; expected the same count")
  if len(images) == 0:
    raise idx.DataError(f"{image_path}: no images")
  if labels.max() >= NUM_CLASSES:
    raise idx.DataError(f"{label_path}: label {labels.max()} out of range, "
                        f"expected 0..{NUM_CLASSES - 1}")
  return images, labels.astype(np.int64)


def load_idx(data_dir):
  """Reads the four MNIST IDX files (plain or .gz) from ``data_dir``."""
  train = _load_idx_split(data_dir, "train")
  test = _load_idx_split(data_dir, "test")
  return ImageData(train[0], train[1], test[0], test[1])


def load_tfds(name):
  """``tfds.load(name)`` as numpy; an offline failure explains the data directory."""
  tfds = online.tfds()   # Imported lazily: slow, and only for online use.
  try:
    splits = tfds.as_numpy(tfds.load(name, split=["train", "test"], batch_size=-1,
                                     as_supervised=True))
  except Exception as e:  # tfds raises many types when offline: name them all here.
    raise idx.DataError(
        f"could not load {name!r} with tensorflow_datasets ({type(e).__name__}: "
        f"{str(e)[:300]}). If this machine is offline, give a data directory (data_dir=DIR) with the four "
        "IDX files (train-images-idx3-ubyte[.gz], train-labels-idx1-ubyte[.gz], "
        "t10k-images-idx3-ubyte[.gz], t10k-labels-idx1-ubyte[.gz])") from e
  (train_x, train_y), (test_x, test_y) = splits
  return ImageData(train_x[..., 0], train_y.astype(np.int64),
                   test_x[..., 0], test_y.astype(np.int64))


def load(name, data_dir=None):
  """The ``name`` data set (``mnist`` or ``fashion_mnist``) as ``ImageData``."""
  if data_dir:
    return load_idx(data_dir)
  return load_tfds(name)
