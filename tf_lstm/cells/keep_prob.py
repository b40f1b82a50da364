"""Keep probabilities for dropout: fixed, fed, or a variable switched at evaluation."""

import numbers

import numpy as np
import tensorflow as tf


class KeepProb:
  """A keep probability: a float, or a tensor / placeholder / ``tf.Variable`` read at each call.

  A value known now is checked to be in ``[0, 1]``. A cell holding one lists
  ``KEEP_VARIABLES`` in its ``_TF_MODULE_IGNORED_PROPERTIES`` and keeps the
  variables there (``keep_variables``): tracked, so a SavedModel may capture
  them, but not among the cell's variables, so an optimizer never trains them.
  """

  def __init__(self, label, value):
    if not isinstance(value, (tf.Variable, numbers.Real)):
      tensor = tf.convert_to_tensor(value)
      static = tf.get_static_value(tensor)
      value = tensor if static is None else static   # None: a placeholder, an argument
    if isinstance(value, (numbers.Real, np.ndarray, np.generic)):
      value = float(value)
      if not 0.0 <= value <= 1.0:
        raise ValueError(f"{label} must be in [0, 1], got {value}")
    self.value = value

  @property
  def applies(self):
    """False only for a fixed 1.0: no dropout op at all."""
    return not isinstance(self.value, float) or self.value < 1.0

  @staticmethod
  def keep_variables(*keep_probs):
    return [k.value for k in keep_probs if isinstance(k.value, tf.Variable)]


KEEP_VARIABLES = "_keep_variables"
