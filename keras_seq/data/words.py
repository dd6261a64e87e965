"""Words of a sentence and back, in TensorFlow ops.

The same ops run in the tf.data pipeline and inside an exported SavedModel,
so a served model splits text exactly as training did.
"""

from __future__ import annotations

import tensorflow as tf

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
