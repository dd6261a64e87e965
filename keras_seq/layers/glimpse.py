"""Differentiable attention over images: DRAW's grids of Gaussian filters.

Gregor et al. (2015), section 3.2: an `N x N` grid of isotropic Gaussian
filters, placed by five numbers a network emits (the grid's centre, the
log variance of the filters, the log of the stride between them and the
log of an intensity), reads a patch out of an image (`GaussianGlimpse`)
or writes one into a canvas (`GaussianWrite`), with gradients to the five
numbers. Both take those numbers raw, as a `Dense(5)` gives them.
"""

from __future__ import annotations

import math

import keras
from keras import ops


def gaussian_filters(parameters, height: int, width: int, size: int):
    """The filter banks of `parameters` `[B, 5]`: `(F_y [B, size, height],
    F_x [B, size, width], gamma [B])`, each filter summing to one.

    The raw numbers are `(g~x, g~y, log sigma^2, log delta~, log gamma)`:
    the centre is `((W + 1) / 2 (g~x + 1), (H + 1) / 2 (g~y + 1))` in pixel
    coordinates counted from 1, so 0 is the image's middle, and the stride
    `(max(H, W) - 1) / (size - 1) delta~`, so a stride of 1 spans the image.
    """
    center_x, center_y, log_variance, log_stride, log_gamma = ops.split(
        parameters, 5, axis=-1
    )
    center_x = (width + 1) / 2 * (center_x + 1)
    center_y = (height + 1) / 2 * (center_y + 1)
    stride = (max(height, width) - 1) / max(size - 1, 1) * ops.exp(log_stride)
    variance = ops.exp(log_variance)
    # Filter i of N is centred at g + (i - N / 2 - 0.5) delta, i from 1.
    offsets = ops.arange(1, size + 1, dtype="float32") - size / 2 - 0.5

    def bank(center, length):
        means = center + offsets[None, :] * stride  # [B, N]
        pixels = ops.arange(1, length + 1, dtype="float32")
        distances = pixels[None, None, :] - means[:, :, None]
        filters = ops.exp(-ops.square(distances) / (2 * variance[:, :, None]))
        return filters / ops.maximum(ops.sum(filters, axis=-1, keepdims=True), 1e-8)

    return bank(center_y, height), bank(center_x, width), ops.exp(log_gamma[:, 0])


def covering_placement(size: int, height: int, width: int) -> list[float]:
    """The five raw numbers of a grid that covers the whole image: centred,
    one filter at the middle of each of `size` equal cells a side, each
    filter half a cell wide (its standard deviation), intensity 1.

    A `Dense(5)` whose bias starts here reads (or writes) every part of the
    image from the first step; a bias of zeros puts a 2x2 grid's filters,
    a pixel wide, on the image's corners, where digits have nothing to see.
    """
    longest = max(height, width)
    cell = longest / size
    unit_stride = (longest - 1) / max(size - 1, 1)
    return [0.0, 0.0, 2 * math.log(cell / 2), math.log(cell / unit_stride), 0.0]


@keras.saving.register_keras_serializable(package="keras_seq")
class GaussianGlimpse(keras.layers.Layer):
    """Reads an `N x N` patch out of images through a grid of Gaussian filters.

    `patch = gamma F_y x F_x^T` for every channel (Gregor et al. 2015, eq.
    27), the grid placed by five raw numbers per image (see
    `gaussian_filters`).

    Reference:
    - [Gregor et al., 2015](https://arxiv.org/abs/1502.04623)

    Args:
        size: int. the grid's side `N`.

    Call arguments:
        inputs: `[images, parameters]`: float `[B, H, W, C]` and `[B, 5]`.

    Returns:
        The patches, `[B, N, N, C]`.

    Example:

    >>> images = keras.random.uniform((2, 28, 28, 1))
    >>> GaussianGlimpse(size=5)([images, keras.ops.zeros((2, 5))]).shape
    (2, 5, 5, 1)
    """

    def __init__(self, size, **kwargs):
        super().__init__(**kwargs)
        if size < 1:
            raise ValueError(f"`size` must be at least 1. Received: size={size}")
        self.size = size

    def call(self, inputs):
        images, parameters = inputs
        height, width = images.shape[1], images.shape[2]
        filters_y, filters_x, gamma = gaussian_filters(
            parameters, height, width, self.size
        )
        patches = ops.einsum("bih,bhwc,bjw->bijc", filters_y, images, filters_x)
        return patches * gamma[:, None, None, None]

    def compute_output_shape(self, input_shape):
        images_shape = input_shape[0]
        return (images_shape[0], self.size, self.size, images_shape[3])

    def get_config(self):
        return {**super().get_config(), "size": self.size}


@keras.saving.register_keras_serializable(package="keras_seq")
class GaussianWrite(keras.layers.Layer):
    """Writes `N x N` patches into an image through a grid of Gaussian filters.

    `canvas update = 1 / gamma F_y^T w F_x` for every channel (Gregor et al.
    2015, eq. 29): the transpose of `GaussianGlimpse`'s read.

    Reference:
    - [Gregor et al., 2015](https://arxiv.org/abs/1502.04623)

    Args:
        height: int. the canvas's height.
        width: int. the canvas's width.

    Call arguments:
        inputs: `[patches, parameters]`: float `[B, N, N, C]` and `[B, 5]`.

    Returns:
        The canvas updates, `[B, height, width, C]`.
    """

    def __init__(self, height, width, **kwargs):
        super().__init__(**kwargs)
        self.height = height
        self.width = width

    def call(self, inputs):
        patches, parameters = inputs
        filters_y, filters_x, gamma = gaussian_filters(
            parameters, self.height, self.width, patches.shape[1]
        )
        canvas = ops.einsum("bih,bijc,bjw->bhwc", filters_y, patches, filters_x)
        return canvas / gamma[:, None, None, None]

    def compute_output_shape(self, input_shape):
        patches_shape = input_shape[0]
        return (patches_shape[0], self.height, self.width, patches_shape[3])

    def get_config(self):
        return {**super().get_config(), "height": self.height, "width": self.width}
