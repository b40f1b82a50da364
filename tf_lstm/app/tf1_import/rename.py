"""A copy of an old TF1 checkpoint with today's (TF 1.2+) variable names.

A TF1 graph program ported by changing its imports (docs/porting.md) restores
with its own ``Saver``, by name; a checkpoint written by TF 1.0/1.1
(``basic_lstm_cell/weights``) or TF 0.12 (``RNN/MultiRNNCell/Cell0/
BasicLSTMCell/Linear/Matrix``) has older names, which TF 1.2+ could not
restore either (TF shipped a ``checkpoint_convert`` script for it).
``rename_checkpoint`` writes the same tensors under ``names.canonical`` names,
optimizer slots and moving averages following their variable
(``.../weights/Adam`` -> ``.../kernel/Adam``); every other entry keeps its name.
"""

import os

import tensorflow as tf

from tf_lstm.app.tf1_import import names
from tf_lstm.app.tf1_import.ports import TF1ImportError


def renamed(name):
  """``name`` in today's spelling; a slot follows its variable."""
  slot = names.SLOT_SUFFIX.search(name)
  if slot:
    return names.canonical(name[:slot.start()]) + name[slot.start():]
  return names.canonical(name)


def rename_checkpoint(reader, destination):
  """Writes ``reader``'s tensors under today's names to the prefix ``destination``.

  Args:
    reader: a ``tf.train.load_checkpoint`` reader of the old checkpoint.
    destination: a new checkpoint prefix (``DIR/model.ckpt``); its files must
      not exist.  ``DIR/checkpoint`` is written too when ``DIR`` has none, so
      ``tf.train.latest_checkpoint(DIR)`` finds it.
  Returns:
    ``[(old, new)]`` for the renamed entries (empty: nothing written, the names
    are today's already).
  Raises:
    TF1ImportError: the destination exists or is a directory, or two entries
      would get one name.
  """
  shapes = reader.get_variable_to_shape_map()
  new_names = {old: renamed(old) for old in sorted(shapes)}
  changes = [(old, new) for old, new in new_names.items() if old != new]
  if not changes:
    return []
  by_new = {}
  for old, new in new_names.items():
    by_new.setdefault(new, []).append(old)
  clashes = {new: olds for new, olds in by_new.items() if len(olds) > 1}
  if clashes:
    raise TF1ImportError("two checkpoint entries would get the same name: " + "; ".join(
        f"{' and '.join(olds)} -> {new}" for new, olds in sorted(clashes.items())))
  if not os.path.basename(destination) or tf.io.gfile.isdir(destination):
    raise TF1ImportError(f"{destination} is a directory; expected a new checkpoint prefix "
                         "such as DIR/model.ckpt (nothing was written)")
  if tf.io.gfile.glob(destination + ".*"):
    raise TF1ImportError(f"{destination}: a checkpoint with this prefix exists already; "
                         "give a new prefix (nothing was written)")
  directory = os.path.dirname(destination) or "."
  tf.io.gfile.makedirs(directory)
  with tf.device("/cpu:0"):
    tf.raw_ops.SaveV2(prefix=destination, tensor_names=list(new_names.values()),
                      shape_and_slices=[""] * len(new_names),
                      tensors=[tf.constant(reader.get_tensor(o)) for o in new_names])
  if not tf.io.gfile.exists(os.path.join(directory, "checkpoint")):
    tf.compat.v1.train.update_checkpoint_state(directory, destination)
  return changes
