"""The shared harness: resume after SIGKILL, mirrored strategy, clipping."""

import dataclasses
import os
import signal
import subprocess
import sys
import time
import types

import keras
import numpy as np
import pytest
import tensorflow as tf

from keras_seq import config as config_lib
from keras_seq import training
from keras_seq.config import TrainingConfig
from tests.conftest import PROJECT, TINY_PLAY, run_python


def test_optimizer_clips_by_global_norm():
    optimizer = training.make_optimizer(TrainingConfig(clipnorm=0.5), 10)
    assert optimizer.global_clipnorm == 0.5
    assert (
        training.make_optimizer(TrainingConfig(clipnorm=0), 10).global_clipnorm is None
    )


def test_cosine_schedule_decays_over_the_run():
    config = TrainingConfig(learning_rate=1.0, lr_schedule="cosine", epochs=2)
    optimizer = training.make_optimizer(config, steps_per_epoch=5)
    schedule = optimizer._learning_rate
    assert float(schedule(0)) == pytest.approx(1.0)
    assert float(schedule(10)) == pytest.approx(0.05, abs=1e-6)


def test_unknown_strategy_is_refused():
    with pytest.raises(ValueError, match="Received: 'tpu'"):
        training.get_strategy("tpu")


@pytest.mark.slow
def test_a_killed_run_resumes_from_its_last_epoch(tmp_path):
    corpus = tmp_path / "play.txt"
    corpus.write_text(TINY_PLAY * 200)
    output = tmp_path / "run"
    command = [
        sys.executable,
        "-m",
        "keras_seq",
        "run",
        "char_generation",
        "--preset",
        "tiny",
        "--output",
        str(output),
        "--set",
        f"data=file:{corpus}",
        "--set",
        "epochs=8",
        "--set",
        "steps_per_epoch=15",
        "--set",
        "units=64",
        "--set",
        "sequence_length=64",
        "--set",
        "batch_size=32",
    ]
    environment = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    process = subprocess.Popen(
        command,
        cwd=PROJECT,
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    metadata = output / "backup" / "training_metadata.json"
    deadline = time.monotonic() + 240
    completed = 0
    while time.monotonic() < deadline and process.poll() is None:
        if metadata.is_file():
            try:
                import json

                completed = json.loads(metadata.read_text())["epoch"]
            except (ValueError, KeyError):
                completed = 0
            if completed >= 2:
                break
        time.sleep(0.05)
    assert process.poll() is None, "the run ended before it could be killed"
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
    first_output = process.stdout.read().decode()
    assert completed >= 2, first_output[-2000:]
    assert completed < 8

    resumed = subprocess.run(
        command,
        cwd=PROJECT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    assert "Resuming the interrupted run" in resumed.stdout
    epochs_run = [
        line for line in resumed.stdout.splitlines() if line.startswith("Epoch ")
    ]
    # The run continues where the kill left it: no epoch is run from scratch.
    assert epochs_run[0].startswith(f"Epoch {completed + 1}/8"), epochs_run
    assert epochs_run[-1].startswith("Epoch 8/8")
    from keras_seq.plots import read_history

    history = read_history(output / "history.csv")
    assert history["epoch"][-1] == 7
    # Training went on from the trained weights, not from fresh ones.
    assert history["loss"][completed] < history["loss"][0]
    assert not (output / "backup").exists()


@pytest.mark.slow
def test_mirrored_strategy_on_two_cpu_devices(tmp_path):
    corpus = tmp_path / "play.txt"
    corpus.write_text(TINY_PLAY * 60)
    result = run_python(f"""
        import tensorflow as tf
        cpu = tf.config.list_physical_devices("CPU")[0]
        tf.config.set_logical_device_configuration(
            cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
        from keras_seq import cli
        raise SystemExit(cli.main([
            "run", "char_generation", "--preset", "tiny", "--strategy", "mirrored",
            "--set", "data=file:{corpus}", "--output", "{tmp_path / "run"}"]))
    """)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "Training on 2 replicas" in result.stdout
    assert (tmp_path / "run" / "saved_model" / "saved_model.pb").is_file()


def test_time_budget_stops_training():
    model = keras.Sequential([keras.Input((1,)), keras.layers.Dense(1)])
    model.compile("sgd", "mse")
    budget = training.TimeBudget(0.0)
    history = model.fit(
        np.ones((64, 1)),
        np.ones((64, 1)),
        batch_size=1,
        epochs=5,
        verbose=0,
        callbacks=[budget],
    )
    assert len(history.history["loss"]) == 1 and budget.steps == 1


@dataclasses.dataclass(frozen=True)
class _BudgetConfig(TrainingConfig):
    minutes: float = config_lib.minutes()


def test_fit_task_stops_at_a_config_s_minutes(tmp_path):
    def epochs_trained(config, folder):
        model = keras.Sequential([keras.Input((1,)), keras.layers.Dense(1)])
        model.compile("sgd", "mse")
        data = tf.data.Dataset.from_tensor_slices((np.ones((8, 1)), np.ones((8, 1))))
        pieces = types.SimpleNamespace(model=model)
        splits = types.SimpleNamespace(train=data.batch(1), validation=None)
        history = training.fit_task(config, pieces, splits, tmp_path / folder)
        return len(history.history["loss"])

    assert epochs_trained(_BudgetConfig(epochs=3, minutes=1e-9), "budget") == 1
    assert epochs_trained(_BudgetConfig(epochs=3), "no_budget") == 3


@pytest.mark.slow
def test_two_workers_on_localhost_end_with_the_same_weights(tmp_path):
    # Two processes, as two machines would run them: the same command, each
    # with its own TF_CONFIG task index. 32 units run the XLA-compiled
    # recurrent loop.
    import json
    import socket

    import keras_seq.layers  # noqa: F401  (registers the layers for loading)

    ports = []
    for _ in range(2):
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            ports.append(probe.getsockname()[1])
    workers = [f"127.0.0.1:{port}" for port in ports]
    processes = []
    for index in range(2):
        cluster = {
            "cluster": {"worker": workers},
            "task": {"type": "worker", "index": index},
        }
        processes.append(
            subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "keras_seq",
                    "run",
                    "adding",
                    "--preset",
                    "tiny",
                    "--set",
                    "units=32",
                    "--strategy",
                    "multi_worker",
                    "--output",
                    str(tmp_path / f"worker_{index}"),
                ],
                cwd=PROJECT,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
                env={
                    **os.environ,
                    "TF_CPP_MIN_LOG_LEVEL": "3",
                    "TF_CONFIG": json.dumps(cluster),
                },
            )
        )
    outputs = [process.communicate(timeout=600) for process in processes]
    for process, (stdout, stderr) in zip(processes, outputs):
        assert process.returncode == 0, stderr[-3000:]
        assert "Training on 2 replicas" in stdout
    weights = [
        keras.saving.load_model(
            tmp_path / f"worker_{index}" / "model.keras"
        ).get_weights()
        for index in range(2)
    ]
    assert len(weights[0]) == len(weights[1]) > 0
    for a, b in zip(*weights):
        np.testing.assert_array_equal(a, b)


def test_builds_start_from_the_same_weights_whatever_was_drawn_before():
    # `run`, `compare` and the benchmarks all build through
    # registry.build_model: random draws made before it (data loading,
    # other models) must not change the initial weights.
    from keras_seq import registry

    task = registry.get_task("adding")
    config = registry.get_preset(task, "tiny")
    data = task.load_data(config)
    first = registry.build_model(task, config, data).model.get_weights()
    keras.random.normal((7,), seed=keras.random.SeedGenerator(3))
    np.random.default_rng().normal(size=5)
    keras.utils.set_random_seed(config.seed + 1)
    keras.layers.Dense(3).build((None, 2))
    second = registry.build_model(task, config, data).model.get_weights()
    other = registry.build_model(
        task, dataclasses.replace(config, seed=config.seed + 1), data
    ).model.get_weights()
    assert len(first) == len(second) > 0
    for a, b in zip(first, second):
        np.testing.assert_array_equal(a, b)
    assert any(not np.array_equal(a, b) for a, b in zip(first, other))
