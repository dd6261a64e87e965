"""keras-seq's LSTM, GRU and SimpleRNN: the Keras layers' numbers, faster.

Every comparison runs the same weights through the fused loop and through
the stock Keras loop (the parent class's `inner_loop`), inside a
`tf.function` whose shapes are unknown when traced, as in `fit`.
"""

from pathlib import Path

import keras
import numpy as np
import pytest
import tensorflow as tf

from keras_seq.kernels import tensorflow_rnn
from keras_seq.layers import GRU, LSTM, RNNStack, SimpleRNN, recurrent

LAYERS = {"lstm": LSTM, "gru": GRU, "rnn": SimpleRNN}
STOCK = {
    "lstm": keras.layers.LSTM,
    "gru": keras.layers.GRU,
    "rnn": keras.layers.SimpleRNN,
}
FIXTURES = Path(__file__).parent / "fixtures"
# Two sequences padded at the end, one at the start (Keras outputs zeros
# before the first real step), one full: batch 4, time 7, so that the XLA
# path pads both to multiples of 8.
MASK = np.array(
    [
        [1, 1, 1, 1, 1, 0, 0],
        [1, 1, 1, 0, 0, 0, 0],
        [0, 0, 1, 1, 1, 1, 1],
        [1, 1, 1, 1, 1, 1, 1],
    ],
    bool,
)


def _random(shape, seed):
    return np.random.default_rng(seed).normal(size=shape).astype("float32")


def _layer(cell, units, **kwargs):
    layer = LAYERS[cell](units, return_sequences=True, return_state=True, **kwargs)
    layer.build((None, None, 3))
    for index, weight in enumerate(layer.weights):
        # Kernels scaled as Keras's initializers scale them (a larger
        # recurrent kernel makes the gradients explode, and rounding with
        # them), and non-zero biases, so that every bias term is checked too.
        scale = 1 / np.sqrt(weight.shape[0]) if weight.path.endswith("kernel") else 0.5
        weight.assign(scale * _random(weight.shape, seed=10 + index))
    return layer


def _outputs_and_gradients(
    layer, use_initial_state, mask, training=True, batch=4, static=False
):
    """The layer's outputs and the gradients of a loss that reads them all.

    The shapes are unknown when the function is traced unless `static`.
    """
    num_states = 2 if isinstance(layer, keras.layers.LSTM) else 1
    units = layer.cell.units
    x = tf.constant(_random((batch, 7, 3), seed=1))
    states = [
        tf.constant(_random((batch, units), seed=2 + i)) for i in range(num_states)
    ]
    probes = [tf.constant(_random((batch, 7, units), seed=5))] + [
        tf.constant(_random((batch, units), seed=6 + i)) for i in range(num_states)
    ]
    rows, steps = (batch, 7) if static else (None, None)
    spec = tf.TensorSpec([rows, steps, 3])
    state_spec = [tf.TensorSpec([rows, units])] * num_states

    @tf.function(input_signature=[spec, state_spec])
    def run(x, states):
        with tf.GradientTape() as tape:
            tape.watch([x, *states])
            results = layer(
                x,
                initial_state=states if use_initial_state else None,
                mask=None if mask is None else tf.constant(mask),
                training=training,
            )
            loss = sum(
                tf.reduce_sum(result * probe) for result, probe in zip(results, probes)
            )
        sources = [x, *(states if use_initial_state else []), *layer.weights]
        return results, tape.gradient(loss, sources)

    return run(x, states)


def _stock_loop(layer):
    """The same layer object run through Keras's own loop."""
    stock = STOCK[layer.kind]

    def inner_loop(sequences, initial_state, mask, training=False):
        return stock.inner_loop(layer, sequences, initial_state, mask, training)

    layer.inner_loop = inner_loop
    return layer


@pytest.mark.parametrize("cell", sorted(LAYERS))
@pytest.mark.parametrize(
    "units, masked, go_backwards, use_initial_state, training",
    [
        # Plain TensorFlow loops (below JIT_MIN_UNITS), every option.
        (4, False, False, False, True),
        (4, True, False, True, True),
        (4, True, True, False, True),
        (4, False, True, True, False),
        # XLA-compiled loops: unmasked, and masked with every other option
        # (shapes unknown when traced, so padded to 8 steps and 8 rows).
        (recurrent.JIT_MIN_UNITS, False, False, False, True),
        (recurrent.JIT_MIN_UNITS, True, True, True, True),
    ],
)
def test_outputs_and_gradients_are_the_keras_layers(
    cell, units, masked, go_backwards, use_initial_state, training
):
    mask = MASK if masked else None
    fused = _layer(cell, units, go_backwards=go_backwards)
    stock = _stock_loop(_layer(cell, units, go_backwards=go_backwards))
    outputs, gradients = _outputs_and_gradients(
        fused, use_initial_state, mask, training
    )
    expected_outputs, expected_gradients = _outputs_and_gradients(
        stock, use_initial_state, mask, training
    )
    for output, expected in zip(outputs, expected_outputs):
        np.testing.assert_allclose(output, expected, rtol=1e-5, atol=1e-5)
    assert len(gradients) == len(expected_gradients)
    for gradient, expected in zip(gradients, expected_gradients):
        np.testing.assert_allclose(gradient, expected, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("cell", sorted(LAYERS))
def test_a_batch_split_in_two_loops_gives_the_keras_layers_numbers(cell, monkeypatch):
    # 17 rows known when traced: two loops, over 8 and 9 rows, joined again.
    batch = 17
    assert tensorflow_rnn._row_parts(2 * tensorflow_rnn.MIN_PART_ROWS - 1) == 1
    parts_run = []
    row_slices = tensorflow_rnn._row_slices

    def spy(batch, parts):
        parts_run.append(parts)
        return row_slices(batch, parts)

    monkeypatch.setattr(tensorflow_rnn, "_row_slices", spy)
    units = recurrent.JIT_MIN_UNITS
    outputs, gradients = _outputs_and_gradients(
        _layer(cell, units), True, None, batch=batch, static=True
    )
    expected_outputs, expected_gradients = _outputs_and_gradients(
        _stock_loop(_layer(cell, units)), True, None, batch=batch, static=True
    )
    # One layer's loops, forward and reverse, each over two parts of the rows.
    assert parts_run == [2]
    for output, expected in zip(outputs, expected_outputs):
        assert output.shape[0] == batch
        np.testing.assert_allclose(output, expected, rtol=1e-5, atol=1e-5)
    for gradient, expected in zip(gradients, expected_gradients):
        np.testing.assert_allclose(gradient, expected, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("cell", sorted(LAYERS))
def test_bidirectional_masked_stack_is_the_stock_stack(cell):
    # Bidirectional outputs zeros at padded steps; dropout between layers,
    # residual shortcuts and the merged states go through the same code.
    stack = RNNStack(
        cell=cell,
        units=recurrent.JIT_MIN_UNITS,
        num_layers=2,
        bidirectional=True,
        residual="add",
        return_state=True,
    )
    x = _random((4, 7, 3), seed=3)

    def run():
        call = tf.function(
            lambda x: stack(x, mask=tf.constant(MASK)),
            input_signature=[tf.TensorSpec([None, None, 3])],
        )
        return [np.asarray(value) for value in call(x)]

    fused = run()
    previous = recurrent.set_fused_rnn(False)
    try:
        stock = run()
    finally:
        recurrent.set_fused_rnn(previous)
    for a, b in zip(fused, stock):
        np.testing.assert_allclose(a, b, atol=1e-5)


class _StockLoopCalled(Exception):
    pass


@pytest.fixture
def stock_loop_raises(monkeypatch):
    """Makes Keras's own loop raise, so a test sees which loop ran."""

    def raise_(*args, **kwargs):
        raise _StockLoopCalled

    for stock in STOCK.values():
        monkeypatch.setattr(stock, "inner_loop", raise_)


@pytest.mark.parametrize("cell", sorted(LAYERS))
@pytest.mark.parametrize("units", [4, recurrent.JIT_MIN_UNITS])
def test_the_fused_loop_is_taken_on_cpu(cell, units, stock_loop_raises):
    layer = LAYERS[cell](units, return_sequences=True)
    layer(_random((2, 5, 3), seed=0), training=True)
    previous = recurrent.set_fused_rnn(False)
    try:
        with pytest.raises(_StockLoopCalled):
            layer(_random((2, 5, 3), seed=0))
    finally:
        recurrent.set_fused_rnn(previous)


@pytest.mark.parametrize(
    "kwargs, steps",
    [
        ({"recurrent_dropout": 0.2}, 5),
        ({"unroll": True}, 5),
        ({"activation": "relu"}, 5),
        ({}, 1),  # one step, as a decoder stepping one token at a time
    ],
)
def test_the_stock_loop_serves_where_the_fused_one_cannot(
    kwargs, steps, stock_loop_raises
):
    layer = LSTM(4, **kwargs)
    with pytest.raises(_StockLoopCalled):
        layer(_random((2, steps, 3), seed=0), training=True)


def test_gru_without_reset_after_uses_the_stock_loop(stock_loop_raises):
    with pytest.raises(_StockLoopCalled):
        GRU(4, reset_after=False)(_random((2, 5, 3), seed=0))


def test_input_dropout_is_keras_s_mask_for_every_step():
    layer = _layer("gru", 4, dropout=0.5, seed=3)
    stock = _stock_loop(_layer("gru", 4, dropout=0.5, seed=3))
    x = _random((4, 7, 3), seed=1)
    np.testing.assert_allclose(
        layer(x, training=True)[0], stock(x, training=True)[0], atol=1e-5
    )
    assert not np.allclose(layer(x, training=True)[0], layer(x, training=False)[0])


def test_config_is_the_keras_layers():
    layer = LSTM(7, return_sequences=True, go_backwards=True, name="encoder")
    config = layer.get_config()
    assert (
        config
        == keras.layers.LSTM(
            7, return_sequences=True, go_backwards=True, name="encoder"
        ).get_config()
    )
    assert isinstance(LSTM.from_config(config), LSTM)


def test_a_model_saved_by_the_stock_layers_loads_and_predicts_the_same():
    # Saved at commit 3b44b0e, when RNNStack built keras.layers.LSTM, GRU and
    # SimpleRNN; one layer of 32 units runs the XLA loop now.
    model = keras.saving.load_model(FIXTURES / "rnn_stacks_0.1.0.keras")
    saved = np.load(FIXTURES / "rnn_stacks_0.1.0.npz")
    outputs = model.predict(saved["tokens"], verbose=0)
    assert len(outputs) == 4
    for index, output in enumerate(outputs):
        np.testing.assert_allclose(output, saved[f"output_{index}"], atol=1e-5)
    layer = model.get_layer("gru_stack").recurrent_layers[0]
    assert isinstance(layer, GRU) and layer.cell.units >= recurrent.JIT_MIN_UNITS


def test_set_fused_rnn_returns_the_previous_setting():
    assert recurrent.fused_rnn_enabled()
    assert recurrent.set_fused_rnn(False) is True
    assert recurrent.set_fused_rnn(True) is False
    assert recurrent.fused_rnn_enabled()
