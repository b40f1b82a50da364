"""The TF1 side of tests/test_tf1_surface_unrolls.py: run with TF_USE_LEGACY_KERAS=1.

    python tests/tf1_unroll_reference.py OUT.npz

Runs every case of tests/tf1_unroll_cases.py with TF1's own cells
(``tf.compat.v1.nn.rnn_cell``, tf-keras) and unrolls (``tf.compat.v1.nn``) in
a ``tf.compat.v1`` graph and writes, per case: variable names and shapes,
initial values, the flattened outputs and states, and the gradients of
``loss_of`` with respect to the inputs and every variable; plus the log of
``reuse_scenario``.  ``tf.contrib.rnn``'s two stacks no longer exist: they are
rebuilt here exactly as contrib composed them (``static_bidirectional_rnn`` /
``bidirectional_dynamic_rnn`` per layer under ``<scope>/cell_<i>``).
"""

import json
import os
import sys
import types

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import numpy as np  # pylint: disable=g-import-not-at-top
import tensorflow as tf
import tf1_unroll_cases as cases

v1 = tf.compat.v1


def stack_bidirectional_rnn(cells_fw, cells_bw, inputs, initial_states_fw=None,
                            initial_states_bw=None, dtype=None, sequence_length=None,
                            scope=None):
  layer, states_fw, states_bw = inputs, [], []
  with v1.variable_scope(scope or "stack_bidirectional_rnn"):
    for i, (cell_fw, cell_bw) in enumerate(zip(cells_fw, cells_bw)):
      with v1.variable_scope("cell_%d" % i) as cell_scope:
        layer, s_fw, s_bw = v1.nn.static_bidirectional_rnn(
            cell_fw, cell_bw, layer,
            initial_state_fw=initial_states_fw[i] if initial_states_fw else None,
            initial_state_bw=initial_states_bw[i] if initial_states_bw else None,
            sequence_length=sequence_length, dtype=dtype, scope=cell_scope)
      states_fw.append(s_fw)
      states_bw.append(s_bw)
  return layer, tuple(states_fw), tuple(states_bw)


def stack_bidirectional_dynamic_rnn(cells_fw, cells_bw, inputs, initial_states_fw=None,
                                    initial_states_bw=None, dtype=None,
                                    sequence_length=None, parallel_iterations=None,
                                    time_major=False, scope=None, swap_memory=False):
  layer, states_fw, states_bw = inputs, [], []
  with v1.variable_scope(scope or "stack_bidirectional_rnn"):
    for i, (cell_fw, cell_bw) in enumerate(zip(cells_fw, cells_bw)):
      with v1.variable_scope("cell_%d" % i):
        (out_fw, out_bw), (s_fw, s_bw) = v1.nn.bidirectional_dynamic_rnn(
            cell_fw, cell_bw, layer,
            initial_state_fw=initial_states_fw[i] if initial_states_fw else None,
            initial_state_bw=initial_states_bw[i] if initial_states_bw else None,
            sequence_length=sequence_length, parallel_iterations=parallel_iterations,
            dtype=dtype, swap_memory=swap_memory, time_major=time_major)
        layer = tf.concat([out_fw, out_bw], 2)
      states_fw.append(s_fw)
      states_bw.append(s_bw)
  return layer, tuple(states_fw), tuple(states_bw)


def tf1_namespace():
  cells = v1.nn.rnn_cell
  return types.SimpleNamespace(
      BasicLSTMCell=cells.BasicLSTMCell, LSTMCell=cells.LSTMCell, GRUCell=cells.GRUCell,
      BasicRNNCell=cells.BasicRNNCell, MultiRNNCell=cells.MultiRNNCell,
      LSTMStateTuple=cells.LSTMStateTuple, static_rnn=v1.nn.static_rnn,
      dynamic_rnn=v1.nn.dynamic_rnn, static_bidirectional_rnn=v1.nn.static_bidirectional_rnn,
      bidirectional_dynamic_rnn=v1.nn.bidirectional_dynamic_rnn,
      stack_bidirectional_rnn=stack_bidirectional_rnn,
      stack_bidirectional_dynamic_rnn=stack_bidirectional_dynamic_rnn)


def main(out_path):
  ns = tf1_namespace()
  record, meta = {}, {}
  for name, (make_cells, unroll) in cases.CASES.items():
    with tf.Graph().as_default():
      v1.set_random_seed(1)
      x = tf.constant(cases.inputs())
      results = unroll(ns, make_cells(ns), x, tf.constant(cases.LENGTHS))
      loss = cases.loss_of(results)
      tvars = v1.trainable_variables()
      grads = tf.gradients(loss, [x] + tvars)
      with v1.Session() as sess:
        sess.run(v1.global_variables_initializer())
        values, flat, grad_values = sess.run([tvars, tf.nest.flatten(results), grads])
    meta[name] = [[v.name, v.shape.as_list()] for v in tvars]
    record[f"{name}/grad/x"] = grad_values[0]
    for v, value, g in zip(tvars, values, grad_values[1:]):
      record[f"{name}/init/{v.name}"] = value
      record[f"{name}/grad/{v.name}"] = g
    for k, value in enumerate(flat):
      record[f"{name}/out/{k}"] = value
  with tf.Graph().as_default():
    meta["reuse_scenario"] = cases.reuse_scenario(ns)
  record["meta"] = np.asarray(json.dumps(meta))
  np.savez(out_path, **record)


if __name__ == "__main__":
  main(sys.argv[1])
