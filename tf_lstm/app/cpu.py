"""What this CPU can do, from ``/proc/cpuinfo`` (Linux; elsewhere nothing is known).

No TensorFlow import: ``bin/benchmark``'s driver records the flags too.
"""

# The flags that decide the training step's speed (docs/benchmarks.md).
SPEED_FLAGS = ("avx2", "fma", "avx512f", "avx512_vnni", "avx512_bf16", "amx_tile", "amx_bf16")
NATIVE_BFLOAT16 = ("avx512_bf16", "amx_bf16")


def cpu_info(path="/proc/cpuinfo"):
  """``{"model": str, "flags": set}`` of the first processor listed (empty if unreadable)."""
  model, flags = "", set()
  try:
    with open(path) as f:
      for line in f:
        key, _, value = line.partition(":")
        key = key.strip()
        if key == "model name" and not model:
          model = value.strip()
        elif key == "flags" and not flags:
          flags = set(value.split())
        if model and flags:
          break
  except OSError:
    pass
  return {"model": model, "flags": flags}


def speed_flags(flags=None):
  """The ``SPEED_FLAGS`` this CPU has, in that order."""
  flags = cpu_info()["flags"] if flags is None else flags
  return [f for f in SPEED_FLAGS if f in flags]


def native_bfloat16(flags=None):
  """The flags that give this CPU native bfloat16 products (AVX512_BF16, AMX), if any."""
  flags = cpu_info()["flags"] if flags is None else flags
  return [f for f in NATIVE_BFLOAT16 if f in flags]
