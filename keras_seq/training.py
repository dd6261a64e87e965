"""The fit harness every task shares.

`fit` runs `model.fit` with the Keras progress bar and the callbacks a long
run needs: TensorBoard logs, a CSV history, TerminateOnNaN, and
BackupAndRestore, so that a run killed mid-training and started again with
the same command continues from its last completed epoch (weights,
optimizer state and epoch counter). Gradients are clipped by global norm in
the optimizer that `make_optimizer` builds. `get_strategy` maps
`--strategy` to a tf.distribute strategy.
"""

from __future__ import annotations

import math
import time
from pathlib import Path
from typing import Any

import keras
import tensorflow as tf

from keras_seq.config import STRATEGIES, TrainingConfig
from keras_seq.errors import UserError


class _MultiWorkerStrategy(tf.distribute.MultiWorkerMirroredStrategy):
    """MultiWorkerMirroredStrategy with the `reduce` that Keras 3's `fit` needs.

    With more than one worker, `fit` (Keras 3.15) calls `strategy.reduce` in
    two ways the collective strategy refuses (keras-team/keras issue 20585):
    on its first batch, a tuple of per-replica values, to build the metrics,
    and with `axis=0` on every step's scalar logs. Here each value of a
    structure is reduced on its own (a value that is not a float, such as
    token ids, is read from the first local replica: that build only needs
    its shape and dtype), and the mean of scalars over the replicas ignores
    the axis.
    """

    def reduce(self, reduce_op, value, axis):
        if tf.nest.is_nested(value) and not isinstance(
            value, tf.distribute.DistributedValues
        ):
            return tf.nest.map_structure(
                lambda item: self._reduce_one(reduce_op, item, axis), value
            )
        return self._reduce_one(reduce_op, value, axis)

    def _reduce_one(self, reduce_op, value, axis):
        local = self.experimental_local_results(value)[0]
        if not local.dtype.is_floating:
            return local
        if axis is not None and local.shape.rank == 0:
            axis = None
        return super().reduce(reduce_op, value, axis)


def get_strategy(name: str) -> tf.distribute.Strategy:
    """`default`, `mirrored` (all local devices) or `multi_worker` (TF_CONFIG)."""
    if name == "default":
        return tf.distribute.get_strategy()
    if name == "mirrored":
        devices = [device.name for device in tf.config.list_logical_devices("GPU")] or [
            device.name for device in tf.config.list_logical_devices("CPU")
        ]
        return tf.distribute.MirroredStrategy(devices)
    if name == "multi_worker":
        return _MultiWorkerStrategy()
    raise UserError(
        f"`--strategy` must be one of {list(STRATEGIES)}. Received: {name!r}"
    )


def total_steps(config: TrainingConfig, steps_per_epoch: int) -> int:
    return max(1, config.epochs * steps_per_epoch)


def make_optimizer(
    config: TrainingConfig, steps_per_epoch: int
) -> keras.optimizers.Optimizer:
    """Adam with the config's learning rate, schedule and global-norm clipping."""
    learning_rate: Any = config.learning_rate
    if config.lr_schedule == "cosine":
        learning_rate = keras.optimizers.schedules.CosineDecay(
            config.learning_rate,
            decay_steps=total_steps(config, steps_per_epoch),
            alpha=0.05,
        )
    return keras.optimizers.Adam(
        learning_rate=learning_rate,
        global_clipnorm=config.clipnorm if config.clipnorm > 0 else None,
    )


class TimeBudget(keras.callbacks.Callback):
    """Stops training after `seconds` of wall-clock time (checked every batch).

    `steps` counts the batches trained.
    """

    def __init__(self, seconds: float):
        super().__init__()
        self.seconds = seconds
        self.start = None
        self.steps = 0

    def on_train_begin(self, logs=None):
        self.start = time.monotonic()

    def on_train_batch_end(self, batch, logs=None):
        self.steps += 1
        if time.monotonic() - self.start >= self.seconds:
            self.model.stop_training = True


def fit(
    model: keras.Model,
    train: tf.data.Dataset,
    validation: tf.data.Dataset | None,
    config: TrainingConfig,
    output_dir: Path,
    *,
    steps_per_epoch: int | None = None,
    validation_steps: int | None = None,
    callbacks: list[keras.callbacks.Callback] = (),
    verbose: int | str = "auto",
) -> keras.callbacks.History:
    """Trains `model` with the shared callbacks; resumes an interrupted run.

    Args:
        model: a compiled model.
        train: the training dataset (finite, or endless with
            `steps_per_epoch`).
        validation: the validation dataset, or None.
        config: the task's config (epochs).
        output_dir: the run folder; `logs/` (TensorBoard), `history.csv` and
            `backup/` (the resume state, removed when training completes) go
            there.
        steps_per_epoch: batches per epoch; None for one pass over `train`.
        validation_steps: batches of validation; None for all.
        callbacks: further callbacks.
    """
    output_dir = Path(output_dir)
    output_dir.mkdir(parents=True, exist_ok=True)
    backup = output_dir / "backup"
    resuming = (backup / "training_metadata.json").is_file() or (
        backup / "training_metadata.json.bkp"
    ).is_file()
    if resuming:
        print(f"Resuming the interrupted run saved in {backup}")
    all_callbacks = [
        keras.callbacks.BackupAndRestore(str(backup), double_checkpoint=True),
        keras.callbacks.TerminateOnNaN(),
        keras.callbacks.CSVLogger(str(output_dir / "history.csv"), append=resuming),
        keras.callbacks.TensorBoard(log_dir=str(output_dir / "logs")),
        *callbacks,
    ]
    return model.fit(
        train,
        validation_data=validation,
        epochs=config.epochs,
        steps_per_epoch=steps_per_epoch,
        validation_steps=validation_steps,
        callbacks=all_callbacks,
        verbose=verbose,
        # The pipelines shuffle (or draw at random) themselves.
        shuffle=False,
    )


def keep_best_epoch(monitor: str, patience: int = 2) -> keras.callbacks.Callback:
    """Stops training once `monitor` (a validation metric) has not improved
    for `patience` epochs and puts back the best epoch's weights: small
    data sets overfit within a few epochs."""
    return keras.callbacks.EarlyStopping(
        monitor=monitor, patience=patience, restore_best_weights=True
    )


def steps_for(examples: int, batch_size: int) -> int:
    return max(1, math.ceil(examples / batch_size))


def fit_task(
    config: TrainingConfig,
    pieces: Any,
    data: Any,
    output_dir: Path,
    callbacks: list[keras.callbacks.Callback] = (),
    **fit_arguments: Any,
) -> keras.callbacks.History:
    """`fit` for a task's pieces and data: trains `pieces.model` on
    `data.train`, validating on `data.validation` (the task contract's
    `train`), and stops after `config.minutes` when the config has that
    field and it is not 0."""
    budget = getattr(config, "minutes", 0.0)
    if budget:
        callbacks = [TimeBudget(budget * 60), *callbacks]
    return fit(
        pieces.model,
        data.train,
        data.validation,
        config,
        output_dir,
        callbacks=list(callbacks),
        **fit_arguments,
    )
