"""Entity-level precision/recall/F1 as the CoNLL ``conlleval`` script computes them.

A chunk is a maximal span of one type (``B-X``/``I-X``/``E-X``/``S-X``,
IOB1 or IOB2); a predicted chunk counts only if its start, end and type all
match a gold chunk.  ``F1 = 2PR / (P + R)`` in percent.
"""

import collections


def _split(tag):
  if tag in ("O", "", None):
    return "O", ""
  prefix, _, kind = tag.partition("-")
  return (prefix, kind) if kind else ("I", prefix)


def _end_of_chunk(prev_tag, tag, prev_type, type_):
  return ((prev_tag == "B" and tag in ("B", "S", "O")) or
          (prev_tag == "I" and tag in ("B", "S", "O")) or
          prev_tag in ("E", "S") or
          (prev_tag not in ("O", ".") and prev_type != type_))


def _start_of_chunk(prev_tag, tag, prev_type, type_):
  return (tag in ("B", "S") or
          (prev_tag in ("E", "S", "O") and tag in ("E", "I")) or
          (tag != "O" and prev_type != type_))


def chunks(tags):
  """Set of ``(start, end_exclusive, type)`` chunks of one tag sequence."""
  out, start, prev_tag, prev_type = set(), None, "O", ""
  for i, t in enumerate(list(tags) + ["O"]):
    tag, type_ = _split(t)
    if start is not None and _end_of_chunk(prev_tag, tag, prev_type, type_):
      out.add((start, i, prev_type))
      start = None
    if _start_of_chunk(prev_tag, tag, prev_type, type_):
      start = i
    prev_tag, prev_type = tag, type_
  return out


def evaluate(gold_sequences, predicted_sequences):
  """``{"precision", "recall", "f1"}`` (percent) plus per-type counts.

  Args: two equally long lists of equally long tag-string sequences.
  """
  found = correct = gold_total = 0
  by_type = collections.defaultdict(lambda: [0, 0, 0])   # correct, found, gold
  for k, (gold, pred) in enumerate(zip(gold_sequences, predicted_sequences, strict=True)):
    if len(gold) != len(pred):
      raise ValueError(f"sequence {k}: {len(gold)} gold tags but {len(pred)} predicted")
    g, p = chunks(gold), chunks(pred)
    gold_total += len(g)
    found += len(p)
    correct += len(g & p)
    for c in g & p:
      by_type[c[2]][0] += 1
    for c in p:
      by_type[c[2]][1] += 1
    for c in g:
      by_type[c[2]][2] += 1
  precision = 100.0 * correct / found if found else 0.0
  recall = 100.0 * correct / gold_total if gold_total else 0.0
  f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
  return {"precision": precision, "recall": recall, "f1": f1, "correct": correct,
          "found": found, "gold": gold_total, "by_type": dict(by_type)}
