"""tf.data pipelines shared by the tasks."""

from __future__ import annotations

import numpy as np
import tensorflow as tf

AUTOTUNE = tf.data.AUTOTUNE


def random_windows(
    ids: np.ndarray, window: int, batch_size: int, seed: int
) -> tf.data.Dataset:
    """An endless stream of batches of random windows of a token stream.

    Each example is `(ids[s : s + window], ids[s + 1 : s + window + 1])` for
    a start `s` drawn uniformly: inputs and next-token targets, as for
    maximum-likelihood training of a language model.
    """
    if len(ids) < window + 2:
        raise ValueError(
            f"The text is too short for windows of {window} tokens. "
            f"Received: {len(ids)} tokens"
        )
    tokens = tf.constant(ids, dtype=tf.int32)
    num_starts = len(ids) - window - 1

    def window_at(start):
        chunk = tokens[start : start + window + 1]
        return chunk[:-1], chunk[1:]

    starts = tf.data.Dataset.random(seed=seed).map(
        lambda value: tf.cast(value % num_starts, tf.int32)
    )
    return (
        starts.map(window_at, num_parallel_calls=AUTOTUNE)
        .batch(batch_size, drop_remainder=True)
        .prefetch(AUTOTUNE)
    )


def consecutive_windows(
    ids: np.ndarray, window: int, batch_size: int
) -> tf.data.Dataset:
    """Batches of non-overlapping windows covering the stream once, in order.

    Used for evaluation: every token after the first is predicted exactly
    once (the tail that does not fill a window is left out).
    """
    count = (len(ids) - 1) // window
    if count < 1:
        raise ValueError(
            f"The text is too short for one window of {window} tokens. "
            f"Received: {len(ids)} tokens"
        )
    inputs = ids[: count * window].reshape(count, window)
    targets = ids[1 : count * window + 1].reshape(count, window)
    return (
        tf.data.Dataset.from_tensor_slices((inputs, targets))
        .batch(batch_size)
        .cache()
        .prefetch(AUTOTUNE)
    )


def array_batches(
    arrays, batch_size: int, shuffle_seed: int | None = None
) -> tf.data.Dataset:
    """Batches of in-memory examples, reshuffled every epoch when seeded."""
    dataset = tf.data.Dataset.from_tensor_slices(arrays)
    if shuffle_seed is not None:
        dataset = dataset.shuffle(len(arrays[0]), seed=shuffle_seed)
    return dataset.batch(batch_size).prefetch(AUTOTUNE)
