"""What the command line does, from Python: run, evaluate, compare and load.

    import keras_seq
    run = keras_seq.run("tsp", preset="tiny", n=10)
    run.metrics["mean_length"], run.export_path
    model = keras_seq.load(run.folder)        # the run folder: config, pieces
    served = keras_seq.load(run.export_path)  # the SavedModel: its endpoints

Settings are keyword arguments with Python values (`n=10`,
`attention="dot"`, `lexical=False`) or the strings `--set` takes; they are
checked as the command line checks them, and mistakes raise
`keras_seq.errors.UserError` with the command line's one-line message.
"""

from __future__ import annotations

import csv
import dataclasses
import json
import os
import time
from pathlib import Path
from typing import Any

from keras_seq import config as config_lib
from keras_seq import registry
from keras_seq.errors import UserError


@dataclasses.dataclass
class Run:
    """A trained run: its settings, model, metrics and where it was written.

    Attributes:
        task: the task's name.
        preset: the preset it started from.
        config: the settings it ran with.
        pieces: the training model and its inference pieces.
        metrics: what `evaluate` measured (and `train_minutes`).
        folder: the run folder (config.json, model.keras, history.csv, ...).
        export_path: the SavedModel, or None when loaded from a folder that
            has none.
        endpoints: after `run`, the exported endpoints as live functions of
            this process, called as the SavedModel's are
            (`run.endpoints["translate"](sentence=tf.constant([...]))`);
            None after `load`.
    """

    task: str
    preset: str
    config: Any
    pieces: Any
    metrics: dict
    folder: Path
    export_path: Path | None
    endpoints: dict[str, Any] | None = None

    @property
    def model(self):
        return self.pieces.model


def _configured(task: registry.Task, preset: str, settings: dict[str, Any]):
    config = registry.get_preset(task, preset)
    return config_lib.apply_overrides(config, settings)


def _check_resumable(folder: Path, config_json: str) -> None:
    """Refuses to resume an interrupted run of other settings."""
    saved = folder / "config.json"
    backup = folder / "backup"
    if backup.is_dir() and any(backup.iterdir()) and saved.is_file():
        previous = json.loads(saved.read_text())
        current = json.loads(config_json)
        changed = sorted(
            key
            for key in set(previous) | set(current)
            if previous.get(key) != current.get(key)
        )
        if changed:
            raise UserError(
                f"{folder} holds an interrupted run with other settings "
                f"(differs in: {', '.join(changed)}); rerun the same command to "
                f"resume it, or choose another output folder"
            )


def save_keras_model(model, path: Path) -> None:
    """Saves `model` to a temporary file renamed into place."""
    staging = path.with_name(f".{path.name}.writing.keras")
    model.save(staging)
    os.replace(staging, path)


def _format(value) -> str:
    return f"{value:.4f}" if isinstance(value, float) else str(value)


def run(
    task: str,
    preset: str = "default",
    output: str | os.PathLike | None = None,
    strategy: str = "default",
    **settings: Any,
) -> Run:
    """Trains, evaluates, shows samples and exports, as `keras-seq run` does.

    Args:
        task: a task name (`keras-seq list` shows them).
        preset: `tiny`, `default` or `paper`.
        output: the run folder; `saved_models/TASK` by default. A run killed
            in the middle continues when started again with the same folder
            and settings.
        strategy: `default`, `mirrored` or `multi_worker` (tf.distribute).
        **settings: the preset's settings to change.

    Returns:
        The `Run`.
    """
    from keras_seq import export, plots, training

    found = registry.get_task(task)
    config = _configured(found, preset, settings)
    folder = Path(output) if output else Path("saved_models") / task
    config_json = config_lib.to_json(config)
    _check_resumable(folder, config_json)
    distribution = training.get_strategy(strategy)
    print(f"keras-seq run {task} --preset {preset}: {folder}")
    started = time.monotonic()
    data = registry.load_data(found, config)
    with distribution.scope():
        pieces = registry.build_model(found, config, data)
    if distribution.num_replicas_in_sync > 1:
        print(f"Training on {distribution.num_replicas_in_sync} replicas")
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "config.json").write_text(config_json)
    (folder / "task.json").write_text(json.dumps({"task": task, "preset": preset}))
    found.train(config, pieces, data, folder)
    save_keras_model(pieces.model, folder / "model.keras")
    metrics = found.evaluate(config, pieces, data, folder)
    metrics["train_minutes"] = (time.monotonic() - started) / 60
    (folder / "metrics.json").write_text(json.dumps(metrics, indent=2))
    print("Metrics: " + ", ".join(f"{k}={_format(v)}" for k, v in metrics.items()))
    found.show(config, pieces, data)
    endpoints = found.endpoints(config, pieces, data)
    archive, traced = export.build_archive(endpoints)
    export_path = export.write_atomically(archive, folder / "saved_model")
    if (folder / "history.csv").is_file():
        plots.learning_curves(
            folder / "history.csv",
            folder / "learning_curves.png",
            title=task,
            labels=found.METRIC_LABELS,
        )
    print(f"Exported {export_path}")
    live = {
        name: _by_keyword(traced[name], signature)
        for name, (_, signature) in endpoints.functions.items()
    }
    return Run(task, preset, config, pieces, metrics, folder, Path(export_path), live)


def _by_keyword(function, signature):
    """`function` of positional tensors, called with them by their names."""

    def call(**inputs):
        return function(*[inputs[spec.name] for spec in signature])

    return call


def _run_folder(task: registry.Task, folder: Path, settings: dict[str, Any]):
    """The task's settings and model of a run folder."""
    if not (folder / "config.json").is_file() or not (folder / "model.keras").is_file():
        raise UserError(
            f"{folder}: not a run folder of keras-seq run "
            "(config.json and model.keras expected)"
        )
    recorded = folder / "task.json"
    if recorded.is_file():
        recorded_task = json.loads(recorded.read_text()).get("task")
        if recorded_task != task.name:
            raise UserError(
                f"{folder} holds a run of task {recorded_task!r}, not {task.name!r}"
            )
    config = config_lib.from_json(task.Config, (folder / "config.json").read_text())
    return config_lib.apply_overrides(config, settings)


def _task_of_folder(folder: Path) -> str:
    recorded = folder / "task.json"
    if not recorded.is_file():
        raise UserError(
            f"{folder}: not a run folder of keras-seq run (task.json expected)"
        )
    return json.loads(recorded.read_text())["task"]


def load(path: str | os.PathLike, **settings: Any):
    """A run folder as a `Run` (settings, pieces, metrics), or a SavedModel.

    Args:
        path: a folder `keras-seq run` wrote, or an exported SavedModel.
        **settings: settings to change for decoding (a run folder only),
            such as `beam_width=4`.

    Returns:
        A `Run` for a run folder; for a SavedModel, what
        `tf.saved_model.load` returns (its endpoints are its methods).
    """
    import keras

    from keras_seq import export

    folder = Path(path)
    if (folder / "saved_model.pb").is_file():
        import tensorflow as tf

        return tf.saved_model.load(str(folder))
    if not folder.is_dir():
        raise UserError(f"{path}: no such run folder or SavedModel")
    task = registry.get_task(_task_of_folder(folder))
    config = _run_folder(task, folder, settings)
    model = keras.saving.load_model(folder / "model.keras")
    recorded = folder / "task.json"
    preset = json.loads(recorded.read_text()).get("preset", "default")
    metrics_file = folder / "metrics.json"
    metrics = json.loads(metrics_file.read_text()) if metrics_file.is_file() else {}
    saved_model = export.saved_model_path(folder)
    export_path = saved_model if (saved_model / "saved_model.pb").is_file() else None
    pieces = task.from_saved(config, model)
    return Run(task.name, preset, config, pieces, metrics, folder, export_path)


def evaluate(task: str, model_dir: str | os.PathLike, **settings: Any) -> dict:
    """The metrics of a trained run, as `keras-seq evaluate` prints them."""
    import keras

    found = registry.get_task(task)
    folder = Path(model_dir)
    config = _run_folder(found, folder, settings)
    data = found.load_data(config)
    model = keras.saving.load_model(folder / "model.keras")
    pieces = found.from_saved(config, model)
    return found.evaluate(config, pieces, data)


def compare(
    task: str,
    cells: list[str],
    preset: str = "default",
    output: str | os.PathLike | None = None,
    **settings: Any,
) -> list[dict]:
    """Trains one variant per cell with the same settings and data, as
    `keras-seq compare` does; writes compare.csv and compare.png.

    Returns:
        One row per cell: the task's primary metric, parameters and seconds.
    """
    from keras_seq import plots

    found = registry.get_task(task)
    base = _configured(found, preset, settings)
    if not hasattr(base, "cell"):
        raise UserError(f"Task {task!r} has no `cell` setting to compare")
    folder = Path(output or Path("runs") / f"compare_{task}")
    data = registry.load_data(found, base)
    metric = found.PRIMARY_METRIC
    rows = []
    for cell in cells:
        config = config_lib.apply_overrides(base, {"cell": cell})
        cell_folder = folder / cell
        cell_folder.mkdir(parents=True, exist_ok=True)
        (cell_folder / "config.json").write_text(config_lib.to_json(config))
        (cell_folder / "task.json").write_text(json.dumps({"task": task}))
        print(f"--- {task} with cell={cell} ---")
        started = time.monotonic()
        pieces = registry.build_model(found, config, data)
        found.train(config, pieces, data, cell_folder)
        seconds = time.monotonic() - started
        save_keras_model(pieces.model, cell_folder / "model.keras")
        metrics = found.evaluate(config, pieces, data)
        rows.append(
            {
                "cell": cell,
                metric: metrics[metric],
                "parameters": pieces.model.count_params(),
                "seconds": round(seconds, 1),
            }
        )
    with open(folder / "compare.csv", "w", newline="") as file:
        writer = csv.DictWriter(file, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    plots.compare_curves(
        {row["cell"]: folder / row["cell"] / "history.csv" for row in rows},
        folder / "compare.png",
        title=f"{task}: validation loss by cell",
    )
    return rows
