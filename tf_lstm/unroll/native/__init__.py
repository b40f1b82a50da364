"""TensorFlow ops compiled from the C++ sources beside this file, on first use.

``build.load_library(name)`` compiles ``<name>.cc`` against the installed
TensorFlow (``tf.sysconfig``) for this CPU's vector units, caches the shared
library and loads it; ``lstm_layer`` is the LSTM layer op's Python side.
"""
