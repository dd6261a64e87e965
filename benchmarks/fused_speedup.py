"""What does the fused recurrent loop buy a whole task? Training steps per
minute with it and without it (`KERAS_SEQ_FUSED_RNN=0`), in one run.

For each task, a preset's model trains for `--steps` batches in its own
process, once on the stock Keras loop and once on the fused one, the two
taking turns for `--rounds` rounds. A process reports the median time of a
training step after `--warmup` steps (the first steps trace and compile);
validation, evaluation and export are not timed. A figure is the median
over the rounds. From a task's steps per epoch and epochs, the minutes the
preset's training takes on each loop follow.

    python benchmarks/fused_speedup.py
    python benchmarks/fused_speedup.py --tasks translation --set translation:cell=lstm

The last line printed is one JSON object: for every task,
`TASK_steps_per_minute_stock`, `TASK_steps_per_minute_fused` and
`TASK_speedup`.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time

DEFAULT_TASKS = "char_generation,translation,tsp,convex_hull,text_classification"


def worker(task_name: str, preset: str, overrides: list[str], steps: int, warmup: int):
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    import keras

    from keras_seq import config as config_lib
    from keras_seq import registry
    from keras_seq.layers import recurrent

    task = registry.get_task(task_name)
    config = config_lib.apply_overrides(
        registry.get_preset(task, preset), config_lib.parse_overrides(overrides)
    )
    data = registry.load_data(task, config)
    pieces = registry.build_model(task, config, data)

    class Timer(keras.callbacks.Callback):
        def __init__(self):
            super().__init__()
            self.times = []

        def on_train_batch_begin(self, batch, logs=None):
            self.started = time.perf_counter()

        def on_train_batch_end(self, batch, logs=None):
            self.times.append(time.perf_counter() - self.started)
            if len(self.times) >= warmup + steps:
                self.model.stop_training = True

    timer = Timer()
    # The whole epoch budget of the preset, for the minutes it implies.
    per_epoch = config.steps_per_epoch or int(data.train.cardinality())
    if per_epoch < 0:  # a dataset of unknown length: count its batches once
        per_epoch = sum(1 for _ in data.train)
    budget = dict(epochs=1, steps_per_epoch=warmup + steps)
    short = config_lib.apply_overrides(config, budget)
    with tempfile.TemporaryDirectory() as output_dir:
        task.train(short, pieces, data, output_dir, callbacks=[timer])
    seconds = statistics.median(timer.times[warmup:])
    print(
        json.dumps(
            {
                "fused": recurrent.fused_rnn_enabled(),
                "seconds_per_step": seconds,
                "steps_per_epoch": per_epoch,
                "epochs": config.epochs,
            }
        )
    )


def run_worker(fused: bool, arguments: list[str]) -> dict:
    environment = dict(os.environ, KERAS_SEQ_FUSED_RNN="1" if fused else "0")
    command = [sys.executable, __file__, "--worker", *arguments]
    completed = subprocess.run(
        command, env=environment, capture_output=True, text=True, check=False
    )
    if completed.returncode != 0:
        sys.exit(f"worker {arguments} failed:\n{completed.stderr[-3000:]}")
    result = json.loads(completed.stdout.strip().splitlines()[-1])
    if result["fused"] != fused:
        sys.exit(f"worker {arguments} ran with fused={result['fused']}")
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--tasks", default=DEFAULT_TASKS)
    parser.add_argument("--preset", default="default")
    parser.add_argument(
        "--set",
        dest="overrides",
        action="append",
        default=[],
        help="TASK:KEY=VALUE, a setting of one task",
    )
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--task", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(args.task, args.preset, args.overrides, args.steps, args.warmup)
        return

    print(
        f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
        f"{args.rounds} rounds of {args.steps} steps after {args.warmup}",
        flush=True,
    )
    result = {}
    for task in args.tasks.split(","):
        settings = [
            item.split(":", 1)[1]
            for item in args.overrides
            if item.startswith(f"{task}:")
        ]
        arguments = ["--task", task, "--preset", args.preset]
        arguments += [f"--set={item}" for item in settings]
        arguments += ["--steps", str(args.steps), "--warmup", str(args.warmup)]
        seconds = {False: [], True: []}
        for _ in range(args.rounds):
            for fused in (False, True):
                measured = run_worker(fused, arguments)
                seconds[fused].append(measured["seconds_per_step"])
        steps = measured["steps_per_epoch"] * measured["epochs"]
        row = {}
        for fused, label in ((False, "stock"), (True, "fused")):
            step = statistics.median(seconds[fused])
            row[label] = 60 / step
            result[f"{task}_steps_per_minute_{label}"] = round(60 / step, 1)
            result[f"{task}_train_minutes_{label}"] = round(steps * step / 60, 1)
        result[f"{task}_speedup"] = round(row["fused"] / row["stock"], 2)
        print(
            f"{task} ({args.preset}, {steps:,} training steps): "
            f"{row['stock']:,.0f} steps/min stock, {row['fused']:,.0f} fused "
            f"({result[f'{task}_speedup']}x); training "
            f"{result[f'{task}_train_minutes_stock']} -> "
            f"{result[f'{task}_train_minutes_fused']} min",
            flush=True,
        )
    print(json.dumps(result))


if __name__ == "__main__":
    main()
