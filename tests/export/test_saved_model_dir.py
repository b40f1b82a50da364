"""The versioned, atomic export layout (``saved_model.export``) and its errors."""

import os

import numpy as np
import pytest
import tensorflow as tf

from tf_lstm.app.export import saved_model


class Doubler(tf.Module):
  """A minimal serving module: ``x -> 2x``."""

  @tf.function(input_signature=[tf.TensorSpec([None], tf.float32, name="x")])
  def serve(self, x):
    return {"y": 2.0 * x}

  def signatures(self):
    return {"serving_default": self.serve}


def listing(path):
  return sorted((os.path.relpath(os.path.join(d, f), path), os.path.getmtime(os.path.join(d, f)))
                for d, _, files in os.walk(path) for f in files)


def test_versions_count_up_and_load(tmp_path):
  base = str(tmp_path / "E")
  assert saved_model.export(Doubler(), base) == os.path.join(base, "1")
  assert saved_model.export(Doubler(), base) == os.path.join(base, "2")
  assert saved_model.export(Doubler(), base, version=7) == os.path.join(base, "7")
  assert saved_model.export(Doubler(), base) == os.path.join(base, "8")
  assert sorted(os.listdir(base)) == ["1", "2", "7", "8"]   # No temp dirs left.
  assert os.path.isfile(os.path.join(base, "8", "saved_model.pb"))
  assert os.path.isdir(os.path.join(base, "8", "variables"))
  assert oct(os.stat(os.path.join(base, "8")).st_mode & 0o777) == "0o755"
  out = tf.saved_model.load(os.path.join(base, "2")).signatures["serving_default"](
      x=tf.constant([1.5, -2.0]))
  np.testing.assert_array_equal(out["y"].numpy(), [3.0, -4.0])


def test_existing_version_is_never_overwritten(tmp_path):
  base = str(tmp_path / "E")
  saved_model.export(Doubler(), base, version=3)
  before = listing(base)
  with pytest.raises(saved_model.ExportError, match=r"3 already exists.*never overwritten"):
    saved_model.export(Doubler(), base, version=3)
  with pytest.raises(saved_model.ExportError, match="already exists"):
    saved_model.export(Doubler(), base, version="3")
  assert listing(base) == before


@pytest.mark.parametrize("version", [0, -1, "0", "x", "1.5", 1.5, True, ""])
def test_bad_version_writes_nothing(tmp_path, version):
  base = str(tmp_path / "E")
  with pytest.raises(saved_model.ExportError, match="version must be a positive integer"):
    saved_model.export(Doubler(), base, version=version)
  assert not os.path.exists(base)


def test_export_base_that_is_a_file(tmp_path):
  path = tmp_path / "file"
  path.write_text("keep me")
  with pytest.raises(saved_model.ExportError, match="exists and is not a directory"):
    saved_model.export(Doubler(), str(path))
  assert path.read_text() == "keep me"


def test_interrupted_export_leaves_no_version(tmp_path, monkeypatch):
  base = str(tmp_path / "E")
  saved_model.export(Doubler(), base)
  real_save = tf.saved_model.save

  def save_then_die(obj, path, signatures=None):
    real_save(obj, path, signatures=signatures)   # Fully written, then killed.
    raise KeyboardInterrupt

  monkeypatch.setattr(tf.saved_model, "save", save_then_die)
  with pytest.raises(KeyboardInterrupt):
    saved_model.export(Doubler(), base)
  assert sorted(os.listdir(base)) == ["1"]
  # A hard kill cannot clean up: its leftover is hidden and not a version.
  os.makedirs(os.path.join(base, ".tmp-2-abcd", "variables"))
  assert saved_model.existing_versions(base) == [1]
  assert saved_model.next_version(base) == 2
