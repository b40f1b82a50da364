"""Data sources and tf.data pipelines."""

from tf_lstm.data.idx import DataError
