"""The pointer-generator's mixture of generating and copying."""

import keras
import numpy as np
import pytest

from keras_seq.layers import CopyMixture


def _mixture(bias):
    layer = CopyMixture()
    logits = np.zeros((1, 2, 5), np.float32)  # generating: 0.2 for each id
    attention = np.array([[[0.5, 0.5, 0.0], [0.0, 0.0, 1.0]]], np.float32)
    source = np.array([[4, 4, 2]])  # token 4 twice, then token 2
    features = np.zeros((1, 2, 3), np.float32)
    layer.build([logits.shape, attention.shape, source.shape, features.shape])
    layer.gate.set_weights([np.zeros((3, 1), np.float32), np.array([bias])])
    log_p, gate = layer([logits, attention, source, features], return_gate=True)
    return np.exp(keras.ops.convert_to_numpy(log_p)), keras.ops.convert_to_numpy(gate)


def test_the_mixture_sums_to_one_and_copies_a_repeated_token():
    probabilities, gate = _mixture(bias=0.0)
    np.testing.assert_allclose(gate, 0.5)
    np.testing.assert_allclose(probabilities.sum(-1), 1.0, rtol=1e-6)
    # Step 0 attends token 4 at two positions: 0.5 * 0.2 + 0.5 * (0.5 + 0.5).
    np.testing.assert_allclose(
        probabilities[0, 0], [0.1, 0.1, 0.1, 0.1, 0.6], rtol=1e-6
    )
    # Step 1 attends token 2 only.
    np.testing.assert_allclose(
        probabilities[0, 1], [0.1, 0.1, 0.6, 0.1, 0.1], rtol=1e-6
    )


def test_a_closed_gate_only_generates_and_padding_copies_nothing():
    probabilities, _ = _mixture(bias=30.0)  # gate ~1: generate
    np.testing.assert_allclose(probabilities, 0.2, atol=1e-6)
    layer = CopyMixture()
    found = layer(
        [
            np.zeros((1, 1, 3), np.float32),
            np.array([[[1.0, 0.0]]], np.float32),
            np.array([[-1, 1]]),  # all attention on a padded position
            np.ones((1, 1, 2), np.float32),
        ]
    )
    gate = 1 / (1 + np.exp(-layer.gate(np.ones((1, 1, 2), np.float32)).numpy()))
    np.testing.assert_allclose(np.exp(found.numpy()).sum(), gate.item(), rtol=1e-5)


def test_masked_features_pass_without_a_warning():
    import warnings

    source = keras.Input((None,), dtype="int32")
    target = keras.Input((3,), dtype="int32")
    # What the gate reads: the target embeddings, with their padding mask.
    features = keras.layers.Embedding(10, 4, mask_zero=True)(target)
    logits = keras.Input((3, 5))
    attention = keras.Input((3, None))
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # Keras warns of a mask it destroys
        output = CopyMixture()([logits, attention, source, features])
    assert getattr(output, "_keras_mask", None) is None


def test_a_source_id_shares_its_attention_among_its_candidates():
    # Source vocabulary of 3; id 1 stands for output ids 4 (0.75) and 2
    # (0.25), id 2 for output id 3 alone; id 0 is padding (no candidate).
    layer = CopyMixture(source_vocabulary_size=3, candidates=2)
    logits = np.zeros((1, 1, 5), np.float32)
    attention = np.array([[[0.6, 0.4, 0.0]]], np.float32)
    source = np.array([[1, 2, 0]])
    features = np.zeros((1, 1, 2), np.float32)
    layer.build([logits.shape, attention.shape, source.shape, features.shape])
    layer.gate.set_weights([np.zeros((2, 1), np.float32), np.array([-30.0])])
    layer.set_vocabulary_map(
        [[-1, -1], [4, 2], [3, -1]], [[0.0, 0.0], [0.75, 0.25], [1.0, 0.7]]
    )
    probabilities = np.exp(layer([logits, attention, source, features]).numpy())
    # Gate ~0: copying only. 4 gets 0.6 * 0.75, 2 gets 0.6 * 0.25, 3 gets 0.4.
    np.testing.assert_allclose(
        probabilities[0, 0], [0.0, 0.0, 0.15, 0.4, 0.45], atol=1e-6
    )
    copy = CopyMixture.from_config(layer.get_config())
    assert copy.candidates == 2
    with pytest.raises(ValueError, match=r"Expected weights of shape \(3, 2\)"):
        layer.set_vocabulary_map([[-1, -1]] * 3, [[1.0]] * 3)
    with pytest.raises(ValueError, match="Received: candidates=2, source_voc"):
        CopyMixture(candidates=2)
