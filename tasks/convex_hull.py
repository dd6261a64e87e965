"""convex_hull: convex hulls from a pointer network.

Points uniform in the unit square (Vinyals, Fortunato and Jaitly, 2015);
the targets are the hull's corners from scipy's Qhull, counter-clockwise
from the smallest index, then an end token. The decoder starts at its
smallest index and may only continue with larger indices that keep the
corners so far a convex counter-clockwise polygon; it may end after three
corners. Beam search keeps the largest convex polygon of its answers. See
`tasks/_pointer.py` for the model.

Reference:
- [Vinyals et al., 2015](https://arxiv.org/abs/1506.03134), Table 1
"""

from __future__ import annotations

import dataclasses

import numpy as np
import tensorflow as tf

from keras_seq import metrics as metrics_lib
from keras_seq.data import geometry
from tasks import _pointer
from tasks._pointer import PointerConfig

# Cross products above -EPSILON count as left turns, so that float32 rounding
# of nearly collinear corners does not forbid a true hull corner.
EPSILON = 1e-6


@dataclasses.dataclass(frozen=True)
class Config(PointerConfig):
    """The shared pointer settings; `n` is the number of points."""


def keeps_convex(padded, visited, first, last):
    """bool `[B, T, N + 1]`: candidates `c` that keep every corner chosen so
    far on the left of (or on) both new edges, last -> c and the closing
    c -> first.

    A polygon is convex and counter-clockwise when all its corners lie on
    the left of each of its edges; checking the corners already chosen
    against the two edges a candidate would add keeps every partial answer
    closable into such a polygon, so neither a right turn nor a second turn
    around the first corner (a spiral) can be chosen.
    """
    # Axes [B, T, candidate c, corner v, xy].
    corner_first = _pointer.gather(padded, first)[:, :, None, None, :]
    corner_last = _pointer.gather(padded, last)[:, :, None, None, :]
    candidates = padded[:, None, :, None, :]
    corners = padded[:, None, None, :, :]
    after_last = geometry.cross(corner_last, candidates, corners)
    closing = geometry.cross(candidates, corner_first, corners)
    chosen = visited[:, :, None, :]
    left = (after_last > -EPSILON) & (closing > -EPSILON)
    return tf.reduce_all(left | ~chosen, axis=-1)


class Hulls(_pointer.PointerTask):
    PROBLEM = "convex_hull"
    OUTPUT = "hull"
    DESCRIPTION = "convex hulls of planar points with a pointer network"
    PRIMARY_METRIC = "accuracy"
    REFERENCE = "true hull"
    Config = Config
    PRESETS = _pointer.presets(Config(n="50", train_examples=100_000))

    def choices(self, points, point_mask, visited, count, first, last):
        """Unvisited points after the first corner's index that keep the
        polygon convex; the end after three corners (or when cornered)."""
        padded = _pointer.with_token(points)
        real = tf.pad(point_mask, [[0, 0], [1, 0]])[:, None, :]
        positions = tf.range(tf.shape(padded)[1])[None, None, :]
        started = (count >= 1)[..., None]
        allowed = real & ~visited & (~started | (positions > first[..., None]))
        allowed &= keeps_convex(padded, visited, first, last)
        may_end = (count >= 3) | ~tf.reduce_any(allowed, axis=-1)
        return tf.concat([may_end[..., None], allowed[..., 1:]], axis=-1)

    def best_beam(self, points, answers, usable, config=None):
        """The largest convex polygon (no other on the points has the hull's
        area; a decoder that ended early, cornered, leaves a smaller or a
        concave one), else the largest polygon; never an unusable beam when
        there is another."""

        def where_any(preferred, otherwise):
            return tf.where(
                tf.reduce_any(preferred, axis=1, keepdims=True), preferred, otherwise
            )

        convex = usable & geometry.is_convex(points, answers)
        pool = where_any(convex, where_any(usable, tf.ones_like(usable)))
        areas = geometry.polygon_areas(points, answers)
        score = tf.where(pool, areas, tf.fill(tf.shape(areas), -np.inf))
        return tf.argmax(score, axis=1, output_type=tf.int32)

    def metrics(self, test_set, answers):
        return metrics_lib.hull_metrics(
            test_set["points"], answers, test_set["answers"]
        )

    def reference(self, points):
        return geometry.convex_hull(points)

    def describe(self, points, answer):
        answer = answer[answer >= 0]
        reference = self.reference(points)
        exact = np.array_equal(answer, reference)
        verdict = "exact" if exact else f"true {reference.tolist()}"
        return f"hull {answer.tolist()}  ({verdict})"


TASK = Hulls()
