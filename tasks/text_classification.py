"""text_classification: sequence classification of raw text.

Raw strings go into the model: a TextVectorization layer (its vocabulary
inside the model), an Embedding that masks padding, a bidirectional stack of
recurrent layers, pooling by the final states or by attention over the
steps (whose weights say which words counted), and a softmax over the
labels. With `--set pretrain=task` (or a corpus name) the embedding and the
encoder are first trained as a forward and backward language model, as in
ELMo, then fine-tuned on the labels.

References:
- [Yang et al., 2016](https://aclanthology.org/N16-1174/) (attention pooling)
- [Dai and Le, 2015](https://arxiv.org/abs/1511.01432) (language-model
  pretraining for sequence classifiers)
"""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf

from keras_seq import config as config_lib
from keras_seq import export as export_lib
from keras_seq import inference, plots, training
from keras_seq import metrics as metrics_lib
from keras_seq.config import CELLS, RESIDUAL_KINDS, TrainingConfig, option
from keras_seq.data import corpora, labelled, pipelines
from keras_seq.data.vocabulary import OOV_ID, PAD_ID
from keras_seq.errors import UserError
from keras_seq.layers import AttentionPooling, RNNStack

DESCRIPTION = "sequence classification of raw text (sentiment, topics)"
DATA_SOURCES = labelled.source_names()
PRIMARY_METRIC = "accuracy"
PRETRAIN_SOURCES = ("none", "task", *corpora.CORPORA)
METRIC_LABELS = {"loss": "cross-entropy (nats)"}
AUTOTUNE = tf.data.AUTOTUNE


@dataclasses.dataclass(frozen=True)
class Config(TrainingConfig):
    data: str = option("movie_sentences", help="data: " + ", ".join(DATA_SOURCES))
    limit: int = option(
        0, minimum=0, help="use at most this many texts, drawn at random; 0: all"
    )
    max_tokens: int = option(20_000, minimum=3, help="vocabulary size (words)")
    max_length: int = option(64, minimum=1, help="words read per text")
    embedding_dim: int = option(128, minimum=1, help="word embedding width")
    cell: str = option("gru", choices=CELLS, help="recurrent cell")
    units: int = option(128, minimum=1, help="units per direction and layer")
    num_layers: int = option(1, minimum=1, help="stacked recurrent layers")
    bidirectional: bool = option(True, help="read both directions")
    residual: str = option("none", choices=RESIDUAL_KINDS, help="shortcuts")
    dropout: float = config_lib.dropout(0.5)
    pooling: str = option(
        "attention", choices=("last", "attention"), help="final states or attention"
    )
    pretrain: str = option(
        "none",
        choices=PRETRAIN_SOURCES,
        help="language-model pretraining text: none, task (the task's training "
        "texts) or a char_generation corpus",
    )
    lexicon: str = option(
        "vader",
        choices=("none", "vader"),
        help="add each word's valence rated by people (VADER's lexicon) as a "
        "fixed input feature",
    )
    pretrain_epochs: int = option(3, minimum=1, help="language-model epochs")
    pretrain_vocabulary: int = option(
        8000, minimum=3, help="words the language model predicts (others: OOV)"
    )
    epochs: int = config_lib.epochs(6)
    batch_size: int = config_lib.batch_size(32, "texts")
    learning_rate: float = config_lib.learning_rate(1e-3)
    clipnorm: float = config_lib.clipnorm(1.0)


DEFAULT = Config()
PRESETS = {
    "tiny": config_lib.tiny(
        DEFAULT,
        limit=400,
        max_tokens=200,
        max_length=12,
        units=4,
        epochs=1,
        pretrain_epochs=1,
        pretrain_vocabulary=50,
        lexicon="none",
    ),
    "default": DEFAULT,
    # From-scratch words only (no lexicon), with language-model pretraining:
    # the setting comparable to Kim (2014)'s CNN-rand, 76.1% on MR.
    "paper": dataclasses.replace(
        DEFAULT, lexicon="none", pretrain="task", pretrain_epochs=6, epochs=10
    ),
}


@dataclasses.dataclass
class Data:
    """Splits as tf.data (raw strings, label ids) and what the model needs."""

    train: tf.data.Dataset
    validation: tf.data.Dataset
    test: tf.data.Dataset
    class_names: list[str]
    vocabulary: list[str]
    train_texts: list[str]
    test_texts: list[str]
    test_labels: np.ndarray
    valence: np.ndarray | None = None


def _splits(data: labelled.LabelledText, seed: int) -> dict[str, list[int]]:
    if data.splits is None:
        return labelled.split_indices(len(data.texts), seed)
    groups: dict[str, list[int]] = {"train": [], "validation": [], "test": []}
    for index, split in enumerate(data.splits):
        groups[split].append(index)
    if not groups["validation"]:
        # A source with train and test only: 10% of train validates.
        carved = labelled.split_indices(len(groups["train"]), seed, (0.9, 0.1, 0.0))
        train = groups["train"]
        groups["validation"] = [train[i] for i in carved["validation"]]
        groups["train"] = [train[i] for i in carved["train"]]
    return groups


def _vectorizer(config: Config, vocabulary: list[str] | None = None):
    return keras.layers.TextVectorization(
        max_tokens=config.max_tokens,
        standardize="lower_and_strip_punctuation",
        output_sequence_length=config.max_length,
        vocabulary=vocabulary,
        name="vectorizer",
    )


def _dataset(texts, label_ids, batch_size, shuffle_seed=None) -> tf.data.Dataset:
    return pipelines.array_batches(
        (tf.constant(texts, tf.string), tf.constant(label_ids, tf.int32)),
        batch_size,
        shuffle_seed,
    )


def load_data(config: Config) -> Data:
    source = labelled.load_labelled(config.data)
    if config.limit:
        source = source.sample(config.limit, config.seed)
    groups = _splits(source, config.seed)
    if not groups["train"] or not groups["test"]:
        raise UserError(
            f"Data source {config.data!r} is too small to split: "
            f"{len(source.texts)} texts"
        )
    class_names = sorted({source.labels[i] for i in groups["train"]})
    class_ids = {name: index for index, name in enumerate(class_names)}

    def part(split):
        # A label seen only outside the training split cannot be learned.
        kept = [i for i in groups[split] if source.labels[i] in class_ids]
        texts = [source.texts[i] for i in kept]
        return texts, np.array([class_ids[source.labels[i]] for i in kept], np.int32)

    train_texts, train_labels = part("train")
    validation_texts, validation_labels = part("validation")
    test_texts, test_labels = part("test")
    adapter = _vectorizer(config)
    adapter.adapt(tf.data.Dataset.from_tensor_slices(train_texts).batch(256))
    vocabulary = adapter.get_vocabulary()
    valence = None
    if config.lexicon == "vader":
        lexicon = labelled.vader_lexicon()
        # Valence runs from -4 to 4; scaled to [-1, 1] like the embeddings.
        valence = np.array([lexicon.get(word, 0.0) / 4 for word in vocabulary])
    return Data(
        train=_dataset(train_texts, train_labels, config.batch_size, config.seed),
        validation=_dataset(validation_texts, validation_labels, config.batch_size),
        test=_dataset(test_texts, test_labels, config.batch_size),
        class_names=class_names,
        vocabulary=vocabulary,
        train_texts=train_texts,
        test_texts=test_texts,
        test_labels=test_labels,
        valence=valence,
    )


def _explain_model(model: keras.Model, config: Config) -> keras.Model:
    """Probabilities, per-token weights and token ids, from the same graph."""
    ids = model.get_layer("vectorizer").output
    if config.pooling == "attention":
        weights = model.get_layer("attention_pooling").output[1]
    else:
        weights = keras.ops.cast(keras.ops.not_equal(ids, PAD_ID), "float32")
    return keras.Model(model.inputs, [model.outputs[0], weights, ids], name="explain")


def _last_states(states, config: Config):
    # The top layer's final hidden state (forward and backward concatenated).
    return states[-2] if config.cell == "lstm" else states[-1]


def build_model(config: Config, data: Data) -> inference.Pieces:
    text = keras.Input(shape=(), dtype="string", name="text")
    ids = _vectorizer(config, data.vocabulary)(text)
    embedded = keras.layers.Embedding(
        len(data.vocabulary), config.embedding_dim, mask_zero=True, name="embedding"
    )(ids)
    if data.valence is not None:
        lexicon = keras.layers.Embedding(
            len(data.vocabulary), 1, mask_zero=True, trainable=False, name="lexicon"
        )
        valence = lexicon(ids)
        lexicon.set_weights([data.valence[:, None].astype("float32")])
        embedded = keras.layers.Concatenate(name="with_lexicon")([embedded, valence])
    sequence, *states = RNNStack(
        cell=config.cell,
        units=config.units,
        num_layers=config.num_layers,
        bidirectional=config.bidirectional,
        residual=config.residual,
        dropout=config.dropout,
        return_state=True,
        name="encoder",
    )(embedded)
    if config.pooling == "attention":
        pooled, _ = AttentionPooling(units=config.units, name="attention_pooling")(
            sequence, return_attention_scores=True
        )
    else:
        pooled = _last_states(states, config)
    pooled = keras.layers.Dropout(config.dropout, name="pooled_dropout")(pooled)
    probabilities = keras.layers.Dense(
        len(data.class_names), activation="softmax", name="probabilities"
    )(pooled)
    model = keras.Model(text, probabilities, name="text_classifier")
    steps = training.steps_for(len(data.train_texts), config.batch_size)
    model.compile(
        optimizer=training.make_optimizer(config, steps),
        loss=keras.losses.SparseCategoricalCrossentropy(),
        metrics=["accuracy"],
    )
    return from_saved(config, model)


def from_saved(config: Config, model: keras.Model) -> inference.Pieces:
    """The classifier and, built from its layers, the model that explains it
    (probabilities, per-token weights and token ids)."""
    return inference.Pieces(
        model=model, extras={"explain": _explain_model(model, config)}
    )


def _pretraining_texts(config: Config, data: Data) -> list[str]:
    if config.pretrain == "task":
        return data.train_texts
    text = corpora.load_corpus(config.pretrain)
    # Lines of a corpus, joined into chunks of about max_length words.
    words = re.findall(r"\S+", text)
    return [
        " ".join(words[start : start + config.max_length])
        for start in range(0, len(words), config.max_length)
    ]


def language_model(config: Config, pieces: inference.Pieces) -> keras.Model:
    """Forward and backward next-word prediction on the shared encoder."""
    if config.bidirectional and config.num_layers > 1:
        raise UserError(
            "Language-model pretraining of a bidirectional encoder needs "
            f"num_layers=1 (upper layers would see the words they predict). "
            f"Received: num_layers={config.num_layers}"
        )
    ids = keras.Input(shape=(config.max_length,), dtype="int32", name="ids")
    classifier = pieces.model
    embedded = classifier.get_layer("embedding")(ids)
    if config.lexicon != "none":
        embedded = classifier.get_layer("with_lexicon")(
            [embedded, classifier.get_layer("lexicon")(ids)]
        )
    sequence, *_ = classifier.get_layer("encoder")(embedded)
    vocabulary = config.pretrain_vocabulary
    if config.bidirectional:
        forward = keras.layers.Dense(vocabulary, name="next_word")(
            sequence[..., : config.units]
        )
        backward = keras.layers.Dense(vocabulary, name="previous_word")(
            sequence[..., config.units :]
        )
        outputs = [forward, backward]
    else:
        outputs = [keras.layers.Dense(vocabulary, name="next_word")(sequence)]
    model = keras.Model(ids, outputs, name="language_model")
    model.compile(
        optimizer=keras.optimizers.Adam(config.learning_rate, global_clipnorm=1.0),
        loss=keras.losses.SparseCategoricalCrossentropy(
            from_logits=True, ignore_class=PAD_ID
        ),
    )
    return model


def _language_model_dataset(config: Config, pieces: inference.Pieces, texts: list[str]):
    vectorizer = pieces.model.get_layer("vectorizer")

    def targets(ids):
        ids = tf.cast(ids, tf.int32)
        capped = tf.where(ids >= config.pretrain_vocabulary, OOV_ID, ids)
        padding = tf.zeros_like(capped[:, :1])
        next_word = tf.concat([capped[:, 1:], padding], axis=1)
        previous_word = tf.concat([padding, capped[:, :-1]], axis=1)
        if config.bidirectional:
            return ids, (next_word, previous_word)
        return ids, next_word

    return (
        tf.data.Dataset.from_tensor_slices(tf.constant(texts, tf.string))
        .shuffle(len(texts), seed=config.seed)
        .batch(config.batch_size)
        .map(vectorizer, num_parallel_calls=AUTOTUNE)
        .map(targets, num_parallel_calls=AUTOTUNE)
        .prefetch(AUTOTUNE)
    )


def pretrain(config: Config, pieces: inference.Pieces, data: Data, output_dir: Path):
    """Trains the embedding and encoder as a language model (resumable)."""
    texts = _pretraining_texts(config, data)
    model = language_model(config, pieces)
    print(f"Pretraining the encoder as a language model on {len(texts):,} texts")
    pretrain_config = dataclasses.replace(config, epochs=config.pretrain_epochs)
    return training.fit(
        model,
        _language_model_dataset(config, pieces, texts),
        None,
        pretrain_config,
        Path(output_dir) / "pretraining",
    )


def train(config, pieces: inference.Pieces, data: Data, output_dir: Path, callbacks=()):
    if config.pretrain != "none":
        pretrain(config, pieces, data, output_dir)
    best = training.keep_best_epoch("val_accuracy")
    return training.fit_task(config, pieces, data, output_dir, [best, *callbacks])


def evaluate(
    config: Config, pieces: inference.Pieces, data: Data, output_dir=None
) -> dict:
    probabilities = pieces.model.predict(data.test, verbose=0)
    predicted = probabilities.argmax(axis=-1)
    matrix = metrics_lib.confusion_matrix(
        data.test_labels, predicted, len(data.class_names)
    )
    results = {
        "accuracy": float(np.mean(predicted == data.test_labels)),
        "macro_f1": metrics_lib.macro_f1(matrix),
        "test_examples": int(len(data.test_labels)),
    }
    if output_dir is not None:
        plots.confusion_matrix(
            matrix,
            data.class_names,
            Path(output_dir) / "confusion_matrix.png",
            title=f"{config.data}: test accuracy {results['accuracy']:.3f}",
        )
    return results


def _top_words(tokens: list[str], weights: np.ndarray, count: int = 5) -> str:
    ranked = sorted(
        ((weight, token) for token, weight in zip(tokens, weights) if token),
        reverse=True,
    )
    return ", ".join(f"{token} ({weight:.2f})" for weight, token in ranked[:count])


def show(config: Config, pieces: inference.Pieces, data: Data) -> None:
    texts = data.test_texts[:5]
    explain = pieces.extras["explain"]
    probabilities, weights, ids = explain.predict(tf.constant(texts), verbose=0)
    for text, row, weight_row, id_row in zip(texts, probabilities, weights, ids):
        tokens = [data.vocabulary[i] if i > 0 else "" for i in id_row]
        line = f"{data.class_names[row.argmax()]} ({row.max():.2f}): {text[:100]!r}"
        if config.pooling == "attention":
            line += f"\n    words that weighed most: {_top_words(tokens, weight_row)}"
        print(line)


class Classifier(tf.Module):
    """Texts in, labels (and the words that weighed most) out: the export."""

    def __init__(self, pieces: inference.Pieces, data: Data, pooling: str):
        super().__init__()
        self.explain = pieces.extras["explain"]
        self.class_names = tf.constant(data.class_names)
        self.vocabulary = tf.constant(data.vocabulary)
        self.pooling = pooling

    def classify(self, text):
        probabilities, weights, ids = self.explain(text)
        outputs = {
            "label": tf.gather(self.class_names, tf.argmax(probabilities, axis=-1)),
            "probabilities": probabilities,
        }
        if self.pooling == "attention":
            tokens = tf.gather(self.vocabulary, ids)
            outputs["tokens"] = tf.where(ids > 0, tokens, "")
            outputs["token_weights"] = weights
        return outputs


def endpoints(
    config: Config, pieces: inference.Pieces, data: Data
) -> export_lib.Endpoints:
    classifier = Classifier(pieces, data, config.pooling)
    text = tf.TensorSpec([None], tf.string, name="text")
    return export_lib.Endpoints(
        functions={"classify": (classifier.classify, [text])},
        track=[classifier.explain],
    )


def examples(config: Config, data: Data, count: int) -> dict:
    """Endpoint inputs: test texts."""
    return {"classify": {"text": np.array(data.test_texts[:count], object)}}


def predict(saved_model: Path, inputs: list[str], options: dict) -> None:
    """Prints the label, its probability and the words that weighed most."""
    if not inputs:
        raise UserError("text_classification predict needs at least one text")
    loaded = tf.saved_model.load(str(saved_model))
    outputs = loaded.classify(text=tf.constant(inputs))
    labels = outputs["label"].numpy()
    probabilities = outputs["probabilities"].numpy()
    for index, text in enumerate(inputs):
        label = labels[index].decode()
        print(f"{label} ({probabilities[index].max():.2f}): {text[:100]!r}")
        if "tokens" in outputs:
            tokens = [token.decode() for token in outputs["tokens"][index].numpy()]
            weights = outputs["token_weights"][index].numpy()
            print(f"    words that weighed most: {_top_words(tokens, weights)}")
