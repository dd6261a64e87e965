"""What the long-memory tasks (adding, copy) share: `LongMemoryTask`.

Both read generated sequences whose answer depends on steps far back, so
that the cells can be compared on how long they remember. A task module
subclasses `LongMemoryTask` with its generator (`generate`), its model head,
its metrics and its `serve` endpoint, and registers an instance.
"""

from __future__ import annotations

import dataclasses
import functools
import json
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf

from keras_seq import config as config_lib
from keras_seq import export as export_lib
from keras_seq import inference, training
from keras_seq.config import CELLS, RESIDUAL_KINDS, TrainingConfig, option
from keras_seq.data import pipelines
from keras_seq.errors import UserError
from keras_seq.layers import RNNStack


@dataclasses.dataclass(frozen=True)
class LongMemoryConfig(TrainingConfig):
    data: str = option("generated", choices=("generated",), help="generated data")
    length: int = option(100, minimum=2, help="sequence length T")
    cell: str = option("gru", choices=CELLS, help="recurrent cell")
    units: int = option(128, minimum=1, help="recurrent units")
    num_layers: int = option(1, minimum=1, help="stacked recurrent layers")
    residual: str = option("none", choices=RESIDUAL_KINDS, help="shortcuts")
    train_examples: int = option(40_000, minimum=1, help="training sequences")
    test_examples: int = option(4_000, minimum=1, help="validation and test size")
    epochs: int = config_lib.epochs(8)
    batch_size: int = config_lib.batch_size(64, "sequences")
    learning_rate: float = config_lib.learning_rate(1e-3)
    clipnorm: float = config_lib.clipnorm(1.0)


def presets(default: LongMemoryConfig, tiny_length: int, paper_length: int) -> dict:
    """The `tiny`, `default` and `paper` presets around a task's default."""
    return {
        "tiny": config_lib.tiny(
            default,
            length=tiny_length,
            units=4,
            train_examples=64,
            test_examples=16,
            epochs=1,
        ),
        "default": default,
        # Le et al. (2015) and Arjovsky et al. (2016) train on hundreds of
        # steps.
        "paper": dataclasses.replace(
            default, length=paper_length, train_examples=100_000, epochs=20
        ),
    }


@dataclasses.dataclass
class Data:
    train: tf.data.Dataset
    validation: tf.data.Dataset
    test: tf.data.Dataset
    test_inputs: np.ndarray
    test_targets: np.ndarray


def rnn_stack_layer(config: LongMemoryConfig, return_sequences: bool = True):
    return RNNStack(
        cell=config.cell,
        units=config.units,
        num_layers=config.num_layers,
        residual=config.residual,
        return_sequences=return_sequences,
        name="rnn_stack",
    )


def trained_length(saved_model: Path, default: int = 100) -> int:
    """The sequence length a run was trained on, from its config.json."""
    settings = Path(saved_model).parent / "config.json"
    if settings.is_file():
        return int(json.loads(settings.read_text())["length"])
    return default


class LongMemoryTask:
    """A long-memory task: the shared contract around a generator and a head.

    A subclass sets the class attributes and implements `generate`, `head`,
    `evaluate`, `show`, `serve` (the endpoint, whose input is named as
    `SERVE_INPUT`), `probe` and `predict`.
    """

    DESCRIPTION = ""
    DATA_SOURCES = ["generated"]
    PRIMARY_METRIC = ""
    METRIC_LABELS: dict = {}
    SERVE_INPUT: tf.TensorSpec
    Config = LongMemoryConfig
    PRESETS: dict = {}

    def generate(self, config, count: int, rng: np.random.Generator):
        """`count` sequences and their targets."""
        raise NotImplementedError

    def head(self, config):
        """The model, its loss and its metrics."""
        raise NotImplementedError

    def load_data(self, config) -> Data:
        """Fixed, seeded training, validation and test sets."""
        rng = np.random.default_rng(config.seed)
        train = self.generate(config, config.train_examples, rng)
        validation = self.generate(config, config.test_examples, rng)
        test = self.generate(config, config.test_examples, rng)
        return Data(
            train=pipelines.array_batches(train, config.batch_size, config.seed),
            validation=pipelines.array_batches(validation, config.batch_size),
            test=pipelines.array_batches(test, config.batch_size),
            test_inputs=test[0],
            test_targets=test[1],
        )

    def build_model(self, config, data: Data | None = None) -> inference.Pieces:
        model, loss, metrics = self.head(config)
        steps = training.steps_for(config.train_examples, config.batch_size)
        model.compile(
            optimizer=training.make_optimizer(config, steps),
            loss=loss,
            metrics=list(metrics),
        )
        return inference.Pieces(model=model)

    def from_saved(self, config, model: keras.Model) -> inference.Pieces:
        return inference.Pieces(model=model)

    def train(self, config, pieces, data, output_dir, callbacks=()):
        return training.fit_task(config, pieces, data, output_dir, callbacks)

    def endpoints(self, config, pieces, data) -> export_lib.Endpoints:
        serve = functools.partial(self.serve, pieces.model)
        return export_lib.Endpoints(
            functions={"serve": (serve, [self.SERVE_INPUT])}, track=[pieces.model]
        )

    def examples(self, config, data: Data, count: int) -> dict:
        name = self.SERVE_INPUT.name
        return {"serve": {name: data.test_inputs[:count]}}

    @staticmethod
    def first_cell(pieces: inference.Pieces):
        """The cell of a one-layer stack, for gradients through time."""
        stack = pieces.model.get_layer("rnn_stack")
        if stack.num_layers != 1:
            raise UserError(
                "Gradients through time are measured on one-layer models. "
                f"Received: num_layers={stack.num_layers}"
            )
        return stack.recurrent_layers[0].cell
