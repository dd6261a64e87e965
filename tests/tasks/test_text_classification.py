"""text_classification end to end at the tiny preset."""

import json

import numpy as np
import pytest

from keras_seq import cli
from keras_seq.config import apply_overrides
from tasks import text_classification
from tests.tasks import tiny_data


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    return tiny_data.reviews(tmp_path_factory.mktemp("text_classification"))


@pytest.fixture(scope="module")
def tiny_run(tiny_runs):
    return tiny_runs("text_classification").folder


def test_run_writes_metrics_and_plots(tiny_run):
    metrics = json.loads((tiny_run / "metrics.json").read_text())
    assert 0 <= metrics["accuracy"] <= 1 and 0 <= metrics["macro_f1"] <= 1
    assert metrics["test_examples"] == 12
    assert (tiny_run / "confusion_matrix.png").is_file()
    assert (tiny_run / "pretraining" / "history.csv").is_file()


def test_pretraining_trains_the_shared_encoder(corpus, tmp_path):
    config = apply_overrides(
        text_classification.PRESETS["tiny"],
        {"data": f"file:{corpus}", "pretrain": "task", "pretrain_epochs": "2"},
    )
    data = text_classification.load_data(config)
    pieces = text_classification.build_model(config, data)
    encoder = pieces.model.get_layer("encoder")
    before = [np.array(w) for w in encoder.weights]
    history = text_classification.pretrain(config, pieces, data, tmp_path)
    assert history.history["loss"][-1] < history.history["loss"][0]
    # The classifier's own encoder changed: the weights are shared.
    assert all(not np.allclose(old, w) for old, w in zip(before, encoder.weights))


def test_deep_bidirectional_pretraining_is_refused(corpus):
    config = apply_overrides(
        text_classification.PRESETS["tiny"],
        {"data": f"file:{corpus}", "pretrain": "task", "num_layers": "2"},
    )
    data = text_classification.load_data(config)
    pieces = text_classification.build_model(config, data)
    with pytest.raises(ValueError, match="needs num_layers=1"):
        text_classification.language_model(config, pieces)


def test_classify_handles_odd_texts(tiny_run):
    import tensorflow as tf

    served = tf.saved_model.load(str(tiny_run / "saved_model"))
    texts = ["a wonderful great film", "", "zzz qqq xxyy", " ".join(["dull"] * 10000)]
    out = served.classify(text=tf.constant(texts))
    labels = [label.decode() for label in out["label"].numpy()]
    assert all(label in ("negative", "positive") for label in labels)
    np.testing.assert_allclose(out["probabilities"].numpy().sum(-1), 1.0, atol=1e-5)
    weights = out["token_weights"].numpy()
    assert weights.shape == (4, 12)  # max_length of the tiny preset
    # The empty text has no word to weigh; real words share weight 1.
    assert np.all(weights[1] == 0)
    assert weights[0].sum() == pytest.approx(1.0, abs=1e-5)
    tokens = [token.decode() for token in out["tokens"].numpy()[0][:2]]
    assert tokens == ["a", "wonderful"]


def test_predict_prints_label_probability_and_words(tiny_run, capsys):
    assert (
        cli.main(
            [
                "predict",
                "text_classification",
                "--model",
                str(tiny_run),
                "a lovely great film",
                "truly dull",
            ]
        )
        == 0
    )
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 4
    assert lines[0].split()[0] in ("positive", "negative")
    assert lines[1].strip().startswith("words that weighed most:")


def test_evaluate_reproduces_the_run(tiny_run, capsys):
    assert cli.main(["evaluate", "text_classification", "--model", str(tiny_run)]) == 0
    evaluated = json.loads(capsys.readouterr().out)
    saved = json.loads((tiny_run / "metrics.json").read_text())
    assert evaluated["accuracy"] == pytest.approx(saved["accuracy"])


def test_bad_data_gets_one_line(tmp_path, capsys):
    bad = tmp_path / "bad.csv"
    bad.write_text("one,two,three\n")
    assert (
        cli.main(
            [
                "run",
                "text_classification",
                "--preset",
                "tiny",
                "--output",
                str(tmp_path / "run"),
                "--set",
                f"data=file:{bad}",
            ]
        )
        == 2
    )
    assert "must have 2 columns" in capsys.readouterr().err


def test_lexicon_valence_is_a_fixed_feature(corpus, monkeypatch, tmp_path):
    from keras_seq.data import labelled

    monkeypatch.setattr(labelled, "vader_lexicon", lambda: {"great": 3.2, "dull": -2})
    config = apply_overrides(
        text_classification.PRESETS["tiny"],
        {"data": f"file:{corpus}", "lexicon": "vader", "pretrain": "task"},
    )
    data = text_classification.load_data(config)
    pieces = text_classification.build_model(config, data)
    table = pieces.model.get_layer("lexicon").get_weights()[0][:, 0]
    assert table[data.vocabulary.index("great")] == pytest.approx(0.8)
    assert table[data.vocabulary.index("dull")] == pytest.approx(-0.5)
    assert table[data.vocabulary.index("film")] == 0
    text_classification.pretrain(config, pieces, data, tmp_path)
    texts, labels = next(iter(data.train))
    pieces.model.train_on_batch(texts, labels)
    # Training leaves the people's ratings as they were.
    after = pieces.model.get_layer("lexicon").get_weights()[0][:, 0]
    np.testing.assert_array_equal(table, after)
