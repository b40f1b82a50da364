"""Loads checkpoints written by TF1 programs (``tf.compat.v1.train.Saver``) into tf_lstm models.

Every variable of a tf_lstm model (image and text classifiers, uni- or
bidirectional, the language model, the taggers) has a *port name* and
default TF1 names (``ports``); checkpoint names of TF 0.12 to 1.15 and of
the TF1 cells with another cell's layout are read in today's spelling
(``names``); ``matching`` pairs them, by name, by unique shape or by
``var_map`` ({port name: TF1 name}).  Nothing is assigned unless every port
variable is found once, with its shape and dtype.  The port keeps TF1's
variable layouts, so values are copied as they are.

Example::

    task, model, _ = builder.build(config)
    tf1_import.load(model, "/old/run/model.ckpt")

For a hook that needs the mapping only (optimizer slots, inspection):
``name_mapping(tf.train.load_checkpoint(prefix), model)``.
"""

import tensorflow as tf

from tf_lstm.app.tf1_import.matching import match, report
from tf_lstm.app.tf1_import.names import canonical, is_optimizer_slot, training_state
from tf_lstm.app.tf1_import.ports import (PortVariable, TF1ImportError, cell_variables,
                                          port_variables)


def resolve_checkpoint(path):
  """The checkpoint prefix for ``path``: a prefix, its ``.index`` file, or a dir."""
  if not path:
    raise TF1ImportError("no checkpoint path given")
  for suffix in (".index", ".meta"):
    if path.endswith(suffix) and tf.io.gfile.exists(path[:-len(suffix)] + ".index"):
      return path[:-len(suffix)]
  if tf.io.gfile.isdir(path):
    latest = tf.train.latest_checkpoint(path)
    if latest:
      return latest
    raise TF1ImportError(f"no checkpoint in directory {path}: expected a 'checkpoint' "
                         "file as tf.compat.v1.train.Saver writes it; or pass the "
                         "checkpoint prefix (e.g. DIR/model.ckpt)")
  if tf.io.gfile.exists(path + ".index"):
    return path
  raise TF1ImportError(f"no TF1 checkpoint at {path}: expected a checkpoint prefix "
                       f"({path}.index must exist) or a directory holding one")


def open_checkpoint(path):
  """``(prefix, reader)`` of the checkpoint at ``path`` (see ``resolve_checkpoint``)."""
  prefix = resolve_checkpoint(path)
  try:
    return prefix, tf.train.load_checkpoint(prefix)
  except (tf.errors.OpError, ValueError) as e:
    raise TF1ImportError(f"cannot read checkpoint {prefix}: {e}") from e


def read_shapes(prefix):
  """``{name: shape}`` of every variable in the checkpoint ``prefix``."""
  reader = open_checkpoint(prefix)[1]
  return {n: list(s) for n, s in reader.get_variable_to_shape_map().items()}


def name_mapping(reader, model, var_map=None, scope=None, allow_unused=False, prefix=""):
  """``{port name: TF1 name}`` of ``model``'s variables in a checkpoint ``reader``
  (``tf.train.load_checkpoint``): every variable found once, with its shape and
  dtype; else ``TF1ImportError`` listing what the model expects and what the
  checkpoint holds."""
  shapes = {n: list(s) for n, s in reader.get_variable_to_shape_map().items()}
  port_vars = port_variables(model)
  mapping = match(shapes, port_vars, var_map, scope, allow_unused, prefix)
  dtypes = reader.get_variable_to_dtype_map()
  bad = [f"wrong dtype: {mapping[pv.name]} is {dtypes[mapping[pv.name]].name}, "
         f"{pv.name} is {pv.variable.dtype.name}"
         for pv in port_vars if dtypes[mapping[pv.name]] != pv.variable.dtype]
  if bad:
    raise TF1ImportError(report(prefix, bad, port_vars, shapes))
  return mapping


def plan(model, checkpoint, var_map=None, scope=None, allow_unused=False):
  """Validates without side effects; returns ``(prefix, {port name: TF1 name})``."""
  prefix, reader = open_checkpoint(checkpoint)
  return prefix, name_mapping(reader, model, var_map, scope, allow_unused, prefix)


def load(model, checkpoint, var_map=None, scope=None, allow_unused=False):
  """Assigns the TF1 checkpoint's values to ``model``; returns ``{port: TF1 name}``.

  Everything is validated and read before the first assignment.
  """
  prefix, mapping = plan(model, checkpoint, var_map, scope, allow_unused)
  reader = tf.train.load_checkpoint(prefix)
  values = {port: reader.get_tensor(tf1) for port, tf1 in mapping.items()}
  for pv in port_variables(model):
    pv.variable.assign(values[pv.name])
  return mapping


def parse_var_map(text):
  """``"output/kernel=softmax/w,output/bias=softmax/b"`` -> dict."""
  out = {}
  for item in filter(None, (s.strip() for s in (text or "").split(","))):
    port, sep, tf1 = item.partition("=")
    if not sep or not port.strip() or not tf1.strip():
      raise TF1ImportError(f"bad var_map entry {item!r}: expected port_name=tf1_name")
    if port.strip() in out:
      raise TF1ImportError(f"var_map names {port.strip()!r} twice")
    out[port.strip()] = tf1.strip()
  return out
