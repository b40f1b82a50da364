"""The one unroll step rule every unroll shares (static, dynamic, bidirectional).

    out_t, s_t = cell(x_t, s_{t-1})
    past a row's length (t >= sequence_length[b]): out_t[b] = 0, s_t[b] = s_{t-1}[b]

so the final state is the state after step ``length - 1`` (the initial state
for length 0), as TF1's ``_rnn_step`` computes it.
"""

import tensorflow as tf


def rnn_step(cell, t, inputs, state, sequence_length=None):
  """One step of ``cell`` at time ``t`` with TF1's length masking.

  Args:
    cell: an ``RNNCell``.
    t: the step index (a Python int or a scalar int32 tensor).
    inputs: ``[batch, depth]``.
    state: the cell's state structure.
    sequence_length: ``[batch]`` int32, or None (no masking).
  Returns:
    ``(output [batch, output_size], new_state)``.
  """
  out, new_state = cell(inputs, state)
  if sequence_length is None:
    return out, new_state
  valid = tf.expand_dims(t < sequence_length, 1)
  out = tf.where(valid, out, tf.zeros_like(out))
  new_state = tf.nest.map_structure(lambda n, o: tf.where(valid, n, o), new_state, state)
  return out, new_state


def initial_state(cell, state, batch_size, dtype, fn_name):
  """The unroll's first state: ``state`` packed in the cell's structure, or zeros."""
  if state is None:
    return cell.zero_state(batch_size, dtype)
  flat = tf.nest.flatten(state)
  expected = len(tf.nest.flatten(cell.state_size))
  if len(flat) != expected:
    raise ValueError(
        f"{fn_name}: initial_state has {len(flat)} tensors, the cell's state_size "
        f"{cell.state_size} needs {expected}")
  # The cell's own structure (e.g. LSTMStateTuple, not a plain tuple), as the
  # masking and tf.while_loop compare structures.
  return tf.nest.pack_sequence_as(cell.state_size, [tf.convert_to_tensor(s) for s in flat])


def check_sequence_length(sequence_length, fn_name):
  """``sequence_length`` as a ``[batch]`` int32 tensor (or None)."""
  if sequence_length is None:
    return None
  sequence_length = tf.convert_to_tensor(sequence_length)
  if sequence_length.shape.rank != 1:
    raise ValueError(
        f"{fn_name}: sequence_length must be [batch], got shape {sequence_length.shape}")
  if not sequence_length.dtype.is_integer:
    raise ValueError(
        f"{fn_name}: sequence_length must be integers, got {sequence_length.dtype.name}")
  return tf.cast(sequence_length, tf.int32)
