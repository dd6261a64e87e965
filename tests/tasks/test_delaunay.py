"""delaunay: its targets, its decoding rules against a plain Python
reference, its metrics, and predict on the session's tiny run."""

import json

import numpy as np
import pytest
import tensorflow as tf

from keras_seq import cli
from keras_seq.config import apply_overrides
from keras_seq.data import geometry
from keras_seq.errors import UserError
from tasks import _pointer, delaunay
from tasks.delaunay import TASK


def test_targets_are_counter_clockwise_from_the_smallest_index_and_sorted():
    rng = np.random.default_rng(0)
    for points in rng.uniform(size=(20, 9, 2)):
        triangles = geometry.delaunay_triangles(points)
        assert len(triangles) <= geometry.max_triangles(9)
        assert np.all(triangles[:, 0] < triangles[:, 1:].min(axis=1))
        corners = points[triangles]
        assert np.all(geometry.cross(corners[:, 0], corners[:, 1], corners[:, 2]) > 0)
        assert triangles.tolist() == sorted(triangles.tolist())


def test_a_square_has_one_of_its_two_triangulations_and_a_line_none():
    square = np.array([[0, 0], [1, 0], [1, 1], [0, 1]], np.float64)
    triangles = {tuple(row) for row in geometry.delaunay_triangles(square).tolist()}
    # Four points on a circle: both diagonals make a Delaunay triangulation.
    assert triangles in ({(0, 1, 3), (1, 2, 3)}, {(0, 1, 2), (0, 2, 3)})
    line = np.array([[0, 0], [0.5, 0.5], [1, 1]], np.float64)
    with pytest.raises(UserError, match="not all on one line"):
        geometry.delaunay_triangles(line)


def _turn(o, a, b):
    return (a[0] - o[0]) * (b[1] - o[1]) - (a[1] - o[1]) * (b[0] - o[0])


def _cross(p, q, u, v):
    return _turn(p, q, u) * _turn(p, q, v) < 0 and _turn(u, v, p) * _turn(u, v, q) < 0


def _angle(o, a, b):
    first, second = np.subtract(a, o), np.subtract(b, o)
    cosine = np.dot(first, second) / np.linalg.norm(first) / np.linalg.norm(second)
    return float(np.arccos(np.clip(cosine, -1.0, 1.0)))


def reference_choices(points, chosen):
    """The rules of tasks/delaunay.py written out with loops: the allowed
    positions (0: the end) after the point indices `chosen`."""
    size, corner = len(points), len(chosen) % 3
    whole = [tuple(chosen[i : i + 3]) for i in range(0, len(chosen) - corner, 3)]
    # A star is closed when the point's triangles fill its angle: 2 pi, or
    # the angle between its neighbours along the hull.
    hull = geometry.convex_hull(points).tolist()
    full = [2 * np.pi] * size
    for k, p in enumerate(hull):
        previous, following = hull[k - 1], hull[(k + 1) % len(hull)]
        full[p] = _angle(points[p], points[following], points[previous])
    filled = [0.0] * size
    for t in whole:
        for k in range(3):
            filled[t[k]] += _angle(points[t[k]], points[t[k - 1]], points[t[k - 2]])
    closed = [filled[p] > full[p] - delaunay.ANGLE_TOLERANCE for p in range(size)]
    edges = [(t[i], t[(i + 1) % 3]) for t in whole for i in range(3)]
    before = whole[-1] if whole else None
    start = chosen[len(chosen) - corner :]

    def crosses(a, c):
        return any(_cross(points[a], points[c], points[u], points[v]) for u, v in edges)

    allowed = set()
    for c in range(size):
        if corner == 0:
            start_index = 0 if before is None else before[0]
            ok = c == start_index or (c > start_index and all(closed[:c]))
        elif corner == 1:
            (a,) = start
            ok = c > a and not crosses(a, c)
            ok = ok and not (before and a == before[0] and c < before[1])
            # Not past a q whose edge q -> a is written and a -> q, with
            # points on its left, is not.
            ok = ok and not any(
                (q, a) in edges
                and (a, q) not in edges
                and any(
                    _turn(points[a], points[q], points[p]) > delaunay.EPSILON
                    for p in range(size)
                )
                for q in range(a + 1, c)
            )
        else:
            a, b = start
            inside = any(
                _turn(points[a], points[b], points[p]) > delaunay.EPSILON
                and _turn(points[b], points[c], points[p]) > delaunay.EPSILON
                and _turn(points[c], points[a], points[p]) > delaunay.EPSILON
                for p in range(size)
            )
            ok = (
                c > a
                and c != b
                and _turn(points[a], points[b], points[c]) > delaunay.EPSILON
                and not (before and (a, b) == before[:2] and c <= before[2])
                and not crosses(a, c)
                and not crosses(b, c)
                and not inside
            )
        if ok:
            allowed.add(c + 1)
    if (corner == 0 and len(chosen) >= 3 and all(closed)) or not allowed:
        allowed.add(0)
    return allowed


def test_the_rules_are_the_python_reference_along_walks():
    # Even rows walk along the true triangulation (long prefixes, many
    # finished edges), odd rows at random through the allowed choices.
    rng = np.random.default_rng(3)
    rows, size = 24, 7
    points = rng.uniform(size=(rows, size, 2)).astype(np.float32)
    truths = [
        list(geometry.delaunay_triangles(p).reshape(-1) + 1) + [0] for p in points
    ]
    mask = tf.ones([rows, size], tf.bool)
    state = TASK.start_rules(tf.constant(points), mask)
    tokens = tf.zeros([rows], tf.int32)
    chosen = [[] for _ in range(rows)]
    done = np.zeros(rows, bool)
    while not done.all():
        state, allowed = TASK.advance(tf.constant(points), mask, state, tokens)
        allowed = allowed.numpy()
        picks = np.zeros(rows, np.int32)
        for row in np.flatnonzero(~done):
            expected = reference_choices(points[row].astype(np.float64), chosen[row])
            found = set(np.flatnonzero(allowed[row]).tolist())
            assert found == expected, (row, chosen[row])
            if row % 2 == 0:
                picks[row] = truths[row][len(chosen[row])]
                assert picks[row] in expected
            else:
                options = sorted(expected)
                if 0 in options and len(options) > 1 and rng.random() < 0.9:
                    options.remove(0)  # walk on more often than not
                picks[row] = rng.choice(options)
            if picks[row] == 0:
                done[row] = True
            else:
                chosen[row].append(int(picks[row]) - 1)
        tokens = tf.constant(picks)
    assert max(len(row) for row in chosen[1::2]) >= 6
    assert all(len(chosen[row]) == len(truths[row]) - 1 for row in range(0, rows, 2))


def test_teacher_forcing_allows_every_true_triangle_and_forbids_a_filled_one():
    # A square with a point inside, off its diagonals: triangle 0, 1, 2 holds
    # point 4, so after 0, 1 only 4 may close the first triangle.
    points = np.array([[0, 0], [1, 0], [1, 1], [0, 1], [0.5, 0.4]], np.float32)
    answers = geometry.delaunay_triangulations(points[None], np.array([5]))
    inputs, targets = _pointer.sequences(answers)
    count = tf.cumsum(tf.cast(inputs > 0, tf.int32), axis=1)
    allowed = delaunay.delaunay_choices(
        tf.constant(points[None]),
        tf.ones([1, 5], tf.bool),
        tf.maximum(targets, 0),
        count,
    ).numpy()[0]
    # Every target, the end included, is allowed without being forced.
    assert all(allowed[step, target] for step, target in enumerate(targets[0]))
    assert targets[0, :2].tolist() == [1, 2]  # the first triangle is 0, 1, 4
    assert np.flatnonzero(allowed[2]).tolist() == [5]


def test_the_teacher_forcing_tables_give_the_choices_of_every_step_tested():
    # True triangulations of mixed sizes (padded), and histories of random
    # corners, whose edges cross: the tables read from the finished
    # triangles must allow what testing each step against each edge does.
    rng = np.random.default_rng(5)
    rows, size = 12, 9
    points = rng.uniform(size=(rows, size, 2)).astype(np.float32)
    sizes = rng.integers(4, size + 1, rows)
    mask = tf.constant(np.arange(size)[None] < sizes[:, None])
    inputs, targets = _pointer.sequences(
        geometry.delaunay_triangulations(points, sizes)
    )
    walks = rng.integers(1, sizes[:, None] + 1, size=(rows, 30))
    for history, count in (
        (np.maximum(targets, 0), np.cumsum(inputs > 0, axis=1)),
        (walks, np.broadcast_to(np.arange(30), (rows, 30))),
    ):
        both = [
            delaunay.delaunay_choices(
                tf.constant(points),
                mask,
                tf.constant(history, tf.int32),
                tf.constant(count, tf.int32),
                tables=tables,
            ).numpy()
            for tables in (False, True)
        ]
        np.testing.assert_array_equal(both[0], both[1])
        assert both[0][:, :, 1:].any(axis=-1).mean() > 0.5  # not all ends


def test_the_beam_keeps_the_triangulation_of_largest_angles():
    # A quadrilateral's two triangulations: Delaunay's (diagonal 1-3) has
    # the larger smallest angle. Beam 2 ended cornered, with one triangle.
    points = tf.constant([[[0, 0], [1, 0], [1.3, 1], [0, 1]]], tf.float32)
    other, true, cornered = [0, 1, 2, 0, 2, 3], [0, 1, 3, 1, 2, 3], [0, 1, 3]
    assert geometry.delaunay_triangles(points[0].numpy()).reshape(-1).tolist() == true
    answers = tf.constant([[other, true, cornered + [-1] * 3]])
    order = delaunay.angle_order(points, answers).numpy()[0]
    assert order[1, 0] and not order[0, 1] and not order[0, 0]
    usable = tf.constant([[True, True, True]])
    angles = TASK.PRESETS["tiny"]  # the default
    likeliest = apply_overrides(angles, {"beam_choice": "likeliest"})
    assert TASK.best_beam(points, answers, usable, likeliest).numpy().tolist() == [0]
    assert TASK.best_beam(points, answers, usable, angles).numpy().tolist() == [1]
    # Never an unusable beam, nor one with fewer triangles.
    usable = tf.constant([[False, False, True]])
    assert TASK.best_beam(points, answers, usable, angles).numpy().tolist() == [2]
    usable = tf.constant([[True, False, True]])
    assert TASK.best_beam(points, answers, usable, angles).numpy().tolist() == [0]


def test_metrics_count_exact_covered_and_complete():
    true = np.array([[0, 1, 4, 0, 4, 3, 1, 2, 4, 2, 3, 4, -1, -1, -1]])
    assert delaunay.triangulation_metrics(true, true) == {
        "accuracy": 100.0,
        "triangle_coverage": 100.0,
        "complete_percent": 100.0,
    }
    # Two of the four triangles, and a partial third one that is not counted.
    partial = np.array([[0, 1, 4, 1, 2, 4, 2, 3, -1, -1, -1, -1, -1, -1, -1]])
    found = delaunay.triangulation_metrics(np.concatenate([true, partial]), [*true] * 2)
    assert found == {
        "accuracy": 50.0,
        "triangle_coverage": 75.0,
        "complete_percent": 50.0,
    }


def test_beam_answers_obey_the_rules_on_mixed_sizes():
    config = apply_overrides(TASK.PRESETS["tiny"], {"n": "4-6", "beam_width": 3})
    pieces = TASK.build_model(config)
    points, sizes = geometry.random_points(6, (4, 6), np.random.default_rng(1))
    solver = _pointer.Solver(TASK, config, pieces)
    answers = TASK.solve_all(solver.solve, points, sizes, batch=4)
    assert answers.shape == (6, 3 * geometry.max_triangles(6))
    for answer, point_set, size in zip(answers, points, sizes):
        chosen = answer[answer >= 0].tolist()
        assert len(chosen) % 3 == 0 and max(chosen, default=0) < size
        for step in range(len(chosen)):
            reference = reference_choices(point_set[:size], chosen[:step])
            assert chosen[step] + 1 in reference


@pytest.fixture(scope="module")
def tiny_run(tiny_runs):
    return tiny_runs("delaunay").folder


def test_the_tiny_run_and_predict_with_a_plot(tiny_run, tmp_path, capsys):
    found = json.loads((tiny_run / "metrics.json").read_text())
    assert {"accuracy", "triangle_coverage", "complete_percent"} <= set(found)
    assert 0 <= found["triangle_coverage"] <= 100
    picture = tmp_path / "triangles.png"
    points = ["0.1,0.1", "0.9,0.2", "0.5,0.8", "0.3,0.4", "0.7,0.6"]
    arguments = ["predict", "delaunay", "--model", str(tiny_run), *points]
    assert cli.main([*arguments, "--plot", str(picture)]) == 0
    assert "Delaunay triangles" in capsys.readouterr().out
    assert picture.stat().st_size > 5000
    line = ["0.1,0.1", "0.2,0.2", "0.3,0.3"]
    assert cli.main(["predict", "delaunay", "--model", str(tiny_run), *line]) == 2
    error = capsys.readouterr().err
    assert "all on one line" in error and "Traceback" not in error


def test_full_angles_inside_at_hull_corners_and_on_a_hull_edge():
    # A square's corners (pi / 2), its centre (2 pi), a point on its bottom
    # edge (pi), and a padded point, whose angle is not read.
    points = np.array(
        [[[0, 0], [1, 0], [1, 1], [0, 1], [0.5, 0.5], [0.5, 0], [9, 9]]], np.float32
    )
    mask = tf.constant([[True] * 6 + [False]])
    angles = delaunay.full_angles(tf.constant(points), mask).numpy()[0, :6]
    expected = [np.pi / 2] * 4 + [2 * np.pi, np.pi]
    np.testing.assert_allclose(angles, expected, atol=1e-5)


def test_a_triangle_may_not_move_past_a_point_whose_star_is_open():
    # Square 0, 1, 2, 3 with centre 4: after triangle 0, 1, 4 the star of
    # point 0 is open (its angle is pi / 2, 0-1-4 fills pi / 4), so the
    # next triangle must start at 0 again, and the answer may not end.
    points = np.array([[0, 0], [1, 0], [1, 1], [0, 1], [0.5, 0.5]], np.float32)
    history = tf.constant([[1, 2, 5, 0, 0, 0]])
    allowed = delaunay.delaunay_choices(
        tf.constant(points[None]), tf.ones([1, 5], tf.bool), history, tf.constant([[3]])
    ).numpy()[0, 0]
    assert np.flatnonzero(allowed).tolist() == [1]


def test_the_second_corner_may_not_pass_a_triangle_that_is_awaited():
    # After triangle 0, 1, 2 the edge 2 -> 0 is written and 0 -> 2 (point 3
    # on its left) is not: its triangle 0, 2, . comes before 0, 3, . and
    # 0, 4, ., so after 0 only 1 (0, 1, . again) and 2 may follow.
    points = np.array([[0, 0], [2, 0], [0.9, 0.9], [0, 2], [-1, 1]], np.float32)
    mask = tf.ones([1, 5], tf.bool)
    history = tf.constant([[1, 2, 3, 1, 0, 0, 0, 0, 0]])

    def allowed(points):
        return delaunay.delaunay_choices(
            tf.constant(points[None]), mask, history, tf.constant([[4]])
        ).numpy()[0, 0]

    assert np.flatnonzero(allowed(points)).tolist() == [2, 3]
    # With no point left of 0 -> 2 (points 3 and 4 moved to its right,
    # outside triangle 0, 1, 2), nothing is awaited and 0, 3, . may follow.
    points[3], points[4] = [0.5, -1], [3, 1]
    assert 4 in np.flatnonzero(allowed(points)).tolist()
