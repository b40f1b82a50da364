"""tf_lstm: TF1-era LSTM programs ported to idiomatic TensorFlow 2.

A TF1 user ports ``tf.contrib.rnn`` code by changing the import::

    import tf_lstm as rnn
    cell = rnn.MultiRNNCell([rnn.BasicLSTMCell(128) for _ in range(2)])
    outputs, state = rnn.static_rnn(cell, tf.unstack(x, 28, 1), dtype=tf.float32)
"""

from tf_lstm.cells import BasicLSTMCell
from tf_lstm.cells import BasicRNNCell
from tf_lstm.cells import BinaryLSTMCell
from tf_lstm.cells import GFLSTMCell
from tf_lstm.cells import GRUCell
from tf_lstm.cells import LSTMCell
from tf_lstm.cells import LSTMStateTuple
from tf_lstm.cells import MultiRNNCell
from tf_lstm.cells import RNNCell
from tf_lstm.dynamic_rnn import dynamic_rnn
from tf_lstm.rnn import static_rnn

__version__ = "0.1.0"
