"""captioning end to end at the tiny preset, on shapes drawn in the test."""

import json

import numpy as np
import pytest
import tensorflow as tf

from keras_seq import cli
from keras_seq.data import captions
from tasks import captioning
from tests.tasks import tiny_data


@pytest.fixture(scope="module")
def shapes(tmp_path_factory):
    folder = tmp_path_factory.mktemp("shapes")
    tiny_data.shapes(folder)
    return folder


@pytest.fixture(scope="module")
def tiny_run(tiny_runs):
    return tiny_runs("captioning").folder


def test_run_reports_bleu_and_both_baselines(tiny_run):
    found = json.loads((tiny_run / "metrics.json").read_text())
    for key in ("bleu1", "bleu4", "bleu4_most_frequent", "bleu4_nearest_neighbour"):
        assert 0.0 <= found[key] <= 100.0
    assert found["test_images"] == 6


def test_caption_of_bytes_that_are_no_image_is_empty(tiny_run, shapes):
    import tensorflow as tf

    served = tf.saved_model.load(str(tiny_run / "saved_model"))
    images = [(shapes / "000.png").read_bytes(), b"not an image at all"]
    found = served.caption(image=tf.constant(images))["caption"].numpy()
    assert isinstance(found[0], bytes) and found[1] == b""
    weights = served.attention(
        image=tf.constant(images[:1]), caption=tf.constant(["a red square ."])
    )["weights"].numpy()
    # Five steps (start, four words) over the 2 x 2 grid of the tiny encoder.
    assert weights.shape == (1, 5, 4)
    np.testing.assert_allclose(weights.sum(-1), [[1.0] * 5], rtol=1e-5)


def test_predict_plots_and_refuses_a_corrupt_image(tiny_run, shapes, tmp_path, capsys):
    picture = tmp_path / "caption.png"
    model = str(tiny_run)
    image = str(shapes / "001.png")
    assert (
        cli.main(
            ["predict", "captioning", "--model", model, image, "--plot", str(picture)]
        )
        == 0
    )
    assert capsys.readouterr().out.startswith(f"{image}: ")
    assert picture.stat().st_size > 5000
    corrupt = tmp_path / "corrupt.png"
    corrupt.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00" * 40)
    assert cli.main(["predict", "captioning", "--model", model, str(corrupt)]) == 2
    error = capsys.readouterr().err
    assert (
        "is not a readable PNG or JPEG image" in error and len(error.splitlines()) == 1
    )


def test_twemoji_captions_name_the_skin_tone(tmp_path):
    (tmp_path / "a.png").write_bytes(b"x")
    (tmp_path / "a-tone.png").write_bytes(b"x")
    entries = [
        {
            "name": "WAVING HAND SIGN",
            "unified": "1F44B",
            "image": "a.png",
            "skin_variations": {"1F3FD": {"image": "a-tone.png"}},
        },
        {"name": "MISSING", "unified": "1", "image": "gone.png"},
    ]
    examples = captions.twemoji_examples(entries, tmp_path)
    assert [example.caption for example in examples] == [
        "waving hand sign",
        "waving hand sign: medium skin tone",
    ]
    assert {example.group for example in examples} == {"1F44B"}


def test_tuxpaint_keeps_png_stamps_with_their_first_line(tmp_path):
    animals = tmp_path / "animals"
    animals.mkdir()
    (animals / "heron.png").write_bytes(b"x")
    (animals / "heron.txt").write_text("\nA great blue heron.\nde.utf8=Ein Reiher.\n")
    (animals / "cat.svg").write_text("<svg/>")
    (animals / "cat.txt").write_text("A cat.\n")
    examples = captions.tuxpaint_examples(tmp_path)
    assert [(e.caption, e.group) for e in examples] == [
        ("A great blue heron.", "animals/heron.png")
    ]
    assert captions.tuxpaint_skipped(tmp_path) == 1


def test_a_bad_caption_file_gets_one_line(tmp_path):
    bad = tmp_path / "bad.tsv"
    bad.write_text("only-a-path.png\n")
    with pytest.raises(Exception, match="line 1: expected an image path and a caption"):
        captions.load_examples(f"file:{bad}")


@pytest.mark.parametrize("attention", ["none", "additive"])
@pytest.mark.parametrize("every_step", [False, True])
def test_training_and_inference_pieces_agree(attention, every_step):
    from types import SimpleNamespace

    from keras_seq.config import apply_overrides
    from keras_seq.data.vocabulary import SENTENCE_MARKS, Vocabulary

    config = apply_overrides(
        captioning.PRESETS["tiny"],
        # Augmentation is on: it must leave inference alone.
        {
            "attention": attention,
            "image_every_step": str(every_step),
            "dropout": "0",
            "augment": "0.2",
        },
    )
    vocabulary = Vocabulary([*SENTENCE_MARKS, "a", "red", "square"])
    data = SimpleNamespace(vocabulary=vocabulary, train_size=8)
    pieces = captioning.build_model(config, data)
    image = tf.random.uniform([2, config.image_size, config.image_size, 3], seed=1)
    caption_in = tf.constant([[2, 4, 5, 6], [2, 4, 6, 0]], tf.int32)
    inputs = {"image": image, "caption_in": caption_in}
    expected = pieces.model(inputs, training=False).numpy()
    captioner = captioning.Captioner(config, pieces, vocabulary)
    step_fn, _, state, _ = captioner.start(image)
    for t in range(3):
        logits, state = step_fn(caption_in[:, t], state)
        np.testing.assert_allclose(logits.numpy(), expected[:, t], atol=1e-4)
    # Augmentation changes what the training model sees (this call also
    # moves batch normalisation's statistics, so it comes last).
    assert not np.allclose(pieces.model(inputs, training=True).numpy(), expected)
