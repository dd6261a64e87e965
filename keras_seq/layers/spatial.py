"""Layers for autoregressive image models: each pixel given the ones before.

Pixels are ordered as text is read, row by row and left to right. A model
of `p(x) = prod p(x_ij | the pixels before ij)` needs every pixel's
features to come only from earlier pixels:

- `CausalNeighbourhood`: the grey levels of the pixels in a window above
  and to the left of each pixel (Theis and Bethge 2015's causal
  neighbourhood), never the pixel itself;
- `SpatialLSTM`: a two-dimensional LSTM whose state at a pixel reads the
  states to its left and above, so that it summarises the whole quadrant
  above and to the left; computed along anti-diagonals, one batched matmul
  a diagonal;
- `MaskedConv2D`: a convolution whose kernel sees only earlier pixels
  (PixelCNN, van den Oord et al. 2016), the non-recurrent alternative;
- `IndependentPixels`: a distribution for each pixel of its own, the
  baseline that ignores every other pixel.

References:
- [Theis and Bethge, 2015](https://arxiv.org/abs/1506.03478)
- [van den Oord et al., 2016](https://arxiv.org/abs/1601.06759)
- [Graves et al., 2007](https://arxiv.org/abs/0705.2011) (multi-dimensional RNNs)
"""

from __future__ import annotations

import keras
import numpy as np
from keras import ops


def causal_offsets(radius: int) -> list[tuple[int, int]]:
    """The `(row, column)` offsets of the pixels before a pixel within
    `radius`: the `radius` rows above, `2 * radius + 1` wide, and the
    `radius` pixels to its left; `radius * (2 * radius + 2)` in all."""
    above = [(r, c) for r in range(-radius, 0) for c in range(-radius, radius + 1)]
    return above + [(0, c) for c in range(-radius, 0)]


@keras.saving.register_keras_serializable(package="keras_seq")
class CausalNeighbourhood(keras.layers.Layer):
    """Each pixel's causal neighbourhood as its features.

    Args:
        radius: int. the window reaches `radius` rows up and `radius`
            columns to each side (pixels outside the image read as 0).

    Call arguments:
        images: float `[B, H, W, C]`.

    Returns:
        `[B, H, W, C * radius * (2 * radius + 2)]`: at `(i, j)`, the values
        at `(i + di, j + dj)` for every offset of `causal_offsets(radius)`.

    Example:

    >>> features = CausalNeighbourhood(1)(ops.ones((2, 5, 5, 1)))
    >>> features.shape
    (2, 5, 5, 4)
    """

    def __init__(self, radius=2, **kwargs):
        super().__init__(**kwargs)
        if radius < 1:
            raise ValueError(f"radius must be at least 1, got {radius}")
        self.radius = radius
        self.offsets = causal_offsets(radius)

    def call(self, images):
        r = self.radius
        height, width = images.shape[1], images.shape[2]
        padded = ops.pad(images, ((0, 0), (r, 0), (r, r), (0, 0)))
        shifted = [
            padded[:, r + dr : r + dr + height, r + dc : r + dc + width, :]
            for dr, dc in self.offsets
        ]
        return ops.concatenate(shifted, axis=-1)

    def compute_output_shape(self, input_shape):
        return (*input_shape[:3], input_shape[3] * len(self.offsets))

    def get_config(self):
        return {**super().get_config(), "radius": self.radius}


def skew(grid):
    """`[B, H, W, F]` to `[B, H, H + W - 1, F]`, row `i` moved `i` columns
    right: the pixels of anti-diagonal `d` (`i + j = d`) fill column `d`."""
    batch = ops.shape(grid)[0]
    height, width, features = grid.shape[1], grid.shape[2], grid.shape[3]
    padded = ops.pad(grid, ((0, 0), (0, 0), (0, height), (0, 0)))
    flat = ops.reshape(padded, (batch, height * (width + height), features))
    flat = flat[:, : height * (width + height - 1)]
    return ops.reshape(flat, (batch, height, width + height - 1, features))


def unskew(skewed, width):
    """The inverse of `skew`: `[B, H, H + W - 1, F]` to `[B, H, W, F]`."""
    batch = ops.shape(skewed)[0]
    height, diagonals, features = skewed.shape[1], skewed.shape[2], skewed.shape[3]
    flat = ops.reshape(skewed, (batch, height * diagonals, features))
    flat = ops.pad(flat, ((0, 0), (0, height), (0, 0)))
    grid = ops.reshape(flat, (batch, height, diagonals + 1, features))
    return grid[:, :, :width]


@keras.saving.register_keras_serializable(package="keras_seq")
class SpatialLSTM(keras.layers.Layer):
    """A two-dimensional LSTM over an image, from the top-left corner.

    At pixel `(i, j)`, with the input projection `x W + b` and the states
    left `(h_l, c_l) = (i, j - 1)` and above `(h_u, c_u) = (i - 1, j)`
    (zeros outside the image), the gates
    `[i, f_l, f_u, o, g] = x W + [h_l, h_u] U + b` give

        c = sigmoid(f_l) * c_l + sigmoid(f_u) * c_u + sigmoid(i) * tanh(g)
        h = sigmoid(o) * tanh(c)

    (Theis and Bethge 2015's spatial LSTM, with the usual LSTM output).
    Both neighbours of every pixel of an anti-diagonal lie on the one
    before, so the layer runs `H + W - 1` steps, each one matmul over all
    the diagonal's pixels of the batch. The forget biases start at 0, so
    that the two forget gates start summing to 1 and the cells do not grow
    along the diagonals.

    Args:
        units: int. state size.

    Call arguments:
        inputs: float `[B, H, W, F]`, with static `H` and `W`.

    Returns:
        `[B, H, W, units]`: the state `h` at every pixel, which depends on
        the inputs at `(i', j')` with `i' <= i` and `j' <= j` only.

    Example:

    >>> SpatialLSTM(8)(ops.ones((2, 4, 5, 3))).shape
    (2, 4, 5, 8)
    """

    GATES = 5

    def __init__(self, units, **kwargs):
        super().__init__(**kwargs)
        self.units = units

    def build(self, input_shape):
        features = input_shape[-1]
        self.kernel = self.add_weight(
            shape=(features, self.GATES * self.units),
            initializer="glorot_uniform",
            name="kernel",
        )
        self.recurrent_kernel = self.add_weight(
            shape=(2 * self.units, self.GATES * self.units),
            initializer="orthogonal",
            name="recurrent_kernel",
        )
        self.bias = self.add_weight(
            shape=(self.GATES * self.units,), initializer="zeros", name="bias"
        )

    def project(self, inputs):
        """`x W + b`, for any leading shape."""
        return ops.matmul(inputs, self.kernel) + self.bias

    def step(self, projected, left, above):
        """One pixel (or many): `projected` `[..., 5 units]` and the
        `(h, c)` pairs to the left and above give the new `(h, c)`."""
        states = ops.concatenate([left[0], above[0]], axis=-1)
        gates = projected + ops.matmul(states, self.recurrent_kernel)
        i, f_left, f_above, o, g = ops.split(gates, self.GATES, axis=-1)
        cell = (
            ops.sigmoid(f_left) * left[1]
            + ops.sigmoid(f_above) * above[1]
            + ops.sigmoid(i) * ops.tanh(g)
        )
        return ops.sigmoid(o) * ops.tanh(cell), cell

    def call(self, inputs):
        height, width = inputs.shape[1], inputs.shape[2]
        diagonals = height + width - 1
        # Time-major over the anti-diagonals, skewed before the projection
        # (F features move, not 5 units): [D, B, H, 5 units].
        projected = self.project(ops.transpose(skew(inputs), (2, 0, 1, 3)))
        rows, columns = np.mgrid[:diagonals, :height]
        inside = (columns <= rows) & (rows - columns < width)
        inside = ops.convert_to_tensor(inside[:, :, None], self.compute_dtype)

        def diagonal(state, step_inputs):
            # The carry is one tensor, [B, H, 2 units]: h and c side by side.
            x, valid = step_inputs
            # Left of (i, j) is row i of the diagonal before; above, row i - 1.
            above = ops.pad(state[:, :-1], ((0, 0), (1, 0), (0, 0)))
            h, c = self.step(
                x,
                (state[..., : self.units], state[..., self.units :]),
                (above[..., : self.units], above[..., self.units :]),
            )
            # States outside the image stay 0: the neighbours' boundary.
            state = ops.concatenate([h, c], axis=-1) * valid
            # (keras.ops.scan on TensorFlow wants outputs shaped as the carry.)
            return state, state

        zeros = ops.zeros_like(projected[0, :, :, : 2 * self.units])
        _, states = ops.scan(diagonal, zeros, (projected, inside))
        states = ops.transpose(states[..., : self.units], (1, 2, 0, 3))
        return unskew(states, width)

    def compute_output_shape(self, input_shape):
        return (*input_shape[:3], self.units)

    def get_config(self):
        return {**super().get_config(), "units": self.units}


def causal_mask(kernel_size: int, include_centre: bool) -> np.ndarray:
    """`[k, k]` ones over the kernel positions before its centre (and the
    centre itself with `include_centre`)."""
    mask = np.zeros((kernel_size, kernel_size), np.float32)
    centre = kernel_size // 2
    mask[:centre] = 1.0
    mask[centre, : centre + int(include_centre)] = 1.0
    return mask


@keras.saving.register_keras_serializable(package="keras_seq")
class MaskedConv2D(keras.layers.Layer):
    """A 'same' convolution that sees only the pixels before each pixel.

    The first layer of a PixelCNN leaves the centre out (`include_centre`
    False, van den Oord et al.'s mask A); the layers after it may read the
    centre's features (mask B), which already exclude the pixel's value.

    Args:
        filters: int. output channels.
        kernel_size: int. odd side of the square kernel.
        include_centre: bool. whether the kernel reads its centre pixel.
        activation: activation name or callable.

    Example:

    >>> MaskedConv2D(4, 3, include_centre=False)(ops.ones((2, 6, 6, 1))).shape
    (2, 6, 6, 4)
    """

    def __init__(
        self, filters, kernel_size, include_centre=True, activation=None, **kwargs
    ):
        super().__init__(**kwargs)
        if kernel_size % 2 != 1:
            raise ValueError(f"kernel_size must be odd, got {kernel_size}")
        self.filters = filters
        self.kernel_size = kernel_size
        self.include_centre = include_centre
        self.activation = keras.activations.get(activation)
        self.mask = causal_mask(kernel_size, include_centre)[:, :, None, None]

    def build(self, input_shape):
        k = self.kernel_size
        self.kernel = self.add_weight(
            shape=(k, k, input_shape[-1], self.filters),
            initializer="glorot_uniform",
            name="kernel",
        )
        self.bias = self.add_weight(
            shape=(self.filters,), initializer="zeros", name="bias"
        )

    def call(self, inputs):
        kernel = self.kernel * ops.convert_to_tensor(self.mask, self.kernel.dtype)
        return self.activation(ops.conv(inputs, kernel, padding="same") + self.bias)

    def compute_output_shape(self, input_shape):
        return (*input_shape[:3], self.filters)

    def get_config(self):
        return {
            **super().get_config(),
            "filters": self.filters,
            "kernel_size": self.kernel_size,
            "include_centre": self.include_centre,
            "activation": keras.activations.serialize(self.activation),
        }


@keras.saving.register_keras_serializable(package="keras_seq")
class IndependentPixels(keras.layers.Layer):
    """Logits of a distribution per pixel position of a grey image, the
    same for every image: the model in which no pixel tells anything about
    another.

    Args:
        levels: int. values a pixel takes.

    Call arguments:
        images: `[B, H, W, 1]`, read only for its shape.

    Returns:
        `[B, H, W, levels]` logits.
    """

    def __init__(self, levels, **kwargs):
        super().__init__(**kwargs)
        self.levels = levels

    def build(self, input_shape):
        self.logits = self.add_weight(
            shape=(*input_shape[1:3], self.levels), initializer="zeros", name="logits"
        )

    def call(self, images):
        batch = ops.shape(images)[0]
        return ops.broadcast_to(self.logits, (batch, *self.logits.shape))

    def compute_output_shape(self, input_shape):
        return (*input_shape[:3], self.levels)

    def get_config(self):
        return {**super().get_config(), "levels": self.levels}
