"""The matrix products of one training step (no TensorFlow or torch import)."""

GATES = {"lstm": 4, "gru": 3, "rnn": 1}


def step_matmul_shapes(cfg):
  """[(m, k, n)] of one training step (forward and backward), in FLOP order.

  Per layer l (input depth D_l, gate width G: 4N lstm, 3N gru, N rnn) and per
  time step: the forward ``[B, D_l+N] x [D_l+N, G]``, the input/state gradient
  ``[B, G] x [G, D_l+N]`` and the weight gradient ``[D_l+N, B] x [B, G]``; plus
  the head's three ``[B, N] x [N, C]``-sized products.
  FLOP per step = sum 2*m*k*n = 3 * 2*B*T*sum_l (D_l+N)*G + 3 * 2*B*N*C.
  """
  b, t, n, c = cfg["batch_size"], cfg["time_steps"], cfg["num_units"], cfg["num_classes"]
  g = GATES[cfg["cell"]] * n
  shapes = []
  for layer in range(cfg["num_layers"]):
    k = (cfg["input_depth"] if layer == 0 else n) + n
    shapes += [(b, k, g), (b, g, k), (k, b, g)] * t
  shapes += [(b, n, c), (b, c, n), (n, b, c)]
  return shapes


FORMULA = ("floor_ms = FLOP_per_step / measured GFLOP/s of these shapes; "
           "FLOP = 3*2*B*T*sum_l (D_l+N)*G + 3*2*B*N*C")
