"""The adding and copy tasks end to end at the tiny preset."""

import json

import pytest

from keras_seq import cli


@pytest.fixture(scope="module")
def runs(tiny_runs):
    """The folder of the session's tiny runs of adding and copy."""
    return tiny_runs("adding").folder.parent if tiny_runs("copy") else None


def test_metrics_stand_next_to_their_baselines(runs):
    adding = json.loads((runs / "adding" / "metrics.json").read_text())
    assert adding["baseline_mse"] == pytest.approx(2 / 12)
    assert adding["test_mse"] > 0
    copy = json.loads((runs / "copy" / "metrics.json").read_text())
    assert copy["baseline_cross_entropy"] == pytest.approx(10 * 2.0794415 / 24)
    assert 0 <= copy["copied_symbols_accuracy"] <= 1


def test_predict_commands(runs, capsys):
    assert cli.main(["predict", "adding", "--model", str(runs / "adding")]) == 0
    assert capsys.readouterr().out.count("target") == 5
    assert (
        cli.main(["predict", "copy", "--model", str(runs / "copy"), "1234567812"]) == 0
    )
    assert capsys.readouterr().out.startswith("given 1234567812  written back ")
    assert cli.main(["predict", "copy", "--model", str(runs / "copy"), "129"]) == 2
    assert "10 digits from 1 to 8" in capsys.readouterr().err
