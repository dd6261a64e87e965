"""Encoded images (PNG, JPEG) to float tensors, in TensorFlow ops.

The same ops decode images in the tf.data pipeline and inside an exported
SavedModel, which takes the bytes of a file.
"""

from __future__ import annotations

from pathlib import Path

import tensorflow as tf

from keras_seq.errors import UserError

PNG_MAGIC = b"\x89PNG"
JPEG_MAGIC = b"\xff\xd8\xff"


def is_image(encoded: tf.Tensor) -> tf.Tensor:
    """Whether bytes start like a PNG or a JPEG file."""
    head = tf.strings.substr(encoded, 0, 4)
    return tf.equal(head, PNG_MAGIC) | tf.equal(
        tf.strings.substr(head, 0, 3), JPEG_MAGIC
    )


def decode_image(encoded: tf.Tensor, size: int) -> tf.Tensor:
    """PNG or JPEG bytes to a float32 `[size, size, 3]` image in [0, 1].

    Transparent parts are laid on white; the image keeps its aspect ratio
    and is padded with white. Bytes that are neither PNG nor JPEG give a
    white image (see `is_image`).
    """
    head = tf.strings.substr(encoded, 0, 4)

    def png():
        pixels = tf.cast(tf.io.decode_png(encoded, channels=4), tf.float32) / 255.0
        alpha = pixels[..., 3:]
        return pixels[..., :3] * alpha + (1.0 - alpha)

    def jpeg():
        return tf.cast(tf.io.decode_jpeg(encoded, channels=3), tf.float32) / 255.0

    def blank():
        return tf.ones([size, size, 3], tf.float32)

    pixels = tf.case(
        [
            (tf.equal(head, PNG_MAGIC), png),
            (tf.equal(tf.strings.substr(head, 0, 3), JPEG_MAGIC), jpeg),
        ],
        default=blank,
    )
    return 1.0 - tf.image.resize_with_pad(1.0 - pixels, size, size, antialias=True)


def decode_images(encoded: tf.Tensor, size: int) -> tf.Tensor:
    """`decode_image` of every element of a string tensor `[B]`."""
    return tf.map_fn(
        lambda item: decode_image(item, size),
        encoded,
        fn_output_signature=tf.TensorSpec([size, size, 3], tf.float32),
    )


def image_dataset(encoded: list[bytes], size: int) -> tf.data.Dataset:
    """Decoded images, in order, cached after the first pass."""
    return (
        tf.data.Dataset.from_tensor_slices(encoded)
        .map(lambda data: decode_image(data, size), num_parallel_calls=tf.data.AUTOTUNE)
        .cache()
    )


def read_image_file(path_text: str) -> bytes:
    """The bytes of a PNG or JPEG file.

    Raises:
        UserError: if there is no such file or it is not a readable image.
    """
    path = Path(path_text).expanduser()
    if not path.is_file():
        raise UserError(f"{path_text}: no such file")
    encoded = path.read_bytes()
    try:
        if not bool(is_image(tf.constant(encoded)).numpy()):
            raise ValueError("not a PNG or JPEG file")
        tf.io.decode_image(encoded, expand_animations=False)
    except (ValueError, tf.errors.InvalidArgumentError):
        raise UserError(
            f"{path_text} is not a readable PNG or JPEG image "
            f"({len(encoded):,} bytes starting {encoded[:8]!r})"
        ) from None
    return encoded
