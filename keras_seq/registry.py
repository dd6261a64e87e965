"""Finds tasks by name through the `keras_seq.tasks` entry points.

A task is a module (or an object) with the names of `CONTRACT`. The library
never imports a task by name: installed distributions declare theirs as
entry points (`name = module` or `name = module:object`), so a project of
its own can add tasks without touching keras-seq. `get_task` checks the
contract when it loads a task and returns a `Task`, which reads every name
of the contract, the optional ones with their defaults.
"""

from __future__ import annotations

import dataclasses
import importlib
from importlib import metadata
from typing import Any

from keras_seq.errors import UserError

GROUP = "keras_seq.tasks"
PRESET_NAMES = ("tiny", "default", "paper")
_REQUIRED = object()


@dataclasses.dataclass(frozen=True)
class Name:
    """One name of the task contract: what it is, and its default if optional."""

    name: str
    meaning: str
    default: Any = _REQUIRED

    @property
    def required(self) -> bool:
        return self.default is _REQUIRED


CONTRACT = (
    Name("DESCRIPTION", "one line for `keras-seq list`"),
    Name("DATA_SOURCES", "the names `--set data=` takes"),
    Name("PRIMARY_METRIC", "the metric `keras-seq compare` ranks by"),
    Name("Config", "the frozen settings dataclass, from config.TrainingConfig"),
    Name("PRESETS", "tiny, default and paper instances of Config"),
    Name("load_data", "load_data(config) -> data"),
    Name("build_model", "build_model(config, data) -> inference.Pieces, compiled"),
    Name("from_saved", "from_saved(config, model) -> the Pieces of a loaded model"),
    Name("train", "train(config, pieces, data, output_dir, callbacks=()) -> History"),
    Name("evaluate", "evaluate(config, pieces, data, output_dir=None) -> metrics"),
    Name("show", "show(config, pieces, data): samples printed after a run"),
    Name("endpoints", "endpoints(config, pieces, data) -> export.Endpoints"),
    Name("examples", "examples(config, data, count) -> {endpoint: {input: array}}"),
    Name("predict", "predict(saved_model, inputs, options): keras-seq predict"),
    Name("PREDICT_OPTIONS", "the options of keras-seq predict it takes", ()),
    Name("METRIC_LABELS", "axis labels of its learning curves", {}),
    Name(
        "probe", "probe(config, pieces, inputs, targets), for keras-seq gradients", None
    ),
)
_NAMES = {name.name: name for name in CONTRACT}


class Task:
    """A task found by name: its names, the optional ones defaulted.

    Attributes:
        name: the name it is registered under.
        source: the module (or object) that holds it.
    """

    def __init__(self, name: str, source: Any):
        self.name = name
        self.source = source

    def __getattr__(self, attribute: str) -> Any:
        if hasattr(self.source, attribute):
            return getattr(self.source, attribute)
        if attribute in _NAMES and not _NAMES[attribute].required:
            return _NAMES[attribute].default
        raise AttributeError(f"task {self.name!r} has no {attribute!r}")

    def __repr__(self) -> str:
        return f"Task({self.name!r})"


def check_contract(name: str, source: Any) -> None:
    """Raises a UserError naming what `source` lacks of the contract."""
    missing = [
        item.name
        for item in CONTRACT
        if item.required and not hasattr(source, item.name)
    ]
    if missing:
        raise UserError(
            f"Task {name!r} lacks {', '.join(missing)} of the task contract"
        )
    presets = [preset for preset in PRESET_NAMES if preset not in source.PRESETS]
    if presets:
        raise UserError(f"Task {name!r} lacks the presets {', '.join(presets)}")


def task_entry_points() -> dict[str, metadata.EntryPoint]:
    return {
        entry_point.name: entry_point
        for entry_point in metadata.entry_points(group=GROUP)
    }


def task_names() -> list[str]:
    return sorted(task_entry_points())


def get_task(name: str) -> Task:
    """The task called `name`, its contract checked.

    Raises:
        UserError: if no task has that name (the message lists the tasks), or
            the task lacks part of the contract.
    """
    entry_points = task_entry_points()
    if name not in entry_points:
        raise UserError(
            f"Unknown task {name!r}. Available: {', '.join(sorted(entry_points))}"
        )
    module_name, _, attribute = entry_points[name].value.partition(":")
    source = importlib.import_module(module_name.strip())
    if attribute:
        source = getattr(source, attribute.strip())
    check_contract(name, source)
    return Task(name, source)


def get_preset(task: Task, preset: str):
    if preset not in task.PRESETS:
        raise UserError(
            f"Unknown preset {preset!r}. Allowed: {', '.join(task.PRESETS)}"
        )
    return task.PRESETS[preset]


def load_data(task: Task, config):
    """The task's data, its random draws (tf.data shuffles among them)
    seeded from `config.seed` just before loading.

    A tf.data shuffle given a seed combines it with the global seed of the
    moment, so every entry point that trains loads through here: the same
    settings then see the same data in the same order.
    """
    import keras

    keras.utils.set_random_seed(config.seed)
    return task.load_data(config)


def build_model(task: Task, config, data):
    """The task's model, its random draws seeded from `config.seed` just
    before building.

    Every entry point that trains (`keras-seq run`, `compare`, the
    benchmarks) builds through here, after loading its data, so the same
    settings start from the same weights whichever way they are run.
    """
    import keras

    keras.utils.set_random_seed(config.seed)
    return task.build_model(config, data)
