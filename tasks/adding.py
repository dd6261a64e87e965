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

from keras_seq.data import synthetic
from keras_seq.errors import UserError
from tasks import _long_memory
from tasks._long_memory import LongMemoryConfig


@dataclasses.dataclass(frozen=True)
class Config(LongMemoryConfig):
    """The shared long-memory settings; `length` is the sequence length T."""


class Adding(_long_memory.LongMemoryTask):
    DESCRIPTION = "adding problem: sum two marked numbers of a long sequence"
    PRIMARY_METRIC = "test_mse"
    METRIC_LABELS = {"loss": "mean squared error"}
    SERVE_INPUT = tf.TensorSpec([None, None, 2], tf.float32, name="inputs")
    Config = Config
    PRESETS = _long_memory.presets(Config(), tiny_length=6, paper_length=400)

    def generate(self, config, count, rng):
        return synthetic.adding_problem(count, config.length, rng)

    def head(self, config):
        inputs = keras.Input(shape=(None, 2), name="inputs")
        final = _long_memory.rnn_stack_layer(config, return_sequences=False)(inputs)
        output = keras.layers.Dense(1, name="sum")(final)
        return keras.Model(inputs, output, name=f"adding_{config.cell}"), "mse", ()

    def evaluate(self, config, pieces, data, output_dir=None) -> dict:
        mse = float(pieces.model.evaluate(data.test, verbose=0))
        return {"test_mse": mse, "baseline_mse": synthetic.ADDING_BASELINE_MSE}

    def probe(self, config, pieces, inputs, targets):
        """What `keras_seq.gradients` needs: the first layer's cell, its inputs
        per step, and the loss as a function of its hidden states."""
        cell = self.first_cell(pieces)
        head = pieces.model.get_layer("sum")

        def loss_fn(hidden_states):
            prediction = head(hidden_states[-1])
            return tf.reduce_mean(tf.square(prediction - targets))

        return cell, tf.convert_to_tensor(inputs), loss_fn

    def show(self, config, pieces, data) -> None:
        predictions = pieces.model.predict(data.test_inputs[:5], verbose=0)[:, 0]
        for prediction, target in zip(predictions, data.test_targets[:5, 0]):
            print(f"target {target:.3f}  predicted {prediction:.3f}")

    def serve(self, model, inputs):
        return {"sum": model(inputs)[:, 0]}

    def predict(self, saved_model: Path, inputs: list[str], options: dict) -> None:
        """Answers five freshly generated sequences (inputs are generated)."""
        if inputs:
            raise UserError(
                f"adding predict makes its own sequences. Received: {len(inputs)} "
                "inputs"
            )
        loaded = tf.saved_model.load(str(saved_model))
        length = _long_memory.trained_length(saved_model)
        sequences, targets = synthetic.adding_problem(
            5, length, np.random.default_rng()
        )
        sums = loaded.serve(inputs=tf.constant(sequences))["sum"].numpy()
        for target, value in zip(targets[:, 0], sums):
            print(f"target {target:.3f}  predicted {value:.3f}")


TASK = Adding()
