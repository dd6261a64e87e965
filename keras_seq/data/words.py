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


def tokenize(texts: tf.Tensor) -> tf.RaggedTensor:
    """Lower-cased words and punctuation marks of every text (ragged)."""
    lowered = tf.strings.lower(texts, encoding="utf-8")
    spaced = tf.strings.regex_replace(lowered, PUNCTUATION, r" \1 ")
    return tf.strings.split(spaced)


def detokenize(words: tf.Tensor) -> tf.Tensor:
    """Joins words [B, T] (empty strings skipped) back into sentences."""
    joined = tf.strings.reduce_join(words, axis=-1, separator=" ")
    joined = tf.strings.regex_replace(joined, " +", " ")
    joined = tf.strings.regex_replace(joined, r" ([.,!?;:)\]…])", r"\1")
    return tf.strings.strip(joined)


def word_counts(texts: list[str]) -> collections.Counter:
    """How often each word of `tokenize` occurs in `texts`."""
    counts: collections.Counter = collections.Counter()
    for batch in tf.data.Dataset.from_tensor_slices(texts).batch(1024):
        for row in tokenize(batch).to_list():
            counts.update(word.decode() for word in row)
    return counts


def word_vocabulary(texts: list[str], size: int, reserved: list[str]) -> Vocabulary:
    """`reserved` symbols (such as start and end), then the most frequent words
    of `texts` (ties alphabetical): `size` ids in all, padding and OOV
    included."""
    ranked = sorted(word_counts(texts).items(), key=lambda item: (-item[1], item[0]))
    room = max(0, size - FIRST_SYMBOL_ID - len(reserved))
    return Vocabulary([*reserved, *(word for word, _ in ranked[:room])])


def ids_to_text(symbols: list[str], tokens: tf.Tensor, lengths: tf.Tensor) -> tf.Tensor:
    """The sentences of word ids `[B, T]`, each cut after `lengths` `[B]` words."""
    keep = tf.sequence_mask(lengths, tf.shape(tokens)[1])
    return detokenize(tf.where(keep, id_to_string(symbols, tokens), ""))
