"""absl flags derived from the settings' declarations (``Option`` records).

A flag's name, default, type, help, choices and bounds are the option's; a
``positive`` option gets a validator, and a float one a finiteness validator
(absl's bounds let nan and inf through).  Flags are defined on a ``FlagValues``
passed in (the commands pass ``flags.FLAGS``; tests a fresh one).
"""

import math

from absl import flags


_OPTION_DEFAULT = object()


def define(option, flag_values, default=_OPTION_DEFAULT, help_suffix="", choices=None):
  """Defines ``--<option.name>``; ``default``/``choices`` override the option's."""
  name, help_text = option.name, option.help + help_suffix
  value = option.default if default is _OPTION_DEFAULT else default
  choices = choices if choices is not None else option.choices
  kw = dict(flag_values=flag_values)
  if option.type is bool:
    flags.DEFINE_bool(name, value, help_text, **kw)
  elif choices is not None:
    flags.DEFINE_enum(name, value, [str(c) for c in choices], help_text, **kw)
  elif option.type is int:
    flags.DEFINE_integer(name, value, help_text, lower_bound=option.lower,
                         upper_bound=option.upper, **kw)
  elif option.type is float:
    flags.DEFINE_float(name, value, help_text, lower_bound=option.lower,
                       upper_bound=option.upper, **kw)
    flags.register_validator(name, lambda v: v is None or math.isfinite(v),
                             f"--{name} must be a finite number (not nan or inf)", **kw)
  elif option.type is str:
    flags.DEFINE_string(name, value, help_text, **kw)
  else:
    raise TypeError(f"setting {name}: no flag type for {option.type.__name__}")
  if option.positive:
    flags.register_validator(name, lambda v: v is None or v > 0, f"--{name} must be > 0",
                             flag_values=flag_values)


def values(flag_values, names):
  """``{name: value}`` of the named flags."""
  return {n: flag_values[n].value for n in names}


def given(flag_values, names):
  """The named flags that the command line sets."""
  return {n for n in names if flag_values[n].present}


def register_dir_validators(flag_values, names, must_exist=False):
  """``--<name>`` must be an (existing, with ``must_exist``) directory, or absent."""
  import os   # pylint: disable=g-import-not-at-top
  for name in names:
    if must_exist:
      check, text = (lambda v: v is None or os.path.isdir(v)), "an existing directory"
    else:
      check = lambda v: v is None or not os.path.exists(v) or os.path.isdir(v)
      text = "a directory (it exists and is not one)"
    flags.register_validator(name, check, f"--{name} must be {text}", flag_values=flag_values)
