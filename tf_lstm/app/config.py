"""Plain configuration records: what ``bin/train`` flags become.

``ModelConfig`` fixes the variables (a checkpoint only resumes under the same
one); ``TrainConfig`` adds how to train.  Both are JSON-serialisable and are
written to ``<model_dir>/config.json``.
"""

import dataclasses


@dataclasses.dataclass(frozen=True)
class ModelConfig:
  task: str = "mnist"
  cell: str = "lstm"
  num_layers: int = 1
  num_units: int = 128
  forget_bias: float = 1.0
  input_projection: int = 0
  pooling: str = "last"
  # Text tasks (imdb, conll_*): ids 0/1 are padding/unknown, words take 2...
  vocab_size: int = 20000
  embedding_dim: int = 128
  max_length: int = 256          # tokens kept per text (imdb: the last ones)
  bidirectional: bool = False
  char_features: int = 0         # conll: char-CNN filters per word (0: none)
  dropout: float = 0.0           # imdb, ptb: fraction dropped in training (0: off)
  init_scale: float = 0.0        # ptb: every weight starts U(-s, s) (0: default inits)
  tie_embeddings: bool = False   # ptb: softmax weights = embedding^T
  # Cell options (tf_lstm.app.models.factory.OPTIONS); the defaults mean "off".
  use_peepholes: bool = False    # lstm_full
  cell_clip: float = 0.0         # lstm_full, 0: no clip
  num_proj: int = 0              # lstm_full, 0: no projection
  proj_clip: float = 0.0         # lstm_full, 0: no clip
  binary_scale: str = "glorot"   # binary_lstm: magnitude of the binary kernel


@dataclasses.dataclass(frozen=True)
class TrainConfig:
  model: ModelConfig = ModelConfig()
  optimizer: str = "adam"
  learning_rate: float = 1e-3
  lr_schedule: str = "constant"
  batch_size: int = 128
  train_steps: int = 0           # 0: derived from epochs
  epochs: float = 1.0
  eval_every: int = 0            # 0: evaluate at the end only
  checkpoint_every: int = 200
  log_every: int = 50
  clip_norm: float = 0.0         # 0: no gradient clipping
  dtype: str = "float32"         # the training step's compute dtype (tf_lstm.app.precision)
  lr_decay: float = 1.0          # lr_schedule=epoch_decay: factor per epoch ...
  lr_decay_epoch: int = 0        # ... after this many epochs at the full rate
  num_steps: int = 20            # ptb: truncated-BPTT window (tokens per row per step)
  train_file: str = ""           # ptb: file names within data_dir ("": ptb.train.txt, ...)
  eval_file: str = ""
  valid_file: str = ""
  augment_shift: int = 0         # max random translation in pixels (images)
  seed: int = 0
  data_dir: str = ""
  model_dir: str = ""
  export_dir: str = ""
  export_tflite: bool = False    # also write <version>/model.tflite (image tasks)

  def to_dict(self):
    return dataclasses.asdict(self)

  @classmethod
  def from_dict(cls, d):
    d = dict(d)
    d["model"] = ModelConfig(**d["model"])
    return cls(**d)
