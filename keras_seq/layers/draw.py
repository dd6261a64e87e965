"""DRAW: a recurrent variational autoencoder that draws on a canvas.

Gregor et al. (2015): at each of `steps` steps an LSTM encoder reads the
image and the error of the canvas so far (through a `GaussianGlimpse`, or
whole without attention), a diagonal Gaussian posterior gives a latent
sample, an LSTM decoder reads it, and adds to the canvas what it writes
(through a `GaussianWrite`, or a whole image). The loss is the negative
variational bound in nats: the Bernoulli reconstruction of the image from
the last canvas, plus the KL divergence of every step's posterior from a
standard normal prior.
"""

from __future__ import annotations

import keras
from keras import ops

from keras_seq.layers.glimpse import (
    GaussianGlimpse,
    GaussianWrite,
    covering_placement,
)


def gaussian_kl(mean, log_std):
    """KL(N(mean, std^2) || N(0, 1)) in nats, summed over the last axis:
    `0.5 sum(mean^2 + std^2 - 2 log std - 1)`."""
    return 0.5 * ops.sum(
        ops.square(mean) + ops.exp(2 * log_std) - 2 * log_std - 1, axis=-1
    )


@keras.saving.register_keras_serializable(package="keras_seq")
class DRAW(keras.layers.Layer):
    """Deep Recurrent Attentive Writer: images to the parts of their bound.

    Reference:
    - [Gregor et al., 2015](https://arxiv.org/abs/1502.04623)

    Args:
        height: int. image height.
        width: int. image width.
        channels: int. image channels (pixels are Bernoulli in [0, 1]).
        steps: int. drawing steps `T`; 1 without attention is a one-step
            variational autoencoder (Kingma and Welling 2014) of LSTM cells.
        encoder_units: int. the encoder LSTM's units.
        decoder_units: int. the decoder LSTM's units.
        latent_dim: int. latent dimensions per step.
        read_size: int. the read grid's side `N` (with attention).
        write_size: int. the write grid's side (with attention).
        attention: bool. read and write through Gaussian grids; False reads
            the whole image and writes a whole canvas.
        canvas_bias: bool. start every canvas from a learnt image of logits
            (`initial_canvas`) instead of zeros, so that no write is spent
            on what every image shares, such as a dark background; small
            writes through a grid cannot darken a whole canvas in a few
            steps. False for the layers saved before it existed.
        seed: int or None. seed of the posterior's noise in training.

    Call arguments:
        images: float `[B, height, width, channels]` in [0, 1].
        noise: optional float `[B, steps, latent_dim]`: the posterior's
            standard normal noise (drawn anew at every call without it).

    Returns:
        `[B, 2]`: the reconstruction's and the KL terms' nats per image,
        whose sum is the negative variational bound.

    Example:

    >>> draw = DRAW(28, 28, 1, steps=4, encoder_units=16, decoder_units=16,
    ...             latent_dim=4)
    >>> draw(keras.random.uniform((2, 28, 28, 1))).shape
    (2, 2)
    """

    def __init__(
        self,
        height,
        width,
        channels,
        steps=16,
        encoder_units=256,
        decoder_units=256,
        latent_dim=100,
        read_size=2,
        write_size=5,
        attention=True,
        canvas_bias=False,
        seed=None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        for name, value in (("steps", steps), ("latent_dim", latent_dim)):
            if value < 1:
                raise ValueError(f"`{name}` must be at least 1. Received: {value}")
        self.height = height
        self.width = width
        self.channels = channels
        self.steps = steps
        self.encoder_units = encoder_units
        self.decoder_units = decoder_units
        self.latent_dim = latent_dim
        self.read_size = read_size
        self.write_size = write_size
        self.attention = attention
        self.canvas_bias = canvas_bias
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed)
        pixels = height * width * channels
        read_width = 2 * read_size * read_size * channels if attention else 2 * pixels
        self.read_width = read_width
        self.encoder_cell = keras.layers.LSTMCell(encoder_units, name="encoder")
        self.decoder_cell = keras.layers.LSTMCell(decoder_units, name="decoder")
        self.posterior = keras.layers.Dense(2 * latent_dim, name="posterior")
        if attention:
            # Both grids start over the whole image (`covering_placement`).
            self.read_place = keras.layers.Dense(
                5,
                bias_initializer=keras.initializers.Constant(
                    covering_placement(read_size, height, width)
                ),
                name="read_place",
            )
            self.write_place = keras.layers.Dense(
                5,
                bias_initializer=keras.initializers.Constant(
                    covering_placement(write_size, height, width)
                ),
                name="write_place",
            )
            self.write_patch = keras.layers.Dense(
                write_size * write_size * channels, name="write_patch"
            )
            self.glimpse = GaussianGlimpse(read_size, name="glimpse")
            self.writer = GaussianWrite(height, width, name="writer")
        else:
            self.write_patch = keras.layers.Dense(pixels, name="write_patch")

    def build(self, input_shape):
        self.encoder_cell.build((None, self.read_width + self.decoder_units))
        self.decoder_cell.build((None, self.latent_dim))
        self.posterior.build((None, self.encoder_units))
        self.write_patch.build((None, self.decoder_units))
        if self.attention:
            self.read_place.build((None, self.decoder_units))
            self.write_place.build((None, self.decoder_units))
        if self.canvas_bias:
            self.initial_canvas = self.add_weight(
                shape=(self.height, self.width, self.channels),
                initializer="zeros",
                name="initial_canvas",
            )

    def _start_canvas(self, batch_size):
        shape = (batch_size, self.height, self.width, self.channels)
        canvas = ops.zeros(shape)
        if self.canvas_bias:
            canvas = canvas + self.initial_canvas[None]
        return canvas

    def _zero_states(self, batch_size, units):
        return [ops.zeros((batch_size, units)), ops.zeros((batch_size, units))]

    def _read(self, images, errors, decoder_output):
        if not self.attention:
            batch_size = ops.shape(images)[0]
            both = ops.concatenate([images, errors], axis=-1)
            return ops.reshape(both, (batch_size, -1))
        place = self.read_place(decoder_output)
        patches = [self.glimpse([image, place]) for image in (images, errors)]
        batch_size = ops.shape(images)[0]
        return ops.reshape(ops.concatenate(patches, axis=-1), (batch_size, -1))

    def _write(self, decoder_output):
        batch_size = ops.shape(decoder_output)[0]
        if not self.attention:
            return ops.reshape(
                self.write_patch(decoder_output),
                (batch_size, self.height, self.width, self.channels),
            )
        size = self.write_size
        patch = ops.reshape(
            self.write_patch(decoder_output), (batch_size, size, size, self.channels)
        )
        return self.writer([patch, self.write_place(decoder_output)])

    def canvases(self, images, noise=None):
        """The canvas logits after every step, `[B, steps, H, W, C]`, and the
        KL nats of every step, `[B, steps]`."""
        batch_size = ops.shape(images)[0]
        if noise is None:
            noise = keras.random.normal(
                (batch_size, self.steps, self.latent_dim), seed=self.seed_generator
            )
        canvas = self._start_canvas(batch_size)
        encoder_states = self._zero_states(batch_size, self.encoder_units)
        decoder_states = self._zero_states(batch_size, self.decoder_units)
        decoder_output = decoder_states[0]
        drawn, divergences = [], []
        for step in range(self.steps):
            errors = images - ops.sigmoid(canvas)
            read = self._read(images, errors, decoder_output)
            encoder_output, encoder_states = self.encoder_cell(
                ops.concatenate([read, decoder_output], axis=-1), encoder_states
            )
            mean, log_std = ops.split(self.posterior(encoder_output), 2, axis=-1)
            latent = mean + ops.exp(log_std) * noise[:, step]
            divergences.append(gaussian_kl(mean, log_std))
            decoder_output, decoder_states = self.decoder_cell(latent, decoder_states)
            canvas = canvas + self._write(decoder_output)
            drawn.append(canvas)
        return ops.stack(drawn, axis=1), ops.stack(divergences, axis=1)

    def call(self, images, noise=None):
        canvases, divergences = self.canvases(images, noise)
        logits = canvases[:, -1]
        # Bernoulli cross-entropy from logits, summed over the pixels.
        reconstruction = ops.sum(ops.softplus(logits) - images * logits, axis=(1, 2, 3))
        return ops.stack([reconstruction, ops.sum(divergences, axis=1)], axis=1)

    def generate(self, latents):
        """Canvas logits after every step, `[B, steps, H, W, C]`, drawn from
        latents `[B, steps, latent_dim]` (standard normal for samples)."""
        batch_size = ops.shape(latents)[0]
        canvas = self._start_canvas(batch_size)
        decoder_states = self._zero_states(batch_size, self.decoder_units)
        drawn = []
        for step in range(self.steps):
            decoder_output, decoder_states = self.decoder_cell(
                latents[:, step], decoder_states
            )
            canvas = canvas + self._write(decoder_output)
            drawn.append(canvas)
        return ops.stack(drawn, axis=1)

    def compute_output_shape(self, input_shape):
        return (input_shape[0], 2)

    def get_config(self):
        return {
            **super().get_config(),
            "height": self.height,
            "width": self.width,
            "channels": self.channels,
            "steps": self.steps,
            "encoder_units": self.encoder_units,
            "decoder_units": self.decoder_units,
            "latent_dim": self.latent_dim,
            "read_size": self.read_size,
            "write_size": self.write_size,
            "attention": self.attention,
            "canvas_bias": self.canvas_bias,
            "seed": self.seed,
        }
