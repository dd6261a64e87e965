"""Finds tasks by name through the `keras_seq.tasks` entry points.

A task is a module with the contract of the `tasks` package (see its
docstring). The library never imports a task by name: installed
distributions declare theirs as entry points, so a project of its own can
add tasks without touching keras-seq.
"""

from __future__ import annotations

import importlib
from importlib import metadata
from types import ModuleType

from keras_seq.errors import UserError

GROUP = "keras_seq.tasks"
REQUIRED = (
    "DESCRIPTION",
    "Config",
    "PRESETS",
    "load_data",
    "build_model",
    "from_saved",
    "train",
    "evaluate",
    "show",
    "export",
    "predict",
)


def task_entry_points() -> dict[str, str]:
    """Task name to module path, for every installed task."""
    return {
        entry_point.name: entry_point.value
        for entry_point in metadata.entry_points(group=GROUP)
    }


def task_names() -> list[str]:
    return sorted(task_entry_points())


def get_task(name: str) -> ModuleType:
    """The task module called `name`.

    Raises:
        UserError: if no task has that name; the message lists the tasks.
    """
    entry_points = task_entry_points()
    if name not in entry_points:
        raise UserError(
            f"Unknown task {name!r}. Available: {', '.join(sorted(entry_points))}"
        )
    module = importlib.import_module(entry_points[name])
    missing = [attribute for attribute in REQUIRED if not hasattr(module, attribute)]
    if missing:
        raise UserError(
            f"Task {name!r} ({module.__name__}) lacks {', '.join(missing)} "
            "of the task contract"
        )
    return module


def get_preset(task: ModuleType, preset: str):
    if preset not in task.PRESETS:
        raise UserError(
            f"Unknown preset {preset!r}. Allowed: {', '.join(task.PRESETS)}"
        )
    return task.PRESETS[preset]


def load_data(task: ModuleType, config):
    """The task's data, its random draws (tf.data shuffles among them)
    seeded from `config.seed` just before loading.

    A tf.data shuffle given a seed combines it with the global seed of the
    moment, so every entry point that trains loads through here: the same
    settings then see the same data in the same order.
    """
    import keras

    keras.utils.set_random_seed(config.seed)
    return task.load_data(config)


def build_model(task: ModuleType, config, data):
    """The task's model, its random draws seeded from `config.seed` just
    before building.

    Every entry point that trains (`keras-seq run`, `compare`, the
    benchmarks) builds through here, after loading its data, so the same
    settings start from the same weights whichever way they are run.
    """
    import keras

    keras.utils.set_random_seed(config.seed)
    return task.build_model(config, data)
