"""How well does the parsing default preset write trees, and what does the
tree constraint buy?

Trains the default preset (settings overridable with --set) on the fixed
split of the chosen source, then decodes the test split twice with the
same weights: with the constraint that only well-formed trees are written
(the default) and without it. With --variant, also the preset with other
settings (for example words=keep), trained and scored the same way.

    python benchmarks/parsing.py --variant words=keep

Vinyals, Kaiser et al. (2014, Table 1) report labelled bracket F1 88.3 on
WSJ section 23 for the attention model trained on the WSJ alone and 90.5
with their silver data; those figures are for English sentences and the
Penn Treebank (`--set data=file:PATH`), not for the sources shipped here.

The last line printed is one JSON object with at least `f1_beam`,
`exact_beam`, `well_formed_beam` and `unconstrained_well_formed_beam`.
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
from tasks import parsing  # noqa: E402

PAPER = {"wsj_attention_f1": 88.3, "wsj_silver_f1": 90.5}


def _rounded(results: dict) -> dict:
    return {
        key: round(value, 2) if isinstance(value, float) else value
        for key, value in results.items()
    }


def train_and_score(config) -> dict:
    started = time.monotonic()
    data = registry.load_data(parsing, config)
    pieces = registry.build_model(parsing, config, data)
    with tempfile.TemporaryDirectory() as output_dir:
        parsing.train(config, pieces, data, output_dir)
    minutes = (time.monotonic() - started) / 60
    results = parsing.evaluate(config, pieces, data)
    free = parsing.evaluate(
        dataclasses.replace(config, constrained=False), pieces, data
    )
    results.update(
        {
            f"unconstrained_{key}": value
            for key, value in free.items()
            if key.endswith(("_beam", "_greedy"))
        }
    )
    results["train_minutes"] = minutes
    results["train_trees"] = data.train_size
    return _rounded(results)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--set", dest="overrides", action="append", default=[])
    parser.add_argument(
        "--variant",
        dest="variants",
        action="append",
        default=[],
        metavar="KEY=VALUE[,KEY=VALUE]",
        help="also train the preset with these settings (repeatable)",
    )
    args = parser.parse_args()
    config = config_lib.apply_overrides(
        parsing.PRESETS["default"], config_lib.parse_overrides(args.overrides)
    )
    print(f"Settings: {config_lib.to_json(config)}", flush=True)
    result = train_and_score(config)
    print(f"default preset: {result}", flush=True)
    variants = {}
    for variant in args.variants:
        changes = config_lib.parse_overrides(variant.split(","))
        outcome = train_and_score(config_lib.apply_overrides(config, changes))
        print(f"{variant}: {outcome}", flush=True)
        variants[variant] = outcome
    if variants:
        result["variants"] = variants
    result.update(
        {
            "data": config.data,
            "words": config.words,
            "paper": PAPER,
            "machine": f"{platform.machine()}, {os.cpu_count()} cores, "
            f"Python {sys.version.split()[0]}, Keras {keras.__version__}",
        }
    )
    print(json.dumps(result))


if __name__ == "__main__":
    main()
