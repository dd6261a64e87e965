"""Words of a sentence and back, in TensorFlow ops; word vocabularies.

The same ops run in the tf.data pipeline and inside an exported SavedModel,
so a served model splits text exactly as training did.
"""

from __future__ import annotations

import collections

import tensorflow as tf

from keras_seq.data.vocabulary import FIRST_SYMBOL_ID, Vocabulary, id_to_string

# Punctuation becomes words of its own; apostrophes stay inside words.
PUNCTUATION = r'([.,!?;:"()\[\]“”„«»…/])'


def tokenize(texts: tf.Tensor, splitter: str = "words") -> tf.RaggedTensor:
    """The tokens of every text (ragged), split as `splitter` says:

    - `"words"`: lower-cased words and punctuation marks;
    - `"spaces"`: whatever stands between spaces, as written (text that is
      already tokenized, as a treebank's sentences are);
    - `"code"`: words and every other mark on its own, case kept (`x+=1` is
      `x`, `+`, `=`, `1`);
    - `"brackets"`: a bracketed tree's `(LABEL`, leaves and `)`
      (`keras_seq.data.trees`).
    """
    if splitter not in SPLITTERS:
        raise ValueError(
            f"`splitter` must be one of {SPLITTERS}. Received: splitter={splitter!r}"
        )
    if splitter == "words":
        texts = tf.strings.lower(texts, encoding="utf-8")
    pattern, spaced = _SPLIT_PATTERNS[splitter]
    if pattern:
        texts = tf.strings.regex_replace(texts, pattern, spaced)
    return tf.strings.split(texts)


SPLITTERS = ("words", "spaces", "code", "brackets")
_SPLIT_PATTERNS = {
    "words": (PUNCTUATION, r" \1 "),
    "spaces": (None, None),
    "code": (r"([^\w\s])", r" \1 "),
    "brackets": (r"\)", " ) "),
}


def detokenize(words: tf.Tensor, splitter: str = "words") -> tf.Tensor:
    """Joins words [B, T] (empty strings skipped) back into sentences: for
    `"words"`, with no space before closing punctuation; for `"brackets"`,
    none before `)`; otherwise one space between tokens."""
    joined = tf.strings.reduce_join(words, axis=-1, separator=" ")
    joined = tf.strings.regex_replace(joined, " +", " ")
    if splitter == "words":
        joined = tf.strings.regex_replace(joined, r" ([.,!?;:)\]…])", r"\1")
    elif splitter == "brackets":
        joined = tf.strings.regex_replace(joined, r" \)", ")")
    return tf.strings.strip(joined)


def word_counts(texts: list[str], splitter: str = "words") -> collections.Counter:
    """How often each token of `tokenize` occurs in `texts`."""
    counts: collections.Counter = collections.Counter()
    for batch in tf.data.Dataset.from_tensor_slices(texts).batch(1024):
        for row in tokenize(batch, splitter).to_list():
            counts.update(word.decode() for word in row)
    return counts


def word_vocabulary(
    texts: list[str], size: int, reserved: list[str], splitter: str = "words"
) -> Vocabulary:
    """`reserved` symbols (such as start and end), then the most frequent words
    of `texts` (ties alphabetical): `size` ids in all, padding and OOV
    included."""
    counts = word_counts(texts, splitter)
    ranked = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    room = max(0, size - FIRST_SYMBOL_ID - len(reserved))
    return Vocabulary([*reserved, *(word for word, _ in ranked[:room])])


def ids_to_text(
    symbols: list[str], tokens: tf.Tensor, lengths: tf.Tensor, splitter: str = "words"
) -> tf.Tensor:
    """The sentences of word ids `[B, T]`, each cut after `lengths` `[B]` words."""
    keep = tf.sequence_mask(lengths, tf.shape(tokens)[1])
    return detokenize(tf.where(keep, id_to_string(symbols, tokens), ""), splitter)
