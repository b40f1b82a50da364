"""TF1-semantics optimizers as ``tf.Module``s (no Keras).

They apply TensorFlow's fused kernels (``ResourceApplyAdam``,
``ResourceApplyGradientDescent``, ``ResourceApplyRMSProp``,
``ResourceApplyMomentum``): the very kernels
``tf.compat.v1.train.*Optimizer`` runs, so the port's updates match TF1's.
Slots are created once by ``build(var_list)``; under a ``tf.distribute``
strategy the gradients are summed across replicas and every replica's copy is
updated through ``strategy.extended.update``.
"""

import tensorflow as tf


class Optimizer(tf.Module):
  """Base class: learning rate and step count are variables (checkpointed)."""

  slot_names = ()

  def __init__(self, learning_rate, name=None):
    super().__init__(name=name)
    # step -> multiplier of learning_rate; see tf_lstm.app.schedules.
    self.schedule = None
    learning_rate = float(learning_rate)
    if not learning_rate > 0:
      raise ValueError(f"learning_rate must be > 0, got {learning_rate}")
    self.learning_rate = tf.Variable(learning_rate, trainable=False, name="learning_rate")
    self.iterations = tf.Variable(0, dtype=tf.int64, trainable=False, name="iterations")
    self.slots = []
    self._var_refs = None

  def _slot_initial_value(self, slot_name, var):
    return tf.zeros_like(var)

  def build(self, var_list):
    """Creates the slot variables for ``var_list`` (once, outside tf.function)."""
    refs = [v.ref() for v in var_list]
    if self._var_refs is not None:
      if refs != self._var_refs:
        raise ValueError(f"{self.name} was built for another list of variables")
      return
    with self.name_scope:
      self.slots = [
          {s: tf.Variable(self._slot_initial_value(s, v), trainable=False,
                          name=f"{v.name.split(':')[0].replace('/', '_')}_{s}")
           for s in self.slot_names}
          for v in var_list]
    self._var_refs = refs

  def variable_slots(self):
    """``[(variable, {slot name: slot variable})]`` in ``build``'s order ([] before it)."""
    return [(ref.deref(), slots) for ref, slots in zip(self._var_refs or (), self.slots)]

  def apply_gradients(self, grads_and_vars):
    """Applies one update; in a replica context the grads are summed first."""
    grads, var_list = zip(*grads_and_vars)
    if self._var_refs is None:
      self.build(var_list)
    if [v.ref() for v in var_list] != self._var_refs:
      raise ValueError(f"{self.name}: apply_gradients got other variables than build")
    if tf.distribute.in_cross_replica_context():
      return self._distributed_apply(tf.distribute.get_strategy(), grads, var_list)
    ctx = tf.distribute.get_replica_context()
    if ctx.num_replicas_in_sync > 1:
      grads = ctx.all_reduce(tf.distribute.ReduceOp.SUM, list(grads))
    return ctx.merge_call(self._distributed_apply, args=(grads, var_list))

  def _distributed_apply(self, strategy, grads, var_list):
    step = tf.cast(self.iterations + 1, tf.float32)
    lr = tf.identity(self.learning_rate)
    if self.schedule is not None:
      lr = lr * self.schedule(self.iterations)
    ops = []
    for g, v, slots in zip(grads, var_list, self.slots):
      ops.append(strategy.extended.update(
          v, self._apply_one, args=(g, slots, lr, step), group=False))
    with tf.control_dependencies(tf.nest.flatten(ops)):
      return strategy.extended.update(
          self.iterations, lambda it: it.assign_add(1), group=False)

  def _apply_one(self, var, grad, slots, lr, step):
    raise NotImplementedError


class SGD(Optimizer):
  """``var -= lr * grad`` (TF1 ``GradientDescentOptimizer``)."""

  def __init__(self, learning_rate, name="sgd"):
    super().__init__(learning_rate, name=name)

  def _apply_one(self, var, grad, slots, lr, step):
    return tf.raw_ops.ResourceApplyGradientDescent(var=var.handle, alpha=lr, delta=grad)


class Adam(Optimizer):
  """TF1 ``AdamOptimizer`` (epsilon-hat form, epsilon 1e-8):

      m = b1 m + (1 - b1) g;  v = b2 v + (1 - b2) g^2
      var -= lr sqrt(1 - b2^t) / (1 - b1^t) * m / (sqrt(v) + eps)
  """

  slot_names = ("m", "v")

  def __init__(self, learning_rate=0.001, beta1=0.9, beta2=0.999, epsilon=1e-8,
               name="adam"):
    super().__init__(learning_rate, name=name)
    self.beta1, self.beta2, self.epsilon = float(beta1), float(beta2), float(epsilon)

  def _apply_one(self, var, grad, slots, lr, step):
    return tf.raw_ops.ResourceApplyAdam(
        var=var.handle, m=slots["m"].handle, v=slots["v"].handle,
        beta1_power=tf.pow(self.beta1, step), beta2_power=tf.pow(self.beta2, step),
        lr=lr, beta1=self.beta1, beta2=self.beta2, epsilon=self.epsilon, grad=grad)


class RMSProp(Optimizer):
  """TF1 ``RMSPropOptimizer`` (``rms`` slot starts at ones, as in TF1):

      ms = rho ms + (1 - rho) g^2;  mom = momentum mom + lr g / sqrt(ms + eps)
      var -= mom
  """

  slot_names = ("rms", "momentum")

  def __init__(self, learning_rate=0.001, decay=0.9, momentum=0.0, epsilon=1e-10,
               name="rmsprop"):
    super().__init__(learning_rate, name=name)
    self.decay, self.momentum, self.epsilon = float(decay), float(momentum), float(epsilon)

  def _slot_initial_value(self, slot_name, var):
    return tf.ones_like(var) if slot_name == "rms" else tf.zeros_like(var)

  def _apply_one(self, var, grad, slots, lr, step):
    return tf.raw_ops.ResourceApplyRMSProp(
        var=var.handle, ms=slots["rms"].handle, mom=slots["momentum"].handle, lr=lr,
        rho=self.decay, momentum=self.momentum, epsilon=self.epsilon, grad=grad)


class Momentum(Optimizer):
  """TF1 ``MomentumOptimizer`` (``use_nesterov=False``; ``--optimizer=momentum``
  takes the customary momentum 0.9)::

      accum = momentum accum + g;  var -= lr accum
  """

  slot_names = ("momentum",)

  def __init__(self, learning_rate, momentum=0.9, name="momentum"):
    super().__init__(learning_rate, name=name)
    self.momentum = float(momentum)

  def _apply_one(self, var, grad, slots, lr, step):
    return tf.raw_ops.ResourceApplyMomentum(
        var=var.handle, accum=slots["momentum"].handle, lr=lr, grad=grad,
        momentum=self.momentum, use_nesterov=False)


OPTIMIZERS = {"adam": Adam, "sgd": SGD, "rmsprop": RMSProp, "momentum": Momentum}


def make_optimizer(name, learning_rate):
  """``make_optimizer("adam", 1e-3)``: an optimizer by its flag name."""
  if name not in OPTIMIZERS:
    raise ValueError(f"unknown optimizer {name!r}; expected one of {sorted(OPTIMIZERS)}")
  return OPTIMIZERS[name](learning_rate)
