"""How close do pointer networks come to the paper's tables on 2 CPU cores?

Trains the `tsp`, `convex_hull` or `delaunay` task at a preset and evaluates it on its
test split (beam search; greedy alongside), against the targets taken from
Vinyals et al. 2015 (Tables 1 and 2) and Kool et al. 2019 (Table 1):

    python benchmarks/pointer.py --task tsp --set n=10
    python benchmarks/pointer.py --task tsp --set n=20 --preset paper \\
        --checkpoints 10,30,60

With `--checkpoints`, training runs until the last one (minutes of training,
evaluation time not counted) and the model is evaluated at each. The last
line printed is one JSON object with `mean_length`, `optimal_length`,
`gap_percent`, `valid_percent` (tsp) or `accuracy`, `area_coverage`,
`valid_percent` (convex_hull), `accuracy`, `triangle_coverage`,
`complete_percent` (delaunay), `train_minutes`, the target and whether it is
met.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras  # noqa: E402

from keras_seq import config as config_lib  # noqa: E402
from keras_seq import registry, training  # noqa: E402
from keras_seq.data import geometry  # noqa: E402

# (task, n): ([(metric, target, whether larger is better), ...], the
# paper's figures).
TARGETS = {
    ("tsp", 5): ([("mean_length", 2.13, False)], "optimal 2.12, Ptr-Net 2.12"),
    ("tsp", 10): ([("mean_length", 2.88, False)], "optimal 2.87, Ptr-Net 2.88"),
    ("tsp", 20): (
        [("mean_length", 3.88, False)],
        "optimal 3.83, Ptr-Net 3.88, attention model (greedy) 3.85",
    ),
    ("convex_hull", 50): ([("accuracy", 72.6, True)], "Ptr-Net 72.6% / 99.9% area"),
    ("delaunay", 5): (
        [("accuracy", 80.7, True), ("triangle_coverage", 93.0, True)],
        "Ptr-Net 80.7% exact / 93.0% triangle coverage",
    ),
    ("delaunay", 10): (
        [("accuracy", 22.6, True), ("triangle_coverage", 81.3, True)],
        "Ptr-Net 22.6% exact / 81.3% triangle coverage",
    ),
    ("delaunay", 50): (
        [("accuracy", 0.0, True), ("triangle_coverage", 52.8, True)],
        "Ptr-Net 0% exact / 52.8% triangle coverage",
    ),
}
# The paper's optimal mean tour lengths: a test set's own optimal mean differs
# from them by sampling noise (about 0.01 for 1,000 tours of 10 cities), so
# tour targets are also judged as gaps to each set's own optimum.
PAPER_OPTIMAL = {5: 2.12, 10: 2.87, 20: 3.83}


class Checkpoints(keras.callbacks.Callback):
    """Evaluates at given minutes of training (evaluation time not counted)
    and stops after the last."""

    def __init__(self, minutes: list[float], evaluate):
        super().__init__()
        self.marks = sorted(minutes)
        self.evaluate = evaluate
        self.results: dict[str, dict] = {}
        self.started = None
        self.paused = 0.0
        # Steps count the work a shared machine let the minutes do.
        self.steps = 0

    def on_train_begin(self, logs=None):
        self.started = time.monotonic()

    def on_train_batch_end(self, batch, logs=None):
        self.steps += 1
        trained = (time.monotonic() - self.started - self.paused) / 60
        if self.marks and trained >= self.marks[0]:
            mark = self.marks.pop(0)
            paused = time.monotonic()
            found = self.evaluate()
            self.paused += time.monotonic() - paused
            found["train_minutes"] = round(trained, 2)
            found["train_steps"] = self.steps
            self.results[f"{mark:g}"] = found
            print(f"\nAfter {trained:.1f} min of training: {found}", flush=True)
            if not self.marks:
                self.model.stop_training = True


def keep_run(task_name, preset, config, model, folder: Path) -> None:
    """The files `keras-seq evaluate --model FOLDER` reads."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "config.json").write_text(config_lib.to_json(config))
    (folder / "task.json").write_text(json.dumps({"task": task_name, "preset": preset}))
    model.save(folder / "model.keras")
    print(f"Kept the trained model in {folder}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--task", default="tsp", choices=("tsp", "convex_hull", "delaunay")
    )
    parser.add_argument("--preset", default="default")
    parser.add_argument("--set", dest="overrides", action="append", default=[])
    parser.add_argument(
        "--checkpoints", help="minutes of training to evaluate at, e.g. 10,30,60"
    )
    parser.add_argument(
        "--output",
        help="also keep the trained model here as a run folder (for "
        "`keras-seq evaluate` with other decoding settings)",
    )
    args = parser.parse_args()
    if args.output:
        # Before training: a bad folder must not cost a finished run.
        try:
            Path(args.output).mkdir(parents=True, exist_ok=True)
        except OSError as error:
            parser.error(
                f"--output {args.output}: no folder can be made there ({error})"
            )
    task = registry.get_task(args.task)
    config = config_lib.apply_overrides(
        registry.get_preset(task, args.preset),
        config_lib.parse_overrides(args.overrides),
    )
    marks = (
        [float(value) for value in args.checkpoints.split(",")]
        if (args.checkpoints)
        else []
    )
    if marks:
        # Time, not epochs, ends training.
        config = dataclasses.replace(config, epochs=10_000, minutes=0.0)
    print(f"Settings: {config_lib.to_json(config)}", flush=True)
    started = time.monotonic()
    data = registry.load_data(task, config)
    data_minutes = (time.monotonic() - started) / 60
    pieces = registry.build_model(task, config, data)

    def evaluate():
        return {
            key: round(value, 4) if isinstance(value, float) else value
            for key, value in task.evaluate(config, pieces, data).items()
        }

    checkpoints = Checkpoints(marks, evaluate)
    train_started = time.monotonic()
    with tempfile.TemporaryDirectory() as output_dir:
        if marks:
            training.fit_task(config, pieces, data, output_dir, callbacks=[checkpoints])
        else:
            task.train(config, pieces, data, output_dir)
    train_minutes = (time.monotonic() - train_started - checkpoints.paused) / 60
    if marks:
        result = dict(checkpoints.results[f"{max(marks):g}"])
        result["checkpoints"] = checkpoints.results
    else:
        result = evaluate()
        result["train_minutes"] = round(train_minutes, 2)
    if args.output:
        keep_run(args.task, args.preset, config, pieces.model, Path(args.output))
    size = geometry.parse_sizes(config.n)
    target = TARGETS.get((args.task, size[1])) if size[0] == size[1] else None
    if target:
        goals, paper = target
        met = [
            result[metric] >= value if larger else result[metric] <= value
            for metric, value, larger in goals
        ]
        result["target"] = " and ".join(
            f"{metric} {'>=' if larger else '<='} {value}"
            for metric, value, larger in goals
        )
        result.update({"target_met": all(met), "paper": paper})
        if args.task == "tsp":
            value = goals[0][1]
            allowed_gap = 100 * (value / PAPER_OPTIMAL[size[1]] - 1)
            result["target_gap_percent"] = round(allowed_gap, 2)
            result["target_gap_met"] = bool(result["gap_percent"] <= allowed_gap)
    result.update(
        {
            "task": args.task,
            "preset": args.preset,
            "n": config.n,
            "train_examples": config.train_examples,
            "data_minutes": round(data_minutes, 2),
            "machine": f"{platform.machine()}, {os.cpu_count()} cores, "
            f"Python {sys.version.split()[0]}, Keras {keras.__version__}",
        }
    )
    print(json.dumps(result))


if __name__ == "__main__":
    main()
