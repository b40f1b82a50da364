"""tensorflow_datasets, for the tasks' data when no data directory is given.

It is an optional dependency (``pip install 'tf_lstm[tfds]'``): every task reads
its data from files too, and the package loads quickly without it.
"""

from tf_lstm.app.data.idx import DataError


def tfds():
  """The ``tensorflow_datasets`` module; ``DataError`` saying what to do if it is missing."""
  try:
    import tensorflow_datasets  # pylint: disable=g-import-not-at-top
  except ImportError as e:
    raise DataError("no data directory was given and tensorflow_datasets is not installed: "
                    "give the task's data directory (data_dir), or install the online "
                    "loader with: pip install 'tf_lstm[tfds]'") from e
  return tensorflow_datasets
