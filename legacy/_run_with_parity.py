"""Runs a legacy/ MNIST program unchanged, with seeds and the parity harness.

Not part of any original program.  The harness is attached from outside so
that the programs stay as written (seed 003's has no flags, no seed, no
checkpoint): this runner seeds the graph, then executes the program file with
two hooks on TensorFlow's own classes (restored when the program ends):

  tf.train.Optimizer.minimize   remembers the optimizer and the loss;
  Session.run                   recognises the program's training run (an
      Operation fetched with a feed, depending on that minimize op: the
      minimize op itself or a train op built on it) and, at the first one,
      takes the graph's handles from it: x and y from the feed (y is the
      one-hot feed of 10 columns), the loss from minimize, the logits from the
      loss's softmax cross-entropy op.  The program's own code, data order and
      hyper-parameters do the rest.

  python legacy/_run_with_parity.py [runner flags] legacy/PROGRAM.py [its flags]

Runner flags (before the program's path): --seed (tf.set_random_seed on the
program's graph and np.random.seed, default 0); --dump_dir=DIR writes a parity
record (legacy/_parity.py) just before the program's first update, then stops
the program unless --train_steps is given (training then starts from the
recorded starting weights); --train_steps=N stops the program after its N-th
update; --checkpoint_dir / --test_logits_out save a checkpoint / the logits on
all test digits when training ends (at the N-th update, or when the program
closes its session).  The data directory is the program's own --data_dir.
"""

from __future__ import absolute_import, division, print_function

import argparse
import os
import runpy
import sys

import _compat  # noqa: F401  before tensorflow: TF_USE_LEGACY_KERAS, shims
import _parity
import numpy as np
import tensorflow.compat.v1 as tf
from tensorflow.examples.tutorials.mnist import input_data

_Session = tf.Session.__mro__[1]  # BaseSession: run and close live there


class StopProgram(BaseException):
  """Ends the program early (not an Exception: the program cannot catch it)."""


def parse_args(argv):
  parser = argparse.ArgumentParser(
      description=__doc__.split("\n")[0],
      usage="%(prog)s [runner flags] PROGRAM.py [program flags]")
  parser.add_argument("--seed", type=int, default=0)
  parser.add_argument("--dump_dir", default=None)
  parser.add_argument("--parity_steps", type=int, default=100,
                      help="recorded training steps in the parity record")
  parser.add_argument("--parity_batch_size", type=int, default=32,
                      help="batch size of x0 and train_x in the record")
  parser.add_argument("--bias_noise", type=float, default=0.1,
                      help="half-width of the uniform noise added to the "
                      "constant-initialised variables in the record")
  parser.add_argument("--train_steps", type=int, default=None)
  parser.add_argument("--checkpoint_dir", default=None)
  parser.add_argument("--test_logits_out", default=None)
  parser.add_argument("program", help="path of the legacy program")
  parser.add_argument("program_args", nargs=argparse.REMAINDER)
  flags = parser.parse_args(argv)
  if not os.path.isfile(flags.program):
    parser.error("program %r not found" % flags.program)
  if flags.train_steps is not None and flags.train_steps < 1:
    parser.error("--train_steps must be >= 1, got %d" % flags.train_steps)
  if flags.parity_steps < 1 or flags.parity_batch_size < 1:
    parser.error("--parity_steps and --parity_batch_size must be >= 1")
  return flags


def _depends_on(op, target, _cache={}):  # pylint: disable=dangerous-default-value
  """Whether op is target or reaches it through inputs / control inputs."""
  if (op, target) not in _cache:
    _cache[op, target] = _search(op, target)
  return _cache[op, target]


def _search(op, target):
  seen, todo = set(), [op]
  while todo:
    o = todo.pop()
    if o is target:
      return True
    if o in seen:
      continue
    seen.add(o)
    todo.extend(t.op for t in o.inputs)
    todo.extend(o.control_inputs)
  return False


def _ops(fetches):
  if isinstance(fetches, tf.Operation):
    return [fetches]
  if isinstance(fetches, (list, tuple)):
    return [o for f in fetches for o in _ops(f)]
  if isinstance(fetches, dict):
    return [o for f in fetches.values() for o in _ops(f)]
  return []


def _logits_of(loss):
  """The logits input of the softmax cross-entropy op that the loss reads."""
  for op in _ancestors(loss.op):
    if op.type in ("SoftmaxCrossEntropyWithLogits",
                   "SparseSoftmaxCrossEntropyWithLogits"):
      logits = op.inputs[0]
      while logits.op.type in ("Reshape", "Identity"):
        logits = logits.op.inputs[0]
      return logits
  raise RuntimeError("the loss %s reads no softmax cross-entropy op" % loss)


def _ancestors(op):
  """op and the ops it reads, nearest first."""
  order, seen = [op], {op}
  for o in order:
    for t in o.inputs:
      if t.op not in seen:
        seen.add(t.op)
        order.append(t.op)
  return order


class Harness(object):
  """State of the hooks: see the module docstring."""

  def __init__(self, flags, run, close):
    self.flags, self._run, self._close = flags, run, close
    self.minimized = []   # (optimizer, loss, minimize op)
    self.session = None   # the session that trains
    self.model = None
    self.updates = 0
    self.finished = False
    self._mnist = None

  def run(self, sess, fetches, feed_dict=None, options=None,
          run_metadata=None):
    """Session.run with the hooks."""
    minimize = self._minimize_of(fetches) if feed_dict else None
    if minimize is None:
      return self._run(sess, fetches, feed_dict, options, run_metadata)
    if self.session is None:
      self._start(sess, fetches, feed_dict, minimize)
    out = self._run(sess, fetches, feed_dict, options, run_metadata)
    self.updates += 1
    if self.updates == self.flags.train_steps:
      self.finish(sess)
      raise StopProgram("stopped after %d updates (--train_steps)"
                        % self.updates)
    return out

  def close(self, sess):
    """Session.close with the hooks: training ends with the session."""
    if sess is self.session and not self.finished:
      self.finish(sess)
    return self._close(sess)

  def _minimize_of(self, fetches):
    for op in _ops(fetches):
      for entry in self.minimized:
        if _depends_on(op, entry[2]):
          return entry + (op,)
    return None

  def _raw_run(self, sess, fetches, feed_dict=None):
    return self._run(sess, fetches, feed_dict, None, None)

  def mnist(self):
    if self._mnist is None:  # a fresh copy: the program's has been shuffled
      parser = argparse.ArgumentParser(add_help=False)
      parser.add_argument("--data_dir", default=None)
      data_dir = parser.parse_known_args(self.flags.program_args)[0].data_dir
      self._mnist = input_data.read_data_sets(
          data_dir or _compat.data_dir_flag(argv=[]), one_hot=True)
    return self._mnist

  def _start(self, sess, fetches, feed_dict, minimize):
    optimizer, loss, _, train_op = minimize
    keys = list(feed_dict)
    labels = [k for k in keys if k.shape.as_list()[1:] == [10]]
    if len(keys) != 2 or len(labels) != 1:
      raise RuntimeError("the training run feeds %s; the harness expects an "
                         "image tensor and a [None, 10] one-hot label tensor"
                         % [str(k) for k in keys])
    x = [k for k in keys if k is not labels[0]][0]
    self.session = sess
    self.model = _parity.Model(x, labels[0], _logits_of(loss), loss, train_op)
    if self.flags.dump_dir:
      name, lr = _parity.optimizer_description(optimizer)
      _parity.dump(
          self._raw_run, sess, self.flags.dump_dir, self.model, self.mnist(),
          meta=dict(script=os.path.basename(self.flags.program),
                    optimizer=name, learning_rate=lr),
          seed=self.flags.seed, steps=self.flags.parity_steps,
          batch_size=self.flags.parity_batch_size,
          bias_noise=self.flags.bias_noise)
      if self.flags.train_steps is None:
        self.finished = True
        raise StopProgram("parity record written")

  def finish(self, sess):
    self.finished = True
    if self.flags.checkpoint_dir:
      _parity.save_checkpoint(sess, self.flags.checkpoint_dir)
    if self.flags.test_logits_out:
      _parity.save_test_logits(self._raw_run, sess, self.model, self.mnist(),
                               self.flags.test_logits_out)


def main(argv=None):
  flags = parse_args(sys.argv[1:] if argv is None else argv)
  tf.disable_v2_behavior()
  tf.set_random_seed(flags.seed)  # the program builds in this default graph
  np.random.seed(flags.seed)      # input_data's DataSet shuffles with it

  original = (_Session.run, _Session.close, tf.train.Optimizer.minimize)
  harness = Harness(flags, original[0], original[1])

  def minimize(self, loss, *args, **kwargs):
    op = original[2](self, loss, *args, **kwargs)
    harness.minimized.append((self, loss, op))
    return op

  _Session.run = lambda sess, *args, **kwargs: harness.run(sess, *args,
                                                           **kwargs)
  _Session.close = lambda sess: harness.close(sess)  # pylint: disable=unnecessary-lambda
  tf.train.Optimizer.minimize = minimize
  sys.argv = [flags.program] + flags.program_args
  sys.path.insert(0, os.path.dirname(os.path.abspath(flags.program)))
  try:
    runpy.run_path(flags.program, run_name="__main__")
  except StopProgram as stop:
    print("%s: %s" % (os.path.basename(flags.program), stop))
  finally:
    _Session.run, _Session.close, tf.train.Optimizer.minimize = original
  if harness.session is None and (flags.dump_dir or flags.checkpoint_dir or
                                  flags.test_logits_out):
    sys.exit("error: %s never ran a training step (an Operation built on "
             "tf.train.Optimizer.minimize, fetched with a feed_dict); "
             "nothing recorded" % flags.program)
  return 0


if __name__ == "__main__":
  sys.exit(main())
