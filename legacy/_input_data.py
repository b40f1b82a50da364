"""Stand-in for TF1's ``tensorflow.examples.tutorials.mnist.input_data``.

Installed under that name by _compat.py.  ``read_data_sets`` reads the four
MNIST IDX files (gzip-compressed or plain) from a local directory and never
downloads; ``DataSet`` behaves as TF1's (float32 images in [0, 1] as [N, 784],
one-hot or integer labels, ``next_batch`` reshuffling at each epoch).
``keras_mnist_load_data`` gives the same files in
``tf.keras.datasets.mnist.load_data()``'s format, for the Keras program.
"""

from __future__ import absolute_import, division, print_function

import gzip
import os

import numpy as np

_IMAGES_MAGIC = 2051
_LABELS_MAGIC = 2049

TRAIN_IMAGES = "train-images-idx3-ubyte"
TRAIN_LABELS = "train-labels-idx1-ubyte"
TEST_IMAGES = "t10k-images-idx3-ubyte"
TEST_LABELS = "t10k-labels-idx1-ubyte"


class MnistDataError(IOError):
  """Missing or malformed MNIST IDX file."""


def _find_file(data_dir, base):
  """Returns the path of `base` or `base.gz` in data_dir."""
  for name in (base + ".gz", base):
    path = os.path.join(data_dir, name)
    if os.path.isfile(path):
      return path
  raise MnistDataError(
      "MNIST file not found: %s (or %s.gz). --data_dir must contain the four "
      "MNIST IDX files (train-images-idx3-ubyte, train-labels-idx1-ubyte, "
      "t10k-images-idx3-ubyte, t10k-labels-idx1-ubyte; .gz or plain)."
      % (os.path.join(data_dir, base), os.path.join(data_dir, base)))


def _read_bytes(path):
  with open(path, "rb") as f:
    head = f.read(2)
  try:
    if head == b"\x1f\x8b":
      with gzip.open(path, "rb") as f:
        return f.read()
    with open(path, "rb") as f:
      return f.read()
  except (OSError, EOFError) as e:
    raise MnistDataError("cannot read MNIST file %s: %s" % (path, e))


def _u32(buf, offset, path):
  if len(buf) < offset + 4:
    raise MnistDataError("MNIST file %s is truncated (header)" % path)
  return int(np.frombuffer(buf, dtype=">u4", count=1, offset=offset)[0])


def extract_images(path):
  """Reads an IDX3 image file into a uint8 array [N, rows, cols, 1]."""
  buf = _read_bytes(path)
  magic = _u32(buf, 0, path)
  if magic != _IMAGES_MAGIC:
    raise MnistDataError("invalid magic number %d in MNIST image file %s "
                         "(expected %d)" % (magic, path, _IMAGES_MAGIC))
  n, rows, cols = (_u32(buf, 4, path), _u32(buf, 8, path), _u32(buf, 12, path))
  if len(buf) != 16 + n * rows * cols:
    raise MnistDataError("MNIST image file %s has %d bytes, expected %d for "
                         "%d images of %dx%d" % (path, len(buf),
                                                 16 + n * rows * cols, n, rows,
                                                 cols))
  data = np.frombuffer(buf, dtype=np.uint8, offset=16)
  return data.reshape(n, rows, cols, 1)


def extract_labels(path, one_hot=False, num_classes=10):
  """Reads an IDX1 label file into uint8 [N] (or float one-hot [N, C])."""
  buf = _read_bytes(path)
  magic = _u32(buf, 0, path)
  if magic != _LABELS_MAGIC:
    raise MnistDataError("invalid magic number %d in MNIST label file %s "
                         "(expected %d)" % (magic, path, _LABELS_MAGIC))
  n = _u32(buf, 4, path)
  if len(buf) != 8 + n:
    raise MnistDataError("MNIST label file %s has %d bytes, expected %d for "
                         "%d labels" % (path, len(buf), 8 + n, n))
  labels = np.frombuffer(buf, dtype=np.uint8, offset=8).copy()
  if one_hot:
    return dense_to_one_hot(labels, num_classes)
  return labels


def dense_to_one_hot(labels_dense, num_classes=10):
  labels_dense = np.asarray(labels_dense).ravel()
  out = np.zeros((labels_dense.shape[0], num_classes), dtype=np.float32)
  out[np.arange(labels_dense.shape[0]), labels_dense.astype(np.int64)] = 1.0
  return out


class DataSet(object):
  """Same behaviour as TF1's mnist DataSet (dtype float32, reshape=True).

  images: float32 [N, 784] scaled to [0, 1]; labels: one-hot float32 [N, 10]
  (or uint8 [N] when one_hot=False).  next_batch() shuffles the whole set at
  the start of the first epoch and again at every epoch boundary, where a
  batch straddling the boundary is the rest of the old epoch plus the start
  of the new one.  Shuffling uses numpy's global RNG (seed it with
  np.random.seed) unless a `seed` is given.
  """

  def __init__(self, images, labels, seed=None):
    if images.shape[0] != labels.shape[0]:
      raise ValueError("images.shape: %s labels.shape: %s"
                       % (images.shape, labels.shape))
    self._num_examples = images.shape[0]
    images = images.reshape(images.shape[0], int(np.prod(images.shape[1:])))
    self._images = images.astype(np.float32) * np.float32(1.0 / 255.0)
    self._labels = labels
    self._epochs_completed = 0
    self._index_in_epoch = 0
    self._rng = np.random if seed is None else np.random.RandomState(seed)

  @property
  def images(self):
    return self._images

  @property
  def labels(self):
    return self._labels

  @property
  def num_examples(self):
    return self._num_examples

  @property
  def epochs_completed(self):
    return self._epochs_completed

  def _shuffle(self):
    perm = np.arange(self._num_examples)
    self._rng.shuffle(perm)
    self._images = self._images[perm]
    self._labels = self._labels[perm]

  def next_batch(self, batch_size, shuffle=True):
    """Returns the next `batch_size` (images, labels) pair."""
    if batch_size > self._num_examples:
      raise ValueError("batch_size %d > num_examples %d"
                       % (batch_size, self._num_examples))
    start = self._index_in_epoch
    if self._epochs_completed == 0 and start == 0 and shuffle:
      self._shuffle()
    if start + batch_size > self._num_examples:
      # Finish this epoch, reshuffle, take the remainder from the next one.
      self._epochs_completed += 1
      rest_images = self._images[start:]
      rest_labels = self._labels[start:]
      if shuffle:
        self._shuffle()
      end = batch_size - rest_images.shape[0]
      self._index_in_epoch = end
      return (np.concatenate((rest_images, self._images[:end]), axis=0),
              np.concatenate((rest_labels, self._labels[:end]), axis=0))
    self._index_in_epoch = start + batch_size
    return (self._images[start:self._index_in_epoch],
            self._labels[start:self._index_in_epoch])


class Datasets(object):

  def __init__(self, train, validation, test):
    self.train = train
    self.validation = validation
    self.test = test


def read_data_sets(train_dir, fake_data=False, one_hot=False, dtype=None,
                   reshape=True, validation_size=0, seed=None,
                   source_url=None):
  """TF1's read_data_sets on local files: Datasets(train, validation, test).

  Differences from TF1: never downloads (raises MnistDataError naming the
  missing file; source_url is ignored), and validation_size defaults to 0
  instead of 5000 (5000 would leave nothing of the 5,000-digit offline
  training file); the validation split is the start of the training file, as
  in TF1.  Only TF1's defaults fake_data=False, dtype float32, reshape=True
  are supported.
  """
  del source_url  # nothing is downloaded
  if fake_data or not reshape or getattr(dtype, "name", dtype) not in (
      None, "float32"):
    raise ValueError("this input_data supports only fake_data=False, "
                     "dtype=float32, reshape=True (got fake_data=%r, dtype=%r,"
                     " reshape=%r)" % (fake_data, dtype, reshape))
  data_dir = train_dir
  if not data_dir or not os.path.isdir(data_dir):
    raise MnistDataError("MNIST data directory not found: %r (expected a "
                         "directory holding the four MNIST IDX files)"
                         % (data_dir,))
  train_images = extract_images(_find_file(data_dir, TRAIN_IMAGES))
  train_labels = extract_labels(_find_file(data_dir, TRAIN_LABELS), one_hot)
  test_images = extract_images(_find_file(data_dir, TEST_IMAGES))
  test_labels = extract_labels(_find_file(data_dir, TEST_LABELS), one_hot)
  if train_images.shape[0] != train_labels.shape[0]:
    raise MnistDataError("%d training images but %d training labels in %s"
                         % (train_images.shape[0], train_labels.shape[0],
                            data_dir))
  if test_images.shape[0] != test_labels.shape[0]:
    raise MnistDataError("%d test images but %d test labels in %s"
                         % (test_images.shape[0], test_labels.shape[0],
                            data_dir))
  if not 0 <= validation_size < train_images.shape[0]:
    raise ValueError("validation_size should be in [0, %d), got %d"
                     % (train_images.shape[0], validation_size))
  validation = DataSet(train_images[:validation_size],
                       train_labels[:validation_size], seed=seed)
  train = DataSet(train_images[validation_size:],
                  train_labels[validation_size:], seed=seed)
  test = DataSet(test_images, test_labels, seed=seed)
  return Datasets(train=train, validation=validation, test=test)


def keras_mnist_load_data(data_dir):
  """``((x_train, y_train), (x_test, y_test))`` as tf.keras's mnist.load_data().

  x: uint8 [N, 28, 28], y: uint8 [N], read from data_dir's IDX files.
  """
  if not data_dir or not os.path.isdir(data_dir):
    raise MnistDataError("MNIST data directory not found: %r (expected a "
                         "directory holding the four MNIST IDX files)"
                         % (data_dir,))
  out = []
  for images, labels in ((TRAIN_IMAGES, TRAIN_LABELS),
                         (TEST_IMAGES, TEST_LABELS)):
    x = extract_images(_find_file(data_dir, images))[..., 0]
    y = extract_labels(_find_file(data_dir, labels))
    if x.shape[0] != y.shape[0]:
      raise MnistDataError("%d images but %d labels in %s (%s)"
                           % (x.shape[0], y.shape[0], data_dir, images))
    out.append((x, y))
  return tuple(out)
