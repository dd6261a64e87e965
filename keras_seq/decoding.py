"""In-graph decoding loops: sampling with temperature and top-k, greedy.

Every loop is a `tf.while_loop`, so it runs inside a SavedModel endpoint with
no Python around it. A decoder is given as a step function

    step_fn(tokens, state) -> (logits, new_state)

with `tokens` of shape `[batch]` (int32), `logits` of shape
`[batch, vocabulary_size]` and `state` any nested structure of tensors whose
first dimension is the batch.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import tensorflow as tf

StepFn = Callable[[tf.Tensor, Any], tuple[tf.Tensor, Any]]


def filter_top_k(logits: tf.Tensor, top_k) -> tf.Tensor:
    """Keeps the `top_k` largest logits of every row; 0 or less keeps all."""
    vocabulary_size = tf.shape(logits)[-1]
    top_k = tf.convert_to_tensor(top_k, dtype=tf.int32)
    k = tf.where(top_k > 0, tf.minimum(top_k, vocabulary_size), vocabulary_size)
    kth_largest = tf.math.top_k(logits, k=k).values[..., -1:]
    return tf.where(logits < kth_largest, tf.fill(tf.shape(logits), -1e9), logits)


def choose_next(
    logits: tf.Tensor, temperature, top_k=0, seed: tf.Tensor | None = None
) -> tf.Tensor:
    """Samples one id per row from `softmax(logits / temperature)`.

    A temperature of 0 or less picks the most likely id (greedy). With
    `seed` (an int32 tensor of shape [2]) the draw is stateless and
    repeatable.
    """
    temperature = tf.cast(temperature, logits.dtype)
    greedy = tf.argmax(logits, axis=-1, output_type=tf.int32)
    scaled = filter_top_k(logits / tf.maximum(temperature, 1e-6), top_k)
    if seed is None:
        sampled = tf.random.categorical(scaled, 1, dtype=tf.int32)[:, 0]
    else:
        sampled = tf.random.stateless_categorical(scaled, 1, seed, dtype=tf.int32)[:, 0]
    return tf.where(temperature > 0, sampled, greedy)


def sample(
    step_fn: StepFn,
    first_tokens: tf.Tensor,
    initial_state: Any,
    length,
    temperature=1.0,
    top_k=0,
    seed: int | None = None,
) -> tf.Tensor:
    """Draws `length` tokens, each fed back as the next step's input.

    Args:
        step_fn: the decoder step (see the module docstring).
        first_tokens: int32 `[batch]`, the input of the first step (the last
            token of a prompt).
        initial_state: the decoder state after the prompt.
        length: int or int32 scalar tensor, number of tokens to draw.
        temperature: float or scalar tensor; 0 or less for greedy.
        top_k: int or scalar tensor; 0 for no top-k filter.
        seed: optional int for repeatable (stateless) draws.

    Returns:
        int32 tensor `[batch, length]` of drawn tokens.
    """
    length = tf.convert_to_tensor(length, dtype=tf.int32)
    batch_size = tf.shape(first_tokens)[0]
    drawn = tf.TensorArray(tf.int32, size=length, element_shape=[None])

    def body(step, tokens, state, drawn):
        logits, state = step_fn(tokens, state)
        step_seed = None if seed is None else tf.stack([tf.constant(seed), step])
        tokens = choose_next(logits, temperature, top_k, step_seed)
        return step + 1, tokens, state, drawn.write(step, tokens)

    _, _, _, drawn = tf.while_loop(
        lambda step, *_: step < length,
        body,
        (tf.constant(0), tf.cast(first_tokens, tf.int32), initial_state, drawn),
    )
    return tf.reshape(tf.transpose(drawn.stack()), [batch_size, length])


def greedy_decode(
    step_fn: StepFn,
    start_tokens: tf.Tensor,
    initial_state: Any,
    max_length,
    end_token: int,
) -> tuple[tf.Tensor, tf.Tensor]:
    """Feeds back the most likely token until `end_token` or `max_length`.

    Returns:
        `(tokens, lengths)`: int32 `[batch, steps]` (the end token and
        anything after it replaced by `end_token`) and int32 `[batch]`, the
        number of tokens before the end token.
    """
    max_length = tf.convert_to_tensor(max_length, dtype=tf.int32)
    batch_size = tf.shape(start_tokens)[0]
    drawn = tf.TensorArray(tf.int32, size=0, dynamic_size=True, element_shape=[None])
    finished = tf.zeros([batch_size], dtype=tf.bool)
    lengths = tf.zeros([batch_size], dtype=tf.int32)

    def condition(step, tokens, state, drawn, finished, lengths):
        return tf.logical_and(
            step < max_length, tf.logical_not(tf.reduce_all(finished))
        )

    def body(step, tokens, state, drawn, finished, lengths):
        logits, state = step_fn(tokens, state)
        tokens = tf.argmax(logits, axis=-1, output_type=tf.int32)
        tokens = tf.where(finished, end_token, tokens)
        lengths += tf.cast(tf.logical_and(~finished, tokens != end_token), tf.int32)
        finished = finished | (tokens == end_token)
        return step + 1, tokens, state, drawn.write(step, tokens), finished, lengths

    _, _, _, drawn, _, lengths = tf.while_loop(
        condition,
        body,
        (
            tf.constant(0),
            tf.cast(start_tokens, tf.int32),
            initial_state,
            drawn,
            finished,
            lengths,
        ),
    )
    tokens = tf.transpose(drawn.stack())
    return tf.reshape(tokens, [batch_size, -1]), lengths
