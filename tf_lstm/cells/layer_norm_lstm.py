"""contrib's ``LayerNormBasicLSTMCell``: layer norm per gate and on the cell, recurrent dropout."""

import tensorflow as tf

from tf_lstm.cells import base
from tf_lstm.cells.basic_lstm import LSTMStateTuple, lstm_step
from tf_lstm.cells.keep_prob import KEEP_VARIABLES, KeepProb

# contrib.layers.layer_norm's epsilon for float32 (the cell's only dtype).
_EPSILON = 1e-12
_GATES = ("input", "transform", "forget", "output")


def layer_norm(x, gamma, beta):
  """contrib's ``layer_norm`` over the last axis of ``[batch, n]``::

      (x - mean(x)) / sqrt(var(x) + 1e-12) * gamma + beta
  """
  mean, variance = tf.nn.moments(x, [1], keepdims=True)
  return tf.nn.batch_normalization(x, mean, variance, offset=beta, scale=gamma,
                                   variance_epsilon=_EPSILON)


class LayerNormBasicLSTMCell(base.RNNCell):
  """Port of ``tf.contrib.rnn.LayerNormBasicLSTMCell`` (Ba et al. 2016; Semeniuta et al. 2016).

      [i, j, f, o] = split([x, h] @ kernel (+ bias without layer norm), 4)
      i, j, f, o = LN_input(i), LN_transform(j), LN_forget(f), LN_output(o)
      g = dropout(act(j), dropout_keep_prob)             (recurrent dropout)
      c' = LN_state(c * sigmoid(f + forget_bias) + sigmoid(i) * g)
      h' = act(c') * sigmoid(o)
  with ``LN_s(x) = (x - mean) / sqrt(var + 1e-12) * s/gamma + s/beta`` over
  the units of each row (``layer_norm``). With ``layer_norm=False`` and no
  dropout this is ``BasicLSTMCell``'s step (``lstm_step``) exactly.

  Variables (TF1 names under the cell's scope ``layer_norm_basic_lstm_cell``):
    ``kernel`` ``[D + N, 4N]`` (glorot); with layer norm ``<s>/gamma``
    (``norm_gain``) and ``<s>/beta`` (``norm_shift``) ``[N]`` for ``s`` in
    input, transform, forget, output, state; without it ``bias`` ``[4N]``
    (glorot, TF1's ``get_variable`` default) instead.

  ``dropout_keep_prob`` follows ``DropoutWrapper``'s rule for training: a
  float below 1, a tensor, a placeholder or a ``tf.Variable`` (assign 1.0 to
  evaluate); ``dropout_prob_seed`` is the op seed. ``input_size`` is
  accepted and ignored (deprecated in TF1); ``reuse`` is TF1's (in graph mode
  True / ``AUTO_REUSE`` share ``<scope>/<name>/...``; tf_lstm/cells/base.py).
  """

  _TF_MODULE_IGNORED_PROPERTIES = base.RNNCell._TF_MODULE_IGNORED_PROPERTIES | {KEEP_VARIABLES}

  def __init__(self, num_units, forget_bias=1.0, input_size=None, activation=tf.tanh,
               layer_norm=True, norm_gain=1.0, norm_shift=0.0, dropout_keep_prob=1.0,
               dropout_prob_seed=None, reuse=None, name="layer_norm_basic_lstm_cell",
               input_depth=None):
    del input_size  # Deprecated and unused in TF1.
    if int(num_units) <= 0:
      raise ValueError(f"num_units must be positive, got {num_units}")
    self._num_units = int(num_units)
    self._forget_bias = float(forget_bias)
    self._activation = activation
    self._layer_norm = bool(layer_norm)
    self._norm_gain = float(norm_gain)
    self._norm_shift = float(norm_shift)
    self._keep_prob = KeepProb("dropout_keep_prob", dropout_keep_prob)
    setattr(self, KEEP_VARIABLES, KeepProb.keep_variables(self._keep_prob))
    self._seed = dropout_prob_seed
    super().__init__(input_depth=input_depth, name=name, reuse=reuse)

  @property
  def num_units(self):
    return self._num_units

  @property
  def state_size(self):
    return LSTMStateTuple(self._num_units, self._num_units)

  @property
  def output_size(self):
    return self._num_units

  def _create_variables(self, input_depth):
    n = self._num_units
    self.kernel = self.add_weight("kernel", [input_depth + n, 4 * n])
    self.bias = None
    self.norms = {}
    if not self._layer_norm:
      self.bias = self.add_weight("bias", [4 * n])
      return
    gain = lambda shape, dtype: tf.fill(shape, tf.constant(self._norm_gain, dtype))
    shift = lambda shape, dtype: tf.fill(shape, tf.constant(self._norm_shift, dtype))
    for scope in (*_GATES, "state"):
      self.norms[scope] = (self.add_weight(f"{scope}/gamma", [n], gain),
                           self.add_weight(f"{scope}/beta", [n], shift))

  def _step(self, inputs, state):
    c, h = state
    if not self._layer_norm and not self._keep_prob.applies:
      new_c, new_h = lstm_step(inputs, c, h, self.kernel, self.bias, self._forget_bias,
                               self._activation)
      return new_h, LSTMStateTuple(new_c, new_h)
    gates = tf.matmul(tf.concat([inputs, h], 1), self.kernel)
    if self.bias is not None:
      gates = tf.nn.bias_add(gates, self.bias)
    i, j, f, o = tf.split(gates, 4, axis=1)
    if self._layer_norm:
      i, j, f, o = (layer_norm(x, *self.norms[s]) for x, s in zip((i, j, f, o), _GATES))
    g = self._activation(j)
    if self._keep_prob.applies:   # recurrent dropout on the candidate only
      g = tf.nn.dropout(g, rate=1.0 - self._keep_prob.value, seed=self._seed)
    new_c = c * tf.sigmoid(f + self._forget_bias) + tf.sigmoid(i) * g
    if self._layer_norm:
      new_c = layer_norm(new_c, *self.norms["state"])
    new_h = self._activation(new_c) * tf.sigmoid(o)
    return new_h, LSTMStateTuple(new_c, new_h)
