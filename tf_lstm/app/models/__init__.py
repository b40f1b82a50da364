"""Models: cells + unroll + head."""

from tf_lstm.app.models.classifier import SequenceClassifier
from tf_lstm.app.models.factory import cell_from_config, cell_names, cell_options, make_cell
