"""What the long-memory tasks (adding, copy) share: settings, data, harness."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf

from keras_seq import training
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
    epochs: int = option(8, minimum=1, help="number of epochs")
    batch_size: int = option(64, minimum=1, help="sequences per batch")
    learning_rate: float = option(1e-3, minimum=0.0, help="Adam's learning rate")
    clipnorm: float = option(1.0, minimum=0.0, help="global gradient norm; 0: off")


@dataclasses.dataclass
class Data:
    train: tf.data.Dataset
    validation: tf.data.Dataset
    test: tf.data.Dataset
    test_inputs: np.ndarray
    test_targets: np.ndarray


@dataclasses.dataclass
class Model:
    model: keras.Model


def load_data(
    config: LongMemoryConfig,
    generate: Callable[[int, np.random.Generator], tuple[np.ndarray, np.ndarray]],
) -> Data:
    """Fixed, seeded training, validation and test sets from `generate`."""
    rng = np.random.default_rng(config.seed)
    train = generate(config.train_examples, rng)
    validation = generate(config.test_examples, rng)
    test = generate(config.test_examples, rng)
    return Data(
        train=pipelines.array_batches(train, config.batch_size, config.seed),
        validation=pipelines.array_batches(validation, config.batch_size),
        test=pipelines.array_batches(test, config.batch_size),
        test_inputs=test[0],
        test_targets=test[1],
    )


def rnn_stack_layer(config: LongMemoryConfig, return_sequences: bool = True):
    return RNNStack(
        cell=config.cell,
        units=config.units,
        num_layers=config.num_layers,
        residual=config.residual,
        return_sequences=return_sequences,
        name="rnn_stack",
    )


def compile_model(model: keras.Model, config: LongMemoryConfig, loss, metrics=()):
    steps = training.steps_for(config.train_examples, config.batch_size)
    model.compile(
        optimizer=training.make_optimizer(config, steps),
        loss=loss,
        metrics=list(metrics),
    )


def from_saved(config: LongMemoryConfig, model: keras.Model) -> Model:
    return Model(model=model)


train = training.fit_task


def first_cell(pieces: Model):
    """The cell of a one-layer stack, for gradients through time."""
    stack = pieces.model.get_layer("rnn_stack")
    if stack.num_layers != 1:
        raise UserError(
            "Gradients through time are measured on one-layer models. "
            f"Received: num_layers={stack.num_layers}"
        )
    return stack.recurrent_layers[0].cell


def trained_length(saved_model: Path, default: int = 100) -> int:
    """The sequence length a run was trained on, from its config.json."""
    settings = Path(saved_model).parent / "config.json"
    if settings.is_file():
        return int(json.loads(settings.read_text())["length"])
    return default
