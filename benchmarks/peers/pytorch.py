"""Benchmark worker: ``torch.nn.LSTM`` of the same size with Adam (2 threads)."""

import _worker  # pylint: disable=g-import-not-at-top
import torch  # pylint: disable=g-import-not-at-top

MODULES = {"lstm": torch.nn.LSTM, "gru": torch.nn.GRU, "rnn": torch.nn.RNN}


def main():
  cfg = _worker.config()
  b, t, d, c = cfg["batch_size"], cfg["time_steps"], cfg["input_depth"], cfg["num_classes"]
  torch.set_num_threads(cfg.get("torch_threads", 2))
  torch.manual_seed(0)
  rnn = MODULES[cfg["cell"]](d, cfg["num_units"], num_layers=cfg["num_layers"],
                             batch_first=True)
  head = torch.nn.Linear(cfg["num_units"], c)
  params = list(rnn.parameters()) + list(head.parameters())
  opt = torch.optim.Adam(params, lr=1e-3)
  loss_fn = torch.nn.CrossEntropyLoss()
  g = torch.Generator().manual_seed(0)
  x = torch.rand(b, t, d, generator=g)
  y = torch.randint(0, c, (b,), generator=g)

  def step():
    opt.zero_grad(set_to_none=True)
    out, _ = rnn(x)
    loss = loss_fn(head(out[:, -1]), y)
    loss.backward()
    opt.step()
    return float(loss)

  _worker.serve(step, {"what": f"torch {torch.__version__} nn.{MODULES[cfg['cell']].__name__} "
                               f"+ Adam, eager, {torch.get_num_threads()} threads"})


if __name__ == "__main__":
  main()
