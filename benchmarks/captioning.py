"""Does the captioner beat copying captions? BLEU against two baselines.

Trains the captioning task at a preset on each data source and scores its
beam-search captions on the test split with sacreBLEU (BLEU-1 to BLEU-4),
next to two baselines computed in the same run: the most frequent training
caption for every image, and the caption of the nearest training image by
the trained encoder's pooled features (cosine).

    python benchmarks/captioning.py --data tuxpaint --data twemoji

The last line printed is one JSON object with, per source, `bleu4`,
`bleu4_most_frequent`, `bleu4_nearest_neighbour`, BLEU-1 to 3, whether
`bleu4` beats both baselines, and the minutes the source took.
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", action="append", help="source (repeatable)")
    parser.add_argument("--preset", default="default")
    parser.add_argument("--set", dest="overrides", action="append", default=[])
    args = parser.parse_args()
    task = registry.get_task("captioning")
    base = config_lib.apply_overrides(
        registry.get_preset(task, args.preset),
        config_lib.parse_overrides(args.overrides),
    )
    result = {}
    for source in args.data or ["tuxpaint", "twemoji"]:
        config = dataclasses.replace(base, data=source)
        print(f"Settings: {config_lib.to_json(config)}", flush=True)
        started = time.monotonic()
        data = task.load_data(config)
        keras.utils.set_random_seed(config.seed)
        pieces = task.build_model(config, data)
        with tempfile.TemporaryDirectory() as output_dir:
            task.train(config, pieces, data, output_dir)
        metrics = task.evaluate(config, pieces, data)
        minutes = (time.monotonic() - started) / 60
        print(f"data={source}: {metrics}, {minutes:.1f} min", flush=True)
        figures = {key: round(value, 2) for key, value in metrics.items()}
        figures["beats_both_baselines"] = bool(
            metrics["bleu4"] > metrics["bleu4_most_frequent"]
            and metrics["bleu4"] > metrics["bleu4_nearest_neighbour"]
        )
        figures["minutes"] = round(minutes, 2)
        figures["train_size"] = data.train_size
        result[source] = figures
    result["preset"] = args.preset
    result["machine"] = (
        f"{platform.machine()}, {os.cpu_count()} cores, "
        f"Python {sys.version.split()[0]}, Keras {keras.__version__}"
    )
    print(json.dumps(result))


if __name__ == "__main__":
    main()
