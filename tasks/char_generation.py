"""char_generation: a character-level language model sampled with temperature.

Karpathy's char-RNN: an Embedding, a stack of recurrent layers and a softmax
over the next character, trained by maximum likelihood on windows of a
corpus, and sampled one character at a time with temperature and top-k in an
in-graph loop. The validation set is the last 10% of the text; the metric is
the validation loss in nats (and bits) per character.

Reference:
- [Karpathy, 2015, The Unreasonable Effectiveness of Recurrent Neural
  Networks](https://karpathy.github.io/2015/05/21/rnn-effectiveness/)
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
from keras_seq.config import CELLS, RESIDUAL_KINDS, TrainingConfig, option
from keras_seq.data import corpora, pipelines
from keras_seq.data.vocabulary import (
    FIRST_SYMBOL_ID,
    OOV_ID,
    PAD_ID,
    Vocabulary,
    id_to_string,
    lookup_table,
)
from keras_seq.errors import UserError
from keras_seq.layers import RNNStack
from keras_seq.metrics import bits_per_character

DESCRIPTION = "character-level language model sampled with temperature (char-RNN)"
DATA_SOURCES = corpora.corpus_names()
PRIMARY_METRIC = "val_nats_per_char"
PREDICT_OPTIONS = ("length", "temperature")
METRIC_LABELS = {"loss": "loss (nats per character)"}

# Every prompt is read after a newline, so that an empty prompt starts a new
# line and a prompt such as "ROMEO:" starts where speaker names stand.
PROMPT_PREFIX = "\n"


@dataclasses.dataclass(frozen=True)
class Config(TrainingConfig):
    data: str = option("shakespeare", help="corpus: " + ", ".join(DATA_SOURCES))
    max_characters: int = option(
        0, minimum=0, help="use only the first N characters of the corpus; 0: all"
    )
    cell: str = option("gru", choices=CELLS, help="recurrent cell")
    units: int = option(256, minimum=1, help="units per recurrent layer")
    num_layers: int = option(1, minimum=1, help="stacked recurrent layers")
    residual: str = option("none", choices=RESIDUAL_KINDS, help="shortcuts")
    dropout: float = config_lib.dropout(0.0)
    embedding_dim: int = option(64, minimum=1, help="character embedding width")
    sequence_length: int = option(100, minimum=2, help="training window length")
    epochs: int = config_lib.epochs(10)
    steps_per_epoch: int = option(600, minimum=1, help="batches per epoch")
    batch_size: int = config_lib.batch_size(64, "windows")
    learning_rate: float = config_lib.learning_rate(4e-3)
    lr_schedule: str = config_lib.lr_schedule("cosine")
    clipnorm: float = config_lib.clipnorm(1.0)
    prompt: str = option("", help="prompt of the samples printed after training")
    sample_length: int = option(600, minimum=1, help="characters per sample")
    num_samples: int = option(2, minimum=1, help="samples printed after training")
    temperature: float = option(0.8, minimum=0.0, help="sampling temperature")
    top_k: int = option(0, minimum=0, help="sample among the k likeliest; 0: all")


DEFAULT = Config()
PRESETS = {
    "tiny": config_lib.tiny(
        DEFAULT,
        max_characters=20_000,
        units=16,
        sequence_length=16,
        steps_per_epoch=3,
        sample_length=40,
        num_samples=1,
    ),
    "default": DEFAULT,
    # Karpathy's char-RNN on Shakespeare: 3 layers of 512 LSTM units,
    # dropout 0.5, sequences of 100, batches of 50, learning rate 2e-3.
    "paper": dataclasses.replace(
        DEFAULT,
        cell="lstm",
        units=512,
        num_layers=3,
        dropout=0.5,
        batch_size=50,
        learning_rate=2e-3,
        epochs=50,
        steps_per_epoch=2000,
    ),
}


@dataclasses.dataclass
class Data:
    """The splits of a corpus and its character vocabulary."""

    train: tf.data.Dataset
    validation: tf.data.Dataset
    test: tf.data.Dataset | None
    vocabulary: Vocabulary
    train_ids: np.ndarray
    validation_ids: np.ndarray


def split_text(text: str) -> tuple[str, str]:
    """The first 90% of `text` for training and the last 10% for validation."""
    boundary = int(len(text) * 0.9)
    return text[:boundary], text[boundary:]


def load_data(config: Config) -> Data:
    text = corpora.load_corpus(config.data)
    if config.max_characters:
        text = text[: config.max_characters]
    train_text, validation_text = split_text(text)
    if len(validation_text) < config.sequence_length + 1:
        raise UserError(
            f"Data source {config.data!r} is too short: {len(text)} characters, "
            f"at least {10 * (config.sequence_length + 1)} needed for "
            f"sequence_length={config.sequence_length}"
        )
    vocabulary = Vocabulary.from_characters(train_text)
    train_ids = vocabulary.encode_characters(train_text)
    validation_ids = vocabulary.encode_characters(validation_text)
    return Data(
        train=pipelines.random_windows(
            train_ids, config.sequence_length, config.batch_size, config.seed
        ),
        validation=pipelines.consecutive_windows(
            validation_ids, config.sequence_length, config.batch_size
        ),
        test=None,
        vocabulary=vocabulary,
        train_ids=train_ids,
        validation_ids=validation_ids,
    )


def from_saved(config: Config, model: keras.Model) -> inference.Pieces:
    """The inference pieces of a model: the encoder reads a batch of padded
    prompts and returns the logits at every step and the final states; the
    step reads one id per row and the states."""
    embedding = model.get_layer("embedding")
    stack = model.get_layer("rnn_stack")
    head = model.get_layer("logits")

    # Prompts of a batch are padded; the mask keeps the padding out of the
    # states. (Training windows are never padded, so the training model
    # skips the masking work.)
    tokens = keras.Input(shape=(None,), dtype="int32", name="tokens")
    sequence, *states = stack(
        embedding(tokens), mask=keras.ops.not_equal(tokens, PAD_ID)
    )
    encoder = keras.Model(tokens, [head(sequence), *states], name="prime")

    token = inference.token_input()
    state_inputs = inference.state_inputs(stack.state_size)
    sequence, *new_states = stack(embedding(token), initial_state=state_inputs)
    step = inference.step_model(token, [], state_inputs, head(sequence), new_states)
    return inference.Pieces(model=model, encoder=encoder, step=step)


def compile_model(model: keras.Model, config: Config) -> None:
    model.compile(
        optimizer=training.make_optimizer(config, config.steps_per_epoch),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=[bits_per_character],
    )


def build_model(config: Config, data: Data) -> inference.Pieces:
    tokens = keras.Input(shape=(None,), dtype="int32", name="tokens")
    x = keras.layers.Embedding(
        data.vocabulary.size, config.embedding_dim, name="embedding"
    )(tokens)
    sequence, *_ = RNNStack(
        cell=config.cell,
        units=config.units,
        num_layers=config.num_layers,
        residual=config.residual,
        dropout=config.dropout,
        return_state=True,
        name="rnn_stack",
    )(x)
    logits = keras.layers.Dense(data.vocabulary.size, name="logits")(sequence)
    model = keras.Model(tokens, logits, name="char_rnn")
    compile_model(model, config)
    return from_saved(config, model)


def train(
    config: Config,
    pieces: inference.Pieces,
    data: Data,
    output_dir: Path,
    callbacks: list[keras.callbacks.Callback] = (),
) -> keras.callbacks.History:
    return training.fit_task(
        config,
        pieces,
        data,
        output_dir,
        callbacks,
        steps_per_epoch=config.steps_per_epoch,
    )


def evaluate(
    config: Config, pieces: inference.Pieces, data: Data, output_dir: Path | None = None
) -> dict[str, float]:
    results = pieces.model.evaluate(data.validation, verbose=0, return_dict=True)
    nats = float(results["loss"])
    return {"val_nats_per_char": nats, "val_bits_per_char": nats / math.log(2.0)}


class Generator(inference.Decoder):
    """Prompts in, continuations out, and the likelihood of texts: `show` and
    the export."""

    def __init__(self, pieces: inference.Pieces, symbols: list[str], top_k: int):
        # Sampling draws as many characters as asked: no end token.
        super().__init__(pieces, end_id=-1)
        self.symbols = symbols
        self.top_k = top_k
        self.table = lookup_table(symbols)
        self.resources = [self.table]

    def _ids(self, text: tf.Tensor) -> tf.RaggedTensor:
        characters = tf.strings.unicode_split(text, "UTF-8", errors="replace")
        return tf.cast(self.table.lookup(characters), tf.int32)

    def start(self, prompt_and_length) -> inference.Start:
        prompt, length = prompt_and_length
        ids = self._ids(tf.strings.join([PROMPT_PREFIX, prompt]))
        lengths = tf.cast(ids.row_lengths(), tf.int32)
        padded = ids.to_tensor(default_value=PAD_ID)
        last = tf.gather(padded, lengths - 1, batch_dims=1)
        # The prompt without its last character primes the states; the last
        # character is the first input of the sampling loop.
        without_last = tf.where(
            tf.range(tf.shape(padded)[1])[tf.newaxis, :] < (lengths - 1)[:, tf.newaxis],
            padded,
            PAD_ID,
        )
        _, *states = self.pieces.encoder(without_last)

        # Padding and the OOV id stand for no character: never draw them.
        vocabulary_size = len(self.symbols) + FIRST_SYMBOL_ID
        forbidden = tf.one_hot(PAD_ID, vocabulary_size) + tf.one_hot(
            OOV_ID, vocabulary_size
        )

        def step_fn(tokens, state):
            logits, _, state = self.step(tokens, [], state)
            return logits - 1e9 * forbidden, state

        return inference.Start(step_fn, last, states, length)

    def generate(self, prompt, length, temperature, seed=None):
        drawn = self.sample(
            self.start((prompt, length)), temperature, self.top_k, seed=seed
        )
        characters = id_to_string(self.symbols, drawn)
        return {"text": tf.strings.reduce_join(characters, axis=-1)}

    def log_likelihood(self, text):
        padded = self._ids(text).to_tensor(default_value=PAD_ID)
        inputs, targets = padded[:, :-1], padded[:, 1:]
        logits, *_ = self.pieces.encoder(inputs)
        nats = tf.nn.sparse_softmax_cross_entropy_with_logits(targets, logits)
        valid = tf.cast(targets != PAD_ID, nats.dtype)
        # Fewer than two characters leave nothing to predict: 0 / 0 is NaN.
        total = tf.reduce_sum(nats * valid, axis=-1)
        return {"nats_per_char": total / tf.reduce_sum(valid, axis=-1)}


def show(config: Config, pieces: inference.Pieces, data: Data) -> None:
    generator = Generator(pieces, data.vocabulary.symbols, config.top_k)
    prompts = tf.constant([config.prompt] * config.num_samples)
    result = tf.function(generator.generate)(
        prompts,
        tf.constant(config.sample_length),
        tf.constant(config.temperature),
        seed=config.seed,
    )
    for index, text in enumerate(result["text"].numpy()):
        print(f"--- sample {index + 1} (temperature {config.temperature}) ---")
        print(config.prompt + text.decode("utf-8", errors="replace"))
    print("---")


def endpoints(
    config: Config, pieces: inference.Pieces, data: Data
) -> export_lib.Endpoints:
    generator = Generator(pieces, data.vocabulary.symbols, config.top_k)
    return export_lib.Endpoints(
        functions={
            "generate": (
                generator.generate,
                [
                    tf.TensorSpec([None], tf.string, name="prompt"),
                    tf.TensorSpec([], tf.int32, name="length"),
                    tf.TensorSpec([], tf.float32, name="temperature"),
                ],
            ),
            "log_likelihood": (
                generator.log_likelihood,
                [tf.TensorSpec([None], tf.string, name="text")],
            ),
        },
        track=generator.trackables(),
    )


def examples(config: Config, data: Data, count: int) -> dict:
    """Endpoint inputs: prompts and texts from the validation text; greedy
    continuations (temperature 0), so that two runs give the same text."""
    text = data.vocabulary.decode(data.validation_ids[: 40 * count])
    pieces = [text[40 * index : 40 * index + 40] for index in range(count)]
    return {
        "generate": {
            "prompt": np.array([piece[:10] for piece in pieces], object),
            "length": np.array(20, np.int32),
            "temperature": np.array(0.0, np.float32),
        },
        "log_likelihood": {"text": np.array(pieces, object)},
    }


def predict(saved_model: Path, inputs: list[str], options: dict[str, str]) -> None:
    """Prints a continuation of every prompt in `inputs`."""
    length = int(options.get("length", 300))
    temperature = float(options.get("temperature", 0.8))
    loaded = tf.saved_model.load(str(saved_model))
    result = loaded.generate(
        prompt=tf.constant(inputs or [""]),
        length=tf.constant(length),
        temperature=tf.constant(temperature),
    )
    for prompt, text in zip(inputs or [""], result["text"].numpy()):
        print(prompt + text.decode("utf-8", errors="replace"))
        print("---")
