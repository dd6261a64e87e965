"""Metrics: nats and bits per character, confusion matrices and macro-F1,
tour lengths and gaps, convex-hull accuracy and area coverage."""

import math

import keras
import numpy as np


@keras.saving.register_keras_serializable(package="keras_seq")
def bits_per_character(y_true, y_pred):
    """Cross-entropy of the next character in bits (nats / ln 2), from logits."""
    nats = keras.losses.sparse_categorical_crossentropy(
        y_true, y_pred, from_logits=True
    )
    return nats / math.log(2.0)


def confusion_matrix(true_ids, predicted_ids, num_classes: int) -> np.ndarray:
    """Counts `[true, predicted]` of integer class ids."""
    matrix = np.zeros((num_classes, num_classes), dtype=np.int64)
    np.add.at(matrix, (np.asarray(true_ids), np.asarray(predicted_ids)), 1)
    return matrix


def macro_f1(matrix: np.ndarray) -> float:
    """The unweighted mean over classes of F1 = 2PR / (P + R), from a confusion
    matrix; a class never predicted nor present counts as F1 = 0."""
    true_positives = np.diag(matrix).astype(np.float64)
    predicted = matrix.sum(axis=0)
    actual = matrix.sum(axis=1)
    denominator = predicted + actual
    f1 = np.divide(
        2 * true_positives,
        denominator,
        out=np.zeros_like(true_positives),
        where=denominator > 0,
    )
    return float(f1.mean())


def _rows(answers: np.ndarray) -> list[np.ndarray]:
    return [row[row >= 0] for row in np.asarray(answers)]


def tour_metrics(points, sizes, tours, optimal_tours) -> dict:
    """Mean tour length, the optimal mean, the gap between them (percent of
    the optimal mean, as Vinyals et al. 2015 compare them) and the percent of
    predicted tours that visit every point exactly once."""
    from keras_seq.data.geometry import tour_lengths

    valid = np.array(
        [
            np.array_equal(np.sort(tour), np.arange(size))
            for tour, size in zip(_rows(tours), sizes)
        ]
    )
    mean_length = float(tour_lengths(points, tours).mean())
    optimal_length = float(tour_lengths(points, optimal_tours).mean())
    return {
        "mean_length": mean_length,
        "optimal_length": optimal_length,
        "gap_percent": 100.0 * (mean_length / optimal_length - 1.0),
        "valid_percent": 100.0 * float(valid.mean()),
    }


def is_convex_polygon(corners: np.ndarray) -> bool:
    """Whether `corners` `[k, 2]`, k >= 3, in order, make a convex polygon that
    turns left at every corner and winds around once."""
    if len(corners) < 3:
        return False
    edges = np.roll(corners, -1, axis=0) - corners
    following = np.roll(edges, -1, axis=0)
    cross = edges[:, 0] * following[:, 1] - edges[:, 1] * following[:, 0]
    if np.any(cross <= 0):
        return False
    turning = np.arctan2(cross, (edges * following).sum(-1)).sum()
    return bool(abs(turning - 2 * math.pi) < 1e-3)


def hull_metrics(points, hulls, true_hulls) -> dict:
    """Exact-sequence accuracy, area coverage and percent valid of predicted
    convex hulls (Vinyals et al., 2015). A prediction is valid when its
    corners make a convex polygon turning left (counter-clockwise); the area
    coverage is the mean over all sets of its area over the true hull's area,
    counting invalid predictions as 0."""
    from keras_seq.data.geometry import polygon_area

    exact, valid, coverage = [], [], []
    for row_points, hull, true_hull in zip(points, _rows(hulls), _rows(true_hulls)):
        exact.append(np.array_equal(hull, true_hull))
        is_valid = len(set(hull.tolist())) == len(hull) and is_convex_polygon(
            np.asarray(row_points, np.float64)[hull]
        )
        valid.append(is_valid)
        true_area = polygon_area(np.asarray(row_points, np.float64)[true_hull])
        area = polygon_area(np.asarray(row_points, np.float64)[hull]) if is_valid else 0
        coverage.append(area / true_area if true_area > 0 else 0.0)
    return {
        "accuracy": 100.0 * float(np.mean(exact)),
        "area_coverage": 100.0 * float(np.mean(coverage)),
        "valid_percent": 100.0 * float(np.mean(valid)),
    }
