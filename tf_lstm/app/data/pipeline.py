"""tf.data pipelines whose position is a pure function of the global step.

The training stream is epoch after epoch of a permutation of the examples,
each epoch's permutation drawn from ``(seed, epoch)``; so a run resumed at step
``s`` sees exactly the batches an uninterrupted run would, with no iterator
state in the checkpoint.
"""

import tensorflow as tf


def train_dataset(num_examples, batch_size, seed, start_step=0, shuffle=True):
  """Index batches ``[batch_size]`` int32 for steps ``start_step, ...`` (infinite).

  ``shuffle=False``: every epoch is ``0, 1, ..., num_examples - 1`` in order.
  """
  start = start_step * batch_size
  first_epoch = start // num_examples

  def epoch_indices(epoch):
    if not shuffle:
      return tf.data.Dataset.range(num_examples).map(lambda i: tf.cast(i, tf.int32))
    return tf.data.Dataset.from_tensor_slices(
        tf.random.experimental.stateless_shuffle(
            tf.range(num_examples), seed=tf.stack([tf.cast(seed, tf.int64), epoch])))

  return (tf.data.Dataset.range(first_epoch, 2**62)
          .flat_map(epoch_indices)
          .skip(start - first_epoch * num_examples)
          .batch(batch_size, drop_remainder=True))


def gather_batches(index_ds, arrays, transform, seed=0, start_step=0):
  """Maps index batches to ``transform(*[tf.gather(a, idx) for a in arrays], seed=...)``.

  ``transform`` is a task's ``train_transform``: it gets the stateless seed
  ``[seed, step]`` for its random augmentation (if any), so that randomness
  too is a pure function of the step and survives a resume.
  """
  tensors = [tf.constant(a) for a in arrays]
  steps = tf.data.Dataset.range(start_step, 2**62)
  return (tf.data.Dataset.zip((steps, index_ds))
          .map(lambda step, i: transform(*[tf.gather(t, i) for t in tensors],
                                         seed=tf.stack([tf.cast(seed, tf.int64), step])),
               num_parallel_calls=tf.data.AUTOTUNE)
          .prefetch(tf.data.AUTOTUNE))


def eval_dataset(arrays, batch_size, transform):
  """Every example once, in order, the last batch possibly smaller."""
  return (tf.data.Dataset.from_tensor_slices(tuple(arrays))
          .batch(batch_size)
          .map(lambda *xs: transform(*xs), num_parallel_calls=tf.data.AUTOTUNE)
          .prefetch(tf.data.AUTOTUNE))
