"""DRAW's Gaussian read and write, its KL term, and the DRAW layer."""

import keras
import numpy as np
import pytest

from keras_seq.layers import DRAW, GaussianGlimpse, GaussianWrite
from keras_seq.layers.draw import gaussian_kl
from keras_seq.layers.glimpse import covering_placement, gaussian_filters


def _place(row, column, height, width, log_variance=-6.0, log_gamma=0.0):
    """Raw parameters centring the grid on pixel (row, column), from 0."""
    center_x = 2 * (column + 1) / (width + 1) - 1
    center_y = 2 * (row + 1) / (height + 1) - 1
    return np.array([[center_x, center_y, log_variance, 0.0, log_gamma]], "float32")


def test_a_one_filter_grid_centred_on_a_pixel_reads_that_pixel():
    image = np.arange(5 * 7, dtype="float32").reshape(1, 5, 7, 1)
    for row, column in [(0, 0), (2, 3), (4, 6)]:
        patch = GaussianGlimpse(size=1)([image, _place(row, column, 5, 7)])
        np.testing.assert_allclose(
            np.asarray(patch)[0, 0, 0, 0], image[0, row, column, 0], rtol=1e-5
        )
    # The intensity scales the read.
    patch = GaussianGlimpse(size=1)([image, _place(2, 3, 5, 7, log_gamma=np.log(2))])
    np.testing.assert_allclose(
        np.asarray(patch)[0, 0, 0, 0], 2 * image[0, 2, 3, 0], rtol=1e-5
    )


def test_a_full_stride_grid_of_narrow_filters_reads_the_image_itself():
    image = np.random.default_rng(0).random((2, 4, 4, 3)).astype("float32")
    # Centre in the middle, stride 1 (log 0), four filters over four pixels.
    parameters = np.tile([[0.0, 0.0, -6.0, 0.0, 0.0]], (2, 1)).astype("float32")
    patch = GaussianGlimpse(size=4)([image, parameters])
    np.testing.assert_allclose(np.asarray(patch), image, atol=1e-5)


def test_filters_sum_to_one_and_write_is_the_transpose_of_read():
    rng = np.random.default_rng(1)
    parameters = rng.normal(size=(3, 5)).astype("float32") * 0.5
    filters_y, filters_x, _ = gaussian_filters(parameters, 6, 5, 3)
    np.testing.assert_allclose(np.asarray(filters_y).sum(-1), 1.0, rtol=1e-5)
    np.testing.assert_allclose(np.asarray(filters_x).sum(-1), 1.0, rtol=1e-5)
    # With gamma = 1: <read(x), w> = <x, write(w)>.
    parameters[:, 4] = 0.0
    image = rng.random((3, 6, 5, 2)).astype("float32")
    patch = rng.random((3, 3, 3, 2)).astype("float32")
    read = np.asarray(GaussianGlimpse(size=3)([image, parameters]))
    written = np.asarray(GaussianWrite(6, 5)([patch, parameters]))
    np.testing.assert_allclose(
        (read * patch).sum(axis=(1, 2, 3)),
        (image * written).sum(axis=(1, 2, 3)),
        rtol=1e-4,
    )


def test_the_kl_term_is_the_closed_form_and_a_numerical_integral():
    mean, log_std = (
        np.array([[0.7, -1.2]], "float32"),
        np.array([[-0.3, 0.4]], "float32"),
    )
    found = float(np.asarray(gaussian_kl(mean, log_std))[0])
    std = np.exp(log_std[0])
    closed = np.sum(np.log(1 / std) + (std**2 + mean[0] ** 2) / 2 - 0.5)
    assert found == pytest.approx(closed, rel=1e-5)
    # Each dimension's KL integrated on a grid: sum q log(q / p).
    grid = np.linspace(-12, 12, 200001)
    numeric = 0.0
    for m, s in zip(mean[0], std):
        q = np.exp(-((grid - m) ** 2) / (2 * s**2)) / (s * np.sqrt(2 * np.pi))
        p = np.exp(-(grid**2) / 2) / np.sqrt(2 * np.pi)
        numeric += np.trapezoid(q * np.log(q / p), grid)
    assert found == pytest.approx(numeric, rel=1e-4)


@pytest.mark.parametrize("attention", [True, False])
def test_draw_gives_the_bounds_parts_and_survives_a_keras_round_trip(
    tmp_path, attention
):
    images = keras.Input((8, 6, 1))
    layer = DRAW(
        8,
        6,
        1,
        steps=3,
        encoder_units=5,
        decoder_units=4,
        latent_dim=2,
        read_size=2,
        write_size=3,
        attention=attention,
        seed=1,
    )
    model = keras.Model(images, layer(images))
    batch = (np.random.default_rng(2).random((2, 8, 6, 1)) > 0.5).astype("float32")
    noise = np.random.default_rng(3).normal(size=(2, 3, 2)).astype("float32")
    parts = np.asarray(layer(batch, noise=noise))
    assert parts.shape == (2, 2) and (parts > 0).all()
    # The reconstruction part is the Bernoulli cross-entropy of the last canvas.
    canvases, divergences = layer.canvases(batch, noise)
    logits = np.asarray(canvases)[:, -1]
    probabilities = 1 / (1 + np.exp(-logits))
    expected = -(
        batch * np.log(probabilities) + (1 - batch) * np.log(1 - probabilities)
    )
    np.testing.assert_allclose(parts[:, 0], expected.sum(axis=(1, 2, 3)), rtol=1e-4)
    np.testing.assert_allclose(parts[:, 1], np.asarray(divergences).sum(1), rtol=1e-5)
    assert np.asarray(layer.generate(noise)).shape == (2, 3, 8, 6, 1)
    model.save(path := tmp_path / "draw.keras")
    loaded = keras.saving.load_model(path)
    again = np.asarray(loaded.get_layer(layer.name)(batch, noise=noise))
    np.testing.assert_allclose(again, parts, rtol=1e-5)


@pytest.mark.parametrize("size", [1, 2, 5])
def test_a_covering_grid_sees_every_pixel_with_a_filter_in_each_cell(size):
    parameters = np.array([covering_placement(size, 28, 20)], "float32")
    filters_y, filters_x, gamma = gaussian_filters(parameters, 28, 20, size)
    assert float(gamma[0]) == pytest.approx(1.0)
    for filters, length in ((filters_y, 28), (filters_x, 20)):
        filters = np.asarray(filters)[0]
        pixels = np.arange(1, length + 1)
        if length == 28:
            # Along the longer side, filter i's centre of mass lies in the
            # i-th of `size` equal cells (a shorter side's outer cells
            # stick out of the image, as the paper's stride is one for both).
            centres = filters @ pixels
            edges = np.linspace(0.5, 28.5, size + 1)
            assert ((centres > edges[:-1]) & (centres < edges[1:])).all()
        # No pixel is left out: each gets a tenth of the best-read's weight.
        weights = filters.sum(axis=0)
        assert weights.min() > 0.1 * weights.max()


def test_with_canvas_bias_every_canvas_starts_from_the_learnt_image():
    layer = DRAW(
        6,
        5,
        1,
        steps=2,
        encoder_units=4,
        decoder_units=4,
        latent_dim=2,
        write_size=3,
        canvas_bias=True,
    )
    batch = np.zeros((3, 6, 5, 1), "float32")
    layer(batch)
    start = np.random.default_rng(4).normal(size=(6, 5, 1)).astype("float32")
    layer.initial_canvas.assign(start)
    # With the writes zeroed, every canvas is the start image.
    for weight in layer.write_patch.weights:
        weight.assign(np.zeros(weight.shape, "float32"))
    canvases, _ = layer.canvases(batch)
    np.testing.assert_allclose(
        np.asarray(canvases), np.broadcast_to(start, (3, 2, 6, 5, 1)), atol=1e-6
    )
    drawn = layer.generate(np.zeros((3, 2, 2), "float32"))
    np.testing.assert_allclose(
        np.asarray(drawn), np.broadcast_to(start, (3, 2, 6, 5, 1)), atol=1e-6
    )
    # A layer saved before the option existed has no such weight.
    config = layer.get_config()
    del config["canvas_bias"]
    old = DRAW.from_config(config)
    old(batch)
    assert len(old.weights) == len(layer.weights) - 1


def test_bad_sizes_are_refused():
    with pytest.raises(ValueError, match="`size` must be at least 1. Received: size=0"):
        GaussianGlimpse(size=0)
    with pytest.raises(ValueError, match="`steps` must be at least 1. Received: 0"):
        DRAW(4, 4, 1, steps=0)
