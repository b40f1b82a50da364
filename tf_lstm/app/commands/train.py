"""tf-lstm-train (bin/train): trains a model; flags -> TrainConfig -> training.loop.train.

  tf-lstm-train --task=mnist --data_dir=../shared/data/mnist-5k --model_dir=/tmp/mnist

Every setting's flag comes from its declaration (``tf_lstm.app.settings``, the
cells' ``registry`` options, the tasks' options).  A setting not given takes
the task's default (its best measured configuration, ``Task.defaults``; ptb:
``--config``), else the declared one.
"""

import os
import sys

from absl import app
from absl import flags

from tf_lstm.app import commands
from tf_lstm.app import config as config_lib
from tf_lstm.app import distribute
from tf_lstm.app import tasks
from tf_lstm.app.commands import flagdefs
from tf_lstm.app.tasks import ptb
from tf_lstm.cells import registry

FLAGS = flags.FLAGS
RUN_DIRS = ("data_dir", "model_dir", "export_dir")


def _task_default_note(name):
  per_task = [f"{t} {cls.defaults[name]!r}" for t, cls in tasks.TASKS.items()
              if name in cls.defaults]
  return f" [task defaults: {', '.join(per_task)}]" if per_task else ""


def _owner_note(name):
  kind, owners = config_lib.setting_owners(name)
  return "" if kind == "all" else f" (--{kind}={'/'.join(owners)})"


def define_flags(flag_values=FLAGS):
  """Defines every bin/train flag on ``flag_values`` (with its validators)."""
  for option in config_lib.all_settings().values():
    choices = {"task": sorted(tasks.TASKS), "cell": registry.names()}.get(option.name)
    default = None if option.name in RUN_DIRS else option.default
    if option.name in RUN_DIRS:
      option = registry.Option(option.name, "", option.help, type=str)
    flagdefs.define(option, flag_values, default=default, choices=choices,
                    help_suffix=_owner_note(option.name) + _task_default_note(option.name))
  flags.DEFINE_enum("config", None, sorted(ptb.CONFIGS),
                    f"--task=ptb: the Zaremba et al. configuration whose values are the "
                    f"defaults (default: {ptb.DEFAULT_CONFIG}).", flag_values=flag_values)
  flags.DEFINE_enum("strategy", "default", list(distribute.STRATEGIES),
                    "tf.distribute strategy: default (one device), mirrored (all local GPUs, "
                    "or --num_cpu_devices), multi_worker (cluster from TF_CONFIG), tpu.",
                    flag_values=flag_values)
  flags.DEFINE_integer("num_cpu_devices", 0,
                       "--strategy=mirrored on a machine without GPUs: mirror over this many "
                       "logical CPU devices (for testing; 0: off).", lower_bound=0,
                       flag_values=flag_values)
  flags.DEFINE_string("tpu", "", "--strategy=tpu: TPU name or grpc:// address ('': local).",
                      flag_values=flag_values)
  flags.mark_flag_as_required("model_dir", flag_values=flag_values)
  _register_validators(flag_values)


def _register_validators(fv):
  for name in config_lib.all_settings():   # one validator each: its message names 3 flags
    if config_lib.setting_owners(name)[0] != "all":
      flags.register_multi_flags_validator(["task", "cell", name], _check_applies,
                                           flag_values=fv)
  cell_options = list(registry.all_options())
  flags.register_multi_flags_validator(["cell", *cell_options], _check_cell_options,
                                       flag_values=fv)
  flags.register_multi_flags_validator(["task", "config"], _check_config, flag_values=fv)
  flags.register_multi_flags_validator(["task", "tflite", "export_dir"], _check_tflite,
                                       flag_values=fv)
  flags.register_multi_flags_validator(
      ["force_export", "export_dir"], lambda f: not f["force_export"] or bool(f["export_dir"]),
      "--force_export needs --export_dir", flag_values=fv)
  flags.register_multi_flags_validator(["strategy", "num_cpu_devices", "tpu"],
                                       _check_strategy, flag_values=fv)
  flags.register_validator(
      "data_dir", lambda v: v is None or os.path.isdir(v) or os.path.isfile(v),
      "--data_dir must be an existing directory (or, for imdb, an aclImdb tarball)",
      flag_values=fv)
  flagdefs.register_dir_validators(fv, ["model_dir", "export_dir"])


def _check_applies(f):
  """A cell's or a task's option given a value for another cell or task."""
  settings_ = config_lib.all_settings()
  applies = set(config_lib.model_setting_names(f["task"], f["cell"]))
  applies |= set(config_lib.train_setting_names(f["task"]))
  for name, value in f.items():
    if name in ("task", "cell") or name in applies or value == settings_[name].default:
      continue
    kind, owners = config_lib.setting_owners(name)
    raise flags.ValidationError(f"--{name}={value} is for --{kind}={'/'.join(owners)} only, "
                                f"not --{kind}={f[kind]}")
  return True


def _check_cell_options(f):
  spec = registry.get(f["cell"])
  options = {o.name: f[o.name] for o in spec.options}
  try:
    spec.make(1, 1, **options)   # the cell's own checks; builds no variables
  except ValueError as e:
    raise flags.ValidationError(f"--cell={f['cell']}: {e}")
  return True


def _check_config(f):
  if f["config"] and f["task"] != "ptb":
    raise flags.ValidationError(f"--config={f['config']} applies to --task=ptb only")
  return True


def _check_tflite(f):
  if f["tflite"] and not (f["export_dir"] and tasks.task_class(f["task"]).tflite):
    raise flags.ValidationError(
        "--tflite: a TFLite export needs an export_dir and an image task "
        f"(--export_dir and --task={'/'.join(n for n, c in tasks.TASKS.items() if c.tflite)})")
  return True


def _check_strategy(f):
  if f["num_cpu_devices"] and f["strategy"] != "mirrored":
    raise flags.ValidationError("--num_cpu_devices is only for --strategy=mirrored")
  if f["tpu"] and f["strategy"] != "tpu":
    raise flags.ValidationError("--tpu is only for --strategy=tpu")
  if f["strategy"] == "multi_worker":
    try:
      distribute.parse_tf_config(os.environ.get("TF_CONFIG", ""))
    except distribute.DistributeError as e:
      raise flags.ValidationError(str(e))
  return True


def resolve(flag_values=FLAGS):
  """``{setting: value}``: the flags given, else the task's defaults, else the declared ones.

  Task defaults that do not apply to the chosen cell (e.g. ptb's
  ``forget_bias`` with ``--cell=gru``) are left out.  Reads the flags only.
  """
  names = list(config_lib.all_settings())
  out = flagdefs.values(flag_values, names)
  task, cell = out["task"], out["cell"]
  applies = set(config_lib.model_setting_names(task, cell) + config_lib.train_setting_names(task))
  given = flagdefs.given(flag_values, names)
  for name, value in tasks.defaults(task, flag_values["config"].value).items():
    if name in applies and name not in given:
      out[name] = value
  for name in RUN_DIRS:
    out[name] = out[name] or ""
  return out


def make_config(values):
  """The ``TrainConfig`` of ``resolve``'s values."""
  model = config_lib.ModelConfig(**{k: v for k, v in values.items()
                                    if k in config_lib.MODEL_SETTINGS})
  return config_lib.TrainConfig(model=model, **{k: v for k, v in values.items()
                                                if k in config_lib.TRAIN_SETTINGS})


def main(argv):
  if len(argv) > 1:
    raise app.UsageError(f"unexpected arguments: {argv[1:]}")
  from tf_lstm.app.data import DataError  # pylint: disable=g-import-not-at-top
  from tf_lstm.app.training import loop  # pylint: disable=g-import-not-at-top
  try:
    config = make_config(resolve()).check()
    # First: logical CPU devices must be configured before TensorFlow starts.
    strategy = distribute.make_strategy(FLAGS.strategy, FLAGS.num_cpu_devices, FLAGS.tpu)
    loop.train(config, strategy)
  except (DataError, ValueError, loop.TrainingError) as e:
    print(f"error: {e}", file=sys.stderr)
    return _exit(1)
  except OSError as e:   # e.g. a full disk while writing results.json or an asset
    print(f"error: cannot write {e.filename or FLAGS.model_dir} ({e.strerror or e}); "
          "what was written before is intact", file=sys.stderr)
    return _exit(1)
  return _exit(0)


def _exit(code):
  """Multi-worker: leave at once. Everything is written and the workers have met at
  a final barrier; TF's shutdown can otherwise stall a worker whose peer left first."""
  if FLAGS.strategy == "multi_worker":
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)
  return code


def run():
  """Console-script entry point."""
  commands.run_command(__doc__, define_flags, main)

