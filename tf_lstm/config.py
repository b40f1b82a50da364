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


@dataclasses.dataclass(frozen=True)
class TrainConfig:
  model: ModelConfig = ModelConfig()
  optimizer: str = "adam"
  learning_rate: float = 1e-3
  lr_schedule: str = "constant"
  batch_size: int = 128
  train_steps: int = 1000
  eval_every: int = 0            # 0: evaluate at the end only
  checkpoint_every: int = 200
  log_every: int = 50
  clip_norm: float = 0.0         # 0: no gradient clipping
  augment_shift: int = 0         # max random translation in pixels (images)
  seed: int = 0
  data_dir: str = ""
  model_dir: str = ""
  export_dir: str = ""

  def to_dict(self):
    return dataclasses.asdict(self)

  @classmethod
  def from_dict(cls, d):
    d = dict(d)
    d["model"] = ModelConfig(**d["model"])
    return cls(**d)
