"""Gated-feedback LSTM (Chung et al. 2015, "Gated Feedback Recurrent Neural Networks")."""

import tensorflow as tf

from tf_lstm.cells import base
from tf_lstm.cells import registry
from tf_lstm.cells.basic_lstm import LSTMStateTuple, lstm_gates_to_state


@registry.register("gflstm", options=(registry.FORGET_BIAS,), whole_stack=True)
class GFLSTMCell(base.RNNCell):
  """A stack of L LSTM layers whose candidates read every layer's previous h.

  With ``x^0_t = x_t``, ``x^j_t = h^{j-1}_t`` (the layer below, this step) and
  ``h*_{t-1} = [h^1_{t-1}, ..., h^L_{t-1}]`` (all layers, previous step):

      [i, f, o] = [x^j_t, h^j_{t-1}] @ gates/kernel + gates/bias     (own recurrence)
      g^{i->j}  = sigmoid([x^j_t, h*_{t-1}] @ global_reset/kernel[:, i])   (scalar per row)
      c~        = x^j_t @ candidate/input_kernel + candidate/bias
                  + sum_i g^{i->j} h^i_{t-1} @ U^{i->j}
      c^j_t, h^j_t = the BasicLSTM update of [i, c~, f, o] (forget_bias added to f)

  ``U^{i->j}`` are the row blocks of ``candidate/recurrent_kernel``.  The
  output is the top layer's ``h``; the state is a tuple of one
  ``LSTMStateTuple(c, h)`` per layer (the same structure as a
  ``MultiRNNCell`` of LSTMs).

  Variables of layer ``j`` (0-based), under ``cell_<j>/`` (legacy/mnist_gflstm.py
  creates the same names), ``D_j`` its input depth, ``N_j`` its units,
  ``S = sum(N)``:
    ``gates/kernel`` ``[D_j + N_j, 3 N_j]`` columns i, f, o; ``gates/bias`` ``[3 N_j]`` (zeros)
    ``candidate/input_kernel`` ``[D_j, N_j]``; ``candidate/bias`` ``[N_j]`` (zeros)
    ``candidate/recurrent_kernel`` ``[S, N_j]`` rows = layers 0..L-1 in order
    ``global_reset/kernel`` ``[D_j + S, L]``: column i = ``[w_g^{i->j}; u_g^{i->j}]``
      (no bias, as in the paper)

  Example:
    cell = GFLSTMCell([64, 64])
    out, state = cell(tf.zeros([8, 28]), cell.zero_state(8))   # out: [8, 64]
  """

  def __init__(self, num_units_per_layer, forget_bias=1.0, activation=tf.tanh,
               input_depth=None, name="gflstm_cell"):
    units = [int(n) for n in num_units_per_layer]
    if not units or min(units) <= 0:
      raise ValueError(f"num_units_per_layer must be a non-empty list of positive ints, "
                       f"got {num_units_per_layer}")
    self._units = units
    self._forget_bias = float(forget_bias)
    self._activation = activation
    super().__init__(input_depth=input_depth, name=name)

  @property
  def num_units_per_layer(self):
    return list(self._units)

  @property
  def state_size(self):
    return tuple(LSTMStateTuple(n, n) for n in self._units)

  @property
  def output_size(self):
    return self._units[-1]

  def _create_variables(self, input_depth):
    total, num_layers = sum(self._units), len(self._units)
    self.layers = []
    depth = input_depth
    for j, n in enumerate(self._units):
      def weight(name, shape, initializer=None, j=j):
        return self.add_weight(f"cell_{j}/{name}", shape, initializer)
      gates_kernel = weight("gates/kernel", [depth + n, 3 * n])
      gates_bias = weight("gates/bias", [3 * n], base.zeros)
      input_kernel = weight("candidate/input_kernel", [depth, n])
      recurrent_kernel = weight("candidate/recurrent_kernel", [total, n])
      candidate_bias = weight("candidate/bias", [n], base.zeros)
      reset_kernel = weight("global_reset/kernel", [depth + total, num_layers])
      self.layers.append(dict(
          gates_kernel=gates_kernel, gates_bias=gates_bias, input_kernel=input_kernel,
          recurrent_kernel=recurrent_kernel, candidate_bias=candidate_bias,
          reset_kernel=reset_kernel))
      depth = n

  def _step(self, inputs, state):
    if len(state) != len(self._units):
      raise ValueError(f"{self.name}: expected a state tuple of {len(self._units)} "
                       f"layers, got {len(state)}")
    prev_h = [s[1] for s in state]
    h_star = tf.concat(prev_h, 1)                                      # [B, S]
    x = inputs
    new_states = []
    for layer, (c, h) in zip(self.layers, state):
      i, f, o = tf.split(
          tf.matmul(tf.concat([x, h], 1), layer["gates_kernel"]) + layer["gates_bias"],
          3, axis=1)
      reset = tf.sigmoid(tf.matmul(tf.concat([x, h_star], 1), layer["reset_kernel"]))  # [B, L]
      gated = tf.concat([reset[:, k:k + 1] * hk for k, hk in enumerate(prev_h)], 1)
      j = (tf.matmul(x, layer["input_kernel"]) + tf.matmul(gated, layer["recurrent_kernel"])
           + layer["candidate_bias"])
      new_c, new_h = lstm_gates_to_state(
          tf.concat([i, j, f, o], 1), c, self._forget_bias, self._activation)
      new_states.append(LSTMStateTuple(new_c, new_h))
      x = new_h
    return x, tuple(new_states)
