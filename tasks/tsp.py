"""tsp: planar travelling salesman tours from a pointer network.

Points uniform in the unit square (Vinyals, Fortunato and Jaitly, 2015);
the targets are optimal tours (Held-Karp up to 13 points, OR-Tools CP-SAT
above), written from point 0 towards its smaller neighbour. The decoder
starts at point 0 and never revisits a point; beam search keeps the
shortest of its tours. See `tasks/_pointer.py` for the model.

References:
- [Vinyals et al., 2015](https://arxiv.org/abs/1506.03134), Table 2
- [Kool et al., 2019](https://arxiv.org/abs/1803.08475), Table 1
"""

from __future__ import annotations

import dataclasses

import numpy as np
import tensorflow as tf

from keras_seq import metrics as metrics_lib
from keras_seq.data import geometry
from tasks import _pointer
from tasks._pointer import PointerConfig


@dataclasses.dataclass(frozen=True)
class Config(PointerConfig):
    """The shared pointer settings; `n` is the number of cities."""


class Tours(_pointer.PointerTask):
    PROBLEM = "tsp"
    OUTPUT = "tour"
    DESCRIPTION = "planar TSP with a pointer network (optimal tours as targets)"
    PRIMARY_METRIC = "mean_length"
    REFERENCE = "optimal"
    Config = Config
    PRESETS = _pointer.presets(Config())

    def choices(self, points, point_mask, visited, count, first, last):
        """Every unvisited point, from point 0 (position 1); the end once
        every point is visited."""
        positions = tf.range(tf.shape(points)[1] + 1)[None, None, :]
        real = tf.pad(point_mask, [[0, 0], [1, 0]])[:, None, :]
        allowed = real & ~visited & ((count > 0)[..., None] | (positions == 1))
        may_end = ~tf.reduce_any(allowed, axis=-1)
        return tf.concat([may_end[..., None], allowed[..., 1:]], axis=-1)

    def best_beam(self, points, answers, usable, config=None):
        """The shortest tour."""
        lengths = geometry.tour_lengths(points, answers)
        lengths = tf.where(usable, lengths, tf.fill(tf.shape(lengths), np.inf))
        return tf.argmin(lengths, axis=1, output_type=tf.int32)

    def metrics(self, test_set, answers):
        return metrics_lib.tour_metrics(
            test_set["points"], test_set["sizes"], answers, test_set["answers"]
        )

    def reference(self, points):
        return geometry.optimal_tours(points[None], np.array([len(points)]))[0]

    def _lengths(self, points, answer, reference):
        both = np.full((2, len(points)), -1)
        both[0, : len(answer)], both[1, : len(reference)] = answer, reference
        pair = np.asarray(points, np.float64)[None].repeat(2, 0)
        return np.asarray(geometry.tour_lengths(pair, both))

    def describe(self, points, answer):
        answer = answer[answer >= 0]
        reference = self.reference(points)
        length, best = self._lengths(points, answer, reference)
        return (
            f"tour {answer.tolist()}  length {length:.4f}  "
            f"(optimal {best:.4f}: {reference.tolist()})"
        )

    def plot_title(self, points, answer, reference):
        length, best = self._lengths(points, answer, reference)
        return f"tsp, {len(points)} points: predicted {length:.4f}, optimal {best:.4f}"


TASK = Tours()
