"""``dynamic_rnn``: TF1's ``tf.nn.dynamic_rnn`` over any cell, as a ``tf.while_loop``.

Unlike ``static_rnn`` the graph holds one copy of the step whatever the
sequence length, so the time dimension may be unknown until run time.  Both
run ``step.rnn_step``, so on equal inputs they give equal outputs and
gradients (tests/test_dynamic_rnn.py).
"""

import tensorflow as tf

from tf_lstm.unroll import step


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
    parallel_iterations: passed to ``tf.while_loop`` (default 32, TF1's).
    swap_memory: passed to ``tf.while_loop``.
    time_major: layout of ``inputs`` and of the returned outputs.
    scope: the variable scope (name or ``VariableScope``), default ``"rnn"``.
  Returns:
    ``(outputs, final_state)``: outputs ``[batch, time, output_size]`` (or
    time-major) and the final state structure.
  """
  inputs = tf.convert_to_tensor(inputs)
  if inputs.shape.rank != 3:
    layout = "[time, batch, depth]" if time_major else "[batch, time, depth]"
    raise ValueError(f"dynamic_rnn: inputs must be {layout}, got shape {inputs.shape}")
  depth = tf.compat.dimension_value(inputs.shape[-1])   # int or None, also under TF1 shapes
  if depth is None:
    raise ValueError("dynamic_rnn: the input depth (last dimension) must be known statically")
  steps = inputs if time_major else tf.transpose(inputs, [1, 0, 2])   # [T, B, D]
  num_steps = tf.shape(steps)[0]
  batch = tf.shape(steps)[1]
  with tf.compat.v1.variable_scope(scope or "rnn"):
    # Variables must exist before the loop body is traced (no creation in a while_loop).
    cell.build(depth)
    state = step.initial_state(cell, initial_state, batch, dtype or inputs.dtype,
                               "dynamic_rnn")
    sequence_length = step.check_sequence_length(sequence_length, "dynamic_rnn")
    if sequence_length is not None:
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
      out, new_state = step.rnn_step(cell, t, inputs_ta.read(t), state, sequence_length)
      return t + 1, new_state, outputs_ta.write(t, out)

    # maximum_iterations as TF1 passes it: with it, seeded random ops in the body
    # (a DropoutWrapper's) run in iteration order as often as under TF1's loop;
    # only parallel_iterations=1 guarantees that order (docs/porting.md).
    _, state, outputs_ta = tf.while_loop(
        lambda t, *_: t < num_steps, body, (tf.constant(0), state, outputs_ta),
        parallel_iterations=parallel_iterations or 32, swap_memory=swap_memory,
        maximum_iterations=num_steps)
  outputs = outputs_ta.stack()
  outputs.set_shape([steps.shape[0], steps.shape[1], cell.output_size])   # static T, as TF1
  if not time_major:
    outputs = tf.transpose(outputs, [1, 0, 2])
  return outputs, state
