"""What this CPU can do (``tf_lstm.cpu_info``) and what the environment lets the math
libraries use of it.

No TensorFlow import: ``bin/benchmark``'s driver records the flags too.
"""

import os

from tf_lstm.cpu_info import ONEDNN_LIMITS
from tf_lstm.cpu_info import cpu_info

# The flags that decide the training step's speed (docs/benchmarks.md).
SPEED_FLAGS = ("avx2", "fma", "avx512f", "avx512_vnni", "avx512_bf16", "amx_tile", "amx_bf16")
NATIVE_BFLOAT16 = ("avx512_bf16", "amx_bf16")
# Environment variables that cap the instruction set the math libraries use:
# oneDNN's (tf_lstm.cpu_info), MKL's (PyTorch's BLAS), PyTorch's own kernels'.
ISA_LIMITS = ONEDNN_LIMITS + ("MKL_ENABLE_INSTRUCTIONS", "ATEN_CPU_CAPABILITY")
# oneDNN caps without bfloat16 products: TensorFlow still hands bfloat16 products to
# oneDNN on a CPU that has AVX-512, and oneDNN, capped, aborts the process.
ONEDNN_CAPS_WITHOUT_BFLOAT16 = ("SSE41", "AVX", "AVX2", "AVX2_VNNI")


def speed_flags(flags=None):
  """The ``SPEED_FLAGS`` this CPU has, in that order."""
  flags = cpu_info()["flags"] if flags is None else flags
  return [f for f in SPEED_FLAGS if f in flags]


def native_bfloat16(flags=None):
  """The flags that give this CPU native bfloat16 products (AVX512_BF16, AMX), if any."""
  flags = cpu_info()["flags"] if flags is None else flags
  return [f for f in NATIVE_BFLOAT16 if f in flags]


def isa_limits(environ=None):
  """``{variable: value}`` of the ``ISA_LIMITS`` set in ``environ`` (default ``os.environ``)."""
  environ = os.environ if environ is None else environ
  return {k: environ[k] for k in ISA_LIMITS if environ.get(k)}


def onednn_bfloat16_cap(environ=None, flags=None):
  """``"NAME=value"`` of a oneDNN cap without bfloat16 products that TensorFlow would run
  into, else None: only on CPUs with AVX-512 (elsewhere TensorFlow keeps bfloat16 products
  off oneDNN) and while its oneDNN kernels are on (``TF_ENABLE_ONEDNN_OPTS`` not 0/false)."""
  environ = os.environ if environ is None else environ
  flags = cpu_info()["flags"] if flags is None else flags
  if ("avx512f" not in flags
      or environ.get("TF_ENABLE_ONEDNN_OPTS", "").strip().lower() in ("0", "false")):
    return None
  limits = isa_limits(environ)
  for name in ONEDNN_LIMITS:
    if limits.get(name, "").strip().upper() in ONEDNN_CAPS_WITHOUT_BFLOAT16:
      return f"{name}={limits[name]}"
  return None
