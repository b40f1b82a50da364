"""The run's configuration records, derived from the settings' declarations.

``ModelConfig`` fixes the variables (a checkpoint only resumes under the same
one): the common model settings (``settings.MODEL``), every registered cell's
options and every task's model options.  ``TrainConfig`` adds how to train
(``settings.TRAIN``, the tasks' train options) and where (``settings.RUN``).
Field names, types and defaults come from those declarations; nothing is
restated here.

A run's ``config.json`` (``to_dict``) holds only the settings that apply to it
(its cell's options, its task's options); ``from_dict`` also reads the older
files that held every field, and refuses one that lacks a common setting.

On resume (``tf_lstm.app.training.checkpoints``) the settings of
``settings.TRAIN_PER_SEGMENT`` and ``settings.RUN`` may change
(``segment_setting_names``); every other one must match (``fixed_setting_names``).
Float settings must be finite.
"""

import dataclasses
import math

from tf_lstm.app import settings
from tf_lstm.app import tasks
from tf_lstm.cells import registry

# Old config.json field names -> current ones.
_RENAMED = {"export_tflite": "tflite"}


def _merge(*groups):
  """Options by name; a name declared by two owners must agree on default and type."""
  out = {}
  for group in groups:
    for o in group:
      if o.name in out and (out[o.name].default, out[o.name].type) != (o.default, o.type):
        raise ValueError(f"setting {o.name!r} is declared twice with different defaults")
      out.setdefault(o.name, o)
  return out


def _task_options(kind):
  return [o for cls in tasks.TASKS.values() for o in getattr(cls, kind)]


MODEL_SETTINGS = _merge(settings.MODEL, [o for o, _ in registry.all_options().values()],
                        _task_options("model_options"))
TRAIN_SETTINGS = _merge(settings.TRAIN, _task_options("train_options"), settings.RUN)


def all_settings():
  """Every setting of a run, by name (model, then training)."""
  return {**MODEL_SETTINGS, **TRAIN_SETTINGS}


def model_setting_names(task, cell):
  """The model settings that apply to ``task`` with ``cell``."""
  names = [o.name for o in settings.MODEL]
  names += [o.name for o in registry.get(cell).options if o.name in MODEL_SETTINGS]
  names += [o.name for o in tasks.task_class(task).model_options]
  return list(dict.fromkeys(names))


def train_setting_names(task):
  """The training settings that apply to ``task``."""
  names = [o.name for o in settings.TRAIN] + [o.name for o in tasks.task_class(task).train_options]
  return list(dict.fromkeys(names + [o.name for o in settings.RUN]))


# May change when a run resumes (recorded per segment); every other setting is fixed.
_PER_SEGMENT = frozenset(o.name for o in settings.TRAIN_PER_SEGMENT + settings.RUN)
# Every config.json has held these since the first; cells' and tasks' options added
# later take their declared default when an older file lacks them.
REQUIRED = tuple(o.name for o in settings.MODEL + settings.TRAIN)


def fixed_setting_names(task):
  """The training settings (the model's aside) a resumed run of ``task`` must keep."""
  return [n for n in train_setting_names(task) if n not in _PER_SEGMENT]


def segment_setting_names(task):
  """The settings that may change when a run of ``task`` resumes (recorded per segment)."""
  return [n for n in train_setting_names(task) if n in _PER_SEGMENT]


def setting_owners(name):
  """Who declares setting ``name``: ``("all", ())``, ``("cell", cells)`` or ``("task", tasks)``."""
  if name in settings.by_name(settings.MODEL + settings.TRAIN + settings.RUN):
    return "all", ()
  cells = tuple(s.name for s in registry.specs() if s.option(name) is not None)
  if cells:
    return "cell", cells
  return "task", tuple(n for n, cls in tasks.TASKS.items()
                       if name in {o.name for o in cls.options()})


def _fields(options):
  return [(o.name, o.type, dataclasses.field(default=o.default)) for o in options.values()]


def _check(record, options, applies, owner_of):
  """``ValueError`` for a bad value, or an inapplicable setting off its default."""
  for name, option in options.items():
    value = getattr(record, name)
    if name in applies:
      problem = option.problem(value) or finite_problem(option, value)
      if problem:
        raise ValueError(problem)
    elif value != option.default:
      kind, owners = setting_owners(name)
      raise ValueError(f"{name}={value!r} applies to {kind} {'/'.join(owners)} only, "
                       f"not to this run ({owner_of})")


def finite_problem(option, value):
  """Why a float setting's ``value`` is not accepted (nan, +-inf), or None."""
  if (option.type is float and isinstance(value, (int, float)) and not isinstance(value, bool)
      and not math.isfinite(value)):
    return f"{option.name} must be a finite number, got {value!r}"
  return None


def _model_check(self):
  if self.task not in tasks.TASKS:
    raise ValueError(f"unknown task {self.task!r}; expected one of {sorted(tasks.TASKS)}")
  registry.get(self.cell)
  _check(self, MODEL_SETTINGS, model_setting_names(self.task, self.cell),
         f"task {self.task}, cell {self.cell}")
  return self


def _model_to_dict(self):
  return {k: getattr(self, k) for k in model_setting_names(self.task, self.cell)}


ModelConfig = dataclasses.make_dataclass(
    "ModelConfig", _fields(MODEL_SETTINGS), frozen=True,
    namespace={"check": _model_check, "to_dict": _model_to_dict,
               "__doc__": "The model's settings (see the module docstring)."})


def _train_check(self):
  """The record itself if every setting is valid and applies; else ``ValueError``."""
  self.model.check()
  _check(self, {k: v for k, v in TRAIN_SETTINGS.items()},
         train_setting_names(self.model.task), f"task {self.model.task}")
  return self


def _train_to_dict(self):
  """The settings that apply to this run (what ``config.json`` holds)."""
  return {"model": self.model.to_dict(),
          **{k: getattr(self, k) for k in train_setting_names(self.model.task)}}


def _train_from_dict(cls, d):
  """A ``TrainConfig`` from ``to_dict``'s output or an older, every-field config.json.

  Keys that are not settings (``segments``: the run's record) are left out.
  ``ValueError`` naming the common settings (``REQUIRED``) the dict lacks.
  """
  if not isinstance(d, dict) or not isinstance(d.get("model"), dict):
    raise ValueError("expected an object with a \"model\" object")
  d = {_RENAMED.get(k, k): v for k, v in d.items() if k != "segments"}
  missing = [n for n in REQUIRED if n not in (d["model"] if n in MODEL_SETTINGS else d)]
  if missing:
    raise ValueError(f"it lacks {', '.join(missing)}")
  d["model"] = ModelConfig(**d["model"])
  return cls(**d)


def _train_replace(self, **changes):
  return dataclasses.replace(self, **changes)


TrainConfig = dataclasses.make_dataclass(
    "TrainConfig",
    [("model", ModelConfig, dataclasses.field(default=ModelConfig()))]
    + _fields(TRAIN_SETTINGS),
    frozen=True,
    namespace={"check": _train_check, "to_dict": _train_to_dict,
               "from_dict": classmethod(_train_from_dict), "replace": _train_replace,
               "__doc__": "A training run's settings (see the module docstring)."})

# Pickling and repr name the records by this module.
ModelConfig.__module__ = TrainConfig.__module__ = __name__
