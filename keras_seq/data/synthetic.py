"""Synthetic long-memory problems: the adding problem and the copy task.

Both make a recurrent network carry information across `length` steps, so
that vanilla RNNs (whose gradients vanish over long spans) and gated ones
(GRU, LSTM) can be told apart.
"""

from __future__ import annotations

import math

import numpy as np

BLANK = 0


def adding_problem(
    num_examples: int, length: int, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """The adding problem of Hochreiter and Schmidhuber (1997).

    Every example is `length` steps of (value, marker): values uniform in
    [0, 1], markers 1 at two steps (one in each half of the sequence) and 0
    elsewhere. The target is the sum of the two marked values. Always
    predicting 1 (the mean target) has a mean squared error of
    Var(U1 + U2) = 2/12, about 0.167.

    Returns:
        inputs float32 `[num_examples, length, 2]`, targets float32
        `[num_examples, 1]`.
    """
    if length < 2:
        raise ValueError(f"`length` must be at least 2. Received: length={length}")
    values = rng.random((num_examples, length)).astype(np.float32)
    markers = np.zeros((num_examples, length), np.float32)
    half = length // 2
    rows = np.arange(num_examples)
    first = rng.integers(0, half, num_examples)
    second = rng.integers(half, length, num_examples)
    markers[rows, first] = 1.0
    markers[rows, second] = 1.0
    targets = (values[rows, first] + values[rows, second])[:, None]
    return np.stack([values, markers], axis=-1), targets.astype(np.float32)


ADDING_BASELINE_MSE = 2.0 / 12.0


def copy_memory(
    num_examples: int,
    delay: int,
    rng: np.random.Generator,
    num_symbols: int = 8,
    copy_length: int = 10,
) -> tuple[np.ndarray, np.ndarray]:
    """The copy-memory task (Hochreiter and Schmidhuber 1997; Arjovsky et al. 2016).

    Inputs: `copy_length` symbols drawn from `1..num_symbols`, then `delay - 1`
    blanks (0), a delimiter (`num_symbols + 1`) and `copy_length` blanks. Targets:
    blanks for the first `delay + copy_length` steps, then the symbols again.

    Returns:
        int32 inputs and targets, both `[num_examples, delay + 2 * copy_length]`.
    """
    if delay < 1:
        raise ValueError(f"`delay` must be at least 1. Received: delay={delay}")
    total = delay + 2 * copy_length
    symbols = rng.integers(1, num_symbols + 1, (num_examples, copy_length))
    inputs = np.zeros((num_examples, total), np.int32)
    targets = np.zeros((num_examples, total), np.int32)
    inputs[:, :copy_length] = symbols
    inputs[:, delay + copy_length - 1] = num_symbols + 1
    targets[:, -copy_length:] = symbols
    return inputs, targets


def copy_memory_baseline(delay: int, num_symbols: int = 8, copy_length: int = 10):
    """Cross-entropy per step (nats) of the best memoryless answer.

    Blanks with certainty for the first `delay + copy_length` steps, then a
    uniform guess among the symbols: `copy_length * ln(num_symbols)` nats
    over `delay + 2 * copy_length` steps (Arjovsky et al. 2016).
    """
    return copy_length * math.log(num_symbols) / (delay + 2 * copy_length)
