"""keras_seq.run, load and evaluate: the command line from Python."""

import numpy as np
import pytest

import keras_seq
from keras_seq import api
from keras_seq.errors import UserError


def test_a_run_holds_what_it_wrote(tiny_runs):
    run = tiny_runs("adding")
    assert run.task == "adding" and run.preset == "tiny"
    assert (run.folder / "model.keras").is_file()
    assert (run.export_path / "saved_model.pb").is_file()
    assert {"test_mse", "baseline_mse", "train_minutes"} <= set(run.metrics)
    assert set(run.endpoints) == {"serve"}


def test_load_reads_a_run_folder_back_and_evaluate_agrees(tiny_runs):
    run = tiny_runs("adding")
    loaded = keras_seq.load(run.folder)
    assert loaded.config == run.config and loaded.metrics == run.metrics
    assert loaded.endpoints is None and loaded.export_path == run.export_path
    for saved, trained in zip(loaded.model.weights, run.model.weights):
        np.testing.assert_array_equal(np.array(saved), np.array(trained))
    metrics = api.evaluate("adding", run.folder)
    assert metrics["test_mse"] == pytest.approx(run.metrics["test_mse"], rel=1e-5)


def test_load_of_a_saved_model_gives_its_endpoints(tiny_runs):
    run = tiny_runs("adding")
    served = keras_seq.load(run.export_path)
    assert all(hasattr(served, name) for name in run.endpoints)


@pytest.mark.parametrize(
    "task, settings, message",
    [
        ("no_such_task", {}, "Unknown task 'no_such_task'. Available: "),
        ("tsp", {"n": "many"}, "many"),
        ("tsp", {"no_such_setting": 1}, "no_such_setting"),
        ("char_generation", {"temperature": float("nan")}, "temperature"),
        ("adding", {"units": 0}, "units"),
    ],
)
def test_mistakes_raise_the_command_lines_one_line(task, settings, message, tmp_path):
    with pytest.raises(UserError, match=message) as raised:
        keras_seq.run(task, preset="tiny", output=tmp_path / "run", **settings)
    assert "\n" not in str(raised.value)
    assert not (tmp_path / "run").exists()  # refused before anything is written


def test_load_refuses_what_is_no_run(tmp_path):
    with pytest.raises(UserError, match="no such run folder or SavedModel"):
        keras_seq.load(tmp_path / "missing")
    (tmp_path / "empty").mkdir()
    with pytest.raises(UserError, match="not a run folder"):
        keras_seq.load(tmp_path / "empty")
