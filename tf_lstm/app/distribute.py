"""Making ``tf.distribute`` strategies, and who writes what under them.

``make_strategy(name, num_cpu_devices)`` turns ``bin/train --strategy`` into a
strategy; the training loop is the same under all of them:

  ``default``       ``tf.distribute.get_strategy()``: one device.
  ``mirrored``      ``MirroredStrategy`` over all local GPUs, or over
                    ``num_cpu_devices`` logical CPU devices (for testing).
  ``multi_worker``  ``MultiWorkerMirroredStrategy``; the cluster comes from the
                    ``TF_CONFIG`` environment variable.
  ``tpu``           ``TPUStrategy`` through ``TPUClusterResolver`` (untested).

Bad input (an unknown name, a malformed ``TF_CONFIG``, ``num_cpu_devices`` with
another strategy) raises ``DistributeError`` before TensorFlow starts.

Under several workers only the chief writes checkpoints, exports, summaries
and results; the other workers still take part in every save (saving may run
collective ops) but write into a private temporary directory that is deleted
right after (``CheckpointSaver``, ``export``, ``summary_writer``).
"""

import contextlib
import json
import os
import shutil
import tempfile

import tensorflow as tf

STRATEGIES = ("default", "mirrored", "multi_worker", "tpu")


class DistributeError(ValueError):
  """A strategy cannot be made from the given flags or environment."""


def parse_tf_config(text):
  """Checks a ``TF_CONFIG`` string; returns ``(cluster, task_type, task_index)``.

  ``cluster`` maps job names (``chief``, ``worker``, ...) to ``host:port`` lists.
  """
  if not text:
    raise DistributeError(
        "the multi_worker strategy needs the TF_CONFIG environment variable, e.g. "
        'TF_CONFIG=\'{"cluster": {"worker": ["host1:12345", "host2:12345"]}, '
        '"task": {"type": "worker", "index": 0}}\' (use the mirrored strategy on one machine)')
  try:
    cfg = json.loads(text)
  except ValueError as e:
    raise DistributeError(f"TF_CONFIG is not valid JSON ({e}): {text!r}") from e
  if not isinstance(cfg, dict) or not isinstance(cfg.get("cluster"), dict):
    raise DistributeError(f'TF_CONFIG needs a "cluster" object: {text!r}')
  cluster = cfg["cluster"]
  for job, addresses in cluster.items():
    if (not isinstance(addresses, list) or not addresses or
        not all(isinstance(a, str) and a.rpartition(":")[2].isdigit() for a in addresses)):
      raise DistributeError(
          f'TF_CONFIG cluster job {job!r} must be a non-empty list of "host:port" strings, '
          f"got {addresses!r}")
  if not ("worker" in cluster or "chief" in cluster):
    raise DistributeError(f'TF_CONFIG cluster needs a "worker" or "chief" job: {text!r}')
  if len(cluster.get("chief", [])) > 1:
    raise DistributeError(f"TF_CONFIG has {len(cluster['chief'])} chiefs; at most one")
  task = cfg.get("task")
  if not isinstance(task, dict) or "type" not in task:
    raise DistributeError(f'TF_CONFIG needs a "task" object with "type" and "index": {text!r}')
  task_type, index = task["type"], task.get("index", 0)
  if task_type not in ("chief", "worker"):
    raise DistributeError(
        f"TF_CONFIG task type {task_type!r}: bin/train runs as a 'chief' or 'worker'")
  if task_type not in cluster:
    raise DistributeError(f"TF_CONFIG task type {task_type!r} is not a job of the cluster "
                          f"({sorted(cluster)})")
  if not isinstance(index, int) or not 0 <= index < len(cluster[task_type]):
    raise DistributeError(f"TF_CONFIG task index {index!r} is out of range for the "
                          f"{len(cluster[task_type])} {task_type!r} task(s)")
  return cluster, task_type, index


def _configure_cpu_devices(n):
  """Splits the (first) CPU into ``n`` logical devices; before TF initialises."""
  cpu = tf.config.list_physical_devices("CPU")[0]
  current = tf.config.get_logical_device_configuration(cpu)
  if current is not None and len(current) == n:
    return
  try:
    tf.config.set_logical_device_configuration(
        cpu, [tf.config.LogicalDeviceConfiguration() for _ in range(n)])
  except RuntimeError as e:
    raise DistributeError(
        f"cannot make {n} logical CPU devices: TensorFlow is already initialised "
        f"({e}); make the strategy before running any TensorFlow op") from e


def make_strategy(name="default", num_cpu_devices=0, tpu=""):
  """A ``tf.distribute.Strategy`` by its ``--strategy`` name (see module doc).

  ``num_cpu_devices`` (only with ``mirrored``, only without GPUs) mirrors over
  that many logical CPU devices; ``tpu`` names the TPU for ``TPUClusterResolver``
  ("" means the local one).
  """
  if name not in STRATEGIES:
    raise DistributeError(f"unknown strategy {name!r}; expected one of {list(STRATEGIES)}")
  if num_cpu_devices < 0:
    raise DistributeError(f"num_cpu_devices must be >= 0, got {num_cpu_devices}")
  if num_cpu_devices and name != "mirrored":
    raise DistributeError(f"num_cpu_devices is only for the mirrored strategy, not {name!r}")
  if tpu and name != "tpu":
    raise DistributeError(f"a TPU address is only for the tpu strategy, not {name!r}")

  if name == "default":
    return tf.distribute.get_strategy()
  if name == "mirrored":
    if num_cpu_devices:
      gpus = tf.config.list_physical_devices("GPU")
      if gpus:
        raise DistributeError(
            f"num_cpu_devices is for testing on machines without GPUs; this one has "
            f"{len(gpus)} GPU(s): drop the flag to mirror over them")
      _configure_cpu_devices(num_cpu_devices)
      return tf.distribute.MirroredStrategy([f"/cpu:{i}" for i in range(num_cpu_devices)])
    return tf.distribute.MirroredStrategy()
  if name == "multi_worker":
    parse_tf_config(os.environ.get("TF_CONFIG", ""))
    # Blocks until every task of the cluster has started.
    return tf.distribute.MultiWorkerMirroredStrategy()
  # name == "tpu": wired, but no TPU was available to test it.
  try:
    resolver = tf.distribute.cluster_resolver.TPUClusterResolver(tpu=tpu or None)
    tf.config.experimental_connect_to_cluster(resolver)
    tf.tpu.experimental.initialize_tpu_system(resolver)
  except (ValueError, RuntimeError, tf.errors.OpError) as e:
    raise DistributeError(f"no TPU found (address {tpu!r}): {e}") from e
  return tf.distribute.TPUStrategy(resolver)


def is_chief(strategy):
  """True on the task that writes checkpoints, exports, summaries and results."""
  return bool(strategy.extended.should_checkpoint)


def task_name(strategy):
  """``"worker-1"`` for a multi-worker task, ``"chief"`` otherwise."""
  resolver = getattr(strategy, "cluster_resolver", None)
  task_type = getattr(resolver, "task_type", None)
  if task_type is None or isinstance(strategy, tf.distribute.TPUStrategy):
    return "chief"
  return f"{task_type}-{resolver.task_id}"


def check_global_batch(batch_size, strategy):
  """Raises ``DistributeError`` unless ``batch_size`` splits evenly over replicas."""
  n = strategy.num_replicas_in_sync
  if batch_size % n:
    raise DistributeError(
        f"batch_size is the global batch and must be divisible by the {n} replicas; "
        f"{batch_size} is not (try {max(n, batch_size // n * n)})")
  return batch_size // n


def check_same_on_all_workers(strategy, value, what):
  """Raises unless the int ``value`` is equal on every worker (an all-gather; also a barrier)."""
  if not isinstance(strategy, tf.distribute.MultiWorkerMirroredStrategy):
    return
  per_replica = strategy.run(lambda: tf.constant([value], tf.int64))
  values = strategy.gather(per_replica, axis=0).numpy()   # one entry per replica
  lo, hi = int(values.min()), int(values.max())
  if lo != hi:
    raise DistributeError(
        f"the workers disagree on the {what} ({lo} to {hi}, {task_name(strategy)} has "
        f"{value}); every worker must see the chief's model_dir (shared storage)")


def replica_index_batches(index_ds, input_context):
  """This worker's share of a stream of global index batches, one replica batch each.

  ``index_ds`` yields ``[global_batch]`` index vectors (the same stream on every
  worker). Replica ``r`` of ``R`` gets slice ``r`` of ``R`` equal slices of each;
  this worker's local replicas are ``input_pipeline_id * L ... + L - 1`` and the
  returned dataset yields their slices in that order, which is the order
  ``distribute_datasets_from_function`` hands elements to local replicas.  So
  every step, the replicas of all workers together see exactly the global batch
  a single device would.
  """
  num_replicas = input_context.num_replicas_in_sync
  local = num_replicas // input_context.num_input_pipelines
  first = input_context.input_pipeline_id * local
  if num_replicas == 1:
    return index_ds

  def mine(indices):
    return tf.reshape(indices, [num_replicas, -1])[first:first + local]
  return index_ds.map(mine).unbatch()


def summary_writer(logdir, strategy):
  """A file writer on the chief, a no-op writer elsewhere."""
  if is_chief(strategy):
    return tf.summary.create_file_writer(logdir)
  return tf.summary.create_noop_writer()


@contextlib.contextmanager
def _worker_temp_dir(strategy):
  path = tempfile.mkdtemp(prefix=f"tf_lstm-{task_name(strategy)}-")
  try:
    yield path
  finally:
    shutil.rmtree(path, ignore_errors=True)


class CheckpointSaver:
  """``tf.train.CheckpointManager`` in ``directory`` on the chief.

  On other workers ``save`` writes into a temporary directory and deletes it
  (every worker must call ``save``); ``latest_checkpoint`` is always the
  chief's, so a restarted job resumes everywhere from the chief's checkpoint
  (the directory must be on storage every worker can read).
  """

  def __init__(self, checkpoint, directory, strategy, max_to_keep=3):
    self.checkpoint = checkpoint
    self.directory = directory
    self.strategy = strategy
    self.manager = None
    if is_chief(strategy):
      self.manager = tf.train.CheckpointManager(checkpoint, directory, max_to_keep=max_to_keep)

  @property
  def latest_checkpoint(self):
    if self.manager is not None:
      return self.manager.latest_checkpoint
    return tf.train.latest_checkpoint(self.directory)

  def save(self, checkpoint_number):
    if self.manager is not None:
      return self.manager.save(checkpoint_number=checkpoint_number)
    with _worker_temp_dir(self.strategy) as tmp:
      self.checkpoint.write(os.path.join(tmp, f"ckpt-{checkpoint_number}"))
    return None


def export(export_fn, serving_module, export_dir, strategy):
  """``export_fn(serving_module, export_dir)`` on the chief; elsewhere into a temp dir.

  Returns the chief's export path, ``None`` on other workers.
  """
  if is_chief(strategy):
    return export_fn(serving_module, export_dir)
  with _worker_temp_dir(strategy) as tmp:
    export_fn(serving_module, os.path.join(tmp, "export"))
  return None
