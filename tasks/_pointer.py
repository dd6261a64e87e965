"""What the pointer-network tasks (tsp, convex_hull) share.

A pointer network (Vinyals, Fortunato and Jaitly, 2015) answers with
positions of its input. An LSTM encoder reads the points; an LSTM decoder,
started from the encoder's final state, points at one input position per
step with `PointerAttention` (u_j = v . tanh(W1 e_j + W2 d_i)) and is fed
the point it chose. Position 0 is a learned token (`PrependToken`): the
decoder's first input and the "end" answer that stops a convex hull. Point
`i` is at position `i + 1`.

Only valid answers can be chosen, in training (the loss is over valid
choices) and in decoding: a tour never returns to a visited point and ends
when every point is visited; a hull starts at its smallest index, continues
only with larger indices that keep the corners so far a convex
counter-clockwise polygon, and may end after three corners;
a tour starts at point 0.
The rules are TensorFlow ops (`choices`), shared by the tf.data pipeline
and the in-graph decoding loop of the `solve` endpoint.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf

from keras_seq import decoding, training
from keras_seq import export as export_lib
from keras_seq import metrics as metrics_lib
from keras_seq.config import CELLS, TrainingConfig, option
from keras_seq.data import geometry, sources
from keras_seq.errors import UserError
from keras_seq.layers import PointerAttention, PrependToken, RNNStack

END = 0
# Cross products above -EPSILON count as left turns, so that float32 rounding
# of nearly collinear corners does not forbid a true hull corner.
EPSILON = 1e-6


@dataclasses.dataclass(frozen=True)
class PointerConfig(TrainingConfig):
    data: str = option("generated", choices=("generated",), help="generated data")
    n: str = option("10", help="points per problem: a number (10) or a range (5-20)")
    train_examples: int = option(100_000, minimum=1, help="training problems")
    test_examples: int = option(1_000, minimum=1, help="validation and test size")
    train_tours: str = option(
        "lkh",
        choices=("exact", "lkh"),
        help="tsp training tours above 13 points: exact (CP-SAT, ~0.1 s each) "
        "or lkh (LKH-3, ~3 ms each); test tours are always exact",
    )
    cell: str = option("lstm", choices=CELLS, help="recurrent cell")
    units: int = option(128, minimum=1, help="encoder and decoder units")
    embedding_dim: int = option(128, minimum=1, help="width of the point embedding")
    # Chosen on the validation problems (seed + 1): the beam keeps the best
    # of its finished answers, so a wider one finds the optimum more often.
    # Tours of 10 cities, gap 0.35% / 0.10% / 0.04% / 0.01% at widths
    # 3 / 6 / 10 / 16; hulls of 50 points (paper preset, 60 minutes), exact
    # 78.1% / 87.4% / 92.6% / 94.7%, decoding 1,000 in 14 / 23 / 32 / 58 s
    # (README, Results).
    beam_width: int = option(10, minimum=1, help="beam search width")
    epochs: int = option(10, minimum=1, help="number of epochs")
    batch_size: int = option(128, minimum=1, help="problems per batch")
    learning_rate: float = option(1e-3, minimum=0.0, help="Adam's learning rate")
    clipnorm: float = option(2.0, minimum=0.0, help="global gradient norm; 0: off")
    minutes: float = option(0.0, minimum=0.0, help="stop training after; 0: no limit")


def presets(default: PointerConfig) -> dict[str, PointerConfig]:
    """The `tiny`, `default` and `paper` presets around a task's default."""
    return {
        "tiny": dataclasses.replace(
            default,
            n="5",
            train_examples=64,
            test_examples=8,
            units=8,
            embedding_dim=8,
            epochs=1,
            batch_size=16,
            beam_width=2,
        ),
        "default": default,
        # Vinyals et al. (2015): one layer of 512 LSTM units, about a million
        # training examples, beam search.
        "paper": dataclasses.replace(
            default,
            train_examples=1_000_000,
            units=512,
            embedding_dim=256,
            epochs=20,
            batch_size=128,
            minutes=60.0,
        ),
    }


@dataclasses.dataclass
class Data:
    train: tf.data.Dataset
    validation: tf.data.Dataset
    test: tf.data.Dataset
    test_set: dict[str, np.ndarray]
    train_size: int


@dataclasses.dataclass
class Model:
    """The training model and the inference pieces built from its layers:
    `encoder` (points to encoder states) and `step` (one decoder step)."""

    model: keras.Model
    encoder: keras.Model
    step: keras.Model


def _with_token(points: tf.Tensor) -> tf.Tensor:
    """Points `[B, N, 2]` with a zero point in front: position p is point p - 1."""
    return tf.pad(points, [[0, 0], [1, 0], [0, 0]])


def _gather(points: tf.Tensor, positions: tf.Tensor) -> tf.Tensor:
    """`points` `[B, N + 1, 2]` at `positions` `[B, T]`: `[B, T, 2]`."""
    return tf.gather(points, positions, batch_dims=1)


def _cross(origin, first, second):
    """z of (first - origin) x (second - origin); > 0 turns left."""
    a = first - origin
    b = second - origin
    return a[..., 0] * b[..., 1] - a[..., 1] * b[..., 0]


def choices(problem: str, points, point_mask, visited, count, first, last):
    """The valid answers of every row at every step.

    Args:
        problem: "tsp" or "convex_hull".
        points: float32 `[B, N, 2]`; point_mask: bool `[B, N]`, real points.
        visited: bool `[B, T, N + 1]`, positions chosen before each step.
        count: int32 `[B, T]`, how many were chosen before each step.
        first, last: int32 `[B, T]`, the positions chosen first and last (0
            when there is none yet).

    Returns:
        bool `[B, T, N + 1]`: position 0 (end) and the points allowed next.
    """
    padded = _with_token(points)
    real = tf.pad(point_mask, [[0, 0], [1, 0]])[:, None, :]
    allowed = real & ~visited
    if problem == "convex_hull":
        positions = tf.range(tf.shape(padded)[1])[None, None, :]
        started = (count >= 1)[..., None]
        allowed &= ~started | (positions > first[..., None])
        allowed &= _keeps_convex(padded, visited, first, last)
        may_end = (count >= 3) | ~tf.reduce_any(allowed, axis=-1)
    else:
        # Every tour is written from point 0 (position 1).
        positions = tf.range(tf.shape(padded)[1])[None, None, :]
        allowed &= (count > 0)[..., None] | (positions == 1)
        may_end = ~tf.reduce_any(allowed, axis=-1)
    return tf.concat([may_end[..., None], allowed[..., 1:]], axis=-1)


def _keeps_convex(padded, visited, first, last):
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
    corner_first = _gather(padded, first)[:, :, None, None, :]
    corner_last = _gather(padded, last)[:, :, None, None, :]
    candidates = padded[:, None, :, None, :]
    corners = padded[:, None, None, :, :]
    after_last = _cross(corner_last, candidates, corners)
    closing = _cross(candidates, corner_first, corners)
    chosen = visited[:, :, None, :]
    left = (after_last > -EPSILON) & (closing > -EPSILON)
    return tf.reduce_all(left | ~chosen, axis=-1)


def forced_choices(problem: str, points, point_mask, inputs, targets):
    """`choices` for teacher forcing: the decoder is fed `inputs` `[B, T]`
    (0, then the target positions). The target itself is always allowed."""
    positions = tf.shape(points)[1] + 1
    chosen = (
        tf.one_hot(inputs, positions, dtype=tf.int32)
        * tf.cast(inputs > 0, tf.int32)[..., None]
    )
    visited = tf.cumsum(chosen, axis=1) > 0
    count = tf.cumsum(tf.cast(inputs > 0, tf.int32), axis=1)
    first = tf.broadcast_to(
        tf.concat([inputs, tf.zeros_like(inputs)], axis=1)[:, 1:2], tf.shape(inputs)
    )
    allowed = choices(problem, points, point_mask, visited, count, first, inputs)
    return allowed | tf.one_hot(
        tf.maximum(targets, 0), positions, on_value=True, off_value=False
    )


def sequences(answers: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Decoder inputs and targets from answers `[M, N]` (padded with -1):
    targets are the positions (point + 1) then 0 (end), padded with -1;
    inputs are 0 then the targets (padding 0). Both are as long as the
    longest answer plus its end, so that a hull of 12 corners among 50
    points takes 13 decoder steps, not 51."""
    count, size = answers.shape
    lengths = (answers >= 0).sum(axis=1)
    steps = int(lengths.max(initial=0)) + 1
    targets = np.full((count, size + 1), -1, np.int32)
    targets[:, :size] = np.where(answers >= 0, answers + 1, -1)
    targets[np.arange(count), lengths] = END
    targets = targets[:, :steps]
    inputs = np.zeros_like(targets)
    inputs[:, 1:] = np.maximum(targets[:, :-1], 0)
    return inputs, targets


def _dataset(problem: str, part: dict, batch_size: int, seed: int | None):
    inputs, targets = sequences(part["answers"])
    point_mask = np.arange(part["points"].shape[1])[None, :] < part["sizes"][:, None]
    arrays = tuple(
        tf.constant(array) for array in (part["points"], point_mask, inputs, targets)
    )
    # Shuffling row numbers rather than rows keeps the shuffle buffer cheap to
    # refill every epoch, even for a million problems.
    rows = tf.data.Dataset.range(len(inputs))
    if seed is not None:
        rows = rows.shuffle(len(inputs), seed=seed)

    def to_model(points, point_mask, inputs, targets):
        allowed = forced_choices(problem, points, point_mask, inputs, targets)
        features = {
            "points": points,
            "point_mask": point_mask,
            "decoder_inputs": inputs,
            "choices": allowed,
        }
        return features, targets

    def gather(batch_rows):
        return to_model(*(tf.gather(array, batch_rows) for array in arrays))

    return (
        rows.batch(batch_size)
        .map(gather, num_parallel_calls=tf.data.AUTOTUNE)
        .prefetch(tf.data.AUTOTUNE)
    )


def load_data(problem: str, config: PointerConfig) -> Data:
    sizes = geometry.parse_sizes(config.n)
    cache = sources.data_home() / "pointer"
    parts = {
        name: geometry.problem_set(
            problem,
            count,
            sizes,
            config.seed + offset,
            cache,
            near_optimal=name == "train" and config.train_tours == "lkh",
        )
        for name, count, offset in (
            ("train", config.train_examples, 0),
            ("validation", config.test_examples, 1),
            ("test", config.test_examples, 2),
        )
    }
    return Data(
        train=_dataset(problem, parts["train"], config.batch_size, config.seed),
        validation=_dataset(problem, parts["validation"], config.batch_size, None),
        test=_dataset(problem, parts["test"], config.batch_size, None),
        test_set=parts["test"],
        train_size=config.train_examples,
    )


def build_model(problem: str, config: PointerConfig, data: Data | None = None) -> Model:
    points = keras.Input(shape=(None, 2), name="points")
    point_mask = keras.Input(shape=(None,), dtype="bool", name="point_mask")
    decoder_inputs = keras.Input(shape=(None,), dtype="int32", name="decoder_inputs")
    allowed = keras.Input(shape=(None, None), dtype="bool", name="choices")
    layers = {
        "embedding": keras.layers.Dense(config.embedding_dim, name="embedding"),
        "token": PrependToken(name="token"),
        "encoder": RNNStack(
            cell=config.cell, units=config.units, return_state=True, name="encoder"
        ),
        "decoder": RNNStack(
            cell=config.cell, units=config.units, return_state=True, name="decoder"
        ),
        "pointer": PointerAttention(units=config.units, name="pointer"),
    }
    embedded = layers["token"](layers["embedding"](points))
    mask = keras.ops.pad(point_mask, [[0, 0], [1, 0]], constant_values=True)
    encoder_sequence, *states = layers["encoder"](embedded, mask=mask)
    fed = keras.ops.take_along_axis(embedded, decoder_inputs[..., None], axis=1)
    decoder_sequence, *_ = layers["decoder"](fed, initial_state=states)
    logits = layers["pointer"](
        [decoder_sequence, encoder_sequence], mask=[None, allowed]
    )
    model = keras.Model(
        {
            "points": points,
            "point_mask": point_mask,
            "decoder_inputs": decoder_inputs,
            "choices": allowed,
        },
        logits,
        name=problem,
    )
    steps = training.steps_for(config.train_examples, config.batch_size)
    model.compile(
        optimizer=training.make_optimizer(config, steps),
        loss=keras.losses.SparseCategoricalCrossentropy(
            from_logits=True, ignore_class=-1
        ),
        metrics=[keras.metrics.SparseCategoricalAccuracy(name="accuracy")],
    )
    return pieces_of(config, model)


def pieces_of(config: PointerConfig, model: keras.Model) -> Model:
    """The encoder and one decoder step, from the layers of `model`."""
    points = keras.Input(shape=(None, 2), name="points")
    point_mask = keras.Input(shape=(None,), dtype="bool", name="point_mask")
    embedded = model.get_layer("token")(model.get_layer("embedding")(points))
    mask = keras.ops.pad(point_mask, [[0, 0], [1, 0]], constant_values=True)
    encoder_sequence, *states = model.get_layer("encoder")(embedded, mask=mask)
    encoder = keras.Model(
        [points, point_mask], [embedded, encoder_sequence, *states], name="encoder"
    )

    token = keras.Input(shape=(1,), dtype="int32", name="token")
    step_embedded = keras.Input(shape=(None, config.embedding_dim), name="embedded")
    step_encoder = keras.Input(shape=(None, config.units), name="encoder_sequence")
    allowed = keras.Input(shape=(1, None), dtype="bool", name="choices")
    decoder = model.get_layer("decoder")
    state_inputs = [
        keras.Input(shape=(width,), name=f"state_{index}")
        for index, width in enumerate(decoder.state_size)
    ]
    fed = keras.ops.take_along_axis(step_embedded, token[..., None], axis=1)
    decoder_sequence, *new_states = decoder(fed, initial_state=state_inputs)
    logits = model.get_layer("pointer")(
        [decoder_sequence, step_encoder], mask=[None, allowed]
    )
    step = keras.Model(
        [token, step_embedded, step_encoder, allowed, *state_inputs],
        [logits, *new_states],
        name="step",
    )
    return Model(model=model, encoder=encoder, step=step)


def fit(config: PointerConfig, pieces: Model, data: Data, output_dir: Path):
    """`training.fit_task`, stopped after `config.minutes` when it is set."""
    callbacks = [training.TimeBudget(config.minutes * 60)] if config.minutes else []
    return training.fit_task(config, pieces, data, output_dir, callbacks=callbacks)


class Solver(tf.Module):
    """Points in, answers out, greedy or beam search: shared by evaluate and
    the `solve` endpoint."""

    def __init__(self, problem: str, config: PointerConfig, pieces: Model):
        super().__init__()
        self.problem = problem
        self.config = config
        self.pieces = pieces

    def _start(self, points, point_mask):
        embedded, encoder_sequence, *states = self.pieces.encoder([points, point_mask])
        batch_size = tf.shape(points)[0]
        positions = tf.shape(points)[1] + 1
        zeros = tf.zeros([batch_size], tf.int32)
        state = {
            "rnn": states,
            "embedded": embedded,
            "encoder": encoder_sequence,
            "points": points,
            "point_mask": point_mask,
            "visited": tf.zeros([batch_size, positions], tf.bool),
            "count": zeros,
            "first": zeros,
            "last": zeros,
        }

        def step_fn(tokens, state):
            chosen = tokens > 0
            visited = state["visited"] | (
                tf.one_hot(tokens, positions, on_value=True, off_value=False)
                & chosen[:, None]
            )
            count = state["count"] + tf.cast(chosen, tf.int32)
            first = tf.where(chosen & (state["count"] == 0), tokens, state["first"])
            last = tf.where(chosen, tokens, state["last"])
            allowed = choices(
                self.problem,
                state["points"],
                state["point_mask"],
                visited[:, None],
                count[:, None],
                first[:, None],
                last[:, None],
            )
            logits, *rnn = self.pieces.step(
                [
                    tokens[:, None],
                    state["embedded"],
                    state["encoder"],
                    allowed,
                    *state["rnn"],
                ]
            )
            new_state = {
                **state,
                "rnn": rnn,
                "visited": visited,
                "count": count,
                "first": first,
                "last": last,
            }
            return logits[:, 0], new_state

        return step_fn, tf.zeros([batch_size], tf.int32), state, positions

    def _answers(self, tokens, lengths):
        """Positions `[B, T]` to point indices `[B, N]`, padded with -1."""
        size = tf.shape(tokens)[1]
        keep = tf.sequence_mask(lengths, size)
        answers = tf.where(keep, tokens - 1, -1)
        return answers

    def _fit(self, answers, points):
        width = tf.shape(points)[1]
        answers = answers[:, :width]
        return tf.pad(
            answers, [[0, 0], [0, width - tf.shape(answers)[1]]], constant_values=-1
        )

    def greedy(self, points, point_mask):
        step_fn, start, state, positions = self._start(points, point_mask)
        tokens, lengths = decoding.greedy_decode(step_fn, start, state, positions, END)
        return self._fit(self._answers(tokens, lengths), points)

    def beam(self, points, point_mask):
        """Beam search; of the finished beams, the shortest tour or the
        largest hull."""
        step_fn, start, state, positions = self._start(points, point_mask)
        tokens, scores, lengths = decoding.beam_search(
            step_fn, start, state, self.config.beam_width, positions, END
        )
        batch_size = tf.shape(tokens)[0]
        width = self.config.beam_width
        flat = self._answers(
            tf.reshape(tokens, [batch_size * width, -1]), tf.reshape(lengths, [-1])
        )
        answers = tf.reshape(flat, [batch_size, width, -1])
        # Beams that went through a forbidden choice score about -1e9.
        usable = scores > -1e8
        if self.problem == "tsp":
            # The shortest tour.
            lengths = tour_lengths(points, answers)
            lengths = tf.where(usable, lengths, tf.fill(tf.shape(lengths), np.inf))
            best = tf.argmin(lengths, axis=1, output_type=tf.int32)
        else:
            best = largest_hulls(points, answers, usable)
        return self._fit(tf.gather(answers, best, batch_dims=1), points)


def _edges(points, answers):
    """The corners of answers `[B, W, T]` (padded with -1) as closed polygons:
    each corner `[B, W, T, 2]`, the corner after it (the first after the
    last), the one after that, and whether the corner is real."""
    valid = answers >= 0
    corners = tf.gather(points, tf.maximum(answers, 0), batch_dims=1)
    count = tf.reduce_sum(tf.cast(valid, tf.int32), axis=-1)
    is_last = (
        tf.range(tf.shape(answers)[2])[None, None, :]
        == tf.maximum(count - 1, 0)[..., None]
    )

    def after(sequence):
        return tf.where(
            is_last[..., None], sequence[:, :, :1], tf.roll(sequence, -1, axis=2)
        )

    following = after(corners)
    return corners, following, after(following), valid


def tour_lengths(points, answers):
    """Closed-tour lengths `[B, W]` of answers `[B, W, T]` (padded with -1)."""
    corners, following, _, valid = _edges(points, answers)
    steps = tf.norm(following - corners, axis=-1)
    return tf.reduce_sum(tf.where(valid, steps, 0.0), axis=-1)


def polygon_areas(points, answers):
    """Areas `[B, W]` of the polygons of answers `[B, W, T]` (shoelace)."""
    return _areas(*_edges(points, answers))


def is_convex(points, answers):
    """Whether answers `[B, W, T]` are convex polygons turning left: `[B, W]`."""
    return _convex(*_edges(points, answers))


def _areas(corners, following, then, valid):
    cross = _cross(tf.zeros_like(corners), corners, following)
    return tf.abs(tf.reduce_sum(tf.where(valid, cross, 0.0), axis=-1)) / 2


def _convex(corners, following, then, valid):
    left = _cross(corners, following, then) > 0
    count = tf.reduce_sum(tf.cast(valid, tf.int32), axis=-1)
    return tf.reduce_all(left | ~valid, axis=-1) & (count >= 3)


def largest_hulls(points, answers, usable):
    """The beam `[B]` of answers `[B, W, T]` to keep as the hull: the largest
    convex polygon (no other on the points has the hull's area; a decoder
    that ended early, cornered, leaves a smaller or a concave one), else the
    largest polygon; never an unusable beam when there is another."""

    def where_any(preferred, otherwise):
        return tf.where(
            tf.reduce_any(preferred, axis=1, keepdims=True), preferred, otherwise
        )

    edges = _edges(points, answers)
    convex = usable & _convex(*edges)
    pool = where_any(convex, where_any(usable, tf.ones_like(usable)))
    areas = _areas(*edges)
    score = tf.where(pool, areas, tf.fill(tf.shape(areas), -np.inf))
    return tf.argmax(score, axis=1, output_type=tf.int32)


def solve_all(solver_fn, points: np.ndarray, sizes: np.ndarray, batch_size=256):
    """Answers `[M, N]` of every point set, in batches, with a progress bar."""
    compiled = tf.function(solver_fn, reduce_retracing=True)
    mask = np.arange(points.shape[1])[None, :] < sizes[:, None]
    results = []
    progress = keras.utils.Progbar(len(points), unit_name="problem")
    for start in range(0, len(points), batch_size):
        batch = slice(start, start + batch_size)
        results.append(
            compiled(tf.constant(points[batch]), tf.constant(mask[batch])).numpy()
        )
        progress.add(len(results[-1]))
    return np.concatenate(results)


def evaluate(problem: str, config, pieces: Model, data: Data) -> dict:
    solver = Solver(problem, config, pieces)
    test = data.test_set
    loss, accuracy = pieces.model.evaluate(data.test, verbose=0)
    results = {"test_loss": float(loss), "step_accuracy": float(accuracy)}
    for name, function in (("greedy", solver.greedy), ("beam", solver.beam)):
        answers = solve_all(function, test["points"], test["sizes"])
        if problem == "tsp":
            found = metrics_lib.tour_metrics(
                test["points"], test["sizes"], answers, test["answers"]
            )
        else:
            found = metrics_lib.hull_metrics(test["points"], answers, test["answers"])
        suffix = "" if name == "beam" else "_greedy"
        results.update({f"{key}{suffix}": value for key, value in found.items()})
    results.pop("optimal_length_greedy", None)
    results["test_problems"] = int(len(test["points"]))
    return results


def export(problem: str, config, pieces: Model, path: Path, output_name: str) -> Path:
    solver = Solver(problem, config, pieces)
    archive = export_lib.new_archive()
    archive.track(pieces.encoder)
    archive.track(pieces.step)

    def solve(points):
        point_mask = tf.ones(tf.shape(points)[:2], tf.bool)
        return {output_name: solver.beam(points, point_mask)}

    archive.add_endpoint(
        "solve",
        solve,
        input_signature=[tf.TensorSpec([None, None, 2], tf.float32, name="points")],
    )
    return export_lib.write_atomically(archive, path)


def parse_points(inputs: list[str]) -> np.ndarray:
    """`["0.1,0.2", "0.5,0.9", ...]` to float32 `[1, N, 2]`."""
    try:
        points = np.array(
            [[float(value) for value in text.split(",")] for text in inputs], np.float32
        )
    except ValueError:
        points = np.zeros((0, 0))
    if points.ndim != 2 or points.shape[1] != 2 or len(points) < 3:
        raise UserError(
            "Points are given as at least three X,Y pairs, such as "
            f"0.1,0.2 0.5,0.9 0.7,0.3. Received: {' '.join(inputs)!r}"
        )
    return points[None]


def trained_size(saved_model: Path) -> int:
    """The largest problem size a run was trained on, from its config.json."""
    import json

    settings = Path(saved_model).parent / "config.json"
    if settings.is_file():
        return geometry.parse_sizes(json.loads(settings.read_text())["n"])[1]
    return 10


def reference_answer(problem: str, points: np.ndarray) -> np.ndarray:
    """The exact answer for one point set `[n, 2]`: optimal tour or hull."""
    if problem == "tsp":
        return geometry.optimal_tours(points[None], np.array([len(points)]))[0]
    return geometry.convex_hull(points)


def describe(problem: str, points: np.ndarray, answer: np.ndarray) -> str:
    answer = answer[answer >= 0]
    reference = reference_answer(problem, points)
    if problem == "tsp":
        length, best = geometry.tour_lengths(
            points[None].repeat(2, 0),
            np.stack([answer, reference]),
        )
        return (
            f"tour {answer.tolist()}  length {length:.4f}  "
            f"(optimal {best:.4f}: {reference.tolist()})"
        )
    verdict = (
        "exact" if np.array_equal(answer, reference) else f"true {reference.tolist()}"
    )
    return f"hull {answer.tolist()}  ({verdict})"


def show(problem: str, config, pieces: Model, data: Data) -> None:
    solver = Solver(problem, config, pieces)
    test = data.test_set
    answers = solve_all(solver.beam, test["points"][:5], test["sizes"][:5])
    for points, size, answer in zip(test["points"], test["sizes"], answers):
        print(describe(problem, points[:size], answer))


def predict(problem: str, saved_model: Path, inputs: list[str], options: dict) -> None:
    """Solves the given points (X,Y pairs), or a random set of the trained
    size; `--plot` draws the answer next to the exact one."""
    if inputs:
        points = parse_points(inputs)
    else:
        size = trained_size(saved_model)
        points = np.random.default_rng().random((1, size, 2)).astype(np.float32)
    loaded = tf.saved_model.load(str(saved_model))
    output_name = "tour" if problem == "tsp" else "hull"
    answer = loaded.solve(points=tf.constant(points))[output_name].numpy()[0]
    print(describe(problem, points[0], answer))
    if options.get("plot"):
        from keras_seq import plots

        reference = reference_answer(problem, points[0])
        predicted = answer[answer >= 0]
        label = "optimal" if problem == "tsp" else "true hull"
        title = f"{problem}, {points.shape[1]} points"
        if problem == "tsp":
            lengths = geometry.tour_lengths(
                points.repeat(2, 0), np.stack([predicted, reference])
            )
            title += f": predicted {lengths[0]:.4f}, optimal {lengths[1]:.4f}"
        plots.point_paths(
            points[0],
            {"predicted": predicted.tolist(), label: reference.tolist()},
            Path(options["plot"]),
            title=title,
        )
        print(f"Wrote {options['plot']}")
