"""The pointer-generator's output: generate a word or copy one from the source."""

from __future__ import annotations

import keras
import numpy as np
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

    With `candidates=K > 1`, a source id stands for up to K output ids, each
    with a weight (rows summing to one): the attention weight of a source
    token is shared out among them. One is the token itself, others can be
    its translations from a dictionary, so that the copy path brings a
    discrete lexicon into the output, as Arthur et al. (2016) do with a
    bias on the logits.

    References:
    - [See et al., 2017](https://arxiv.org/abs/1704.04368)
    - [Arthur et al., 2016](https://arxiv.org/abs/1606.02006)

    Args:
        source_vocabulary_size: optional int, the size of the vocabulary of
            the source ids; None when they are output ids already.
        candidates: int, the output ids a source id stands for (with
            `source_vocabulary_size`); 1: one, with all its weight.
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

    def __init__(self, source_vocabulary_size=None, candidates=1, **kwargs):
        super().__init__(**kwargs)
        if int(candidates) < 1 or (candidates > 1 and not source_vocabulary_size):
            raise ValueError(
                "`candidates` must be a positive int, above 1 only with "
                f"`source_vocabulary_size`. Received: candidates={candidates}, "
                f"source_vocabulary_size={source_vocabulary_size}"
            )
        self.source_vocabulary_size = source_vocabulary_size
        self.candidates = int(candidates)
        self.gate = keras.layers.Dense(1, name="gate")
        self.vocabulary_map = None
        self.candidate_weights = None

    def build(self, input_shape):
        self.gate.build(input_shape[3])
        if self.source_vocabulary_size:
            # One id per source id (the shape of models saved before
            # `candidates`), or K of them with their weights.
            shape = (self.source_vocabulary_size,)
            if self.candidates > 1:
                shape += (self.candidates,)
                self.candidate_weights = self.add_weight(
                    shape=shape,
                    initializer="zeros",
                    trainable=False,
                    name="candidate_weights",
                )
            self.vocabulary_map = self.add_weight(
                shape=shape,
                dtype="int32",
                initializer=keras.initializers.Constant(-1),
                trainable=False,
                name="vocabulary_map",
            )
        self.built = True

    def set_vocabulary_map(self, output_ids, weights=None):
        """The output id of every source id (-1: none), an int sequence of
        length `source_vocabulary_size`; with `candidates=K`, K ids per
        source id and their `weights` (each row summing to one where it
        has an id)."""
        if self.vocabulary_map is None:
            raise ValueError(
                "set_vocabulary_map needs a CopyMixture built with "
                "source_vocabulary_size"
            )
        output_ids = np.asarray(output_ids, "int32")
        shape = tuple(self.vocabulary_map.shape)
        if output_ids.shape != shape:
            raise ValueError(
                f"Expected output ids of shape {shape}. Received: {output_ids.shape}"
            )
        if (weights is None) != (self.candidates == 1):
            raise ValueError(
                "Candidate weights go with candidates > 1, and only then. "
                f"Received: candidates={self.candidates}, weights given: "
                f"{weights is not None}"
            )
        if weights is not None:
            weights = np.asarray(weights, "float32")
            if weights.shape != shape:
                raise ValueError(
                    f"Expected weights of shape {shape}. Received: {weights.shape}"
                )
            self.candidate_weights.assign(np.where(output_ids >= 0, weights, 0.0))
        self.vocabulary_map.assign(output_ids)

    def call(self, inputs, mask=None, return_gate=False):
        logits, attention, source_ids, features = inputs
        vocabulary = ops.shape(logits)[-1]
        gate = ops.sigmoid(ops.cast(self.gate(features), logits.dtype))
        generated = ops.softmax(logits, axis=-1)
        # (batch, Tv, K): the vocabulary entries each source token stands
        # for, and the shares of its attention weight they get.
        ids = ops.cast(source_ids, "int32")[..., None]
        shares = ops.ones_like(ids, dtype=logits.dtype)
        if self.vocabulary_map is not None:
            clipped = ops.maximum(ids[..., 0], 0)
            mapped = ops.take(self.vocabulary_map, clipped, axis=0)
            if self.candidates > 1:
                shares = ops.cast(
                    ops.take(self.candidate_weights, clipped, axis=0), logits.dtype
                )
            else:
                mapped = mapped[..., None]
            ids = ops.where(ids >= 0, mapped, -1)
        # Each attention weight is added onto the vocabulary entries of the
        # token it attends: a scatter-add of batch * Tq * Tv * K values,
        # instead of a (batch, Tv, vocabulary) one-hot matrix and a matmul.
        valid = ids >= 0
        shape = ops.shape(attention)
        batch, queries, keys = shape[0], shape[1], shape[2]
        full = (batch, queries, keys, ops.shape(ids)[-1])
        rows = ops.broadcast_to(
            ops.reshape(ops.arange(batch, dtype="int32"), (-1, 1, 1, 1)), full
        )
        steps = ops.broadcast_to(
            ops.reshape(ops.arange(queries, dtype="int32"), (1, -1, 1, 1)), full
        )
        entries = ops.broadcast_to(ops.where(valid, ids, 0)[:, None], full)
        weights = (
            ops.cast(attention, logits.dtype)[..., None]
            * (shares * ops.cast(valid, logits.dtype))[:, None]
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
        config["candidates"] = self.candidates
        return config
