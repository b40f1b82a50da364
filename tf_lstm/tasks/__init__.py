"""Task registry: ``get("mnist")``."""

from tf_lstm.tasks import images

TASKS = {
    "mnist": lambda: images.ImageTask("mnist"),
    "fashion_mnist": lambda: images.ImageTask("fashion_mnist"),
}


def get(name):
  if name not in TASKS:
    raise ValueError(f"unknown task {name!r}; expected one of {sorted(TASKS)}")
  return TASKS[name]()
