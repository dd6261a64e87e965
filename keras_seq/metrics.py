"""Metrics: nats and bits per character, confusion matrices and macro-F1."""

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
