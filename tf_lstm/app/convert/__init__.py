"""Converts a tf_lstm model (or an imported TF1 checkpoint) to Keras 3 or PyTorch.

``network`` reads a restored model into framework-neutral arrays (Keras's and
PyTorch's gate orders, ``forget_bias`` folded in) and refuses what has no
exact counterpart; ``to_keras`` and ``to_torch`` build the target model from
them; ``converter`` runs the whole conversion of a model directory and writes
the files.  Keras and PyTorch are optional (``pip install tf_lstm[convert]``)
and imported only inside the functions that need them.
"""


class ConvertError(ValueError):
  """The model cannot be converted (the message says why); nothing was written."""
