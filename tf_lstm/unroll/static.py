"""``static_rnn``: TF1's ``tf.nn.static_rnn`` over any cell, one graph node per step."""

import tensorflow as tf

from tf_lstm.unroll import step


def time_steps(inputs, fn_name="static_rnn"):
  """A list of ``[batch, depth]`` tensors from a list or a ``[B, T, D]`` tensor."""
  if isinstance(inputs, (list, tuple)):
    if not inputs:
      raise ValueError(f"{fn_name}: inputs must be a non-empty list of [batch, depth] tensors")
    steps = [tf.convert_to_tensor(x) for x in inputs]
    for t, x in enumerate(steps):
      if x.shape.rank != 2:
        raise ValueError(f"{fn_name}: inputs[{t}] must be [batch, depth], got shape {x.shape}")
    return steps
  inputs = tf.convert_to_tensor(inputs)
  if inputs.shape.rank != 3:
    raise ValueError(
        f"{fn_name}: inputs must be a list of [batch, depth] tensors or a "
        f"[batch, time, depth] tensor, got shape {inputs.shape}")
  if tf.compat.dimension_value(inputs.shape[1]) is None:
    raise ValueError(f"{fn_name}: the time dimension must be known statically; "
                     "use dynamic_rnn for variable-length time")
  return tf.unstack(inputs, axis=1)


def static_rnn(cell, inputs, initial_state=None, dtype=None, sequence_length=None,
               scope=None):
  """Unrolls ``cell`` over ``inputs`` with a Python loop (TF1 ``static_rnn``).

  Traced inside ``tf.function`` (or in a ``tf.compat.v1`` graph) this builds one
  graph node per step, exactly like TF1's ``tf.contrib.rnn.static_rnn``.

  Args:
    cell: an ``RNNCell``.
    inputs: a length-T list of ``[batch, depth]`` tensors, or one
      ``[batch, T, depth]`` tensor.
    initial_state: the cell's state structure; zeros when ``None``.
    dtype: dtype of the zero state (default: the inputs' dtype; TF1 required it).
    sequence_length: optional ``[batch]`` int lengths: outputs at
      ``t >= length`` are zero and the state stops updating there.
    scope: the variable scope (name or ``VariableScope``), default ``"rnn"``:
      the cell's variables are ``<scope>/<cell scope>/...`` (tf_lstm/cells/base.py).
  Returns:
    ``(outputs, final_state)``: a length-T list of ``[batch, output_size]``
    tensors and the state after the last (valid) step.
  """
  steps = time_steps(inputs)
  with tf.compat.v1.variable_scope(scope or "rnn") as varscope:
    state = step.initial_state(cell, initial_state, tf.shape(steps[0])[0],
                               dtype or steps[0].dtype, "static_rnn")
    sequence_length = step.check_sequence_length(sequence_length, "static_rnn")
    outputs = []
    for t, x in enumerate(steps):
      if t > 0:   # TF1's rule: a cell that calls get_variable on every step reuses
        varscope.reuse_variables()
      out, state = step.rnn_step(cell, t, x, state, sequence_length)
      outputs.append(out)
  return outputs, state
