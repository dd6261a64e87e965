"""Attention layers: dot-product (Luong), additive (Bahdanau) and pointer.

All three follow the conventions of `keras.layers.Attention`: inputs
`[query, value]` or `[query, value, key]`, `mask=[query_mask, value_mask]`
and `return_attention_scores=True` for the weights.
"""

import keras
from keras import ops

from keras_seq.layers._checks import check_choice, check_positive_int


def _large_negative(dtype):
    # A large negative that stays finite in float16, so that masked positions
    # get a softmax weight of zero without turning a fully masked row to NaN.
    return -65500.0 if keras.backend.standardize_dtype(dtype) == "float16" else -1e9


def _mask_scores(scores, value_mask):
    """Sets scores of masked value positions to a large negative."""
    if value_mask is None:
        return scores
    value_mask = ops.cast(value_mask, "bool")
    if len(value_mask.shape) == 2:
        value_mask = ops.expand_dims(value_mask, axis=-2)
    return ops.where(
        value_mask, scores, ops.cast(_large_negative(scores.dtype), scores.dtype)
    )


def _check_list(inputs):
    if not isinstance(inputs, (list, tuple)) or len(inputs) not in (2, 3):
        raise ValueError(
            "Attention layers take a list `[query, value]` or "
            f"`[query, value, key]`. Received: inputs={inputs!r}"
        )


def _query_and_key_shapes(input_shape):
    _check_list(input_shape)
    if not all(isinstance(shape, (list, tuple)) for shape in input_shape):
        raise ValueError(
            "Attention layers take a list `[query, value]` or "
            f"`[query, value, key]`. Received: a tensor of shape {input_shape}"
        )
    key_shape = input_shape[2] if len(input_shape) == 3 else input_shape[1]
    return input_shape[0], key_shape


def _split_inputs(inputs, mask):
    _check_list(inputs)
    query, value = inputs[0], inputs[1]
    key = inputs[2] if len(inputs) == 3 else value
    query_mask = value_mask = None
    if mask is not None:
        if not isinstance(mask, (list, tuple)) or len(mask) not in (2, 3):
            raise ValueError(
                "`mask` must be a list `[query_mask, value_mask]`. "
                f"Received: mask={mask!r}"
            )
        query_mask, value_mask = mask[0], mask[1]
    return query, value, key, query_mask, value_mask


class _BaseAttention(keras.layers.Layer):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.supports_masking = True

    def prepare_keys(self, key):
        """The part of the scoring that depends on the keys only.

        A decoder that attends over the same keys at every step computes it
        once and passes it to `attend`.
        """
        return key

    def _scores_with_keys(self, query, prepared_keys):
        raise NotImplementedError

    def _scores(self, query, key):
        return self._scores_with_keys(query, self.prepare_keys(key))

    def attend(self, query, value, prepared_keys, value_mask=None):
        """The context and weights for keys already passed to `prepare_keys`.

        Args:
            query: float tensor `(batch_size, Tq, query_dim)`.
            value: float tensor `(batch_size, Tv, value_dim)`.
            prepared_keys: what `prepare_keys(key)` returned.
            value_mask: optional boolean tensor `(batch_size, Tv)`.

        Returns:
            `(context, weights)` as `call(..., return_attention_scores=True)`.
        """
        scores = _mask_scores(self._scores_with_keys(query, prepared_keys), value_mask)
        weights = ops.softmax(scores, axis=-1)
        return ops.matmul(weights, value), weights

    def call(self, inputs, mask=None, return_attention_scores=False, training=None):
        query, value, key, query_mask, value_mask = _split_inputs(inputs, mask)
        context, weights = self.attend(query, value, self.prepare_keys(key), value_mask)
        if query_mask is not None:
            # Padded query steps get a zero context, as keras.layers.Attention.
            query_mask = ops.expand_dims(ops.cast(query_mask, context.dtype), -1)
            context = context * query_mask
        if return_attention_scores:
            return context, weights
        return context

    def compute_mask(self, inputs, mask=None):
        if mask is None:
            return None
        return mask[0]


@keras.saving.register_keras_serializable(package="keras_seq")
class DotAttention(_BaseAttention):
    """Dot-product attention (Luong et al., 2015).

    With `score="dot"` the score of query step `s` for value step `t` is
    `e_t . d_s`; with `score="general"` it is `e_t . (W d_s)`, with a learned
    `W`. The weights `alpha = softmax_t(scores)` average the values:
    `c_s = sum_t alpha_{t,s} v_t`. With `scale=True`, scores are divided by
    the square root of the key width, as in scaled dot-product attention.

    Reference:
    - [Luong et al., 2015](https://arxiv.org/abs/1508.04025)

    Args:
        score: str. `"dot"` or `"general"`.
        scale: bool. Divide scores by `sqrt(key_dim)`.
        **kwargs: Base layer keyword arguments, such as `name` and `dtype`.

    Call arguments:
        inputs: list `[query, value]` or `[query, value, key]`: query of shape
            `(batch_size, Tq, dim)`, value `(batch_size, Tv, value_dim)`, key
            `(batch_size, Tv, dim)` (the value when not given).
        mask: optional list `[query_mask, value_mask]` of boolean tensors of
            shapes `(batch_size, Tq)` and `(batch_size, Tv)` (or
            `(batch_size, Tq, Tv)` for a mask per query step).
        return_attention_scores: bool. Also return the attention weights.

    Returns:
        The context of shape `(batch_size, Tq, value_dim)`, and with
        `return_attention_scores=True` the weights `(batch_size, Tq, Tv)`,
        which are zero at masked value positions.

    Example:

    >>> query = keras.random.normal((2, 3, 4))
    >>> value = keras.random.normal((2, 5, 4))
    >>> context, weights = DotAttention()([query, value],
    ...                                   return_attention_scores=True)
    >>> context.shape, weights.shape
    ((2, 3, 4), (2, 3, 5))
    """

    def __init__(self, score="dot", scale=False, **kwargs):
        super().__init__(**kwargs)
        check_choice("score", score, ("dot", "general"))
        self.score = score
        self.scale = scale
        self.query_dense = None

    def build(self, input_shape):
        query_shape, key_shape = _query_and_key_shapes(input_shape)
        if self.score == "general":
            self.query_dense = keras.layers.Dense(
                key_shape[-1],
                use_bias=False,
                name="query_dense",
                dtype=self.dtype_policy,
            )
            self.query_dense.build(query_shape)
        elif (
            query_shape[-1] is not None
            and key_shape[-1] is not None
            and (query_shape[-1] != key_shape[-1])
        ):
            raise ValueError(
                "With score='dot' the query and key must have the same last "
                f"dimension. Received: query={query_shape}, key={key_shape}"
            )
        self.built = True

    def _scores_with_keys(self, query, key):
        if self.query_dense is not None:
            query = self.query_dense(query)
        scores = ops.matmul(query, ops.transpose(key, (0, 2, 1)))
        if self.scale:
            scores = scores / ops.sqrt(ops.cast(ops.shape(key)[-1], scores.dtype))
        return scores

    def get_config(self):
        config = super().get_config()
        config.update({"score": self.score, "scale": self.scale})
        return config


@keras.saving.register_keras_serializable(package="keras_seq")
class AdditiveAttention(_BaseAttention):
    """Additive attention with query and key projections (Bahdanau et al.).

    The score of query step `s` for key step `t` is
    `v . tanh(W_q d_s + W_k e_t + b)`, with learned `W_q`, `W_k`, `b` and `v`
    (`keras.layers.AdditiveAttention` has no projections, so its query and
    key must already share a width). The weights `alpha = softmax_t(scores)`
    average the values.

    Reference:
    - [Bahdanau et al., 2014](https://arxiv.org/abs/1409.0473)

    Args:
        units: int. Width of the projected query and key.
        **kwargs: Base layer keyword arguments, such as `name` and `dtype`.

    Call arguments:
        inputs: list `[query, value]` or `[query, value, key]`: query of shape
            `(batch_size, Tq, query_dim)`, value `(batch_size, Tv, value_dim)`,
            key `(batch_size, Tv, key_dim)` (the value when not given).
        mask: optional list `[query_mask, value_mask]` of boolean tensors of
            shapes `(batch_size, Tq)` and `(batch_size, Tv)` (or
            `(batch_size, Tq, Tv)`).
        return_attention_scores: bool. Also return the attention weights.

    Returns:
        The context of shape `(batch_size, Tq, value_dim)`, and with
        `return_attention_scores=True` the weights `(batch_size, Tq, Tv)`.

    Example:

    >>> query = keras.random.normal((2, 3, 6))
    >>> value = keras.random.normal((2, 5, 4))
    >>> AdditiveAttention(units=8)([query, value]).shape
    (2, 3, 4)
    """

    def __init__(self, units=128, **kwargs):
        super().__init__(**kwargs)
        check_positive_int("units", units)
        self.units = units
        self.query_dense = keras.layers.Dense(
            units, use_bias=False, name="query_dense", dtype=self.dtype_policy
        )
        self.key_dense = keras.layers.Dense(
            units, use_bias=True, name="key_dense", dtype=self.dtype_policy
        )

    def build(self, input_shape):
        query_shape, key_shape = _query_and_key_shapes(input_shape)
        self.query_dense.build(query_shape)
        self.key_dense.build(key_shape)
        self.score_vector = self.add_weight(
            name="score_vector",
            shape=(self.units,),
            initializer="glorot_uniform",
        )
        self.built = True

    def prepare_keys(self, key):
        return self.key_dense(key)

    def _scores_with_keys(self, query, projected_key):
        projected_query = ops.expand_dims(self.query_dense(query), axis=-2)
        projected_key = ops.expand_dims(projected_key, axis=-3)
        hidden = ops.tanh(projected_query + projected_key)
        return ops.einsum("bqtu,u->bqt", hidden, self.score_vector)

    def get_config(self):
        config = super().get_config()
        config.update({"units": self.units})
        return config


def decoder_attention(kind, units, **kwargs):
    """The attention a decoder of `units` puts on its encoder's states.

    `kind="dot"` gives Luong's "general" score (a learned query projection,
    so decoder and encoder widths may differ); `kind="additive"` gives
    Bahdanau's score with projections of `units`.
    """
    if kind == "dot":
        return DotAttention(score="general", **kwargs)
    return AdditiveAttention(units=units, **kwargs)


@keras.saving.register_keras_serializable(package="keras_seq")
class PointerAttention(AdditiveAttention):
    """Pointer attention (Vinyals et al., 2015): logits over input positions.

    Scores every input position `j` for every decoder step `i` with
    `u_ij = v . tanh(W1 e_j + W2 d_i)` and returns the scores themselves,
    with masked positions set to a large negative, so that a softmax (or a
    cross-entropy loss on the logits) points at one input position. A decoder
    that must not point twice at a position passes a per-step mask of shape
    `(batch_size, Tq, Tv)`.

    Reference:
    - [Vinyals et al., 2015](https://arxiv.org/abs/1506.03134)

    Args:
        units: int. Width of the projected decoder and encoder states.
        **kwargs: Base layer keyword arguments, such as `name` and `dtype`.

    Call arguments:
        inputs: list `[query, key]`: decoder states `(batch_size, Tq, dim)` and
            encoder states `(batch_size, Tv, key_dim)`. Given
            `[query, value, key]`, as the other attention layers, the key is
            scored.
        mask: optional list `[query_mask, key_mask]`; the key mask may have
            shape `(batch_size, Tv)` or `(batch_size, Tq, Tv)`.
        return_attention_scores: bool. Also return the softmax of the logits.

    Returns:
        Logits of shape `(batch_size, Tq, Tv)`, and with
        `return_attention_scores=True` also their softmax.

    Example:

    >>> decoder = keras.random.normal((2, 3, 6))
    >>> encoder = keras.random.normal((2, 5, 4))
    >>> PointerAttention(units=8)([decoder, encoder]).shape
    (2, 3, 5)
    """

    def call(self, inputs, mask=None, return_attention_scores=False, training=None):
        query, _, key, _, key_mask = _split_inputs(inputs, mask)
        logits = _mask_scores(self._scores(query, key), key_mask)
        if return_attention_scores:
            return logits, ops.softmax(logits, axis=-1)
        return logits

    def compute_mask(self, inputs, mask=None):
        return None


@keras.saving.register_keras_serializable(package="keras_seq")
class AttentionPooling(keras.layers.Layer):
    """Pools a sequence into one vector with learned attention weights.

    Scores every step with `u_t = v . tanh(W h_t + b)`, turns the scores of
    unmasked steps into weights `alpha = softmax_t(u)` and returns
    `sum_t alpha_t h_t`: a summary that keeps the words that matter, whose
    weights can be read to see which they were.

    Reference:
    - [Yang et al., 2016](https://aclanthology.org/N16-1174/)

    Args:
        units: int. Width of the scoring projection.
        **kwargs: Base layer keyword arguments, such as `name` and `dtype`.

    Call arguments:
        inputs: float tensor `(batch_size, timesteps, features)`.
        mask: optional boolean tensor `(batch_size, timesteps)`.
        return_attention_scores: bool. Also return the weights.

    Returns:
        The pooled tensor `(batch_size, features)`, and with
        `return_attention_scores=True` the weights `(batch_size, timesteps)`,
        zero at masked steps. A fully masked row pools to zeros.

    Example:

    >>> steps = keras.random.normal((2, 5, 4))
    >>> AttentionPooling(units=8)(steps).shape
    (2, 4)
    """

    def __init__(self, units=64, **kwargs):
        super().__init__(**kwargs)
        check_positive_int("units", units)
        self.units = units
        self.supports_masking = True
        self.projection = keras.layers.Dense(
            units, activation="tanh", name="projection", dtype=self.dtype_policy
        )

    def build(self, input_shape):
        self.projection.build(input_shape)
        self.score_vector = self.add_weight(
            name="score_vector", shape=(self.units,), initializer="glorot_uniform"
        )
        self.built = True

    def call(self, inputs, mask=None, return_attention_scores=False):
        # Remembered for compute_mask, as keras.layers.Attention does.
        self._return_attention_scores = return_attention_scores
        scores = ops.einsum("btu,u->bt", self.projection(inputs), self.score_vector)
        if mask is not None:
            mask = ops.cast(mask, "bool")
            scores = ops.where(
                mask, scores, ops.cast(_large_negative(scores.dtype), scores.dtype)
            )
        weights = ops.softmax(scores, axis=-1)
        if mask is not None:
            # A fully masked row would otherwise spread its weight evenly.
            weights = weights * ops.cast(mask, weights.dtype)
        pooled = ops.einsum("bt,btf->bf", weights, inputs)
        if return_attention_scores:
            return pooled, weights
        return pooled

    def compute_mask(self, inputs, mask=None):
        # The pooled vector has no time axis left to mask.
        if getattr(self, "_return_attention_scores", False):
            return [None, None]
        return None

    def get_config(self):
        config = super().get_config()
        config.update({"units": self.units})
        return config
