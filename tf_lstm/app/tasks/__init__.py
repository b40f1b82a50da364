"""Task registry: ``get("mnist")``."""

from tf_lstm.app.tasks import conll
from tf_lstm.app.tasks import images
from tf_lstm.app.tasks import imdb
from tf_lstm.app.tasks import ptb

TASKS = {
    "mnist": lambda: images.ImageTask("mnist"),
    "fashion_mnist": lambda: images.ImageTask("fashion_mnist"),
    "imdb": imdb.ImdbTask,
    "ptb": ptb.PtbTask,
    "conll_pos": lambda: conll.ConllTask("pos"),
    "conll_ner": lambda: conll.ConllTask("ner"),
}


def flag_defaults(name, preset=None):
  """``bin/train`` flag values that suit task ``name`` (ptb: its ``preset`` config)."""
  if name == "ptb":
    preset = preset or ptb.DEFAULT_CONFIG
    if preset not in ptb.CONFIGS:
      raise ValueError(f"unknown ptb config {preset!r}; expected one of {sorted(ptb.CONFIGS)}")
    return dict(ptb.CONFIGS[preset])
  if preset:
    raise ValueError(f"--config={preset} applies to --task=ptb only")
  return dict(getattr(TASKS[name](), "flag_defaults", {}))


def get(name):
  if name not in TASKS:
    raise ValueError(f"unknown task {name!r}; expected one of {sorted(TASKS)}")
  return TASKS[name]()
