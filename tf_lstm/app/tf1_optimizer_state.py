"""TF1 optimizer state -> a tf_lstm optimizer, so that training goes on where TF1 stopped.

What ``tf.compat.v1.train`` optimizers save (slot names: the optimizer's ``name``,
its class's by default, uniquified per variable) and where it goes::

  TF1                                          tf_lstm (tf_lstm.app.optimizers)
  AdamOptimizer     <var>/Adam      m          Adam     slots["m"]
                    <var>/Adam_1    v                   slots["v"]
                    beta1_power = b1^(t+1), beta2_power = b2^(t+1) after t updates
                                               iterations = t (its bias correction
                                               reads b^(iterations + 1))
  RMSPropOptimizer  <var>/RMSProp   ms (starts at 1)   RMSProp  slots["rms"] (starts at 1)
                    <var>/RMSProp_1 mom                         slots["momentum"]
                    (centered: RMSProp_1 is mg, RMSProp_2 mom: not supported)
  MomentumOptimizer <var>/Momentum  accumulation       Momentum slots["momentum"] (momentum 0.9)
  global_step       updates made (when passed to minimize)   iterations

The tf_lstm optimizers run TF1's own update kernels (``ResourceApplyAdam``,
``ResourceApplyRMSProp``: epsilon inside the square root, ``ms`` from 1), so
with the slots and the step copied the next update is TF1's next update.
Hyper-parameters are not in checkpoints: tf_lstm's are TF1's defaults
(Adam 0.9/0.999/1e-8; RMSProp decay 0.9, momentum 0, epsilon 1e-10) and the
customary momentum 0.9 (TF1's ``MomentumOptimizer`` has no default).

    state = tf1_optimizer_state.plan(reader, optimizer, {variable ref: TF1 name})
    print("\\n".join(state.notes))
    tf1_optimizer_state.assign(state)
"""

import dataclasses
import math
import re

import numpy as np

from tf_lstm.app import optimizers
from tf_lstm.app import tf1_import

# tf_lstm optimizer class -> (TF1 slot name, ((tf_lstm slot, TF1 suffix), ...)).
SLOTS = {
    optimizers.Adam: ("Adam", (("m", "Adam"), ("v", "Adam_1"))),
    optimizers.RMSProp: ("RMSProp", (("rms", "RMSProp"), ("momentum", "RMSProp_1"))),
    optimizers.Momentum: ("Momentum", (("momentum", "Momentum"),)),
}

_KIND = re.compile(r"/(Adam|RMSProp|Momentum|Adagrad|Adadelta|Ftrl|ProximalAdagrad|AdagradDA)"
                   r"(_\d+)?$")
_POWER = re.compile(r"(^|/)(beta[12])_power(_\d+)?$")
_STEP = re.compile(r"(^|/)global_step$")


class OptimizerStateError(ValueError):
  """The checkpoint's optimizer state cannot continue in the tf_lstm optimizer."""


@dataclasses.dataclass
class Plan:
  """What ``assign`` writes: ``values`` ``[(slot variable, array)]``, ``iterations``
  (or None: left at 0) and ``notes`` (one line each, for the user)."""
  values: list
  iterations: int
  notes: list
  optimizer: object


def tf1_optimizers(names):
  """The TF1 optimizer slot names (``Adam``, ``RMSProp``, ...) among checkpoint ``names``."""
  kinds = {m.group(1) for m in map(_KIND.search, names) if m}
  if any(_POWER.search(n) for n in names):
    kinds.add("Adam")
  return sorted(kinds)


def _scalar(reader, names, what):
  if len(names) > 1:
    raise OptimizerStateError(f"the checkpoint holds {len(names)} {what} variables "
                              f"({', '.join(names)}); cannot tell which one is this run's")
  return float(np.asarray(reader.get_tensor(names[0]))) if names else None


def _adam_step(reader, shapes, optimizer):
  """Updates made, from ``beta1_power``/``beta2_power`` (None if not in the checkpoint)."""
  powers = {}
  for beta in ("beta1", "beta2"):
    names = sorted(n for n in shapes if (m := _POWER.search(n)) and m.group(2) == beta)
    powers[beta] = _scalar(reader, names, f"{beta}_power")
  if powers["beta1"] is None and powers["beta2"] is None:
    return None
  steps = {}
  for beta, value in powers.items():
    base = getattr(optimizer, beta)
    # float32 beta^(t+1) underflows after ~900 (beta1) / ~90000 (beta2) steps; by then
    # its bias correction is 1 and the step it stood for no longer matters.
    if value is not None and value > 1e-30:
      if not 0 < value <= base:
        raise OptimizerStateError(f"{beta}_power = {value:g} is not {beta}^(t+1) for "
                                  f"{beta}={base:g} (tf_lstm's Adam)")
      steps[beta] = math.log(value) / math.log(base) - 1
  if not steps:
    return None
  t = round(steps.get("beta1", steps.get("beta2")))
  # float32 products drift by ~t ulps: 1e-4 t steps of beta2 (log 0.999 ~ -1e-3).
  if any(abs(s - t) > 0.5 + 1e-4 * t for s in steps.values()):
    raise OptimizerStateError(
        "beta1_power and beta2_power are not b1^(t+1), b2^(t+1) for one t with tf_lstm's "
        f"Adam betas ({optimizer.beta1:g}, {optimizer.beta2:g}): "
        + ", ".join(f"{b}: t = {s:.2f}" for b, s in steps.items())
        + "; the TF1 run used other betas")
  return t


def plan(reader, optimizer, tf1_names):
  """The slot values and step count of ``reader``'s checkpoint for ``optimizer``.

  Args:
    reader: ``tf.train.load_checkpoint(prefix)``.
    optimizer: a built tf_lstm optimizer (``optimizer.build(variables)`` done).
    tf1_names: ``{variable.ref(): TF1 name}`` of the model's variables (the import's
      mapping).
  Raises:
    OptimizerStateError when the state is there but cannot continue in
    ``optimizer`` (a centered RMSProp, other Adam betas, a slot of another shape).
  """
  shapes = {n: list(s) for n, s in reader.get_variable_to_shape_map().items()}
  found = tf1_optimizers(shapes)
  kind, suffixes = SLOTS.get(type(optimizer), (None, ()))
  notes, values = [], []
  if kind == "RMSProp" and any(f"{t}/RMSProp_2" in shapes for t in tf1_names.values()):
    raise OptimizerStateError("the checkpoint's RMSProp is centered (<var>/RMSProp_2 slots); "
                              "tf_lstm's RMSProp is not: import with another optimizer to "
                              "start its slots fresh")
  fresh = []
  for var, slots in optimizer.variable_slots():
    tf1 = tf1_names.get(var.ref())
    names = [f"{tf1}/{suffix}" for _, suffix in suffixes] if tf1 else []
    if not names or not all(n in shapes for n in names):
      fresh.append(tf1 or var.name)
      continue
    for (slot, _), name in zip(suffixes, names):
      want = [int(d) for d in slots[slot].shape]
      if shapes[name] != want:
        raise OptimizerStateError(f"{name} is {shapes[name]} in the checkpoint; the slot "
                                  f"{slot} of {tf1} must be {want}")
      values.append((slots[slot], reader.get_tensor(name)))
  label = type(optimizer).__name__
  if not suffixes:
    notes.append(f"{label} has no slots; the checkpoint's "
                 f"{', '.join(found) or 'no'} optimizer state is not used")
  elif not values:
    other = f" (it holds {', '.join(found)} slots)" if found else ""
    notes.append(f"no {kind} slots in the checkpoint{other}: the {label} slots start fresh")
  elif fresh:
    notes.append(f"{kind} slots of {len(values) // len(suffixes)} variables imported; "
                 f"{', '.join(fresh)} start fresh (no slots in the checkpoint)")
  else:
    notes.append(f"{kind} slots of all {len(values) // len(suffixes)} variables imported")
  global_step = _scalar(reader, sorted(n for n in shapes if _STEP.search(n)), "global_step")
  iterations = None if global_step is None else int(global_step)
  if values and kind == "Adam":
    t = _adam_step(reader, shapes, optimizer)
    if t is not None and iterations is not None and t != iterations:
      notes.append(f"global_step is {iterations} but Adam made {t} updates (beta1_power): "
                   f"the step count continues from {t}, which Adam's bias correction needs")
    iterations = t if t is not None else iterations
  if iterations is None:
    notes.append("no global_step: the step count starts at 0")
  else:
    notes.append(f"the step count continues from {iterations}")
  return Plan(values, iterations, notes, optimizer)


def assign(state):
  """Writes a ``plan``'s values into its optimizer."""
  for slot, value in state.values:
    slot.assign(value)
  if state.iterations is not None:
    state.optimizer.iterations.assign(state.iterations)


def load(checkpoint, model, optimizer, mapping):
  """Imports the state of ``checkpoint`` for ``model``'s variables (``mapping``:
  ``{port name: TF1 name}``, ``tf1_import.load``'s) into ``optimizer``; its notes."""
  reader = tf1_import.open_checkpoint(checkpoint)[1]
  variables = {pv.name: pv.variable for pv in tf1_import.port_variables(model)}
  state = plan(reader, optimizer, {variables[p].ref(): t for p, t in mapping.items()})
  assign(state)
  return state.notes
