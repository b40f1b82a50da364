"""Stand-in for TF1's ``tensorflow.contrib.rnn`` (installed by _compat.py).

TF1's ``tf.contrib.rnn`` re-exported the core RNN cells and unrolls; the core
ones live on in ``tf.compat.v1`` (the cells through tf_keras, hence
TF_USE_LEGACY_KERAS=1).  This module gives those same objects under their
contrib names.  contrib-only cells (LayerNormBasicLSTMCell, LSTMBlockCell,
GRUBlockCell, ...) and ``stack_bidirectional_rnn`` have no TF 2 counterpart
and are not provided: using one raises AttributeError.
"""

from tensorflow.compat.v1 import nn as _nn

BasicLSTMCell = _nn.rnn_cell.BasicLSTMCell
BasicRNNCell = _nn.rnn_cell.BasicRNNCell
DeviceWrapper = _nn.rnn_cell.DeviceWrapper
DropoutWrapper = _nn.rnn_cell.DropoutWrapper
GRUCell = _nn.rnn_cell.GRUCell
LSTMCell = _nn.rnn_cell.LSTMCell
LSTMStateTuple = _nn.rnn_cell.LSTMStateTuple
MultiRNNCell = _nn.rnn_cell.MultiRNNCell
ResidualWrapper = _nn.rnn_cell.ResidualWrapper
RNNCell = _nn.rnn_cell.RNNCell

static_rnn = _nn.static_rnn
static_bidirectional_rnn = _nn.static_bidirectional_rnn
static_state_saving_rnn = _nn.static_state_saving_rnn
