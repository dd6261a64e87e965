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
import random
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf

from keras_seq import decoding, training
from keras_seq import export as export_lib
from keras_seq.config import CELLS, TrainingConfig, option
from keras_seq.data import captions as caption_sources
from keras_seq.data.vocabulary import FIRST_SYMBOL_ID, PAD_ID, Vocabulary
from keras_seq.data.words import (
    ids_to_text,
    tokenize,
    word_vocabulary,
)
from keras_seq.errors import UserError
from keras_seq.layers import AdditiveAttention, RNNStack, residual_block

DESCRIPTION = "image captioning: Show and Tell (CNN encoder, LSTM decoder)"
DATA_SOURCES = caption_sources.source_names()
PREDICT_OPTIONS = ("plot",)
PRIMARY_METRIC = "bleu4"
METRIC_LABELS = {"loss": "cross-entropy (nats per word)"}

START, END = "<s>", "</s>"
START_ID, END_ID = FIRST_SYMBOL_ID, FIRST_SYMBOL_ID + 1
BACKBONES = ("small", "mobilenet_v2", "resnet50", "efficientnet_b0")
PNG_MAGIC = b"\x89PNG"
JPEG_MAGIC = b"\xff\xd8\xff"


@dataclasses.dataclass(frozen=True)
class Config(TrainingConfig):
    data: str = option("tuxpaint", help="data: " + ", ".join(DATA_SOURCES))
    exclude: str = option(
        "", help="comma-separated folders of the source to leave out (symbols/...)"
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
    dropout: float = option(0.3, minimum=0.0, maximum=0.95, help="dropout rate")
    max_vocabulary: int = option(3000, minimum=4, help="words kept")
    max_tokens: int = option(20, minimum=2, help="longest caption (words)")
    beam_width: int = option(3, minimum=1, help="beam search width")
    length_penalty: float = option(1.0, minimum=0.0, help="beam length penalty")
    epochs: int = option(60, minimum=1, help="number of epochs")
    batch_size: int = option(32, minimum=1, help="images per batch")
    learning_rate: float = option(1e-3, minimum=0.0, help="Adam's learning rate")
    clipnorm: float = option(5.0, minimum=0.0, help="global gradient norm; 0: off")


DEFAULT = Config()
PRESETS = {
    "tiny": dataclasses.replace(
        DEFAULT,
        image_size=16,
        filters=4,
        units=8,
        embedding_dim=8,
        epochs=2,
        batch_size=4,
        beam_width=2,
        max_vocabulary=100,
    ),
    "default": DEFAULT,
    # twemoji's 2,974 pictures overfit the default (validation loss lowest
    # after 4 of 30 epochs): more dropout, random shifts and zooms, fewer
    # epochs. On tuxpaint the same settings scored lower (README, Results).
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


@dataclasses.dataclass
class Model:
    """The training model and the inference pieces built from its layers:
    `encoder` (image to features and embedding), `start` (the decoder state
    after reading the image) and `step` (one decoder step)."""

    model: keras.Model
    encoder: keras.Model
    start: keras.Model
    step: keras.Model


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


def is_image(encoded: tf.Tensor) -> tf.Tensor:
    """Whether bytes start like a PNG or a JPEG file."""
    head = tf.strings.substr(encoded, 0, 4)
    return tf.equal(head, PNG_MAGIC) | tf.equal(
        tf.strings.substr(head, 0, 3), JPEG_MAGIC
    )


def _split(examples, seed: int):
    """80/10/10 by group, so that the variants of one picture share a split."""
    groups = sorted({example.group for example in examples})
    random.Random(seed).shuffle(groups)
    test_size = max(1, len(groups) // 10)
    parts = {
        "test": set(groups[:test_size]),
        "validation": set(groups[test_size : 2 * test_size]),
    }

    def part_of(example):
        for name, members in parts.items():
            if example.group in members:
                return name
        return "train"

    split = collections.defaultdict(list)
    for example in examples:
        split[part_of(example)].append(example)
    return split["train"], split["validation"], split["test"]


def _image_bytes(example) -> bytes:
    if isinstance(example.image, bytes):
        return example.image
    return Path(example.image).read_bytes()


def _images(part, config: Config) -> tf.data.Dataset:
    """Decoded images of one split, one per picture, in order."""
    encoded = [_image_bytes(example) for example in part]
    return (
        tf.data.Dataset.from_tensor_slices(encoded)
        .map(
            lambda data: decode_image(data, config.image_size),
            num_parallel_calls=tf.data.AUTOTUNE,
        )
        .cache()
    )


def _pictures(part):
    """The distinct pictures of a split, in order, with all their captions."""
    order, references = [], collections.defaultdict(list)
    for example in part:
        key = example.group if isinstance(example.image, bytes) else example.image
        if key not in references:
            order.append(example)
        references[key].append(example.caption)
    keys = [
        example.group if isinstance(example.image, bytes) else example.image
        for example in order
    ]
    return order, [references[key] for key in keys]


def load_data(config: Config) -> Data:
    examples = caption_sources.load_examples(config.data)
    excluded = tuple(
        folder.strip().strip("/") + "/"
        for folder in config.exclude.split(",")
        if folder
    )
    if excluded:
        examples = [item for item in examples if not item.group.startswith(excluded)]
    if len(examples) < 3:
        raise UserError(
            f"exclude={config.exclude!r} leaves {len(examples)} captioned images"
        )
    train, validation, test = _split(examples, config.seed)
    vocabulary = word_vocabulary(
        [example.caption for example in train], config.max_vocabulary, [START, END]
    )
    table = export_lib.string_to_id_table(vocabulary.symbols)

    def captions(texts):
        ids = tf.cast(table.lookup(tokenize(texts)[:, : config.max_tokens]), tf.int32)
        rows = ids.nrows()
        caption_in = tf.concat([tf.fill([rows, 1], START_ID), ids], axis=1)
        caption_out = tf.concat([ids, tf.fill([rows, 1], END_ID)], axis=1)
        return caption_in.to_tensor(PAD_ID), caption_out.to_tensor(PAD_ID)

    def dataset(part, shuffle: bool):
        images = _images(part, config)
        texts = tf.data.Dataset.from_tensor_slices([item.caption for item in part])
        pairs = tf.data.Dataset.zip((images, texts)).cache()
        if shuffle:
            pairs = pairs.shuffle(len(part), seed=config.seed)

        def to_model(image, text):
            caption_in, caption_out = captions(text)
            return {"image": image, "caption_in": caption_in}, caption_out

        return (
            pairs.batch(config.batch_size)
            .map(to_model, num_parallel_calls=tf.data.AUTOTUNE)
            .prefetch(tf.data.AUTOTUNE)
        )

    train_pictures, _ = _pictures(train)
    test_pictures, test_references = _pictures(test)
    return Data(
        train=dataset(train, True),
        validation=dataset(validation or test, False),
        test=dataset(test, False),
        vocabulary=vocabulary,
        train_images=_images(train_pictures, config),
        test_images=_images(test_pictures, config),
        train_captions=[item.caption for item in train_pictures],
        test_references=test_references,
        train_size=len(train),
    )


def _small_encoder(image, config: Config):
    x = keras.layers.Conv2D(
        config.filters, 3, strides=2, padding="same", name="stem_conv"
    )(image)
    x = residual_block(x, config.filters, name="block1")
    x = residual_block(x, 2 * config.filters, strides=2, name="block2")
    x = residual_block(x, 4 * config.filters, strides=2, name="block3")
    x = keras.layers.BatchNormalization(name="top_bn")(x)
    return keras.layers.ReLU(name="top_relu")(x)


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
        _small_encoder(seen, config)
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


def build_model(config: Config, data: Data) -> Model:
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
    return _pieces(config, model)


def _pieces(config: Config, model: keras.Model) -> Model:
    """The encoder, the decoder's start and one step, from `model`'s layers."""
    encoder = model.get_layer("encoder")
    decoder = model.get_layer("decoder")
    embedded = keras.Input(shape=(config.embedding_dim,), name="image_embedding")
    _, *states = decoder(_with_image(config, embedded[:, None, :], embedded))
    start = keras.Model(embedded, states, name="start")
    image_input = keras.Input(shape=(config.embedding_dim,), name="step_image")

    token = keras.Input(shape=(1,), dtype="int32", name="token")
    features = keras.Input(shape=(None, encoder.output[0].shape[-1]), name="features")
    state_inputs = [
        keras.Input(shape=(width,), name=f"state_{index}")
        for index, width in enumerate(decoder.state_size)
    ]
    words = _with_image(config, model.get_layer("word_embedding")(token), image_input)
    sequence, *new_states = decoder(words, initial_state=state_inputs)
    hidden, weights = _decoder_output(config, model.get_layer, sequence, features)
    if weights is None:
        weights = keras.ops.zeros_like(features[:, None, :, 0])
    logits = model.get_layer("logits")(hidden)
    image_inputs = [image_input] if config.image_every_step else []
    step = keras.Model(
        [token, features, *image_inputs, *state_inputs],
        [logits, weights, *new_states],
        name="step",
    )
    return Model(model=model, encoder=encoder, start=start, step=step)


def from_saved(config: Config, model: keras.Model) -> Model:
    return _pieces(config, model)


train = training.fit_task


class _Captioner(tf.Module):
    """Images in, captions out: shared by evaluate, show and the export."""

    def __init__(self, config: Config, pieces: Model, vocabulary: Vocabulary):
        super().__init__()
        self.config = config
        self.pieces = pieces
        self.symbols = vocabulary.symbols
        self.table = export_lib.string_to_id_table(self.symbols)

    def _read(self, images):
        """The encoder's features and embedding, and the decoder's states
        after reading the image."""
        # training=False: random augmentation layers default to training.
        features, embedded, _ = self.pieces.encoder(images, training=False)
        states = self.pieces.start(embedded)
        # A one-state cell (gru, rnn) gives a tensor, not a list.
        states = list(states) if isinstance(states, (list, tuple)) else [states]
        return features, embedded, states

    def _start(self, images):
        features, embedded, states = self._read(images)
        state = {"rnn": list(states), "features": features, "image": embedded}

        def step_fn(tokens, state):
            logits, _, *rnn = self.pieces.step(
                [tokens[:, None], *self._context(state), *state["rnn"]]
            )
            return logits[:, 0], {**state, "rnn": rnn}

        start = tf.fill([tf.shape(images)[0]], START_ID)
        return step_fn, start, state

    def _context(self, state):
        """What every step reads besides the token and the recurrent state."""
        if self.config.image_every_step:
            return [state["features"], state["image"]]
        return [state["features"]]

    def greedy(self, images):
        step_fn, start, state = self._start(images)
        tokens, lengths = decoding.greedy_decode(
            step_fn, start, state, self.config.max_tokens + 1, END_ID
        )
        return ids_to_text(self.symbols, tokens, lengths)

    def beam(self, images):
        step_fn, start, state = self._start(images)
        tokens, _, lengths = decoding.beam_search(
            step_fn,
            start,
            state,
            self.config.beam_width,
            self.config.max_tokens + 1,
            END_ID,
            self.config.length_penalty,
        )
        return ids_to_text(self.symbols, tokens[:, 0], lengths[:, 0])

    def attention(self, images, captions):
        """Attention weights `[B, T, h * w]` while the decoder reads `captions`."""
        words = tokenize(captions)[:, : self.config.max_tokens]
        ids = tf.cast(self.table.lookup(words), tf.int32).to_tensor(PAD_ID)
        inputs = tf.concat([tf.fill([tf.shape(ids)[0], 1], START_ID), ids], axis=1)
        features, embedded, states = self._read(images)
        context = self._context({"features": features, "image": embedded})

        def step_fn(tokens, states):
            _, step_weights, *states = self.pieces.step(
                [tokens[:, None], *context, *states]
            )
            return step_weights[:, 0], states

        return decoding.teacher_forced(step_fn, inputs, states)


def _bleu(hypotheses: list[str], references: list[list[str]], order: int) -> float:
    from sacrebleu.metrics import BLEU

    width = max(len(captions) for captions in references)
    # sacreBLEU takes one stream per reference; pictures with fewer captions
    # repeat their first, which changes no clipped n-gram count.
    streams = [
        [
            captions[index] if index < len(captions) else captions[0]
            for captions in references
        ]
        for index in range(width)
    ]
    bleu = BLEU(max_ngram_order=order, lowercase=True, effective_order=order < 4)
    return float(bleu.corpus_score(hypotheses, streams).score)


def _bleu_scores(hypotheses, references, suffix: str = "") -> dict:
    return {
        f"bleu{order}{suffix}": _bleu(hypotheses, references, order)
        for order in (1, 2, 3, 4)
    }


def _caption_all(function, images: tf.data.Dataset, batch_size: int = 64) -> list[str]:
    compiled = tf.function(function)
    return [
        text.decode()
        for batch in images.batch(batch_size)
        for text in compiled(batch).numpy()
    ]


def _pooled(pieces: Model, images: tf.data.Dataset) -> np.ndarray:
    rows = [
        pieces.encoder(batch, training=False)[2].numpy() for batch in images.batch(128)
    ]
    features = np.concatenate(rows)
    return features / np.maximum(np.linalg.norm(features, axis=1, keepdims=True), 1e-8)


def evaluate(config: Config, pieces: Model, data: Data, output_dir=None) -> dict:
    captioner = _Captioner(config, pieces, data.vocabulary)
    references = data.test_references
    loss = float(pieces.model.evaluate(data.test, verbose=0))
    beam = _caption_all(captioner.beam, data.test_images)
    greedy = _caption_all(captioner.greedy, data.test_images)
    counts = collections.Counter(data.train_captions)
    most_frequent = min(counts, key=lambda caption: (-counts[caption], caption))
    nearest = (
        _pooled(pieces, data.test_images) @ _pooled(pieces, data.train_images).T
    ).argmax(axis=1)
    neighbours = [data.train_captions[index] for index in nearest]
    results = {"test_loss": loss}
    results.update(_bleu_scores(beam, references))
    results["bleu4_greedy"] = _bleu(greedy, references, 4)
    results["bleu4_most_frequent"] = _bleu(
        [most_frequent] * len(references), references, 4
    )
    results["bleu4_nearest_neighbour"] = _bleu(neighbours, references, 4)
    results["bleu1_most_frequent"] = _bleu(
        [most_frequent] * len(references), references, 1
    )
    results["bleu1_nearest_neighbour"] = _bleu(neighbours, references, 1)
    results["test_images"] = len(references)
    return results


def show(config: Config, pieces: Model, data: Data) -> None:
    captioner = _Captioner(config, pieces, data.vocabulary)
    outputs = _caption_all(captioner.beam, data.test_images.take(5))
    for output, references in zip(outputs, data.test_references):
        print(f"{references[0]}\n  caption: {output}")


def export(config: Config, pieces: Model, data: Data, path: Path) -> Path:
    captioner = _Captioner(config, pieces, data.vocabulary)
    archive = export_lib.new_archive()
    for piece in (pieces.encoder, pieces.start, pieces.step, captioner.table):
        archive.track(piece)
    size = config.image_size

    def images_of(encoded):
        return tf.map_fn(
            lambda item: decode_image(item, size),
            encoded,
            fn_output_signature=tf.TensorSpec([size, size, 3], tf.float32),
        )

    def caption(image):
        captions = captioner.beam(images_of(image))
        # Bytes that are neither PNG nor JPEG get an empty caption.
        return {"caption": tf.where(is_image(image), captions, "")}

    def attention(image, caption):
        return {"weights": captioner.attention(images_of(image), caption)}

    archive.add_endpoint(
        "caption",
        caption,
        input_signature=[tf.TensorSpec([None], tf.string, name="image")],
    )
    if config.attention != "none":
        archive.add_endpoint(
            "attention",
            attention,
            input_signature=[
                tf.TensorSpec([None], tf.string, name="image"),
                tf.TensorSpec([None], tf.string, name="caption"),
            ],
        )
    return export_lib.write_atomically(archive, path)


def _read_image(path_text: str) -> bytes:
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


def predict(saved_model: Path, inputs: list[str], options: dict) -> None:
    """Prints a caption for every image file; `--plot` draws the first."""
    if not inputs:
        raise UserError("captioning predict needs at least one PNG or JPEG file")
    encoded = [_read_image(path) for path in inputs]
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
        image = decode_image(tf.constant(encoded[0]), 256).numpy()
        words = [
            word.decode() for word in tokenize(tf.constant(outputs[:1])).to_list()[0]
        ]
        plots.captioned_image(
            image, outputs[0].decode(), Path(options["plot"]), weights, words
        )
        print(f"Wrote {options['plot']}")
