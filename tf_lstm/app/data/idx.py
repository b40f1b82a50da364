"""Reader for the IDX files MNIST ships in (``train-images-idx3-ubyte[.gz]``).

Every problem (missing, truncated, wrong magic, wrong dimensions) raises
``DataError`` naming the file and what was expected.
"""

import gzip
import os

import numpy as np

_UBYTE = 0x08


class DataError(ValueError):
  """A data file or source is missing or not what was expected."""


def find_file(data_dir, name):
  """``DIR/name`` or ``DIR/name.gz``, whichever exists."""
  for candidate in (name, name + ".gz"):
    path = os.path.join(data_dir, candidate)
    if os.path.isfile(path):
      return path
  raise DataError(f"missing data file: expected {os.path.join(data_dir, name)}[.gz]")


def read_idx(path, ndim, inner_shape=None):
  """Reads an unsigned-byte IDX file into a ``uint8`` array.

  Args:
    path: a plain or gzip-compressed IDX file.
    ndim: the expected number of dimensions (1 for labels, 3 for images).
    inner_shape: optional expected dims after the first, e.g. ``(28, 28)``.
  """
  opener = gzip.open if path.endswith(".gz") else open
  try:
    with opener(path, "rb") as f:
      raw = f.read()
  except (OSError, EOFError) as e:
    raise DataError(f"{path}: cannot read IDX file ({e})") from e
  expected_magic = (_UBYTE << 8) | ndim
  if len(raw) < 4:
    raise DataError(f"{path}: truncated: {len(raw)} bytes, expected an IDX header")
  magic = int.from_bytes(raw[:4], "big")
  if magic != expected_magic:
    raise DataError(f"{path}: wrong magic number 0x{magic:08x}, expected "
                    f"0x{expected_magic:08x} (unsigned-byte IDX with {ndim} dims)")
  header = 4 + 4 * ndim
  if len(raw) < header:
    raise DataError(f"{path}: truncated header: {len(raw)} bytes, expected {header}")
  dims = tuple(int.from_bytes(raw[4 + 4 * k:8 + 4 * k], "big") for k in range(ndim))
  if inner_shape is not None and dims[1:] != tuple(inner_shape):
    raise DataError(f"{path}: items of shape {dims[1:]}, expected {tuple(inner_shape)}")
  size = int(np.prod(dims))
  if len(raw) - header != size:
    raise DataError(f"{path}: truncated or padded: {len(raw) - header} data bytes, "
                    f"expected {size} for dims {dims}")
  return np.frombuffer(raw, dtype=np.uint8, offset=header).reshape(dims)


def write_idx(path, array):
  """Writes a ``uint8`` array as IDX (gzip when ``path`` ends in .gz)."""
  array = np.asarray(array, dtype=np.uint8)
  header = ((_UBYTE << 8) | array.ndim).to_bytes(4, "big") + b"".join(
      int(d).to_bytes(4, "big") for d in array.shape)
  opener = gzip.open if path.endswith(".gz") else open
  with opener(path, "wb") as f:
    f.write(header + array.tobytes())
