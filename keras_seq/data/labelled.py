"""Labelled text collections for sequence classification, by name.

`load_labelled(name)` returns a `LabelledText`: texts, their labels, and the
fixed split (train/validation/test) when the source has one. Names:

- `movie_sentences`: human-rated movie-review snippets from the source
  distribution of `vaderSentiment` 3.3.2 (its
  `additional_resources/hutto_ICWSM_2014.tar.gz`); ratings run from -4 to 4,
  sentences with |rating| > 0.5 are kept and labelled by sign (10,043
  sentences, about half positive). `vader_tweets`, `vader_amazon` and
  `vader_nyt` are the tweets, product reviews and newspaper editorials of
  the same archive, in the same format;
- `fortunes`: Debian's `fortunes` package, one category per file, entries
  separated by lines holding `%` (multi-class topic labels);
- `imdb`: the TFDS catalog's `imdb_reviews` (online only);
- `file:PATH`: a CSV (or, for `.tsv`, tab-separated) file of text and label,
  with an optional `text,label` header.
"""

from __future__ import annotations

import csv
import dataclasses
import random
from collections.abc import Sequence
from pathlib import Path

from keras_seq.data import sources
from keras_seq.errors import UserError

VADER_VERSION = "3.3.2"
VADER_SHA256 = "5d7c06e027fc8b99238edb0d53d970cf97066ef97654009890b83703849632f9"
VADER_FILES = {
    "movie_sentences": "movieReviewSnippets_GroundTruth.txt",
    "vader_tweets": "tweets_GroundTruth.txt",
    "vader_amazon": "amazonReviewSnippets_GroundTruth.txt",
    "vader_nyt": "nytEditorialSnippets_GroundTruth.txt",
}
FORTUNES_FOLDER = "usr/share/games/fortunes/"


@dataclasses.dataclass
class LabelledText:
    """Texts and labels, with each example's split (`train`, `validation`,
    `test`) when the source fixes one, else None."""

    texts: list[str]
    labels: list[str]
    splits: list[str] | None = None

    def __post_init__(self):
        if len(self.texts) != len(self.labels):
            raise ValueError("`texts` and `labels` must have the same length")

    def sample(self, count: int, seed: int) -> LabelledText:
        """At most `count` of the examples, drawn at random with `seed`, in
        their order."""
        if count >= len(self.texts):
            return self
        kept = sorted(random.Random(seed).sample(range(len(self.texts)), count))
        return LabelledText(
            [self.texts[i] for i in kept],
            [self.labels[i] for i in kept],
            None if self.splits is None else [self.splits[i] for i in kept],
        )


def split_indices(
    count: int, seed: int, fractions: Sequence[float] = (0.8, 0.1, 0.1)
) -> dict[str, list[int]]:
    """A fixed, seeded split of `range(count)` into train/validation/test."""
    order = list(range(count))
    random.Random(seed).shuffle(order)
    train_end = int(round(fractions[0] * count))
    validation_end = train_end + int(round(fractions[1] * count))
    return {
        "train": sorted(order[:train_end]),
        "validation": sorted(order[train_end:validation_end]),
        "test": sorted(order[validation_end:]),
    }


def parse_vader_ratings(text: str, threshold: float = 0.5) -> LabelledText:
    """Lines `id<TAB>mean rating<TAB>text`; |rating| > threshold, label by sign."""
    texts, labels = [], []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        parts = line.rstrip("\r").split("\t")
        if len(parts) < 3:
            raise UserError(
                f"Rating line {number} must be id<TAB>rating<TAB>text. "
                f"Received: {line[:80]!r}"
            )
        try:
            rating = float(parts[1])
        except ValueError:
            raise UserError(
                f"Rating line {number} has no numeric rating. Received: {parts[1]!r}"
            ) from None
        if abs(rating) > threshold:
            texts.append("\t".join(parts[2:]).strip())
            labels.append("positive" if rating > 0 else "negative")
    return LabelledText(texts, labels)


def parse_fortunes(text: str) -> list[str]:
    """The entries of one fortune file: blocks separated by lines `%`."""
    entries, current = [], []
    for line in text.splitlines():
        if line.strip() == "%":
            if "".join(current).strip():
                entries.append("\n".join(current).strip())
            current = []
        else:
            current.append(line)
    if "".join(current).strip():
        entries.append("\n".join(current).strip())
    return entries


def parse_labelled_file(path_text: str) -> LabelledText:
    """A CSV or TSV file of `text,label` rows (optional header)."""
    path = Path(path_text).expanduser()
    if not path.is_file():
        raise UserError(f"file:{path_text}: no such file")
    delimiter = "\t" if path.suffix.lower() in (".tsv", ".tab") else ","
    try:
        with open(path, newline="", encoding="utf-8") as file:
            rows = [row for row in csv.reader(file, delimiter=delimiter) if row]
    except UnicodeDecodeError as error:
        raise UserError(
            f"file:{path_text}: not UTF-8 text (byte {error.start})"
        ) from None
    except csv.Error as error:
        raise UserError(f"file:{path_text}: not a readable CSV ({error})") from None
    if rows and [cell.strip().lower() for cell in rows[0][:2]] == ["text", "label"]:
        rows = rows[1:]
    for number, row in enumerate(rows, start=1):
        if len(row) != 2:
            raise UserError(
                f"file:{path_text}: row {number} must have 2 columns (text, label). "
                f"Received: {len(row)} columns"
            )
    if not rows:
        raise UserError(f"file:{path_text}: no rows")
    return LabelledText([row[0] for row in rows], [row[1].strip() for row in rows])


def _vader_sdist() -> Path:
    """The rated data and the word lexicon of the vaderSentiment sdist."""
    return sources.fetch_and_extract(
        f"vadersentiment-{VADER_VERSION}",
        lambda folder: sources.pip_download(
            "vaderSentiment", VADER_VERSION, folder, sdist=True
        ),
        sources.extract_tar,
        lambda name: name.endswith(
            ("additional_resources/hutto_ICWSM_2014.tar.gz", "/vader_lexicon.txt")
        ),
        sha256=VADER_SHA256,
    )


def parse_vader_lexicon(text: str) -> dict[str, float]:
    """Lines `token<TAB>mean valence<TAB>...`: valence from -4 to 4 per token."""
    lexicon = {}
    for line in text.splitlines():
        parts = line.split("\t")
        if len(parts) >= 2:
            try:
                lexicon[parts[0].strip()] = float(parts[1])
            except ValueError:
                continue
    return lexicon


def vader_lexicon() -> dict[str, float]:
    """VADER's 7,500 tokens rated for valence by people (-4 to 4)."""
    (path,) = _vader_sdist().rglob("vader_lexicon.txt")
    return parse_vader_lexicon(path.read_text(encoding="utf-8"))


def _vader_folder() -> Path:
    def build(staging: Path) -> None:
        (inner,) = _vader_sdist().rglob("hutto_ICWSM_2014.tar.gz")
        count = sources.extract_tar(
            inner, staging, lambda name: name.endswith("_GroundTruth.txt")
        )
        if count == 0:
            raise sources.FetchError(f"{inner} holds no *_GroundTruth.txt files")

    return sources.cached_folder("vader-ground-truth", build)


def _vader(name: str) -> LabelledText:
    folder = _vader_folder()
    (path,) = folder.rglob(VADER_FILES[name])
    return parse_vader_ratings(path.read_text(encoding="utf-8"))


def _fortunes() -> LabelledText:
    folder = sources.fetch_and_extract(
        "fortunes",
        lambda target: sources.apt_download("fortunes", target),
        sources.extract_deb,
        lambda name: name.startswith(FORTUNES_FOLDER) and "." not in Path(name).name,
    )
    texts, labels = [], []
    for path in sorted((folder / FORTUNES_FOLDER).iterdir()):
        if not path.is_file():
            continue
        for entry in parse_fortunes(path.read_text(encoding="utf-8", errors="replace")):
            texts.append(entry)
            labels.append(path.name)
    return LabelledText(texts, labels)


def _tfds_labelled(name: str) -> LabelledText:
    import tensorflow_datasets as tfds

    splits, info = sources.tfds_load(name, with_info=True)
    label_names = info.features["label"].names
    texts, labels, split_names = [], [], []
    for split, dataset in splits.items():
        if split not in ("train", "validation", "test"):
            continue
        for example in tfds.as_numpy(dataset):
            texts.append(example["text"].decode("utf-8", errors="replace"))
            labels.append(label_names[int(example["label"])])
            split_names.append(split)
    return LabelledText(texts, labels, split_names)


SOURCES = {
    "movie_sentences": "movie-review snippets rated by people (vaderSentiment sdist)",
    "vader_tweets": "tweets rated by people (vaderSentiment sdist)",
    "vader_amazon": "product-review snippets rated by people (vaderSentiment sdist)",
    "vader_nyt": "editorial snippets rated by people (vaderSentiment sdist)",
    "fortunes": "Debian's fortunes, labelled by category",
    "imdb": "TFDS imdb_reviews (online)",
}


def source_names() -> list[str]:
    return [*SOURCES, "file:PATH", "tfds:NAME"]


def load_labelled(name: str) -> LabelledText:
    if name.startswith("file:"):
        data = parse_labelled_file(name[len("file:") :])
    elif name.startswith("tfds:"):
        data = _tfds_labelled(name[len("tfds:") :])
    elif name in VADER_FILES:
        data = _vader(name)
    elif name == "fortunes":
        data = _fortunes()
    elif name == "imdb":
        data = _tfds_labelled("imdb_reviews")
    else:
        raise UserError(
            f"Unknown data source {name!r}. Allowed: {', '.join(source_names())}"
        )
    if len(set(data.labels)) < 2:
        raise UserError(
            f"Data source {name!r} needs at least 2 labels. "
            f"Received: {sorted(set(data.labels))}"
        )
    return data
