"""What the pointer-network tasks (tsp, convex_hull, delaunay) share:
`PointerTask`.

A pointer network (Vinyals, Fortunato and Jaitly, 2015) answers with
positions of its input. An LSTM encoder reads the points; an LSTM decoder,
started from the encoder's final state, points at one input position per
step with `PointerAttention` (u_j = v . tanh(W1 e_j + W2 d_i)) and is fed
the point it chose. Position 0 is a learned token (`PrependToken`): the
decoder's first input and the "end" answer. Point `i` is at position
`i + 1`.

Only valid answers can be chosen, in training (the loss is over valid
choices) and in decoding. Each problem states its rules as TensorFlow ops
(`PointerTask.choices`, or `advance` and `forced_rules` for rules that
need more than the positions chosen, the first and the last), shared by the
tf.data pipeline and the in-graph decoding loop of the `solve` endpoint,
and which of the finished beams to keep (`PointerTask.best_beam`); a task
module subclasses `PointerTask` with them, its metrics and its description,
and registers an instance.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf

from keras_seq import config as config_lib
from keras_seq import export as export_lib
from keras_seq import inference, training
from keras_seq.config import CELLS, TrainingConfig, option
from keras_seq.data import geometry, sources
from keras_seq.errors import UserError
from keras_seq.layers import PointerAttention, PrependToken, RNNStack

END = 0


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
    # of its finished answers, so a wider one finds the optimum more often
    # (docs/results/pointer.md).
    beam_width: int = option(10, minimum=1, help="beam search width")
    epochs: int = config_lib.epochs(10)
    batch_size: int = config_lib.batch_size(128, "problems")
    learning_rate: float = config_lib.learning_rate(1e-3)
    clipnorm: float = config_lib.clipnorm(2.0)
    minutes: float = config_lib.minutes()


def presets(default: PointerConfig) -> dict[str, PointerConfig]:
    """The `tiny`, `default` and `paper` presets around a task's default."""
    return {
        "tiny": config_lib.tiny(
            default, n="5", train_examples=64, test_examples=8, epochs=1, batch_size=16
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


def with_token(points: tf.Tensor) -> tf.Tensor:
    """Points `[B, N, 2]` with a zero point in front: position p is point p - 1."""
    return tf.pad(points, [[0, 0], [1, 0], [0, 0]])


def gather(points: tf.Tensor, positions: tf.Tensor) -> tf.Tensor:
    """`points` `[B, N + 1, 2]` at `positions` `[B, T]`: `[B, T, 2]`."""
    return tf.gather(points, positions, batch_dims=1)


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
    settings = Path(saved_model).parent / "config.json"
    if settings.is_file():
        return geometry.parse_sizes(json.loads(settings.read_text())["n"])[1]
    return 10


class Solver(inference.Decoder):
    """Points in, answers out, greedy or beam search: evaluate and `solve`."""

    def __init__(self, task: PointerTask, config: PointerConfig, pieces):
        super().__init__(pieces, END)
        self.task = task
        self.config = config

    def start(self, inputs) -> inference.Start:
        points, point_mask = inputs
        embedded, encoder_sequence, *states = self.pieces.encoder([points, point_mask])
        batch_size = tf.shape(points)[0]
        zeros = tf.zeros([batch_size], tf.int32)
        state = {
            "rnn": states,
            "embedded": embedded,
            "encoder": encoder_sequence,
            "points": points,
            "point_mask": point_mask,
            "rules": self.task.start_rules(points, point_mask),
        }

        def step_fn(tokens, state):
            rules, allowed = self.task.advance(
                state["points"], state["point_mask"], state["rules"], tokens
            )
            memory = [state["embedded"], state["encoder"], allowed[:, None]]
            logits, _, rnn = self.step(tokens, memory, state["rnn"])
            return logits, {**state, "rnn": rnn, "rules": rules}

        max_steps = self.task.answer_width(tf.shape(points)[1]) + 1
        return inference.Start(step_fn, zeros, state, max_steps)

    def _answers(self, tokens, lengths, size):
        """Positions `[B, T]` to the answers of problems of `size` points:
        point indices `[B, answer_width(size)]`, padded with -1."""
        width = self.task.answer_width(size)
        keep = tf.sequence_mask(lengths, tf.shape(tokens)[1])
        answers = tf.where(keep, tokens - 1, -1)[:, :width]
        answers = tf.pad(
            answers, [[0, 0], [0, width - tf.shape(answers)[1]]], constant_values=-1
        )
        return self.task.finish(answers)

    def solve_greedy(self, points, point_mask):
        tokens, lengths = self.greedy(self.start((points, point_mask)))
        return self._answers(tokens, lengths, tf.shape(points)[1])

    def solve(self, points, point_mask):
        """Beam search; of the finished beams, the one `best_beam` keeps."""
        start = self.start((points, point_mask))
        tokens, scores, lengths = self.beam(start, self.config.beam_width)
        batch_size = tf.shape(tokens)[0]
        width = self.config.beam_width
        flat = self._answers(
            tf.reshape(tokens, [batch_size * width, -1]),
            tf.reshape(lengths, [-1]),
            tf.shape(points)[1],
        )
        answers = tf.reshape(flat, [batch_size, width, -1])
        # Beams that went through a forbidden choice score about -1e9.
        best = self.task.best_beam(points, answers, scores > -1e8, self.config)
        return tf.gather(answers, best, batch_dims=1)


class PointerTask:
    """A pointer-network task: the shared contract around a problem's rules.

    A subclass sets the class attributes below and implements `choices`,
    `best_beam`, `metrics`, `reference` and `describe`.
    """

    PROBLEM = ""  # the problem set's name in keras_seq.data.geometry
    OUTPUT = ""  # the name of the `solve` endpoint's output
    DESCRIPTION = ""
    DATA_SOURCES = ["generated"]
    PREDICT_OPTIONS = ("plot",)
    PRIMARY_METRIC = ""
    REFERENCE = ""  # what the exact answer is called on the plot
    METRIC_LABELS = {
        "loss": "cross-entropy (nats per step)",
        "accuracy": "step accuracy",
    }
    Config = PointerConfig
    PRESETS: dict = {}

    # The rules of the problem.

    def answer_width(self, size):
        """The most indices an answer for `size` points has (a tour or a
        hull: `size`)."""
        return size

    def finish(self, answers):
        """The answers `[B, W]` as the `solve` endpoint returns them (a task
        may drop an unfinished part)."""
        return answers

    def start_rules(self, points, point_mask) -> dict:
        """What the rules track while decoding `points` `[B, N, 2]`, before
        the first choice: the positions chosen, how many, the first and the
        last."""
        batch_size, size = tf.shape(points)[0], tf.shape(points)[1]
        zeros = tf.zeros([batch_size], tf.int32)
        return {
            "visited": tf.zeros([batch_size, size + 1], tf.bool),
            "count": zeros,
            "first": zeros,
            "last": zeros,
        }

    def advance(self, points, point_mask, rules, tokens):
        """The rules' state after the decoder chose `tokens` `[B]` (the start
        token 0 at the first step), and the choices allowed next, bool
        `[B, N + 1]`."""
        positions = tf.shape(rules["visited"])[1]
        chosen = tokens > 0
        visited = rules["visited"] | (
            tf.one_hot(tokens, positions, on_value=True, off_value=False)
            & chosen[:, None]
        )
        count = rules["count"] + tf.cast(chosen, tf.int32)
        first = tf.where(chosen & (rules["count"] == 0), tokens, rules["first"])
        last = tf.where(chosen, tokens, rules["last"])
        allowed = self.choices(
            points,
            point_mask,
            visited[:, None],
            count[:, None],
            first[:, None],
            last[:, None],
        )
        rules = {"visited": visited, "count": count, "first": first, "last": last}
        return rules, allowed[:, 0]

    def choices(self, points, point_mask, visited, count, first, last):
        """The valid answers of every row at every step.

        Args:
            points: float32 `[B, N, 2]`; point_mask: bool `[B, N]`, real points.
            visited: bool `[B, T, N + 1]`, positions chosen before each step.
            count: int32 `[B, T]`, how many were chosen before each step.
            first, last: int32 `[B, T]`, the positions chosen first and last
                (0 when there is none yet).

        Returns:
            bool `[B, T, N + 1]`: position 0 (end) and the points allowed next.
        """
        raise NotImplementedError

    def best_beam(self, points, answers, usable, config=None):
        """Which of the answers `[B, W, N]` (point indices, padded with -1,
        the likeliest first) to keep: int32 `[B]`. `usable` `[B, W]` is
        False for beams that went through a forbidden choice; `config` is
        the task's."""
        raise NotImplementedError

    def metrics(self, test_set: dict, answers: np.ndarray) -> dict:
        raise NotImplementedError

    def reference(self, points: np.ndarray) -> np.ndarray:
        """The exact answer for one point set `[n, 2]`."""
        raise NotImplementedError

    def describe(self, points: np.ndarray, answer: np.ndarray) -> str:
        raise NotImplementedError

    def plot_title(self, points: np.ndarray, answer, reference) -> str:
        return f"{self.PROBLEM}, {len(points)} points"

    def plot(self, points, answer, reference, output_png: Path, title: str) -> None:
        """Draws the answer next to the exact one (`predict --plot`)."""
        from keras_seq import plots

        plots.point_paths(
            points,
            {"predicted": answer.tolist(), self.REFERENCE: reference.tolist()},
            output_png,
            title=title,
        )

    # The contract.

    def forced_choices(self, points, point_mask, inputs, targets):
        """`choices` for teacher forcing: the decoder is fed `inputs` `[B, T]`
        (0, then the target positions). The target itself is always allowed."""
        positions = tf.shape(points)[1] + 1
        allowed = self.forced_rules(points, point_mask, inputs, targets)
        return allowed | tf.one_hot(
            tf.maximum(targets, 0), positions, on_value=True, off_value=False
        )

    def forced_rules(self, points, point_mask, inputs, targets):
        """What the rules allow at every step of teacher forcing, bool
        `[B, T, N + 1]`: `choices` of the positions the inputs chose."""
        positions = tf.shape(points)[1] + 1
        chosen = (
            tf.one_hot(inputs, positions, dtype=tf.int32)
            * tf.cast(inputs > 0, tf.int32)[..., None]
        )
        visited = tf.cumsum(chosen, axis=1) > 0
        count = tf.cumsum(tf.cast(inputs > 0, tf.int32), axis=1)
        first = tf.broadcast_to(
            tf.concat([inputs, tf.zeros_like(inputs)], axis=1)[:, 1:2],
            tf.shape(inputs),
        )
        return self.choices(points, point_mask, visited, count, first, inputs)

    def _dataset(self, part: dict, batch_size: int, seed: int | None):
        inputs, targets = sequences(part["answers"])
        point_mask = (
            np.arange(part["points"].shape[1])[None, :] < part["sizes"][:, None]
        )
        arrays = tuple(
            tf.constant(array)
            for array in (part["points"], point_mask, inputs, targets)
        )
        # Shuffling row numbers rather than rows keeps the shuffle buffer
        # cheap to refill every epoch, even for a million problems.
        rows = tf.data.Dataset.range(len(inputs))
        if seed is not None:
            rows = rows.shuffle(len(inputs), seed=seed)

        def to_model(batch_rows):
            points, point_mask, inputs, targets = (
                tf.gather(array, batch_rows) for array in arrays
            )
            features = {
                "points": points,
                "point_mask": point_mask,
                "decoder_inputs": inputs,
                "choices": self.forced_choices(points, point_mask, inputs, targets),
            }
            return features, targets

        return (
            rows.batch(batch_size)
            .map(to_model, num_parallel_calls=tf.data.AUTOTUNE)
            .prefetch(tf.data.AUTOTUNE)
        )

    def load_data(self, config: PointerConfig) -> Data:
        sizes = geometry.parse_sizes(config.n)
        cache = sources.data_home() / "pointer"
        parts = {
            name: geometry.problem_set(
                self.PROBLEM,
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
            train=self._dataset(parts["train"], config.batch_size, config.seed),
            validation=self._dataset(parts["validation"], config.batch_size, None),
            test=self._dataset(parts["test"], config.batch_size, None),
            test_set=parts["test"],
            train_size=config.train_examples,
        )

    def build_model(self, config: PointerConfig, data: Data | None = None):
        points = keras.Input(shape=(None, 2), name="points")
        point_mask = keras.Input(shape=(None,), dtype="bool", name="point_mask")
        decoder_inputs = keras.Input(
            shape=(None,), dtype="int32", name="decoder_inputs"
        )
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
            name=self.PROBLEM,
        )
        steps = training.steps_for(config.train_examples, config.batch_size)
        model.compile(
            optimizer=training.make_optimizer(config, steps),
            loss=keras.losses.SparseCategoricalCrossentropy(
                from_logits=True, ignore_class=-1
            ),
            metrics=[keras.metrics.SparseCategoricalAccuracy(name="accuracy")],
        )
        return self.from_saved(config, model)

    def from_saved(self, config: PointerConfig, model: keras.Model):
        """The encoder and one decoder step, from the layers of `model`."""
        points = keras.Input(shape=(None, 2), name="points")
        point_mask = keras.Input(shape=(None,), dtype="bool", name="point_mask")
        embedded = model.get_layer("token")(model.get_layer("embedding")(points))
        mask = keras.ops.pad(point_mask, [[0, 0], [1, 0]], constant_values=True)
        encoder_sequence, *states = model.get_layer("encoder")(embedded, mask=mask)
        encoder = keras.Model(
            [points, point_mask], [embedded, encoder_sequence, *states], name="encoder"
        )

        token = inference.token_input()
        step_embedded = keras.Input(shape=(None, config.embedding_dim), name="embedded")
        step_encoder = keras.Input(shape=(None, config.units), name="encoder_sequence")
        allowed = keras.Input(shape=(1, None), dtype="bool", name="choices")
        decoder = model.get_layer("decoder")
        state_inputs = inference.state_inputs(decoder.state_size)
        fed = keras.ops.take_along_axis(step_embedded, token[..., None], axis=1)
        decoder_sequence, *new_states = decoder(fed, initial_state=state_inputs)
        logits = model.get_layer("pointer")(
            [decoder_sequence, step_encoder], mask=[None, allowed]
        )
        step = inference.step_model(
            token,
            [step_embedded, step_encoder, allowed],
            state_inputs,
            logits,
            new_states,
        )
        return inference.Pieces(model=model, encoder=encoder, step=step)

    train = staticmethod(training.fit_task)

    def solve_all(self, function, points: np.ndarray, sizes: np.ndarray, batch=256):
        """Answers `[M, N]` of every point set, in batches, with a progress bar."""
        mask = np.arange(points.shape[1])[None, :] < sizes[:, None]
        parts = zip(inference.batches(points, batch), inference.batches(mask, batch))
        return inference.decode_all(function, parts, len(points), "problem")

    def evaluate(self, config, pieces, data: Data, output_dir=None) -> dict:
        solver = Solver(self, config, pieces)
        test = data.test_set
        loss, accuracy = pieces.model.evaluate(data.test, verbose=0)
        results = {"test_loss": float(loss), "step_accuracy": float(accuracy)}
        for function, suffix in ((solver.solve_greedy, "_greedy"), (solver.solve, "")):
            answers = self.solve_all(function, test["points"], test["sizes"])
            found = self.metrics(test, answers)
            results.update({f"{key}{suffix}": value for key, value in found.items()})
        results.pop("optimal_length_greedy", None)
        results["test_problems"] = int(len(test["points"]))
        return results

    def show(self, config, pieces, data: Data) -> None:
        solver = Solver(self, config, pieces)
        test = data.test_set
        answers = self.solve_all(solver.solve, test["points"][:5], test["sizes"][:5])
        for points, size, answer in zip(test["points"], test["sizes"], answers):
            print(self.describe(points[:size], answer))

    def endpoints(self, config, pieces, data: Data) -> export_lib.Endpoints:
        solver = Solver(self, config, pieces)

        def solve(points):
            point_mask = tf.ones(tf.shape(points)[:2], tf.bool)
            return {self.OUTPUT: solver.solve(points, point_mask)}

        points = tf.TensorSpec([None, None, 2], tf.float32, name="points")
        return export_lib.Endpoints(
            functions={"solve": (solve, [points])}, track=solver.trackables()
        )

    def examples(self, config, data: Data, count: int) -> dict:
        """Endpoint inputs: test point sets of the largest trained size."""
        test = data.test_set
        full = np.flatnonzero(test["sizes"] == test["points"].shape[1])[:count]
        return {"solve": {"points": test["points"][full]}}

    def predict(self, saved_model: Path, inputs: list[str], options: dict) -> None:
        """Solves the given points (X,Y pairs), or a random set of the trained
        size; `--plot` draws the answer next to the exact one."""
        if inputs:
            points = parse_points(inputs)
        else:
            size = trained_size(saved_model)
            points = np.random.default_rng().random((1, size, 2)).astype(np.float32)
        loaded = tf.saved_model.load(str(saved_model))
        answer = loaded.solve(points=tf.constant(points))[self.OUTPUT].numpy()[0]
        print(self.describe(points[0], answer))
        if options.get("plot"):
            reference = self.reference(points[0])
            predicted = answer[answer >= 0]
            title = self.plot_title(points[0], predicted, reference)
            self.plot(points[0], predicted, reference, Path(options["plot"]), title)
            print(f"Wrote {options['plot']}")
