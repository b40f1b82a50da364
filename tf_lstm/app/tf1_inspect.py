"""A TF1 checkpoint's architecture, read from its variable names and shapes alone.

    arch = tf1_inspect.inspect("/old/run/model.ckpt")
    print(tf1_inspect.report(arch))          # variables, architecture, the commands that fit
    arch.settings   # {"task": "mnist", "cell": "lstm", "num_layers": 2, "num_units": 128, ...}
    arch.unclear    # why the checkpoint does not determine the model ([] when it does)

What is found where (names in today's spelling, ``tf1_import.names.canonical``):
  cell       each group ``<prefix>/<cell scope>/<names>`` whose names are exactly a
             registered cell's (``tf1_cell_signatures``); its shapes give units,
             input depth and ``num_proj``
  layers     ``multi_rnn_cell/cell_K`` in the prefix (a whole-stack cell: ``cell_K/``
             under its scope); directions: ``fw``/``bw`` in the prefix
  head       the one ``[outputs, C]`` kernel with a ``[C]`` bias (C classes or tags;
             ``C = V`` with an embedding: a language model's softmax)
  embedding  a ``[V, E]`` variable named ``*embedding*``; a tagger's word, case and
             char-CNN features add up to the cell's input depth
  task       from these: images (input depth 28, or a ``[28, P]`` input projection),
             a text classifier, a tagger, a language model
Not stored in a checkpoint (say them as flags when they differ from the defaults):
``forget_bias``, ``cell_clip``, ``pooling``, dropout.
"""

import dataclasses
import re

from tf_lstm.app import config as config_lib
from tf_lstm.app import tasks
from tf_lstm.app import tf1_cell_signatures as signatures
from tf_lstm.app import tf1_import
from tf_lstm.app import tf1_optimizer_state
from tf_lstm.app.tf1_import.matching import format_shape
from tf_lstm.app.tasks.conll import ConllTask
from tf_lstm.app.tasks.images import WIDTH, ImageTask
from tf_lstm.app.tasks.imdb import ImdbTask
from tf_lstm.app.tasks.ptb import PtbTask

_MULTI_LAYER = re.compile(r"^cell_(\d+)$")


@dataclasses.dataclass
class CellGroup:
  """One cell's variables: ``prefix``/``scope``/``{name: checkpoint name}``."""
  prefix: str
  scope: str
  names: dict
  signature: object = None
  sizes: dict = None
  direction: str = None   # "fw", "bw" or None
  layer: int = 0
  rnn: str = ""           # the prefix without layer and direction parts


@dataclasses.dataclass
class Architecture:
  """What ``inspect`` found; ``settings`` are the tf_lstm settings it determines."""
  prefix: str
  shapes: dict
  weights: list = dataclasses.field(default_factory=list)   # model variables
  state: dict = dataclasses.field(default_factory=dict)     # name -> training_state kind
  groups: list = dataclasses.field(default_factory=list)
  found: list = dataclasses.field(default_factory=list)     # (what, text) report lines
  settings: dict = dataclasses.field(default_factory=dict)
  tasks: tuple = ()
  unclear: list = dataclasses.field(default_factory=list)
  unused: list = dataclasses.field(default_factory=list)
  optimizer: str = None   # the TF1 optimizer whose slots the checkpoint holds


def _cell_scopes():
  """Checkpoint cell scope -> the registered scopes whose signatures to try, own first."""
  out = {s: [s] for s in signatures.scopes()}
  for own, aliases in tf1_import.names.CELL_SCOPE_ALIASES.items():
    for alias in aliases:
      out.setdefault(alias, []).append(own)
  return out


def _group_cells(canon):
  """``[CellGroup]`` of the weights (``{checkpoint name: canonical name}``)."""
  scopes, groups = _cell_scopes(), {}
  for name, c in canon.items():
    parts = c.split("/")
    for i in range(len(parts) - 2, -1, -1):   # the innermost cell scope
      rel = "/".join(parts[i + 1:])
      if parts[i] in scopes and any(signatures.is_cell_variable(s, rel)
                                    for s in scopes[parts[i]]):
        key = ("/".join(parts[:i]), parts[i])
        groups.setdefault(key, CellGroup(*key, {})).names[rel] = name
        break
  return list(groups.values())


def _place(group):
  """Sets ``direction``, ``layer`` and ``rnn`` from the group's prefix."""
  parts, keep, i = group.prefix.split("/") if group.prefix else [], [], 0
  while i < len(parts):
    p = parts[i]
    layer = _MULTI_LAYER.match(parts[i + 1]) if i + 1 < len(parts) else None
    if p in ("fw", "bw"):
      group.direction = p
    elif p in ("multi_rnn_cell", "stack_bidirectional_rnn") and layer:
      group.layer = int(layer.group(1))
      keep.append(p if p == "stack_bidirectional_rnn" else "")
      i += 1
    else:
      keep.append(p)
    i += 1
  group.rnn = "/".join(k for k in keep if k)


def _solve(group, shapes, arch):
  """Sets ``signature``/``sizes``; a line in ``arch.unclear`` when no single cell fits."""
  rel_shapes = {rel: shapes[name] for rel, name in group.names.items()}
  fits = []
  for scope in _cell_scopes()[group.scope]:
    for sig in signatures.signatures_for(scope, rel_shapes):
      sizes = sig.solve(rel_shapes)
      if sizes:
        fits.append((sig, sizes))
    if fits:
      break   # the checkpoint's own scope before the aliases
  where = f"{group.prefix}/{group.scope}" if group.prefix else group.scope
  if not fits:
    arch.unclear.append(f"the variables under {where} ({', '.join(sorted(rel_shapes))}) fit "
                        "no registered cell with equal layer sizes")
  elif len({(s.spec.name, s.options, tuple(z.items())) for s, z in fits}) > 1:
    arch.unclear.append(f"{where} fits several cells: "
                        f"{', '.join(s.spec.name for s, _ in fits)}")
  else:
    group.signature, group.sizes = fits[0]


def _rnn(arch, groups):
  """The one RNN's cell settings and its output width (None if unclear)."""
  rnns = sorted({g.rnn for g in groups})
  if not groups:
    arch.unclear.append("no RNN cell variables (none under a registered cell's scope: "
                        f"{', '.join(signatures.scopes())})")
    return None
  if len(rnns) > 1:
    arch.unclear.append(f"{len(rnns)} RNNs: {', '.join(r or '(root)' for r in rnns)}; "
                        "pick one with --scope")
    return None
  if any(g.signature is None for g in groups):
    return None
  by_dir = {}
  for g in groups:
    by_dir.setdefault(g.direction, {}).setdefault(g.layer, []).append(g)
  directions = sorted(by_dir, key=str)
  if directions not in ([None], ["bw", "fw"]):
    arch.unclear.append(f"directions {directions}: expected one RNN or a fw and a bw RNN")
    return None
  if rnns[0].startswith("stack_bidirectional_rnn") or "/stack_bidirectional_rnn" in rnns[0]:
    arch.unclear.append("stack_bidirectional_rnn (each layer reads both directions) is not "
                        "a tf_lstm model: its bidirectional models stack each direction")
    return None
  first = groups[0]
  spec = first.signature.spec
  layer_counts = set()
  for d in directions:
    layers = by_dir[d]
    if sorted(layers) != list(range(len(layers))) or any(len(v) > 1 for v in layers.values()):
      arch.unclear.append(f"layers {sorted(layers)} of {rnns[0] or 'the RNN'}"
                          f"{' ' + d if d else ''}: expected cell_0 .. cell_K, one cell each")
      return None
    layer_counts.add(len(layers) * first.signature.layers)
  kinds = {(g.signature.spec.name, g.signature.options,
            tuple((k, v) for k, v in g.sizes.items() if k != "input_depth")) for g in groups}
  if len(kinds) > 1 or len(layer_counts) > 1:
    arch.unclear.append("the layers or directions differ in cell or size ("
                        + "; ".join(f"{g.prefix}/{g.scope}: {g.signature.spec.name} "
                                    f"{g.sizes}" for g in groups) + "): tf_lstm stacks equal "
                        "layers")
    return None
  units = first.sizes["num_units"]
  width = first.signature.option_values(first.sizes).get("num_proj") or units
  if first.signature.layers > 1:   # a whole-stack cell reads the top layer's h
    width = units
  for g in groups:
    want = width if g.layer else None
    if want is not None and g.sizes["input_depth"] != want:
      arch.unclear.append(f"{g.prefix}/{g.scope} reads depth {g.sizes['input_depth']}, "
                          f"the layer below gives {want}")
      return None
  bottom = [g for g in groups if g.layer == 0]
  if len({g.sizes["input_depth"] for g in bottom}) > 1:
    arch.unclear.append("the two directions read inputs of different depth")
    return None
  bidirectional = directions == ["bw", "fw"]
  arch.settings.update(cell=spec.name, num_layers=layer_counts.pop(), num_units=units,
                       **first.signature.option_values(first.sizes))
  arch.settings["bidirectional"] = bidirectional
  fixed = tf1_import.names.fixed_forget_bias(f"{first.prefix}/{first.scope}/x")
  if fixed:
    arch.settings["forget_bias"] = fixed[1]
  arch.settings["_input_depth"] = bottom[0].sizes["input_depth"]
  layout = (f"{first.scope}/{{{', '.join(sorted(first.names))}}}"
            if len(first.names) < 4 else f"{first.scope}/ ({len(first.names)} variables)")
  arch.found += [
      ("cell", f"{spec.name} ({spec.cls.__name__}: {layout})"
               + (f", {dict(first.signature.options)}" if first.signature.options else "")),
      ("layers", f"{arch.settings['num_layers']}"
                 + (" (one whole-stack cell)" if first.signature.layers > 1 else "")),
      ("units", f"{units}" + (f", projected to {width}" if width != units else "")),
      ("directions", "2 (fw, bw)" if bidirectional else "1"),
      ("input depth", f"{arch.settings['_input_depth']}"),
      ("rnn scope", rnns[0] or "(root)")]
  return width * (2 if bidirectional else 1)


def _pairs(rest, shapes, rows):
  """``[(kernel, bias)]``: 2-D ``[rows, C]`` with a ``[C]`` in ``rest`` (same scope first)."""
  out = []
  for k in sorted(n for n in rest if len(shapes[n]) == 2 and shapes[n][0] == rows):
    biases = [b for b in rest if shapes[b] == [shapes[k][1]]]
    near = [b for b in biases if b.rpartition("/")[0] == k.rpartition("/")[0]]
    out += [(k, b) for b in (near if len(near) == 1 else biases)]
  return out


def _heads(arch, rest, shapes, width, vocab_rows):
  """The output layer: ``(kernel, bias, C)``, a tied LM softmax ``(None, bias, V)`` or None."""
  pairs = _pairs(rest, shapes, width)
  if not pairs and vocab_rows:
    tied = [b for b in rest if shapes[b] == [vocab_rows]]
    if len(tied) == 1:
      return None, tied[0], vocab_rows
  if len(pairs) == 1:
    return pairs[0] + (shapes[pairs[0][0]][1],)
  if not pairs:
    arch.unclear.append(f"no output layer: no [{width}, C] kernel with a [C] bias")
  else:
    arch.unclear.append("several candidate output layers: " + "; ".join(
        f"{k} {format_shape(shapes[k])} + {b} {format_shape(shapes[b])}" for k, b in pairs)
        + " (name one with --var_map=output/kernel=...,output/bias=...)")
  return None


def _features(arch, rest, shapes, depth):
  """Embeddings and char-CNN that feed the cell: ``{role: name}`` (empty for images)."""
  embeddings = [n for n in rest if len(shapes[n]) == 2 and "embedding" in n.split("/")[-1]]
  convs = [n for n in rest if len(shapes[n]) == 3]
  out = {}
  if len(convs) == 1:
    scope = convs[0].rpartition("/")[0]
    chars = [e for e in embeddings if e.rpartition("/")[0] == scope
             and shapes[e][1] == shapes[convs[0]][1]]
    bias = [b for b in rest if b.rpartition("/")[0] == scope
            and shapes[b] == [shapes[convs[0]][2]]]
    if len(chars) == 1 and len(bias) == 1:
      out.update(char_embedding=chars[0], char_kernel=convs[0], char_bias=bias[0])
  words = sorted((e for e in embeddings if e not in out.values()),
                 key=lambda e: (-shapes[e][0], e))
  if words:
    out["embedding"] = words[0]
    out.update({f"embedding_{i}": e for i, e in enumerate(words[1:], 1)})
  total = sum(shapes[out[k]][1] for k in out if k.startswith("embedding"))
  total += shapes[out["char_kernel"]][2] if "char_kernel" in out else 0
  if out and total != depth:
    listed = ", ".join(f"{out[k]} {format_shape(shapes[out[k]])}" for k in out)
    arch.unclear.append(f"the embeddings ({listed}) give depth {total}, the cell reads {depth}")
  return out


def _projection(rest, shapes, depth):
  """An image row projection ``[28, depth]`` + ``[depth]``: ``(kernel, bias)`` or None."""
  pairs = [(k, b) for k, b in _pairs(rest, shapes, WIDTH) if shapes[k][1] == depth]
  return pairs[0] if len(pairs) == 1 else None


def _task_family(cls):
  for family in (ImageTask, ImdbTask, ConllTask, PtbTask):
    if issubclass(cls, family):
      return family
  return None


def _tasks_of(family):
  return tuple(n for n, cls in tasks.TASKS.items() if _task_family(cls) is family)


def _model(arch, rest, shapes, width):
  """Head, features and the task family; fills ``arch.settings``/``found``/``tasks``."""
  depth = arch.settings.pop("_input_depth")
  feats = _features(arch, rest, shapes, depth)
  vocab = shapes[feats["embedding"]][0] if "embedding" in feats else None
  head = _heads(arch, [n for n in rest if n not in feats.values()], shapes, width, vocab)
  used = list(feats.values())
  if "embedding" in feats:
    table = feats["embedding"]
    arch.found.append(("embedding", f"{table} {format_shape(shapes[table])}: {vocab} vocabulary "
                                    "rows"))
  if head:
    kernel, bias, classes = head
    used += [n for n in (kernel, bias) if n]
    arch.found.append(("head", (f"{kernel} {format_shape(shapes[kernel])} + " if kernel else
                                "tied to the embedding (transposed) + ")
                               + f"{bias} {format_shape(shapes[bias])}: {classes} outputs"))
  family = None
  if not feats:
    proj = _projection([n for n in rest if n not in used], shapes, depth)
    if proj:
      used += list(proj)
      arch.settings["input_projection"] = depth
      arch.found.append(("input projection",
                         f"{proj[0]} {format_shape(shapes[proj[0]])} + {proj[1]}"))
    if proj or depth == WIDTH:
      family = ImageTask
      if head and head[2] != ImageTask.num_classes:
        arch.unclear.append(f"the head has {head[2]} outputs; the image tasks have "
                            f"{ImageTask.num_classes} classes")
    else:
      arch.unclear.append(f"the cell reads depth {depth} and there is no embedding: no "
                          f"tf_lstm task fits (image rows are {WIDTH} wide)")
  elif head and head[2] == vocab:
    family = PtbTask
    arch.settings["tie_embeddings"] = head[0] is None
    if shapes[feats["embedding"]][1] != arch.settings.get("num_units"):
      arch.unclear.append("tf_lstm's language model embeds words in num_units dimensions; "
                          f"the embedding is {format_shape(shapes[feats['embedding']])}")
  elif "char_kernel" in feats or "embedding_1" in feats:
    family = ConllTask
    arch.settings["embedding_dim"] = shapes[feats["embedding"]][1]
    arch.settings["char_features"] = (shapes[feats["char_kernel"]][2]
                                      if "char_kernel" in feats else 0)
  else:
    family = ImdbTask
    arch.settings["embedding_dim"] = shapes[feats["embedding"]][1]
    if head and head[2] != ImdbTask.num_classes:
      arch.unclear.append(f"the head has {head[2]} outputs; imdb has "
                          f"{ImdbTask.num_classes} classes")
  arch.unused = sorted(n for n in rest if n not in used)
  if family is not None:
    arch.tasks = _tasks_of(family)
    arch.found.append(("task", " or ".join(arch.tasks)
                       + (" (same shapes: pick with --task)" if len(arch.tasks) > 1 else "")))


def _optimizer(arch):
  kinds = tf1_optimizer_state.tf1_optimizers(arch.state)
  arch.optimizer = kinds[0] if len(kinds) == 1 else None
  if len(kinds) > 1:   # not the model's architecture: an import then starts the slots fresh
    arch.found.append(("optimizer", f"slots of several optimizers: {', '.join(kinds)}"))


def inspect(checkpoint, scope=None):
  """The ``Architecture`` of the TF1 checkpoint at ``checkpoint`` (a prefix or a dir).

  ``scope``: look only at variables under this scope (a checkpoint holding
  several models).  Raises ``tf1_import.TF1ImportError`` if it cannot be read.
  """
  prefix, reader = tf1_import.open_checkpoint(checkpoint)
  # The scope in today's spelling, every segment (TF 0.12's RNN/... is rnn/...).
  scope = tf1_import.names.canonical(scope.strip("/") + "/x")[:-1] if scope else None
  shapes = {n: [int(d) for d in s] for n, s in reader.get_variable_to_shape_map().items()}
  arch = Architecture(prefix, shapes)
  for name, shape in sorted(shapes.items()):
    kind = tf1_import.names.training_state(name, shape)
    if kind:
      arch.state[name] = kind
    elif not scope or tf1_import.names.canonical(name).startswith(scope):
      arch.weights.append(name)
  _optimizer(arch)
  canon = {n: tf1_import.names.canonical(n) for n in arch.weights}
  groups = _group_cells(canon)
  for g in groups:
    _place(g)
    _solve(g, shapes, arch)
  arch.groups = groups
  width = _rnn(arch, groups)
  if width is None:
    return arch
  in_cells = {n for g in groups for n in g.names.values()}
  _model(arch, [n for n in arch.weights if n not in in_cells], shapes, width)
  if len(arch.tasks) == 1:
    arch.settings["task"] = arch.tasks[0]
  return arch


# tf_lstm optimizer names of TF1 optimizer slot names.
OPTIMIZER_NAMES = {"Adam": "adam", "RMSProp": "rmsprop", "Momentum": "momentum"}
# What each command needs besides the model settings, by task family.
_INPUTS = {PtbTask: ["--data_dir=DATA", "--train_file=TRAIN_FILE"], ImdbTask: ["--vocab=VOCAB"],
           ConllTask: ["--data_dir=DATA"]}


def model_settings(arch, task, cell=None):
  """The found model settings that apply to ``task`` with ``cell`` (default: the
  found cell), ``task`` included."""
  cell = cell or arch.settings.get("cell")
  if cell is None:
    return {"task": task}
  names = set(config_lib.model_setting_names(task, cell))
  return {"task": task, **{k: v for k, v in arch.settings.items() if k in names}}


def import_defaults(arch, given, var_map=False):
  """``{setting: value}`` for an import whose flags ``given`` ({name: value}) leave
  the rest to the checkpoint: the model settings and the optimizer it determines.

  Without ``task``: the one task that fits, else the declared default (mnist) if
  it fits.  Raises ``TF1ImportError`` with one line when the checkpoint does not
  determine what the flags leave open (no architecture flag given and something
  unclear, or several tasks but not the default fit and no ``--task``).
  """
  where = f"cannot tell the model from {arch.prefix}"
  arch_flags = set(given) & (set(config_lib.MODEL_SETTINGS) - {"task"})
  if arch.unclear and not arch_flags and not var_map:
    raise tf1_import.TF1ImportError(f"{where}: {arch.unclear[0]} (see --inspect)")
  task = given.get("task")
  default = config_lib.all_settings()["task"].default
  if task is None and len(arch.tasks) == 1:
    task = arch.tasks[0]
  elif task is None and (default in arch.tasks or (arch_flags and not arch.tasks)):
    task = default   # as before --inspect existed: the declared default task
  elif task is None:
    fits = " or ".join(f"--task={t}" for t in arch.tasks) or "no task"
    raise tf1_import.TF1ImportError(f"{where}: it fits {fits}; give --task")
  out = model_settings(arch, task, given.get("cell"))
  if arch.optimizer in OPTIMIZER_NAMES and OPTIMIZER_NAMES[arch.optimizer] in (
      config_lib.all_settings()["optimizer"].choices or ()):
    out["optimizer"] = OPTIMIZER_NAMES[arch.optimizer]
  return {k: v for k, v in out.items() if k not in given}


def _flag(name, value):
  if isinstance(value, bool):
    return f"--{name}" if value else f"--no{name}"
  return f"--{name}={value:g}" if isinstance(value, float) else f"--{name}={value}"


def commands(arch, task=None):
  """``(import command, train command)`` for the found architecture (``task``: one of
  ``arch.tasks``, default the first)."""
  task = task or arch.tasks[0]
  flags = [_flag(k, v) for k, v in model_settings(arch, task).items()]
  if arch.optimizer in OPTIMIZER_NAMES:
    flags.append(f"--optimizer={OPTIMIZER_NAMES[arch.optimizer]}")
  # The run's fixed settings: bin/train resumes only with the import's.
  flags.append(f"--batch_size={config_lib.all_settings()['batch_size'].default}")
  inputs = _INPUTS.get(_task_family(tasks.TASKS[task]), [])
  imp = ["bin/import_tf1", f"--checkpoint={arch.prefix}", *flags, *inputs, "--model_dir=DIR"]
  # bin/train fills what is not given from the task's defaults; the import recorded the
  # declared ones, and a resumed run must keep its fixed settings.
  declared, task_defaults = config_lib.all_settings(), tasks.defaults(task)
  kept = [_flag(n, declared[n].default) for n in config_lib.fixed_setting_names(task)
          if n not in ("optimizer", "batch_size")
          and task_defaults.get(n, declared[n].default) != declared[n].default]
  train = ["bin/train", *flags, *kept, "--learning_rate=LR", "--lr_schedule=constant",
           *(inputs if "--data_dir=DATA" in inputs else ["--data_dir=DATA"]),
           "--model_dir=DIR", "--train_steps=STEPS"]
  return " ".join(imp), " ".join(train)


def _not_stored(arch, task):
  spec = arch.groups[0].signature.spec if arch.groups and arch.groups[0].signature else None
  out = [o.name for o in (spec.options if spec else ()) if o.type is float]
  if task and _task_family(tasks.TASKS[task]) is PtbTask and "forget_bias" in out:
    out[out.index("forget_bias")] = "forget_bias (the PTB tutorial's is 0)"
  if task and _task_family(tasks.TASKS[task]) is ImageTask:
    out.append("pooling (last or mean)")
  if task and "dropout" in config_lib.model_setting_names(task, arch.settings.get("cell", "lstm")):
    out.append("dropout")
  return out


def report(arch, task=None):
  """The ``--inspect`` text: variables, architecture, what is unclear, the commands."""
  task = task or (arch.tasks[0] if arch.tasks else None)
  shapes = arch.shapes
  lines = [f"TF1 checkpoint {arch.prefix}: {len(shapes)} variables "
           f"({len(arch.weights)} weights, {len(arch.state)} training state)",
           "weights:"]
  lines += [f"  {n} {format_shape(shapes[n])}" for n in arch.weights]
  slots = sorted(n for n, k in arch.state.items() if k == "optimizer_slot")
  other = sorted(n for n, k in arch.state.items() if k != "optimizer_slot")
  if slots:
    lines.append(f"optimizer state: {arch.optimizer or 'mixed'} ({len(slots)} slots: "
                 f"{', '.join(slots[:3])}{', ...' if len(slots) > 3 else ''})")
  else:
    lines.append("optimizer state: none (an import starts the optimizer's slots fresh)")
  if other:
    lines.append("other training state: "
                 + ", ".join(f"{n} {format_shape(shapes[n])}" for n in other))
  lines.append("architecture:")
  lines += [f"  {what:<17}{text}" for what, text in arch.found]
  if arch.unused:
    lines.append(f"  {'not explained':<17}{', '.join(arch.unused)}")
  not_stored = _not_stored(arch, task)
  if not_stored:
    lines.append(f"  {'not stored':<17}{', '.join(not_stored)}: give them if the TF1 program "
                 "used other values than the defaults")
  if arch.unclear:
    lines.append("unclear:")
    lines += [f"  - {u}" for u in arch.unclear]
  if arch.unclear or not task:
    return "\n".join(lines)
  imp, train = commands(arch, task)
  lines += ["import with:", f"  {imp}", "then train on with (the TF1 program's learning rate "
            "and batch size in both commands):", f"  {train}"]
  return "\n".join(lines)
