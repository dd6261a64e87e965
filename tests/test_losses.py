import json

import keras
import numpy as np
import pytest

from keras_seq.losses import TokenCrossentropy, TokenCrossentropyMetric
from tests.conftest import run_python

PAD = 0


@pytest.fixture
def batch():
    rng = np.random.default_rng(0)
    logits = rng.normal(size=(3, 5, 7)).astype("float32") * 2
    targets = rng.integers(1, 7, size=(3, 5)).astype("int32")
    targets[0, 3:] = PAD
    targets[2, 1:] = PAD
    return targets, logits


def _log_softmax(logits):
    shifted = logits - logits.max(-1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(-1, keepdims=True))


def test_without_smoothing_it_is_keras_sparse_crossentropy_with_ignore_class(batch):
    targets, logits = batch
    expected = keras.losses.SparseCategoricalCrossentropy(
        from_logits=True, ignore_class=PAD
    )(targets, logits)
    loss = TokenCrossentropy(ignore_class=PAD)(targets, logits)
    np.testing.assert_allclose(float(loss), float(expected), rtol=1e-5)


def test_smoothing_against_the_smoothed_target_distribution(batch):
    targets, logits = batch
    eps = 0.1
    classes = logits.shape[-1]
    # (1 - eps) * one_hot + eps / K, cross-entropy with the log-probabilities,
    # averaged over the tokens that are not padding.
    smoothed = (1 - eps) * np.eye(classes)[targets] + eps / classes
    per_token = -(smoothed * _log_softmax(logits)).sum(-1)
    expected = per_token[targets != PAD].mean()
    loss = TokenCrossentropy(eps, ignore_class=PAD)(targets, logits)
    np.testing.assert_allclose(float(loss), expected, rtol=1e-5)
    assert float(loss) != pytest.approx(
        float(TokenCrossentropy(ignore_class=PAD)(targets, logits)), rel=1e-3
    )


@pytest.mark.parametrize("eps", [0.0, 0.1])
def test_the_hand_written_gradient_is_the_smoothed_targets_gradient(batch, eps):
    import tensorflow as tf

    targets, logits = batch
    classes = logits.shape[-1]
    weight = (targets != PAD).astype("float32")
    # d loss / d logits of the mean over the tokens that count:
    # (softmax - smoothed targets) * weight / tokens.
    smoothed = (1 - eps) * np.eye(classes)[targets] + eps / classes
    softmax = np.exp(_log_softmax(logits))
    expected = (softmax - smoothed) * (weight / weight.sum())[..., None]
    logits = tf.constant(logits)
    with tf.GradientTape() as tape:
        tape.watch(logits)
        loss = TokenCrossentropy(eps, ignore_class=PAD)(targets, logits)
    np.testing.assert_allclose(tape.gradient(loss, logits), expected, atol=1e-6)


def test_padding_changes_nothing_and_every_token_counts_without_ignore_class(batch):
    targets, logits = batch
    loss = TokenCrossentropy(0.2, ignore_class=PAD)
    changed = logits.copy()
    changed[targets == PAD] = 100.0 * np.arange(logits.shape[-1])
    assert float(loss(targets, changed)) == pytest.approx(float(loss(targets, logits)))
    everything = TokenCrossentropy(0.2)(targets, logits)
    assert float(everything) != pytest.approx(float(loss(targets, logits)), rel=1e-3)


def test_sample_weight_is_combined_with_the_padding(batch):
    targets, logits = batch
    weight = np.ones(targets.shape, "float32")
    weight[1] = 0.0
    kept = np.array([0, 2])
    loss = TokenCrossentropy(0.1, ignore_class=PAD)
    np.testing.assert_allclose(
        float(loss(targets, logits, sample_weight=weight)),
        float(loss(targets[kept], logits[kept])),
        rtol=1e-5,
    )


def test_metric_is_the_plain_crossentropy_averaged_over_all_tokens(batch):
    targets, logits = batch
    metric = TokenCrossentropyMetric(ignore_class=PAD)
    # Two batches with different numbers of tokens: the mean is per token.
    metric.update_state(targets[:1], logits[:1])
    metric.update_state(targets[1:], logits[1:])
    per_token = -np.take_along_axis(_log_softmax(logits), targets[..., None], -1)[
        ..., 0
    ]
    np.testing.assert_allclose(
        float(metric.result()), per_token[targets != PAD].mean(), rtol=1e-5
    )


def test_config_round_trip_and_bad_smoothing():
    loss = TokenCrossentropy(0.1, ignore_class=PAD, name="smoothed")
    copy = keras.saving.deserialize_keras_object(
        keras.saving.serialize_keras_object(loss)
    )
    assert (copy.label_smoothing, copy.ignore_class, copy.name) == (
        0.1,
        PAD,
        "smoothed",
    )
    metric = keras.saving.deserialize_keras_object(
        keras.saving.serialize_keras_object(TokenCrossentropyMetric(ignore_class=PAD))
    )
    assert metric.ignore_class == PAD
    with pytest.raises(
        ValueError,
        match=r"`label_smoothing` must be in \[0, 1\)\. Received: label_smoothing=1\.5",
    ):
        TokenCrossentropy(1.5)


ON_JAX = """
    import json
    import keras
    import numpy as np
    from keras_seq.losses import TokenCrossentropy, TokenCrossentropyMetric
    targets, logits = np.array({targets}, "int32"), np.array({logits}, "float32")
    metric = TokenCrossentropyMetric(ignore_class=0)
    metric.update_state(targets, logits)
    print(json.dumps([keras.backend.backend(),
                      float(TokenCrossentropy(0.1, ignore_class=0)(targets, logits)),
                      float(metric.result())]))
"""


def test_loss_and_metric_give_the_same_numbers_on_jax(batch):
    pytest.importorskip("jax", reason="the test extra installs jax")
    targets, logits = batch
    result = run_python(
        ON_JAX.format(targets=targets.tolist(), logits=logits.tolist()),
        env={"KERAS_BACKEND": "jax"},
    )
    assert result.returncode == 0, result.stderr[-3000:]
    backend, loss, cross_entropy = json.loads(result.stdout.strip().splitlines()[-1])
    assert backend == "jax"
    metric = TokenCrossentropyMetric(ignore_class=PAD)
    metric.update_state(targets, logits)
    expected = float(TokenCrossentropy(0.1, ignore_class=PAD)(targets, logits))
    assert loss == pytest.approx(expected, rel=1e-5)
    assert cross_entropy == pytest.approx(float(metric.result()), rel=1e-5)
