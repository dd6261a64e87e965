"""SavedModel export with named endpoints, written atomically.

A task says what its SavedModel serves as `Endpoints`: functions with their
input signatures, and the models and resources they use. `write_endpoints`
turns them into a `keras.export.ExportArchive` whose endpoints take raw
inputs (strings, image bytes, points): vocabularies are lookup tables inside
the graph (`keras_seq.data.vocabulary.lookup_table`), so a server needs only
TensorFlow. The archive is written to a temporary folder beside the target
and renamed into place, so an interrupted export never leaves a
half-written model where the old one was.
"""

from __future__ import annotations

import contextlib
import dataclasses
import io
import os
import shutil
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import keras
import tensorflow as tf


@dataclasses.dataclass
class Endpoints:
    """What a SavedModel serves.

    Attributes:
        functions: endpoint name to `(function, input_signature)`; the
            function takes the inputs in the signature's order and returns a
            dict of named outputs.
        track: the models and resources (lookup tables, tokenizers) the
            functions use.
    """

    functions: dict[str, tuple[Callable, Sequence[Any]]]
    track: Sequence[Any]


def image_model_functions(model, image_spec: tf.TensorSpec) -> dict:
    """The `generate` and `log_likelihood` endpoints of an image model.

    `model` has `generate(count, temperature)`, uint8 images out, and
    `log_likelihood(images)`, nats per image out; `image_spec` is the uint8
    `images` input of the second.
    """
    return {
        "generate": (
            lambda count, temperature: {"images": model.generate(count, temperature)},
            [
                tf.TensorSpec([], tf.int32, name="count"),
                tf.TensorSpec([], tf.float32, name="temperature"),
            ],
        ),
        "log_likelihood": (
            lambda images: {"nats": model.log_likelihood(images)},
            [image_spec],
        ),
    }


def build_archive(
    endpoints: Endpoints,
) -> tuple[keras.export.ExportArchive, dict[str, Callable]]:
    """The archive of `endpoints`, and every endpoint as the traced function
    the archive saves (to call in this process)."""
    archive = keras.export.ExportArchive()
    for item in endpoints.track:
        archive.track(item)
    traced = {
        name: archive.add_endpoint(name, function, input_signature=list(signature))
        for name, (function, signature) in endpoints.functions.items()
    }
    return archive, traced


def write_endpoints(endpoints: Endpoints, path: Path) -> Path:
    """Writes `endpoints` as a SavedModel at `path`, atomically."""
    archive, _ = build_archive(endpoints)
    return write_atomically(archive, path)


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
