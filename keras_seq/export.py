"""SavedModel export with named endpoints, written atomically.

An export is a `keras.export.ExportArchive` whose endpoints take raw inputs
(strings, image bytes, points): vocabularies are lookup tables inside the
graph, so a server needs only TensorFlow. `write_atomically` writes the
archive to a temporary folder beside the target and renames it into place,
so an interrupted export never leaves a half-written model where the old
one was.
"""

from __future__ import annotations

import contextlib
import io
import os
import shutil
import tempfile
from collections.abc import Sequence
from pathlib import Path

import keras
import tensorflow as tf

from keras_seq.data.vocabulary import FIRST_SYMBOL_ID, OOV_ID


def string_to_id_table(symbols: Sequence[str]) -> tf.lookup.StaticHashTable:
    """A table from symbol to id (`i + 2` for `symbols[i]`, OOV 1).

    The numbering of `keras_seq.data.vocabulary.Vocabulary`. Track the table
    in the archive with `archive.track(table)`.
    """
    return tf.lookup.StaticHashTable(
        tf.lookup.KeyValueTensorInitializer(
            tf.constant(list(symbols), dtype=tf.string),
            tf.range(FIRST_SYMBOL_ID, len(symbols) + FIRST_SYMBOL_ID, dtype=tf.int64),
        ),
        default_value=OOV_ID,
    )


def id_to_string(symbols: Sequence[str], ids: tf.Tensor) -> tf.Tensor:
    """The symbol of every id; padding, OOV and ids past the end give ''."""
    table = tf.constant([""] * FIRST_SYMBOL_ID + list(symbols), dtype=tf.string)
    ids = tf.where((ids < 0) | (ids >= len(symbols) + FIRST_SYMBOL_ID), 0, ids)
    return tf.gather(table, ids)


def new_archive() -> keras.export.ExportArchive:
    return keras.export.ExportArchive()


def _previous_path(path: Path) -> Path:
    return path.with_name(f".{path.name}.previous")


def recover(path: Path) -> None:
    """Puts back a model that an interrupted swap had moved aside."""
    previous = _previous_path(path)
    if previous.exists() and not path.exists():
        previous.rename(path)
    elif previous.exists():
        shutil.rmtree(previous, ignore_errors=True)


def write_atomically(archive: keras.export.ExportArchive, path: Path) -> Path:
    """Writes `archive` to `path`, replacing what was there only when complete.

    The archive is written to a temporary folder beside `path`; only when
    that succeeded is the old folder moved aside, the new one renamed into
    place and the old one deleted. A crash between the two renames leaves
    the old model beside the target, and the next export or load puts it
    back (`recover`).
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    recover(path)
    staging = Path(tempfile.mkdtemp(prefix=f".{path.name}.writing-", dir=path.parent))
    try:
        # ExportArchive prints every endpoint's signature; keep that quiet.
        with contextlib.redirect_stdout(io.StringIO()):
            archive.write_out(str(staging / "model"), verbose=False)
        previous = _previous_path(path)
        if path.exists():
            path.rename(previous)
        (staging / "model").rename(path)
        if previous.exists():
            shutil.rmtree(previous)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return path


def saved_model_path(model_dir: str | os.PathLike) -> Path:
    """The SavedModel inside a run folder, or `model_dir` itself."""
    model_dir = Path(model_dir)
    if (model_dir / "saved_model" / "saved_model.pb").is_file():
        return model_dir / "saved_model"
    recover(model_dir / "saved_model")
    if (model_dir / "saved_model" / "saved_model.pb").is_file():
        return model_dir / "saved_model"
    return model_dir
