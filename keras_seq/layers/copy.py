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

    Args:
        source_vocabulary_size: optional int, the size of the vocabulary of
            the source ids; None when they are output ids already.
        **kwargs: Base layer keyword arguments, such as `name`.

    Call arguments:
        inputs: list `[logits, attention, source_ids, features]`: logits over
            the vocabulary `(batch_size, Tq, vocabulary)`, attention weights
            over the source `(batch_size, Tq, Tv)` (rows summing to one),
            the source tokens' ids in the output vocabulary
            `(batch_size, Tv)` (int), and what the gate reads
            `(batch_size, Tq, dim)` (for example the decoder state, its
            context vector and its input, concatenated).
        mask: optional list of the inputs' masks, not needed (attention
            weights are zero on padding); the output has no mask of its own.
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

    def __init__(self, source_vocabulary_size=None, **kwargs):
        super().__init__(**kwargs)
        self.source_vocabulary_size = source_vocabulary_size
        self.gate = keras.layers.Dense(1, name="gate")
        self.vocabulary_map = None

    def build(self, input_shape):
        self.gate.build(input_shape[3])
        if self.source_vocabulary_size:
            self.vocabulary_map = self.add_weight(
                shape=(self.source_vocabulary_size,),
                dtype="int32",
                initializer=keras.initializers.Constant(-1),
                trainable=False,
                name="vocabulary_map",
            )
        self.built = True

    def set_vocabulary_map(self, output_ids):
        """The output id of every source id (-1: none), an int sequence of
        length `source_vocabulary_size`."""
        if self.vocabulary_map is None:
            raise ValueError(
                "set_vocabulary_map needs a CopyMixture built with "
                "source_vocabulary_size"
            )
        if len(output_ids) != self.source_vocabulary_size:
            raise ValueError(
                f"Expected {self.source_vocabulary_size} output ids. "
                f"Received: {len(output_ids)}"
            )
        self.vocabulary_map.assign(ops.convert_to_tensor(output_ids, "int32"))

    def call(self, inputs, mask=None, return_gate=False):
        logits, attention, source_ids, features = inputs
        vocabulary = ops.shape(logits)[-1]
        gate = ops.sigmoid(ops.cast(self.gate(features), logits.dtype))
        generated = ops.softmax(logits, axis=-1)
        # (batch, Tv, vocabulary): which vocabulary entry each source token is.
        ids = ops.cast(source_ids, "int32")
        if self.vocabulary_map is not None:
            mapped = ops.take(self.vocabulary_map, ops.maximum(ids, 0))
            ids = ops.where(ids >= 0, mapped, -1)
        # Each attention weight is added onto the vocabulary entry of the
        # token it attends: a scatter-add of batch * Tq * Tv values, instead
        # of a (batch, Tv, vocabulary) one-hot matrix and a matmul with it.
        valid = ids >= 0
        shape = ops.shape(attention)
        batch, queries, keys = shape[0], shape[1], shape[2]
        rows = ops.broadcast_to(
            ops.reshape(ops.arange(batch, dtype="int32"), (-1, 1, 1)),
            (batch, queries, keys),
        )
        steps = ops.broadcast_to(
            ops.reshape(ops.arange(queries, dtype="int32"), (1, -1, 1)),
            (batch, queries, keys),
        )
        entries = ops.broadcast_to(
            ops.where(valid, ids, 0)[:, None, :], (batch, queries, keys)
        )
        weights = (
            ops.cast(attention, logits.dtype)
            * ops.cast(valid, logits.dtype)[:, None, :]
        )
        copied = ops.scatter(
            ops.stack([rows, steps, entries], axis=-1),
            weights,
            (batch, queries, vocabulary),
        )
        mixed = gate * generated + (1.0 - gate) * copied
        log_probabilities = ops.log(ops.maximum(mixed, 1e-9))
        if return_gate:
            return log_probabilities, gate
        return log_probabilities

    def compute_mask(self, inputs, mask=None):
        return None

    def compute_output_shape(self, input_shape):
        return input_shape[0]

    def get_config(self):
        config = super().get_config()
        config["source_vocabulary_size"] = self.source_vocabulary_size
        return config
