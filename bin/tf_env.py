"""The training commands' process settings for scripts run from bin/ (benchmarks):
``tf_env.apply()`` before TensorFlow loads.  They are defined once, in
``tf_lstm.app.commands`` (its docstring says what they are and why)."""

from tf_lstm.app import commands


def apply():
  """Sets the defaults not already set and loads TensorFlow quietly."""
  commands.start()
