import keras
import numpy as np
import pytest

from keras_seq.layers import InputFeedingDecoder

CELLS = ["rnn", "gru", "lstm"]
SOURCE_MASK = np.array([[1, 1, 1, 0, 0], [1, 1, 1, 1, 1]], bool)


def _normal(*shape, seed=0):
    return np.random.default_rng(seed).normal(size=shape).astype("float32")


TARGETS = _normal(2, 4, 3)
ENCODED = _normal(2, 5, 6, seed=1)


@pytest.mark.parametrize("cell", CELLS)
@pytest.mark.parametrize("attention", ["dot", "additive"])
def test_shapes_and_masked_weights(cell, attention):
    layer = InputFeedingDecoder(cell=cell, units=8, num_layers=2, attention=attention)
    outputs, weights, *states = layer([TARGETS, ENCODED], mask=[None, SOURCE_MASK])
    assert tuple(outputs.shape) == (2, 4, 8)
    assert tuple(weights.shape) == (2, 4, 5)
    assert len(states) == len(layer.state_size) == 2 * (2 if cell == "lstm" else 1) + 1
    np.testing.assert_allclose(np.sum(weights, axis=-1), 1.0, rtol=1e-5)
    np.testing.assert_array_equal(np.asarray(weights)[0, :, 3:], 0.0)
    # The last state is the attentional state, the last output.
    np.testing.assert_allclose(states[-1], outputs[:, -1])


@pytest.mark.parametrize("cell", ["gru", "lstm"])
def test_one_step_at_a_time_equals_the_whole_sequence(cell):
    layer = InputFeedingDecoder(cell=cell, units=8, num_layers=2, attention="dot")
    start = [_normal(2, 8, seed=s) for s in range(2 * (2 if cell == "lstm" else 1))]
    full, full_weights, *final = layer(
        [TARGETS, ENCODED], mask=[None, SOURCE_MASK], initial_state=start
    )
    states = start
    for t in range(TARGETS.shape[1]):
        output, weights, *states = layer(
            [TARGETS[:, t : t + 1], ENCODED],
            mask=[None, SOURCE_MASK],
            initial_state=states,
        )
        np.testing.assert_allclose(output[:, 0], full[:, t], rtol=1e-5, atol=1e-5)
        np.testing.assert_allclose(weights[:, 0], full_weights[:, t], atol=1e-6)
    for state, expected in zip(states, final):
        np.testing.assert_allclose(state, expected, rtol=1e-5, atol=1e-5)


def _softmax(x):
    e = np.exp(x - x.max(-1, keepdims=True))
    return e / e.sum(-1, keepdims=True)


def test_a_step_matches_its_formula_with_the_fed_state():
    # A vanilla RNN cell with additive attention, written out in numpy:
    # h = tanh([y; a_prev] K + h_prev R + b), c = sum_j alpha_j e_j with
    # alpha = softmax_j(v . tanh(h W_q + e_j W_k + b_k)), a = tanh([h; c] W + b).
    layer = InputFeedingDecoder(cell="rnn", units=4, attention="additive")
    target = TARGETS[:, :1]
    h_prev, fed = _normal(2, 4, seed=5), _normal(2, 4, seed=6)
    output, weights, h, new_fed = layer(
        [target, ENCODED], mask=[None, SOURCE_MASK], initial_state=[h_prev, fed]
    )
    cell = layer.cells[0]
    kernel, recurrent, bias = (np.asarray(w) for w in cell.weights)
    expected_h = np.tanh(
        np.concatenate([target[:, 0], fed], -1) @ kernel + h_prev @ recurrent + bias
    )
    attention = layer.attention_layer
    w_q = np.asarray(attention.query_dense.kernel)
    w_k, b_k = (
        np.asarray(attention.key_dense.kernel),
        np.asarray(attention.key_dense.bias),
    )
    v = np.asarray(attention.score_vector)
    scores = np.tanh((expected_h @ w_q)[:, None] + ENCODED @ w_k + b_k) @ v
    alpha = _softmax(np.where(SOURCE_MASK, scores, -1e9))
    context = np.einsum("bt,btf->bf", alpha, ENCODED)
    dense_kernel, dense_bias = (np.asarray(w) for w in layer.attentional.weights)
    expected = np.tanh(
        np.concatenate([expected_h, context], -1) @ dense_kernel + dense_bias
    )
    np.testing.assert_allclose(h, expected_h, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(weights[:, 0], alpha, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(output[:, 0], expected, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(new_fed, expected, rtol=1e-5, atol=1e-5)
    # Leaving the attentional state out starts it at zeros.
    unfed, *_ = layer(
        [target, ENCODED], mask=[None, SOURCE_MASK], initial_state=[h_prev]
    )
    zero_fed, *_ = layer(
        [target, ENCODED],
        mask=[None, SOURCE_MASK],
        initial_state=[h_prev, np.zeros((2, 4), "float32")],
    )
    np.testing.assert_allclose(unfed, zero_fed)
    assert not np.allclose(unfed, output)


def test_dropout_is_active_only_in_training():
    layer = InputFeedingDecoder(cell="gru", units=8, dropout=0.5, seed=3)
    inputs = [TARGETS, ENCODED]
    np.testing.assert_allclose(layer(inputs)[0], layer(inputs, training=False)[0])
    assert not np.allclose(layer(inputs, training=True)[0], layer(inputs)[0])


def test_in_a_functional_model_and_config_round_trip():
    targets = keras.Input((None, 3))
    encoded = keras.Input((None, 6))
    outputs, weights, *_ = InputFeedingDecoder(
        cell="lstm", units=8, num_layers=2, attention="dot", dropout=0.1, name="dec"
    )([targets, encoded])
    assert tuple(outputs.shape) == (None, None, 8)
    assert tuple(weights.shape) == (None, None, None)
    model = keras.Model([targets, encoded], [outputs, weights])
    layer = model.get_layer("dec")
    clone = InputFeedingDecoder.from_config(layer.get_config())
    assert clone.get_config() == layer.get_config()


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"cell": "transformer"}, "`cell` must be one of"),
        ({"attention": "multihead"}, "`attention` must be one of"),
        ({"units": 0}, "`units` must be a positive integer"),
        ({"num_layers": 0}, "`num_layers` must be a positive integer"),
        ({"dropout": 1.0}, "`dropout` must be in [0, 1)"),
    ],
)
def test_errors_say_what_was_received(kwargs, message):
    with pytest.raises(ValueError, match="Received") as error:
        InputFeedingDecoder(**kwargs)
    assert message in str(error.value)


def test_wrong_number_of_initial_states():
    layer = InputFeedingDecoder(cell="lstm", units=4, num_layers=2)
    with pytest.raises(ValueError, match="must hold 4 recurrent states"):
        layer([TARGETS, ENCODED], initial_state=[np.zeros((2, 4), "float32")])
