"""tf_lstm: TF1-era LSTM programs ported to idiomatic TensorFlow 2.

A TF1 user ports ``tf.contrib.rnn`` (or ``tf.nn.rnn_cell``) code by changing
the import; names, signatures, results and variable names are TF1's
(docs/porting.md)::

    import tf_lstm as rnn
    cell = rnn.MultiRNNCell([rnn.BasicLSTMCell(128) for _ in range(2)])
    outputs, state = rnn.static_rnn(cell, tf.unstack(x, 28, 1), dtype=tf.float32)
    # variables: rnn/multi_rnn_cell/cell_0/basic_lstm_cell/kernel, ...
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
from tf_lstm.unroll import bidirectional_dynamic_rnn
from tf_lstm.unroll import dynamic_rnn
from tf_lstm.unroll import stack_bidirectional_dynamic_rnn
from tf_lstm.unroll import stack_bidirectional_rnn
from tf_lstm.unroll import static_bidirectional_rnn
from tf_lstm.unroll import static_rnn

__version__ = "0.1.0"
