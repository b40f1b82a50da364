"""Writes SavedModels in TensorFlow Serving's layout, atomically.

``<export_base>/<version>/{saved_model.pb, variables/}`` (plus ``model.tflite``
when asked).  The export is written to a hidden temporary directory beside it
(``.tmp-<version>-*``) and renamed into place, so an existing version is never
overwritten and an interrupted export leaves no directory a server would load
(servers only pick up all-digit names).

A serving module is any ``tf.Module`` with ``signatures()`` -> ``{name:
tf.function with an input_signature}`` (and ``tflite_function()`` for TFLite);
tasks build it with ``task.serving_module(model)``.
"""

import os
import shutil
import tempfile

import tensorflow as tf

from tf_lstm.app.export import tflite as tflite_lib


class ExportError(ValueError):
  """The export location, version or source is not usable."""


def existing_versions(export_base):
  """Sorted integer versions under ``export_base`` (temporary dirs excluded)."""
  if not os.path.isdir(export_base):
    return []
  return sorted(int(d) for d in os.listdir(export_base)
                if d.isdigit() and os.path.isdir(os.path.join(export_base, d)))


def next_version(export_base):
  versions = existing_versions(export_base)
  return versions[-1] + 1 if versions else 1


def check_version(version):
  """``version`` as a positive int; raises ``ExportError`` for anything else."""
  if isinstance(version, bool) or not isinstance(version, (int, str)):
    raise ExportError(f"export version must be a positive integer, got {version!r}")
  if isinstance(version, str):
    if not version.isdigit():
      raise ExportError(f"export version must be a positive integer, got {version!r}")
    version = int(version)
  if version < 1:
    raise ExportError(f"export version must be a positive integer, got {version}")
  return version


def check_export_base(export_base):
  if not export_base:
    raise ExportError("an export dir is required")
  if os.path.exists(export_base) and not os.path.isdir(export_base):
    raise ExportError(f"export dir {export_base} exists and is not a directory")


def export(serving_module, export_base, version=None, tflite=False):
  """Saves ``serving_module.signatures()`` as ``export_base/<version>``.

  Args:
    serving_module: see the module docstring.
    export_base: the model's base directory (created if missing).
    version: positive int; default: one more than the newest present.
    tflite: also write ``<version>/model.tflite`` (same network, float input).
  Returns:
    The version directory.
  Raises:
    ExportError: before anything is written, if the version exists or is not
      a positive integer, or ``export_base`` is a file.
  """
  check_export_base(export_base)
  version = next_version(export_base) if version is None else check_version(version)
  final = os.path.join(export_base, str(version))
  if os.path.exists(final):
    raise ExportError(f"{final} already exists; exports are never overwritten "
                      "(leave the version out to use the next free one)")
  os.makedirs(export_base, exist_ok=True)
  tmp = tempfile.mkdtemp(prefix=f".tmp-{version}-", dir=export_base)
  try:
    tf.saved_model.save(serving_module, tmp, signatures=serving_module.signatures())
    if tflite:
      with open(os.path.join(tmp, tflite_lib.FILENAME), "wb") as f:
        f.write(tflite_lib.convert(serving_module))
    # mkdtemp makes it private (0700); a server may run as another user.
    os.chmod(tmp, 0o755)
    try:
      # rename() fails on a non-empty target: a concurrent export of the same
      # version is never replaced.
      os.rename(tmp, final)
    except OSError as e:
      raise ExportError(f"{final} appeared while exporting; not overwritten ({e})") from e
  except BaseException:
    shutil.rmtree(tmp, ignore_errors=True)
    raise
  return final
