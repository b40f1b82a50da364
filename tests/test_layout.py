"""The package's layout: a port library that needs only TensorFlow and NumPy, and an
application (tf_lstm/app) on top of it, one way, without import cycles."""

import ast
import os
import subprocess
import sys

import pytest

from tests.conftest import ROOT

PACKAGE = os.path.join(ROOT, "tf_lstm")
APP = os.path.join(PACKAGE, "app")
NEVER = ("keras", "tf_keras", "torch", "bin", "legacy")
CONVERTER = "tf_lstm.app.convert"   # bin/convert: the only importer of keras and torch
CONVERT_TARGETS = ("keras", "torch")
TORCH_MODEL = "tf_lstm.app.convert.torch_model"


def modules(root):
  """``{dotted module name: path}`` of every .py file under ``root``."""
  out = {}
  for d, _, files in os.walk(root):
    for f in files:
      if f.endswith(".py"):
        path = os.path.join(d, f)
        name = os.path.relpath(path, ROOT)[:-3].replace(os.sep, ".")
        out[name[:-len(".__init__")] if name.endswith(".__init__") else name] = path
  return out


def _nodes(tree, module_level):
  """Every node of ``tree``, or with ``module_level`` those outside function bodies."""
  stack = [tree]
  while stack:
    node = stack.pop()
    yield node
    stack.extend(c for c in ast.iter_child_nodes(node) if not (
        module_level and isinstance(c, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda))))


def imports(name, path, module_level=False):
  """Every module ``name`` imports (module level and inside functions; with
  ``module_level`` only outside functions), absolute; ``from a import b`` gives
  ``a.b`` (``resolve`` maps it to ``a`` when ``b`` is not a module)."""
  out = set()
  tree = ast.parse(open(path).read(), path)
  is_package = path.endswith("__init__.py")
  for node in _nodes(tree, module_level):
    if isinstance(node, ast.Import):
      out.update(a.name for a in node.names)
    elif isinstance(node, ast.ImportFrom):
      if node.level:
        parts = name.split(".") if is_package else name.split(".")[:-1]
        base = ".".join(parts[:len(parts) - node.level + 1] + ([node.module] if node.module else []))
      else:
        base = node.module
      # `from pkg import name`: the module pkg.name if there is one, else pkg (resolve()).
      out.update(f"{base}.{a.name}" for a in node.names)
  return out


def uses_keras_attribute(path):
  """``tf.keras`` (or any ``<x>.keras``) in the source."""
  return any(isinstance(n, ast.Attribute) and n.attr == "keras"
             for n in ast.walk(ast.parse(open(path).read(), path)))


def test_library_needs_only_tensorflow_numpy_and_the_standard_library():
  library = {n: p for n, p in modules(PACKAGE).items() if not p.startswith(APP + os.sep)}
  assert "tf_lstm.cells.registry" in library and "tf_lstm.cells.basic_lstm" in library
  for name, path in library.items():
    for imported in imports(name, path):
      top = imported.split(".")[0]
      assert not imported.startswith("tf_lstm.app"), (name, imported)
      assert top in ("tf_lstm", "tensorflow", "numpy") or top in sys.stdlib_module_names, \
          (name, imported)


def test_no_keras_torch_bin_or_legacy_anywhere_in_the_package():
  """Only the converter (the optional ``convert`` extra) imports keras or torch, and only
  inside its functions; ``torch_model`` (PyTorch code, the file written next to a
  converted state dict) is imported only there, inside functions."""
  mods = modules(PACKAGE)
  assert TORCH_MODEL in mods
  for name, path in mods.items():
    converter = name.startswith(CONVERTER + ".")
    eager = imports(name, path, module_level=True)
    for imported in imports(name, path):
      top = imported.split(".")[0]
      if converter and top in CONVERT_TARGETS:
        assert imported not in eager or name == TORCH_MODEL, (name, imported)
      else:
        assert top not in NEVER, (name, imported)
      if imported.startswith(TORCH_MODEL):
        assert converter and imported not in eager, (name, imported)
    assert not uses_keras_attribute(path), name


def cycles(graph):
  """The strongly connected components of more than one module (Tarjan)."""
  index, low, stack, on_stack, out = {}, {}, [], set(), []

  def visit(v):
    index[v] = low[v] = len(index)
    stack.append(v)
    on_stack.add(v)
    for w in graph[v]:
      if w not in index:
        visit(w)
        low[v] = min(low[v], low[w])
      elif w in on_stack:
        low[v] = min(low[v], index[w])
    if low[v] == index[v]:
      component = []
      while True:
        w = stack.pop()
        on_stack.discard(w)
        component.append(w)
        if w == v:
          break
      if len(component) > 1:
        out.append(sorted(component))
  for v in sorted(graph):
    if v not in index:
      visit(v)
  return out


def module_graph():
  """Module -> the package's modules it imports (a package import means its __init__)."""
  mods = modules(PACKAGE)

  def resolve(name):
    while name and name not in mods:
      name = name.rpartition(".")[0]
    return name or None
  return {m: {t for t in map(resolve, imports(m, p)) if t and t != m} for m, p in mods.items()}


def test_no_import_cycles():
  graph = module_graph()
  # Imports inside functions count: commands.train imports the loop in main().
  assert "tf_lstm.app.training.loop" in graph["tf_lstm.app.commands.train"]
  assert cycles(graph) == []


def test_cycle_finder_finds_a_cycle():
  """The checker itself: the issue's two cycles, as they were, are reported."""
  graph = {"tasks": {"tasks.ptb"}, "tasks.ptb": {"loop"}, "loop": {"tasks", "saved_model"},
           "from_checkpoint": {"loop"}, "saved_model": set()}
  assert cycles(graph) == [["loop", "tasks", "tasks.ptb"]]
  graph["saved_model"] = {"from_checkpoint"}
  assert cycles(graph) == [["from_checkpoint", "loop", "saved_model", "tasks", "tasks.ptb"]]


_LOADED = """
import sys

import pytest
before = set(sys.modules)
{code}
print("\\n".join(sorted(set(sys.modules) - before)))
"""


def loaded_by(code):
  """Modules a fresh Python loads running ``code`` (TensorFlow's C++ logs silenced)."""
  proc = subprocess.run([sys.executable, "-c", _LOADED.format(code=code)], cwd=ROOT,
                        capture_output=True, text=True, timeout=300,
                        env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3"), check=True)
  return set(proc.stdout.split())


def test_import_tf_lstm_loads_no_tensorflow_absl_tfds_or_tensorboard():
  loaded = loaded_by("import tf_lstm")   # the public names resolve on first use
  assert "tf_lstm" in loaded
  for name in loaded:
    assert name.split(".")[0] not in ("tensorflow", "absl", "tensorflow_datasets",
                                      "tensorboard", *NEVER), name


def test_using_the_library_adds_nothing_to_what_tensorflow_loads():
  """``import tensorflow`` (2.21) itself loads absl.flags, absl.app and keras; the
  library, every module of it imported and used, adds only its own modules."""
  library = [n for n, p in modules(PACKAGE).items() if not p.startswith(APP + os.sep)]
  with_tf = loaded_by("import tensorflow")
  everything = loaded_by("".join(f"import {m}\n" for m in library) +
                         "import tf_lstm as rnn\nrnn.static_rnn, rnn.BasicLSTMCell\n")
  assert "tf_lstm.unroll" in everything and "tensorflow" in everything
  added = everything - with_tf
  assert "tf_lstm.cells.registry" in added
  assert {name.split(".")[0] for name in added} == {"tf_lstm"}, sorted(added)


_START = """
import os
from tf_lstm.app import commands
commands.start()
import tensorflow as tf
print(float(tf.reduce_sum(tf.ones([2]))), os.environ["TF_CPP_MIN_LOG_LEVEL"],
      os.environ["TF_ENABLE_ONEDNN_OPTS"])
"""


def test_commands_hide_tensorflow_start_up_noise_unless_asked():
  env = {k: v for k, v in os.environ.items()
         if k not in ("TF_CPP_MIN_LOG_LEVEL", "TF_ENABLE_ONEDNN_OPTS")}
  quiet = subprocess.run([sys.executable, "-c", _START], cwd=ROOT, env=env, timeout=300,
                         capture_output=True, text=True, check=True)
  assert quiet.stdout.split() == ["2.0", "2", "1"]
  assert quiet.stderr.strip() == "", quiet.stderr   # no banner, no CUDA probe, no notes
  asked = subprocess.run([sys.executable, "-c", _START], cwd=ROOT, timeout=300,
                         env=dict(env, TF_CPP_MIN_LOG_LEVEL="0", TF_ENABLE_ONEDNN_OPTS="0"),
                         capture_output=True, text=True, check=True)
  assert asked.stdout.split() == ["2.0", "0", "0"]   # the user's values win


def test_without_tensorflow_datasets_a_data_directory_is_asked_for(monkeypatch):
  """tensorflow-datasets is an extra (setup.cfg): without it, no data_dir is a clear error."""
  from tf_lstm.app.data import DataError
  from tf_lstm.app.data import images
  monkeypatch.setitem(sys.modules, "tensorflow_datasets", None)   # as if not installed
  with pytest.raises(DataError, match=r"give the task's data directory .*tf_lstm\[tfds\]"):
    images.load("mnist", "")
