"""parsing: sentences to trees, as translation into bracketed sequences.

Seq2Tree (Vinyals, Kaiser et al. 2014, "Grammar as a Foreign Language"): a
tree written out as a bracketed sequence, `(BinOp (Name XX) Add (Call
(Name XX) (Name XX)))`, is the target sentence of the translation task's
encoder-decoder with attention (`tasks/translation.py`: the same model,
training and beam search). The decoder writes one token at a time: a
`(LABEL` opens a node, a `)` closes one, anything else is a leaf. Every
step may only write what keeps the output a well-formed tree that can
still be finished within the step budget: the first token opens the root,
the end comes only once the root is closed, a leaf or a `)` only inside
a node (`--set constrained=false` lifts this, to measure what it buys).

With `--set words=xx` (the paper's normalisation) every word of a tree is
written as `XX`, so the model writes the structure and where the words
go; `words=keep` writes the words themselves.

Scores (`keras_seq.metrics.bracket_scores`): exact-tree accuracy, labelled
bracket precision, recall and F1 over the test split as EVALB counts them
(without its punctuation and label-equivalence settings), and the share of
outputs that are well-formed trees.

References:
- [Vinyals, Kaiser et al., 2014](https://arxiv.org/abs/1412.7449)
- [Sekine and Collins, 1997](https://nlp.cs.nyu.edu/evalb/) (EVALB)
"""

from __future__ import annotations

import dataclasses
import random
from pathlib import Path

import numpy as np
import tensorflow as tf

from keras_seq import config as config_lib
from keras_seq import export as export_lib
from keras_seq import inference
from keras_seq import metrics as metrics_lib
from keras_seq.config import option
from keras_seq.data import trees
from keras_seq.data.tokens import Tokenizer, sentence_vocabulary
from keras_seq.data.vocabulary import END_ID, START_ID, Vocabulary
from keras_seq.errors import UserError
from tasks import translation

DESCRIPTION = "sentences to trees (Seq2Tree): attention seq2seq with a tree constraint"
DATA_SOURCES = trees.treebank_names()
PRIMARY_METRIC = "f1_beam"
PREDICT_OPTIONS = ("plot",)
METRIC_LABELS = translation.METRIC_LABELS

# At most this many test and validation trees each (a tenth of the data
# otherwise): decoding them all is most of a run's evaluation time.
HELD_OUT = 2000


@dataclasses.dataclass(frozen=True)
class Config(translation.Seq2SeqConfig):
    data: str = option("python_ast", help="data: " + ", ".join(DATA_SOURCES))
    limit: int = option(0, minimum=0, help="use at most this many trees; 0: all")
    words: str = option(
        "xx",
        choices=trees.WORD_MODES,
        help="xx: every word of a tree written as XX (Vinyals et al. 2014); "
        "keep: the words themselves",
    )
    constrained: bool = option(
        True, help="decode only well-formed trees (false: any token sequence)"
    )
    max_tokens: int = option(40, minimum=2, help="longest sentence kept (tokens)")
    max_tree_tokens: int = option(
        80, minimum=3, help="longest tree kept (brackets and leaves)"
    )
    lexical: bool = option(
        False,
        help="with attention: also pass the source embeddings averaged by the "
        "attention weights to the output layer (Nguyen and Chiang 2018)",
    )
    label_smoothing: float = option(
        0.0,
        minimum=0.0,
        maximum=0.95,
        help="share of each target's probability spread over the vocabulary "
        "in training (Szegedy et al. 2016)",
    )
    epochs: int = config_lib.epochs(4)


DEFAULT = Config()
PRESETS = {
    "tiny": config_lib.tiny(DEFAULT, limit=400, max_vocabulary=200, beam_width=2),
    "default": DEFAULT,
    # Vinyals et al. (2014): 3 layers of 256 LSTM units, attention.
    "paper": dataclasses.replace(
        DEFAULT, cell="lstm", units=256, num_layers=3, embedding_dim=256, epochs=20
    ),
}


def source_splitter(config: Config) -> str:
    """How a sentence is cut into tokens: code into words and marks; the
    treebanks' sentences are tokenized already (tokens between spaces)."""
    return "code" if config.data == "python_ast" else "spaces"


def _tokenizers(
    config: Config, data: translation.Data, tree_tokens: int
) -> tuple[Tokenizer, Tokenizer]:
    return (
        Tokenizer(
            data.source_vocabulary, False, config.max_tokens, source_splitter(config)
        ),
        Tokenizer(data.target_vocabulary, False, tree_tokens, "brackets"),
    )


def load_data(config: Config) -> translation.Data:
    pairs = trees.load_treebank(config.data, config.words)
    splitter = source_splitter(config)
    kept = [
        (sentence, tree)
        for sentence, tree in pairs
        if 0 < len(_split(sentence, splitter)) <= config.max_tokens
        and len(trees.bracket_tokens(tree)) <= config.max_tree_tokens
    ]
    if len(kept) < 10:
        raise UserError(
            f"{config.data}: {len(kept)} of {len(pairs)} trees are short enough "
            f"(max_tokens={config.max_tokens}, max_tree_tokens="
            f"{config.max_tree_tokens}); at least 10 are needed"
        )
    print(
        f"{config.data}: {len(kept):,} of {len(pairs):,} trees within "
        f"{config.max_tokens} tokens and {config.max_tree_tokens} tree tokens"
    )
    random.Random(config.seed).shuffle(kept)
    if config.limit:
        kept = kept[: config.limit]
    held_out = min(HELD_OUT, max(1, len(kept) // 10))
    test, validation = kept[:held_out], kept[held_out : 2 * held_out]
    train = kept[2 * held_out :]
    vocabularies = (
        sentence_vocabulary(
            [sentence for sentence, _ in train], "word", config.max_vocabulary, splitter
        ),
        sentence_vocabulary(
            [tree for _, tree in train], "word", config.max_vocabulary, "brackets"
        ),
    )
    data = translation.Data(
        train=None,
        validation=None,
        test=None,
        source_vocabulary=vocabularies[0],
        target_vocabulary=vocabularies[1],
        test_pairs=test,
        train_size=len(train),
    )
    tokenizers = _tokenizers(config, data, config.max_tree_tokens)

    def batches(part, shuffle):
        # Trees run from 3 to `max_tree_tokens` tokens: training batches
        # of alike lengths pad (and cost) far less.
        return translation.pair_batches(
            part, tokenizers, config, shuffle, sort=True
        ).prefetch(tf.data.AUTOTUNE)

    data.train = batches(train, True)
    data.validation = batches(validation, False)
    data.test = batches(test, False)
    return data


def _split(text: str, splitter: str) -> list[str]:
    if splitter == "code":
        return trees.code_text(text).split()
    return text.split()


build_model = translation.build_model
from_saved = translation.from_saved
train = translation.train

# Token kinds of the target vocabulary, for the constraint.
OTHER, OPEN, CLOSE, LEAF, END = range(5)


def token_kinds(vocabulary: Vocabulary) -> np.ndarray:
    """The kind of every target id: padding, OOV and the start mark OTHER
    (never written), `(LABEL` OPEN, `)` CLOSE, the end mark END, the rest
    LEAF."""
    kinds = np.full(vocabulary.size, OTHER, np.int32)
    for index, symbol in enumerate(vocabulary.symbols):
        token_id = index + 2
        if token_id == END_ID:
            kinds[token_id] = END
        elif token_id == START_ID:
            continue
        elif symbol == trees.CLOSE:
            kinds[token_id] = CLOSE
        elif symbol.startswith("(") and len(symbol) > 1:
            kinds[token_id] = OPEN
        else:
            kinds[token_id] = LEAF
    return kinds


def allowed_kinds(depth, opened, written, max_length):
    """Which kinds of token may come next, `[B, 5]` booleans, for outputs
    that have opened `depth` `[B]` nodes not yet closed, have `opened` `[B]`
    the root or not, and have `written` `[B]` tokens of at most `max_length`
    (the end included). A token is allowed only if the tree can still be
    closed and ended within the budget."""
    room = max_length - written - 1  # tokens left after the next one
    inside = depth > 0
    open_ = (inside | ~opened) & (depth + 2 <= room)
    leaf = inside & (depth + 1 <= room)
    close = inside
    end = opened & ~inside
    other = tf.zeros_like(inside)
    return tf.stack([other, open_, close, leaf, end], axis=1)


class Parser(translation.Translator):
    """Texts in, bracketed trees out; with `constrained`, every output is one
    well-formed tree."""

    def __init__(self, config: Config, pieces: inference.Pieces, data):
        super().__init__(config, pieces, data)
        self.kinds = tf.constant(token_kinds(data.target_vocabulary))

    def tokenizers(self, config: Config, data) -> tuple[Tokenizer, Tokenizer]:
        return _tokenizers(config, data, 2 * config.max_tree_tokens)

    def max_length(self, source_length):
        # A tree has about three tokens per word (a bracket each side).
        return 4 * tf.reduce_max(source_length) + 10

    def start(self, texts, coverage: bool = False) -> inference.Start:
        start = super().start(texts, coverage)
        if not self.config.constrained:
            return start
        rows = tf.shape(start.tokens)[0]
        max_length = tf.cast(start.max_length, tf.int32)
        state = {
            **start.state,
            "depth": tf.zeros([rows], tf.int32),
            "opened": tf.zeros([rows], tf.bool),
            "written": tf.zeros([rows], tf.int32),
        }

        def step_fn(tokens, state):
            kind = tf.gather(self.kinds, tokens)
            depth = (
                state["depth"]
                + tf.cast(kind == OPEN, tf.int32)
                - tf.cast(kind == CLOSE, tf.int32)
            )
            opened = state["opened"] | (kind == OPEN)
            written = state["written"] + tf.cast(tokens != START_ID, tf.int32)
            logits, state = start.step_fn(tokens, state)
            allowed = tf.gather(
                allowed_kinds(depth, opened, written, max_length),
                self.kinds,
                axis=1,
            )
            logits = tf.where(allowed, logits, -1e9)
            return logits, {
                **state,
                "depth": depth,
                "opened": opened,
                "written": written,
            }

        return start._replace(step_fn=step_fn, state=state)


def tree_scores(predicted: list[str], gold: list[str], prefix: str = "") -> dict:
    """Exact match, labelled bracket precision, recall and F1, and the
    share well-formed (all in percent) of predicted trees against gold ones."""
    scores = metrics_lib.bracket_scores(predicted, gold)
    return {f"{name}{prefix}": value for name, value in scores.items()}


def _parse_all(function, texts: list[str]) -> list[str]:
    return inference.decode_all(
        function, inference.batches(texts, 128), len(texts), "sentence"
    )


def evaluate(config: Config, pieces: inference.Pieces, data, output_dir=None) -> dict:
    results = pieces.model.evaluate(data.test, verbose=0, return_dict=True)
    parser = Parser(config, pieces, data)
    sentences = [sentence for sentence, _ in data.test_pairs]
    gold = [tree for _, tree in data.test_pairs]
    greedy = _parse_all(parser.translate_greedy, sentences)
    beam = _parse_all(parser.translate, sentences)
    return {
        "test_loss": float(results["cross_entropy"]),
        **tree_scores(greedy, gold, "_greedy"),
        **tree_scores(beam, gold, "_beam"),
        "test_trees": len(gold),
    }


def show(config: Config, pieces: inference.Pieces, data) -> None:
    parser = Parser(config, pieces, data)
    pairs = data.test_pairs[:5]
    outputs = parser.translate(tf.constant([sentence for sentence, _ in pairs]))
    for (sentence, tree), output in zip(pairs, outputs.numpy()):
        print(f"{sentence}\n  reference: {tree}\n  beam:      {output.decode()}")


def endpoints(config: Config, pieces: inference.Pieces, data) -> export_lib.Endpoints:
    parser = Parser(config, pieces, data)
    return export_lib.Endpoints(
        functions={
            "parse": (
                lambda text: {"tree": parser.translate(text)},
                [tf.TensorSpec([None], tf.string, name="text")],
            )
        },
        track=parser.trackables(),
    )


def examples(config: Config, data, count: int) -> dict:
    sentences = [sentence for sentence, _ in data.test_pairs[:count]]
    return {"parse": {"text": np.array(sentences, object)}}


def predict(saved_model: Path, inputs: list[str], options: dict) -> None:
    """Prints the tree of every input and draws it (`--plot PATH`, by
    default parse_tree.png; parse_tree_2.png and on for further inputs)."""
    if not inputs:
        raise UserError("parsing predict needs at least one sentence")
    from keras_seq import plots

    loaded = tf.saved_model.load(str(saved_model))
    outputs = loaded.parse(text=tf.constant(inputs))["tree"].numpy()
    target = Path(options.get("plot") or "parse_tree.png")
    for number, (text, output) in enumerate(zip(inputs, outputs), start=1):
        bracketed = output.decode()
        print(f"{text} -> {bracketed}")
        tree = trees.read_tree(bracketed)
        if tree is None:
            print("  (not a well-formed tree: nothing drawn)")
            continue
        path = target if number == 1 else target.with_stem(f"{target.stem}_{number}")
        plots.tree(tree, path, title=text)
        print(f"Wrote {path}")
