"""Parallel text (sentence pairs) for translation, by name.

- `ding_de_en`: Debian's `trans-de-en` package (the Ding dictionary),
  `/usr/share/trans/de-en`, lines `German :: English` whose sub-entries are
  separated by ` | `. Aligned sub-entries that are sentences (both sides end
  in `.`, `?` or `!`, the English has at least 3 words) are kept.
- `messages_de_en`: the German message catalogues that Debian packages of
  command-line tools ship (`apt`, `coreutils`, `tar`, ...): msgstr, msgid
  pairs of 3 to 12 English words without placeholders. Text of another kind
  than the dictionary's, for checking a model out of domain.
- `file:PATH`: a TSV of source and target.
- `tfds:NAME`: a TFDS translation set, such as `ted_hrlr_translate/pt_to_en`
  (online only).
"""

from __future__ import annotations

import random
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


_WORD_OR_MARK = re.compile(r"\w+(?:[-'’]\w+)*|[^\w\s]")


class WordLookup:
    """Word-by-word translation with a dictionary, the baseline a model of
    the dictionary's own data must beat.

    Each word becomes the first sense of the shortest dictionary entry (by
    line length) that has it as a one-word synonym, an entry where it is
    the first synonym preferred; it is looked up as written, then in lower
    case, then capitalised (a sentence's first word in lower case first, so
    that "Ich" is the pronoun, not the noun). Unknown words are copied;
    punctuation is kept.
    """

    def __init__(self, senses: dict[str, str]):
        self.senses = senses

    @classmethod
    def from_ding(cls, text: str) -> "WordLookup":
        ranked = {}
        for line in text.splitlines():
            if line.startswith("#") or " :: " not in line:
                continue
            german, english = line.split(" :: ", 1)
            german_parts, english_parts = german.split(" | "), english.split(" | ")
            if len(german_parts) != len(english_parts):
                continue
            for source, target in zip(german_parts, english_parts):
                sense = _bare(target)
                if not sense:
                    continue
                # Notes first: they may hold semicolons, "der {art} (des; dem)".
                synonyms = _ANNOTATION.sub(" ", source).split(";")
                for position, synonym in enumerate(synonyms):
                    word = " ".join(synonym.split())
                    rank = (position > 0, len(line))
                    if len(word.split()) == 1 and rank < ranked.get(word, (2,))[:2]:
                        ranked[word] = (*rank, sense)
        return cls({word: sense for word, (*_, sense) in ranked.items()})

    def word(self, word: str, first: bool = False) -> str:
        forms = (word.lower(), word) if first else (word, word.lower())
        for form in (*forms, word.capitalize()):
            if form in self.senses:
                return self.senses[form]
        return word

    def translate(self, sentence: str) -> str:
        words = []
        for token in _WORD_OR_MARK.findall(sentence):
            if token[0].isalnum() or token[0] == "_":
                words.append(self.word(token, first=not words))
            elif words:
                words[-1] += token
            else:
                words.append(token)
        return " ".join(words)


def ding_lookup() -> WordLookup:
    """`WordLookup` of the cached Ding dictionary."""
    return WordLookup.from_ding(
        (_ding_folder() / DING_FILE).read_text(encoding="utf-8")
    )


def ding_phrases() -> list[tuple[str, str]]:
    """`parse_ding_phrases` of the cached Ding dictionary."""
    return parse_ding_phrases((_ding_folder() / DING_FILE).read_text(encoding="utf-8"))


def phrase_pairs(reverse: bool, seed: int) -> list[tuple[str, str]]:
    """The Ding dictionary's word and phrase pairs (`ding_phrases`), English
    first when `reverse`, shuffled with `seed`."""
    pairs = ding_phrases()
    if reverse:
        pairs = [(target, source) for source, target in pairs]
    random.Random(seed).shuffle(pairs)
    return pairs


def pairs_of_known_words(
    pairs: list[tuple[str, str]], source_words: set[str], target_words: set[str]
) -> list[tuple[str, str]]:
    """The pairs whose words (as `keras_seq.data.words.tokenize` splits
    them) are all in the two vocabularies."""
    import tensorflow as tf

    from keras_seq.data.words import tokenize

    def known(texts, words):
        rows = []
        for start in range(0, len(texts), 8192):
            batch = tokenize(tf.constant(texts[start : start + 8192])).to_list()
            rows += [all(word.decode() in words for word in row) for row in batch]
        return rows

    return [
        pair
        for pair, source_ok, target_ok in zip(
            pairs,
            known([s for s, _ in pairs], source_words),
            known([t for _, t in pairs], target_words),
        )
        if source_ok and target_ok
    ]


def _ding_folder() -> Path:
    return sources.fetch_and_extract(
        "trans-de-en",
        lambda target: sources.apt_download("trans-de-en", target),
        sources.extract_deb,
        lambda name: name == DING_FILE,
    )


def _ding() -> list[tuple[str, str]]:
    return parse_ding((_ding_folder() / DING_FILE).read_text(encoding="utf-8"))


MESSAGE_PACKAGES = ("apt", "coreutils", "tar", "grep", "sed", "findutils", "dpkg")
_PLACEHOLDER = re.compile(r"[%\n\t`<>={}\\/_$]|--|\.\.\.")


def read_catalogue(catalogue: bytes) -> dict[str, str]:
    """The messages of a compiled gettext catalogue (.mo), msgid to msgstr,
    decoded with the charset its header names (UTF-8 if none); the header
    (empty msgid), plural forms and messages in a context are left out.

    `gettext.GNUTranslations` decodes the header itself as UTF-8 before it
    has read the charset, and fails on Latin-1 catalogues."""
    import struct

    if len(catalogue) < 20:
        raise ValueError(f"not a gettext catalogue: {len(catalogue)} bytes")
    for order in ("<", ">"):
        if struct.unpack(order + "I", catalogue[:4])[0] == 0x950412DE:
            break
    else:
        raise ValueError("not a gettext catalogue: no .mo magic number")
    count, originals, translations = struct.unpack(order + "3I", catalogue[8:20])

    def strings(table):
        for index in range(count):
            length, offset = struct.unpack_from(
                order + "2I", catalogue, table + 8 * index
            )
            yield catalogue[offset : offset + length]

    raw = list(zip(strings(originals), strings(translations)))
    header = dict(raw).get(b"", b"")
    found = re.search(rb"charset=([-\w]+)", header)
    charset = found.group(1).decode("ascii") if found else "utf-8"
    messages = {}
    for original, translation in raw:
        # Plural forms (split by \x00) and messages in a context (after
        # \x04) are left out: their words depend on what fills them in.
        if not original or b"\x00" in original or b"\x04" in original:
            continue
        try:
            messages[original.decode(charset)] = translation.decode(charset)
        except (UnicodeDecodeError, LookupError):
            continue
    return messages


def parse_messages(catalogue: bytes) -> list[tuple[str, str]]:
    """(German, English) pairs of a compiled gettext catalogue (.mo): the
    messages of 3 to 12 English words with no placeholders, options or
    paths, translated into something else."""
    pairs = []
    for english, german in read_catalogue(catalogue).items():
        if not english or not german:
            continue
        if _PLACEHOLDER.search(english + german) or english == german:
            continue
        if 3 <= len(english.split()) <= 12 and english[0].isalpha():
            pairs.append((" ".join(german.split()), " ".join(english.split())))
    return sorted(set(pairs))


def _messages() -> list[tuple[str, str]]:
    pairs = set()
    for package in MESSAGE_PACKAGES:
        member = f"usr/share/locale/de/LC_MESSAGES/{package}.mo"
        folder = sources.fetch_and_extract(
            f"messages-{package}",
            lambda target, package=package: sources.apt_download(package, target),
            sources.extract_deb,
            lambda name, member=member: name == member,
        )
        pairs.update(parse_messages((folder / member).read_bytes()))
    return sorted(pairs)


# Packages whose German catalogues may join the training pairs
# (`catalogue_pairs`): system and command-line tools other than the
# development set's `MESSAGE_PACKAGES`.
CATALOGUE_PACKAGES = (
    "adduser", "aptitude-common", "bash", "binutils-common", "bison", "cpio",
    "debconf-i18n", "diffutils", "e2fsprogs-l10n", "gawk", "gettext",
    "gnupg-l10n", "grub-common", "kbd", "libc-l10n", "libgpg-error-l10n",
    "libpopt0", "m4", "make", "man-db", "mc-data", "nano", "procps", "psmisc",
    "shared-mime-info", "sharutils", "sudo", "texinfo", "util-linux-locales",
    "wdiff", "wget", "xz-utils",
)  # fmt: skip


def _german_catalogues(package: str) -> list[bytes]:
    folder = sources.fetch_and_extract(
        f"catalogues-{package}",
        lambda target: sources.apt_download(package, target),
        sources.extract_deb,
        lambda name: "/locale/de/LC_MESSAGES/" in name and name.endswith(".mo"),
    )
    return [path.read_bytes() for path in sorted(folder.rglob("*.mo"))]


def catalogue_pairs(
    development: list[tuple[str, str]], packages=CATALOGUE_PACKAGES
) -> list[tuple[str, str]]:
    """(German, English) message pairs (`parse_messages`) of other packages'
    German catalogues, for training; none shares its German, or its English
    in any case, with a `development` pair (libraries such as gnulib put the
    same messages into many packages)."""
    german = {source for source, _ in development}
    english = {target.lower() for _, target in development}
    pairs = set()
    for package in packages:
        for catalogue in _german_catalogues(package):
            pairs.update(parse_messages(catalogue))
    return sorted(
        (source, target)
        for source, target in pairs
        if source not in german and target.lower() not in english
    )


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
    return ["ding_de_en", "messages_de_en", "file:PATH", "tfds:NAME"]


def load_pairs(name: str) -> list[tuple[str, str]]:
    if name == "ding_de_en":
        pairs = _ding()
    elif name == "messages_de_en":
        pairs = _messages()
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
