"""Bidirectional unrolls with TF1's contracts and variable scopes.

``bidirectional_dynamic_rnn`` / ``static_bidirectional_rnn`` (``tf.nn``) and
their stacks ``stack_bidirectional_dynamic_rnn`` / ``stack_bidirectional_rnn``
(``tf.contrib.rnn``).  The backward cell reads each row reversed *within its
length* (``tf.reverse_sequence``), so padding after ``length`` never reaches
it, and its outputs are reversed back to input order.  Variables:
``bidirectional_rnn/fw/<cell scope>/...`` and ``.../bw/...``; the stacks put
layer ``i`` under ``stack_bidirectional_rnn/cell_<i>/fw|bw/...`` (static) and
``stack_bidirectional_rnn/cell_<i>/bidirectional_rnn/fw|bw/...`` (dynamic), as
``tf.contrib.rnn`` did.
"""

import tensorflow as tf

from tf_lstm.unroll.dynamic import dynamic_rnn
from tf_lstm.unroll.static import static_rnn, time_steps


def _reverse(x, sequence_length, seq_axis, batch_axis):
  if sequence_length is None:
    return tf.reverse(x, [seq_axis])
  return tf.reverse_sequence(x, tf.cast(sequence_length, tf.int64),
                             seq_axis=seq_axis, batch_axis=batch_axis)


def bidirectional_dynamic_rnn(cell_fw, cell_bw, inputs, sequence_length=None,
                              initial_state_fw=None, initial_state_bw=None, dtype=None,
                              parallel_iterations=None, swap_memory=False,
                              time_major=False, scope=None):
  """Returns ``((outputs_fw, outputs_bw), (state_fw, state_bw))``.

  ``inputs`` ``[batch, time, depth]`` (or time-major); each output
  ``[batch, time, output_size]`` in input order, zero at ``t >= length``.
  ``outputs_bw[:, t]`` has read steps ``length-1, ..., t``.  ``scope``
  defaults to ``"bidirectional_rnn"``.
  """
  seq_axis, batch_axis = (0, 1) if time_major else (1, 0)
  inputs = tf.convert_to_tensor(inputs)
  with tf.compat.v1.variable_scope(scope or "bidirectional_rnn"):
    with tf.compat.v1.variable_scope("fw") as fw_scope:
      out_fw, st_fw = dynamic_rnn(
          cell_fw, inputs, sequence_length, initial_state_fw, dtype, parallel_iterations,
          swap_memory, time_major, scope=fw_scope)
    with tf.compat.v1.variable_scope("bw") as bw_scope:
      reversed_in = _reverse(inputs, sequence_length, seq_axis, batch_axis)
      out_bw, st_bw = dynamic_rnn(
          cell_bw, reversed_in, sequence_length, initial_state_bw, dtype,
          parallel_iterations, swap_memory, time_major, scope=bw_scope)
  return (out_fw, _reverse(out_bw, sequence_length, seq_axis, batch_axis)), (st_fw, st_bw)


def static_bidirectional_rnn(cell_fw, cell_bw, inputs, initial_state_fw=None,
                             initial_state_bw=None, dtype=None, sequence_length=None,
                             scope=None):
  """Returns ``(outputs, state_fw, state_bw)``; ``outputs`` is a length-T list of
  ``[batch, fw_size + bw_size]`` (forward and backward concatenated).
  ``scope`` defaults to ``"bidirectional_rnn"``."""
  steps = time_steps(inputs, "static_bidirectional_rnn")
  with tf.compat.v1.variable_scope(scope or "bidirectional_rnn"):
    with tf.compat.v1.variable_scope("fw") as fw_scope:
      out_fw, st_fw = static_rnn(cell_fw, steps, initial_state_fw, dtype, sequence_length,
                                 scope=fw_scope)
    with tf.compat.v1.variable_scope("bw") as bw_scope:
      rev = tf.unstack(_reverse(tf.stack(steps, 0), sequence_length, 0, 1))
      out_bw, st_bw = static_rnn(cell_bw, rev, initial_state_bw, dtype, sequence_length,
                                 scope=bw_scope)
  out_bw = tf.unstack(_reverse(tf.stack(out_bw, 0), sequence_length, 0, 1))
  return [tf.concat([f, b], 1) for f, b in zip(out_fw, out_bw)], st_fw, st_bw


def _check_stack(cells_fw, cells_bw, initial_states_fw, initial_states_bw, fn_name):
  if not cells_fw or not isinstance(cells_fw, (list, tuple)):
    raise ValueError(f"{fn_name}: cells_fw must be a non-empty list of cells")
  if not cells_bw or not isinstance(cells_bw, (list, tuple)):
    raise ValueError(f"{fn_name}: cells_bw must be a non-empty list of cells")
  if len(cells_fw) != len(cells_bw):
    raise ValueError(f"{fn_name}: {len(cells_fw)} forward cells but {len(cells_bw)} backward")
  for label, states in (("initial_states_fw", initial_states_fw),
                        ("initial_states_bw", initial_states_bw)):
    if states is not None and len(states) != len(cells_fw):
      raise ValueError(f"{fn_name}: {label} must hold one state per layer "
                       f"({len(cells_fw)}), got {len(states)}")
  return [s[i] if s else None for i in range(len(cells_fw))
          for s in (initial_states_fw, initial_states_bw)]


def stack_bidirectional_rnn(cells_fw, cells_bw, inputs, initial_states_fw=None,
                            initial_states_bw=None, dtype=None, sequence_length=None,
                            scope=None):
  """Layers of ``static_bidirectional_rnn``, each reading the one below's outputs.

  Returns ``(outputs, states_fw, states_bw)``: the top layer's length-T list of
  ``[batch, fw_size + bw_size]`` and a tuple of one final state per layer for
  each direction.  ``scope`` defaults to ``"stack_bidirectional_rnn"``.
  """
  starts = _check_stack(cells_fw, cells_bw, initial_states_fw, initial_states_bw,
                        "stack_bidirectional_rnn")
  layer, states_fw, states_bw = inputs, [], []
  with tf.compat.v1.variable_scope(scope or "stack_bidirectional_rnn"):
    for i, (cell_fw, cell_bw) in enumerate(zip(cells_fw, cells_bw)):
      with tf.compat.v1.variable_scope(f"cell_{i}") as cell_scope:
        layer, st_fw, st_bw = static_bidirectional_rnn(
            cell_fw, cell_bw, layer, starts[2 * i], starts[2 * i + 1], dtype,
            sequence_length, scope=cell_scope)
      states_fw.append(st_fw)
      states_bw.append(st_bw)
  return layer, tuple(states_fw), tuple(states_bw)


def stack_bidirectional_dynamic_rnn(cells_fw, cells_bw, inputs, initial_states_fw=None,
                                    initial_states_bw=None, dtype=None,
                                    sequence_length=None, parallel_iterations=None,
                                    time_major=False, scope=None, swap_memory=False):
  """Layers of ``bidirectional_dynamic_rnn``, each reading the one below's outputs.

  Returns ``(outputs, states_fw, states_bw)``: the top layer's
  ``[batch, time, fw_size + bw_size]`` (or time-major) and a tuple of one final
  state per layer for each direction.  ``scope`` defaults to
  ``"stack_bidirectional_rnn"`` (TF1's name for both stacks).
  """
  starts = _check_stack(cells_fw, cells_bw, initial_states_fw, initial_states_bw,
                        "stack_bidirectional_dynamic_rnn")
  layer, states_fw, states_bw = inputs, [], []
  with tf.compat.v1.variable_scope(scope or "stack_bidirectional_rnn"):
    for i, (cell_fw, cell_bw) in enumerate(zip(cells_fw, cells_bw)):
      with tf.compat.v1.variable_scope(f"cell_{i}"):   # TF1: .../cell_<i>/bidirectional_rnn/fw
        (out_fw, out_bw), (st_fw, st_bw) = bidirectional_dynamic_rnn(
            cell_fw, cell_bw, layer, sequence_length, starts[2 * i], starts[2 * i + 1],
            dtype, parallel_iterations, swap_memory, time_major)
      layer = tf.concat([out_fw, out_bw], 2)
      states_fw.append(st_fw)
      states_bw.append(st_bw)
  return layer, tuple(states_fw), tuple(states_bw)
