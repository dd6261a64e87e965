"""convex_hull: convex hulls from a pointer network.

Points uniform in the unit square (Vinyals, Fortunato and Jaitly, 2015);
the targets are the hull's corners from scipy's Qhull, counter-clockwise
from the smallest index, then an end token. The decoder may only continue
with larger indices that turn left, and may end after three corners. See
`tasks/_pointer.py` for the model.

Reference:
- [Vinyals et al., 2015](https://arxiv.org/abs/1506.03134), Table 1
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import keras

from tasks import _pointer
from tasks._pointer import PointerConfig

PROBLEM = "convex_hull"
DESCRIPTION = "convex hulls of planar points with a pointer network"
DATA_SOURCES = ["generated"]
PREDICT_OPTIONS = ("plot",)
PRIMARY_METRIC = "accuracy"
METRIC_LABELS = {"loss": "cross-entropy (nats per step)", "accuracy": "step accuracy"}


@dataclasses.dataclass(frozen=True)
class Config(PointerConfig):
    """The shared pointer settings; `n` is the number of points."""


DEFAULT = Config(n="50", train_examples=100_000)
PRESETS = _pointer.presets(DEFAULT)

Data = _pointer.Data
Model = _pointer.Model


def load_data(config: Config) -> Data:
    return _pointer.load_data(PROBLEM, config)


def build_model(config: Config, data: Data | None = None) -> Model:
    return _pointer.build_model(PROBLEM, config, data)


def from_saved(config: Config, model: keras.Model) -> Model:
    return _pointer.pieces_of(config, model)


train = _pointer.fit


def evaluate(config: Config, pieces: Model, data: Data, output_dir=None) -> dict:
    return _pointer.evaluate(PROBLEM, config, pieces, data)


def show(config: Config, pieces: Model, data: Data) -> None:
    _pointer.show(PROBLEM, config, pieces, data)


def export(config: Config, pieces: Model, data: Data, path: Path) -> Path:
    return _pointer.export(PROBLEM, config, pieces, path, "hull")


def predict(saved_model: Path, inputs: list[str], options: dict) -> None:
    _pointer.predict(PROBLEM, saved_model, inputs, options)
