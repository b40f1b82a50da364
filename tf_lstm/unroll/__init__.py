"""Unrolls of any cell over time with TF1's signatures, results and variable scopes.

All of them run ``step.rnn_step`` (the cell step plus TF1's length masking).
"""

from tf_lstm.unroll.bidirectional import bidirectional_dynamic_rnn
from tf_lstm.unroll.bidirectional import stack_bidirectional_dynamic_rnn
from tf_lstm.unroll.bidirectional import stack_bidirectional_rnn
from tf_lstm.unroll.bidirectional import static_bidirectional_rnn
from tf_lstm.unroll.dynamic import dynamic_rnn
from tf_lstm.unroll.static import static_rnn
