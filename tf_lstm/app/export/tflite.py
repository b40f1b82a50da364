"""Converts a serving module to a TFLite flatbuffer (builtin ops only).

The module provides ``tflite_function()``: a concrete function with a
dynamic batch dimension; the interpreter resizes it per request
(``resize_tensor_input`` or the signature runner).
"""

import tensorflow as tf

FILENAME = "model.tflite"


def convert(serving_module):
  """Returns the ``.tflite`` bytes of ``serving_module.tflite_function()``."""
  if not hasattr(serving_module, "tflite_function"):
    raise ValueError(f"{type(serving_module).__name__} has no tflite_function(); "
                     "this task cannot be exported to TFLite")
  fn = serving_module.tflite_function()
  converter = tf.lite.TFLiteConverter.from_concrete_functions([fn], serving_module)
  # Builtins only: the LiteRT interpreter from ai-edge-litert has no Flex ops.
  converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS]
  return converter.convert()
