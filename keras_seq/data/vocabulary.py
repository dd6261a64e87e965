"""Vocabularies: symbols to integer ids and back, with padding and OOV ids.

Id 0 pads (an Embedding with `mask_zero=True` masks it), id 1 is the
out-of-vocabulary id and the symbols follow from id 2, as
`keras.layers.StringLookup` numbers them with a mask token and one OOV
index, so that the same table can be rebuilt inside a SavedModel
(`keras_seq.export`).
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
