"""In-graph decoding loops: sampling with temperature and top-k, greedy, beam.

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


def _tile_beams(tensor: tf.Tensor, beam_width: int) -> tf.Tensor:
    """[batch, ...] to [batch * beam_width, ...], each row repeated in place."""
    return tf.repeat(tensor, beam_width, axis=0)


def length_normalizer(lengths: tf.Tensor, length_penalty: float) -> tf.Tensor:
    """Wu et al. (2016)'s ((5 + length) / 6) ** alpha; alpha = 0 leaves scores."""
    lengths = tf.cast(lengths, tf.float32)
    return tf.pow((5.0 + lengths) / 6.0, length_penalty)


def coverage_penalty(coverage: tf.Tensor, mask: tf.Tensor, beta: float) -> tf.Tensor:
    """Wu et al. (2016)'s coverage penalty `beta * sum_i log(min(c_i, 1))`.

    `coverage` `[batch, source]` holds each source position's attention
    summed over the decoded steps; `mask` (bool, same shape) marks the real
    positions. It is 0 once every position got a total weight of 1, and
    lower the more of the source was left unattended (floored at 1e-6, so a
    position never attended counts about -13.8 * beta).
    """
    covered = tf.math.log(tf.clip_by_value(coverage, 1e-6, 1.0))
    return beta * tf.reduce_sum(tf.where(mask, covered, 0.0), axis=-1)


def beam_search(
    step_fn: StepFn,
    start_tokens: tf.Tensor,
    initial_state: Any,
    beam_width: int,
    max_length,
    end_token: int,
    length_penalty: float = 0.0,
    extra_score_fn: Callable[[Any], tf.Tensor] | None = None,
) -> tuple[tf.Tensor, tf.Tensor, tf.Tensor]:
    """Keeps the `beam_width` most likely sequences at every step.

    At every step each beam is extended by every token, and the `beam_width`
    best extensions by total log-probability (divided by
    `length_normalizer(length, length_penalty)`) are kept. A finished beam
    (one that produced `end_token`) keeps its score and only grows by end
    tokens. The loop stops when every beam has finished or after
    `max_length` steps. With `extra_score_fn`, a beam is ranked by its
    normalised log-probability plus `extra_score_fn(state)` of the state its
    last step returned (say, `coverage_penalty`); a finished beam keeps the
    extra score it finished with.

    Reference:
    - [Wu et al., 2016](https://arxiv.org/abs/1609.08144) (length and
      coverage penalties)

    Args:
        step_fn: the decoder step (see the module docstring).
        start_tokens: int32 `[batch]`, the first input.
        initial_state: the decoder state, first dimension `batch`; it is
            repeated for every beam.
        beam_width: int, the number of beams kept.
        max_length: int or int32 scalar tensor, the most steps.
        end_token: int, the id that ends a sequence.
        length_penalty: float alpha; 0 ranks by total log-probability.
        extra_score_fn: None, or a function of the state after a step giving
            float32 `[batch * beam_width]`, added to every beam's rank.

    Returns:
        `(tokens, scores, lengths)`: int32 `[batch, beam_width, steps]`, best
        beam first (after the end token, end tokens); float32
        `[batch, beam_width]`, the normalised log-probabilities (plus the
        extra scores); int32
        `[batch, beam_width]`, the tokens before the end token.
    """
    if beam_width < 1:
        raise ValueError(f"`beam_width` must be at least 1. Received: {beam_width}")
    max_length = tf.convert_to_tensor(max_length, dtype=tf.int32)
    batch_size = tf.shape(start_tokens)[0]
    state = tf.nest.map_structure(
        lambda tensor: _tile_beams(tensor, beam_width), initial_state
    )
    tokens = _tile_beams(tf.cast(start_tokens, tf.int32), beam_width)
    # Only the first beam is alive at the start, so that the first step
    # expands one beam into `beam_width` different ones.
    scores = tf.tile(
        tf.concat([[0.0], tf.fill([beam_width - 1], -1e9)], axis=0)[tf.newaxis],
        [batch_size, 1],
    )
    finished = tf.zeros([batch_size, beam_width], tf.bool)
    lengths = tf.zeros([batch_size, beam_width], tf.int32)
    sequences = tf.zeros([batch_size, beam_width, 0], tf.int32)
    extra = tf.zeros([batch_size, beam_width])
    beam_offsets = (tf.range(batch_size) * beam_width)[:, tf.newaxis]

    def condition(step, tokens, state, scores, extra, finished, lengths, sequences):
        return tf.logical_and(
            step < max_length, tf.logical_not(tf.reduce_all(finished))
        )

    def body(step, tokens, state, scores, extra, finished, lengths, sequences):
        logits, state = step_fn(tokens, state)
        if extra_score_fn is not None:
            new_extra = tf.reshape(
                tf.cast(extra_score_fn(state), tf.float32), [batch_size, beam_width]
            )
            extra = tf.where(finished, extra, new_extra)
        vocabulary_size = tf.shape(logits)[-1]
        log_probabilities = tf.reshape(
            tf.nn.log_softmax(tf.cast(logits, tf.float32)),
            [batch_size, beam_width, vocabulary_size],
        )
        # A finished beam continues only with the end token, at no cost.
        only_end = tf.where(tf.one_hot(end_token, vocabulary_size) > 0, 0.0, -1e9)[
            tf.newaxis, tf.newaxis
        ]
        log_probabilities = tf.where(
            finished[..., tf.newaxis], only_end, log_probabilities
        )
        totals = scores[..., tf.newaxis] + log_probabilities
        new_lengths = lengths + tf.cast(~finished, tf.int32)
        ranked = (
            totals / length_normalizer(new_lengths, length_penalty)[..., None]
            + extra[..., None]
        )
        _, best = tf.math.top_k(tf.reshape(ranked, [batch_size, -1]), k=beam_width)
        parents = best // vocabulary_size
        next_tokens = best % vocabulary_size
        scores = tf.gather(tf.reshape(totals, [batch_size, -1]), best, batch_dims=1)
        extra = tf.gather(extra, parents, batch_dims=1)
        was_finished = tf.gather(finished, parents, batch_dims=1)
        lengths = tf.gather(lengths, parents, batch_dims=1) + tf.cast(
            ~was_finished & (next_tokens != end_token), tf.int32
        )
        finished = was_finished | (next_tokens == end_token)
        sequences = tf.concat(
            [
                tf.gather(sequences, parents, batch_dims=1),
                next_tokens[..., tf.newaxis],
            ],
            axis=-1,
        )
        rows = tf.reshape(parents + beam_offsets, [-1])
        state = tf.nest.map_structure(lambda tensor: tf.gather(tensor, rows), state)
        tokens = tf.reshape(next_tokens, [-1])
        return step + 1, tokens, state, scores, extra, finished, lengths, sequences

    _, _, _, scores, extra, finished, lengths, sequences = tf.while_loop(
        condition,
        body,
        (tf.constant(0), tokens, state, scores, extra, finished, lengths, sequences),
        shape_invariants=(
            tf.TensorShape([]),
            tf.TensorShape([None]),
            tf.nest.map_structure(
                lambda tensor: tf.TensorShape([None]).concatenate(tensor.shape[1:]),
                state,
            ),
            tf.TensorShape([None, beam_width]),
            tf.TensorShape([None, beam_width]),
            tf.TensorShape([None, beam_width]),
            tf.TensorShape([None, beam_width]),
            tf.TensorShape([None, beam_width, None]),
        ),
    )
    normalised = (
        scores
        / length_normalizer(lengths + tf.cast(finished, tf.int32), length_penalty)
        + extra
    )
    order = tf.argsort(normalised, axis=-1, direction="DESCENDING")
    return (
        tf.gather(sequences, order, batch_dims=1),
        tf.gather(normalised, order, batch_dims=1),
        tf.gather(lengths, order, batch_dims=1),
    )


def teacher_forced(step_fn: StepFn, inputs: tf.Tensor, initial_state: Any) -> tf.Tensor:
    """Feeds `inputs` `[batch, steps]` one step at a time and stacks what
    `step_fn` returns for each step (say, its attention weights) into
    `[batch, steps, ...]`: how a decoder looked while reading a given
    sequence."""
    inputs = tf.cast(inputs, tf.int32)
    steps = tf.shape(inputs)[1]

    def body(step, state, outputs):
        output, state = step_fn(inputs[:, step], state)
        return step + 1, state, outputs.write(step, output)

    _, _, outputs = tf.while_loop(
        lambda step, *_: step < steps,
        body,
        (tf.constant(0), initial_state, tf.TensorArray(tf.float32, size=steps)),
    )
    stacked = outputs.stack()
    rank = tf.rank(stacked)
    return tf.transpose(stacked, tf.concat([[1, 0], tf.range(2, rank)], axis=0))
