"""Settings that several tasks take, declared once; each task lists the ones it uses
(``Task.model_options``, ``Task.train_options``)."""

from tf_lstm.app import precision
from tf_lstm.cells.registry import Option

VOCAB_SIZE = Option("vocab_size", 20000, "Text tasks: keep the N most frequent training "
                    "words.", lower=1)
EMBEDDING_DIM = Option("embedding_dim", 128, "Text tasks: word embedding size.", lower=1)
DROPOUT = Option("dropout", 0.0, "Fraction of embeddings/outputs dropped in training "
                 "(0: off).", lower=0.0, upper=0.95)
DTYPE = Option("dtype", "float32", "Compute dtype of the training step's forward pass. "
               "bfloat16: float32 variables, checkpoints, evaluation and export; pays off on "
               "CPUs with native bfloat16 (AVX512_BF16/AMX).", choices=precision.COMPUTE_DTYPES)
