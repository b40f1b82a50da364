"""Word-level LSTM language model (Zaremba et al. 2014; the TF1 ``ptb_word_lm``).

``x_0 = dropout(embedding[ids])``, ``x_l = dropout(LSTM_l(x_{l-1}))``,
``logits = x_L @ softmax_w + softmax_b``, or with ``tie_embeddings``
``logits = x_L @ embedding^T + softmax_b`` (Press & Wolf 2017: one matrix for
input and output words, which regularises small corpora).  Between calls the LSTM state is
carried in non-trainable variables (truncated BPTT over contiguous windows),
one set for training batches and one for evaluation batches, so evaluating
never disturbs the training state; both are checkpointed with the model.
"""

import tensorflow as tf

from tf_lstm.cells import basic_lstm
from tf_lstm import unroll
from tf_lstm.app.models.dropout import dropout


class LanguageModel(tf.Module):
  """Call: ``((ids [B, T] int32, reset [] bool), training)`` -> logits ``[B, T, V]``.

  The state starts from the carried variables (zeros where ``reset``) and the
  final state is written back; ``B`` must be ``train_batch`` in training and
  ``eval_batch`` otherwise.  ``unroll`` is the stateless form (serving,
  sampling).  Embedding size = ``cells[0]``'s units (as in the tutorial);
  with ``init_scale`` every trainable variable starts ``U(-s, s)``.
  """

  def __init__(self, vocab_size, cells, train_batch, eval_batch, dropout_rate=0.0,
               init_scale=0.0, tie_embeddings=False, name="language_model"):
    super().__init__(name=name)
    self.cells = list(cells)
    self.vocab_size = int(vocab_size)
    self.dropout_rate = float(dropout_rate)
    units = self.cells[0].output_size
    with self.name_scope:
      self.embedding = tf.Variable(tf.random.uniform([self.vocab_size, units], -0.05, 0.05),
                                   name="embedding")
      depth = units
      for cell in self.cells:
        cell.build(depth)
        depth = cell.output_size
      if tie_embeddings:
        if depth != units:
          raise ValueError(f"tie_embeddings needs the last layer's {depth} units to equal "
                           f"the embedding size {units}")
        self.softmax_w = None
      else:
        self.softmax_w = tf.Variable(
            tf.random.uniform([depth, self.vocab_size], -0.05, 0.05), name="softmax_w")
      self.softmax_b = tf.Variable(tf.zeros([self.vocab_size]), name="softmax_b")
      self.train_state = self._state_variables(train_batch, "train_state")
      self.eval_state = self._state_variables(eval_batch, "eval_state")
    if init_scale:
      for v in self.trainable_variables:
        v.assign(tf.random.uniform(v.shape, -init_scale, init_scale))

  def _state_variables(self, batch, name):
    """Flat ``[c_0, h_0, c_1, h_1, ...]`` of ``[batch, units]`` zeros."""
    return [tf.Variable(tf.zeros([int(batch), cell.output_size]), trainable=False,
                        name=f"{name}/layer_{i}/{part}")
            for i, cell in enumerate(self.cells) for part in ("c", "h")]

  def zero_state(self, batch):
    return [cell.zero_state(batch, tf.float32) for cell in self.cells]

  def unroll(self, ids, state=None, training=False):
    """``ids [B, T]`` -> ``(logits [B, T, V], final state)``; ``state``: one
    ``LSTMStateTuple`` per layer (zeros when ``None``)."""
    x = dropout(tf.nn.embedding_lookup(self.embedding, ids), self.dropout_rate, training)
    if state is None:
      state = self.zero_state(tf.shape(ids)[0])
    final = []
    for cell, layer_state in zip(self.cells, state):
      x, s = unroll.dynamic_rnn(cell, x, initial_state=layer_state)
      x = dropout(x, self.dropout_rate, training)
      final.append(s)
    if self.softmax_w is None:
      logits = tf.einsum("btd,vd->btv", x, self.embedding)
    else:
      logits = tf.einsum("btd,dv->btv", x, self.softmax_w)
    return logits + self.softmax_b, final

  def __call__(self, inputs, training=False):
    ids, reset = inputs
    variables = self.train_state if training else self.eval_state
    flat = [tf.where(reset, tf.zeros_like(v), v) for v in variables]
    state = [basic_lstm.LSTMStateTuple(flat[2 * i], flat[2 * i + 1])
             for i in range(len(self.cells))]
    logits, final = self.unroll(ids, state, training)
    for v, s in zip(variables, tf.nest.flatten([tuple(s) for s in final])):
      v.assign(s)
    return logits
