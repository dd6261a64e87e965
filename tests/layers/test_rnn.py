import keras
import numpy as np
import pytest

from keras_seq.layers import RNNStack, rnn_stack

CELLS = ["rnn", "gru", "lstm"]


def _inputs(batch=2, time=5, features=3, seed=0):
    return (
        np.random.default_rng(seed)
        .normal(size=(batch, time, features))
        .astype("float32")
    )


@pytest.mark.parametrize("cell", CELLS)
@pytest.mark.parametrize("bidirectional", [False, True])
@pytest.mark.parametrize("residual", ["none", "add", "dense"])
def test_shapes_and_states(cell, bidirectional, residual):
    layer = RNNStack(
        cell=cell,
        units=4,
        num_layers=2,
        bidirectional=bidirectional,
        residual=residual,
        return_state=True,
    )
    output, *states = layer(_inputs())
    width = 4 * (2 if bidirectional else 1)
    expected_output = width * (2 if residual == "dense" else 1)
    assert tuple(output.shape) == (2, 5, expected_output)
    assert len(states) == 2 * (2 if cell == "lstm" else 1)
    assert layer.state_size == [width] * len(states)
    for state in states:
        assert tuple(state.shape) == (2, width)


@pytest.mark.parametrize("cell", CELLS)
def test_return_sequences_false_is_the_top_final_state(cell):
    layer = RNNStack(
        cell=cell, units=4, num_layers=2, return_state=True, return_sequences=False
    )
    output, *states = layer(_inputs())
    top_h = states[-2] if cell == "lstm" else states[-1]
    np.testing.assert_allclose(output, top_h)


def test_residual_adds_the_layer_input():
    # With every weight zero, each layer outputs zeros (tanh(0) = 0), so an
    # additive shortcut passes the first layer's output through unchanged.
    layer = RNNStack(cell="rnn", units=3, num_layers=3, residual="add")
    layer.build((None, None, 3))
    for weight in layer.weights:
        weight.assign(np.zeros(weight.shape))
    x = _inputs(features=3)
    np.testing.assert_allclose(layer(x), np.zeros((2, 5, 3)), atol=1e-7)
    first = layer.recurrent_layers[0]
    first.cell.kernel.assign(np.eye(3))
    out = np.asarray(layer(x))
    np.testing.assert_allclose(out, np.tanh(x), atol=1e-6)


@pytest.mark.parametrize("cell", CELLS)
@pytest.mark.parametrize("bidirectional", [False, True])
def test_padded_steps_are_ignored(cell, bidirectional):
    tokens = keras.Input((None,), dtype="int32")
    x = keras.layers.Embedding(10, 3, mask_zero=True)(tokens)
    output, *states = RNNStack(
        cell=cell,
        units=4,
        num_layers=2,
        bidirectional=bidirectional,
        return_state=True,
        return_sequences=False,
    )(x)
    model = keras.Model(tokens, [output, *states])
    short = np.array([[1, 2, 3], [4, 5, 6]])
    padded = np.array([[1, 2, 3, 0, 0], [4, 5, 6, 0, 0]])
    for a, b in zip(model.predict(short, verbose=0), model.predict(padded, verbose=0)):
        np.testing.assert_allclose(a, b, atol=1e-5)


@pytest.mark.parametrize("cell", CELLS)
def test_initial_state_continues_a_sequence(cell):
    # Running 5 steps at once equals running 3, then 2 from the states.
    layer = RNNStack(cell=cell, units=4, num_layers=2, return_state=True)
    x = _inputs()
    full, *_ = layer(x)
    first, *states = layer(x[:, :3])
    second, *_ = layer(x[:, 3:], initial_state=states)
    np.testing.assert_allclose(full[:, 3:], second, atol=1e-5)


def test_functional_factory_names_the_layer():
    x = keras.Input((None, 3))
    y = rnn_stack(x, cell="gru", units=4, num_layers=2, name="encoder")
    model = keras.Model(x, y)
    assert isinstance(model.get_layer("encoder"), RNNStack)
    assert tuple(y.shape) == (None, None, 4)


def test_dropout_is_active_only_in_training():
    layer = RNNStack(cell="gru", units=8, dropout=0.5)
    x = _inputs()
    np.testing.assert_allclose(layer(x, training=False), layer(x, training=False))
    assert not np.allclose(layer(x, training=True), layer(x, training=False))


def test_config_round_trip():
    layer = RNNStack(
        cell="lstm",
        units=5,
        num_layers=3,
        bidirectional=True,
        residual="dense",
        dropout=0.1,
        return_sequences=False,
        return_state=True,
        name="stack",
    )
    clone = RNNStack.from_config(layer.get_config())
    assert clone.get_config() == layer.get_config()


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"cell": "transformer"}, "`cell` must be one of"),
        ({"units": 0}, "`units` must be a positive integer"),
        ({"num_layers": 0}, "`num_layers` must be a positive integer"),
        ({"residual": "sum"}, "`residual` must be True, False or one of"),
        ({"dropout": 1.5}, "`dropout` must be in [0, 1)"),
    ],
)
def test_errors_say_what_was_received(kwargs, message):
    with pytest.raises(ValueError, match="Received") as error:
        RNNStack(**kwargs)
    assert message in str(error.value)


def test_wrong_number_of_initial_states():
    layer = RNNStack(cell="lstm", units=4, num_layers=2)
    with pytest.raises(ValueError, match="must hold 4 tensors"):
        layer(_inputs(), initial_state=[np.zeros((2, 4), "float32")])
