"""TF1 variable names across TF versions, and the checkpoint entries that are not weights.

``canonical(name)`` rewrites the names older TF1 releases wrote to today's
(TF 1.2+) names, so one default name finds them all::

  TF 0.12   RNN/MultiRNNCell/Cell0/BasicLSTMCell/Linear/Matrix  (Linear/Bias)
            BiRNN/FW/..., GRUCell/Gates/Linear/Matrix, LSTMCell/W_0, B, W_F_diag, W_P_0
  TF 1.0/1  rnn/multi_rnn_cell/cell_0/basic_lstm_cell/weights    (biases)
  today     rnn/multi_rnn_cell/cell_0/basic_lstm_cell/kernel     (bias)

Cells whose variables have another cell's layout and math under another scope
name (``CELL_SCOPE_ALIASES``): ``LSTMBlockCell`` and TF1's ``LSTMCell``
without options (``lstm_cell``) and ``CudnnCompatibleLSTMCell``
(``cudnn_compatible_lstm_cell``, which runs with ``forget_bias=0``) for a
``BasicLSTMCell``; ``GRUBlockCellV2`` already writes ``GRUCell``'s names and
``GRUBlockCell``'s ``w_ru``, ``b_ru``, ``w_c``, ``b_c`` are rewritten to them.

``training_state(name, shape)`` says which entries are training state rather
than model weights: optimizer slots, ``global_step`` and scalars such as a
learning-rate variable (no tf_lstm model has a scalar weight).
"""

import re

# Scope segments of TF 0.12 (class names) -> today's.
_SEGMENTS = {"RNN": "rnn", "BiRNN": "bidirectional_rnn", "FW": "fw", "BW": "bw",
             "MultiRNNCell": "multi_rnn_cell", "BasicLSTMCell": "basic_lstm_cell",
             "LSTMCell": "lstm_cell", "LSTMBlockCell": "lstm_cell", "GRUCell": "gru_cell",
             "BasicRNNCell": "basic_rnn_cell", "Gates": "gates", "Candidate": "candidate"}
_CELL_K = re.compile(r"^Cell(\d+)$")   # TF 0.12 MultiRNNCell layer scopes
_LEAVES = {"weights": "kernel", "biases": "bias"}   # TF 1.0/1.1's _linear
_LEAVES_UNDER = {   # leaves renamed only under one cell's scope
    "lstm_cell": {"W_0": "kernel", "B": "bias", "W_F_diag": "w_f_diag",
                  "W_I_diag": "w_i_diag", "W_O_diag": "w_o_diag",
                  "W_P_0": "projection/kernel"},   # TF 0.12 LSTMCell
    "gru_cell": {"w_ru": "gates/kernel", "b_ru": "gates/bias", "w_c": "candidate/kernel",
                 "b_c": "candidate/bias"},   # GRUBlockCell (GRUBlockCellV2: GRUCell's)
}

# A cell scope of tf_lstm -> other TF1 cells' scopes with the same variables and math.
CELL_SCOPE_ALIASES = {
    "basic_lstm_cell": ("lstm_cell", "cudnn_compatible_lstm_cell"),
    "lstm_cell": ("basic_lstm_cell", "cudnn_compatible_lstm_cell"),
}
# Cell scopes whose TF1 cell ran with a fixed forget bias (not stored in checkpoints).
FIXED_FORGET_BIAS = {"cudnn_compatible_lstm_cell": 0.0}

# The end of an entry that belongs to a variable: an optimizer slot or a moving average.
SLOT_SUFFIX = re.compile(r"/(Adam|Momentum|RMSProp|Adagrad|AdagradDA|Adadelta|Ftrl|"
                         r"ProximalAdagrad|ExponentialMovingAverage)(_\d+)?$")
_SLOT = re.compile(r"(^|/)beta[12]_power(_\d+)?$|" + SLOT_SUFFIX.pattern)
_STEP = re.compile(r"(^|/)global_step$")
_RATE = re.compile(r"(^|/)(learning_rate|lr|\w*_lr|lr_\w*)(_\d+)?$", re.IGNORECASE)


def canonical(name):
  """``name`` as TF 1.2+ writes it (see the module docstring); other names unchanged."""
  parts = name.split("/")
  if len(parts) >= 2 and parts[-2] == "Linear" and parts[-1] in ("Matrix", "Bias"):
    parts = parts[:-2] + ["kernel" if parts[-1] == "Matrix" else "bias"]
  parts = [_SEGMENTS.get(p) or _CELL_K.sub(r"cell_\1", p) for p in parts[:-1]] + parts[-1:]
  under = _LEAVES_UNDER.get(parts[-2] if len(parts) >= 2 else "", {})
  leaf = under.get(parts[-1]) or _LEAVES.get(parts[-1]) or parts[-1]
  return "/".join(parts[:-1] + [leaf])


def scope_aliases(relative):
  """``basic_lstm_cell/kernel`` -> itself and the same variable under the alias scopes."""
  scope, sep, rest = relative.partition("/")
  return (relative,) + tuple(f"{a}{sep}{rest}" for a in CELL_SCOPE_ALIASES.get(scope, ()))


def fixed_forget_bias(name):
  """``(cell scope, forget bias)`` if ``name`` (canonical) is a variable of a cell that
  ran with a fixed forget bias, else None."""
  for scope, value in FIXED_FORGET_BIAS.items():
    if f"/{scope}/" in f"/{name}":
      return scope, value
  return None


def is_optimizer_slot(name):
  """True for optimizer state (``x/Adam_1``, ``beta1_power``) and ``global_step``."""
  return bool(_SLOT.search(name) or _STEP.search(name))


def training_state(name, shape):
  """``"optimizer_slot"``, ``"global_step"``, ``"learning_rate"``, ``"scalar"`` or None
  (a model weight).  ``shape``: the checkpoint's shape of ``name``."""
  if _SLOT.search(name):
    return "optimizer_slot"
  if _STEP.search(name):
    return "global_step"
  if len(shape) == 0:
    return "learning_rate" if _RATE.search(name) else "scalar"
  return None
