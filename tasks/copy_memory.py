"""copy: the copy-memory task, a test of long memory.

Ten symbols, then `length` steps of waiting, then a delimiter: the model must
write the ten symbols back. The best answer without memory (blanks, then a
uniform guess) has a cross-entropy of 10 ln 8 / (length + 20) nats per step;
a model that remembers goes to zero.

Reference:
- [Arjovsky et al., 2016](https://arxiv.org/abs/1511.06464)
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf

from keras_seq.config import option
from keras_seq.data import synthetic
from keras_seq.errors import UserError
from tasks import _long_memory
from tasks._long_memory import LongMemoryConfig

NUM_SYMBOLS = 8
COPY_LENGTH = 10


@dataclasses.dataclass(frozen=True)
class Config(LongMemoryConfig):
    """The shared long-memory settings; `length` is the waiting time T."""

    length: int = option(100, minimum=1, help="waiting steps T (the delay)")
    test_examples: int = option(2_000, minimum=1, help="validation and test size")


class Copy(_long_memory.LongMemoryTask):
    DESCRIPTION = "copy memory: write back ten symbols after a long wait"
    PRIMARY_METRIC = "test_cross_entropy"
    METRIC_LABELS = {"loss": "cross-entropy (nats per step)"}
    SERVE_INPUT = tf.TensorSpec([None, None], tf.int32, name="tokens")
    Config = Config
    PRESETS = _long_memory.presets(Config(), tiny_length=4, paper_length=500)

    def generate(self, config, count, rng):
        return synthetic.copy_memory(
            count, config.length, rng, NUM_SYMBOLS, COPY_LENGTH
        )

    def head(self, config):
        tokens = keras.Input(shape=(None,), dtype="int32", name="tokens")
        embedded = keras.layers.Embedding(NUM_SYMBOLS + 2, 16, name="embedding")(tokens)
        sequence = _long_memory.rnn_stack_layer(config)(embedded)
        logits = keras.layers.Dense(NUM_SYMBOLS + 1, name="logits")(sequence)
        model = keras.Model(tokens, logits, name=f"copy_{config.cell}")
        loss = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
        return model, loss, ["accuracy"]

    def evaluate(self, config, pieces, data, output_dir=None) -> dict:
        logits = pieces.model.predict(data.test_inputs, verbose=0)
        log_probabilities = logits - np.log(np.exp(logits).sum(-1, keepdims=True))
        targets = data.test_targets
        nats = -np.take_along_axis(log_probabilities, targets[..., None], -1)[..., 0]
        answers = logits[:, -COPY_LENGTH:].argmax(-1)
        return {
            "test_cross_entropy": float(nats.mean()),
            "baseline_cross_entropy": synthetic.copy_memory_baseline(
                config.length, NUM_SYMBOLS, COPY_LENGTH
            ),
            "copied_symbols_accuracy": float(
                np.mean(answers == targets[:, -COPY_LENGTH:])
            ),
        }

    def probe(self, config, pieces, inputs, targets):
        """The first layer's cell, its inputs per step and the loss of its
        states."""
        cell = self.first_cell(pieces)
        head = pieces.model.get_layer("logits")
        embedded = pieces.model.get_layer("embedding")(tf.convert_to_tensor(inputs))
        targets = tf.convert_to_tensor(targets)

        def loss_fn(hidden_states):
            logits = head(tf.stack(hidden_states, axis=1))
            return tf.reduce_mean(
                tf.nn.sparse_softmax_cross_entropy_with_logits(targets, logits)
            )

        return cell, embedded, loss_fn

    def show(self, config, pieces, data) -> None:
        logits = pieces.model.predict(data.test_inputs[:3], verbose=0)
        for inputs, row in zip(data.test_inputs[:3], logits):
            print(
                f"symbols {inputs[:COPY_LENGTH].tolist()}  "
                f"written back {row[-COPY_LENGTH:].argmax(-1).tolist()}"
            )

    def serve(self, model, tokens):
        return {"symbols": tf.argmax(model(tokens), axis=-1, output_type=tf.int32)}

    def predict(self, saved_model: Path, inputs: list[str], options: dict) -> None:
        """Copies the given symbols (digits 1-8), or three random sequences."""
        length = _long_memory.trained_length(saved_model)
        if inputs:
            sequences = np.stack([self._sequence(text, length) for text in inputs])
        else:
            sequences, _ = synthetic.copy_memory(3, length, np.random.default_rng())
        loaded = tf.saved_model.load(str(saved_model))
        answers = loaded.serve(tokens=tf.constant(sequences))["symbols"].numpy()
        for sequence, answer in zip(sequences, answers):
            given = "".join(str(s) for s in sequence[:COPY_LENGTH])
            written = "".join(str(s) for s in answer[-COPY_LENGTH:])
            print(f"given {given}  written back {written}")

    @staticmethod
    def _sequence(text: str, length: int) -> np.ndarray:
        if len(text) != COPY_LENGTH or not set(text) <= set("12345678"):
            raise UserError(
                f"copy predict takes {COPY_LENGTH} digits from 1 to 8. "
                f"Received: {text!r}"
            )
        sequence = np.zeros(length + 2 * COPY_LENGTH, np.int32)
        sequence[:COPY_LENGTH] = [int(digit) for digit in text]
        sequence[length + COPY_LENGTH - 1] = NUM_SYMBOLS + 1
        return sequence


TASK = Copy()
