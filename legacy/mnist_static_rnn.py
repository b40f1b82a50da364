"""Seed 003's TF1 program as written: an LSTM(128) over MNIST rows, static_rnn.

Source: the code of a public tutorial post, "I tried MNIST with RNN", written
as Jupyter notebook cells (../shared/seeds/003_da5801b46fe105e6.txt).  The seed
text gives no author, licence or copyright notice to quote; the post's own
"Reference site" line names two articles without links.  Below are the post's
code cells joined in their order, its prose left out.  Its reported run
(loss and accuracy every 10 steps, "Test Accuracy: 0.984375") used the full
MNIST training set.

Changes against the post's code -- each needed to run it today, each marked
"# added" or "# changed" on its line, nothing else:
  1. `import _compat` first (added): sets TF_USE_LEGACY_KERAS=1 (the TF1
     cells need tf-keras) and installs stand-ins for the two modules TF 2
     removed, `tensorflow.contrib.rnn` and
     `tensorflow.examples.tutorials.mnist.input_data` (legacy/_compat.py), so
     both of the post's import lines stay as written.
  2. `import tensorflow as tf` -> `import tensorflow.compat.v1 as tf` plus
     `tf.disable_v2_behavior()`: TF 2's top-level `tf` has no placeholder,
     Session, random_normal or train.AdamOptimizer.
  3. Data path (added `DATA_DIR` line, changed read_data_sets argument): the
     `--data_dir` flag, else $MNIST_DATA_DIR, else the post's "/tmp/data/".
     The input_data stand-in reads local IDX files, never downloads.
  4. `preds = RNN(x)` added: the post uses `preds` but never calls RNN (a line
     lost between its notebook cells); without it the program stops with a
     NameError.
  5. `sess.run(tf.global_variables_initializer())` added first in the session:
     the post never initialises its variables, which TF 1 refuses to train.

Not in this file: seeds, parity records, checkpoints.  legacy/_run_with_parity.py
runs this program unchanged and attaches them from outside.

  python legacy/mnist_static_rnn.py --data_dir=../shared/data/mnist-5k
"""

import _compat  # added (change 1)
DATA_DIR = _compat.data_dir_flag("/tmp/data/")  # added (change 3)

import tensorflow.compat.v1 as tf  # changed (change 2)
tf.disable_v2_behavior()  # added (change 2)
from tensorflow.contrib import rnn

from tensorflow.examples.tutorials.mnist import input_data
mnist = input_data.read_data_sets(DATA_DIR, one_hot=True)  # changed (change 3)

x = tf.placeholder("float", [None, 28, 28])
y = tf.placeholder("float", [None, 10])

def RNN(x):
    x = tf.unstack(x, 28, 1)

    #LSTM settings
    lstm_cell = rnn.BasicLSTMCell(128, forget_bias=1.0)

    #Model definition. The output value and status of each time step is returned
    outputs, states = rnn.static_rnn(lstm_cell, x, dtype=tf.float32)

    #Weight and bias settings
    weight = tf.Variable(tf.random_normal([128, 10]))
    bias = tf.Variable(tf.random_normal([10]))

    return tf.matmul(outputs[-1], weight) + bias

preds = RNN(x)  # added (change 4)

cost = tf.reduce_mean(tf.nn.softmax_cross_entropy_with_logits(logits=preds, labels=y))
optimizer = tf.train.AdamOptimizer(learning_rate=0.001).minimize(cost)

#For evaluation
correct_pred = tf.equal(tf.argmax(preds, 1), tf.argmax(y, 1))
accuracy = tf.reduce_mean(tf.cast(correct_pred, tf.float32))

batch_size = 128
n_training_iters = 100000
with tf.Session() as sess:
    sess.run(tf.global_variables_initializer())  # added (change 5)
    step = 1
    # Keep training until reach max iterations
    while step * batch_size < n_training_iters:
        batch_x, batch_y = mnist.train.next_batch(batch_size)
        # next_batch returned in batch_x is[batch_size, 784]Because it is a tensor of batch_Convert to size x 28 x 28.
        batch_x = batch_x.reshape((batch_size, 28, 28))
        sess.run(optimizer, feed_dict={x: batch_x, y: batch_y})
        if step % 10 == 0:
            acc = sess.run(accuracy, feed_dict={x: batch_x, y: batch_y})
            loss = sess.run(cost, feed_dict={x: batch_x, y: batch_y})
            print('step: {} / loss: {:.6f} / acc: {:.5f}'.format(step, loss, acc))
        step += 1

    test_len = 128
    test_data = mnist.test.images[:test_len].reshape((-1, 28, 28))
    test_label = mnist.test.labels[:test_len]
    test_acc = sess.run(accuracy, feed_dict={x: test_data, y: test_label})
    print("Test Accuracy: {}".format(test_acc))
