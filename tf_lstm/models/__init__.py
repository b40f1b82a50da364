"""Models: cells + unroll + head."""

from tf_lstm.models.classifier import SequenceClassifier
from tf_lstm.models.factory import CELLS, cell_options, make_cell
