"""The adding and copy tasks end to end at the tiny preset."""

import json

import pytest

from keras_seq import cli
from tests.conftest import run_python


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    folder = tmp_path_factory.mktemp("long_memory")
    for task in ("adding", "copy"):
        assert (
            cli.main(["run", task, "--preset", "tiny", "--output", str(folder / task)])
            == 0
        )
    return folder


def test_metrics_stand_next_to_their_baselines(runs):
    adding = json.loads((runs / "adding" / "metrics.json").read_text())
    assert adding["baseline_mse"] == pytest.approx(2 / 12)
    assert adding["test_mse"] > 0
    copy = json.loads((runs / "copy" / "metrics.json").read_text())
    assert copy["baseline_cross_entropy"] == pytest.approx(10 * 2.0794415 / 24)
    assert 0 <= copy["copied_symbols_accuracy"] <= 1


SERVE = """
    import json
    import numpy as np
    import tensorflow as tf
    adding = tf.saved_model.load({adding!r})
    copy = tf.saved_model.load({copy!r})
    sums = adding.serve(inputs=tf.constant(np.random.rand(3, 6, 2), tf.float32))["sum"]
    symbols = copy.serve(tokens=tf.constant(np.ones((2, 24)), tf.int32))["symbols"]
    print(json.dumps({{"sums": sums.shape.as_list(),
                      "symbols": symbols.shape.as_list()}}))
"""


def test_serve_endpoints_in_a_fresh_process(runs):
    result = run_python(
        SERVE.format(
            adding=str(runs / "adding" / "saved_model"),
            copy=str(runs / "copy" / "saved_model"),
        )
    )
    assert result.returncode == 0, result.stderr[-3000:]
    shapes = json.loads(result.stdout.strip().splitlines()[-1])
    assert shapes == {"sums": [3], "symbols": [2, 24]}


def test_predict_commands(runs, capsys):
    assert cli.main(["predict", "adding", "--model", str(runs / "adding")]) == 0
    assert capsys.readouterr().out.count("target") == 5
    assert (
        cli.main(["predict", "copy", "--model", str(runs / "copy"), "1234567812"]) == 0
    )
    assert capsys.readouterr().out.startswith("given 1234567812  written back ")
    assert cli.main(["predict", "copy", "--model", str(runs / "copy"), "129"]) == 2
    assert "10 digits from 1 to 8" in capsys.readouterr().err
