"""Textures for the spatial LSTM: GIMP patterns, read here, cut into patches.

Sources, named as `--set data=NAME`:

- `gimp_textures`: the 58 patterns of Debian's `gimp-data` package
  (`/usr/share/gimp/2.0/patterns/*/*.pat`: leather, burlap, wood, stone,
  marble, ...), fetched once with `apt-get download gimp-data`;
- `pat:PATH`: a GIMP pattern file of the user's own, or a folder of them.

A GIMP pattern (`.pat`) is a header of big-endian 32-bit integers, header
size, version (1), width, height and bytes per pixel (1 grey, 2 grey and
alpha, 3 RGB, 4 RGBA), then the magic `GPAT` and the pattern's name, then
the raw pixels row by row. Patterns are made grey (ITU-R BT.601 luma) and
split by pattern, so that the test textures are ones the model never saw.
GIMP patterns tile seamlessly, so patches wrap around their edges.
"""

from __future__ import annotations

import struct
from pathlib import Path

import numpy as np

from keras_seq.data import sources
from keras_seq.errors import UserError

GIMP_PATTERNS = "usr/share/gimp/2.0/patterns/"
MAGIC = b"GPAT"
HEADER = struct.Struct(">5I4s")


def read_pattern(path: Path) -> tuple[str, np.ndarray]:
    """The name and the uint8 `[H, W, C]` pixels of a GIMP pattern file."""
    data = Path(path).read_bytes()
    if len(data) < HEADER.size or data[20:24] != MAGIC:
        raise UserError(
            f"{path}: not a GIMP pattern (a .pat file starts with a header "
            f"holding 'GPAT' at byte 20)"
        )
    header_size, version, width, height, depth, _ = HEADER.unpack_from(data)
    if version != 1 or depth not in (1, 2, 3, 4) or header_size < HEADER.size:
        raise UserError(
            f"{path}: a GIMP pattern of version {version} with {depth} bytes per "
            f"pixel; readable: version 1 with 1 to 4 bytes per pixel"
        )
    pixels = data[header_size:]
    if len(pixels) != width * height * depth:
        raise UserError(
            f"{path}: holds {len(pixels):,} bytes of pixels; its header says "
            f"{width}x{height} with {depth} bytes each ({width * height * depth:,})"
        )
    name = data[HEADER.size : header_size].rstrip(b"\0").decode("utf-8", "replace")
    image = np.frombuffer(pixels, np.uint8).reshape(height, width, depth)
    return name or Path(path).stem, image


def grey(image: np.ndarray) -> np.ndarray:
    """uint8 `[H, W, C]` (grey or RGB, with or without alpha) to `[H, W]`."""
    if image.shape[-1] <= 2:
        return image[..., 0]
    luma = image[..., :3].astype(np.float32) @ np.array([0.299, 0.587, 0.114])
    return np.clip(np.round(luma), 0, 255).astype(np.uint8)


def _gimp_folder() -> Path:
    folder = sources.fetch_and_extract(
        "gimp_patterns",
        lambda target: sources.apt_download("gimp-data", target),
        sources.extract_deb,
        lambda name: name.startswith(GIMP_PATTERNS) and name.endswith(".pat"),
    )
    return folder / GIMP_PATTERNS


def source_names() -> list[str]:
    return ["gimp_textures", "pat:PATH"]


def load_patterns(name: str) -> dict[str, np.ndarray]:
    """Grey uint8 `[H, W]` patterns of the source `name`, by file name."""
    if name == "gimp_textures":
        paths = sorted(_gimp_folder().rglob("*.pat"))
    elif name.startswith("pat:"):
        path = Path(name[len("pat:") :]).expanduser()
        if path.is_dir():
            paths = sorted(path.rglob("*.pat"))
            if not paths:
                raise UserError(f"{name}: the folder holds no .pat files")
        elif path.is_file():
            paths = [path]
        else:
            raise UserError(f"{name}: no such file or folder (give a GIMP .pat)")
    else:
        raise UserError(
            f"Unknown texture source {name!r}. Allowed: {', '.join(source_names())}"
        )
    return {path.stem: grey(read_pattern(path)[1]) for path in paths}


def patches(pattern: np.ndarray, size: int, stride: int) -> np.ndarray:
    """`[N, size, size]` patches at every `stride` of a tiling pattern, as
    many as fit its rows and columns, wrapping around its edges."""
    height, width = pattern.shape
    tiled = np.tile(pattern, (size // height + 2, size // width + 2))
    return np.stack(
        [
            tiled[top : top + size, left : left + size]
            for top in range(0, height, stride)
            for left in range(0, width, stride)
        ]
    )


def split_patterns(
    names: list[str], seed: int, held_out: int = 6
) -> tuple[list[str], list[str], list[str]]:
    """A seeded (train, validation, test) split of pattern names: `held_out`
    each for validation and test (one each of fewer than 18; with one
    pattern only, all three are it)."""
    if len(names) == 1:
        return names, names, names
    order = [names[i] for i in np.random.default_rng(seed).permutation(len(names))]
    size = min(held_out, max(1, len(names) // 3))
    return order[2 * size :] or order[:1], order[size : 2 * size], order[:size]
