"""RNN cells with the TF1 ``RNNCell`` contract and variable layouts."""

from tf_lstm.cells.basic_lstm import BasicLSTMCell, LSTMStateTuple, lstm_step
from tf_lstm.cells.basic_rnn import BasicRNNCell
from tf_lstm.cells.binary_lstm import BinaryLSTMCell
from tf_lstm.cells.gflstm import GFLSTMCell
from tf_lstm.cells.gru import GRUCell
from tf_lstm.cells.layer_norm_lstm import LayerNormBasicLSTMCell
from tf_lstm.cells.lstm import LSTMCell
from tf_lstm.cells.lstm_block import LSTMBlockCell
from tf_lstm.cells.multi_rnn import MultiRNNCell
from tf_lstm.cells.projection_wrappers import InputProjectionWrapper, OutputProjectionWrapper
from tf_lstm.cells.tf1_cell import LayerRNNCell, RNNCell
from tf_lstm.cells.wrappers import DeviceWrapper, DropoutWrapper, ResidualWrapper
