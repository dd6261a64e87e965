"""Plots people would rather look at than read: learning curves, confusion
matrices, gradient norms, attention heatmaps, tours, hulls and
triangulations, captioned images, trees, image grids and drawing steps."""

from __future__ import annotations

import csv
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


def _save(figure, output_png: Path) -> Path:
    """Writes `figure` as a PNG and frees it."""
    figure.tight_layout()
    figure.savefig(output_png, dpi=110)
    plt.close(figure)
    return output_png


def text_image(image) -> str:
    """A grey image in [0, 1], `[H, W]`, as text for a terminal: a character
    a pixel, every other row (a character is about twice as tall as wide)."""
    shades = " .:-=+*#%@"
    rows = []
    for row in image[::2]:
        levels = [int(min(max(value, 0.0), 1.0) * (len(shades) - 1)) for value in row]
        rows.append("".join(shades[level] for level in levels))
    return "\n".join(rows)


def read_history(path: Path) -> dict[str, list[float]]:
    """The columns of a Keras CSVLogger file, as lists of floats."""
    with open(path, newline="") as file:
        rows = list(csv.DictReader(file))
    columns: dict[str, list[float]] = {}
    for row in rows:
        for key, value in row.items():
            try:
                columns.setdefault(key, []).append(float(value))
            except (TypeError, ValueError):
                continue
    return columns


def learning_curves(
    history_csv: Path,
    output_png: Path,
    title: str = "",
    labels: dict[str, str] | None = None,
) -> Path:
    """Training and validation curves of every metric in a CSVLogger file.

    `labels` names the y axis of a metric (`{"loss": "nats per character"}`).
    """
    labels = labels or {}
    history = read_history(history_csv)
    metrics = [
        key
        for key in history
        if key not in ("epoch", "learning_rate") and not key.startswith("val_")
    ]
    figure, axes = plt.subplots(
        1,
        max(1, len(metrics)),
        figsize=(5 * max(1, len(metrics)), 3.6),
        squeeze=False,
    )
    epochs = [epoch + 1 for epoch in history.get("epoch", [])]
    for axis, metric in zip(axes[0], metrics):
        axis.plot(epochs, history[metric], marker="o", label="train")
        if f"val_{metric}" in history:
            axis.plot(epochs, history[f"val_{metric}"], marker="o", label="validation")
        axis.set_xlabel("epoch")
        axis.set_ylabel(labels.get(metric, metric))
        axis.grid(alpha=0.3)
        axis.legend()
    if title:
        figure.suptitle(title)
    return _save(figure, output_png)


def confusion_matrix(
    matrix, class_names: list[str], output_png: Path, title: str = ""
) -> Path:
    """A confusion matrix as a heatmap, rows normalised, counts written in."""
    import numpy as np

    matrix = np.asarray(matrix)
    size = max(4.0, 0.45 * len(class_names) + 2)
    figure, axis = plt.subplots(figsize=(size + 1, size))
    totals = matrix.sum(axis=1, keepdims=True)
    normalised = np.divide(matrix, totals, out=np.zeros(matrix.shape), where=totals > 0)
    image = axis.imshow(normalised, cmap="Blues", vmin=0, vmax=1)
    axis.set_xticks(range(len(class_names)), class_names, rotation=90)
    axis.set_yticks(range(len(class_names)), class_names)
    axis.set_xlabel("predicted")
    axis.set_ylabel("true")
    if len(class_names) <= 12:
        for row in range(len(class_names)):
            for column in range(len(class_names)):
                axis.text(
                    column,
                    row,
                    str(matrix[row, column]),
                    ha="center",
                    va="center",
                    color="white" if normalised[row, column] > 0.5 else "black",
                )
    figure.colorbar(image, ax=axis, label="fraction of the true class")
    if title:
        axis.set_title(title)
    return _save(figure, output_png)


def gradient_norms(rows: list[dict], output_png: Path, title: str = "") -> Path:
    """||dL/dh_t|| against t on a log scale, one line per cell and model."""
    figure, axis = plt.subplots(figsize=(7.5, 4.5))
    series: dict[tuple[str, str], list[tuple[int, float]]] = {}
    for row in rows:
        series.setdefault((row["cell"], row["model"]), []).append(
            (int(row["t"]), float(row["grad_norm"]))
        )
    colours = {"rnn": "tab:red", "gru": "tab:blue", "lstm": "tab:green"}
    for (cell, model), points in series.items():
        points.sort()
        axis.semilogy(
            [t for t, _ in points],
            [max(norm, 1e-30) for _, norm in points],
            label=f"{cell} ({model})",
            color=colours.get(cell),
            linestyle="-" if model == "trained" else "--",
        )
    axis.set_xlabel("time step t")
    axis.set_ylabel("||dL/dh_t||")
    axis.grid(alpha=0.3, which="both")
    axis.legend()
    axis.set_title(title or "gradient norms through time")
    return _save(figure, output_png)


def compare_curves(
    histories: dict[str, Path],
    output_png: Path,
    metric: str = "val_loss",
    title: str = "",
) -> Path:
    """The validation curve of every variant of a `keras-seq compare` run."""
    figure, axis = plt.subplots(figsize=(7, 4.2))
    for name, path in histories.items():
        history = read_history(path)
        if metric in history:
            epochs = [epoch + 1 for epoch in history["epoch"]]
            axis.plot(epochs, history[metric], marker="o", label=name)
    axis.set_xlabel("epoch")
    axis.set_ylabel(metric)
    axis.set_yscale("log")
    axis.grid(alpha=0.3, which="both")
    axis.legend()
    if title:
        axis.set_title(title)
    return _save(figure, output_png)


def attention_heatmap(
    weights, source_words: list[str], target_words: list[str], output_png: Path
) -> Path:
    """Attention weights as a heatmap: source words across, target words down."""
    import numpy as np

    weights = np.asarray(weights)[: len(target_words), : len(source_words)]
    figure, axis = plt.subplots(
        figsize=(1.2 + 0.55 * len(source_words), 1.0 + 0.45 * len(target_words))
    )
    axis.imshow(weights, cmap="viridis", vmin=0.0, vmax=1.0, aspect="auto")
    axis.set_xticks(range(len(source_words)), source_words, rotation=60, ha="right")
    axis.set_yticks(range(len(target_words)), target_words)
    axis.set_xlabel("source")
    axis.set_ylabel("translation")
    return _save(figure, output_png)


def point_paths(
    points,
    paths: dict[str, list[int]],
    output_png: Path,
    closed: bool = True,
    title: str = "",
) -> Path:
    """Points with one or more paths through them (a predicted and an optimal
    tour, or hull), each closed back to its start when `closed`."""
    import numpy as np

    points = np.asarray(points)
    figure, axis = plt.subplots(figsize=(5.2, 5.2))
    styles = [("tab:red", "-", 2.2), ("tab:blue", "--", 1.4), ("tab:green", ":", 1.4)]
    for (label, path), (color, line, width) in zip(paths.items(), styles):
        order = list(path) + ([path[0]] if closed and len(path) else [])
        axis.plot(
            points[order, 0], points[order, 1], line, color=color, lw=width, label=label
        )
    axis.scatter(points[:, 0], points[:, 1], color="black", s=18, zorder=3)
    for index, (x, y) in enumerate(points):
        axis.annotate(str(index), (x, y), textcoords="offset points", xytext=(3, 3))
    axis.set_aspect("equal")
    axis.set_xlim(-0.05, 1.05)
    axis.set_ylim(-0.05, 1.05)
    axis.legend(loc="upper right", fontsize=8)
    if title:
        axis.set_title(title, fontsize=10)
    return _save(figure, output_png)


def triangulations(
    points,
    triangulations: dict[str, list[tuple[int, int, int]]],
    output_png: Path,
    title: str = "",
) -> Path:
    """One panel per triangulation of the same points (a predicted and the
    true one), the triangles of a panel that the last panel lacks filled in
    red."""
    import numpy as np

    points = np.asarray(points)
    names = list(triangulations)
    reference = set(triangulations[names[-1]])
    figure, axes = plt.subplots(
        1, len(names), figsize=(4.6 * len(names), 4.8), squeeze=False
    )
    for axis, name in zip(axes[0], names):
        triangles = triangulations[name]
        wrong = 0
        for triangle in triangles:
            corners = points[list(triangle) + [triangle[0]]]
            if tuple(triangle) not in reference:
                wrong += 1
                axis.fill(corners[:, 0], corners[:, 1], color="tab:red", alpha=0.3)
            axis.plot(corners[:, 0], corners[:, 1], "-", color="tab:blue", lw=1.2)
        axis.scatter(points[:, 0], points[:, 1], color="black", s=16, zorder=3)
        for index, (x, y) in enumerate(points):
            axis.annotate(str(index), (x, y), textcoords="offset points", xytext=(3, 3))
        label = f"{name}: {len(triangles)} triangles"
        if name != names[-1]:
            label += f", {wrong} not in {names[-1]}"
        axis.set_title(label, fontsize=9)
        axis.set_aspect("equal")
        axis.set_xlim(-0.05, 1.05)
        axis.set_ylim(-0.05, 1.05)
    if title:
        figure.suptitle(title, fontsize=10)
    return _save(figure, output_png)


def captioned_image(
    image,
    caption: str,
    output_png: Path,
    weights=None,
    words: list[str] | None = None,
) -> Path:
    """An image under its caption; with attention `weights` `[T, h * w]`, one
    small map per word of `words` over the image as well."""
    import numpy as np

    words = list(words or [])
    maps = 0 if weights is None else min(len(words), len(weights), 12)
    columns = 1 + maps
    figure, axes = plt.subplots(
        1, columns, figsize=(3.2 + 1.6 * maps, 3.6), squeeze=False
    )
    axes = axes[0]
    axes[0].imshow(np.clip(image, 0, 1))
    axes[0].set_title(caption or "(no caption)", fontsize=9, wrap=True)
    for index in range(maps):
        side = int(round(np.sqrt(len(weights[index]))))
        grid = np.asarray(weights[index])[: side * side].reshape(side, side)
        axes[index + 1].imshow(np.clip(image, 0, 1))
        axes[index + 1].imshow(
            grid,
            cmap="magma",
            alpha=0.6,
            extent=(0, image.shape[1], image.shape[0], 0),
        )
        axes[index + 1].set_title(words[index], fontsize=9)
    for axis in axes:
        axis.axis("off")
    return _save(figure, output_png)


def tree(root, output_png: Path, title: str = "") -> Path:
    """A tree (`keras_seq.data.trees.Node`) drawn top down: leaves in order
    along the bottom, every node above the middle of its children."""
    labels: list[tuple[float, float, str, bool]] = []
    edges: list[tuple[tuple[float, float], tuple[float, float]]] = []
    next_leaf = [0.0]

    def depth_of(node) -> int:
        if isinstance(node, str):
            return 0
        return 1 + max((depth_of(child) for child in node.children), default=0)

    height = depth_of(root)

    def place(node, depth: int) -> tuple[float, float]:
        if isinstance(node, str):
            point = (next_leaf[0], -height)
            next_leaf[0] += 1.0
            labels.append((*point, node, True))
            return point
        children = [place(child, depth + 1) for child in node.children]
        if children:
            x = (children[0][0] + children[-1][0]) / 2
        else:
            x = next_leaf[0]
            next_leaf[0] += 1.0
        point = (x, -depth)
        labels.append((*point, node.label, False))
        edges.extend((point, child) for child in children)
        return point

    place(root, 0)
    width = max(next_leaf[0], 1.0)
    figure, axis = plt.subplots(
        figsize=(min(2.0 + 0.9 * width, 30.0), 1.0 + 0.75 * (height + 1))
    )
    for (x0, y0), (x1, y1) in edges:
        axis.plot([x0, x1], [y0, y1], "-", color="0.6", lw=1, zorder=1)
    for x, y, text, is_leaf in labels:
        axis.text(
            x,
            y,
            text,
            ha="center",
            va="center",
            fontsize=9,
            color="black" if is_leaf else "tab:blue",
            bbox={
                "boxstyle": "round,pad=0.25",
                "facecolor": "white" if is_leaf else "#e8f0fb",
                "edgecolor": "0.7",
            },
            zorder=2,
        )
    axis.set_xlim(-0.7, width - 0.3)
    axis.set_ylim(-height - 0.6, 0.6)
    axis.axis("off")
    if title:
        axis.set_title(title, fontsize=10)
    return _save(figure, output_png)


def image_grid(
    images, output_png: Path, title: str = "", columns: int = 8, inverted=True
) -> Path:
    """Grey images `[N, H, W]` in [0, 1], in rows of `columns`; `inverted`
    draws 1 as black (ink on paper, for digits)."""
    import numpy as np

    images = np.asarray(images)
    columns = min(columns, len(images))
    rows = -(-len(images) // columns)
    figure, axes = plt.subplots(
        rows, columns, figsize=(1.2 * columns, 1.2 * rows + 0.4), squeeze=False
    )
    for axis in axes.flat:
        axis.axis("off")
    for axis, image in zip(axes.flat, images):
        axis.imshow(image, cmap="gray_r" if inverted else "gray", vmin=0.0, vmax=1.0)
    if title:
        figure.suptitle(title, fontsize=10)
    return _save(figure, output_png)


def completions(
    sources, continued, rows: int, output_png: Path, title: str = "", inverted=True
) -> Path:
    """Grey images `[N, H, W]` in [0, 1] and their continuations from row
    `rows` on: a row per image, the source, what was kept, and the result."""
    import numpy as np

    sources, continued = np.asarray(sources), np.asarray(continued)
    kept = sources.copy()
    kept[:, rows:] = 0.0 if inverted else 0.5
    columns = (
        ("source", sources),
        (f"top {rows} rows", kept),
        ("continued", continued),
    )
    figure, axes = plt.subplots(
        len(sources), 3, figsize=(4.2, 1.4 * len(sources) + 0.5), squeeze=False
    )
    for row in range(len(sources)):
        for column, (label, images) in enumerate(columns):
            axis = axes[row, column]
            axis.imshow(
                images[row], cmap="gray_r" if inverted else "gray", vmin=0.0, vmax=1.0
            )
            axis.axis("off")
            if row == 0:
                axis.set_title(label, fontsize=8)
    if title:
        figure.suptitle(title, fontsize=10)
    return _save(figure, output_png)


def image_steps(canvases, output_png: Path, title: str = "") -> Path:
    """Canvases `[N, T, H, W]` in [0, 1]: a row per image, a column per step."""
    import numpy as np

    canvases = np.asarray(canvases)
    count, steps = canvases.shape[:2]
    figure, axes = plt.subplots(
        count, steps, figsize=(0.9 * steps, 0.9 * count + 0.5), squeeze=False
    )
    for row in range(count):
        for step in range(steps):
            axis = axes[row, step]
            axis.imshow(canvases[row, step], cmap="gray_r", vmin=0.0, vmax=1.0)
            axis.axis("off")
            if row == 0:
                axis.set_title(str(step + 1), fontsize=7)
    if title:
        figure.suptitle(title, fontsize=10)
    return _save(figure, output_png)
