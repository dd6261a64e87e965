"""The spatial LSTM against a pixel-by-pixel reference, and causality of
every layer an autoregressive image model is built of."""

import keras
import numpy as np
import pytest

from keras_seq.layers import (
    CausalNeighbourhood,
    IndependentPixels,
    MaskedConv2D,
    SpatialLSTM,
)
from keras_seq.layers.spatial import causal_offsets, skew, unskew


def _sigmoid(x):
    return 1 / (1 + np.exp(-x))


def _reference(layer, inputs):
    """The spatial LSTM one pixel at a time in row order, in NumPy."""
    kernel, recurrent, bias = (
        np.asarray(w) for w in (layer.kernel, layer.recurrent_kernel, layer.bias)
    )
    batch, height, width, _ = inputs.shape
    h = np.zeros((batch, height + 1, width + 1, layer.units))
    c = np.zeros_like(h)
    # Row and column 0 of h and c are the zeros outside the image.
    for i in range(1, height + 1):
        for j in range(1, width + 1):
            states = np.concatenate([h[:, i, j - 1], h[:, i - 1, j]], axis=-1)
            gates = inputs[:, i - 1, j - 1] @ kernel + states @ recurrent + bias
            gate_i, f_left, f_above, o, g = np.split(gates, 5, axis=-1)
            c[:, i, j] = (
                _sigmoid(f_left) * c[:, i, j - 1]
                + _sigmoid(f_above) * c[:, i - 1, j]
                + _sigmoid(gate_i) * np.tanh(g)
            )
            h[:, i, j] = _sigmoid(o) * np.tanh(c[:, i, j])
    return h[:, 1:, 1:]


def test_the_spatial_lstm_equals_a_pixel_by_pixel_reference_on_4x4():
    inputs = np.random.default_rng(0).normal(size=(2, 4, 4, 3)).astype("float32")
    layer = SpatialLSTM(5)
    layer.build(inputs.shape)
    # Biases away from zero, so that every gate matters.
    layer.bias.assign(np.random.default_rng(1).normal(size=25).astype("float32"))
    np.testing.assert_allclose(
        np.asarray(layer(inputs)), _reference(layer, inputs), atol=1e-5
    )
    wide = np.random.default_rng(2).normal(size=(1, 3, 6, 3)).astype("float32")
    np.testing.assert_allclose(
        np.asarray(layer(wide)), _reference(layer, wide), atol=1e-5
    )


def test_skewing_puts_each_anti_diagonal_in_a_column_and_comes_back():
    grid = np.arange(3 * 4, dtype="float32").reshape(1, 3, 4, 1)
    skewed = np.asarray(skew(grid))[0, ..., 0]
    assert skewed.shape == (3, 6)
    for i in range(3):
        for j in range(4):
            assert skewed[i, i + j] == grid[0, i, j, 0]
    np.testing.assert_array_equal(np.asarray(unskew(skew(grid), 4)), grid)


def _influence(layer, shape, row, column):
    """Which input pixels change the output at (row, column)."""
    base = np.zeros(shape, "float32")
    before = np.asarray(layer(base))[0, row, column]
    changed = np.zeros(shape[1:3], bool)
    for i in range(shape[1]):
        for j in range(shape[2]):
            probe = base.copy()
            probe[0, i, j] = 1.0
            after = np.asarray(layer(probe))[0, row, column]
            changed[i, j] = not np.allclose(after, before, atol=1e-7)
    return changed


def test_each_layer_sees_only_the_pixels_before_a_pixel():
    keras.utils.set_random_seed(0)
    shape = (1, 5, 5, 1)
    rows, columns = np.mgrid[:5, :5]
    before = (rows < 2) | ((rows == 2) & (columns < 2))
    neighbourhood = _influence(CausalNeighbourhood(1), shape, 2, 2)
    assert not neighbourhood[2, 2] and np.all(neighbourhood <= before)
    assert neighbourhood.sum() == len(causal_offsets(1)) == 4
    masked = keras.Sequential(
        [MaskedConv2D(3, 3, include_centre=False), MaskedConv2D(3, 3)]
    )
    assert np.all(_influence(masked, shape, 2, 2) <= before)
    assert _influence(masked, shape, 2, 2)[2, 1]
    # The spatial LSTM over the neighbourhood: the whole quadrant above and
    # to the left, reached through the states, and never the pixel itself.
    lstm = keras.Sequential([CausalNeighbourhood(1), SpatialLSTM(4)])
    seen = _influence(lstm, shape, 3, 3)
    assert not seen[3, 3] and not seen[4].any()
    assert seen[0, 0] and seen[3, 2] and seen[2, 4]


def test_independent_pixels_ignore_the_image():
    layer = IndependentPixels(3)
    first = np.asarray(layer(np.zeros((2, 4, 4, 1), "float32")))
    assert first.shape == (2, 4, 4, 3)
    layer.logits.assign(np.random.default_rng(0).normal(size=(4, 4, 3)))
    ones, zeros = (
        np.asarray(layer(np.full((1, 4, 4, 1), value, "float32"))) for value in (1, 0)
    )
    np.testing.assert_array_equal(ones, zeros)


def test_bad_arguments_say_what_is_allowed():
    with pytest.raises(ValueError, match="kernel_size must be odd, got 4"):
        MaskedConv2D(2, 4)
    with pytest.raises(ValueError, match="radius must be at least 1, got 0"):
        CausalNeighbourhood(0)
