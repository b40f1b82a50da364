"""This CPU's model and feature flags, from ``/proc/cpuinfo`` (Linux; elsewhere
nothing is known), and the variables that cap what oneDNN may use of them.

No TensorFlow import: ``bin/benchmark``'s driver reads them too.
"""

# oneDNN (TensorFlow's and PyTorch's) reads either; set, they make a CPU run its
# kernels as an older one would (e.g. AVX2 kernels on an AVX-512 CPU).
ONEDNN_LIMITS = ("ONEDNN_MAX_CPU_ISA", "DNNL_MAX_CPU_ISA")


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
