"""The task contract, for every registered task at its tiny preset.

Each task's tiny run (`keras_seq.run`, tests/tasks/conftest.py) trains,
evaluates and exports; training must have changed every trainable weight of
the model built with the same seed. Then every endpoint is called with the
task's example inputs at two batch sizes, in this process on the live
functions and in a fresh process that imports only TensorFlow on the
SavedModel, and the answers must agree (as keras's own saved-model tests
compare a model with its export); serving needs no keras_seq.
"""

import os
import pickle
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest
import tensorflow as tf

from keras_seq import registry
from keras_seq.config import TrainingConfig
from tests.conftest import PROJECT

TASKS = registry.task_names()
BATCH_SIZES = (1, 3)

FRESH_PROCESS = """
    import pickle, sys
    import tensorflow as tf
    requests = pickle.load(open(sys.argv[1], "rb"))
    answers = {}
    for (task, endpoint, count), (path, inputs) in requests.items():
        served = tf.saved_model.load(path)
        outputs = getattr(served, endpoint)(
            **{name: tf.constant(value) for name, value in inputs.items()}
        )
        answers[task, endpoint, count] = {k: v.numpy() for k, v in outputs.items()}
    answers["imported"] = sorted(
        name for name in sys.modules if name.split(".")[0] == "keras_seq"
    )
    pickle.dump(answers, open(sys.argv[2], "wb"))
"""


def _check_task(name, tiny_runs):
    """Rebuilds the tiny run's untrained model (the same seed) to find the
    weights training left alone, and calls its live endpoints."""
    run = tiny_runs(name)
    task = registry.get_task(name)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("KERAS_SEQ_DATA", str(tiny_runs.data_home))
        data = registry.load_data(task, run.config)
        untrained = registry.build_model(task, run.config, data).model
    unchanged = [
        weight.path
        for old, weight in zip(untrained.trainable_weights, run.model.trainable_weights)
        if np.array_equal(np.array(old), np.array(weight))
    ]
    assert len(untrained.trainable_weights) == len(run.model.trainable_weights)
    requests, answers = {}, {}
    for count in BATCH_SIZES:
        for endpoint, inputs in task.examples(run.config, data, count).items():
            outputs = run.endpoints[endpoint](
                **{key: tf.constant(value) for key, value in inputs.items()}
            )
            answers[endpoint, count] = {k: v.numpy() for k, v in outputs.items()}
            requests[name, endpoint, count] = (str(run.export_path), inputs)
    return {"unchanged": unchanged, "requests": requests, "answers": answers}


@pytest.fixture(scope="module")
def runs(tiny_runs, tmp_path_factory):
    """Every task's checks, and its endpoints' answers in a fresh process."""
    folder = tmp_path_factory.mktemp("contract")
    found = {}
    for name in TASKS:
        started = time.monotonic()
        try:
            found[name] = _check_task(name, tiny_runs)
        except Exception as error:  # each task's contract tests report it
            found[name] = error
        print(f"contract checks of {name}: {time.monotonic() - started:.1f} s")
    requests = {}
    for run in found.values():
        if isinstance(run, dict):
            requests.update(run["requests"])
    (folder / "requests.pkl").write_bytes(pickle.dumps(requests))
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            textwrap.dedent(FRESH_PROCESS),
            str(folder / "requests.pkl"),
            str(folder / "answers.pkl"),
        ],
        capture_output=True,
        text=True,
        timeout=600,
        cwd=PROJECT,
        env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"},
    )
    assert result.returncode == 0, result.stderr[-3000:]
    fresh = pickle.loads((folder / "answers.pkl").read_bytes())
    return found, fresh


def _run(runs, name):
    found, _ = runs
    if isinstance(found[name], Exception):
        raise found[name]
    return found[name]


@pytest.mark.parametrize("name", TASKS)
def test_the_contract_names_and_presets(name):
    task = registry.get_task(name)
    assert issubclass(task.Config, TrainingConfig)
    for preset in registry.PRESET_NAMES:
        assert isinstance(task.PRESETS[preset], task.Config)
    assert task.PRESETS["default"].data in task.DATA_SOURCES
    assert task.DESCRIPTION and task.PRIMARY_METRIC


@pytest.mark.parametrize("name", TASKS)
def test_training_changes_every_trainable_weight(runs, name):
    assert _run(runs, name)["unchanged"] == []


@pytest.mark.parametrize("name", TASKS)
def test_every_endpoint_answers_alike_in_a_fresh_process(runs, name):
    run = _run(runs, name)
    _, fresh = runs
    assert fresh["imported"] == [], "the fresh process imported keras_seq"
    assert {count for _, count in run["answers"]} == set(BATCH_SIZES)
    for (endpoint, count), expected in run["answers"].items():
        answered = fresh[name, endpoint, count]
        assert set(answered) == set(expected), endpoint
        for key, value in expected.items():
            assert len(value) == count or value.ndim == 0, (endpoint, key)
            if value.dtype.kind in "fc":
                np.testing.assert_allclose(
                    answered[key], value, rtol=1e-5, atol=1e-6, err_msg=endpoint
                )
            else:
                np.testing.assert_array_equal(answered[key], value, err_msg=endpoint)


def test_the_registry_refuses_a_task_without_the_contract():
    from types import SimpleNamespace

    from keras_seq.errors import UserError

    with pytest.raises(UserError, match="lacks .*endpoints"):
        registry.check_contract("broken", SimpleNamespace(DESCRIPTION="x"))


def test_optional_names_have_defaults():
    task = registry.get_task("translation")
    assert task.probe is None
    assert registry.get_task("adding").PREDICT_OPTIONS == ()
    with pytest.raises(AttributeError):
        _ = task.no_such_name


def test_every_task_is_listed_in_the_readme():
    readme = (PROJECT / "README.md").read_text()
    for name in TASKS:
        assert f"`{name}`" in readme, name
