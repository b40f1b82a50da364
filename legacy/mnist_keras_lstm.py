"""Keras (2.x, TF1 era) MNIST classifier: LSTM(256) over the image rows.

The original Keras program, runnable today with the tf-keras package (Keras
2).  Changes against the original -- imports only:

  - `import keras` / `from keras.models import Sequential` /
    `from keras.layers import LSTM, Dense` / `from keras.optimizers import ...`
      -> the same names from `tf_keras` (Keras 2 API; Keras 3 is not
      the TF1-era Keras)
  - `keras.datasets.mnist.load_data()` (downloads)
      -> `_compat.input_data.read_data_sets(--data_dir)` reading local IDX
      files (images as float32 in [0, 1] and one-hot labels, i.e. what the
      original produced after `/ 255.` and `to_categorical`)

Additions: command-line flags (--data_dir, --seed, --epochs, --optimizer,
--learning_rate, --max_train_examples, --max_test_examples).

Usage: python legacy/mnist_keras_lstm.py --data_dir=/path/to/mnist
"""

from __future__ import absolute_import, division, print_function

import argparse
import sys

from _compat import input_data  # before tensorflow: sets TF_USE_LEGACY_KERAS
import tf_keras as keras
from tf_keras.layers import LSTM, Dense
from tf_keras.models import Sequential
from tf_keras.optimizers import SGD, Adam


def parse_args(argv=None):
  parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
  parser.add_argument("--data_dir", required=True,
                      help="directory with the MNIST IDX files (.gz or plain)")
  parser.add_argument("--seed", type=int, default=0,
                      help="tf_keras.utils.set_random_seed (python, numpy, tf)")
  parser.add_argument("--epochs", type=int, default=20)
  parser.add_argument("--optimizer", choices=("sgd", "adam"), default="sgd")
  parser.add_argument("--learning_rate", type=float, default=None,
                      help="default: the Keras default (sgd 0.01, adam "
                      "0.001)")
  parser.add_argument("--max_train_examples", type=int, default=None,
                      help="use only the first N training examples")
  parser.add_argument("--max_test_examples", type=int, default=None,
                      help="evaluate only on the first N test examples")
  return parser.parse_args(argv)


def main(argv=None):
  flags = parse_args(argv)
  keras.utils.set_random_seed(flags.seed)

  try:
    mnist = input_data.read_data_sets(flags.data_dir, one_hot=True)
  except (IOError, ValueError) as e:
    sys.exit("error: %s" % e)

  batch_size = 128
  num_classes = 10
  epochs = flags.epochs
  img_rows, img_cols = 28, 28

  x_train = mnist.train.images.reshape(-1, img_rows, img_cols)
  y_train = mnist.train.labels
  x_test = mnist.test.images.reshape(-1, img_rows, img_cols)
  y_test = mnist.test.labels
  if flags.max_train_examples:
    x_train = x_train[:flags.max_train_examples]
    y_train = y_train[:flags.max_train_examples]
  if flags.max_test_examples:
    x_test = x_test[:flags.max_test_examples]
    y_test = y_test[:flags.max_test_examples]
  print("x_train shape:", x_train.shape)
  print(x_train.shape[0], "train samples")
  print(x_test.shape[0], "test samples")

  model = Sequential()
  model.add(LSTM(256, input_shape=(img_rows, img_cols)))
  model.add(Dense(num_classes, activation="softmax"))

  if flags.optimizer == "sgd":
    opt = SGD() if flags.learning_rate is None else SGD(flags.learning_rate)
  else:
    opt = Adam() if flags.learning_rate is None else Adam(flags.learning_rate)
  model.compile(loss="categorical_crossentropy", optimizer=opt,
                metrics=["accuracy"])
  model.summary()

  model.fit(x_train, y_train, batch_size=batch_size, epochs=epochs,
            verbose=2, validation_data=(x_test, y_test))
  score = model.evaluate(x_test, y_test, verbose=0)
  print("Test loss:", score[0])
  print("Test accuracy:", score[1])
  return 0


if __name__ == "__main__":
  sys.exit(main())
