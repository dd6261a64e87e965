"""translation: sequence to sequence with attention, greedy and beam search.

An encoder (a bidirectional `rnn_stack`) reads the source sentence; a
decoder (an `rnn_stack` started from the encoder's final states) writes the
target one piece at a time, trained with teacher forcing. With
`--set attention=dot|additive`, every decoder step also reads a weighted
average of the encoder's states (Luong et al. 2015; Bahdanau et al. 2014):
the decoder output and that context go through a tanh layer before the
softmax; with `--set input_feeding=true` that attentional state also feeds
the decoder's next step (an `InputFeedingDecoder`). With attention, the
source embeddings averaged by the attention weights also reach the output
layer through a `LexicalContext` (`--set lexical=false` leaves it out).
The loss is the cross-entropy with label smoothing. Decoding is greedy or
beam search (with length and, optionally, coverage penalties), in-graph
loops that the `translate` endpoint runs inside the SavedModel.

References:
- [Sutskever et al., 2014](https://arxiv.org/abs/1409.3215)
- [Bahdanau et al., 2014](https://arxiv.org/abs/1409.0473)
- [Luong et al., 2015](https://arxiv.org/abs/1508.04025)
- [Sennrich et al., 2016](https://arxiv.org/abs/1508.07909) (subword units)
- [Nguyen and Chiang, 2018](https://arxiv.org/abs/1710.01329) (the lexical
  path)
- [Sennrich and Zhang, 2019](https://arxiv.org/abs/1905.11901) (word dropout
  and small vocabularies for small data)
- [Szegedy et al., 2016](https://arxiv.org/abs/1512.00567) (label smoothing)
- [Wu et al., 2016](https://arxiv.org/abs/1609.08144) (length and coverage
  penalties)
"""

from __future__ import annotations

import dataclasses
import random
import warnings
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf

from keras_seq import config as config_lib
from keras_seq import decoding, inference, training
from keras_seq import export as export_lib
from keras_seq import metrics as metrics_lib
from keras_seq.config import CELLS, TrainingConfig, option
from keras_seq.data import parallel
from keras_seq.data.subwords import CONTINUATION
from keras_seq.data.tokens import (
    TOKEN_KINDS,
    Tokenizer,
    sentence_vocabulary,
    teacher_forcing,
)
from keras_seq.data.vocabulary import (
    END,
    END_ID,
    FIRST_SYMBOL_ID,
    OOV_ID,
    PAD_ID,
    SENTENCE_MARKS,
    START_ID,
    Vocabulary,
)
from keras_seq.errors import UserError
from keras_seq.layers import CopyMixture, InputFeedingDecoder, LexicalContext, RNNStack
from keras_seq.layers.attention import decoder_attention
from keras_seq.losses import TokenCrossentropy, TokenCrossentropyMetric

DESCRIPTION = "sequence-to-sequence translation with attention and beam search"
DATA_SOURCES = parallel.source_names()
PRIMARY_METRIC = "bleu_beam"
PREDICT_OPTIONS = ("plot_attention",)
METRIC_LABELS = {
    "loss": "training loss (nats per piece)",
    "cross_entropy": "cross-entropy (nats per piece)",
}

# The encoder's output carries its padding mask into the step model, which
# takes the source ids and masks with them itself.
warnings.filterwarnings("ignore", message="Layer 'step' .* mask", category=UserWarning)


@dataclasses.dataclass(frozen=True)
class Seq2SeqConfig(TrainingConfig):
    """The encoder-decoder's settings, shared with the tasks built on it."""

    attention: str = option(
        "additive", choices=("none", "dot", "additive"), help="attention kind"
    )
    input_feeding: bool = option(
        False,
        help="with attention: feed each step's attentional state into the next "
        "step's input (Luong et al. 2015)",
    )
    lexical: bool = option(
        True,
        help="with attention: also pass the source embeddings averaged by the "
        "attention weights to the output layer (Nguyen and Chiang 2018)",
    )
    copy: bool = option(
        False,
        help="with attention: a pointer-generator (See et al. 2017), whose "
        "learned gate mixes copying the attended source tokens into the "
        "output with generating from the vocabulary",
    )
    copy_dictionary: bool = option(
        False,
        help="with copy=true, German sources: the copy path also offers each "
        "source word's English sense from the Ding dictionary (its first "
        "piece), a lexicon the model need not have learnt (Arthur et al. 2016)",
    )
    cell: str = option("gru", choices=CELLS, help="recurrent cell")
    units: int = option(128, minimum=1, help="encoder units per direction")
    num_layers: int = option(1, minimum=1, help="layers of encoder and decoder")
    embedding_dim: int = option(128, minimum=1, help="word embedding width")
    dropout: float = config_lib.dropout(0.2)
    label_smoothing: float = option(
        0.1,
        minimum=0.0,
        maximum=0.95,
        help="share of each target's probability spread over the vocabulary "
        "in training (Szegedy et al. 2016)",
    )
    word_dropout: float = option(
        0.0,
        minimum=0.0,
        maximum=0.95,
        help="in training, the share of source and target tokens whose "
        "embedding is zeroed",
    )
    max_vocabulary: int = option(8000, minimum=4, help="words or pieces per language")
    max_tokens: int = option(
        40, minimum=2, help="longest sentence kept (words or pieces)"
    )
    beam_width: int = option(4, minimum=1, help="beam search width")
    length_penalty: float = option(1.0, minimum=0.0, help="beam length penalty")
    coverage_penalty: float = option(
        0.0,
        minimum=0.0,
        help="beam search with attention: beta of the coverage penalty, which "
        "ranks down translations that leave source pieces unattended "
        "(Wu et al. 2016); 0: off",
    )
    epochs: int = config_lib.epochs(10)
    batch_size: int = config_lib.batch_size(128, "sentence pairs")
    learning_rate: float = config_lib.learning_rate(3e-3)
    lr_schedule: str = config_lib.lr_schedule("cosine")
    clipnorm: float = config_lib.clipnorm(1.0)


@dataclasses.dataclass(frozen=True)
class Config(Seq2SeqConfig):
    data: str = option("ding_de_en", help="data: " + ", ".join(DATA_SOURCES))
    limit: int = option(
        0, minimum=0, help="use at most this many sentence pairs; 0: all"
    )
    direction: str = option(
        "forward",
        choices=("forward", "reverse"),
        help="forward: first column to second (de to en); reverse: the other way",
    )
    tokens: str = option(
        "subword",
        choices=TOKEN_KINDS,
        help="word: whole words; subword: pieces learnt by byte-pair merges",
    )
    phrases: int = option(
        30000,
        minimum=0,
        help="ding_de_en only: add up to this many of the dictionary's word and "
        "phrase pairs to the training pairs (with tokens=word, only pairs "
        "whose words are all known)",
    )
    fresh_phrases: bool = option(
        False,
        help="with phrases: draw a new `phrases` of the dictionary's 341,502 "
        "word and phrase pairs at random every epoch, instead of the same ones",
    )
    catalogues: bool = option(
        False,
        help="ding_de_en only: add the German message catalogues of "
        f"{len(parallel.CATALOGUE_PACKAGES)} Debian packages of system tools to "
        "the training pairs (not those of the development set's packages, "
        "nor any pair sharing a side with it)",
    )


DEFAULT = Config()
PRESETS = {
    "tiny": config_lib.tiny(DEFAULT, limit=400, phrases=0, max_vocabulary=200),
    "default": DEFAULT,
    # Luong et al. (2015): 4 layers of 1000 LSTM units; here 2 of 512.
    "paper": dataclasses.replace(
        DEFAULT, cell="lstm", units=256, num_layers=2, embedding_dim=256, epochs=30
    ),
}


@dataclasses.dataclass
class Data:
    train: tf.data.Dataset
    validation: tf.data.Dataset
    test: tf.data.Dataset | None
    source_vocabulary: Vocabulary
    target_vocabulary: Vocabulary
    test_pairs: list[tuple[str, str]]
    train_size: int


def _tokenizers(config: Config, data: Data, target_tokens: int | None = None):
    subword = config.tokens == "subword"
    return (
        Tokenizer(data.source_vocabulary, subword, config.max_tokens),
        Tokenizer(data.target_vocabulary, subword, target_tokens or config.max_tokens),
    )


def _lexicon(config: Config, vocabularies) -> list[tuple[str, str]]:
    """The dictionary's word and phrase pairs that may join the training
    pairs, shuffled with the seed; the first `config.phrases` are those of
    every epoch, unless `fresh_phrases`."""
    if not config.phrases or config.data != "ding_de_en":
        if config.phrases:
            print(f"{config.data} has no dictionary entries: no phrases added")
        return []
    pairs = parallel.phrase_pairs(config.direction == "reverse", config.seed)
    if vocabularies is None:
        # Pieces spell any word, so any phrase can be added; the first
        # `phrases` are counted with the sentences when the pieces are learnt.
        return pairs
    source, target = (set(vocabulary.symbols) for vocabulary in vocabularies)
    known = parallel.pairs_of_known_words(pairs, source, target)
    print(
        f"{len(known):,} dictionary phrase pairs use known words only; "
        f"{min(len(known), config.phrases):,} added to the training pairs"
        + (" each epoch, drawn afresh" if config.fresh_phrases else "")
    )
    return known


# With lengths, a shuffled stream is cut into runs of this many batches,
# each sorted by length before it is batched, and the batches shuffled.
SORTED_RUN = 32


def pair_batches(
    pairs: list[tuple[str, str]],
    tokenizers: tuple[Tokenizer, Tokenizer],
    config: Seq2SeqConfig,
    shuffle: bool,
    take: int | None = None,
    sort: bool = False,
) -> tf.data.Dataset:
    """Batches of `({"source", "target_in"}, target_out)` ids of (source,
    target) text pairs, for teacher forcing; shuffled with the seed (each
    epoch anew), or the first `take` of a shuffle. The texts are tokenised
    once, here, not at every epoch.

    With `sort` and `shuffle`, each batch holds pairs of about the same
    length, so that little of it is padding: a shuffled run of `SORTED_RUN`
    batches is sorted by the target's length (which the output layer pays
    for), then the source's, cut into batches and those shuffled, so every
    epoch still sees new batches.
    """
    source_tokens, target_tokens = tokenizers
    sources = source_tokens.encode([source for source, _ in pairs])
    targets = target_tokens.encode([target for _, target in pairs])
    count = len(pairs) if take is None else min(take, len(pairs))

    # Plain TensorFlow ops: tracing them through autograph costs seconds
    # per data set and converts nothing.
    @tf.autograph.experimental.do_not_convert
    def to_ids(batch_rows):
        target_in, target_out = teacher_forcing(tf.gather(targets, batch_rows))
        source = tf.gather(sources, batch_rows).to_tensor(PAD_ID)
        return {"source": source, "target_in": target_in}, target_out

    # Row numbers are shuffled, not the rows: the shuffle buffer refills
    # cheaply every epoch, even for a `take` of a large pool.
    rows = tf.data.Dataset.range(len(pairs))
    if shuffle:
        rows = rows.shuffle(len(pairs), seed=config.seed)
    rows = rows.take(count)
    if sort and shuffle:
        lengths = (
            targets.row_lengths() * (source_tokens.max_tokens + 1)
            + sources.row_lengths()
        )

        @tf.autograph.experimental.do_not_convert
        def sorted_run(run_rows):
            return tf.gather(
                run_rows, tf.argsort(tf.gather(lengths, run_rows), stable=True)
            )

        rows = (
            rows.batch(SORTED_RUN * config.batch_size)
            .map(sorted_run)
            .unbatch()
            .batch(config.batch_size)
            .shuffle(SORTED_RUN, seed=config.seed)
            .apply(
                tf.data.experimental.assert_cardinality(
                    training.steps_for(count, config.batch_size)
                )
            )
        )
    else:
        rows = rows.batch(config.batch_size)
    return rows.map(to_ids, num_parallel_calls=tf.data.AUTOTUNE)


def load_data(config: Config) -> Data:
    pairs = parallel.load_pairs(config.data)
    if config.direction == "reverse":
        pairs = [(target, source) for source, target in pairs]
    order = list(range(len(pairs)))
    random.Random(config.seed).shuffle(order)
    if config.limit:
        order = order[: config.limit]
    test_size = max(1, len(order) // 10)
    test = [pairs[i] for i in order[:test_size]]
    validation = [pairs[i] for i in order[test_size : 2 * test_size]]
    train = [pairs[i] for i in order[2 * test_size :]]
    if config.catalogues and config.data == "ding_de_en":
        messages = parallel.catalogue_pairs(parallel.load_pairs("messages_de_en"))
        if config.direction == "reverse":
            messages = [(target, source) for source, target in messages]
        print(f"{len(messages):,} message pairs of other packages' catalogues added")
        train = train + messages
    elif config.catalogues:
        print(f"{config.data}: catalogues are added to ding_de_en only")
    subword = config.tokens == "subword"
    pool = _lexicon(config, None) if subword else []
    vocabularies = [
        sentence_vocabulary(
            [pair[side] for pair in train + pool[: config.phrases]],
            config.tokens,
            config.max_vocabulary,
        )
        for side in (0, 1)
    ]
    if not subword:
        pool = _lexicon(config, vocabularies)
    lexicon = pool[: config.phrases]
    tokenizers = (
        Tokenizer(vocabularies[0], subword, config.max_tokens),
        Tokenizer(vocabularies[1], subword, config.max_tokens),
    )

    def batches(part, shuffle, take=None):
        # Sentences run from one piece to `max_tokens`: training batches of
        # alike lengths pad far less.
        return pair_batches(part, tokenizers, config, shuffle, take, sort=True)

    training_batches = batches(train, True)
    if lexicon:
        # Phrases are short: batched on their own they pad less; the two
        # streams are interleaved at random, each read once per epoch.
        steps = training.steps_for(len(train), config.batch_size)
        steps += training.steps_for(len(lexicon), config.batch_size)
        training_batches = tf.data.Dataset.sample_from_datasets(
            [
                training_batches,
                # A new random draw from the whole pool at every epoch.
                batches(pool, True, len(lexicon))
                if config.fresh_phrases
                else batches(lexicon, True),
            ],
            weights=[float(len(train)), float(len(lexicon))],
            seed=config.seed,
            stop_on_empty_dataset=False,
        ).apply(tf.data.experimental.assert_cardinality(steps))

    return Data(
        train=training_batches.prefetch(tf.data.AUTOTUNE),
        validation=batches(validation, False).prefetch(tf.data.AUTOTUNE),
        test=batches(test, False).prefetch(tf.data.AUTOTUNE),
        source_vocabulary=vocabularies[0],
        target_vocabulary=vocabularies[1],
        test_pairs=test,
        train_size=len(train) + len(lexicon),
    )


def _feeds_input(config: Config) -> bool:
    return config.attention != "none" and config.input_feeding


def _is_lexical(config: Config) -> bool:
    return config.attention != "none" and config.lexical


def _copies(config: Config) -> bool:
    return config.attention != "none" and config.copy


def vocabulary_map(data: Data) -> list[int]:
    """The target id of every source id whose symbol the target vocabulary
    has (a subword piece or word spelt alike in both languages), -1 for the
    others and for padding, OOV and the sentence marks."""
    target = {
        symbol: index + FIRST_SYMBOL_ID
        for index, symbol in enumerate(data.target_vocabulary.symbols)
    }
    found = [-1] * data.source_vocabulary.size
    for index, symbol in enumerate(data.source_vocabulary.symbols):
        if symbol not in SENTENCE_MARKS:
            found[index + FIRST_SYMBOL_ID] = target.get(symbol, -1)
    return found


# Leading words of the dictionary's senses that a translation rarely starts
# a word's rendering with ("to update", "the file").
_SENSE_LEADS = ("to", "a", "an", "the")


def dictionary_map(data: Data, lookup: parallel.WordLookup, tokenizer: Tokenizer):
    """Two output candidates for every source id, and their weights: the
    piece itself in the target vocabulary (as `vocabulary_map`), and the
    first target piece of the lookup's English sense of the source piece
    read as a German word (pieces that start a word only); half the weight
    each when both exist and differ."""
    itself = vocabulary_map(data)
    senses = {}
    for index, symbol in enumerate(data.source_vocabulary.symbols):
        if symbol in SENTENCE_MARKS or symbol.startswith(CONTINUATION):
            continue
        sense = lookup.word(symbol)
        words = sense.lower().split()
        while len(words) > 1 and words[0] in _SENSE_LEADS:
            words = words[1:]
        if sense != symbol and words:
            senses[index + FIRST_SYMBOL_ID] = words[0]
    pieces = tokenizer.ids(tf.constant(list(senses.values()) or [""])).to_list()
    ids, weights = [], []
    sense_ids = {source: row[0] if row else -1 for source, row in zip(senses, pieces)}
    for source, same in enumerate(itself):
        translated = sense_ids.get(source, -1)
        if translated in (same, OOV_ID):
            translated = -1
        ids.append([same, translated])
        known = (same >= 0) + (translated >= 0)
        weights.append([1.0 / known if known else 0.0] * 2)
    return ids, weights


def _output(config, model_layers, hidden, weights, source, embedded):
    """Logits of the next token; with copy, the pointer-generator's
    log-probabilities (a softmax of them gives them back)."""
    logits = model_layers("logits")(hidden)
    if not _copies(config):
        return logits
    features = model_layers("copy_features")([hidden, embedded])
    return model_layers("copy")([logits, weights, source, features])


def _decode(
    config, model_layers, embedded, encoder_sequence, source_embedded, mask, states
):
    """The output layer's inputs, the attention weights and the new states."""
    decoder = model_layers("decoder")
    if _feeds_input(config):
        hidden, weights, *states = decoder(
            [embedded, encoder_sequence], mask=[None, mask], initial_state=states
        )
    else:
        decoder_sequence, *states = decoder(embedded, initial_state=states)
        hidden, weights = _decoder_output(
            config, model_layers, decoder_sequence, encoder_sequence, mask
        )
    if _is_lexical(config):
        lexical = model_layers("lexical")([weights, source_embedded])
        hidden = model_layers("lexical_combine")(
            [hidden, model_layers("lexical_projection")(lexical)]
        )
    return hidden, weights, states


def _decoder_output(config, model_layers, decoder_sequence, encoder_sequence, mask):
    """Attention after the decoder, without input feeding."""
    if config.attention == "none":
        return decoder_sequence, None
    context, weights = model_layers("attention")(
        [decoder_sequence, encoder_sequence],
        mask=[None, mask],
        return_attention_scores=True,
    )
    combined = model_layers("combine")([decoder_sequence, context])
    return model_layers("attentional")(combined), weights


def build_model(config: Config, data: Data) -> inference.Pieces:
    if config.copy and config.attention == "none":
        raise UserError(
            "copy=true copies what the attention points at, so it needs "
            "attention=dot or additive. Received: attention=none"
        )
    if config.copy_dictionary and not (config.copy and config.direction == "forward"):
        raise UserError(
            "copy_dictionary=true offers German words' English senses through "
            "the copy path, so it needs copy=true and direction=forward. "
            f"Received: copy={str(config.copy).lower()}, "
            f"direction={config.direction}"
        )
    source = keras.Input(shape=(None,), dtype="int32", name="source")
    target_in = keras.Input(shape=(None,), dtype="int32", name="target_in")
    layers = {
        "source_embedding": keras.layers.Embedding(
            data.source_vocabulary.size,
            config.embedding_dim,
            mask_zero=True,
            name="source_embedding",
        ),
        "target_embedding": keras.layers.Embedding(
            data.target_vocabulary.size,
            config.embedding_dim,
            mask_zero=True,
            name="target_embedding",
        ),
        "encoder": RNNStack(
            cell=config.cell,
            units=config.units,
            num_layers=config.num_layers,
            bidirectional=True,
            dropout=config.dropout,
            return_state=True,
            name="encoder",
        ),
        # The encoder's states are forward and backward concatenated, so the
        # decoder has twice the units and starts from them.
        "decoder": RNNStack(
            cell=config.cell,
            units=2 * config.units,
            num_layers=config.num_layers,
            dropout=config.dropout,
            return_state=True,
            name="decoder",
        ),
        "logits": keras.layers.Dense(data.target_vocabulary.size, name="logits"),
    }
    if _feeds_input(config):
        layers["decoder"] = InputFeedingDecoder(
            cell=config.cell,
            units=2 * config.units,
            num_layers=config.num_layers,
            attention=config.attention,
            dropout=config.dropout,
            seed=config.seed,
            name="decoder",
        )
    elif config.attention != "none":
        layers["attention"] = decoder_attention(
            config.attention, 2 * config.units, name="attention"
        )
        layers["combine"] = keras.layers.Concatenate(name="combine")
        layers["attentional"] = keras.layers.Dense(
            2 * config.units, activation="tanh", name="attentional"
        )
    if _copies(config):
        layers["copy"] = CopyMixture(
            source_vocabulary_size=data.source_vocabulary.size,
            candidates=2 if config.copy_dictionary else 1,
            name="copy",
        )
        layers["copy_features"] = keras.layers.Concatenate(name="copy_features")
    if _is_lexical(config):
        layers["lexical"] = LexicalContext(name="lexical")
        # The paper adds W_l h_l to the logits; here W_l = W_o P, so the
        # output layer keeps its width (and its cost): logits W_o (h + P h_l).
        layers["lexical_projection"] = keras.layers.Dense(
            2 * config.units, use_bias=False, name="lexical_projection"
        )
        layers["lexical_combine"] = keras.layers.Add(name="lexical_combine")
    source_mask = keras.ops.not_equal(source, PAD_ID)
    # Word dropout (Sennrich and Zhang, 2019) zeroes whole token embeddings:
    # one noise value per token, shared by its features. It has no weights,
    # so the inference pieces leave it out.
    word_dropout = keras.layers.Dropout(
        config.word_dropout, noise_shape=(None, None, 1), name="word_dropout"
    )
    source_embedded = word_dropout(layers["source_embedding"](source))
    encoder_sequence, *states = layers["encoder"](source_embedded)
    target_embedded = word_dropout(layers["target_embedding"](target_in))
    hidden, weights, _ = _decode(
        config,
        layers.__getitem__,
        target_embedded,
        encoder_sequence,
        source_embedded,
        source_mask,
        states,
    )
    logits = _output(
        config, layers.__getitem__, hidden, weights, source, target_embedded
    )
    model = keras.Model([source, target_in], logits, name="translator")
    if _copies(config) and config.copy_dictionary:
        ids, shares = dictionary_map(
            data, parallel.ding_lookup(), _tokenizers(config, data)[1]
        )
        offered = sum(sense >= 0 for _, sense in ids)
        print(f"{offered:,} of {len(ids):,} source pieces offer a dictionary sense")
        layers["copy"].set_vocabulary_map(ids, shares)
    elif _copies(config):
        layers["copy"].set_vocabulary_map(vocabulary_map(data))
    steps = training.steps_for(data.train_size, config.batch_size)
    model.compile(
        optimizer=training.make_optimizer(config, steps),
        loss=TokenCrossentropy(config.label_smoothing, ignore_class=PAD_ID),
        # The plain cross-entropy, whatever the smoothing: what is compared.
        metrics=[TokenCrossentropyMetric(ignore_class=PAD_ID)],
    )
    return from_saved(config, model)


def from_saved(config: Config, model: keras.Model) -> inference.Pieces:
    """The encoder and one decoder step, from the layers of `model`."""
    source = keras.Input(shape=(None,), dtype="int32", name="source")
    source_embedded = model.get_layer("source_embedding")(source)
    encoder_sequence, *states = model.get_layer("encoder")(source_embedded)
    if _feeds_input(config):
        # The attentional state fed to the first step is zeros.
        states.append(keras.ops.zeros_like(states[0]))
    # What the steps read from the source, as one tensor: the encoder's
    # states, and for the lexical path the source embeddings after them.
    memory_width = 2 * config.units
    if _is_lexical(config):
        encoder_sequence = keras.layers.Concatenate(name="memory")(
            [encoder_sequence, source_embedded]
        )
        memory_width += config.embedding_dim
    encoder = keras.Model(source, [encoder_sequence, *states], name="encoder")

    token = inference.token_input()
    step_source = keras.Input(shape=(None,), dtype="int32", name="step_source")
    step_memory = keras.Input(shape=(None, memory_width), name="memory")
    step_encoder, step_embedded = step_memory, None
    if _is_lexical(config):
        step_encoder, step_embedded = keras.ops.split(
            step_memory, [2 * config.units], axis=-1
        )
    state_inputs = inference.state_inputs(model.get_layer("decoder").state_size)
    token_embedded = model.get_layer("target_embedding")(token)
    hidden, weights, new_states = _decode(
        config,
        model.get_layer,
        token_embedded,
        step_encoder,
        step_embedded,
        keras.ops.not_equal(step_source, PAD_ID),
        state_inputs,
    )
    if weights is None:
        weights = keras.ops.zeros_like(
            keras.ops.cast(step_source[:, None, :], "float32")
        )
    logits = _output(
        config, model.get_layer, hidden, weights, step_source, token_embedded
    )
    step = inference.step_model(
        token, [step_source, step_memory], state_inputs, logits, new_states, [weights]
    )
    return inference.Pieces(model=model, encoder=encoder, step=step)


# No early stopping on the validation loss: on the Ding pairs the epochs
# after its lowest point decode to higher BLEU (docs/results/translation.md).
train = training.fit_task


class Translator(inference.Decoder):
    """Strings in, strings out: evaluate, show and the export."""

    def __init__(self, config: Config, pieces: inference.Pieces, data: Data):
        super().__init__(pieces, END_ID, extras=1)
        self.config = config
        self.source_tokens, self.target_tokens = self.tokenizers(config, data)
        self.resources = [self.source_tokens, self.target_tokens]

    def tokenizers(self, config: Config, data: Data) -> tuple[Tokenizer, Tokenizer]:
        # A forced translation (for the attention plot) may be longer than
        # the training targets.
        return _tokenizers(config, data, target_tokens=2 * config.max_tokens)

    def max_length(self, source_length: tf.Tensor) -> tf.Tensor:
        """The longest output for sources of `source_length` `[B]` tokens."""
        return 2 * tf.reduce_max(source_length) + 10

    def source_ids(self, texts):
        ids = self.source_tokens.ids(texts)
        # An empty text still gets one (padding) step, so every row decodes.
        return tf.pad(ids.to_tensor(PAD_ID), [[0, 0], [0, 1]])

    def start(self, texts, coverage: bool = False) -> inference.Start:
        """With `coverage`, the state also sums the attention each source
        piece got (for the coverage penalty)."""
        source = self.source_ids(texts)
        encoder_sequence, *states = self.pieces.encoder(source)
        state = {"rnn": states, "source": source, "encoder": encoder_sequence}
        if coverage:
            state["coverage"] = tf.zeros(tf.shape(source), tf.float32)

        def step_fn(tokens, state):
            memory = [state["source"], state["encoder"]]
            logits, (weights,), rnn = self.step(tokens, memory, state["rnn"])
            state = {**state, "rnn": rnn}
            if coverage:
                state["coverage"] = state["coverage"] + weights[:, 0]
            return logits, state

        source_length = tf.reduce_sum(tf.cast(source != PAD_ID, tf.int32), axis=1)
        max_length = self.max_length(source_length)
        first = tf.fill([tf.shape(source)[0]], START_ID)
        return inference.Start(step_fn, first, state, max_length)

    @property
    def _uses_coverage(self) -> bool:
        # Without attention the step reports zero weights: no coverage.
        return bool(self.config.coverage_penalty) and self.config.attention != "none"

    def _coverage_penalty(self, state):
        return decoding.coverage_penalty(
            state["coverage"], state["source"] != PAD_ID, self.config.coverage_penalty
        )

    def translate_greedy(self, texts):
        tokens, lengths = self.greedy(self.start(texts))
        return self.target_tokens.text(tokens, lengths)

    def translate(self, texts):
        start = self.start(texts, coverage=self._uses_coverage)
        tokens, _, lengths = self.beam(
            start,
            self.config.beam_width,
            self.config.length_penalty,
            extra_score_fn=self._coverage_penalty if self._uses_coverage else None,
        )
        return self.target_tokens.text(tokens[:, 0], lengths[:, 0])

    def attention(self, source, translation):
        """Attention weights while the decoder reads `translation` (forced)."""
        source_ids = self.source_ids(source)
        target, target_strings = self.target_tokens.split(translation)
        target = target.to_tensor(PAD_ID)
        encoder_sequence, *states = self.pieces.encoder(source_ids)
        inputs = tf.concat([tf.fill([tf.shape(target)[0], 1], START_ID), target], 1)

        def step_fn(tokens, states):
            _, (weights,), states = self.step(
                tokens, [source_ids, encoder_sequence], states
            )
            return weights[:, 0], states

        weights = decoding.teacher_forced(step_fn, inputs, states)
        ends = tf.fill([tf.shape(target)[0], 1], END)
        return {
            "weights": weights,
            "source_words": self.source_tokens.split(source)[1].to_tensor(""),
            "target_words": tf.concat([target_strings.to_tensor(""), ends], 1),
        }


def _translate_all(function, texts: list[str]) -> list[str]:
    return inference.decode_all(
        function, inference.batches(texts, 128), len(texts), "sentence"
    )


def bleu(
    config: Config, pieces: inference.Pieces, data: Data, pairs: list[tuple[str, str]]
) -> dict:
    """Greedy and beam-search BLEU of the model on (source, reference) pairs
    of the task's direction, any pairs (the test split, or text of another
    kind)."""
    translator = Translator(config, pieces, data)
    sources = [source for source, _ in pairs]
    references = [[target] for _, target in pairs]
    greedy = _translate_all(translator.translate_greedy, sources)
    beam = _translate_all(translator.translate, sources)
    return {
        "bleu_greedy": metrics_lib.corpus_bleu(greedy, references),
        "bleu_beam": metrics_lib.corpus_bleu(beam, references),
    }


def evaluate(
    config: Config, pieces: inference.Pieces, data: Data, output_dir=None
) -> dict:
    results = pieces.model.evaluate(data.test, verbose=0, return_dict=True)
    return {
        "test_loss": float(results["cross_entropy"]),
        **bleu(config, pieces, data, data.test_pairs),
        "test_pairs": len(data.test_pairs),
    }


def show(config: Config, pieces: inference.Pieces, data: Data) -> None:
    translator = Translator(config, pieces, data)
    pairs = data.test_pairs[:5]
    outputs = translator.translate(tf.constant([source for source, _ in pairs]))
    for (source, reference), output in zip(pairs, outputs.numpy()):
        print(f"{source}\n  reference: {reference}\n  beam:      {output.decode()}")


def endpoints(
    config: Config, pieces: inference.Pieces, data: Data
) -> export_lib.Endpoints:
    translator = Translator(config, pieces, data)
    text = tf.TensorSpec([None], tf.string, name="source")
    return export_lib.Endpoints(
        functions={
            "translate": (
                lambda source: {"translation": translator.translate(source)},
                [text],
            ),
            "attention": (
                translator.attention,
                [text, tf.TensorSpec([None], tf.string, name="translation")],
            ),
        },
        track=translator.trackables(),
    )


def examples(config: Config, data: Data, count: int) -> dict:
    """Endpoint inputs: test sentences and their references."""
    pairs = data.test_pairs[:count]
    sources = np.array([source for source, _ in pairs], object)
    return {
        "translate": {"source": sources},
        "attention": {
            "source": sources,
            "translation": np.array([target for _, target in pairs], object),
        },
    }


def predict(saved_model: Path, inputs: list[str], options: dict) -> None:
    """Prints the translation of every input; can plot the attention."""
    if not inputs:
        raise UserError("translation predict needs at least one sentence")
    loaded = tf.saved_model.load(str(saved_model))
    translations = loaded.translate(source=tf.constant(inputs))["translation"]
    for source, translation in zip(inputs, translations.numpy()):
        print(f"{source} -> {translation.decode()}")
    if options.get("plot_attention"):
        from keras_seq import plots

        result = loaded.attention(
            source=tf.constant(inputs[:1]), translation=translations[:1]
        )
        plots.attention_heatmap(
            result["weights"].numpy()[0],
            [w.decode() for w in result["source_words"].numpy()[0] if w],
            [w.decode() for w in result["target_words"].numpy()[0] if w],
            Path(options["plot_attention"]),
        )
        print(f"Wrote {options['plot_attention']}")
