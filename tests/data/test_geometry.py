"""Point sets and their exact answers against the published figures."""

import numpy as np
import pytest

from keras_seq.data import geometry
from keras_seq.errors import UserError


@pytest.mark.parametrize(
    "size, count, published, tolerance",
    # Mean optimal tour lengths, Vinyals et al. (2015), Table 2.
    [(5, 4000, 2.12, 0.02), (10, 1000, 2.87, 0.04), (20, 40, 3.83, 0.15)],
)
def test_mean_optimal_tour_matches_the_paper(size, count, published, tolerance):
    points, sizes = geometry.random_points(
        count, (size, size), np.random.default_rng(size)
    )
    assert geometry.mean_optimal_length(points, sizes) == pytest.approx(
        published, abs=tolerance
    )


@pytest.mark.parametrize("size", [4, 7, 9])
def test_held_karp_agrees_with_cp_sat(size):
    points, _ = geometry.random_points(4, (size, size), np.random.default_rng(7))
    exact = geometry.held_karp(points)
    # In a fresh process, as everywhere: see `geometry.cp_sat_tours`.
    solved_all = geometry.cp_sat_tours(points)
    for row in range(len(points)):
        solved = solved_all[row]
        lengths = geometry.tour_lengths(
            points[row : row + 1].repeat(2, 0), np.stack([exact[row], solved])
        )
        assert lengths[0] == pytest.approx(lengths[1], abs=1e-5)
        np.testing.assert_array_equal(exact[row], solved)


def test_lkh_finds_the_optimal_tours_of_mixed_sizes():
    # Sizes on both sides of HELD_KARP_MAX: Held-Karp below, LKH above.
    points, sizes = geometry.random_points(12, (12, 16), np.random.default_rng(5))
    near = geometry.near_optimal_tours(points, sizes)
    exact = geometry.optimal_tours(points, sizes)
    assert (sizes > geometry.HELD_KARP_MAX).sum() >= 4
    for row, size in enumerate(sizes):
        assert sorted(near[row, :size]) == list(range(size))
        assert (near[row, size:] == -1).all()
    np.testing.assert_allclose(
        geometry.tour_lengths(points, near),
        geometry.tour_lengths(points, exact),
        atol=1e-5,
    )


def test_held_karp_beats_every_other_tour():
    from itertools import permutations

    points, _ = geometry.random_points(3, (6, 6), np.random.default_rng(3))
    exact = geometry.tour_lengths(points, geometry.held_karp(points))
    for row in range(3):
        every = np.array([(0, *rest) for rest in permutations(range(1, 6))])
        lengths = geometry.tour_lengths(points[row][None].repeat(len(every), 0), every)
        assert exact[row] == pytest.approx(lengths.min())


def test_canonical_tour_starts_at_zero_towards_the_smaller_neighbour():
    np.testing.assert_array_equal(
        geometry.canonical_tour([3, 1, 0, 4, 2]), [0, 1, 3, 2, 4]
    )
    np.testing.assert_array_equal(
        geometry.canonical_tour([0, 4, 2, 3, 1]), [0, 1, 3, 2, 4]
    )


def test_mixed_sizes_are_padded_with_minus_one():
    points, sizes = geometry.random_points(20, (4, 8), np.random.default_rng(0))
    tours = geometry.solve("tsp", points, sizes, workers=1, verbose=False)
    hulls = geometry.solve("convex_hull", points, sizes, workers=1, verbose=False)
    assert set(sizes.tolist()) > {4} and sizes.max() <= 8
    for size, row_points, tour, hull in zip(sizes, points, tours, hulls):
        assert sorted(tour[tour >= 0].tolist()) == list(range(size))
        assert np.all(tour[size:] == -1) and np.all(row_points[size:] == 0)
        corners = hull[hull >= 0]
        assert corners[0] == corners.min() and corners.max() < size


def test_hull_is_counter_clockwise_and_holds_every_point():
    points = np.random.default_rng(5).random((30, 2))
    hull = geometry.convex_hull(points)
    corners = points[hull]
    for start, end in zip(corners, np.roll(corners, -1, axis=0)):
        edge = end - start
        offsets = points - start
        cross = edge[0] * offsets[:, 1] - edge[1] * offsets[:, 0]
        assert np.all(cross >= -1e-12)
    assert hull[0] == hull.min()


def test_problem_sets_are_cached_and_seeded(tmp_path):
    first = geometry.problem_set("tsp", 30, (5, 6), seed=1, cache_dir=tmp_path)
    assert len(list(tmp_path.glob("*.npz"))) == 1
    again = geometry.problem_set("tsp", 30, (5, 6), seed=1, cache_dir=tmp_path)
    other = geometry.problem_set("tsp", 30, (5, 6), seed=2, cache_dir=tmp_path)
    np.testing.assert_array_equal(first["answers"], again["answers"])
    assert not np.array_equal(first["points"], other["points"])
    # Near-optimal tours are cached apart only where they are not exact.
    geometry.problem_set("tsp", 30, (5, 6), 1, tmp_path, near_optimal=True)
    assert len(list(tmp_path.glob("*.npz"))) == 2
    geometry.problem_set("tsp", 4, (15, 15), 1, tmp_path, near_optimal=True)
    assert len(list(tmp_path.glob("tsp_lkh_*.npz"))) == 1


def test_parallel_solving_matches_one_process():
    points, sizes = geometry.random_points(600, (5, 7), np.random.default_rng(4))
    for problem in ("tsp", "convex_hull"):
        np.testing.assert_array_equal(
            geometry.solve(problem, points, sizes, workers=2, verbose=False),
            geometry.solve(problem, points, sizes, workers=1, verbose=False),
        )


@pytest.mark.parametrize("text", ["2", "9-5", "ten", "5-"])
def test_bad_sizes_are_refused(text):
    with pytest.raises(UserError, match="Received: n="):
        geometry.parse_sizes(text)


def test_tour_lengths_areas_and_convexity_by_hand():
    # The unit square and a point inside it (4).
    square = np.array([[[0, 0], [1, 0], [1, 1], [0, 1], [0.5, 0.5]]], np.float64)
    answers = np.array(
        [
            [
                [0, 1, 2, 3, -1],  # the square, counter-clockwise
                [0, 1, 2, -1, -1],  # half of it
                [0, 3, 2, 1, -1],  # clockwise
                [0, 1, 4, 2, 3],  # through the middle: concave
                [0, 1, -1, -1, -1],  # two corners: no polygon
            ]
        ]
    )
    np.testing.assert_allclose(
        geometry.tour_lengths(square, answers)[0],
        [4, 2 + np.sqrt(2), 4, 3 + np.sqrt(2), 2],
    )
    np.testing.assert_allclose(
        geometry.polygon_areas(square, answers)[0], [1, 0.5, 1, 0.75, 0]
    )
    np.testing.assert_array_equal(
        geometry.is_convex(square, answers)[0], [True, True, False, False, False]
    )
    # Answers [B, T] give one figure per row.
    assert geometry.polygon_areas(square, answers[:, 0]).shape == (1,)


def test_a_polygon_winding_twice_is_not_convex():
    # A pentagram turns left at every corner but goes around twice.
    angles = np.pi / 2 + 2 * np.pi * np.arange(5) / 5
    star = np.stack([np.cos(angles), np.sin(angles)], axis=1)[None]
    assert geometry.is_convex(star, np.array([[0, 1, 2, 3, 4]]))[0]
    assert not geometry.is_convex(star, np.array([[0, 2, 4, 1, 3]]))[0]
