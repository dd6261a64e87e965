"""Text to token ids and back, in words or subword pieces, in TensorFlow ops.

A `Tokenizer` holds a vocabulary's lookup table, so the same ops split text
in the tf.data pipeline and inside an exported SavedModel (track the
tokenizer in the archive).
"""

from __future__ import annotations

import tensorflow as tf

from keras_seq.data import subwords
from keras_seq.data.vocabulary import (
    END_ID,
    PAD_ID,
    SENTENCE_MARKS,
    START_ID,
    Vocabulary,
    lookup_table,
)
from keras_seq.data.words import ids_to_text, tokenize, word_counts, word_vocabulary

TOKEN_KINDS = ("word", "subword")


def sentence_vocabulary(
    texts: list[str], kind: str, size: int, splitter: str = "words"
) -> Vocabulary:
    """The sentence marks, then the words or subword pieces of `texts`
    (split as `keras_seq.data.words.tokenize` does with `splitter`): `size`
    ids in all."""
    counts = word_counts(texts, splitter)
    if kind == "subword":
        return subwords.subword_vocabulary(counts, size, SENTENCE_MARKS)
    return word_vocabulary(texts, size, SENTENCE_MARKS, splitter)


class Tokenizer(tf.Module):
    """One language's text to ids and back, in words or subword pieces.

    Args:
        vocabulary: the words or pieces.
        subword: whether `vocabulary` holds pieces (`keras_seq.data.subwords`).
        max_tokens: ids kept per text.
        splitter: how text is cut into words (`keras_seq.data.words.tokenize`).
    """

    def __init__(
        self,
        vocabulary: Vocabulary,
        subword: bool,
        max_tokens: int,
        splitter: str = "words",
    ):
        super().__init__()
        self.symbols = vocabulary.symbols
        self.subword = subword
        self.max_tokens = max_tokens
        self.splitter = splitter
        self.table = lookup_table(self.symbols)

    def split(self, texts: tf.Tensor) -> tuple[tf.RaggedTensor, tf.RaggedTensor]:
        """Ids `[B, (T)]` (int32) of `texts` and the words or pieces they
        stand for (unknown words as written)."""
        words = tokenize(texts, self.splitter)
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

    def encode(self, texts: list[str], chunk: int = 8192) -> tf.RaggedTensor:
        """The ids `[B, (T)]` of many texts, as `ids` gives them, but each
        distinct word split once, shortest first (so that few characters
        are padding): for whole data sets, tokenised once, not per batch."""
        words = tokenize(tf.constant(texts, tf.string), self.splitter)
        if not self.subword or not len(texts):
            ids = self.table.lookup(words)
        else:
            unique, index = tf.unique(words.flat_values)
            order = tf.argsort(tf.strings.length(unique, "UTF8_CHAR"))
            pieces = tf.concat(
                [
                    subwords.split_words(
                        tf.gather(unique, order[start : start + chunk]), self.table
                    )[0]
                    for start in range(0, len(order), chunk)
                ],
                axis=0,
            )
            # Row i of `pieces` is the word order[i]; `index` names words.
            rank = tf.math.invert_permutation(order)
            ids = words.with_flat_values(tf.gather(pieces, tf.gather(rank, index)))
            ids = ids.merge_dims(1, 2)
        return tf.cast(ids[:, : self.max_tokens], tf.int32)

    def text(self, ids: tf.Tensor, lengths: tf.Tensor) -> tf.Tensor:
        """The sentences of ids `[B, T]`, each cut after `lengths` `[B]` ids."""
        texts = ids_to_text(self.symbols, ids, lengths, self.splitter)
        return subwords.join_pieces(texts) if self.subword else texts

    def teacher_forcing(self, texts: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
        """A decoder's inputs (the start mark, then the ids) and targets (the
        ids, then the end mark), both padded: `[B, T + 1]` each."""
        return teacher_forcing(self.ids(texts))


def teacher_forcing(ids: tf.RaggedTensor) -> tuple[tf.Tensor, tf.Tensor]:
    """`Tokenizer.teacher_forcing` of ids `[B, (T)]` already looked up."""
    rows = ids.nrows()
    inputs = tf.concat([tf.fill([rows, 1], START_ID), ids], axis=1)
    targets = tf.concat([ids, tf.fill([rows, 1], END_ID)], axis=1)
    return inputs.to_tensor(PAD_ID), targets.to_tensor(PAD_ID)
