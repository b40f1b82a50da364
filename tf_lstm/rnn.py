"""Unroll functions over any cell, with TF1's ``tf.nn.static_rnn`` contract."""

import tensorflow as tf

from tf_lstm import fused as fused_lib


def _as_step_list(inputs):
  """A list of ``[batch, depth]`` tensors from a list or a ``[B, T, D]`` tensor."""
  if isinstance(inputs, (list, tuple)):
    if not inputs:
      raise ValueError("static_rnn: inputs must be a non-empty list of [batch, depth] tensors")
    steps = [tf.convert_to_tensor(x) for x in inputs]
    for t, x in enumerate(steps):
      if x.shape.rank != 2:
        raise ValueError(
            f"static_rnn: inputs[{t}] must be [batch, depth], got shape {x.shape}")
    return steps
  inputs = tf.convert_to_tensor(inputs)
  if inputs.shape.rank != 3:
    raise ValueError(
        "static_rnn: inputs must be a list of [batch, depth] tensors or a "
        f"[batch, time, depth] tensor, got shape {inputs.shape}")
  if inputs.shape[1] is None:
    raise ValueError("static_rnn: the time dimension must be known statically; "
                     "use dynamic_rnn for variable-length time")
  return tf.unstack(inputs, axis=1)


def static_rnn(cell, inputs, initial_state=None, dtype=None, sequence_length=None,
               fused=False):
  """Unrolls ``cell`` over ``inputs`` with a Python loop (TF1 ``static_rnn``).

  Traced inside ``tf.function`` this builds one graph node per step, exactly
  like TF1's ``tf.contrib.rnn.static_rnn``.

  Args:
    cell: an ``RNNCell``.
    inputs: a length-T list of ``[batch, depth]`` tensors, or one
      ``[batch, T, depth]`` tensor.
    initial_state: the cell's state structure; zeros when ``None``.
    dtype: dtype of the zero state (default: the inputs' dtype).
    sequence_length: optional ``[batch]`` int lengths: outputs at
      ``t >= length`` are zero and the state stops updating there.
    fused: with ``True`` a ``BasicLSTMCell`` or a ``MultiRNNCell`` of them,
      without ``sequence_length``, is unrolled by ``tf_lstm.fused.static_lstm``:
      the same function and variables, computed layer by layer with the input
      products hoisted out of the loop (equal to 1e-6, tests/test_fast_path.py).
      Off by default: on the 2-core benchmark machine it was not faster than
      this step-by-step loop (see ``bin/benchmark --peers=port,port-fused``).
  Returns:
    ``(outputs, final_state)``: a length-T list of ``[batch, output_size]``
    tensors and the state after the last (valid) step.
  """
  if fused and sequence_length is None and fused_lib.lstm_layers(cell) is not None:
    return _fused_static_rnn(cell, inputs, initial_state, dtype)
  steps = _as_step_list(inputs)
  if initial_state is None:
    batch = tf.shape(steps[0])[0]
    state = cell.zero_state(batch, dtype or steps[0].dtype)
  else:
    state = initial_state
  if sequence_length is not None:
    sequence_length = tf.convert_to_tensor(sequence_length, tf.int32)
    if sequence_length.shape.rank != 1:
      raise ValueError(
          f"static_rnn: sequence_length must be [batch], got shape {sequence_length.shape}")
  outputs = []
  for t, x in enumerate(steps):
    out, new_state = cell(x, state)
    if sequence_length is not None:
      valid = tf.expand_dims(t < sequence_length, 1)
      out = tf.where(valid, out, tf.zeros_like(out))
      new_state = tf.nest.map_structure(
          lambda n, o: tf.where(valid, n, o), new_state, state)
    outputs.append(out)
    state = new_state
  return outputs, state


def _fused_static_rnn(cell, inputs, initial_state, dtype):
  if isinstance(inputs, (list, tuple)):
    time_major = tf.stack(_as_step_list(inputs), axis=0)
  else:
    _as_step_list(inputs)   # validates the shape
    time_major = tf.transpose(inputs, [1, 0, 2])
  if initial_state is None:
    initial_state = cell.zero_state(tf.shape(time_major)[1], dtype or time_major.dtype)
  return fused_lib.static_lstm(cell, time_major, initial_state)
