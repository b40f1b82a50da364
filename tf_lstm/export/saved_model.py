"""Writes SavedModels in TensorFlow Serving's layout, atomically.

``<export_base>/<version>/{saved_model.pb, variables/}``.  The export is
written to a hidden temporary directory beside it and renamed into place, so
an existing version is never overwritten and an interrupted export leaves no
directory a server would load (servers only pick up all-digit names).
"""

import os
import shutil
import tempfile

import tensorflow as tf


class ExportError(ValueError):
  """The export location or version is not usable."""


def existing_versions(export_base):
  if not os.path.isdir(export_base):
    return []
  return sorted(int(d) for d in os.listdir(export_base) if d.isdigit())


def next_version(export_base):
  versions = existing_versions(export_base)
  return versions[-1] + 1 if versions else 1


def export(serving_module, export_base, version=None):
  """Saves ``serving_module.signatures()`` as ``export_base/<version>``.

  Returns the version directory.  Raises ``ExportError`` if the version
  exists or is not a positive integer.
  """
  if os.path.exists(export_base) and not os.path.isdir(export_base):
    raise ExportError(f"export dir {export_base} exists and is not a directory")
  if version is None:
    version = next_version(export_base)
  if int(version) < 1:
    raise ExportError(f"export version must be a positive integer, got {version}")
  final = os.path.join(export_base, str(int(version)))
  if os.path.exists(final):
    raise ExportError(f"{final} already exists; exports are never overwritten "
                      "(omit --version to use the next free one)")
  os.makedirs(export_base, exist_ok=True)
  tmp = tempfile.mkdtemp(prefix=f".tmp-{int(version)}-", dir=export_base)
  try:
    tf.saved_model.save(serving_module, tmp, signatures=serving_module.signatures())
    os.rename(tmp, final)
  except BaseException:
    shutil.rmtree(tmp, ignore_errors=True)
    raise
  return final
