"""IMDB movie reviews (Maas et al., 2011): raw texts and 0/1 labels.

Sources: ``tfds.load("imdb_reviews")`` (online), or offline an ``aclImdb``
folder or its tarball in the release layout
``aclImdb/{train,test}/{neg,pos}/<id>_<rating>.txt``.  Label 0 = neg, 1 = pos
(as in tfds).
"""

import collections
import os
import re
import tarfile

import numpy as np

from tf_lstm.app.data import online
from tf_lstm.app.data.idx import DataError

CLASSES = ("neg", "pos")
TextData = collections.namedtuple(
    "TextData", ["train_texts", "train_labels", "test_texts", "test_labels"])

_MEMBER = re.compile(r"(?:^|/)aclImdb/(train|test)/(neg|pos)/(\d+)_(\d+)\.txt$")


def _collect(items, source):
  """``items``: iterable of (split, cls, id, read()) -> TextData sorted by id."""
  splits = {"train": [], "test": []}
  for split, cls, review_id, read in items:
    raw = read()
    try:
      text = raw.decode("utf-8")
    except UnicodeDecodeError as e:
      raise DataError(f"{source}: aclImdb/{split}/{cls}/{review_id}: not UTF-8 ({e})") from e
    if not text.strip():
      raise DataError(f"{source}: aclImdb/{split}/{cls}/{review_id}: empty review")
    splits[split].append((int(review_id.split("_")[0]), CLASSES.index(cls), text))
  out = []
  for split in ("train", "test"):
    rows = sorted(splits[split], key=lambda r: (r[1], r[0]))
    labels = {r[1] for r in rows}
    if labels != {0, 1}:
      raise DataError(f"{source}: expected reviews in aclImdb/{split}/neg and "
                      f"aclImdb/{split}/pos, found {len(rows)} reviews with labels "
                      f"{sorted(CLASSES[l] for l in labels)}")
    out.append(np.array([r[2] for r in rows], dtype=object))
    out.append(np.array([r[1] for r in rows], dtype=np.int32))
  return TextData(*out)


def load_tarball(path):
  try:
    with tarfile.open(path, "r:*") as tar:
      items = []
      for member in tar:
        m = _MEMBER.search(member.name)
        if m and member.isfile():
          data = tar.extractfile(member).read()
          items.append((m.group(1), m.group(2), f"{m.group(3)}_{m.group(4)}",
                        lambda d=data: d))
  except (OSError, tarfile.TarError, EOFError) as e:
    raise DataError(f"{path}: cannot read the IMDB tarball ({e})") from e
  return _collect(items, path)


def load_folder(root):
  items = []
  for split in ("train", "test"):
    for cls in CLASSES:
      folder = os.path.join(root, split, cls)
      if not os.path.isdir(folder):
        raise DataError(f"missing folder {folder}: expected the aclImdb layout "
                        "{train,test}/{neg,pos}/<id>_<rating>.txt")
      for name in os.listdir(folder):
        m = re.fullmatch(r"(\d+_\d+)\.txt", name)
        if m:
          path = os.path.join(folder, name)
          items.append((split, cls, m.group(1), lambda p=path: open(p, "rb").read()))
  return _collect(items, root)


def find_source(data_dir):
  """The aclImdb folder or tarball under ``data_dir`` (or ``data_dir`` itself)."""
  if os.path.isfile(data_dir):
    return data_dir
  for candidate in (data_dir, os.path.join(data_dir, "aclImdb")):
    if os.path.isdir(os.path.join(candidate, "train")):
      return candidate
  if os.path.isdir(data_dir):
    tars = sorted(n for n in os.listdir(data_dir)
                  if n.startswith("aclImdb") and n.endswith((".tar.gz", ".tgz", ".tar")))
    if tars:
      return os.path.join(data_dir, tars[0])
  raise DataError(f"no IMDB data in {data_dir}: expected an aclImdb/ folder "
                  "(train/, test/) or an aclImdb*.tar.gz tarball")


def load(data_dir=None):
  """``TextData`` from ``data_dir`` (offline) or tfds ``imdb_reviews``."""
  if data_dir:
    source = find_source(data_dir)
    return load_tarball(source) if os.path.isfile(source) else load_folder(source)
  tfds = online.tfds()   # Only the online path needs it.
  try:
    splits = tfds.load("imdb_reviews", split=["train", "test"], as_supervised=True)
  except Exception as e:  # pylint: disable=broad-except
    raise DataError(f"tfds imdb_reviews is not available ({e}); "
                    "give a data_dir: an aclImdb folder or tarball") from e
  out = []
  for ds in splits:
    rows = list(tfds.as_numpy(ds))
    out.append(np.array([t.decode("utf-8") for t, _ in rows], dtype=object))
    out.append(np.array([y for _, y in rows], dtype=np.int32))
  return TextData(*out)
