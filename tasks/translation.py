"""translation: sequence to sequence with attention, greedy and beam search.

An encoder (a bidirectional `rnn_stack`) reads the source sentence; a
decoder (an `rnn_stack` started from the encoder's final states) writes the
target one word at a time, trained with teacher forcing. With
`--set attention=dot|additive`, every decoder step also reads a weighted
average of the encoder's states (Luong et al. 2015; Bahdanau et al. 2014):
the decoder output and that context go through a tanh layer before the
softmax; with `--set input_feeding=true` that attentional state also feeds
the decoder's next step (an `InputFeedingDecoder`). With attention, the
source embeddings averaged by the attention weights also reach the output
layer through a `LexicalContext` (`--set lexical=false` leaves it out).
The loss is the cross-entropy with label smoothing. Decoding is greedy or
beam search (with length and, optionally, coverage penalties) from
`keras_seq.decoding`, as in-graph loops that the `translate` endpoint runs
inside the SavedModel.

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
import tensorflow as tf

from keras_seq import decoding, training
from keras_seq import export as export_lib
from keras_seq.config import CELLS, TrainingConfig, option
from keras_seq.data import parallel, subwords
from keras_seq.data.vocabulary import FIRST_SYMBOL_ID, PAD_ID, Vocabulary
from keras_seq.data.words import ids_to_text, tokenize, word_counts, word_vocabulary
from keras_seq.errors import UserError
from keras_seq.layers import InputFeedingDecoder, LexicalContext, RNNStack
from keras_seq.layers.attention import decoder_attention
from keras_seq.losses import TokenCrossentropy, TokenCrossentropyMetric

DESCRIPTION = "sequence-to-sequence translation with attention and beam search"
DATA_SOURCES = parallel.source_names()
PREDICT_OPTIONS = ("plot_attention",)
METRIC_LABELS = {
    "loss": "training loss (nats per piece)",
    "cross_entropy": "cross-entropy (nats per piece)",
}

# The encoder's output carries its padding mask into the step model, which
# takes the source ids and masks with them itself.
warnings.filterwarnings("ignore", message="Layer 'step' .* mask", category=UserWarning)

START, END = "<s>", "</s>"
START_ID, END_ID = FIRST_SYMBOL_ID, FIRST_SYMBOL_ID + 1


@dataclasses.dataclass(frozen=True)
class Config(TrainingConfig):
    data: str = option("ding_de_en", help="data: " + ", ".join(DATA_SOURCES))
    direction: str = option(
        "forward",
        choices=("forward", "reverse"),
        help="forward: first column to second (de to en); reverse: the other way",
    )
    attention: str = option(
        "additive", choices=("none", "dot", "additive"), help="attention kind"
    )
    # Input feeding trained 23% slower and did not help on the Ding pairs:
    # additive attention scored 6.30 BLEU with it and 6.65 without at a
    # constant learning rate, 7.00 and 7.37 with cosine decay (README).
    input_feeding: bool = option(
        False,
        help="with attention: feed each step's attentional state into the next "
        "step's input (Luong et al. 2015)",
    )
    # On the validation split the lexical path raised the additive model
    # from 8.38 to 9.06 BLEU and its lowest cross-entropy from 3.80 to
    # 3.67 nats, for about 2% more training time (README, Results).
    lexical: bool = option(
        True,
        help="with attention: also pass the source embeddings averaged by the "
        "attention weights to the output layer (Nguyen and Chiang 2018)",
    )
    tokens: str = option(
        "subword",
        choices=("word", "subword"),
        help="word: whole words; subword: pieces learnt by byte-pair merges",
    )
    cell: str = option("gru", choices=CELLS, help="recurrent cell")
    units: int = option(128, minimum=1, help="encoder units per direction")
    num_layers: int = option(1, minimum=1, help="layers of encoder and decoder")
    embedding_dim: int = option(128, minimum=1, help="word embedding width")
    dropout: float = option(0.2, minimum=0.0, maximum=0.95, help="dropout rate")
    # Chosen on the validation split: 0.1 raised the additive model from 7.69
    # to 8.38 BLEU there (0.2: 8.11) and the model without attention from
    # 2.61 to 2.77 (README, Results).
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
    phrases: int = option(
        30000,
        minimum=0,
        help="ding_de_en only: add up to this many of the dictionary's word and "
        "phrase pairs to the training pairs (with tokens=word, only pairs "
        "whose words are all known)",
    )
    beam_width: int = option(4, minimum=1, help="beam search width")
    # Chosen on the validation split: 1.0 beat 0.6 and 1.4 for the models
    # with and without attention (README, Results).
    length_penalty: float = option(1.0, minimum=0.0, help="beam length penalty")
    # Off: on the validation split 0.1 moved BLEU by +0.05 and 0.2 by -0.7.
    coverage_penalty: float = option(
        0.0,
        minimum=0.0,
        help="beam search with attention: beta of the coverage penalty, which "
        "ranks down translations that leave source pieces unattended "
        "(Wu et al. 2016); 0: off",
    )
    epochs: int = option(10, minimum=1, help="number of epochs")
    batch_size: int = option(128, minimum=1, help="sentence pairs per batch")
    learning_rate: float = option(3e-3, minimum=0.0, help="Adam's learning rate")
    # Cosine decay over the run: with the same settings it lowered the test
    # loss of the additive model from 4.32 to 4.00 nats and raised its BLEU
    # from 6.7 to 7.4 (README, Results).
    lr_schedule: str = option(
        "cosine", choices=("constant", "cosine"), help="learning-rate schedule"
    )
    clipnorm: float = option(1.0, minimum=0.0, help="global gradient norm; 0: off")


DEFAULT = Config()
PRESETS = {
    "tiny": dataclasses.replace(
        DEFAULT,
        phrases=0,
        units=8,
        embedding_dim=8,
        epochs=2,
        batch_size=8,
        beam_width=2,
        max_vocabulary=200,
    ),
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


@dataclasses.dataclass
class Model:
    """The training model and the inference pieces built from its layers:
    `encoder` (source ids to encoder states) and `step` (one decoder step)."""

    model: keras.Model
    encoder: keras.Model
    step: keras.Model


class Tokens(tf.Module):
    """One language's text to ids and back, in words or subword pieces.

    The same ops split text in the tf.data pipeline and in the export.

    Args:
        vocabulary: the words or pieces.
        subword: whether `vocabulary` holds pieces (`keras_seq.data.subwords`).
        max_tokens: ids kept per text.
    """

    def __init__(self, vocabulary: Vocabulary, subword: bool, max_tokens: int):
        super().__init__()
        self.symbols = vocabulary.symbols
        self.subword = subword
        self.max_tokens = max_tokens
        self.table = export_lib.string_to_id_table(self.symbols)

    def split(self, texts: tf.Tensor) -> tuple[tf.RaggedTensor, tf.RaggedTensor]:
        """Ids `[B, (T)]` (int32) of `texts` and the words or pieces they
        stand for (unknown words as written)."""
        words = tokenize(texts)
        if self.subword:
            ids, strings = subwords.split_words(words.flat_values, self.table)
            ids = words.with_flat_values(ids).merge_dims(1, 2)
            strings = words.with_flat_values(strings).merge_dims(1, 2)
        else:
            ids, strings = self.table.lookup(words), words
        return (
            tf.cast(ids[:, : self.max_tokens], tf.int32),
            strings[:, : self.max_tokens],
        )

    def ids(self, texts: tf.Tensor) -> tf.RaggedTensor:
        return self.split(texts)[0]

    def text(self, ids: tf.Tensor, lengths: tf.Tensor) -> tf.Tensor:
        """The sentences of ids `[B, T]`, each cut after `lengths` `[B]` ids."""
        texts = ids_to_text(self.symbols, ids, lengths)
        return subwords.join_pieces(texts) if self.subword else texts


def _vocabulary(config: Config, texts: list[str]) -> Vocabulary:
    if config.tokens == "subword":
        return subwords.subword_vocabulary(
            word_counts(texts), config.max_vocabulary, [START, END]
        )
    return word_vocabulary(texts, config.max_vocabulary, [START, END])


def load_data(config: Config) -> Data:
    pairs = parallel.load_pairs(config.data)
    if config.direction == "reverse":
        pairs = [(target, source) for source, target in pairs]
    order = list(range(len(pairs)))
    random.Random(config.seed).shuffle(order)
    test_size = max(1, len(pairs) // 10)
    test = [pairs[i] for i in order[:test_size]]
    validation = [pairs[i] for i in order[test_size : 2 * test_size]]
    train = [pairs[i] for i in order[2 * test_size :]]
    phrases = config.phrases if config.data == "ding_de_en" else 0
    if config.phrases and not phrases:
        print(f"{config.data} has no dictionary entries: no phrases added")
    lexicon = []
    if phrases and config.tokens == "subword":
        # Pieces spell any word, so any phrase can be added; they are counted
        # with the sentences when the pieces are learnt.
        lexicon = _phrases(config)[:phrases]
    source_vocabulary = _vocabulary(config, [s for s, _ in train + lexicon])
    target_vocabulary = _vocabulary(config, [t for _, t in train + lexicon])
    if phrases and config.tokens == "word":
        lexicon = _known_phrases(config, source_vocabulary, target_vocabulary)
    subword = config.tokens == "subword"
    source_tokens = Tokens(source_vocabulary, subword, config.max_tokens)
    target_tokens = Tokens(target_vocabulary, subword, config.max_tokens)

    def to_ids(source, target):
        source_ids = source_tokens.ids(source)
        target_ids = target_tokens.ids(target)
        rows = target_ids.nrows()
        starts = tf.fill([rows, 1], START_ID)
        ends = tf.fill([rows, 1], END_ID)
        target_in = tf.concat([starts, target_ids], axis=1)
        target_out = tf.concat([target_ids, ends], axis=1)
        return (
            {
                "source": source_ids.to_tensor(PAD_ID),
                "target_in": target_in.to_tensor(PAD_ID),
            },
            target_out.to_tensor(PAD_ID),
        )

    def batches(part, shuffle):
        result = tf.data.Dataset.from_tensor_slices(
            ([s for s, _ in part], [t for _, t in part])
        )
        if shuffle:
            result = result.shuffle(len(part), seed=config.seed)
        return result.batch(config.batch_size).map(
            to_ids, num_parallel_calls=tf.data.AUTOTUNE
        )

    def dataset(part, shuffle):
        return batches(part, shuffle).prefetch(tf.data.AUTOTUNE)

    training_batches = batches(train, True)
    if lexicon:
        # Phrases are short: batched on their own they pad less; the two
        # streams are interleaved at random, each read once per epoch.
        training_batches = tf.data.Dataset.sample_from_datasets(
            [training_batches, batches(lexicon, True)],
            weights=[float(len(train)), float(len(lexicon))],
            seed=config.seed,
            stop_on_empty_dataset=False,
        )

    return Data(
        train=training_batches.prefetch(tf.data.AUTOTUNE),
        validation=dataset(validation, False),
        test=dataset(test, False),
        source_vocabulary=source_vocabulary,
        target_vocabulary=target_vocabulary,
        test_pairs=test,
        train_size=len(train) + len(lexicon),
    )


def _phrases(config: Config) -> list[tuple[str, str]]:
    """The dictionary's phrase pairs in the config's direction, shuffled
    with its seed."""
    pairs = parallel.ding_phrases()
    if config.direction == "reverse":
        pairs = [(target, source) for source, target in pairs]
    random.Random(config.seed).shuffle(pairs)
    return pairs


def _known_phrases(config: Config, source_vocabulary, target_vocabulary):
    """Up to `config.phrases` dictionary phrase pairs whose words are all in
    both vocabularies, drawn with the config's seed."""
    pairs = _phrases(config)
    known_source, known_target = (
        set(source_vocabulary.symbols),
        set(target_vocabulary.symbols),
    )

    def known(texts, words):
        rows = []
        for start in range(0, len(texts), 8192):
            batch = tokenize(tf.constant(texts[start : start + 8192])).to_list()
            rows += [all(word.decode() in words for word in row) for row in batch]
        return rows

    keep = [
        pair
        for pair, source_ok, target_ok in zip(
            pairs,
            known([s for s, _ in pairs], known_source),
            known([t for _, t in pairs], known_target),
        )
        if source_ok and target_ok
    ]
    print(
        f"{len(keep):,} dictionary phrase pairs use known words only; "
        f"{min(len(keep), config.phrases):,} added to the training pairs"
    )
    return keep[: config.phrases]


def _feeds_input(config: Config) -> bool:
    return config.attention != "none" and config.input_feeding


def _is_lexical(config: Config) -> bool:
    return config.attention != "none" and config.lexical


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


def build_model(config: Config, data: Data) -> Model:
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
    hidden, _, _ = _decode(
        config,
        layers.__getitem__,
        word_dropout(layers["target_embedding"](target_in)),
        encoder_sequence,
        source_embedded,
        source_mask,
        states,
    )
    logits = layers["logits"](hidden)
    model = keras.Model([source, target_in], logits, name="translator")
    steps = training.steps_for(data.train_size, config.batch_size)
    model.compile(
        optimizer=training.make_optimizer(config, steps),
        loss=TokenCrossentropy(config.label_smoothing, ignore_class=PAD_ID),
        # The plain cross-entropy, whatever the smoothing: what is compared.
        metrics=[TokenCrossentropyMetric(ignore_class=PAD_ID)],
    )
    return _pieces(config, model)


def _pieces(config: Config, model: keras.Model) -> Model:
    """The encoder and one decoder step, from the layers of `model`."""
    # What the model holds decides, so models saved before the lexical
    # option existed load as they were trained.
    has_lexical = any(layer.name == "lexical" for layer in model.layers)
    config = dataclasses.replace(config, lexical=has_lexical)
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

    token = keras.Input(shape=(1,), dtype="int32", name="token")
    step_source = keras.Input(shape=(None,), dtype="int32", name="step_source")
    step_memory = keras.Input(shape=(None, memory_width), name="memory")
    step_encoder, step_embedded = step_memory, None
    if _is_lexical(config):
        step_encoder, step_embedded = keras.ops.split(
            step_memory, [2 * config.units], axis=-1
        )
    decoder = model.get_layer("decoder")
    state_inputs = [
        keras.Input(shape=(width,), name=f"state_{index}")
        for index, width in enumerate(decoder.state_size)
    ]
    hidden, weights, new_states = _decode(
        config,
        model.get_layer,
        model.get_layer("target_embedding")(token),
        step_encoder,
        step_embedded,
        keras.ops.not_equal(step_source, PAD_ID),
        state_inputs,
    )
    if weights is None:
        weights = keras.ops.zeros_like(
            keras.ops.cast(step_source[:, None, :], "float32")
        )
    logits = model.get_layer("logits")(hidden)
    step = keras.Model(
        [token, step_source, step_memory, *state_inputs],
        [logits, weights, *new_states],
        name="step",
    )
    return Model(model=model, encoder=encoder, step=step)


def from_saved(config: Config, model: keras.Model) -> Model:
    return _pieces(config, model)


# No early stopping on the validation loss: on the Ding pairs the epochs
# after its lowest point decode to higher BLEU (README, Results).
train = training.fit_task


class _Translator(tf.Module):
    """Strings in, strings out: shared by evaluate, show and the export."""

    def __init__(self, config: Config, pieces: Model, data: Data):
        super().__init__()
        self.config = config
        self.pieces = pieces
        subword = config.tokens == "subword"
        self.source_tokens = Tokens(data.source_vocabulary, subword, config.max_tokens)
        # A forced translation (for the attention plot) may be longer than
        # the training targets.
        self.target_tokens = Tokens(
            data.target_vocabulary, subword, 2 * config.max_tokens
        )

    def source_ids(self, texts):
        ids = self.source_tokens.ids(texts)
        # An empty text still gets one (padding) step, so every row decodes.
        return tf.pad(ids.to_tensor(PAD_ID), [[0, 0], [0, 1]])

    def _start(self, texts, coverage: bool | None = None):
        """The step function, first tokens, state and length limit; with
        `coverage` (by default when the penalty is used), the state also sums
        the attention each source piece got."""
        if coverage is None:
            coverage = self._uses_coverage
        source = self.source_ids(texts)
        encoder_sequence, *states = self.pieces.encoder(source)
        state = {"rnn": states, "source": source, "encoder": encoder_sequence}
        if coverage:
            state["coverage"] = tf.zeros(tf.shape(source), tf.float32)

        def step_fn(tokens, state):
            logits, weights, *rnn = self.pieces.step(
                [tokens[:, None], state["source"], state["encoder"], *state["rnn"]]
            )
            state = {**state, "rnn": rnn}
            if coverage:
                state["coverage"] = state["coverage"] + weights[:, 0]
            return logits[:, 0], state

        source_length = tf.reduce_sum(tf.cast(source != PAD_ID, tf.int32), axis=1)
        max_length = 2 * tf.reduce_max(source_length) + 10
        start = tf.fill([tf.shape(source)[0]], START_ID)
        return step_fn, start, state, max_length

    def greedy(self, texts):
        # Greedy decoding has no penalty: no coverage to sum.
        step_fn, start, state, max_length = self._start(texts, coverage=False)
        tokens, lengths = decoding.greedy_decode(
            step_fn, start, state, max_length, END_ID
        )
        return {"translation": self.target_tokens.text(tokens, lengths)}

    @property
    def _uses_coverage(self) -> bool:
        # Without attention the step reports zero weights: no coverage.
        return bool(self.config.coverage_penalty) and self.config.attention != "none"

    def _coverage_penalty(self, state):
        return decoding.coverage_penalty(
            state["coverage"], state["source"] != PAD_ID, self.config.coverage_penalty
        )

    def beam(self, texts):
        step_fn, start, state, max_length = self._start(texts)
        tokens, _, lengths = decoding.beam_search(
            step_fn,
            start,
            state,
            self.config.beam_width,
            max_length,
            END_ID,
            self.config.length_penalty,
            extra_score_fn=self._coverage_penalty if self._uses_coverage else None,
        )
        return {"translation": self.target_tokens.text(tokens[:, 0], lengths[:, 0])}

    def attention(self, source, translation):
        """Attention weights while the decoder reads `translation` (forced)."""
        source_ids = self.source_ids(source)
        target, target_strings = self.target_tokens.split(translation)
        target = target.to_tensor(PAD_ID)
        encoder_sequence, *states = self.pieces.encoder(source_ids)
        inputs = tf.concat([tf.fill([tf.shape(target)[0], 1], START_ID), target], 1)

        def step_fn(tokens, states):
            _, step_weights, *states = self.pieces.step(
                [tokens[:, None], source_ids, encoder_sequence, *states]
            )
            return step_weights[:, 0], states

        weights = decoding.teacher_forced(step_fn, inputs, states)
        return {
            "weights": weights,
            "source_words": self.source_tokens.split(source)[1].to_tensor(""),
            "target_words": tf.concat(
                [
                    target_strings.to_tensor(""),
                    tf.fill([tf.shape(target)[0], 1], END),
                ],
                1,
            ),
        }


def _bleu(hypotheses: list[str], references: list[str]) -> float:
    import sacrebleu

    # The vocabulary is lower-cased, so BLEU is computed case-insensitively.
    return float(sacrebleu.corpus_bleu(hypotheses, [references], lowercase=True).score)


def _translate_all(function, texts: list[str], batch_size: int = 128) -> list[str]:
    results = []
    compiled = tf.function(function)
    for start in range(0, len(texts), batch_size):
        batch = tf.constant(texts[start : start + batch_size])
        results += [text.decode() for text in compiled(batch)["translation"].numpy()]
    return results


def evaluate(config: Config, pieces: Model, data: Data, output_dir=None) -> dict:
    translator = _Translator(config, pieces, data)
    sources = [source for source, _ in data.test_pairs]
    references = [target for _, target in data.test_pairs]
    loss = pieces.model.evaluate(data.test, verbose=0, return_dict=True)[
        "cross_entropy"
    ]
    greedy = _translate_all(translator.greedy, sources)
    beam = _translate_all(translator.beam, sources)
    return {
        "test_loss": float(loss),
        "bleu_greedy": _bleu(greedy, references),
        "bleu_beam": _bleu(beam, references),
        "test_pairs": len(sources),
    }


def show(config: Config, pieces: Model, data: Data) -> None:
    translator = _Translator(config, pieces, data)
    sources = [source for source, _ in data.test_pairs[:5]]
    outputs = translator.beam(tf.constant(sources))["translation"].numpy()
    for (source, reference), output in zip(data.test_pairs[:5], outputs):
        print(f"{source}\n  reference: {reference}\n  beam:      {output.decode()}")


def export(config: Config, pieces: Model, data: Data, path: Path) -> Path:
    translator = _Translator(config, pieces, data)
    archive = export_lib.new_archive()
    archive.track(pieces.encoder)
    archive.track(pieces.step)
    archive.track(translator.source_tokens)
    archive.track(translator.target_tokens)
    archive.add_endpoint(
        "translate",
        lambda source: translator.beam(source),
        input_signature=[tf.TensorSpec([None], tf.string, name="source")],
    )
    archive.add_endpoint(
        "attention",
        translator.attention,
        input_signature=[
            tf.TensorSpec([None], tf.string, name="source"),
            tf.TensorSpec([None], tf.string, name="translation"),
        ],
    )
    return export_lib.write_atomically(archive, path)


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
