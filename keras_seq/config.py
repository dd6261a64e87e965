"""Typed task configurations, presets and `--set KEY=VALUE` overrides.

Every task declares one flat, frozen dataclass derived from `TrainingConfig`
and a `PRESETS` dict of instances of it. Fields that take one of a few
strings, or a bounded number, say so with `option(...)`, so that a value
from the command line is coerced to the field's type and checked before any
work starts.
"""

from __future__ import annotations

import dataclasses
import json
import math
import typing
from collections.abc import Iterable, Mapping
from typing import Any

from keras_seq.errors import UserError

CELLS = ("rnn", "gru", "lstm")
RESIDUAL_KINDS = ("none", "add", "dense")
STRATEGIES = ("default", "mirrored", "multi_worker")


def option(
    default: Any,
    *,
    choices: Iterable[Any] | None = None,
    minimum: float | None = None,
    maximum: float | None = None,
    help: str = "",
) -> Any:
    """A dataclass field with the checks `--set` applies to it.

    Args:
        default: the field's default value.
        choices: the allowed values, if the field takes one of a few.
        minimum: the smallest allowed value of a number.
        maximum: the largest allowed value of a number.
        help: one line describing the field, shown by `keras-seq list -v`.
    """
    metadata = {
        "choices": tuple(choices) if choices is not None else None,
        "minimum": minimum,
        "maximum": maximum,
        "help": help,
    }
    return dataclasses.field(default=default, metadata=metadata)


def epochs(default: int) -> Any:
    """The `epochs` field, with a task's default."""
    return option(default, minimum=1, help="number of epochs")


def batch_size(default: int, of: str = "examples") -> Any:
    """The `batch_size` field, with a task's default; `of`: what a batch holds."""
    return option(default, minimum=1, help=f"{of} per batch")


def learning_rate(default: float) -> Any:
    """The `learning_rate` field, with a task's default."""
    return option(default, minimum=0.0, help="Adam's learning rate")


def lr_schedule(default: str) -> Any:
    """The `lr_schedule` field, with a task's default."""
    return option(
        default, choices=("constant", "cosine"), help="learning-rate schedule"
    )


def clipnorm(default: float) -> Any:
    """The `clipnorm` field, with a task's default."""
    return option(default, minimum=0.0, help="global gradient norm; 0: off")


def minutes(default: float = 0.0) -> Any:
    """The `minutes` field: a wall-clock budget that `training.fit_task`
    stops training at."""
    return option(
        default, minimum=0.0, help="stop training after this many minutes; 0: no limit"
    )


def dropout(default: float) -> Any:
    """A `dropout` field, with a task's default."""
    return option(default, minimum=0.0, maximum=0.95, help="dropout rate")


# What every `tiny` preset sets, for the fields a task has: a model and a
# budget small enough to train in seconds.
TINY = {"units": 8, "embedding_dim": 8, "epochs": 2, "batch_size": 8, "beam_width": 2}


def tiny(default: Any, **changes: Any) -> Any:
    """A task's `tiny` preset: `default` with `TINY` for the fields it has,
    then `changes`."""
    names = {field.name for field in dataclasses.fields(default)}
    small = {key: value for key, value in TINY.items() if key in names}
    return dataclasses.replace(default, **{**small, **changes})


@dataclasses.dataclass(frozen=True)
class TrainingConfig:
    """Fields every task shares: data source, seed and the fit budget.

    `steps_per_epoch=0` means one pass over the training set per epoch;
    `clipnorm` is the global gradient norm that updates are clipped to (the
    standard cure for exploding gradients), 0 to turn clipping off.
    """

    data: str = option("", help="data source: a name, file:PATH or tfds:NAME")
    seed: int = option(1337, help="seed for weights, data order and sampling")
    epochs: int = epochs(1)
    steps_per_epoch: int = option(0, minimum=0, help="batches per epoch, 0: all")
    batch_size: int = batch_size(32)
    learning_rate: float = learning_rate(1e-3)
    lr_schedule: str = lr_schedule("constant")
    clipnorm: float = clipnorm(1.0)

    def __post_init__(self) -> None:
        validate(self)


def _field_types(config_class: type) -> dict[str, Any]:
    return typing.get_type_hints(config_class)


def validate(config: Any) -> None:
    """Checks every field of `config` against its declared type and limits."""
    types = _field_types(type(config))
    for field in dataclasses.fields(config):
        value = getattr(config, field.name)
        expected = types[field.name]
        if expected is float and isinstance(value, int) and not isinstance(value, bool):
            object.__setattr__(config, field.name, float(value))
            value = float(value)
        if not isinstance(value, expected) or (
            expected is not bool and isinstance(value, bool)
        ):
            raise UserError(
                f"`{field.name}` must be of type {expected.__name__}. "
                f"Received: {field.name}={value!r}"
            )
        if expected is float and not math.isfinite(value):
            raise UserError(
                f"`{field.name}` must be a finite number. "
                f"Received: {field.name}={value!r}"
            )
        choices = field.metadata.get("choices")
        if choices is not None and value not in choices:
            raise UserError(
                f"`{field.name}` must be one of {list(choices)}. "
                f"Received: {field.name}={value!r}"
            )
        minimum = field.metadata.get("minimum")
        if minimum is not None and value < minimum:
            raise UserError(
                f"`{field.name}` must be at least {minimum}. "
                f"Received: {field.name}={value!r}"
            )
        maximum = field.metadata.get("maximum")
        if maximum is not None and value > maximum:
            raise UserError(
                f"`{field.name}` must be at most {maximum}. "
                f"Received: {field.name}={value!r}"
            )


_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


def _coerce(name: str, text: str, expected: type) -> Any:
    if expected is bool:
        lowered = text.strip().lower()
        if lowered in _TRUE:
            return True
        if lowered in _FALSE:
            return False
        raise UserError(
            f"`{name}` must be a boolean (true/false). Received: {name}={text!r}"
        )
    if expected in (int, float):
        try:
            return expected(text)
        except ValueError:
            raise UserError(
                f"`{name}` must be of type {expected.__name__}. "
                f"Received: {name}={text!r}"
            ) from None
    return text


def parse_overrides(pairs: Iterable[str]) -> dict[str, str]:
    """Splits `KEY=VALUE` strings into a dict, refusing malformed ones."""
    overrides = {}
    for pair in pairs:
        key, separator, value = pair.partition("=")
        if not separator or not key.strip():
            raise UserError(f"`--set` takes KEY=VALUE. Received: {pair!r}")
        overrides[key.strip()] = value
    return overrides


def apply_overrides(config: Any, overrides: Mapping[str, Any]) -> Any:
    """Returns `config` with `overrides` coerced and applied.

    Values are strings from the command line (`"0.5"`, `"true"`) or Python
    values from `keras_seq.run` (`0.5`, `True`; a number for a text setting
    such as `n=10` is taken as its text).

    Raises:
        UserError: for an unknown key, a value of the wrong type, or a value
            outside the field's choices or limits.
    """
    types = _field_types(type(config))
    changes = {}
    task = type(config).__module__.rpartition(".")[2]
    for key, text in overrides.items():
        if key not in types:
            raise UserError(
                f"Unknown setting {key!r} for task {task}. "
                f"Allowed: {', '.join(sorted(types))}"
            )
        if isinstance(text, str):
            changes[key] = _coerce(key, text, types[key])
        elif types[key] is str and isinstance(text, (int, float)):
            changes[key] = str(text)
        else:
            changes[key] = text
    return dataclasses.replace(config, **changes)


def to_json(config: Any) -> str:
    return json.dumps(dataclasses.asdict(config), indent=2, sort_keys=True)


def from_json(config_class: type, text: str) -> Any:
    values = json.loads(text)
    known = {field.name for field in dataclasses.fields(config_class)}
    return config_class(**{k: v for k, v in values.items() if k in known})


def describe_fields(config_class: type) -> list[tuple[str, str, str]]:
    """(name, type, help) for every field, for `keras-seq list -v`."""
    types = _field_types(config_class)
    rows = []
    for field in dataclasses.fields(config_class):
        kind = types[field.name].__name__
        choices = field.metadata.get("choices")
        if choices:
            kind = "|".join(str(choice) for choice in choices)
        rows.append((field.name, kind, field.metadata.get("help", "")))
    return rows
