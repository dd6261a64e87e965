"""Losses: token cross-entropy from logits with label smoothing and padding.

Label smoothing (Szegedy et al. 2016, section 7) trains against the target
distribution `(1 - eps) * one_hot(y) + eps / K` over `K` classes, so the
per-token loss is `(1 - eps) * -log p(y) + eps * mean_k(-log p(k))`.
"""

import keras
from keras import ops

from keras_seq.layers._checks import check_rate


def token_crossentropy(y_true, logits, label_smoothing: float = 0.0):
    """Per-token cross-entropy in nats of integer targets `[...]` against
    logits `[..., K]`; targets are used as indices, so give valid ids only.

    With `K` in the thousands, the passes over the `[..., K]` logits are
    most of a translation step's time, so this makes few: the forward pass
    is `m = max`, `e = exp(logits - m)`, `s = sum(e)` and, for the
    smoothing term, `mean(logits)` (from `-mean_k log p(k) =
    logsumexp(logits) - mean(logits)`); the gradient is written by hand,
    `g (e / s - eps / K - (1 - eps) one_hot(y))`, from the `e` kept. The
    plain cross-entropy (the metric) runs the same forward ops on the same
    logits, which TensorFlow's graph optimiser computes once for both.
    """
    targets = ops.expand_dims(ops.cast(y_true, "int32"), -1)
    eps = float(label_smoothing)

    @ops.custom_gradient
    def nats_of(x):
        top = ops.stop_gradient(ops.max(x, axis=-1, keepdims=True))
        exps = ops.exp(x - top)
        total = ops.sum(exps, axis=-1, keepdims=True)
        picked = ops.take_along_axis(x, targets, axis=-1)
        nats = ops.log(total) + top - picked
        if eps:
            nats = nats + eps * (picked - ops.mean(x, axis=-1, keepdims=True))

        def gradient(*args, upstream=None):
            if upstream is None:
                (upstream,) = args
            upstream = ops.expand_dims(upstream, -1)
            classes = ops.shape(x)[-1]
            d_logits = exps * (upstream / total)
            if eps:
                d_logits = d_logits - upstream * (eps / ops.cast(classes, x.dtype))
            hot = ops.one_hot(targets[..., 0], classes, dtype=x.dtype)
            return d_logits - hot * ((1.0 - eps) * upstream)

        return ops.squeeze(nats, -1), gradient

    return nats_of(ops.convert_to_tensor(logits))


def _valid_targets(y_true, ignore_class, sample_weight):
    """Targets with ignored ids replaced by 0, and the weight of each token
    (0 where ignored, times `sample_weight` when given)."""
    if ignore_class is None:
        return y_true, sample_weight
    valid = ops.not_equal(y_true, ignore_class)
    weight = ops.cast(valid, "float32")
    if sample_weight is not None:
        weight = weight * ops.cast(sample_weight, "float32")
    return ops.where(valid, y_true, ops.zeros_like(y_true)), weight


@keras.saving.register_keras_serializable(package="keras_seq")
class TokenCrossentropy(keras.losses.Loss):
    """Cross-entropy of integer targets against logits, averaged over the
    tokens that count.

    Args:
        label_smoothing: `eps` in [0, 1): the share of the target mass spread
            evenly over all classes. 0 is the plain cross-entropy.
        ignore_class: a target id (padding) that adds nothing to the loss and
            is left out of the average. None: every token counts.
        name: the loss name.

    Unlike `keras.losses.SparseCategoricalCrossentropy`, it smooths labels;
    like it with `ignore_class`, the mean is over the tokens that count.
    """

    def __init__(
        self,
        label_smoothing: float = 0.0,
        ignore_class: int | None = None,
        name: str = "token_crossentropy",
        dtype=None,
    ):
        check_rate("label_smoothing", label_smoothing)
        # The mean over weights: ignored tokens get weight 0 in `__call__`.
        super().__init__(name=name, reduction="mean_with_sample_weight", dtype=dtype)
        self.label_smoothing = float(label_smoothing)
        self.ignore_class = ignore_class

    def __call__(self, y_true, y_pred, sample_weight=None):
        y_true = ops.convert_to_tensor(y_true)
        y_true, sample_weight = _valid_targets(y_true, self.ignore_class, sample_weight)
        return super().__call__(y_true, y_pred, sample_weight=sample_weight)

    def call(self, y_true, y_pred):
        return token_crossentropy(y_true, y_pred, self.label_smoothing)

    def get_config(self):
        config = super().get_config()
        config.pop("reduction")  # always the mean over the tokens that count
        return {
            **config,
            "label_smoothing": self.label_smoothing,
            "ignore_class": self.ignore_class,
        }


@keras.saving.register_keras_serializable(package="keras_seq")
class TokenCrossentropyMetric(keras.metrics.Mean):
    """The plain (unsmoothed) cross-entropy in nats per token, averaged over
    the tokens whose target is not `ignore_class`: what a model trained with
    label smoothing is compared by."""

    def __init__(
        self, ignore_class: int | None = None, name="cross_entropy", dtype=None
    ):
        super().__init__(name=name, dtype=dtype)
        self.ignore_class = ignore_class

    def update_state(self, y_true, y_pred, sample_weight=None):
        y_true = ops.convert_to_tensor(y_true)
        y_true, sample_weight = _valid_targets(y_true, self.ignore_class, sample_weight)
        return super().update_state(
            token_crossentropy(y_true, y_pred), sample_weight=sample_weight
        )

    def get_config(self):
        return {**super().get_config(), "ignore_class": self.ignore_class}
