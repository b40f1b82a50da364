"""A tf_lstm classifier in PyTorch (written by ``tf-lstm-convert --to=torch`` next to
its state dict; needs only ``torch``).

    import model                       # this file (model.py next to model.pt)
    net = model.load()                 # Model(**CONFIG) + the state dict, in eval mode
    logits = net(images)               # image tasks: images [B, T, D] float
    logits = net(ids, lengths)         # imdb: ids [B, T] int64, lengths [B]
    probabilities = logits.softmax(-1)

``CONFIG`` (at the end) holds the sizes of the converted model.  The RNN is
TF1's unroll: a forward ``nn.LSTM``/``nn.RNN`` stack and, when bidirectional, a
second stack that reads each row reversed within its length (TF1's
``reverse_sequence``), its outputs reversed back and concatenated after the
forward ones.  Steps at ``t >= length`` never reach the valid outputs (the
forward RNN reads them only after, the backward one reads the reversed valid
steps first), and the mean pools over the valid steps only.

Source: ``tf_lstm/app/convert/torch_model.py`` (tf_lstm imports it only when it
converts, to check that the state dict fits).
"""

import os

import torch
from torch import nn


def reverse_valid(x, lengths):
  """``x [B, T, F]`` with ``x[b, t]`` -> ``x[b, lengths[b] - 1 - t]`` for ``t < lengths[b]``
  (later steps stay where they are): TF1's ``tf.reverse_sequence``."""
  t = torch.arange(x.shape[1], device=x.device)[None, :]
  last = lengths.to(x.device)[:, None] - 1
  index = torch.where(t <= last, last - t, t)
  return torch.gather(x, 1, index[:, :, None].expand(-1, -1, x.shape[2]))


class Recurrent(nn.Module):
  """``[B, T, D]`` -> ``[B, T, F]``: ``num_layers`` stacked cells forward (and backward).

  ``cell``: "lstm" (``nn.LSTM``, ``proj_size`` for TF1's ``num_proj``) or "rnn"
  (``nn.RNN``, tanh).  ``F`` = output size (x2 when ``bidirectional``).
  """

  def __init__(self, cell, input_size, hidden_size, num_layers, proj_size=0,
               bidirectional=False):
    super().__init__()
    if cell == "lstm":
      make = lambda: nn.LSTM(input_size, hidden_size, num_layers, batch_first=True,
                             proj_size=proj_size)
    elif cell == "rnn" and not proj_size:
      make = lambda: nn.RNN(input_size, hidden_size, num_layers, batch_first=True)
    else:
      raise ValueError(f"unknown cell {cell!r} (proj_size={proj_size}): expected lstm or rnn")
    self.fw = make()
    self.bw = make() if bidirectional else None

  def forward(self, x, lengths=None):
    out, _ = self.fw(x)
    if self.bw is None:
      return out
    if lengths is None:
      back, _ = self.bw(torch.flip(x, [1]))
      return torch.cat([out, torch.flip(back, [1])], 2)
    back, _ = self.bw(reverse_valid(x, lengths))
    return torch.cat([out, reverse_valid(back, lengths)], 2)


class ImageClassifier(nn.Module):
  """``images [B, T, input_depth]`` -> logits ``[B, num_classes]``: an optional linear
  projection of each step, the RNN, its last output (or the mean over time), linear."""

  def __init__(self, cell, input_depth, hidden_size, num_layers, num_classes, proj_size=0,
               input_projection=0, pooling="last", bidirectional=False):
    super().__init__()
    self.projection = nn.Linear(input_depth, input_projection) if input_projection else None
    self.rnn = Recurrent(cell, input_projection or input_depth, hidden_size, num_layers,
                         proj_size, bidirectional)
    self.pooling = pooling
    features = (proj_size or hidden_size) * (2 if bidirectional else 1)
    self.output = nn.Linear(features, num_classes)

  def forward(self, images):
    x = images if self.projection is None else self.projection(images)
    out = self.rnn(x)
    return self.output(out.mean(1) if self.pooling == "mean" else out[:, -1])


class TextClassifier(nn.Module):
  """``(ids [B, T], lengths [B])`` -> logits ``[B, num_classes]``: embedding, the RNN
  over the valid steps, the mean of its outputs at ``t < lengths``, linear."""

  def __init__(self, cell, vocab_size, embedding_dim, hidden_size, num_layers, num_classes,
               proj_size=0, bidirectional=False):
    super().__init__()
    self.embedding = nn.Embedding(vocab_size, embedding_dim)
    self.rnn = Recurrent(cell, embedding_dim, hidden_size, num_layers, proj_size,
                         bidirectional)
    features = (proj_size or hidden_size) * (2 if bidirectional else 1)
    self.output = nn.Linear(features, num_classes)

  def forward(self, ids, lengths):
    lengths = torch.as_tensor(lengths, device=ids.device)
    out = self.rnn(self.embedding(ids), lengths)
    valid = torch.arange(ids.shape[1], device=ids.device)[None, :] < lengths[:, None]
    total = (out * valid[:, :, None].to(out.dtype)).sum(1)
    return self.output(total / lengths.clamp(min=1)[:, None].to(out.dtype))


MODELS = {"ImageClassifier": ImageClassifier, "TextClassifier": TextClassifier}


def build(config):
  """An untrained model from a ``CONFIG``-like dict: ``{"model": name, **kwargs}``."""
  kwargs = dict(config)
  return MODELS[kwargs.pop("model")](**kwargs)


def load(path=None, map_location="cpu"):
  """The converted model, in eval mode: ``build(CONFIG)`` and the state dict at ``path``
  (default: this file's name with ``.pt``)."""
  path = path or os.path.splitext(os.path.abspath(__file__))[0] + ".pt"
  model = build(CONFIG)
  model.load_state_dict(torch.load(path, map_location=map_location, weights_only=True))
  return model.eval()


CONFIG = None   # tf-lstm-convert writes the converted model's here.
