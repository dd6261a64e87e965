"""How good is the char_generation model after S seconds of training?

Trains the default preset of char_generation (settings overridable with
--set) for a wall-clock budget on a text file split as nanoGPT splits it
(first 90% train, last 10% validation), then measures the validation loss
in nats per character over every validation character. The learning rate
follows a cosine decay over the time budget, since the number of steps that
fit in it is not known in advance.

    python benchmarks/char_generation.py \
        --data ../shared/data/tinyshakespeare.txt --seconds 141

The last line printed is one JSON object with the figures.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import math
import os
import platform
import sys
import tempfile
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras  # noqa: E402

from keras_seq import config as config_lib  # noqa: E402
from keras_seq import registry, training  # noqa: E402
from keras_seq.data import pipelines  # noqa: E402
from tasks import char_generation  # noqa: E402


class CosineOverTime(training.TimeBudget):
    """Stops after `seconds`, decaying the learning rate on a cosine of time."""

    def __init__(self, seconds: float, base_learning_rate: float, floor: float = 0.05):
        super().__init__(seconds)
        self.base_learning_rate = base_learning_rate
        self.floor = floor

    def on_train_batch_begin(self, batch, logs=None):
        if self.start is None:
            return
        fraction = min(1.0, (time.monotonic() - self.start) / self.seconds)
        scale = self.floor + (1 - self.floor) * 0.5 * (1 + math.cos(math.pi * fraction))
        self.model.optimizer.learning_rate.assign(self.base_learning_rate * scale)


def plain_keras_baseline(data, seconds: float) -> dict:
    """The reference system, in the same run: a plain Keras GRU(256).

    Embedding 64, GRU(256), Dense; windows of 100, batches of 64, Adam at a
    constant 2e-3; no clipping and no schedule. The same data pipeline and
    the same time budget as the model above.
    """
    vocabulary_size = data.vocabulary.size
    model = keras.Sequential(
        [
            keras.Input((None,), dtype="int32"),
            keras.layers.Embedding(vocabulary_size, 64),
            keras.layers.GRU(256, return_sequences=True),
            keras.layers.Dense(vocabulary_size),
        ]
    )
    model.compile(
        keras.optimizers.Adam(2e-3),
        keras.losses.SparseCategoricalCrossentropy(from_logits=True),
    )
    windows = pipelines.random_windows(data.train_ids, 100, 64, seed=1)
    budget = training.TimeBudget(seconds)
    started = time.monotonic()
    model.fit(
        windows, epochs=1_000_000, steps_per_epoch=50, callbacks=[budget], verbose=0
    )
    train_seconds = time.monotonic() - started
    steps = budget.steps
    validation = pipelines.consecutive_windows(data.validation_ids, 100, 64)
    return {
        "baseline_val_nats_per_char": round(
            float(model.evaluate(validation, verbose=0)), 4
        ),
        "baseline_chars_per_second": round(steps * 64 * 100 / train_seconds),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", required=True, help="a UTF-8 text file")
    parser.add_argument("--seconds", type=float, default=141.0)
    parser.add_argument("--set", dest="overrides", action="append", default=[])
    parser.add_argument(
        "--baseline",
        action="store_true",
        help="also train the plain Keras GRU(256) reference for the same time",
    )
    args = parser.parse_args()

    config = config_lib.apply_overrides(
        char_generation.PRESETS["default"],
        config_lib.parse_overrides(args.overrides),
    )
    config = dataclasses.replace(
        config,
        data=f"file:{args.data}",
        lr_schedule="constant",
        epochs=1_000_000,
        steps_per_epoch=50,
    )
    print(f"Settings: {config_lib.to_json(config)}", flush=True)
    data = registry.load_data(char_generation, config)
    print(
        f"train {len(data.train_ids):,} chars, validation "
        f"{len(data.validation_ids):,} chars, vocabulary {data.vocabulary.size}",
        flush=True,
    )
    pieces = registry.build_model(char_generation, config, data)
    budget = CosineOverTime(args.seconds, config.learning_rate)
    started = time.monotonic()
    with tempfile.TemporaryDirectory() as output_dir:
        training.fit(
            pieces.model,
            data.train,
            None,
            config,
            output_dir,
            steps_per_epoch=config.steps_per_epoch,
            callbacks=[budget],
            verbose=2,
        )
    train_seconds = time.monotonic() - started
    characters = budget.steps * config.batch_size * config.sequence_length
    metrics = char_generation.evaluate(config, pieces, data)
    result = {
        "val_nats_per_char": round(metrics["val_nats_per_char"], 4),
        "val_bits_per_char": round(metrics["val_bits_per_char"], 4),
        "chars_per_second": round(characters / train_seconds),
        "train_seconds": round(train_seconds, 1),
        "steps": budget.steps,
        "parameters": pieces.model.count_params(),
        "cell": config.cell,
        "units": config.units,
        "num_layers": config.num_layers,
        "batch_size": config.batch_size,
        "sequence_length": config.sequence_length,
        "learning_rate": config.learning_rate,
        **(plain_keras_baseline(data, args.seconds) if args.baseline else {}),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, "
        f"Python {sys.version.split()[0]}, Keras {keras.__version__}",
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
