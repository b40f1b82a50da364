"""The README's two commands are what a new user runs, and CI runs the test one verbatim."""

import os
import re

from tests.conftest import ROOT


def _code_lines(path):
  """Lines inside the fenced code blocks of the markdown file ``path``."""
  text = open(path, encoding="utf-8").read()
  return [line.strip() for block in re.findall(r"^```[a-z]*\n(.*?)^```", text, re.M | re.S)
          for line in block.splitlines()]


def _readme_command(pattern):
  found = [line for line in _code_lines(os.path.join(ROOT, "README.md"))
           if re.search(pattern, line)]
  assert len(found) == 1, f"README: expected one command matching {pattern!r}, got {found}"
  return found[0]


def test_ci_runs_the_readme_test_command_verbatim():
  command = _readme_command(r"-m pytest\b")
  # A fresh virtual environment, the editable install with the test extras, the tests.
  assert command.startswith("python3 -m venv .venv && . .venv/bin/activate && ")
  assert "python -m pip install -e '.[test]'" in command
  ci = open(os.path.join(ROOT, ".ci", "run"), encoding="utf-8").read().splitlines()
  assert command in [line.strip() for line in ci], ".ci/run does not run the README's command"
  # pytest's "no tests collected" (exit 5) must fail CI.
  assert any(re.search(r'"\$rc" -eq 5', line) for line in ci)


def test_readme_main_job_installs_in_a_venv_and_trains_mnist_offline():
  command = _readme_command(r"bin/train --task=mnist")
  assert command.startswith("python3 -m venv .venv && . .venv/bin/activate && "
                            "python -m pip install -e . && bin/train ")
  data_dir = re.search(r"--data_dir=(\S+)", command).group(1)
  assert os.path.isfile(os.path.join(ROOT, data_dir, "t10k-images-idx3-ubyte.gz"))
  assert os.access(os.path.join(ROOT, "bin", "train"), os.X_OK)


def test_the_venv_and_runs_are_ignored_by_git():
  ignored = open(os.path.join(ROOT, ".gitignore"), encoding="utf-8").read().split()
  assert ".venv/" in ignored and "runs/" in ignored
