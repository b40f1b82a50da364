"""Benchmark worker: the floor's matrix products run by PyTorch (2 threads).

The same products as ``floor.py`` (``_step_shapes.step_matmul_shapes``), on
distinct inputs, with ``torch.mm`` (PyTorch's CPU BLAS: MKL in the x86 wheels).
Beside the floor row it tells how much of a gap to ``torch.nn.LSTM`` is the
matrix kernels themselves.
"""

import _step_shapes  # pylint: disable=g-import-not-at-top
import _worker  # pylint: disable=g-import-not-at-top
import torch  # pylint: disable=g-import-not-at-top


def main():
  cfg = _worker.config()
  torch.set_num_threads(cfg.get("torch_threads", 2))
  shapes = _step_shapes.step_matmul_shapes(cfg)
  flop = sum(2 * m * k * n for m, k, n in shapes)
  g = torch.Generator().manual_seed(0)
  weights = {s: torch.rand(s[1], s[2], generator=g) for s in set(shapes)}
  lhs = [torch.rand(m, k, generator=g) for m, k, _ in shapes]

  def step():
    for a, s in zip(lhs, shapes):
      torch.mm(a, weights[s])

  _worker.serve(step, {"what": f"the floor's matmuls with torch.mm, "
                               f"{torch.get_num_threads()} threads",
                       "flop_per_step": flop, "matmuls_per_step": len(shapes),
                       "formula": _step_shapes.FORMULA})


if __name__ == "__main__":
  main()
