"""Models: cells + unroll + head."""

from tf_lstm.models.classifier import SequenceClassifier
from tf_lstm.models.factory import CELLS, make_cell
