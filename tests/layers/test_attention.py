import keras
import numpy as np
import pytest

from keras_seq.layers import AdditiveAttention, DotAttention, PointerAttention


def _softmax(x):
    e = np.exp(x - x.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def test_dot_attention_by_hand():
    # One query, two encoder steps: scores e_t . d_s are 1 and 0, so the
    # weights are softmax([1, 0]) and the context their average of values.
    query = np.array([[[1.0, 0.0]]], "float32")
    key = np.array([[[1.0, 0.0], [0.0, 1.0]]], "float32")
    value = np.array([[[2.0, 0.0], [0.0, 4.0]]], "float32")
    context, weights = DotAttention()([query, value, key], return_attention_scores=True)
    alpha = np.exp(1) / (np.exp(1) + 1)
    np.testing.assert_allclose(weights, [[[alpha, 1 - alpha]]], rtol=1e-6)
    np.testing.assert_allclose(context, [[[2 * alpha, 4 * (1 - alpha)]]], rtol=1e-6)


def test_scaled_and_general_dot_attention():
    rng = np.random.default_rng(0)
    query = rng.normal(size=(2, 3, 4)).astype("float32")
    value = rng.normal(size=(2, 5, 4)).astype("float32")
    _, weights = DotAttention(scale=True)([query, value], return_attention_scores=True)
    expected = _softmax(query @ value.transpose(0, 2, 1) / 2.0)
    np.testing.assert_allclose(weights, expected, rtol=1e-5, atol=1e-6)
    layer = DotAttention(score="general")
    _, weights = layer([query, value], return_attention_scores=True)
    w = np.asarray(layer.query_dense.kernel)
    expected = _softmax((query @ w) @ value.transpose(0, 2, 1))
    np.testing.assert_allclose(weights, expected, rtol=1e-5, atol=1e-6)


def test_additive_attention_matches_its_formula():
    rng = np.random.default_rng(1)
    query = rng.normal(size=(2, 3, 6)).astype("float32")
    value = rng.normal(size=(2, 5, 4)).astype("float32")
    layer = AdditiveAttention(units=7)
    context, weights = layer([query, value], return_attention_scores=True)
    wq = np.asarray(layer.query_dense.kernel)
    wk = np.asarray(layer.key_dense.kernel)
    bk = np.asarray(layer.key_dense.bias)
    v = np.asarray(layer.score_vector)
    hidden = np.tanh((query @ wq)[:, :, None, :] + (value @ wk + bk)[:, None, :, :])
    expected = _softmax(hidden @ v)
    np.testing.assert_allclose(weights, expected, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(context, expected @ value, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize(
    "layer", [DotAttention(), AdditiveAttention(units=4)], ids=["dot", "additive"]
)
def test_padded_value_positions_get_zero_weight(layer):
    rng = np.random.default_rng(2)
    query = rng.normal(size=(2, 3, 4)).astype("float32")
    value = rng.normal(size=(2, 5, 4)).astype("float32")
    value_mask = np.array([[1, 1, 1, 0, 0], [1, 1, 1, 1, 1]], bool)
    context, weights = layer(
        [query, value], mask=[None, value_mask], return_attention_scores=True
    )
    weights = np.asarray(weights)
    assert np.all(weights[0, :, 3:] == 0)
    np.testing.assert_allclose(weights.sum(-1), np.ones((2, 3)), rtol=1e-5)
    # The padded values do not matter: changing them changes nothing.
    value[0, 3:] = 100.0
    changed = layer([query, value], mask=[None, value_mask])
    np.testing.assert_allclose(context, changed, rtol=1e-5, atol=1e-6)


def test_query_mask_zeroes_padded_query_steps():
    rng = np.random.default_rng(3)
    query = rng.normal(size=(2, 3, 4)).astype("float32")
    value = rng.normal(size=(2, 5, 4)).astype("float32")
    query_mask = np.array([[1, 1, 0], [1, 1, 1]], bool)
    context = np.asarray(DotAttention()([query, value], mask=[query_mask, None]))
    assert np.all(context[0, 2] == 0) and np.any(context[1, 2] != 0)


def test_masks_propagate_in_a_functional_model():
    tokens = keras.Input((None,), dtype="int32")
    embedded = keras.layers.Embedding(10, 4, mask_zero=True)(tokens)
    context, weights = AdditiveAttention(units=4)(
        [embedded, embedded], return_attention_scores=True
    )
    model = keras.Model(tokens, weights)
    weights = model.predict(np.array([[1, 2, 0, 0]]), verbose=0)
    assert np.all(weights[0, :, 2:] == 0)


def test_pointer_attention_returns_masked_logits():
    rng = np.random.default_rng(4)
    decoder = rng.normal(size=(2, 3, 6)).astype("float32")
    encoder = rng.normal(size=(2, 5, 4)).astype("float32")
    layer = PointerAttention(units=8)
    logits, probabilities = layer([decoder, encoder], return_attention_scores=True)
    wq = np.asarray(layer.query_dense.kernel)
    wk = np.asarray(layer.key_dense.kernel)
    bk = np.asarray(layer.key_dense.bias)
    v = np.asarray(layer.score_vector)
    expected = (
        np.tanh((decoder @ wq)[:, :, None, :] + (encoder @ wk + bk)[:, None, :, :]) @ v
    )
    np.testing.assert_allclose(logits, expected, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(probabilities, _softmax(expected), rtol=1e-5)
    # A per-step mask (points already visited) removes positions per query.
    visited = np.ones((2, 3, 5), bool)
    visited[:, 1, 0] = False
    visited[:, 2, :2] = False
    logits = np.asarray(layer([decoder, encoder], mask=[None, visited]))
    assert np.all(logits[:, 1, 0] <= -1e8) and np.all(logits[:, 2, :2] <= -1e8)
    assert np.all(logits[:, 0] > -1e8)


def test_float16_masking_stays_finite():
    layer = DotAttention(dtype="float16")
    query = np.ones((1, 1, 2), "float16")
    value = np.ones((1, 3, 2), "float16")
    _, weights = layer(
        [query, value],
        mask=[None, np.array([[1, 0, 0]], bool)],
        return_attention_scores=True,
    )
    weights = np.asarray(weights, "float32")
    assert np.all(np.isfinite(weights))
    np.testing.assert_allclose(weights, [[[1, 0, 0]]], atol=1e-3)


@pytest.mark.parametrize("cls", [DotAttention, AdditiveAttention, PointerAttention])
def test_config_round_trip(cls):
    layer = cls(name="attention") if cls is DotAttention else cls(units=3)
    clone = cls.from_config(layer.get_config())
    assert clone.get_config() == layer.get_config()


def test_errors_say_what_was_received():
    with pytest.raises(ValueError, match="Received: score='cosine'"):
        DotAttention(score="cosine")
    with pytest.raises(ValueError, match="Received: units=0"):
        AdditiveAttention(units=0)
    with pytest.raises(ValueError, match=r"\[query, value\].*Received"):
        DotAttention()(np.ones((1, 2, 3), "float32"))
    with pytest.raises(ValueError, match="same last dimension"):
        DotAttention()([np.ones((1, 2, 3), "float32"), np.ones((1, 2, 4), "float32")])
