"""Parallel text (sentence pairs) for translation, by name.

- `ding_de_en`: Debian's `trans-de-en` package (the Ding dictionary),
  `/usr/share/trans/de-en`, lines `German :: English` whose sub-entries are
  separated by ` | `. Aligned sub-entries that are sentences (both sides end
  in `.`, `?` or `!`, the English has at least 3 words) are kept.
- `file:PATH`: a TSV of source and target.
- `tfds:NAME`: a TFDS translation set, such as `ted_hrlr_translate/pt_to_en`
  (online only).
"""

from __future__ import annotations

import re
from pathlib import Path

from keras_seq.data import sources
from keras_seq.errors import UserError

DING_FILE = "usr/share/trans/de-en"
SENTENCE_END = (".", "?", "!")


def _aligned_entries(text: str):
    """(German, English) sub-entries of the Ding dictionary's lines whose two
    sides have the same number of ` | `-separated parts."""
    for line in text.splitlines():
        if line.startswith("#") or " :: " not in line:
            continue
        german, english = line.split(" :: ", 1)
        german_parts, english_parts = german.split(" | "), english.split(" | ")
        if len(german_parts) == len(english_parts):
            for source, target in zip(german_parts, english_parts):
                yield source.strip(), target.strip()


def parse_ding(text: str) -> list[tuple[str, str]]:
    """Sentence pairs (German, English) of the Ding dictionary's lines."""
    return [
        (source, target)
        for source, target in _aligned_entries(text)
        if source.endswith(SENTENCE_END)
        and target.endswith(SENTENCE_END)
        and len(target.split()) >= 3
    ]


_ANNOTATION = re.compile(r"\{[^}]*\}|\[[^\]]*\]|\([^)]*\)|<[^>]*>")


def _bare(side: str) -> str:
    """A dictionary side without its notes, first synonym only."""
    return " ".join(_ANNOTATION.sub(" ", side).split(";")[0].split())


def parse_ding_phrases(text: str, max_words: int = 4) -> list[tuple[str, str]]:
    """Word and phrase pairs (German, English) of the Ding dictionary: the
    aligned sub-entries that are not sentences, without their grammar and
    subject notes (`{m}`, `[cook.]`, `(...)`), first synonym of each side,
    at most `max_words` words a side."""
    pairs = []
    for source, target in _aligned_entries(text):
        if source.endswith(SENTENCE_END):
            continue
        source, target = _bare(source), _bare(target)
        if (
            source
            and target
            and len(source.split()) <= max_words
            and len(target.split()) <= max_words
        ):
            pairs.append((source, target))
    return pairs


def ding_phrases() -> list[tuple[str, str]]:
    """`parse_ding_phrases` of the cached Ding dictionary."""
    return parse_ding_phrases((_ding_folder() / DING_FILE).read_text(encoding="utf-8"))


def _ding_folder() -> Path:
    return sources.fetch_and_extract(
        "trans-de-en",
        lambda target: sources.apt_download("trans-de-en", target),
        sources.extract_deb,
        lambda name: name == DING_FILE,
    )


def _ding() -> list[tuple[str, str]]:
    return parse_ding((_ding_folder() / DING_FILE).read_text(encoding="utf-8"))


def _tsv(path_text: str) -> list[tuple[str, str]]:
    path = Path(path_text).expanduser()
    if not path.is_file():
        raise UserError(f"file:{path_text}: no such file")
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except UnicodeDecodeError as error:
        raise UserError(
            f"file:{path_text}: not UTF-8 text (byte {error.start})"
        ) from None
    pairs = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        parts = line.split("\t")
        if len(parts) != 2:
            raise UserError(
                f"file:{path_text}: line {number} must be source<TAB>target. "
                f"Received: {len(parts)} fields"
            )
        pairs.append((parts[0].strip(), parts[1].strip()))
    return pairs


def _tfds(name: str) -> list[tuple[str, str]]:
    import tensorflow_datasets as tfds

    splits = sources.tfds_load(name, as_supervised=True)
    pairs = []
    for dataset in splits.values():
        for source, target in tfds.as_numpy(dataset):
            pairs.append((source.decode(), target.decode()))
    return pairs


def source_names() -> list[str]:
    return ["ding_de_en", "file:PATH", "tfds:NAME"]


def load_pairs(name: str) -> list[tuple[str, str]]:
    if name == "ding_de_en":
        pairs = _ding()
    elif name.startswith("file:"):
        pairs = _tsv(name[len("file:") :])
    elif name.startswith("tfds:"):
        pairs = _tfds(name[len("tfds:") :])
    else:
        raise UserError(
            f"Unknown data source {name!r}. Allowed: {', '.join(source_names())}"
        )
    if len(pairs) < 10:
        raise UserError(f"Data source {name!r} has too few pairs: {len(pairs)}")
    return pairs
