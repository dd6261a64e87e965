"""tsp and convex_hull end to end at the tiny preset, and their rules."""

import json

import numpy as np
import pytest
import tensorflow as tf

from keras_seq import cli, metrics
from keras_seq.config import apply_overrides
from keras_seq.data import geometry
from tasks import _pointer
from tasks.convex_hull import TASK as convex_hull
from tasks.tsp import TASK as tsp
from tests.conftest import run_python


@pytest.fixture(scope="module")
def runs(tiny_runs):
    """The folder of the session's tiny runs of tsp and convex_hull."""
    return tiny_runs("tsp").folder.parent if tiny_runs("convex_hull") else None


def test_runs_report_the_issue_metrics(runs):
    found = json.loads((runs / "tsp" / "metrics.json").read_text())
    assert {"mean_length", "optimal_length", "gap_percent", "valid_percent"} <= set(
        found
    )
    assert found["valid_percent"] == 100.0
    assert found["mean_length"] >= found["optimal_length"] - 1e-6
    hull = json.loads((runs / "convex_hull" / "metrics.json").read_text())
    assert {"accuracy", "area_coverage", "valid_percent"} <= set(hull)


SOLVE = """
    import json
    import numpy as np
    import tensorflow as tf
    points = tf.constant(np.random.default_rng(0).random((3, 7, 2)), tf.float32)
    tsp_model = tf.saved_model.load({tsp!r})
    hull_model = tf.saved_model.load({hull!r})
    tsp = tsp_model.solve(points=points)["tour"]
    hull = hull_model.solve(points=points)["hull"]
    print(json.dumps({{"tour": tsp.numpy().tolist(), "tour_dtype": tsp.dtype.name,
                      "hull": hull.numpy().tolist()}}))
"""


def test_solve_in_a_fresh_process_on_another_size(runs):
    result = run_python(
        SOLVE.format(
            tsp=str(runs / "tsp" / "saved_model"),
            hull=str(runs / "convex_hull" / "saved_model"),
        )
    )
    assert result.returncode == 0, result.stderr[-3000:]
    answers = json.loads(result.stdout.strip().splitlines()[-1])
    assert answers["tour_dtype"] == "int32"
    for tour in answers["tour"]:
        assert sorted(tour) == list(range(7)) and tour[0] == 0
    for hull in answers["hull"]:
        corners = [index for index in hull if index >= 0]
        assert len(hull) == 7 and corners == sorted(set(corners), key=corners.index)
        assert all(index == -1 for index in hull[len(corners) :])


def test_predict_plots_the_tour_and_refuses_bad_points(runs, tmp_path, capsys):
    picture = tmp_path / "tour.png"
    model = str(runs / "tsp")
    points = ["0.1,0.1", "0.9,0.2", "0.5,0.8", "0.3,0.4"]
    assert (
        cli.main(["predict", "tsp", "--model", model, *points, "--plot", str(picture)])
        == 0
    )
    assert "optimal" in capsys.readouterr().out and picture.stat().st_size > 5000
    assert cli.main(["predict", "tsp", "--model", model, "0.1,0.1", "oops"]) == 2
    assert "Received: '0.1,0.1 oops'" in capsys.readouterr().err


@pytest.mark.parametrize("task", [tsp, convex_hull])
def test_decoded_answers_obey_the_rules_on_mixed_sizes(task):
    config = apply_overrides(task.PRESETS["tiny"], {"n": "4-7", "beam_width": 3})
    pieces = task.build_model(config)
    points, sizes = geometry.random_points(12, (4, 7), np.random.default_rng(1))
    solver = _pointer.Solver(task, config, pieces)
    for function in (solver.solve_greedy, solver.solve):
        answers = task.solve_all(function, points, sizes, batch=5)
        assert answers.shape == (12, 7)
        for answer, size in zip(answers, sizes):
            chosen = answer[answer >= 0].tolist()
            if task is tsp:
                assert sorted(chosen) == list(range(size)) and chosen[0] == 0
            else:
                # A hull starts at its smallest index and never repeats one.
                assert chosen and chosen[0] == min(chosen) and max(chosen) < size
                assert len(set(chosen)) == len(chosen)


def test_the_hull_beam_kept_is_the_largest_convex_polygon():
    # A square with a point inside (4).
    square = [[0.0, 0.0], [1.0, 0.0], [1.0, 1.0], [0.0, 1.0], [0.6, 0.5]]
    points = tf.constant([square, square])
    answers = tf.constant(
        [
            # concave but larger than the triangle; the triangle; the hull
            [[0, 1, 4, 2, 3], [0, 1, 2, -1, -1], [0, 1, 2, 3, -1]],
            # clockwise (not turning left); a triangle; concave
            [[0, 3, 2, 1, -1], [0, 1, 2, -1, -1], [0, 1, 4, 2, 3]],
        ]
    )
    np.testing.assert_array_equal(
        geometry.is_convex(points, answers).numpy(),
        [[False, True, True], [False, True, False]],
    )
    everything = tf.ones([2, 3], tf.bool)
    np.testing.assert_array_equal(
        convex_hull.best_beam(points, answers, everything).numpy(), [2, 1]
    )
    # An unusable beam is never kept while another is usable.
    usable = tf.constant([[True, True, False], [True, False, False]])
    np.testing.assert_array_equal(
        convex_hull.best_beam(points, answers, usable).numpy(), [1, 0]
    )


def test_forced_choices_follow_the_tour_rules():
    points = tf.constant([[[0.0, 0.0], [1.0, 0.0], [1.0, 1.0], [0.0, 1.0]]])
    mask = tf.ones([1, 4], tf.bool)
    inputs, targets = _pointer.sequences(np.array([[0, 1, 2, 3]]))
    np.testing.assert_array_equal(targets, [[1, 2, 3, 4, 0]])
    np.testing.assert_array_equal(inputs, [[0, 1, 2, 3, 4]])
    allowed = tsp.forced_choices(points, mask, inputs, targets)
    expected = [
        [0, 1, 0, 0, 0],  # the tour starts at point 0 (position 1)
        [0, 0, 1, 1, 1],
        [0, 0, 0, 1, 1],
        [0, 0, 0, 0, 1],
        [1, 0, 0, 0, 0],  # every point visited: only the end
    ]
    np.testing.assert_array_equal(allowed.numpy()[0], np.array(expected, bool))


def test_forced_choices_follow_the_hull_rules():
    # A square with a point inside; the hull is 0, 1, 2, 3 counter-clockwise.
    points = tf.constant([[[0.0, 0.0], [1.0, 0.0], [1.0, 1.0], [0.0, 1.0], [0.6, 0.5]]])
    mask = tf.ones([1, 5], tf.bool)
    inputs, targets = _pointer.sequences(np.array([[0, 1, 2, 3, -1]]))
    allowed = convex_hull.forced_choices(points, mask, inputs, targets)
    allowed = allowed.numpy()[0]
    assert allowed[0].tolist() == [False, True, True, True, True, True]
    # After 0 then 1: only larger indices that turn left and close the hull.
    assert allowed[2].tolist() == [False, False, False, True, True, True]
    # After three corners the end is allowed; point 4 would not close a
    # convex polygon.
    assert allowed[3][0] and allowed[3][4] and not allowed[3][5]


def test_hull_choices_keep_every_chosen_corner_on_the_left():
    # After 0, 1, 2, point 3 turns left at 2 and leaves 0 on the left of the
    # new edge, but closing 3 -> 0 would leave 1 on its right: the polygon
    # 0, 1, 2, 3 has a reflex corner at 0, so 3 is not a valid choice.
    points = tf.constant([[[0.0, 0.0], [1.0, 0.0], [1.0, 1.0], [-1.0, -0.5]]])
    mask = tf.ones([1, 4], tf.bool)
    inputs, targets = _pointer.sequences(np.array([[0, 1, 2, -1]]))
    allowed = convex_hull.forced_choices(points, mask, inputs, targets)
    assert allowed.numpy()[0, 3].tolist() == [True, False, False, False, False]


def test_hull_choices_never_lead_to_a_polygon_that_is_not_convex():
    # Random walks through the allowed choices end in convex polygons.
    rng = np.random.default_rng(5)
    points = rng.uniform(size=(64, 12, 2)).astype(np.float32)
    mask = tf.ones([64, 12], tf.bool)
    answers = np.full((64, 12), -1)
    visited = np.zeros((64, 13), bool)
    first = np.zeros(64, np.int32)
    last = np.zeros(64, np.int32)
    done = np.zeros(64, bool)
    for step in range(12):
        allowed = convex_hull.choices(
            tf.constant(points),
            mask,
            tf.constant(visited[:, None]),
            tf.constant(visited.sum(axis=1, dtype=np.int32)[:, None]),
            tf.constant(first[:, None]),
            tf.constant(last[:, None]),
        ).numpy()[:, 0]
        for row in np.flatnonzero(~done):
            options = np.flatnonzero(allowed[row])
            position = rng.choice(options)
            if position == 0:
                done[row] = True
                continue
            answers[row, step] = position - 1
            visited[row, position] = True
            first[row] = first[row] or position
            last[row] = position
    usable = (answers >= 0).sum(axis=1) >= 3
    assert usable.mean() > 0.5
    convex = geometry.is_convex(tf.constant(points), tf.constant(answers))
    np.testing.assert_array_equal(convex.numpy()[usable], True)


def test_hull_metrics_count_exact_valid_and_covered():
    points = np.array([[[0, 0], [1, 0], [1, 1], [0, 1], [0.5, 0.5]]], np.float64)
    true = np.array([[0, 1, 2, 3, -1]])
    assert metrics.hull_metrics(points, true, true) == {
        "accuracy": 100.0,
        "area_coverage": 100.0,
        "valid_percent": 100.0,
    }
    triangle = metrics.hull_metrics(points, np.array([[0, 1, 2, -1, -1]]), true)
    assert triangle == {"accuracy": 0.0, "area_coverage": 50.0, "valid_percent": 100.0}
    clockwise = metrics.hull_metrics(points, np.array([[0, 3, 2, 1, -1]]), true)
    assert clockwise["valid_percent"] == 0.0 and clockwise["area_coverage"] == 0.0


def test_the_benchmark_keeps_a_model_that_evaluate_reads(tmp_path, monkeypatch, capsys):
    import runpy
    import sys

    from tests.conftest import PROJECT

    monkeypatch.setenv("KERAS_SEQ_DATA", str(tmp_path / "data"))
    kept = tmp_path / "kept"
    arguments = ["--task", "convex_hull", "--preset", "tiny", "--output", str(kept)]
    monkeypatch.setattr(sys, "argv", ["pointer.py", *arguments])
    runpy.run_path(str(PROJECT / "benchmarks" / "pointer.py"), run_name="__main__")
    benchmark = json.loads(capsys.readouterr().out.strip().splitlines()[-1])

    assert cli.main(["evaluate", "convex_hull", "--model", str(kept)]) == 0
    printed = capsys.readouterr().out
    evaluated = json.loads(printed[printed.index("{") :])
    for key in ("accuracy", "area_coverage", "valid_percent"):
        assert round(evaluated[key], 4) == benchmark[key]
