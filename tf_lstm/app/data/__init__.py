"""Data sources and tf.data pipelines."""

from tf_lstm.app.data.idx import DataError
