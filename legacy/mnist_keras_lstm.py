"""Seed 001's Keras program as written: LSTM(256) over MNIST rows, SGD, 20 epochs.

Source: the code cell of the tutorial page "`LSTM` for MNIST digits
classification" (a notebook, "In [6]"; ../shared/seeds/001_e5be8ec85404e6f9.txt).
The seed text gives no author, licence or copyright notice to quote.  Its
reported run: "Test accuracy: 96.2%" after 20 epochs on the full MNIST
training set (the page: ~98.9% with optimizer='adam').

Changes against the page's code -- each needed to run it today, each marked
"# added" or "# changed" on its line, nothing else:
  1. `import _compat` after the __future__ lines (added): sets
     TF_USE_LEGACY_KERAS=1 before TensorFlow loads, so `tensorflow.keras` is
     tf-keras (Keras 2, the page's Keras); the page's imports stay as written.
  2. Data: `mnist.load_data()` downloads, and these machines are offline; the
     line reads the same arrays (uint8 images [N, 28, 28], uint8 labels [N])
     from local IDX files instead, in DATA_DIR (added line: the `--data_dir`
     flag, else $MNIST_DATA_DIR, else /tmp/data/).

  python legacy/mnist_keras_lstm.py --data_dir=../shared/data/mnist-5k
"""

from __future__ import absolute_import
from __future__ import division
from __future__ import print_function

import _compat  # added (change 1)
DATA_DIR = _compat.data_dir_flag("/tmp/data/")  # added (change 2)
from tensorflow.examples.tutorials.mnist import input_data  # added (change 2)

import numpy as np
from tensorflow.keras.models import Sequential
from tensorflow.keras.layers import Dense, LSTM
from tensorflow.keras.utils import to_categorical
from tensorflow.keras.datasets import mnist

# load mnist dataset
(x_train, y_train), (x_test, y_test) = input_data.keras_mnist_load_data(DATA_DIR)  # changed (change 2)

# compute the number of labels
num_labels = len(np.unique(y_train))

# convert to one-hot vector
y_train = to_categorical(y_train)
y_test = to_categorical(y_test)

# resize and normalize
image_size = x_train.shape[1]
x_train = np.reshape(x_train,[-1, image_size, image_size])
x_test = np.reshape(x_test,[-1, image_size, image_size])
x_train = x_train.astype('float32') / 255
x_test = x_test.astype('float32') / 255

# network parameters
input_shape = (image_size, image_size)
batch_size = 128
units = 256

# model is LSTM with 256 units, input is 28-dim vector 28 timesteps
model = Sequential(name='LSTM_MNIST')
model.add(LSTM(units=units,
               input_shape=input_shape))
model.add(Dense(num_labels, activation='softmax'))
model.summary()

# loss function for one-hot vector
# accuracy is good metric for classification tasks
model.compile(loss='categorical_crossentropy',
              optimizer='sgd',
              metrics=['accuracy'])
# train the network
model.fit(x_train, y_train, epochs=20, batch_size=batch_size)

loss, acc = model.evaluate(x_test, y_test, batch_size=batch_size)
print("\nTest accuracy: %.1f%%" % (100.0 * acc))
