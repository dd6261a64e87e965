"""captioning: Show and Tell, an image to a sentence.

A convolutional encoder turns the image into a vector (and a grid of
spatial features); an LSTM decoder reads that vector as its first input,
as in Vinyals et al. (2015), then the caption's words, and predicts the
next word at every step (teacher forcing). By default every step also
reads the image embedding next to the word and a weighted average of the
spatial features (additive attention, as in Show, Attend and Tell); the
`paper` preset (`attention=none`, `image_every_step=false`) is Show and Tell
as published. On the small offline data sets the published model mostly
ignores the image (it writes one caption for every picture), which the two
additions fix. The encoder is, offline by default, a small ResNet built
from `keras_seq.layers.residual_block` and trained with the captioner, or a
`keras.applications` backbone given a weights file. Decoding is greedy or
beam search (width 3, as the original im2txt) from `keras_seq.decoding`,
inside the `caption` endpoint, which takes encoded PNG or JPEG bytes.

References:
- [Vinyals et al., 2015](https://arxiv.org/abs/1411.4555)
- [Xu et al., 2015](https://arxiv.org/abs/1502.03044)
"""

from __future__ import annotations

import collections
import dataclasses
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf

from keras_seq import config as config_lib
from keras_seq import decoding, inference, training
from keras_seq import export as export_lib
from keras_seq import metrics as metrics_lib
from keras_seq.config import CELLS, TrainingConfig, option
from keras_seq.data import captions as caption_sources
from keras_seq.data import images as image_lib
from keras_seq.data.tokens import Tokenizer, sentence_vocabulary
from keras_seq.data.vocabulary import END_ID, PAD_ID, START_ID, Vocabulary
from keras_seq.data.words import tokenize
from keras_seq.errors import UserError
from keras_seq.layers import AdditiveAttention, RNNStack, small_resnet

DESCRIPTION = "image captioning: Show and Tell (CNN encoder, LSTM decoder)"
DATA_SOURCES = caption_sources.source_names()
PREDICT_OPTIONS = ("plot",)
PRIMARY_METRIC = "bleu4"
METRIC_LABELS = {"loss": "cross-entropy (nats per word)"}
BACKBONES = ("small", "mobilenet_v2", "resnet50", "efficientnet_b0")


@dataclasses.dataclass(frozen=True)
class Config(TrainingConfig):
    data: str = option("tuxpaint", help="data: " + ", ".join(DATA_SOURCES))
    exclude: str = option(
        "", help="comma-separated folders of the source to leave out (symbols/...)"
    )
    limit: int = option(
        0, minimum=0, help="use at most this many captioned images; 0: all"
    )
    image_size: int = option(96, minimum=16, help="images are resized to this square")
    encoder: str = option("small", choices=BACKBONES, help="image encoder")
    encoder_weights: str = option(
        "none", help="backbone weights: none, imagenet (online) or a file path"
    )
    filters: int = option(32, minimum=1, help="first width of the small encoder")
    augment: float = option(
        0.0,
        minimum=0.0,
        maximum=0.5,
        help="in training, shift and zoom images at random by up to this "
        "fraction (white fill); 0: off",
    )
    attention: str = option(
        "additive",
        choices=("none", "additive"),
        help="attention over spatial features; none: Show and Tell as published",
    )
    image_every_step: bool = option(
        True, help="also feed the image embedding next to every word"
    )
    cell: str = option("lstm", choices=CELLS, help="decoder cell")
    units: int = option(256, minimum=1, help="decoder units")
    embedding_dim: int = option(128, minimum=1, help="word and image embedding width")
    dropout: float = config_lib.dropout(0.3)
    max_vocabulary: int = option(3000, minimum=4, help="words kept")
    max_tokens: int = option(20, minimum=2, help="longest caption (words)")
    beam_width: int = option(3, minimum=1, help="beam search width")
    length_penalty: float = option(1.0, minimum=0.0, help="beam length penalty")
    epochs: int = config_lib.epochs(60)
    batch_size: int = config_lib.batch_size(32, "images")
    learning_rate: float = config_lib.learning_rate(1e-3)
    clipnorm: float = config_lib.clipnorm(5.0)


DEFAULT = Config()
PRESETS = {
    "tiny": config_lib.tiny(
        DEFAULT, limit=120, image_size=16, filters=4, batch_size=4, max_vocabulary=100
    ),
    "default": DEFAULT,
    # twemoji's pictures overfit the default: more dropout, random shifts
    # and zooms, fewer epochs (docs/results/captioning.md).
    "twemoji": dataclasses.replace(
        DEFAULT, data="twemoji", dropout=0.5, augment=0.1, epochs=30
    ),
    # Vinyals et al. (2015): the image as the first input only, no attention,
    # 512 LSTM units and embeddings, a larger encoder.
    "paper": dataclasses.replace(
        DEFAULT,
        attention="none",
        image_every_step=False,
        image_size=128,
        filters=64,
        units=512,
        embedding_dim=512,
    ),
}


@dataclasses.dataclass
class Data:
    train: tf.data.Dataset
    validation: tf.data.Dataset
    test: tf.data.Dataset
    vocabulary: Vocabulary
    train_images: tf.data.Dataset
    test_images: tf.data.Dataset
    train_captions: list[str]
    test_references: list[list[str]]
    train_size: int
    skipped: str = ""


def load_data(config: Config) -> Data:
    examples = caption_sources.load_examples(config.data)
    excluded = tuple(
        folder.strip().strip("/") + "/"
        for folder in config.exclude.split(",")
        if folder
    )
    if excluded:
        examples = [item for item in examples if not item.group.startswith(excluded)]
    if config.limit:
        examples = examples[: config.limit]
    if len(examples) < 3:
        raise UserError(
            f"exclude={config.exclude!r} and limit={config.limit} leave "
            f"{len(examples)} captioned images; at least 3 are needed"
        )
    train, validation, test = caption_sources.split_by_group(examples, config.seed)
    vocabulary = sentence_vocabulary(
        [example.caption for example in train], "word", config.max_vocabulary
    )
    tokens = Tokenizer(vocabulary, subword=False, max_tokens=config.max_tokens)

    def images_of(part):
        encoded = [caption_sources.image_bytes(example) for example in part]
        return image_lib.image_dataset(encoded, config.image_size)

    def dataset(part, shuffle: bool):
        texts = tf.data.Dataset.from_tensor_slices([item.caption for item in part])
        pairs = tf.data.Dataset.zip((images_of(part), texts)).cache()
        if shuffle:
            pairs = pairs.shuffle(len(part), seed=config.seed)

        def to_model(image, text):
            caption_in, caption_out = tokens.teacher_forcing(text)
            return {"image": image, "caption_in": caption_in}, caption_out

        return (
            pairs.batch(config.batch_size)
            .map(to_model, num_parallel_calls=tf.data.AUTOTUNE)
            .prefetch(tf.data.AUTOTUNE)
        )

    train_pictures, _ = caption_sources.pictures(train)
    test_pictures, test_references = caption_sources.pictures(test)
    return Data(
        train=dataset(train, True),
        validation=dataset(validation or test, False),
        test=dataset(test, False),
        vocabulary=vocabulary,
        train_images=images_of(train_pictures),
        test_images=images_of(test_pictures),
        train_captions=[item.caption for item in train_pictures],
        test_references=test_references,
        train_size=len(train),
    )


def _backbone(image, config: Config):
    applications = {
        "mobilenet_v2": keras.applications.MobileNetV2,
        "resnet50": keras.applications.ResNet50,
        "efficientnet_b0": keras.applications.EfficientNetB0,
    }
    weights = config.encoder_weights
    if weights not in ("none", "imagenet") and not Path(weights).is_file():
        raise UserError(
            "`encoder_weights` must be none, imagenet or a weights file. "
            f"Received: encoder_weights={weights!r}"
        )
    backbone = applications[config.encoder](
        include_top=False,
        weights=None if weights == "none" else weights,
        input_shape=(config.image_size, config.image_size, 3),
    )
    return backbone(image * 255.0)


def _encoder(config: Config) -> keras.Model:
    """Image to spatial features `[B, h * w, C]` and an image embedding."""
    if config.encoder == "small" and config.encoder_weights != "none":
        raise UserError(
            "The small encoder is trained with the captioner; weights files are "
            f"for a backbone. Received: encoder_weights={config.encoder_weights!r}"
        )
    image = keras.Input(shape=(config.image_size, config.image_size, 3), name="image")
    seen = image
    if config.augment:
        # Only in training: inference, export and the baselines see the image.
        shift, fill = config.augment, {"fill_mode": "constant", "fill_value": 1.0}
        seen = keras.layers.RandomTranslation(shift, shift, name="shift", **fill)(seen)
        seen = keras.layers.RandomZoom(shift, name="zoom", **fill)(seen)
    grid = (
        small_resnet(seen, config.filters)
        if config.encoder == "small"
        else _backbone(seen, config)
    )
    features = keras.layers.Reshape((-1, grid.shape[-1]), name="features")(grid)
    pooled = keras.layers.GlobalAveragePooling2D(name="pooled")(grid)
    embedded = keras.layers.Dense(config.embedding_dim, name="image_embedding")(
        keras.layers.Dropout(config.dropout, name="image_dropout")(pooled)
    )
    return keras.Model(image, [features, embedded, pooled], name="encoder")


def _decoder_output(config, get_layer, sequence, features):
    if config.attention == "none":
        return sequence, None
    context, weights = get_layer("attention")(
        [sequence, features], return_attention_scores=True
    )
    combined = get_layer("combine")([sequence, context])
    return get_layer("attentional")(combined), weights


def _with_image(config: Config, inputs, embedded):
    """`inputs` `[B, T, E]`, with `image_every_step` followed by the image
    embedding at every step."""
    if not config.image_every_step:
        return inputs
    repeated = keras.ops.zeros_like(inputs[..., :1]) + embedded[:, None, :]
    return keras.ops.concatenate([inputs, repeated], axis=-1)


def build_model(config: Config, data: Data) -> inference.Pieces:
    image = keras.Input(shape=(config.image_size, config.image_size, 3), name="image")
    caption_in = keras.Input(shape=(None,), dtype="int32", name="caption_in")
    encoder = _encoder(config)
    layers = {
        "word_embedding": keras.layers.Embedding(
            data.vocabulary.size, config.embedding_dim, name="word_embedding"
        ),
        "decoder": RNNStack(
            cell=config.cell,
            units=config.units,
            dropout=config.dropout,
            return_state=True,
            name="decoder",
        ),
        "logits": keras.layers.Dense(data.vocabulary.size, name="logits"),
    }
    if config.attention != "none":
        layers["attention"] = AdditiveAttention(units=config.units, name="attention")
        layers["combine"] = keras.layers.Concatenate(name="combine")
        layers["attentional"] = keras.layers.Dense(
            config.units, activation="tanh", name="attentional"
        )
    features, embedded, _ = encoder(image)
    words = _with_image(config, layers["word_embedding"](caption_in), embedded)
    # The image is the decoder's first input (Vinyals et al. 2015); its
    # output there predicts nothing.
    first = _with_image(config, embedded[:, None, :], embedded)
    sequence_in = keras.ops.concatenate([first, words], axis=1)
    mask = keras.ops.concatenate(
        [
            keras.ops.ones_like(caption_in[:, :1], dtype="bool"),
            keras.ops.not_equal(caption_in, PAD_ID),
        ],
        axis=1,
    )
    sequence, *_ = layers["decoder"](sequence_in, mask=mask)
    hidden, _ = _decoder_output(config, layers.__getitem__, sequence[:, 1:], features)
    logits = layers["logits"](hidden)
    model = keras.Model(
        {"image": image, "caption_in": caption_in}, logits, name="captioner"
    )
    steps = training.steps_for(data.train_size, config.batch_size)
    model.compile(
        optimizer=training.make_optimizer(config, steps),
        loss=keras.losses.SparseCategoricalCrossentropy(
            from_logits=True, ignore_class=PAD_ID
        ),
    )
    return from_saved(config, model)


def from_saved(config: Config, model: keras.Model) -> inference.Pieces:
    """The image encoder and the decoder's first step as one encoder, and one
    decoder step, from the layers of `model`."""
    image_encoder = model.get_layer("encoder")
    decoder = model.get_layer("decoder")
    image = keras.Input(shape=(config.image_size, config.image_size, 3), name="image")
    features, embedded, _ = image_encoder(image)
    _, *states = decoder(_with_image(config, embedded[:, None, :], embedded))
    encoder = keras.Model(image, [features, embedded, *states], name="encoder")

    token = inference.token_input()
    step_features = keras.Input(shape=(None, features.shape[-1]), name="features")
    step_image = keras.Input(shape=(config.embedding_dim,), name="step_image")
    state_inputs = inference.state_inputs(decoder.state_size)
    words = _with_image(config, model.get_layer("word_embedding")(token), step_image)
    sequence, *new_states = decoder(words, initial_state=state_inputs)
    hidden, weights = _decoder_output(config, model.get_layer, sequence, step_features)
    if weights is None:
        weights = keras.ops.zeros_like(step_features[:, None, :, 0])
    memory = [step_features, step_image] if config.image_every_step else [step_features]
    step = inference.step_model(
        token,
        memory,
        state_inputs,
        model.get_layer("logits")(hidden),
        new_states,
        extras=[weights],
    )
    return inference.Pieces(model=model, encoder=encoder, step=step)


train = training.fit_task


class Captioner(inference.Decoder):
    """Images in, captions out: evaluate, show and the export."""

    def __init__(
        self, config: Config, pieces: inference.Pieces, vocabulary: Vocabulary
    ):
        super().__init__(pieces, END_ID, extras=1)
        self.config = config
        self.tokens = Tokenizer(vocabulary, subword=False, max_tokens=config.max_tokens)
        self.resources = [self.tokens]

    def _read(self, images):
        """What every step reads besides the token, and the first states."""
        # training=False: random augmentation layers default to training.
        features, embedded, *states = self.pieces.encoder(images, training=False)
        memory = [features, embedded] if self.config.image_every_step else [features]
        return memory, states

    def start(self, images) -> inference.Start:
        memory, states = self._read(images)

        def step_fn(tokens, state):
            logits, _, rnn = self.step(tokens, state["memory"], state["rnn"])
            return logits, {**state, "rnn": rnn}

        first = tf.fill([tf.shape(images)[0]], START_ID)
        state = {"rnn": states, "memory": memory}
        return inference.Start(step_fn, first, state, self.config.max_tokens + 1)

    def caption_greedy(self, images):
        return self.tokens.text(*self.greedy(self.start(images)))

    def caption(self, images):
        tokens, _, lengths = self.beam(
            self.start(images), self.config.beam_width, self.config.length_penalty
        )
        return self.tokens.text(tokens[:, 0], lengths[:, 0])

    def attention(self, images, captions):
        """Attention weights `[B, T, h * w]` while the decoder reads `captions`."""
        ids = self.tokens.ids(captions).to_tensor(PAD_ID)
        inputs = tf.concat([tf.fill([tf.shape(ids)[0], 1], START_ID), ids], axis=1)
        memory, states = self._read(images)

        def step_fn(tokens, states):
            _, (weights,), states = self.step(tokens, memory, states)
            return weights[:, 0], states

        return decoding.teacher_forced(step_fn, inputs, states)


def _caption_all(function, images: tf.data.Dataset) -> list[str]:
    return inference.decode_all(function, images.batch(64))


def _pooled(pieces: inference.Pieces, images: tf.data.Dataset) -> np.ndarray:
    encoder = pieces.model.get_layer("encoder")
    rows = [encoder(batch, training=False)[2].numpy() for batch in images.batch(128)]
    features = np.concatenate(rows)
    return features / np.maximum(np.linalg.norm(features, axis=1, keepdims=True), 1e-8)


def evaluate(
    config: Config, pieces: inference.Pieces, data: Data, output_dir=None
) -> dict:
    captioner = Captioner(config, pieces, data.vocabulary)
    references = data.test_references
    loss = float(pieces.model.evaluate(data.test, verbose=0))
    beam = _caption_all(captioner.caption, data.test_images)
    greedy = _caption_all(captioner.caption_greedy, data.test_images)
    counts = collections.Counter(data.train_captions)
    most_frequent = min(counts, key=lambda caption: (-counts[caption], caption))
    nearest = (
        _pooled(pieces, data.test_images) @ _pooled(pieces, data.train_images).T
    ).argmax(axis=1)
    neighbours = [data.train_captions[index] for index in nearest]
    baselines = {"most_frequent": [most_frequent] * len(references)}
    baselines["nearest_neighbour"] = neighbours
    results = {"test_loss": loss}
    for order in (1, 2, 3, 4):
        results[f"bleu{order}"] = metrics_lib.corpus_bleu(beam, references, order)
    results["bleu4_greedy"] = metrics_lib.corpus_bleu(greedy, references)
    for order in (4, 1):
        for name, captions in baselines.items():
            results[f"bleu{order}_{name}"] = metrics_lib.corpus_bleu(
                captions, references, order
            )
    results["test_images"] = len(references)
    return results


def show(config: Config, pieces: inference.Pieces, data: Data) -> None:
    captioner = Captioner(config, pieces, data.vocabulary)
    outputs = _caption_all(captioner.caption, data.test_images.take(5))
    for output, references in zip(outputs, data.test_references):
        print(f"{references[0]}\n  caption: {output}")


def endpoints(
    config: Config, pieces: inference.Pieces, data: Data
) -> export_lib.Endpoints:
    captioner = Captioner(config, pieces, data.vocabulary)
    size = config.image_size

    def caption(image):
        captions = captioner.caption(image_lib.decode_images(image, size))
        # Bytes that are neither PNG nor JPEG get an empty caption.
        return {"caption": tf.where(image_lib.is_image(image), captions, "")}

    def attention(image, caption):
        images = image_lib.decode_images(image, size)
        return {"weights": captioner.attention(images, caption)}

    image = tf.TensorSpec([None], tf.string, name="image")
    functions = {"caption": (caption, [image])}
    if config.attention != "none":
        text = tf.TensorSpec([None], tf.string, name="caption")
        functions["attention"] = (attention, [image, text])
    return export_lib.Endpoints(functions=functions, track=captioner.trackables())


def examples(config: Config, data: Data, count: int) -> dict:
    """Endpoint inputs: test pictures as PNG bytes, with their first captions."""
    pictures = [
        tf.io.encode_png(tf.cast(image * 255, tf.uint8)).numpy()
        for image in data.test_images.take(count)
    ]
    found = {"caption": {"image": np.array(pictures, object)}}
    if config.attention != "none":
        captions = [references[0] for references in data.test_references[:count]]
        found["attention"] = {
            "image": np.array(pictures, object),
            "caption": np.array(captions, object),
        }
    return found


def predict(saved_model: Path, inputs: list[str], options: dict) -> None:
    """Prints a caption for every image file; `--plot` draws the first."""
    if not inputs:
        raise UserError("captioning predict needs at least one PNG or JPEG file")
    encoded = [image_lib.read_image_file(path) for path in inputs]
    loaded = tf.saved_model.load(str(saved_model))
    outputs = loaded.caption(image=tf.constant(encoded))["caption"].numpy()
    for path, output in zip(inputs, outputs):
        print(f"{path}: {output.decode()}")
    if options.get("plot"):
        from keras_seq import plots

        weights = None
        if hasattr(loaded, "attention"):
            weights = loaded.attention(
                image=tf.constant(encoded[:1]), caption=tf.constant(outputs[:1])
            )["weights"].numpy()[0]
        image = image_lib.decode_image(tf.constant(encoded[0]), 256).numpy()
        words = [
            word.decode() for word in tokenize(tf.constant(outputs[:1])).to_list()[0]
        ]
        plots.captioned_image(
            image, outputs[0].decode(), Path(options["plot"]), weights, words
        )
        print(f"Wrote {options['plot']}")
