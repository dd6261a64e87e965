import keras
import numpy as np
import pytest

from keras_seq.layers import LexicalContext


def test_lexical_context_matches_its_formula():
    rng = np.random.default_rng(2)
    weights = rng.dirichlet(np.ones(4), size=(2, 3)).astype("float32")
    embeddings = rng.normal(size=(2, 4, 5)).astype("float32")
    layer = LexicalContext()
    output = np.asarray(layer([weights, embeddings]))
    averaged = np.tanh(weights @ embeddings)
    kernel, bias = (np.asarray(w) for w in layer.dense.weights)
    expected = np.tanh(averaged @ kernel + bias) + averaged
    assert output.shape == (2, 3, 5)
    np.testing.assert_allclose(output, expected, rtol=1e-5, atol=1e-6)


def test_positions_without_weight_do_not_matter():
    # Padding gets zero attention, so whatever its embedding holds is unread.
    weights = np.array([[[0.25, 0.75, 0.0]]], "float32")
    embeddings = np.ones((1, 3, 2), "float32")
    layer = LexicalContext()
    first = np.asarray(layer([weights, embeddings]))
    embeddings[0, 2] = 100.0
    np.testing.assert_allclose(layer([weights, embeddings]), first)


def test_config_round_trip():
    layer = LexicalContext(name="lexical")
    restored = LexicalContext.from_config(layer.get_config())
    assert restored.name == "lexical"


def test_errors_say_what_was_received():
    with pytest.raises(ValueError, match=r"\[weights, embeddings\]`. Received"):
        LexicalContext()(keras.ops.ones((1, 2, 3)))


def test_masked_embeddings_pass_without_a_warning():
    import warnings

    source = keras.Input((None,), dtype="int32")
    embedded = keras.layers.Embedding(10, 4, mask_zero=True)(source)
    weights = keras.Input((3, None))
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # Keras warns of a mask it destroys
        output = LexicalContext()([weights, embedded])
    assert getattr(output, "_keras_mask", None) is None
