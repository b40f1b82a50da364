"""Compiling and loading the C++ ops of this package (``tf.load_op_library``).

A library is built once per (source, TensorFlow version, compiler, vector
instructions) and cached as ``<cache>/<name>-<key>.so``; ``<cache>`` is
``$TF_LSTM_CACHE_DIR``, else ``$XDG_CACHE_HOME/tf_lstm``, else
``~/.cache/tf_lstm``.  The vector instructions are the CPU's (AVX-512, AVX2+FMA
or the baseline), capped by ``ONEDNN_MAX_CPU_ISA`` (or ``DNNL_MAX_CPU_ISA``) as
TensorFlow's own oneDNN kernels are.  ``$CXX`` names the compiler (default ``g++``).
Set ``TF_LSTM_NATIVE_OPS=0`` to never build or load them.
"""

import hashlib
import os
import shutil
import subprocess
import tempfile

import tensorflow as tf

from tf_lstm import cpu_info

_HERE = os.path.dirname(os.path.abspath(__file__))
_AVX512 = ("avx512f", "avx512bw", "avx512dq", "avx512vl")
# Per vector level: the CPU flags it needs and the compiler flags it gets.
_ISA_FLAGS = (
    ("avx512", _AVX512 + ("avx2", "fma"), [f"-m{f}" for f in _AVX512] + ["-mavx2", "-mfma"]),
    ("avx2", ("avx2", "fma"), ["-mavx2", "-mfma"]),
    ("baseline", (), []),
)
_loaded = {}


class NativeOpsUnavailable(RuntimeError):
  """The C++ ops cannot be built or loaded here; the message says why."""


def cache_dir():
  """Where built libraries are kept (see the module docstring)."""
  if os.environ.get("TF_LSTM_CACHE_DIR"):
    return os.environ["TF_LSTM_CACHE_DIR"]
  base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
  return os.path.join(base, "tf_lstm")


def vector_level(flags=None, max_isa=None):
  """``(name, compiler flags)`` of the widest vector level the CPU has.

  ``max_isa`` (default: the oneDNN cap in the environment) caps it: ``AVX2...``
  allows up to AVX2, ``SSE...``/``AVX`` only the baseline.
  """
  flags = cpu_info.cpu_info()["flags"] if flags is None else flags
  if max_isa is None:
    max_isa = next((os.environ[k] for k in cpu_info.ONEDNN_LIMITS if os.environ.get(k)), "")
  cap = max_isa.strip().upper()
  if cap.startswith("AVX2"):
    levels = _ISA_FLAGS[1:]
  elif cap.startswith(("SSE", "AVX")) and not cap.startswith(("AVX512", "AVX10")):
    levels = _ISA_FLAGS[2:]
  else:
    levels = _ISA_FLAGS
  for name, needs, compiler_flags in levels:
    if all(f in flags for f in needs):
      return name, compiler_flags
  return "baseline", []


def _compiler():
  cxx = os.environ.get("CXX") or "g++"
  path = shutil.which(cxx)
  if path is None:
    raise NativeOpsUnavailable(f"no C++ compiler: {cxx!r} is not on PATH (set $CXX)")
  return path


def _command(cxx, source, output, isa_flags):
  return ([cxx, "-shared", "-fPIC", "-O3", "-DNDEBUG", "-fvisibility=hidden"] + isa_flags
          + tf.sysconfig.get_compile_flags() + [source, "-o", output]
          + tf.sysconfig.get_link_flags())


def _plan(name):
  """``(path, command)``: the cached library of ``<name>.cc`` on this machine (built or
  not) and ``command(output)``, the compiler's argument list that builds it."""
  source = os.path.join(_HERE, name + ".cc")
  cxx = _compiler()
  level, isa_flags = vector_level()
  command = lambda output: _command(cxx, source, output, isa_flags)
  key = hashlib.sha256()
  with open(source, "rb") as f:
    key.update(f.read())
  for part in [tf.__version__, cxx, level] + command(""):
    key.update(part.encode() + b"\0")
  return os.path.join(cache_dir(), f"{name}-{level}-{key.hexdigest()[:16]}.so"), command


def library_path(name):
  """The cached library's path for ``<name>.cc`` on this machine (built or not)."""
  return _plan(name)[0]


def load_library(name):
  """The loaded op library of ``<name>.cc``, built first if not cached.

  Raises:
    NativeOpsUnavailable: disabled, no compiler, the build or the load failed.
  """
  if name in _loaded:
    return _loaded[name]
  if os.environ.get("TF_LSTM_NATIVE_OPS", "1") == "0":
    raise NativeOpsUnavailable("disabled by TF_LSTM_NATIVE_OPS=0")
  path, command = _plan(name)
  if not os.path.exists(path):
    _build(name, path, command)
  try:
    library = tf.load_op_library(path)
  except (tf.errors.NotFoundError, OSError) as e:
    raise NativeOpsUnavailable(f"cannot load {path}: {e}") from e
  _loaded[name] = library
  return library


def _build(name, path, command):
  """Compiles ``<name>.cc`` into ``path`` with ``command(output)`` (written whole or not
  at all)."""
  directory = os.path.dirname(path)
  try:
    os.makedirs(directory, exist_ok=True)
    fd, tmp = tempfile.mkstemp(suffix=".so.tmp", dir=directory)
    os.close(fd)
  except OSError as e:
    raise NativeOpsUnavailable(f"cannot write to the cache directory {directory}: {e} "
                               "(set TF_LSTM_CACHE_DIR)") from e
  args = command(tmp)
  try:
    done = subprocess.run(args, capture_output=True, text=True, check=False)
    if done.returncode != 0:
      errors = [l for l in done.stderr.splitlines() if "error" in l][:5]
      raise NativeOpsUnavailable(f"building {name}.cc failed ({args[0]} "
                                 f"exit {done.returncode}): " + " | ".join(errors))
    # Concurrent builders (test workers) each rename a complete file.
    os.replace(tmp, path)
  finally:
    if os.path.exists(tmp):
      os.remove(tmp)
