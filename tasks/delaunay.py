"""delaunay: planar Delaunay triangulation from a pointer network.

Points uniform in the unit square (Vinyals, Fortunato and Jaitly, 2015,
Table 2); the targets are scipy's (Qhull's) Delaunay triangles, each written
counter-clockwise from its smallest index, the triangles sorted, as one
sequence of three indices per triangle, then an end token. The decoder may
only write triangles that keep the answer a valid triangulation so far and
in that order: each triangle starts at its smallest index, turns
counter-clockwise, comes after the one before it (so none repeats), has no
edge crossing an edge of an earlier triangle and no point inside it, and
starts past a point only once that point's triangles are all written (their
angles fill its full angle), and does not pass a second corner whose
triangle is still due; the answer ends only when every point's are.
That the triangles are Delaunay's (no point inside a triangle's
circumcircle) is what the model learns. See `tasks/_pointer.py` for the model.

Reference:
- [Vinyals et al., 2015](https://arxiv.org/abs/1506.03134), Table 2
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import tensorflow as tf

from keras_seq.config import option
from keras_seq.data import geometry
from tasks import _pointer
from tasks._pointer import PointerConfig

# A triangle must turn left by more than this (twice its area) to count as
# counter-clockwise, and a point must be this far inside every edge to be
# inside a triangle: float32 rounding of nearly collinear points does not
# forbid a true triangle.
EPSILON = 1e-7
# A point's star is closed when the angles of its triangles add up to its
# full angle (2 pi inside the hull, the hull's angle on it) within this many
# radians: float32 angles of a true triangulation agree to about 1e-6.
ANGLE_TOLERANCE = 1e-3
BEAM_CHOICES = ("likeliest", "angles")
# Sorted angles of two triangulations that differ by less than this (radians)
# are the same angle (a triangle both have gives the same float32 angles).
ANGLE_TIE = 1e-6


@dataclasses.dataclass(frozen=True)
class Config(PointerConfig):
    """The shared pointer settings; `n` is the number of points."""

    # Like tsp's shortest tour, a choice by the points only; on the paper
    # preset's 60-minute model at n=10 it nearly doubles the exact
    # triangulations (docs/results/pointer.md).
    beam_choice: str = option(
        "angles",
        choices=BEAM_CHOICES,
        help="of the beam's complete triangulations, keep the likeliest, or "
        "the one whose angles, sorted, are largest (Delaunay's are: "
        "de Berg et al. 2008, Theorem 9.9; the points only)",
    )


def _at(history, index):
    """`history` `[B, L]` at `index` `[B, T]`; 0 where the index is outside."""
    length = tf.shape(history)[1]
    inside = (index >= 0) & (index < length)
    values = tf.gather(history, tf.clip_by_value(index, 0, length - 1), batch_dims=1)
    return tf.where(inside, values, 0)


def _crosses(start, end, edge_start, edge_end):
    """Whether segments start-end cross edges at an inner point of both.
    Segments sharing an end point (a turn of exactly 0) do not cross."""
    return (
        geometry.cross(start, end, edge_start) * geometry.cross(start, end, edge_end)
        < 0
    ) & (
        geometry.cross(edge_start, edge_end, start)
        * geometry.cross(edge_start, edge_end, end)
        < 0
    )


def full_angles(points, point_mask):
    """The angle around each point that its triangles must fill, float32
    `[B, N]`: 2 pi inside the hull, the hull's inner angle at a hull corner
    (pi on a hull edge).

    From the directions to the other points: at a hull corner the largest
    gap between neighbouring directions is at least pi, and the triangles
    fill the rest.
    """
    offsets = points[:, None, :, :] - points[:, :, None, :]  # [B, p, q, 2]
    directions = tf.atan2(offsets[..., 1], offsets[..., 0])
    size = tf.shape(points)[1]
    others = point_mask[:, None, :] & ~tf.eye(size, dtype=tf.bool)[None]
    # Directions of non-points sort last, as copies of the largest one.
    largest = tf.reduce_max(tf.where(others, directions, -np.pi - 1), -1)
    ordered = tf.sort(tf.where(others, directions, largest[..., None]), axis=-1)
    gaps = ordered[..., 1:] - ordered[..., :-1]
    wrap = ordered[..., :1] + 2 * np.pi - largest[..., None]
    gap = tf.reduce_max(tf.concat([gaps, wrap], -1), -1)
    on_hull = gap >= np.pi - ANGLE_TOLERANCE
    return tf.where(on_hull, 2 * np.pi - gap, 2 * np.pi)


def outer_edges(points, point_mask):
    """Whether the directed edge p -> q has no real point on its left (by
    more than `EPSILON`), bool `[B, N + 1, N + 1]` over positions (point + 1):
    then no triangle of the answer lies on that side of it (p-q is a hull
    edge, with the hull on its right). False where p or q is no real point.
    """
    corners = points[:, :, None, None, :]
    turns = geometry.cross(corners, points[:, None, :, None, :], points[:, None, None])
    left = tf.reduce_any((turns > EPSILON) & point_mask[:, None, None, :], -1)
    size = tf.shape(points)[1]
    real = point_mask[:, :, None] & point_mask[:, None, :]
    outer = ~left & real & ~tf.eye(size, dtype=tf.bool)[None]
    return tf.pad(outer, [[0, 0], [1, 0], [1, 0]])


def _corner_angles(corners_xy):
    """The inner angle at each corner of triangles `[..., 3, 2]`: `[..., 3]`."""
    before = tf.roll(corners_xy, 1, axis=-2) - corners_xy
    after = tf.roll(corners_xy, -1, axis=-2) - corners_xy
    turn = before[..., 0] * after[..., 1] - before[..., 1] * after[..., 0]
    dot = tf.reduce_sum(before * after, -1)
    return tf.atan2(tf.abs(turn), dot)


def delaunay_choices(
    points, point_mask, history, count, full=None, outer=None, tables=False
):
    """The choices allowed at each step, bool `[B, T, N + 1]` (0: the end).

    Args:
        points: float32 `[B, N, 2]`; point_mask: bool `[B, N]`, real points.
        history: int32 `[B, L]`, the positions chosen (point + 1) in order;
            entries at and after a step's `count` are not read for it.
        count: int32 `[B, T]`, how many positions were chosen before each
            step.
        full, outer: the points' `full_angles` and `outer_edges`, if already
            computed.
        tables: for many steps of one history (teacher forcing): test every
            segment between two points against every edge of the history
            once, and read each step's crossings and edges from tables over
            the triangles finished, rather than test every step's candidates
            against every edge (for T steps and N + 1 positions, N + 1
            rather than T segments per edge; the same choices).

    Besides the rules of the module's docstring, a triangle may start at a
    larger index than the one before it only when every point of smaller
    index has its star closed (its finished triangles fill its full angle,
    `full_angles`), since in the sorted order no later triangle can touch
    such a point; and the answer may end only when every star is closed.
    Within the triangles of one first corner a, the second corner may not
    pass a point q > a whose edge q -> a is written while a -> q is not
    (and has a point on its left): the triangle a, q, r on that side starts
    at a (r > a; one starting at r < a would have been written already),
    so it comes before any a, b, . with b > q. A step with no choice left
    may end.
    """
    padded = _pointer.with_token(points)
    real = tf.pad(point_mask, [[0, 0], [1, 0]])[:, None, :]  # [B, 1, P]
    positions = tf.range(tf.shape(padded)[1])[None, None, :]
    corner = count % 3  # which corner of its triangle the step chooses
    base = count - corner
    a, b = _at(history, base), _at(history, base + 1)
    before = [_at(history, base - 3 + k) for k in range(3)]  # 0s at the start

    # The edges of the history's triangles: [B, 1, 1, E, 2].
    triangles = tf.shape(history)[1] // 3
    corners = tf.reshape(history[:, : 3 * triangles], [-1, triangles, 3])
    ends = tf.roll(corners, -1, axis=2)

    def coordinates(index):
        return _pointer.gather(padded, tf.reshape(index, [tf.shape(index)[0], -1]))

    corner_xy = coordinates(corners)  # [B, 3 * triangles, 2]
    edge_start = corner_xy[:, None, None]
    edge_end = coordinates(ends)[:, None, None]
    candidates = padded[:, None, :, None, :]  # [B, 1, P, 1, 2]
    a_xy = _pointer.gather(padded, a)[:, :, None, :]  # [B, T, 1, 2]
    b_xy = _pointer.gather(padded, b)[:, :, None, :]

    if tables:
        size = tf.shape(padded)[1]
        done = tf.minimum(count // 3, triangles)  # triangles finished [B, T]

        def by_finished(table, anchor):
            """`table` `[B, K + 1, P, P]` (its row m over the first m
            triangles) at each step's triangles finished and `anchor`:
            `[B, T, P]`."""
            return tf.gather_nd(table, tf.stack([done, anchor], -1), batch_dims=1)

        # Segment i-p crosses an edge of one of the first m triangles:
        # [B, K + 1, i, p].
        segment_start = padded[:, :, None, None, :]  # [B, P, 1, 1, 2]
        crossing = _crosses(segment_start, candidates, edge_start, edge_end)
        crossing = tf.reduce_any(
            tf.reshape(crossing, [-1, size, size, triangles, 3]), -1
        )
        crossed = tf.cumsum(tf.cast(tf.transpose(crossing, [0, 3, 1, 2]), tf.int32), 1)
        crossed = tf.pad(crossed, [[0, 0], [1, 0], [0, 0], [0, 0]]) > 0
        # The edges s -> t of the first m triangles: [B, K + 1, s, t].
        edges = tf.einsum(
            "bkjs,bkjt->bkst", tf.one_hot(corners, size), tf.one_hot(ends, size)
        )
        edges = tf.pad(tf.cumsum(edges, 1), [[0, 0], [1, 0], [0, 0], [0, 0]]) > 0.5

        def crosses_finished(anchor):
            return by_finished(crossed, anchor)

        into_a = by_finished(tf.transpose(edges, [0, 1, 3, 2]), a)
        out_of_a = by_finished(edges, a)
    else:
        finished = (tf.range(triangles)[None, None, :] * 3 + 3) <= base[..., None]
        finished = tf.repeat(finished, 3, axis=2)[:, :, None, :]  # [B, T, 1, E]

        def crosses_finished(anchor):
            anchor_xy = _pointer.gather(padded, anchor)[:, :, None, None, :]
            crossing = _crosses(anchor_xy, candidates, edge_start, edge_end)
            return tf.reduce_any(crossing & finished, axis=-1)  # [B, T, P]

        # Edges q -> a and a -> q among the finished ones: [B, T, P].
        starts = tf.reshape(corners, [-1, 1, 1, 3 * triangles])
        stops = tf.reshape(ends, [-1, 1, 1, 3 * triangles])
        at_a = a[..., None, None]
        into_a = tf.reduce_any(
            (starts == positions[..., None]) & (stops == at_a) & finished, -1
        )
        out_of_a = tf.reduce_any(
            (starts == at_a) & (stops == positions[..., None]) & finished, -1
        )
    from_a = crosses_finished(a)
    if outer is None:
        outer = outer_edges(points, point_mask)
    awaited = (
        (positions > a[..., None])
        & into_a
        & ~out_of_a
        & ~tf.gather(outer, a, batch_dims=1)
    )
    passes_awaited = tf.cumsum(tf.cast(awaited, tf.int32), axis=-1, exclusive=True) > 0
    left_turn = geometry.cross(a_xy, b_xy, padded[:, None]) > EPSILON
    # A point strictly inside triangle a, b, c: axes [B, T, c, point].
    c_xy = padded[:, None, :, None, :]
    others = padded[:, None, None, :, :]
    a4, b4 = a_xy[:, :, :, None, :], b_xy[:, :, :, None, :]
    inside = (
        (geometry.cross(a4, b4, others) > EPSILON)
        & (geometry.cross(b4, c_xy, others) > EPSILON)
        & (geometry.cross(c_xy, a4, others) > EPSILON)
    )
    holds_a_point = tf.reduce_any(inside & real[:, :, None, :], axis=-1)

    # The angle each point's finished triangles fill: [B, T, P].
    angles = _corner_angles(tf.reshape(corner_xy, [-1, triangles, 3, 2]))
    at_point = tf.one_hot(corners, tf.shape(padded)[1])  # [B, triangles, 3, P]
    # After k finished triangles, their angles summed per point: [B, k, P].
    sums = tf.cumsum(tf.einsum("brkp,brk->brp", at_point, angles), axis=1)
    sums = tf.pad(sums, [[0, 0], [1, 0], [0, 0]])
    filled = tf.gather(sums, base // 3, batch_dims=1)
    if full is None:
        full = full_angles(points, point_mask)
    full = tf.pad(full, [[0, 0], [1, 0]])[:, None, :]
    open_star = real & (filled < full - ANGLE_TOLERANCE)  # [B, T, P]
    # Whether a point of smaller position has its star open: [B, T, P].
    open_before = tf.cumsum(tf.cast(open_star, tf.int32), axis=-1, exclusive=True) > 0

    same_a = (a == before[0])[..., None]
    same_ab = same_a & (b == before[1])[..., None]
    first_corner = (positions == before[0][..., None]) | (
        (positions > before[0][..., None]) & ~open_before
    )
    second_corner = (
        (positions > a[..., None])
        & (~same_a | (positions >= before[1][..., None]))
        & ~from_a
        & ~passes_awaited
    )
    third_corner = (
        (positions > a[..., None])
        & (positions != b[..., None])
        & left_turn
        & (~same_ab | (positions > before[2][..., None]))
        & ~from_a
        & ~crosses_finished(b)
        & ~holds_a_point
    )
    corner = corner[..., None]
    allowed = real & tf.where(
        corner == 0, first_corner, tf.where(corner == 1, second_corner, third_corner)
    )
    closed = ~tf.reduce_any(open_star, -1)
    may_end = ((corner[..., 0] == 0) & (count >= 3) & closed) | ~tf.reduce_any(
        allowed, -1
    )
    return tf.concat([may_end[..., None], allowed[..., 1:]], axis=-1)


def angle_order(points, answers):
    """Whether triangulation i's angles beat j's, bool `[B, W, W]`, for
    answers `[B, W, 3M]` (point indices, padded with -1): with each one's
    angles sorted, i's is larger at the first place where the two differ
    by more than `ANGLE_TIE`. Among all triangulations of points in general
    position, Delaunay's is the one no other beats (its angles are
    lexicographically largest: de Berg et al. 2008, Theorem 9.9)."""
    batch, width = tf.shape(answers)[0], tf.shape(answers)[1]
    corners = tf.reshape(answers, [batch, width, -1, 3])
    corner_xy = tf.gather(points, tf.maximum(corners, 0), batch_dims=1)
    angles = _corner_angles(corner_xy)  # [B, W, M, 3]
    angles = tf.where(corners >= 0, angles, np.inf)
    ordered = tf.sort(tf.reshape(angles, [batch, width, -1]), axis=-1)
    difference = ordered[:, :, None, :] - ordered[:, None, :, :]  # [B, i, j, 3M]
    apart = tf.abs(difference) > ANGLE_TIE
    apart &= tf.math.is_finite(difference)
    first = tf.argmax(tf.cast(apart, tf.int32), axis=-1, output_type=tf.int32)
    at_first = tf.gather(difference, first[..., None], batch_dims=3)[..., 0]
    return tf.reduce_any(apart, -1) & (at_first > 0)


def triangles_of(answer: np.ndarray) -> list[tuple[int, int, int]]:
    """The whole triangles of an answer (indices, padded with -1)."""
    indices = answer[answer >= 0]
    whole = len(indices) // 3 * 3
    return [tuple(row) for row in indices[:whole].reshape(-1, 3).tolist()]


def triangulation_metrics(answers, true_answers) -> dict:
    """Exact accuracy (the same set of triangles), triangle coverage (the
    share of all true triangles that were produced, pooled over the
    problems; Vinyals et al. 2015, Table 2) and the share of answers with as
    many triangles as the true triangulation (by the decoding rules they do
    not overlap, so those are triangulations of the points)."""
    exact, found, total, complete = [], 0, 0, []
    for answer, truth in zip(np.asarray(answers), np.asarray(true_answers)):
        predicted, true = set(triangles_of(answer)), set(triangles_of(truth))
        exact.append(predicted == true)
        found += len(predicted & true)
        total += len(true)
        complete.append(len(predicted) == len(true))
    return {
        "accuracy": 100.0 * float(np.mean(exact)),
        "triangle_coverage": 100.0 * found / max(total, 1),
        "complete_percent": 100.0 * float(np.mean(complete)),
    }


class Triangulations(_pointer.PointerTask):
    PROBLEM = "delaunay"
    OUTPUT = "triangles"
    DESCRIPTION = "Delaunay triangulations of planar points with a pointer network"
    PRIMARY_METRIC = "triangle_coverage"
    REFERENCE = "Delaunay"
    Config = Config
    PRESETS = _pointer.presets(Config(n="10", train_examples=100_000))

    def answer_width(self, size):
        # 3 * geometry.max_triangles(size), for a tensor `size` too.
        return 3 * tf.maximum(2 * size - 5, 1)

    def start_rules(self, points, point_mask) -> dict:
        batch_size, size = tf.shape(points)[0], tf.shape(points)[1]
        return {
            "history": tf.zeros([batch_size, self.answer_width(size)], tf.int32),
            "count": tf.zeros([batch_size], tf.int32),
            # Once per problem, not at every step.
            "full": full_angles(points, point_mask),
            "outer": outer_edges(points, point_mask),
        }

    def advance(self, points, point_mask, rules, tokens):
        history, count = rules["history"], rules["count"]
        chosen = tf.cast(tokens > 0, tf.int32)
        slot = tf.one_hot(count, tf.shape(history)[1], dtype=tf.int32)
        history += slot * (tokens * chosen)[:, None]
        count += chosen
        allowed = delaunay_choices(
            points, point_mask, history, count[:, None], rules["full"], rules["outer"]
        )
        return {**rules, "history": history, "count": count}, allowed[:, 0]

    def finish(self, answers):
        """Without the corners of a triangle left unfinished (a decoder that
        was cornered halfway through one may end)."""
        count = tf.reduce_sum(tf.cast(answers >= 0, tf.int32), axis=1)
        whole = tf.range(tf.shape(answers)[1])[None, :] < (count // 3 * 3)[:, None]
        return tf.where(whole, answers, -1)

    def forced_rules(self, points, point_mask, inputs, targets):
        count = tf.cumsum(tf.cast(inputs > 0, tf.int32), axis=1)
        return delaunay_choices(
            points, point_mask, tf.maximum(targets, 0), count, tables=True
        )

    def best_beam(self, points, answers, usable, config=None):
        """The usable beam with the most whole triangles (every triangulation
        of the points has as many, 2n - 2 - hull corners; a beam that ended
        cornered has fewer), the likeliest of those; with `beam_choice=angles`,
        of those the one whose sorted angles are largest, compared from the
        smallest on (`angle_order`), then the likeliest."""
        triangles = tf.reduce_sum(tf.cast(answers >= 0, tf.int32), axis=-1) // 3
        score = tf.where(usable, triangles, -1)
        if config is not None and config.beam_choice == "angles":
            pool = score == tf.reduce_max(score, axis=1, keepdims=True)
            beaten = angle_order(points, answers) & pool[:, :, None]
            score = tf.cast(pool & ~tf.reduce_any(beaten, axis=1), tf.int32)
        return tf.argmax(score, axis=1, output_type=tf.int32)

    def metrics(self, test_set, answers):
        return triangulation_metrics(answers, test_set["answers"])

    def reference(self, points):
        return geometry.delaunay_triangles(points).reshape(-1)

    def describe(self, points, answer):
        predicted = set(triangles_of(answer))
        true = set(triangles_of(self.reference(points)))
        verdict = (
            "exact"
            if predicted == true
            else (f"{len(predicted & true)} of the {len(true)} Delaunay triangles")
        )
        listed = " ".join(
            "-".join(map(str, triangle)) for triangle in sorted(predicted)
        )
        return f"{len(predicted)} triangles: {listed}  ({verdict})"

    def plot(self, points, answer, reference, output_png: Path, title: str) -> None:
        from keras_seq import plots

        plots.triangulations(
            points,
            {
                "predicted": triangles_of(answer),
                self.REFERENCE: triangles_of(reference),
            },
            output_png,
            title=title,
        )


TASK = Triangulations()
