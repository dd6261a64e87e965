"""char_generation end to end at the tiny preset: train, evaluate, export, serve."""

import json
import math
import shutil
import subprocess
import sys
from pathlib import Path

import keras
import numpy as np
import pytest

from keras_seq import cli
from keras_seq.config import apply_overrides
from tasks import char_generation
from tests.conftest import keras_seq_command


@pytest.fixture(scope="module")
def tiny_run(tiny_runs):
    """The session's tiny run (tests/tasks/conftest.py)."""
    return tiny_runs("char_generation").folder


def test_run_writes_the_whole_run_folder(tiny_run):
    for name in [
        "config.json",
        "model.keras",
        "metrics.json",
        "history.csv",
        "learning_curves.png",
        "saved_model/saved_model.pb",
    ]:
        assert (tiny_run / name).exists(), name
    assert not (tiny_run / "backup").exists()
    assert any((tiny_run / "logs").rglob("events.out.tfevents.*"))
    metrics = json.loads((tiny_run / "metrics.json").read_text())
    assert metrics["val_bits_per_char"] == pytest.approx(
        metrics["val_nats_per_char"] / math.log(2)
    )


def test_inference_pieces_share_the_training_weights(tiny_corpus):
    config = apply_overrides(
        char_generation.PRESETS["tiny"],
        {"data": f"file:{tiny_corpus}", "cell": "lstm", "num_layers": "2"},
    )
    data = char_generation.load_data(config)
    pieces = char_generation.build_model(config, data)
    tokens = data.train_ids[None, :12]
    full = pieces.model.predict(tokens, verbose=0)
    # Prime on 11 characters, then one step: the same logits as the full model.
    _, *states = pieces.encoder.predict(tokens[:, :11], verbose=0)
    step_logits, *_ = pieces.step.predict([tokens[:, 11:12], *states], verbose=0)
    np.testing.assert_allclose(step_logits[:, 0], full[:, 11], rtol=1e-4, atol=1e-5)


def test_endpoints_answer_odd_texts(tiny_run):
    import tensorflow as tf

    served = tf.saved_model.load(str(tiny_run / "saved_model"))
    texts = ["ROMEO:\nBut, soft!", "a", "", "zz\u00e9\U0001f600 unknown", "x" * 10000]
    nats = served.log_likelihood(text=tf.constant(texts))["nats_per_char"].numpy()
    assert np.isnan(nats[1]) and np.isnan(nats[2])  # nothing to predict
    assert all(0 < value < 10 for value in nats[[0, 3, 4]])
    out = served.generate(
        prompt=tf.constant(["", "JULIET:", "\u00e9\u00e9"]),
        length=tf.constant(25),
        temperature=tf.constant(0.7),
    )
    assert [len(text.decode()) for text in out["text"].numpy()] == [25, 25, 25]


def test_log_likelihood_matches_the_keras_model(tiny_run):
    import tensorflow as tf

    model = keras.saving.load_model(tiny_run / "model.keras")
    config = json.loads((tiny_run / "config.json").read_text())
    data = char_generation.load_data(char_generation.Config(**config))
    text = "ROMEO:\nIt is the east."
    ids = data.vocabulary.encode_characters(text)
    logits = model.predict(ids[None, :-1], verbose=0)[0]
    log_probabilities = logits - np.log(np.exp(logits).sum(-1, keepdims=True))
    expected = -np.mean(log_probabilities[np.arange(len(ids) - 1), ids[1:]])
    served = tf.saved_model.load(str(tiny_run / "saved_model"))
    nats = served.log_likelihood(text=tf.constant([text]))["nats_per_char"].numpy()
    assert nats[0] == pytest.approx(expected, rel=1e-4)


def test_saved_model_cli_lists_the_endpoints(tiny_run):
    executable = Path(sys.executable).with_name("saved_model_cli")
    result = subprocess.run(
        [str(executable), "show", "--all", "--dir", str(tiny_run / "saved_model")],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    for name in [
        "signature_def['generate']",
        "signature_def['log_likelihood']",
        "prompt",
        "temperature",
        "length",
        "nats_per_char",
    ]:
        assert name in result.stdout


def test_evaluate_and_predict_commands(tiny_run, capsys):
    assert cli.main(["evaluate", "char_generation", "--model", str(tiny_run)]) == 0
    evaluated = json.loads(capsys.readouterr().out)
    saved = json.loads((tiny_run / "metrics.json").read_text())
    assert evaluated["val_nats_per_char"] == pytest.approx(
        saved["val_nats_per_char"], rel=1e-4
    )
    assert (
        cli.main(
            [
                "predict",
                "char_generation",
                "--model",
                str(tiny_run),
                "ROMEO:",
                "--length",
                "12",
            ]
        )
        == 0
    )
    printed = capsys.readouterr().out
    assert printed.startswith("ROMEO:") and len(printed.splitlines()[0]) >= 6


def test_bad_inputs_get_one_line_and_status_2(tiny_run, tmp_path):
    other_task = tmp_path / "other"
    shutil.copytree(tiny_run, other_task)
    (other_task / "task.json").write_text('{"task": "translation"}')
    binary = tmp_path / "binary.txt"
    binary.write_bytes(bytes(range(256)) * 10)
    short = tmp_path / "short.txt"
    short.write_text("too short")
    cases = [
        (["run", "no_such_task"], "Unknown task 'no_such_task'. Available:"),
        (["run", "char_generation", "--set", "colour=red"], "Unknown setting 'colour'"),
        (
            ["run", "char_generation", "--set", "units=many"],
            "`units` must be of type int. Received: units='many'",
        ),
        (
            ["run", "char_generation", "--set", "cell=transformer"],
            "`cell` must be one of",
        ),
        (["run", "char_generation", "--preset", "huge"], "Unknown preset 'huge'"),
        (
            [
                "run",
                "char_generation",
                "--preset",
                "tiny",
                "--output",
                str(tmp_path / "a"),
                "--set",
                f"data=file:{tmp_path / 'missing.txt'}",
            ],
            "no such file",
        ),
        (
            [
                "run",
                "char_generation",
                "--preset",
                "tiny",
                "--output",
                str(tmp_path / "b"),
                "--set",
                f"data=file:{binary}",
            ],
            "not UTF-8 text",
        ),
        (
            [
                "run",
                "char_generation",
                "--preset",
                "tiny",
                "--output",
                str(tmp_path / "c"),
                "--set",
                f"data=file:{short}",
            ],
            "is too short",
        ),
        (
            [
                "run",
                "char_generation",
                "--set",
                "data=gutenberg",
                "--preset",
                "tiny",
                "--output",
                str(tmp_path / "d"),
            ],
            "Unknown data source 'gutenberg'",
        ),
        (
            ["predict", "char_generation", "--model", str(tmp_path / "none"), "x"],
            "no exported model there",
        ),
        (["evaluate", "char_generation", "--model", str(tmp_path)], "not a run folder"),
        (["run"], "the following arguments are required: task"),
        (
            [
                "predict",
                "char_generation",
                "--model",
                str(tiny_run),
                "x",
                "--plot",
                "a.png",
            ],
            "char_generation predict takes --length, --temperature. Received: --plot",
        ),
        (
            ["evaluate", "char_generation", "--model", str(other_task)],
            "holds a run of task 'translation', not 'char_generation'",
        ),
    ]
    for argv, message in cases:
        result = keras_seq_command(*argv) if argv == cases[0][0] else None
        if result is not None:
            # One case in a real process: one line on stderr, no traceback.
            assert result.returncode == 2
            assert result.stderr.strip().count("\n") == 0, result.stderr
            assert "Traceback" not in result.stderr and message in result.stderr
            continue
        import io
        from contextlib import redirect_stderr

        stderr = io.StringIO()
        with redirect_stderr(stderr):
            status = cli.main(argv)
        assert status == 2, argv
        lines = stderr.getvalue().strip().splitlines()
        assert len(lines) == 1 and message in lines[0], (argv, lines)
