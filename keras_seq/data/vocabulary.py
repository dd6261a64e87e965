"""Vocabularies: symbols to integer ids and back, with padding and OOV ids.

Id 0 pads (an Embedding with `mask_zero=True` masks it), id 1 is the
out-of-vocabulary id and the symbols follow from id 2, as
`keras.layers.StringLookup` numbers them with a mask token and one OOV
index. `lookup_table` and `id_to_string` are the same numbering in
TensorFlow ops, for the tf.data pipelines and inside a SavedModel.

Vocabularies of sentences (translation, captions) reserve their first two
symbols for the start and end of a sentence: `SENTENCE_MARKS`, whose ids are
`START_ID` and `END_ID`.
"""

from __future__ import annotations

import collections
import json
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np

PAD_ID = 0
OOV_ID = 1
FIRST_SYMBOL_ID = 2
START, END = "<s>", "</s>"
SENTENCE_MARKS = [START, END]
START_ID, END_ID = FIRST_SYMBOL_ID, FIRST_SYMBOL_ID + 1


class Vocabulary:
    """An ordered list of symbols; id `i + 2` is `symbols[i]`.

    Args:
        symbols: the known symbols (characters or words), without the OOV.
    """

    def __init__(self, symbols: Sequence[str]):
        symbols = list(symbols)
        if len(set(symbols)) != len(symbols):
            raise ValueError("`symbols` must not repeat a symbol")
        self.symbols = symbols
        self._ids = {
            symbol: index + FIRST_SYMBOL_ID for index, symbol in enumerate(symbols)
        }

    @classmethod
    def from_characters(cls, text: str) -> Vocabulary:
        """Every character of `text`, sorted by code point."""
        return cls(sorted(set(text)))

    @classmethod
    def from_tokens(
        cls, tokens: Iterable[str], max_size: int | None = None, min_count: int = 1
    ) -> Vocabulary:
        """The most frequent tokens (ties broken alphabetically)."""
        counts = collections.Counter(tokens)
        ranked = sorted(
            (item for item in counts.items() if item[1] >= min_count),
            key=lambda item: (-item[1], item[0]),
        )
        return cls([token for token, _ in ranked[:max_size]])

    @property
    def size(self) -> int:
        """Number of ids, the padding and OOV ids included."""
        return len(self.symbols) + FIRST_SYMBOL_ID

    def encode_characters(self, text: str) -> np.ndarray:
        """Ids of the characters of `text`, as an int32 array."""
        table = self._ids
        return np.fromiter(
            (table.get(character, OOV_ID) for character in text),
            dtype=np.int32,
            count=len(text),
        )

    def decode(self, ids: Iterable[int], separator: str = "") -> str:
        """The symbols of `ids` joined by `separator`; padding and OOV are skipped."""
        return separator.join(
            self.symbols[index - FIRST_SYMBOL_ID]
            for index in ids
            if FIRST_SYMBOL_ID <= index < self.size
        )

    def save(self, path: Path) -> None:
        Path(path).write_text(json.dumps(self.symbols, ensure_ascii=False))

    @classmethod
    def load(cls, path: Path) -> Vocabulary:
        return cls(json.loads(Path(path).read_text()))


def lookup_table(symbols: Sequence[str]):
    """A `tf.lookup.StaticHashTable` from symbol to id (`i + 2` for
    `symbols[i]`, OOV 1), for the pipelines and a SavedModel (track it in
    the export archive)."""
    import tensorflow as tf

    return tf.lookup.StaticHashTable(
        tf.lookup.KeyValueTensorInitializer(
            tf.constant(list(symbols), dtype=tf.string),
            tf.range(FIRST_SYMBOL_ID, len(symbols) + FIRST_SYMBOL_ID, dtype=tf.int64),
        ),
        default_value=OOV_ID,
    )


def id_to_string(symbols: Sequence[str], ids):
    """The symbol of every id of a tensor; padding, OOV and ids past the end
    give ''."""
    import tensorflow as tf

    table = tf.constant([""] * FIRST_SYMBOL_ID + list(symbols), dtype=tf.string)
    ids = tf.where((ids < 0) | (ids >= len(symbols) + FIRST_SYMBOL_ID), 0, ids)
    return tf.gather(table, ids)
