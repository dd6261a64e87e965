"""Metrics: nats and bits per character (more follow with the tasks)."""

import math

import keras


@keras.saving.register_keras_serializable(package="keras_seq")
def bits_per_character(y_true, y_pred):
    """Cross-entropy of the next character in bits (nats / ln 2), from logits."""
    nats = keras.losses.sparse_categorical_crossentropy(
        y_true, y_pred, from_logits=True
    )
    return nats / math.log(2.0)
