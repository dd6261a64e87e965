"""adding: the adding problem, a test of long memory (Hochreiter and Schmidhuber 1997).

Sequences of `length` (value, marker) pairs; the target is the sum of the two
marked values. A model must keep two numbers across up to `length` steps:
GRU and LSTM learn it, a vanilla RNN at length 100 does not, and always
answering 1 scores a mean squared error of 2/12, about 0.167.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf

from keras_seq import export as export_lib
from keras_seq.data import synthetic
from keras_seq.errors import UserError
from tasks import _long_memory
from tasks._long_memory import LongMemoryConfig

DESCRIPTION = "adding problem: sum two marked numbers of a long sequence"
DATA_SOURCES = ["generated"]
PREDICT_OPTIONS = ()
PRIMARY_METRIC = "test_mse"
METRIC_LABELS = {"loss": "mean squared error"}


@dataclasses.dataclass(frozen=True)
class Config(LongMemoryConfig):
    """The shared long-memory settings; `length` is the sequence length T."""


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


Data = _long_memory.Data
Model = _long_memory.Model
from_saved = _long_memory.from_saved
train = _long_memory.train


def load_data(config: Config) -> Data:
    return _long_memory.load_data(
        config, lambda count, rng: synthetic.adding_problem(count, config.length, rng)
    )


def build_model(config: Config, data: Data | None = None) -> Model:
    inputs = keras.Input(shape=(None, 2), name="inputs")
    final = _long_memory.rnn_stack_layer(config, return_sequences=False)(inputs)
    output = keras.layers.Dense(1, name="sum")(final)
    model = keras.Model(inputs, output, name=f"adding_{config.cell}")
    _long_memory.compile_model(model, config, loss="mse")
    return Model(model=model)


def evaluate(config: Config, pieces: Model, data: Data, output_dir=None) -> dict:
    mse = float(pieces.model.evaluate(data.test, verbose=0))
    return {"test_mse": mse, "baseline_mse": synthetic.ADDING_BASELINE_MSE}


def probe(config: Config, pieces: Model, inputs, targets):
    """What `keras_seq.gradients` needs: the first layer's cell, its inputs per
    step, and the loss as a function of the first layer's hidden states."""
    cell = _long_memory.first_cell(pieces)
    head = pieces.model.get_layer("sum")

    def loss_fn(hidden_states):
        prediction = head(hidden_states[-1])
        return tf.reduce_mean(tf.square(prediction - targets))

    return cell, tf.convert_to_tensor(inputs), loss_fn


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
    length = _long_memory.trained_length(saved_model)
    sequences, targets = synthetic.adding_problem(5, length, np.random.default_rng())
    sums = loaded.serve(inputs=tf.constant(sequences))["sum"].numpy()
    for target, value in zip(targets[:, 0], sums):
        print(f"target {target:.3f}  predicted {value:.3f}")
