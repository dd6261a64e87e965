"""Residual and dense blocks for sequences (rank 3) and images (rank 4), and
a small ResNet encoder built from them.

Blocks are functions that name every layer they create from `name`, as the
blocks of `keras.applications`, so that a model built from them can be read
with `model.get_layer(...)`.
"""

import keras


def _conv(rank, filters, kernel_size, strides, name, use_bias=False):
    layer = keras.layers.Conv1D if rank == 3 else keras.layers.Conv2D
    return layer(
        filters,
        kernel_size,
        strides=strides,
        padding="same",
        use_bias=use_bias,
        kernel_initializer="he_normal",
        name=name,
    )


def _check_rank(x, block):
    rank = len(x.shape)
    if rank not in (3, 4):
        raise ValueError(
            f"`{block}` takes sequences (batch, time, channels) or images "
            f"(batch, height, width, channels). Received: shape={x.shape}"
        )
    return rank


def residual_block(x, filters, kernel_size=3, strides=1, name="residual"):
    """A pre-activation residual block (He et al., 2016) for sequences or images.

    `x -> BN -> ReLU -> conv -> BN -> ReLU -> conv`, added to a shortcut:
    the input itself, or a 1-wide convolution of it when the number of
    channels or the stride changes. Conv1D for sequences, Conv2D for images.

    Reference:
    - [He et al., 2016](https://arxiv.org/abs/1603.05027)

    Args:
        x: tensor of shape `(batch, time, channels)` or
            `(batch, height, width, channels)`.
        filters: int. Output channels.
        kernel_size: int. Convolution width.
        strides: int. Stride of the first convolution (downsampling).
        name: str. Prefix of every layer's name.

    Returns:
        A tensor with `filters` channels, spatially divided by `strides`.
    """
    rank = _check_rank(x, "residual_block")
    shortcut = x
    if x.shape[-1] != filters or strides != 1:
        shortcut = _conv(rank, filters, 1, strides, f"{name}_shortcut")(x)
    x = keras.layers.BatchNormalization(name=f"{name}_bn1")(x)
    x = keras.layers.ReLU(name=f"{name}_relu1")(x)
    x = _conv(rank, filters, kernel_size, strides, f"{name}_conv1")(x)
    x = keras.layers.BatchNormalization(name=f"{name}_bn2")(x)
    x = keras.layers.ReLU(name=f"{name}_relu2")(x)
    x = _conv(rank, filters, kernel_size, 1, f"{name}_conv2")(x)
    return keras.layers.Add(name=f"{name}_add")([shortcut, x])


def dense_block(x, num_layers, growth_rate, kernel_size=3, name="dense"):
    """A densely connected block (Huang et al., 2017) for sequences or images.

    Every layer (`BN -> ReLU -> conv` with `growth_rate` filters) reads the
    concatenation of the block's input and all earlier layers' outputs; the
    block returns that concatenation, with
    `channels + num_layers * growth_rate` channels.

    Reference:
    - [Huang et al., 2017](https://arxiv.org/abs/1608.06993)

    Args:
        x: tensor of shape `(batch, time, channels)` or
            `(batch, height, width, channels)`.
        num_layers: int. Number of convolution layers.
        growth_rate: int. Channels each layer adds.
        kernel_size: int. Convolution width.
        name: str. Prefix of every layer's name.

    Returns:
        A tensor with `channels + num_layers * growth_rate` channels.
    """
    rank = _check_rank(x, "dense_block")
    if num_layers < 1:
        raise ValueError(
            f"`num_layers` must be at least 1. Received: num_layers={num_layers}"
        )
    for index in range(num_layers):
        y = keras.layers.BatchNormalization(name=f"{name}_{index}_bn")(x)
        y = keras.layers.ReLU(name=f"{name}_{index}_relu")(y)
        y = _conv(rank, growth_rate, kernel_size, 1, f"{name}_{index}_conv")(y)
        x = keras.layers.Concatenate(name=f"{name}_{index}_concat")([x, y])
    return x


def small_resnet(image, filters, name=None):
    """A small ResNet for images: a strided stem, three residual blocks (the
    last two halving the resolution and doubling the width), BN and ReLU.

    An encoder to train from scratch on small images: 96-pixel images
    become a 12 x 12 grid of `4 * filters` features.

    Args:
        image: tensor of shape `(batch, height, width, channels)`.
        filters: int. Width of the stem and the first block.
        name: optional str. Prefix of every layer's name (`stem_conv`,
            `block1_...`, `top_bn`, `top_relu` without one).

    Returns:
        The feature grid `(batch, height / 8, width / 8, 4 * filters)`.
    """
    _check_rank(image, "small_resnet")
    prefix = f"{name}_" if name else ""
    x = keras.layers.Conv2D(
        filters, 3, strides=2, padding="same", name=f"{prefix}stem_conv"
    )(image)
    x = residual_block(x, filters, name=f"{prefix}block1")
    x = residual_block(x, 2 * filters, strides=2, name=f"{prefix}block2")
    x = residual_block(x, 4 * filters, strides=2, name=f"{prefix}block3")
    x = keras.layers.BatchNormalization(name=f"{prefix}top_bn")(x)
    return keras.layers.ReLU(name=f"{prefix}top_relu")(x)
