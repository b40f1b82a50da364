"""Task registry: ``get("mnist")``."""

from tf_lstm.tasks import conll
from tf_lstm.tasks import images
from tf_lstm.tasks import imdb

TASKS = {
    "mnist": lambda: images.ImageTask("mnist"),
    "fashion_mnist": lambda: images.ImageTask("fashion_mnist"),
    "imdb": imdb.ImdbTask,
    "conll_pos": lambda: conll.ConllTask("pos"),
    "conll_ner": lambda: conll.ConllTask("ner"),
}


def get(name):
  if name not in TASKS:
    raise ValueError(f"unknown task {name!r}; expected one of {sorted(TASKS)}")
  return TASKS[name]()
