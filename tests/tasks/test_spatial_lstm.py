"""The spatial_lstm task: GIMP patterns, the tiny run, sampling and predict."""

import json

import numpy as np
import pytest
import tensorflow as tf

from keras_seq import cli
from keras_seq.data import textures
from keras_seq.errors import UserError
from tests.tasks import tiny_data


@pytest.fixture(scope="module")
def tiny_run(tiny_runs):
    return tiny_runs("spatial_lstm")


def test_a_gimp_pattern_is_read_in_colour_and_made_grey(tmp_path):
    pixels = np.zeros((2, 3, 3), np.uint8)
    pixels[0, 0] = (255, 0, 0)
    pixels[1, 2] = (255, 255, 255)
    path = tiny_data.write_pattern(tmp_path / "p.pat", pixels, "Two rows")
    name, found = textures.read_pattern(path)
    assert name == "Two rows"
    np.testing.assert_array_equal(found, pixels)
    grey = textures.grey(found)
    assert grey.shape == (2, 3) and grey[0, 0] == 76 and grey[1, 2] == 255


def test_a_file_that_is_not_a_gimp_pattern_gets_one_line(tmp_path):
    (tmp_path / "photo.pat").write_bytes(b"\x89PNG\r\n\x1a\n" + b"\0" * 40)
    with pytest.raises(UserError, match=r"photo.pat: not a GIMP pattern") as error:
        textures.load_patterns(f"pat:{tmp_path / 'photo.pat'}")
    assert "\n" not in str(error.value)
    short = tiny_data.write_pattern(tmp_path / "short.pat", np.zeros((4, 4, 1)))
    short.write_bytes(short.read_bytes()[:-3])
    with pytest.raises(
        UserError, match="holds 13 bytes of pixels; its header says 4x4"
    ):
        textures.read_pattern(short)
    with pytest.raises(UserError, match="Unknown texture source 'wood'. Allowed"):
        textures.load_patterns("wood")


def test_patches_wrap_around_a_tiling_pattern():
    pattern = np.arange(25, dtype=np.uint8).reshape(5, 5)
    found = textures.patches(pattern, 7, 3)
    assert found.shape == (4, 7, 7)
    np.testing.assert_array_equal(found[0, 5], pattern[0, [0, 1, 2, 3, 4, 0, 1]])
    np.testing.assert_array_equal(found[3, 0], pattern[3, [3, 4, 0, 1, 2, 3, 4]])


def test_the_tiny_run_scores_in_nats_and_bits_and_draws(tiny_run):
    found = json.loads((tiny_run.folder / "metrics.json").read_text())
    # 8x8 patches of 256 levels: the bits per pixel are the nats rescaled.
    assert found["test_bits_per_pixel"] == pytest.approx(
        found["test_nats"] / (64 * np.log(2)), rel=1e-5
    )
    assert 0 < found["test_bits_per_pixel"] < 8.5
    for picture in ("samples.png", "continued.png"):
        assert (tiny_run.folder / picture).stat().st_size > 2000


def test_sampling_keeps_the_given_rows_and_the_likelihood_is_the_model_s(tiny_run):
    from tasks.spatial_lstm import Sampler, nats_per_image

    sampler = Sampler(tiny_run.model)
    given = np.random.default_rng(0).integers(0, 256, (2, 8, 8, 1)).astype(np.uint8)
    continued = sampler.continue_images(tf.constant(given), 3, 1.0).numpy()
    np.testing.assert_array_equal(continued[:, :3], given[:, :3])
    # Greedy drawing is a function of the rows kept; the pixel-by-pixel
    # cells give the pixel the likeliest level of the whole-image model.
    greedy = sampler.continue_images(tf.constant(given), 3, 0.0).numpy()
    np.testing.assert_array_equal(
        greedy, sampler.continue_images(tf.constant(given), 3, 0.0).numpy()
    )
    logits = tiny_run.model(greedy.astype(np.float32) / 255.0).numpy()
    likeliest = logits.argmax(-1)
    np.testing.assert_array_equal(greedy[:, 3:, :, 0], likeliest[:, 3:])
    nats = sampler.log_likelihood(tf.constant(given)).numpy()
    expected = nats_per_image(
        given[..., 0].astype(np.int32), tiny_run.model(given / 255.0)
    )
    np.testing.assert_allclose(nats, np.asarray(expected), rtol=1e-5)


def test_predict_scores_and_continues_pngs_or_draws_samples(tiny_run, tmp_path, capsys):
    model = str(tiny_run.folder)
    picture = tmp_path / "samples.png"
    assert (
        cli.main(["predict", "spatial_lstm", "--model", model, "--plot", str(picture)])
        == 0
    )
    assert picture.stat().st_size > 2000
    texture = np.tile(np.array([[0], [255]], np.uint8), (4, 8))[..., None]
    (path := tmp_path / "stripes.png").write_bytes(tf.io.encode_png(texture).numpy())
    continued = tmp_path / "continued.png"
    arguments = ["predict", "spatial_lstm", "--model", model, str(path)]
    assert cli.main([*arguments, "--plot", str(continued), "--temperature", "0.5"]) == 0
    assert "bits per pixel" in capsys.readouterr().out
    assert continued.stat().st_size > 2000
    (path := tmp_path / "big.png").write_bytes(
        tf.io.encode_png(np.zeros((9, 8, 1), np.uint8)).numpy()
    )
    assert cli.main(["predict", "spatial_lstm", "--model", model, str(path)]) == 2
    error = capsys.readouterr().err
    assert "is 8x9; the model draws 8x8 images" in error and "Traceback" not in error


@pytest.mark.data
def test_the_gimp_patterns_are_58_grey_textures_split_by_pattern():
    patterns = textures.load_patterns("gimp_textures")
    assert len(patterns) == 58
    assert all(p.dtype == np.uint8 and p.ndim == 2 for p in patterns.values())
    assert {"leather", "burlap", "walnut", "granite1"} <= set(patterns)
    train, validation, test = textures.split_patterns(sorted(patterns), seed=1337)
    assert (len(train), len(validation), len(test)) == (46, 6, 6)
    assert not set(test) & set(train) and not set(validation) & set(train)
