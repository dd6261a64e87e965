"""Encoded images to float tensors, and the files a user points at."""

import numpy as np
import pytest
import tensorflow as tf

from keras_seq.data import images
from keras_seq.errors import UserError


def test_decode_image_lays_transparency_on_white_and_reads_jpeg():
    rgba = np.zeros((4, 8, 4), np.uint8)  # fully transparent
    image = images.decode_image(tf.io.encode_png(rgba), 8).numpy()
    np.testing.assert_allclose(image, 1.0)  # white, padded to a square
    red = np.zeros((8, 8, 3), np.uint8)
    red[..., 0] = 255
    image = images.decode_image(tf.io.encode_jpeg(red, quality=100), 8).numpy()
    assert image[..., 0].mean() > 0.95 and image[..., 1].mean() < 0.05
    assert not images.is_image(tf.constant(b"GIF89a")).numpy()
    # Bytes that are no image decode to white, so a batch still decodes.
    png = tf.io.encode_png(rgba).numpy()
    batch = images.decode_images(tf.constant([b"GIF89a", png]), 4)
    np.testing.assert_allclose(batch.numpy(), 1.0)


def test_read_image_file_refuses_what_is_not_an_image(tmp_path):
    png = tmp_path / "red.png"
    png.write_bytes(tf.io.encode_png(np.zeros((2, 2, 3), np.uint8)).numpy())
    assert images.read_image_file(str(png)).startswith(images.PNG_MAGIC)
    with pytest.raises(UserError, match="no such file"):
        images.read_image_file(str(tmp_path / "missing.png"))
    corrupt = tmp_path / "corrupt.png"
    corrupt.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00" * 40)
    with pytest.raises(UserError, match="is not a readable PNG or JPEG image"):
        images.read_image_file(str(corrupt))
