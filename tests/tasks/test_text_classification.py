"""text_classification end to end at the tiny preset."""

import json

import numpy as np
import pytest

from keras_seq import cli
from keras_seq.config import apply_overrides
from tasks import text_classification
from tests.conftest import run_python

POSITIVE = [
    "a wonderful film",
    "great acting and a lovely story",
    "truly great fun",
    "wonderful and moving",
    "a lovely great film",
]
NEGATIVE = [
    "a dull film",
    "boring acting and a dreadful story",
    "truly awful",
    "dull and tedious",
    "an awful boring film",
]


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    folder = tmp_path_factory.mktemp("text_classification")
    path = folder / "reviews.csv"
    rows = ["text,label"]
    for repeat in range(12):
        rows += [f"{text},positive" for text in POSITIVE]
        rows += [f"{text},negative" for text in NEGATIVE]
    path.write_text("\n".join(rows) + "\n")
    return path


@pytest.fixture(scope="module")
def tiny_run(corpus, tmp_path_factory):
    output = tmp_path_factory.mktemp("run") / "run"
    status = cli.main(
        [
            "run",
            "text_classification",
            "--preset",
            "tiny",
            "--output",
            str(output),
            "--set",
            f"data=file:{corpus}",
            "--set",
            "pretrain=task",
            "--set",
            "epochs=3",
        ]
    )
    assert status == 0
    return output


def test_run_writes_metrics_and_plots(tiny_run):
    metrics = json.loads((tiny_run / "metrics.json").read_text())
    assert 0 <= metrics["accuracy"] <= 1 and 0 <= metrics["macro_f1"] <= 1
    assert metrics["test_examples"] == 12
    assert (tiny_run / "confusion_matrix.png").is_file()
    assert (tiny_run / "pretraining" / "history.csv").is_file()


@pytest.mark.parametrize("pooling", ["attention", "last"])
def test_one_step_changes_every_weight(corpus, pooling):
    config = apply_overrides(
        text_classification.PRESETS["tiny"],
        {"data": f"file:{corpus}", "pooling": pooling},
    )
    data = text_classification.load_data(config)
    pieces = text_classification.build_model(config, data)
    before = [np.array(w) for w in pieces.model.trainable_weights]
    texts, labels = next(iter(data.train))
    pieces.model.train_on_batch(texts, labels)
    for old, weight in zip(before, pieces.model.trainable_weights):
        assert not np.allclose(old, weight), weight.path


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


CLASSIFY = """
    import json, sys
    import tensorflow as tf
    model = tf.saved_model.load({path!r})
    texts = ["a wonderful great film", "", "zzz qqq xxyy", " ".join(["dull"] * 10000)]
    out = model.classify(text=tf.constant(texts))
    print(json.dumps({{
        "labels": [label.decode() for label in out["label"].numpy()],
        "probabilities": out["probabilities"].numpy().tolist(),
        "weights": out["token_weights"].numpy().tolist(),
        "tokens": [[t.decode() for t in row] for row in out["tokens"].numpy()],
        "keras_seq": any(m.startswith("keras_seq") for m in sys.modules),
    }}))
"""


def test_classify_in_a_fresh_process_handles_odd_texts(tiny_run):
    result = run_python(CLASSIFY.format(path=str(tiny_run / "saved_model")))
    assert result.returncode == 0, result.stderr[-3000:]
    answer = json.loads(result.stdout.strip().splitlines()[-1])
    assert not answer["keras_seq"]
    assert all(label in ("negative", "positive") for label in answer["labels"])
    for row in answer["probabilities"]:
        assert sum(row) == pytest.approx(1.0, abs=1e-5)
    weights = np.array(answer["weights"])
    assert weights.shape == (4, 12)  # max_length of the tiny preset
    # The empty text has no word to weigh; real words share weight 1.
    assert np.all(weights[1] == 0)
    assert weights[0].sum() == pytest.approx(1.0, abs=1e-5)
    assert answer["tokens"][0][:2] == ["a", "wonderful"]


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
