"""Tiny data sets, written in the test, for the tasks that read real text or
images: what each task's tests and the contract test train on."""

from pathlib import Path

import numpy as np

from tests.conftest import TINY_PLAY

PAIRS = [
    ("Ich habe Hunger.", "I am hungry."),
    ("Ich habe Durst.", "I am thirsty."),
    ("Du hast Hunger.", "You are hungry."),
    ("Wir haben Zeit.", "We have time."),
    ("Das Haus ist alt.", "The house is old."),
    ("Das Auto ist neu.", "The car is new."),
]
POSITIVE = [
    "a wonderful film",
    "great acting and a lovely story",
    "truly great fun",
    "wonderful and moving",
    "a lovely great film",
]
NEGATIVE = [
    "a dull film",
    "boring acting and a dreadful story",
    "truly awful",
    "dull and tedious",
    "an awful boring film",
]
COLOURS = {"red": (220, 30, 30), "green": (30, 180, 60), "blue": (40, 60, 220)}
SHAPES = ("square", "circle", "triangle")


def play(folder: Path) -> Path:
    path = folder / "play.txt"
    path.write_text(TINY_PLAY * 60, encoding="utf-8")
    return path


def pairs(folder: Path) -> Path:
    path = folder / "pairs.tsv"
    path.write_text("".join(f"{de}\t{en}\n" for de, en in PAIRS * 10))
    return path


def reviews(folder: Path) -> Path:
    path = folder / "reviews.csv"
    rows = ["text,label"]
    for _ in range(12):
        rows += [f"{text},positive" for text in POSITIVE]
        rows += [f"{text},negative" for text in NEGATIVE]
    path.write_text("\n".join(rows) + "\n")
    return path


def draw(colour: str, shape: str, rng: np.random.Generator, size: int = 32):
    """A white RGB image with one coloured shape on it."""
    image = np.full((size, size, 3), 255, np.uint8)
    rows, columns = np.mgrid[:size, :size]
    centre = rng.integers(10, size - 10, 2)
    radius = rng.integers(5, 9)
    if shape == "square":
        inside = (abs(rows - centre[0]) <= radius) & (
            abs(columns - centre[1]) <= radius
        )
    elif shape == "circle":
        inside = (rows - centre[0]) ** 2 + (columns - centre[1]) ** 2 <= radius**2
    else:
        inside = (rows >= centre[0] - radius) & (rows <= centre[0] + radius)
        inside &= abs(columns - centre[1]) <= (rows - centre[0] + radius) / 2
    image[inside] = COLOURS[colour]
    return image


def shapes(folder: Path) -> Path:
    """60 PNGs of coloured shapes and a captions.tsv ("A red square.")."""
    import tensorflow as tf

    rng = np.random.default_rng(0)
    lines = []
    for index in range(60):
        colour = list(COLOURS)[index % 3]
        shape = SHAPES[(index // 3) % 3]
        name = f"{index:03d}.png"
        png = tf.io.encode_png(draw(colour, shape, rng)).numpy()
        (folder / name).write_bytes(png)
        lines.append(f"{name}\tA {colour} {shape}.")
    (folder / "captions.tsv").write_text("\n".join(lines) + "\n")
    return folder / "captions.tsv"


# Penn-Treebank-style trees of a toy grammar, every sentence a new mix of
# its words.
NOUNS = ("cat", "dog", "bird", "fish")
VERBS = ("sees", "likes", "chases")


def treebank(folder: Path) -> Path:
    rng = np.random.default_rng(0)
    lines = []
    for _ in range(120):
        subject, object_ = rng.choice(NOUNS, 2)
        verb = rng.choice(VERBS)
        object_phrase = f"(NP (DT the) (NN {object_}))"
        if rng.random() < 0.5:
            object_phrase = f"(NP {object_phrase} (PP (IN with) (NP (NN {subject}))))"
        lines.append(
            f"( (S (NP-SBJ (DT the) (NN {subject})) "
            f"(VP (VBZ {verb}) {object_phrase}) (. .)) )"
        )
    path = folder / "trees.mrg"
    path.write_text("\n".join(lines) + "\n")
    return path


def digit_images(folder: Path) -> Path:
    """40 PNGs of 28x28 strokes: a bar at a random place and angle."""
    import tensorflow as tf

    rng = np.random.default_rng(0)
    rows, columns = np.mgrid[0:28, 0:28]
    for index in range(40):
        angle, offset = rng.uniform(0, np.pi), rng.uniform(-6, 6)
        distance = np.cos(angle) * (columns - 14) + np.sin(angle) * (rows - 14)
        image = (np.abs(distance - offset) < 2.0).astype(np.uint8) * 255
        png = tf.io.encode_png(image[..., None]).numpy()
        (folder / f"{index:02d}.png").write_bytes(png)
    return folder


def write_pattern(path: Path, pixels: np.ndarray, name: str = "tiny") -> Path:
    """A GIMP pattern file (.pat) of uint8 pixels `[H, W, C]`."""
    import struct

    height, width, depth = pixels.shape
    title = name.encode() + b"\0"
    header = struct.pack(">5I4s", 24 + len(title), 1, width, height, depth, b"GPAT")
    path.write_bytes(header + title + pixels.astype(np.uint8).tobytes())
    return path


def patterns(folder: Path) -> str:
    """Three 12x12 GIMP patterns: stripes in RGB, checks and a ramp in grey."""
    rows, columns = np.mgrid[0:12, 0:12]
    stripes = np.where(columns % 4 < 2, 200, 40)
    write_pattern(folder / "stripes.pat", np.stack([stripes] * 3, -1), "Stripes")
    checks = np.where((rows // 3 + columns // 3) % 2 == 0, 230, 20)
    write_pattern(folder / "checks.pat", checks[..., None], "Checks")
    write_pattern(folder / "ramp.pat", (rows * 20)[..., None], "Ramp")
    return f"pat:{folder}"


# The `data` setting of every task that reads files; the others generate
# their data (cached under $KERAS_SEQ_DATA).
FILES = {
    "char_generation": play,
    "translation": pairs,
    "text_classification": reviews,
    "captioning": shapes,
    "parsing": treebank,
    "draw": digit_images,
    "spatial_lstm": patterns,
}


# What the tasks' own tests need beyond the tiny preset: a few more epochs
# where they check that something was learnt, and the options they cover.
RUN_SETTINGS = {
    "translation": {"epochs": 3},
    "text_classification": {"pretrain": "task", "epochs": 3},
    "captioning": {"attention": "additive", "augment": 0.1},
}


def settings(task: str, folder: Path) -> dict[str, str]:
    """The settings of `task`'s tiny run: its tiny data and RUN_SETTINGS."""
    found = dict(RUN_SETTINGS.get(task, {}))
    if task in FILES:
        folder.mkdir(parents=True, exist_ok=True)
        written = FILES[task](folder)
        found["data"] = written if isinstance(written, str) else f"file:{written}"
    return found
