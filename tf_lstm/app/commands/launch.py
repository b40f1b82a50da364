"""Console-script entry points (setup.cfg) and what ``bin/<name>`` calls.

Each runs ``commands.start()`` before importing its command's module, which
loads TensorFlow; this module itself imports only the standard library.
"""

import importlib

from tf_lstm.app import commands


def _launch(name):
  commands.start()
  importlib.import_module(f"tf_lstm.app.commands.{name}").run()


def train():
  _launch("train")


def export():
  _launch("export")


def convert():
  _launch("convert")


def import_tf1():
  _launch("import_tf1")


def predict():
  _launch("predict")


def sample():
  _launch("sample")


def sweep():
  _launch("sweep")
