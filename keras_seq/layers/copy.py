"""The pointer-generator's output: generate a word or copy one from the source."""

from __future__ import annotations

import keras
from keras import ops


@keras.saving.register_keras_serializable(package="keras_seq")
class CopyMixture(keras.layers.Layer):
    """Mixes a softmax over the vocabulary with attention over the source.

    The pointer-generator of See et al. (2017): at every decoder step a
    learned gate `g = sigmoid(w . [features] + b)` weighs generating,
    `softmax(logits)`, against copying, the attention weights of the step
    summed onto the vocabulary ids of the source tokens they attend:

        p(w) = g * softmax(logits)(w) + (1 - g) * sum_{j: source_j = w} a_j

    so that a token the attention points at can be emitted whatever the
    output layer makes of it. Source positions whose id is negative (padding)
    copy nothing; attention weights over them should be zero already.

    Reference:
    - [See et al., 2017](https://arxiv.org/abs/1704.04368)

    Call arguments:
        inputs: list `[logits, attention, source_ids, features]`: logits over
            the vocabulary `(batch_size, Tq, vocabulary)`, attention weights
            over the source `(batch_size, Tq, Tv)` (rows summing to one),
            the source tokens' ids in the output vocabulary
            `(batch_size, Tv)` (int), and what the gate reads
            `(batch_size, Tq, dim)` (for example the decoder state, its
            context vector and its input, concatenated).
        return_gate: bool. Also return the gate `(batch_size, Tq, 1)`.

    Returns:
        Log-probabilities `(batch_size, Tq, vocabulary)` (their exponentials
        sum to one at every step), and the gate with `return_gate=True`.

    Example:

    >>> layer = CopyMixture()
    >>> logits = keras.ops.zeros((1, 2, 5))
    >>> attention = keras.ops.ones((1, 2, 3)) / 3
    >>> source = keras.ops.convert_to_tensor([[4, 4, 2]])
    >>> features = keras.ops.zeros((1, 2, 6))
    >>> layer([logits, attention, source, features]).shape
    (1, 2, 5)
    """

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.gate = keras.layers.Dense(1, name="gate")

    def build(self, input_shape):
        self.gate.build(input_shape[3])
        self.built = True

    def call(self, inputs, return_gate=False):
        logits, attention, source_ids, features = inputs
        vocabulary = ops.shape(logits)[-1]
        gate = ops.sigmoid(ops.cast(self.gate(features), logits.dtype))
        generated = ops.softmax(logits, axis=-1)
        # (batch, Tv, vocabulary): which vocabulary entry each source token is.
        ids = ops.cast(source_ids, "int32")
        one_hot = ops.one_hot(ops.where(ids >= 0, ids, 0), vocabulary)
        one_hot = one_hot * ops.cast(ids >= 0, one_hot.dtype)[..., None]
        copied = ops.matmul(ops.cast(attention, logits.dtype), one_hot)
        mixed = gate * generated + (1.0 - gate) * copied
        log_probabilities = ops.log(ops.maximum(mixed, 1e-9))
        if return_gate:
            return log_probabilities, gate
        return log_probabilities

    def compute_output_shape(self, input_shape):
        return input_shape[0]
