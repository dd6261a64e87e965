"""Metrics: nats and bits per character, confusion matrices and macro-F1,
corpus BLEU, tour lengths and gaps, convex-hull accuracy and area coverage,
labelled bracket scores of trees."""

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


def corpus_bleu(
    hypotheses: list[str], references: list[list[str]], max_order: int = 4
) -> float:
    """sacreBLEU's corpus BLEU (0 to 100) of `hypotheses` against one or more
    references each, case-insensitive (the vocabularies are lower-cased).

    Args:
        hypotheses: one text per example.
        references: the reference texts of every example (as many as it has).
        max_order: the longest n-grams counted; below 4, orders with no match
            are left out of the mean (sacreBLEU's `effective_order`).
    """
    from sacrebleu.metrics import BLEU

    width = max(len(texts) for texts in references)
    # sacreBLEU takes one stream per reference; examples with fewer repeat
    # their first, which changes no clipped n-gram count.
    streams = [
        [texts[index] if index < len(texts) else texts[0] for texts in references]
        for index in range(width)
    ]
    bleu = BLEU(
        max_ngram_order=max_order, lowercase=True, effective_order=max_order < 4
    )
    return float(bleu.corpus_score(hypotheses, streams).score)


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
    points = np.asarray(points, np.float64)
    mean_length = float(np.mean(tour_lengths(points, tours)))
    optimal_length = float(np.mean(tour_lengths(points, optimal_tours)))
    return {
        "mean_length": mean_length,
        "optimal_length": optimal_length,
        "gap_percent": 100.0 * (mean_length / optimal_length - 1.0),
        "valid_percent": 100.0 * float(valid.mean()),
    }


def hull_metrics(points, hulls, true_hulls) -> dict:
    """Exact-sequence accuracy, area coverage and percent valid of predicted
    convex hulls (Vinyals et al., 2015). A prediction is valid when its
    corners are distinct and make a convex polygon turning left
    (counter-clockwise) and winding once; the area coverage is the mean over
    all sets of its area over the true hull's area, counting invalid
    predictions as 0."""
    from keras_seq.data.geometry import is_convex, polygon_areas

    points = np.asarray(points, np.float64)
    hulls, true_hulls = np.asarray(hulls), np.asarray(true_hulls)
    distinct = np.array([len(set(row.tolist())) == len(row) for row in _rows(hulls)])
    valid = distinct & np.asarray(is_convex(points, hulls))
    areas = np.where(valid, np.asarray(polygon_areas(points, hulls)), 0.0)
    true_areas = np.asarray(polygon_areas(points, true_hulls))
    coverage = np.divide(
        areas, true_areas, out=np.zeros_like(areas), where=true_areas > 0
    )
    exact = [np.array_equal(a, b) for a, b in zip(_rows(hulls), _rows(true_hulls))]
    return {
        "accuracy": 100.0 * float(np.mean(exact)),
        "area_coverage": 100.0 * float(np.mean(coverage)),
        "valid_percent": 100.0 * float(np.mean(valid)),
    }


def bracket_scores(predicted: list[str], gold: list[str]) -> dict:
    """Labelled bracket precision, recall and F1 of bracketed trees, as EVALB
    counts them over a corpus (Sekine and Collins 1997): every node is a
    `(label, first leaf, last leaf)` bracket, a predicted bracket matches at
    most one gold bracket, and the counts are summed over all trees before
    dividing. Unlike EVALB's usual parameter file, punctuation counts and no
    labels are taken as equal. An output that is not one well-formed tree
    matches nothing and counts no predicted brackets.

    Returns percentages: `exact` (the whole tree equal), `precision`,
    `recall`, `f1` and `well_formed`.
    """
    from keras_seq.data.trees import labelled_spans, read_tree, to_brackets

    if len(predicted) != len(gold):
        raise ValueError(
            f"`predicted` and `gold` must have the same length. Received: "
            f"{len(predicted)} and {len(gold)}"
        )
    matched = predicted_count = gold_count = exact = well_formed = 0
    for output, reference in zip(predicted, gold):
        gold_tree = read_tree(reference)
        if gold_tree is None:
            raise ValueError(f"A gold tree is not well-formed: {reference!r}")
        gold_spans = labelled_spans(gold_tree)
        gold_count += sum(gold_spans.values())
        tree = read_tree(output)
        if tree is None:
            continue
        well_formed += 1
        spans = labelled_spans(tree)
        predicted_count += sum(spans.values())
        matched += sum((spans & gold_spans).values())
        exact += to_brackets(tree) == to_brackets(gold_tree)
    precision = matched / predicted_count if predicted_count else 0.0
    recall = matched / gold_count if gold_count else 0.0
    f1 = 2 * precision * recall / (precision + recall) if matched else 0.0
    count = max(1, len(gold))
    return {
        "exact": 100.0 * exact / count,
        "precision": 100.0 * precision,
        "recall": 100.0 * recall,
        "f1": 100.0 * f1,
        "well_formed": 100.0 * well_formed / count,
    }
