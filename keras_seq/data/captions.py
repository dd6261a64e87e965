"""Captioned images for captioning, by name.

- `tuxpaint`: Debian's `tuxpaint-stamps-default`: the stamps under
  `/usr/share/tuxpaint/stamps/`, each a picture with a `.txt` whose first
  line is an English caption written by a person ("A great blue heron.").
  PNG stamps are kept; SVG drawings are skipped (rasterising them would need
  a vector renderer the package does not depend on).
- `twemoji`: the npm package `emoji-datasource-twitter`: 64-pixel PNGs of
  the emoji, captioned with their lower-cased Unicode names; skin-tone
  variants add the tone ("father christmas: medium skin tone").
- `file:PATH`: a TSV of image path (relative to the TSV's folder) and
  caption.
- `flickr8k:DIR`, `coco:DIR`: those data sets' own folder layouts.
- `tfds:NAME`: a TFDS set with `image` and `captions` (for example
  `coco_captions`), online only.

Every source gives a list of `Example(image, caption, group)`: `image` is a
file path (or encoded bytes), and examples of one `group` (the variants of
one emoji, the captions of one photograph) stay in one split.
"""

from __future__ import annotations

import collections
import dataclasses
import json
import random
from collections.abc import Callable
from pathlib import Path

from keras_seq.data import sources
from keras_seq.errors import UserError

TUXPAINT_STAMPS = "usr/share/tuxpaint/stamps/"
TWEMOJI_VERSION = "16.0.0"
TWEMOJI_IMAGES = "package/img/twitter/64/"
SKIN_TONES = {
    "1F3FB": "light skin tone",
    "1F3FC": "medium-light skin tone",
    "1F3FD": "medium skin tone",
    "1F3FE": "medium-dark skin tone",
    "1F3FF": "dark skin tone",
}


@dataclasses.dataclass(frozen=True)
class Example:
    image: str | bytes
    caption: str
    group: str


def image_bytes(example: Example) -> bytes:
    """The encoded image of an example (read from its file if it has one)."""
    if isinstance(example.image, bytes):
        return example.image
    return Path(example.image).read_bytes()


def split_by_group(
    examples: list[Example], seed: int
) -> tuple[list[Example], list[Example], list[Example]]:
    """Train, validation and test examples, 80/10/10 by group, so that the
    variants of one picture share a split; seeded."""
    groups = sorted({example.group for example in examples})
    random.Random(seed).shuffle(groups)
    test_size = max(1, len(groups) // 10)
    parts = {
        "test": set(groups[:test_size]),
        "validation": set(groups[test_size : 2 * test_size]),
    }

    def part_of(example):
        for name, members in parts.items():
            if example.group in members:
                return name
        return "train"

    split = collections.defaultdict(list)
    for example in examples:
        split[part_of(example)].append(example)
    return split["train"], split["validation"], split["test"]


def pictures(examples: list[Example]) -> tuple[list[Example], list[list[str]]]:
    """The distinct pictures of a split, in order (one example each), and
    all the captions of each."""
    order, references = [], collections.defaultdict(list)

    def key(example):
        return example.group if isinstance(example.image, bytes) else example.image

    for example in examples:
        if key(example) not in references:
            order.append(example)
        references[key(example)].append(example.caption)
    return order, [references[key(example)] for example in order]


def first_line(text: str) -> str:
    for line in text.splitlines():
        if line.strip():
            return line.strip()
    return ""


def _tuxpaint() -> list[Example]:
    folder = sources.fetch_and_extract(
        "tuxpaint-stamps-default",
        lambda target: sources.apt_download("tuxpaint-stamps-default", target),
        sources.extract_deb,
        lambda name: (
            name.startswith(TUXPAINT_STAMPS) and name.endswith((".txt", ".png", ".svg"))
        ),
    )
    return tuxpaint_examples(folder / TUXPAINT_STAMPS)


def tuxpaint_examples(stamps: Path) -> list[Example]:
    """Every PNG stamp with the first line of its `.txt` as caption."""
    examples = []
    for description in sorted(stamps.rglob("*.txt")):
        picture = description.with_suffix(".png")
        caption = first_line(description.read_text(encoding="utf-8", errors="replace"))
        if picture.is_file() and caption:
            relative = picture.relative_to(stamps)
            examples.append(Example(str(picture), caption, str(relative)))
    return examples


def tuxpaint_skipped(stamps: Path) -> int:
    """How many captioned stamps are SVG drawings only (skipped)."""
    return sum(
        1
        for description in stamps.rglob("*.txt")
        if not description.with_suffix(".png").is_file()
        and description.with_suffix(".svg").is_file()
    )


def _twemoji() -> list[Example]:
    folder = sources.fetch_and_extract(
        "emoji-datasource-twitter",
        lambda target: sources.npm_pack(
            "emoji-datasource-twitter", TWEMOJI_VERSION, target
        ),
        sources.extract_tar,
        lambda name: name == "package/emoji.json" or name.startswith(TWEMOJI_IMAGES),
    )
    entries = json.loads((folder / "package" / "emoji.json").read_text("utf-8"))
    return twemoji_examples(entries, folder / TWEMOJI_IMAGES)


def _tones(key: str) -> str:
    return ", ".join(SKIN_TONES.get(code.upper(), code) for code in key.split("-"))


def twemoji_examples(entries: list[dict], images: Path) -> list[Example]:
    """One example per emoji image, and one per skin-tone variant."""
    examples = []
    for entry in entries:
        name = (entry.get("name") or entry.get("short_name") or "").lower()
        if not name:
            continue
        group = entry.get("unified") or name
        candidates = [(entry.get("image"), name)]
        for key, variant in (entry.get("skin_variations") or {}).items():
            candidates.append((variant.get("image"), f"{name}: {_tones(key)}"))
        for image, caption in candidates:
            if image and (images / image).is_file():
                examples.append(Example(str(images / image), caption, group))
    return examples


def _tsv(path_text: str) -> list[Example]:
    path = Path(path_text).expanduser()
    if not path.is_file():
        raise UserError(f"file:{path_text}: no such file")
    examples = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        parts = line.split("\t")
        if len(parts) != 2 or not parts[1].strip():
            raise UserError(
                f"file:{path_text} line {number}: expected an image path and a "
                f"caption separated by a tab. Received: {line[:80]!r}"
            )
        image = (path.parent / parts[0].strip()).resolve()
        examples.append(Example(str(image), parts[1].strip(), str(image)))
    return examples


def _flickr8k(folder_text: str) -> list[Example]:
    folder = Path(folder_text).expanduser()
    tokens = folder / "Flickr8k.token.txt"
    images = folder / "Flicker8k_Dataset"
    if not tokens.is_file() or not images.is_dir():
        raise UserError(
            f"flickr8k:{folder_text}: expected Flickr8k.token.txt and "
            "Flicker8k_Dataset/ in that folder"
        )
    examples = []
    for line in tokens.read_text(encoding="utf-8").splitlines():
        key, _, caption = line.partition("\t")
        name = key.split("#")[0]
        if caption and (images / name).is_file():
            examples.append(Example(str(images / name), caption.strip(), name))
    return examples


def _coco(folder_text: str) -> list[Example]:
    folder = Path(folder_text).expanduser()
    found = sorted(folder.glob("annotations/captions_*.json"))
    if not found:
        raise UserError(
            f"coco:{folder_text}: expected annotations/captions_*.json and the "
            "image folders (train2017/, val2017/) in that folder"
        )
    examples = []
    for annotation_file in found:
        split = annotation_file.stem.split("_", 1)[1]
        content = json.loads(annotation_file.read_text(encoding="utf-8"))
        names = {image["id"]: image["file_name"] for image in content["images"]}
        for annotation in content["annotations"]:
            path = folder / split / names[annotation["image_id"]]
            if path.is_file():
                examples.append(
                    Example(str(path), annotation["caption"].strip(), str(path))
                )
    return examples


def _tfds(name: str) -> list[Example]:
    import tensorflow as tf

    dataset = sources.tfds_load(name, split="train")
    examples = []
    for index, item in enumerate(dataset):
        encoded = tf.io.encode_jpeg(item["image"]).numpy()
        captions = item["captions"]["text"].numpy()
        for caption in captions:
            examples.append(Example(encoded, caption.decode(), str(index)))
    return examples


SOURCES: dict[str, Callable[[], list[Example]]] = {
    "tuxpaint": _tuxpaint,
    "twemoji": _twemoji,
}
PREFIXED: dict[str, Callable[[str], list[Example]]] = {
    "file": _tsv,
    "flickr8k": _flickr8k,
    "coco": _coco,
    "tfds": _tfds,
}


def source_names() -> list[str]:
    return [*SOURCES, "file:PATH", "flickr8k:DIR", "coco:DIR", "tfds:NAME"]


def load_examples(name: str) -> list[Example]:
    """The captioned images of source `name`."""
    if name in SOURCES:
        examples = SOURCES[name]()
    else:
        prefix, _, argument = name.partition(":")
        if prefix not in PREFIXED or not argument:
            raise UserError(
                f"Unknown data source {name!r}. Allowed: {', '.join(source_names())}"
            )
        examples = PREFIXED[prefix](argument)
    if len(examples) < 3:
        raise UserError(
            f"data={name} holds {len(examples)} captioned images; at least 3 are "
            "needed for the training, validation and test splits"
        )
    return examples
