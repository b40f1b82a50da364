"""One writer per run directory: a lock a training run holds for its whole life.

``hold(model_dir)`` takes an exclusive ``fcntl.flock`` on ``<model_dir>/train.lock``
and writes the holder's PID, host and start time into the file.  The OS drops
the lock when the process ends, however it ends (``kill -9`` included), so no
stale lock is ever left: the file stays, and only a held lock counts.  A second
run on the directory gets ``RunLockError`` naming the holder.  ``check_free`` is
the same test without taking the lock or writing anything (a run asks it first,
before loading its data).  Readers (``bin/export``, ``bin/predict``,
``bin/sample``) never lock.  Under several workers only the chief holds it.

``flock`` locks are advisory and local: shared storage whose flock is not
coherent across machines (some NFS setups) does not protect a directory used
from two machines.
"""

import contextlib
import fcntl
import json
import os
import socket
import time

LOCK_FILE = "train.lock"
# A ``check_free`` probe holds a shared lock for microseconds; ``hold`` retries
# this long before deciding the directory is taken.
_RETRY_SECONDS = 1.0


class RunLockError(ValueError):
  """``model_dir`` is in use by another training run, or cannot be written."""


def _holder(fd):
  """'pid N on HOST, started T' from the lock file, or what is known."""
  try:
    os.lseek(fd, 0, os.SEEK_SET)
    info = json.loads(os.read(fd, 4096).decode("utf-8"))
    return f"pid {info['pid']} on {info['host']}, started {info['started']}"
  except (OSError, ValueError, KeyError, TypeError):
    return "a process that has not yet written its pid"


def _busy(model_dir, fd):
  return RunLockError(f"{model_dir} is in use by another training run ({_holder(fd)}); "
                      "wait for it to end, or use another model directory")


def _try_lock(fd, mode):
  try:
    fcntl.flock(fd, mode | fcntl.LOCK_NB)
    return True
  except BlockingIOError:
    return False


def check_free(model_dir):
  """``RunLockError`` if a training run holds ``model_dir`` now; writes nothing."""
  try:
    fd = os.open(os.path.join(model_dir, LOCK_FILE), os.O_RDONLY)
  except FileNotFoundError:
    return
  except OSError as e:
    raise RunLockError(f"cannot read the lock file of {model_dir} ({e})") from e
  try:
    if not _try_lock(fd, fcntl.LOCK_SH):
      raise _busy(model_dir, fd)
  finally:
    os.close(fd)   # releases the probe's shared lock


@contextlib.contextmanager
def hold(model_dir):
  """Holds ``model_dir``'s lock for the ``with`` block (creating the directory).

  ``RunLockError`` if another process holds it, or if ``model_dir`` cannot be
  written (read-only, permissions): nothing else has been written then.
  """
  path = os.path.join(model_dir, LOCK_FILE)
  try:
    os.makedirs(model_dir, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
  except OSError as e:
    raise RunLockError(f"cannot write to model_dir {model_dir} ({e.strerror or e}); "
                       "use a writable directory") from e
  try:
    deadline = time.monotonic() + _RETRY_SECONDS
    while not _try_lock(fd, fcntl.LOCK_EX):
      if time.monotonic() > deadline:
        raise _busy(model_dir, fd)
      time.sleep(0.05)
    info = {"pid": os.getpid(), "host": socket.gethostname(),
            "started": time.strftime("%Y-%m-%d %H:%M:%S %Z")}
    try:
      os.ftruncate(fd, 0)
      os.pwrite(fd, (json.dumps(info) + "\n").encode("utf-8"), 0)
    except OSError as e:
      raise RunLockError(f"cannot write to model_dir {model_dir} ({e.strerror or e}); "
                         "free some space or use another directory") from e
    yield path
  finally:
    os.close(fd)
