"""Runs legacy/_run_with_parity.py on a program, with tests/test_tf1_programs.py's hooks.

    python tests/legacy_port_run.py [--tf_lstm] [--restore=CKPT [--stop_after_restore]]
        -- RUNNER_FLAGS PROGRAM.py PROGRAM_FLAGS
    python tests/legacy_port_run.py --direct [...] -- PROGRAM.py PROGRAM_FLAGS

--direct: run the program itself (one that writes its own parity record),
not through legacy/_run_with_parity.py.

--tf_lstm: the program is a copy whose rnn import reads ``import tf_lstm as
rnn``; tf-keras is made unimportable (``sys.modules["tf_keras"] = None``),
TF_USE_LEGACY_KERAS is unset and legacy/_compat.py skips its tf-keras check
(LEGACY_RNN=tf_lstm).  --restore: right after the program initialises its
variables (the run of an op that runs every variable's initializer), a
``tf.compat.v1.train.Saver`` over all its global variables restores CKPT (it
fails unless every variable is in CKPT with its shape), and again after each
later run, before training, that assigns variables; --stop_after_restore
then ends the process (exit 0) having printed "restored".
"""

import argparse
import os
import runpy
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
LEGACY = os.path.join(ROOT, "legacy")


def parse_args(argv):
  parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
  parser.add_argument("--tf_lstm", action="store_true")
  parser.add_argument("--direct", action="store_true")
  parser.add_argument("--restore", default=None)
  parser.add_argument("--stop_after_restore", action="store_true")
  parser.add_argument("runner_args", nargs=argparse.REMAINDER)
  flags = parser.parse_args(argv)
  if flags.runner_args[:1] == ["--"]:
    flags.runner_args = flags.runner_args[1:]
  return flags


def _grouped(op):
  """The ops a ``tf.group`` op runs (its control inputs, through nested groups:
  ``tf.group`` makes one NoOp per device)."""
  seen, todo = set(), [op]
  while todo:
    for dep in todo.pop().control_inputs:
      if dep not in seen:
        seen.add(dep)
        if dep.type == "NoOp":
          todo.append(dep)
  return seen


def _assigns(tf, fetches):
  """Whether ``fetches`` (nested) run a variable assignment (``tf.assign``'s op)."""
  return any(getattr(f, "op", f).type in ("Assign", "AssignVariableOp")
             for f in tf.nest.flatten(fetches)
             if isinstance(f, (tf.Operation, tf.Tensor)))


def install_restore_hook(tf, checkpoint, stop):
  """Wraps BaseSession.run: the first run that initialises every variable restores.

  A program that sets variables itself after initialising them (mnist_binary_lstm's
  shadow kernels: ``sess.run([tf.assign(...)])``) gets CKPT restored again after
  each such run, until its first run with a feed (training starts).
  """
  base = tf.Session.__mro__[1]
  real_run = base.run
  state = {"restored": False, "fed": False, "restoring": False}

  def restore(sess):
    variables = sess.graph.get_collection(tf.GraphKeys.GLOBAL_VARIABLES)
    state["restoring"] = True   # the Saver's own run (fed a file name) is not the program's
    try:
      with sess.graph.as_default():
        tf.train.Saver(variables).restore(sess, checkpoint)
    finally:
      state["restoring"] = False
    print("restored %d variables from %s" % (len(variables), checkpoint))

  def run(sess, fetches, *args, **kwargs):
    out = real_run(sess, fetches, *args, **kwargs)
    if state["restoring"]:
      return out
    state["fed"] = state["fed"] or bool(args[:1] and args[0]) or bool(kwargs.get("feed_dict"))
    if not state["restored"] and isinstance(fetches, tf.Operation):
      variables = sess.graph.get_collection(tf.GraphKeys.GLOBAL_VARIABLES)
      if variables and {v.initializer for v in variables} <= _grouped(fetches):
        state["restored"] = True
        restore(sess)
        if stop:
          sys.stdout.flush()
          os._exit(0)   # pylint: disable=protected-access  (skip the program's rest)
    elif state["restored"] and not state["fed"] and _assigns(tf, fetches):
      restore(sess)
    return out

  base.run = run


def main():
  flags = parse_args(sys.argv[1:])
  if flags.tf_lstm:
    sys.modules["tf_keras"] = None
    os.environ.pop("TF_USE_LEGACY_KERAS", None)
    os.environ["LEGACY_RNN"] = "tf_lstm"
  sys.path[:0] = [LEGACY, ROOT]
  if flags.restore:
    import _compat  # noqa: F401  pylint: disable=g-import-not-at-top  (before tensorflow)
    import tensorflow.compat.v1 as tf  # pylint: disable=g-import-not-at-top
    install_restore_hook(tf, flags.restore, flags.stop_after_restore)
  if flags.direct:
    sys.argv = flags.runner_args
  else:
    sys.argv = [os.path.join(LEGACY, "_run_with_parity.py")] + flags.runner_args
  runpy.run_path(sys.argv[0], run_name="__main__")


if __name__ == "__main__":
  main()
