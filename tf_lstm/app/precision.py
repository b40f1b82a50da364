"""How a forward pass reads the model's variables: once per call, and in
which dtype (mixed precision: float32 variables, the forward in bfloat16).

An unrolled loop reads each variable at every step it uses it (one
``ReadVariableOp`` per use); ``read_once`` reads it once per call instead,
with the same numbers.

With ``compute_dtype="bfloat16"`` a training step runs the model's own code
on bfloat16 tensors:

    logits = float32(model(bf16(x)))   every float32 trainable variable W of
                                       the model read once as bf16(W)
    loss, gradients, optimizer update: float32

Gradients flow back through the casts, so the optimizer updates the float32
variables (the "master weights"); checkpoints, evaluation and exports stay
float32 and unchanged.  bfloat16 keeps float32's exponent range, so no loss
scaling is needed.  It pays off on CPUs with native bfloat16 products
(AVX512_BF16 / AMX); on AVX2-only CPUs TensorFlow emulates them.
"""

import contextlib

import tensorflow as tf

from tf_lstm.app import cpu

COMPUTE_DTYPES = ("float32", "bfloat16")


def check_compute_dtype(dtype):
  """``dtype`` as a ``tf.DType`` if it is one of ``COMPUTE_DTYPES``."""
  if dtype not in COMPUTE_DTYPES:
    raise ValueError(f"unknown compute dtype {dtype!r}; expected one of {COMPUTE_DTYPES}")
  return tf.as_dtype(dtype)


def check_bfloat16_kernels(dtype, environ=None, flags=None):
  """Raises ``ValueError`` if a ``dtype`` forward would abort in this process's kernels
  (bfloat16 with oneDNN capped below bfloat16: ``cpu.onednn_bfloat16_cap``)."""
  cap = dtype == "bfloat16" and cpu.onednn_bfloat16_cap(environ, flags)
  if cap:
    raise ValueError(f"dtype bfloat16 with {cap}: oneDNN capped there has no bfloat16 "
                     "products and TensorFlow would abort the process; unset the cap, set "
                     "TF_ENABLE_ONEDNN_OPTS=0 (Eigen's kernels) or use float32")


def bfloat16_hint(dtype, flags=None):
  """The start-up line telling that this CPU has native bfloat16 while ``dtype`` is
  not bfloat16 (and no oneDNN cap rules bfloat16 out), else None."""
  flags = cpu.cpu_info()["flags"] if flags is None else flags   # read /proc/cpuinfo once
  native = cpu.native_bfloat16(flags)
  if dtype == "bfloat16" or not native or cpu.onednn_bfloat16_cap(flags=flags):
    return None
  return (f"info: this CPU has native bfloat16 ({', '.join(native)}): --dtype=bfloat16 "
          "runs the forward pass in bfloat16 (float32 variables), about 1.2-1.6x faster "
          "per step at a similar accuracy (README, docs/benchmarks.md)")


def _castable(value):
  return (isinstance(value, tf.Variable) and value.trainable
          and value.dtype == tf.float32)


def _cast_tree(value, dtype):
  """``value`` with castable variables (also in lists/dicts) read as ``dtype``, or
  ``None`` if it holds none."""
  if _castable(value):
    # tf.cast returns a same-dtype Variable unread; convert_to_tensor reads it
    # (one ReadVariableOp), so the attribute always holds a tensor.
    return tf.cast(tf.convert_to_tensor(value), dtype)
  if isinstance(value, dict):
    items = {k: _cast_tree(v, dtype) for k, v in value.items()}
    if all(v is None for v in items.values()):
      return None
    return {k: value[k] if v is None else v for k, v in items.items()}
  if isinstance(value, (list, tuple)) and not hasattr(value, "_fields"):
    items = [_cast_tree(v, dtype) for v in value]
    if all(v is None for v in items):
      return None
    return [value[i] if v is None else v for i, v in enumerate(items)]
  return None


@contextlib.contextmanager
def variables_read_as(module, dtype):
  """Within the block, ``module``'s (and its submodules') float32 trainable
  variables are attributes holding ``tf.cast(variable, dtype)``; those a module
  names in ``float32_variables`` (e.g. an embedding table, whose rows are cast
  after the lookup rather than the whole table every step) are read as float32.

  Meant for one traced forward pass: each variable is read (and cast) once
  there, and the tape differentiates through the cast to the variable.  The
  attributes are swapped with ``object.__setattr__`` so that ``tf.Module``'s
  tracking (checkpoint dependencies) never sees the tensors; the variables
  are put back on exit, also after an error.
  """
  swapped = []
  try:
    for m in (module,) + tuple(module.submodules):
      keep = getattr(m, "float32_variables", ())
      for name, value in list(vars(m).items()):
        if name.startswith("_"):
          continue
        cast = _cast_tree(value, tf.float32 if name in keep else dtype)
        if cast is not None:
          swapped.append((m, name, value))
          object.__setattr__(m, name, cast)
    yield
  finally:
    for m, name, value in reversed(swapped):
      object.__setattr__(m, name, value)


def read_once(forward, module):
  """``forward`` with each of ``module``'s float32 trainable variables read
  once per call instead of once per use (per unrolled step).

  Same numbers.  For a 2-layer, 28-step MNIST export it removes 108 of the
  114 ``ReadVariableOp`` of a call (~1,100 ops), which shows at batch 1; in a
  training step it lets Grappler merge per-step work that only depends on the
  variables (``BinaryLSTMCell``'s binarised kernel).  Gradients reach the
  variables through the reads, sparse (``IndexedSlices``) ones included.
  """
  def call(inputs):
    with variables_read_as(module, tf.float32):
      return forward(inputs)
  return call


def forward_in(compute_dtype, forward, module):
  """``forward`` (inputs -> logits of ``module``) computed in ``compute_dtype``.

  Either way the module's variables are read once per call.  float32:
  ``read_once(forward, module)``.  Otherwise floating inputs are cast to
  ``compute_dtype`` (integer ids stay as they are), the module's variables are
  read as ``compute_dtype`` and the logits come back as float32.
  """
  dtype = check_compute_dtype(compute_dtype)
  if dtype == tf.float32:
    return read_once(forward, module)

  def call(inputs):
    inputs = tf.nest.map_structure(   # e.g. (ids, lengths): integers stay as they are
        lambda t: tf.cast(t, dtype) if t.dtype.is_floating else t, inputs)
    with variables_read_as(module, dtype):
      logits = forward(inputs)
    return tf.cast(logits, tf.float32)
  return call
