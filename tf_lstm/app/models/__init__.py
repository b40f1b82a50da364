"""Models: cells + unroll + head."""

from tf_lstm.app.models.classifier import SequenceClassifier
from tf_lstm.app.models.factory import CELLS, cell_options, make_cell
