"""Bidirectional unrolls with TF1's contracts (``tf.nn.bidirectional_dynamic_rnn``,
``tf.nn.static_bidirectional_rnn``).

The backward cell reads each row reversed *within its length*
(``tf.reverse_sequence``), so padding after ``length`` never reaches it, and its
outputs are reversed back to input order.
"""

import tensorflow as tf

from tf_lstm import rnn
from tf_lstm.dynamic_rnn import dynamic_rnn


def _reverse(x, sequence_length, seq_axis, batch_axis):
  if sequence_length is None:
    return tf.reverse(x, [seq_axis])
  return tf.reverse_sequence(x, tf.cast(sequence_length, tf.int64),
                             seq_axis=seq_axis, batch_axis=batch_axis)


def bidirectional_dynamic_rnn(cell_fw, cell_bw, inputs, sequence_length=None,
                              initial_state_fw=None, initial_state_bw=None, dtype=None,
                              time_major=False):
  """Returns ``((outputs_fw, outputs_bw), (state_fw, state_bw))``.

  ``inputs`` ``[batch, time, depth]`` (or time-major); each output
  ``[batch, time, output_size]`` in input order, zero at ``t >= length``.
  ``outputs_bw[:, t]`` has read steps ``length-1, ..., t``.
  """
  seq_axis, batch_axis = (0, 1) if time_major else (1, 0)
  out_fw, st_fw = dynamic_rnn(cell_fw, inputs, sequence_length, initial_state_fw,
                              dtype, time_major=time_major)
  reversed_in = _reverse(tf.convert_to_tensor(inputs), sequence_length, seq_axis, batch_axis)
  out_bw, st_bw = dynamic_rnn(cell_bw, reversed_in, sequence_length, initial_state_bw,
                              dtype, time_major=time_major)
  return (out_fw, _reverse(out_bw, sequence_length, seq_axis, batch_axis)), (st_fw, st_bw)


def static_bidirectional_rnn(cell_fw, cell_bw, inputs, initial_state_fw=None,
                             initial_state_bw=None, dtype=None, sequence_length=None):
  """Returns ``(outputs, state_fw, state_bw)``; ``outputs`` is a length-T list of
  ``[batch, fw_size + bw_size]`` (forward and backward concatenated)."""
  steps = rnn._as_step_list(inputs)  # pylint: disable=protected-access
  out_fw, st_fw = rnn.static_rnn(cell_fw, steps, initial_state_fw, dtype, sequence_length)
  stacked = tf.stack(steps, axis=0)
  rev = tf.unstack(_reverse(stacked, sequence_length, 0, 1))
  out_bw, st_bw = rnn.static_rnn(cell_bw, rev, initial_state_bw, dtype, sequence_length)
  out_bw = tf.unstack(_reverse(tf.stack(out_bw, 0), sequence_length, 0, 1))
  return [tf.concat([f, b], 1) for f, b in zip(out_fw, out_bw)], st_fw, st_bw
