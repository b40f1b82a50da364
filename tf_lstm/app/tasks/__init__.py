"""Tasks by name: ``get("mnist")``; each task class declares its options and defaults."""

from tf_lstm.app.tasks import conll
from tf_lstm.app.tasks import images
from tf_lstm.app.tasks import imdb
from tf_lstm.app.tasks import ptb
from tf_lstm.app.tasks.base import Task

TASKS = {cls.name: cls for cls in (images.MnistTask, images.FashionMnistTask, imdb.ImdbTask,
                                   ptb.PtbTask, conll.ConllPosTask, conll.ConllNerTask)}


def task_class(name):
  """The ``Task`` subclass called ``name`` (nothing built)."""
  if name not in TASKS:
    raise ValueError(f"unknown task {name!r}; expected one of {sorted(TASKS)}")
  return TASKS[name]


def defaults(name, preset=None):
  """Task ``name``'s best measured setting values (ptb: its ``preset`` configuration)."""
  cls = task_class(name)
  if preset is None:
    return dict(cls.defaults)
  if name != "ptb":
    raise ValueError(f"a preset configuration ({preset!r}) applies to task ptb only")
  if preset not in ptb.CONFIGS:
    raise ValueError(f"unknown ptb config {preset!r}; expected one of {sorted(ptb.CONFIGS)}")
  return dict(ptb.CONFIGS[preset])


def get(name):
  return task_class(name)()
