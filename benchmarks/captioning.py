"""Does the captioner beat copying captions? BLEU against two baselines.

Trains the captioning task at a preset on each data source and scores its
beam-search captions on the test split with sacreBLEU (BLEU-1 to BLEU-4),
next to two baselines computed in the same run: the most frequent training
caption for every image, and the caption of the nearest training image by
the trained encoder's pooled features (cosine).

    python benchmarks/captioning.py --data tuxpaint
    python benchmarks/captioning.py --data twemoji --preset twemoji

One run's luck should decide nothing (a few dozen test captions swing BLEU-4
by several points between runs), so each source is trained once per seed
(`--seeds`, three by default); a seed draws both the split and the initial
weights. The last line printed is one JSON object with, per source, the means
over the seeds of `bleu4`, `bleu4_most_frequent`, `bleu4_nearest_neighbour`
and BLEU-1 to 3, whether the mean `bleu4` beats both mean baselines, on how
many seeds it did, the minutes per seed, and each seed's own figures.
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

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras  # noqa: E402

from keras_seq import config as config_lib  # noqa: E402
from keras_seq import registry  # noqa: E402


def train_and_score(task, config) -> dict:
    """BLEU of one seed's split and weights, with its baselines and minutes."""
    started = time.monotonic()
    data = registry.load_data(task, config)
    pieces = registry.build_model(task, config, data)
    with tempfile.TemporaryDirectory() as output_dir:
        task.train(config, pieces, data, output_dir)
    metrics = task.evaluate(config, pieces, data)
    metrics["minutes"] = (time.monotonic() - started) / 60
    metrics["train_size"] = data.train_size
    return metrics


def beats_both(figures: dict) -> bool:
    return bool(
        figures["bleu4"] > figures["bleu4_most_frequent"]
        and figures["bleu4"] > figures["bleu4_nearest_neighbour"]
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", action="append", help="source (repeatable)")
    parser.add_argument("--preset", default="default")
    parser.add_argument("--set", dest="overrides", action="append", default=[])
    parser.add_argument(
        "--seeds",
        default="1337,1338,1339",
        help="comma-separated seeds; each draws its own split and weights, "
        "and the figures are their means (default: %(default)s)",
    )
    args = parser.parse_args()
    try:
        seeds = [int(seed) for seed in args.seeds.split(",")]
    except ValueError:
        parser.error(f"--seeds {args.seeds!r}: expected integers separated by commas")
    task = registry.get_task("captioning")
    base = config_lib.apply_overrides(
        registry.get_preset(task, args.preset),
        config_lib.parse_overrides(args.overrides),
    )
    result = {}
    for source in args.data or ["tuxpaint", "twemoji"]:
        runs = []
        for seed in seeds:
            config = dataclasses.replace(base, data=source, seed=seed)
            print(f"Settings: {config_lib.to_json(config)}", flush=True)
            metrics = train_and_score(task, config)
            print(f"data={source} seed={seed}: {metrics}", flush=True)
            run = {key: round(value, 2) for key, value in metrics.items()}
            run["seed"] = seed
            run["beats_both_baselines"] = beats_both(metrics)
            runs.append(run)
        figures = {
            key: round(sum(run[key] for run in runs) / len(runs), 2)
            for key in runs[0]
            if key.startswith("bleu") or key == "minutes"
        }
        figures["beats_both_baselines"] = beats_both(figures)
        figures["seeds_beating_both"] = sum(run["beats_both_baselines"] for run in runs)
        # Each seed's split holds its own number of training pictures.
        figures["train_sizes"] = [run["train_size"] for run in runs]
        figures["runs"] = runs
        result[source] = figures
    result["preset"] = args.preset
    result["seeds"] = seeds
    result["machine"] = (
        f"{platform.machine()}, {os.cpu_count()} cores, "
        f"Python {sys.version.split()[0]}, Keras {keras.__version__}"
    )
    print(json.dumps(result))


if __name__ == "__main__":
    main()
