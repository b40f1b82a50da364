"""``dynamic_rnn``: TF1's ``tf.nn.dynamic_rnn`` over any cell, as a ``tf.while_loop``.

Unlike ``static_rnn`` the graph holds one copy of the step whatever the
sequence length, so the time dimension may be unknown until run time.  Both
call the same ``cell(x_t, state)`` and mask with the same rule, so on equal
inputs they give equal outputs and gradients (tests/test_dynamic_rnn.py).
"""

import tensorflow as tf


def _mask_step(t, sequence_length, out, new_state, state):
  """TF1's rule: past a row's length its output is 0 and its state is frozen."""
  valid = tf.expand_dims(t < sequence_length, 1)
  out = tf.where(valid, out, tf.zeros_like(out))
  new_state = tf.nest.map_structure(lambda n, o: tf.where(valid, n, o), new_state, state)
  return out, new_state


def dynamic_rnn(cell, inputs, sequence_length=None, initial_state=None, dtype=None,
                parallel_iterations=None, swap_memory=False, time_major=False,
                scope=None):
  """Unrolls ``cell`` over the time axis of ``inputs`` with ``tf.while_loop``.

  Args:
    cell: an ``RNNCell`` (any state structure, e.g. a ``MultiRNNCell``).
    inputs: ``[batch, time, depth]`` (``[time, batch, depth]`` when
      ``time_major``); ``time`` and ``batch`` may be unknown, ``depth`` not.
    sequence_length: optional ``[batch]`` int lengths in ``[0, time]``: output
      rows at ``t >= length`` are zero and the final state is the state after
      step ``length - 1`` (the initial state for length 0).
    initial_state: the cell's state structure; zeros when ``None``.
    dtype: dtype of the zero state (default: the inputs' dtype).
    parallel_iterations, swap_memory: passed to ``tf.while_loop``.
    time_major: layout of ``inputs`` and of the returned outputs.
    scope: accepted for TF1 call compatibility; variables belong to ``cell``.
  Returns:
    ``(outputs, final_state)``: outputs ``[batch, time, output_size]`` (or
    time-major) and the final state structure.
  """
  del scope  # Variable names come from the cell's tf.Module name scope.
  inputs = tf.convert_to_tensor(inputs)
  if inputs.shape.rank != 3:
    layout = "[time, batch, depth]" if time_major else "[batch, time, depth]"
    raise ValueError(f"dynamic_rnn: inputs must be {layout}, got shape {inputs.shape}")
  if inputs.shape[-1] is None:
    raise ValueError("dynamic_rnn: the input depth (last dimension) must be known statically")
  steps = inputs if time_major else tf.transpose(inputs, [1, 0, 2])   # [T, B, D]
  # Variables must exist before the loop body is traced (no creation in a while_loop).
  cell.build(steps.shape[-1])
  num_steps = tf.shape(steps)[0]
  batch = tf.shape(steps)[1]

  if initial_state is None:
    state = cell.zero_state(batch, dtype or inputs.dtype)
  else:
    flat = tf.nest.flatten(initial_state)
    if len(flat) != len(tf.nest.flatten(cell.state_size)):
      raise ValueError(
          f"dynamic_rnn: initial_state has {len(flat)} tensors, the cell's state_size "
          f"{cell.state_size} needs {len(tf.nest.flatten(cell.state_size))}")
    # The loop needs the cell's own structure (e.g. LSTMStateTuple, not a tuple).
    state = tf.nest.pack_sequence_as(cell.state_size,
                                     [tf.convert_to_tensor(s) for s in flat])
  if sequence_length is not None:
    sequence_length = tf.convert_to_tensor(sequence_length)
    if sequence_length.shape.rank != 1:
      raise ValueError(
          f"dynamic_rnn: sequence_length must be [batch], got shape {sequence_length.shape}")
    if not sequence_length.dtype.is_integer:
      raise ValueError(
          f"dynamic_rnn: sequence_length must be integers, got {sequence_length.dtype.name}")
    sequence_length = tf.cast(sequence_length, tf.int32)
    with tf.control_dependencies([
        tf.debugging.assert_equal(tf.shape(sequence_length)[0], batch, message=(
            "dynamic_rnn: sequence_length must have one entry per batch row"))]):
      sequence_length = tf.identity(sequence_length)

  inputs_ta = tf.TensorArray(steps.dtype, size=num_steps, element_shape=steps.shape[1:])
  inputs_ta = inputs_ta.unstack(steps)
  outputs_ta = tf.TensorArray(
      steps.dtype, size=num_steps,
      element_shape=tf.TensorShape([steps.shape[1], cell.output_size]))

  def body(t, state, outputs_ta):
    out, new_state = cell(inputs_ta.read(t), state)
    if sequence_length is not None:
      out, new_state = _mask_step(t, sequence_length, out, new_state, state)
    return t + 1, new_state, outputs_ta.write(t, out)

  _, state, outputs_ta = tf.while_loop(
      lambda t, *_: t < num_steps, body, (tf.constant(0), state, outputs_ta),
      parallel_iterations=parallel_iterations or 32, swap_memory=swap_memory)
  outputs = outputs_ta.stack()
  if not time_major:
    outputs = tf.transpose(outputs, [1, 0, 2])
  return outputs, state
