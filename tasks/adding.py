"""adding: the adding problem, a test of long memory (Hochreiter and Schmidhuber 1997).

Sequences of `length` (value, marker) pairs; the target is the sum of the two
marked values. A model must keep two numbers across up to `length` steps:
GRU and LSTM learn it, a vanilla RNN at length 100 does not, and always
answering 1 scores a mean squared error of 2/12, about 0.167.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf

from keras_seq import export as export_lib
from keras_seq import training
from keras_seq.config import CELLS, RESIDUAL_KINDS, TrainingConfig, option
from keras_seq.data import pipelines, synthetic
from keras_seq.errors import UserError
from keras_seq.layers import RNNStack

DESCRIPTION = "adding problem: sum two marked numbers of a long sequence"
DATA_SOURCES = ["generated"]
PREDICT_OPTIONS = ()
PRIMARY_METRIC = "test_mse"
METRIC_LABELS = {"loss": "mean squared error"}


@dataclasses.dataclass(frozen=True)
class Config(TrainingConfig):
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


DEFAULT = Config()
PRESETS = {
    "tiny": dataclasses.replace(
        DEFAULT,
        length=6,
        units=4,
        train_examples=64,
        test_examples=16,
        epochs=1,
        batch_size=8,
    ),
    "default": DEFAULT,
    # Le et al. (2015) and Arjovsky et al. (2016) train on T up to 750.
    "paper": dataclasses.replace(
        DEFAULT, length=400, train_examples=100_000, epochs=20
    ),
}


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


def load_data(config: Config) -> Data:
    rng = np.random.default_rng(config.seed)
    train = synthetic.adding_problem(config.train_examples, config.length, rng)
    validation = synthetic.adding_problem(config.test_examples, config.length, rng)
    test = synthetic.adding_problem(config.test_examples, config.length, rng)

    return Data(
        train=pipelines.array_batches(train, config.batch_size, config.seed),
        validation=pipelines.array_batches(validation, config.batch_size),
        test=pipelines.array_batches(test, config.batch_size),
        test_inputs=test[0],
        test_targets=test[1],
    )


def build_model(config: Config, data: Data | None = None) -> Model:
    inputs = keras.Input(shape=(None, 2), name="inputs")
    final = RNNStack(
        cell=config.cell,
        units=config.units,
        num_layers=config.num_layers,
        residual=config.residual,
        return_sequences=False,
        name="rnn_stack",
    )(inputs)
    output = keras.layers.Dense(1, name="sum")(final)
    model = keras.Model(inputs, output, name=f"adding_{config.cell}")
    steps = training.steps_for(config.train_examples, config.batch_size)
    model.compile(
        optimizer=training.make_optimizer(config, steps),
        loss="mse",
    )
    return Model(model=model)


def from_saved(config: Config, model: keras.Model) -> Model:
    return Model(model=model)


def train(config, pieces: Model, data: Data, output_dir: Path, callbacks=()):
    return training.fit(
        pieces.model,
        data.train,
        data.validation,
        config,
        output_dir,
        callbacks=list(callbacks),
    )


def evaluate(config: Config, pieces: Model, data: Data, output_dir=None) -> dict:
    mse = float(pieces.model.evaluate(data.test, verbose=0))
    return {"test_mse": mse, "baseline_mse": synthetic.ADDING_BASELINE_MSE}


def probe(config: Config, pieces: Model, inputs, targets):
    """What `keras_seq.gradients` needs: the first layer's cell, its inputs per
    step, and the loss as a function of the first layer's hidden states."""
    stack = pieces.model.get_layer("rnn_stack")
    if stack.num_layers != 1:
        raise UserError(
            "Gradients through time are measured on one-layer models. "
            f"Received: num_layers={stack.num_layers}"
        )
    head = pieces.model.get_layer("sum")

    def loss_fn(hidden_states):
        prediction = head(hidden_states[-1])
        return tf.reduce_mean(tf.square(prediction - targets))

    return stack.recurrent_layers[0].cell, tf.convert_to_tensor(inputs), loss_fn


def show(config: Config, pieces: Model, data: Data) -> None:
    predictions = pieces.model.predict(data.test_inputs[:5], verbose=0)[:, 0]
    for prediction, target in zip(predictions, data.test_targets[:5, 0]):
        print(f"target {target:.3f}  predicted {prediction:.3f}")


def export(config: Config, pieces: Model, data: Data, path: Path) -> Path:
    archive = export_lib.new_archive()
    archive.track(pieces.model)

    def serve(inputs):
        return {"sum": pieces.model(inputs)[:, 0]}

    archive.add_endpoint(
        "serve",
        serve,
        input_signature=[tf.TensorSpec([None, None, 2], tf.float32, name="inputs")],
    )
    return export_lib.write_atomically(archive, path)


def predict(saved_model: Path, inputs: list[str], options: dict) -> None:
    """Answers five freshly generated sequences (inputs are generated)."""
    if inputs:
        raise UserError(
            f"adding predict makes its own sequences. Received: {len(inputs)} inputs"
        )
    loaded = tf.saved_model.load(str(saved_model))
    settings = Path(saved_model).parent / "config.json"
    length = json.loads(settings.read_text())["length"] if settings.is_file() else 100
    sequences, targets = synthetic.adding_problem(5, length, np.random.default_rng())
    sums = loaded.serve(inputs=tf.constant(sequences))["sum"].numpy()
    for target, value in zip(targets[:, 0], sums):
        print(f"target {target:.3f}  predicted {value:.3f}")
