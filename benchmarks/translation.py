"""How much does attention add? Encoder-decoders on the Ding sentence pairs.

On the same split, in one run: an encoder-decoder without attention, with
dot (Luong "general") attention and with additive (Bahdanau) attention, each
decoded with beam search, plus greedy decoding of the best one. BLEU is
sacreBLEU's corpus BLEU on the test split, case-insensitive.

    python benchmarks/translation.py

The last line printed is one JSON object with `bleu_none`, `bleu_dot`,
`bleu_additive`, `bleu_greedy`, `bleu_beam` and the minutes each took.
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
from tasks import translation  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--set", dest="overrides", action="append", default=[])
    args = parser.parse_args()
    config = config_lib.apply_overrides(
        translation.PRESETS["default"], config_lib.parse_overrides(args.overrides)
    )
    print(f"Settings: {config_lib.to_json(config)}", flush=True)
    started = time.monotonic()
    data = registry.load_data(translation, config)
    print(
        f"{data.train_size:,} training pairs, {len(data.test_pairs):,} test pairs, "
        f"vocabularies {data.source_vocabulary.size} / {data.target_vocabulary.size}",
        flush=True,
    )
    result = {}
    for attention in ("none", "dot", "additive"):
        variant = dataclasses.replace(config, attention=attention)
        variant_started = time.monotonic()
        pieces = registry.build_model(translation, variant, data)
        with tempfile.TemporaryDirectory() as output_dir:
            translation.train(variant, pieces, data, output_dir)
        metrics = translation.evaluate(variant, pieces, data)
        minutes = (time.monotonic() - variant_started) / 60
        print(f"attention={attention}: {metrics}, {minutes:.1f} min", flush=True)
        result[f"bleu_{attention}"] = round(metrics["bleu_beam"], 2)
        result[f"bleu_greedy_{attention}"] = round(metrics["bleu_greedy"], 2)
        result[f"minutes_{attention}"] = round(minutes, 2)
    best = max(("dot", "additive"), key=lambda name: result[f"bleu_{name}"])
    result.update(
        {
            "best_attention": best,
            "bleu_beam": result[f"bleu_{best}"],
            "bleu_greedy": result[f"bleu_greedy_{best}"],
            "attention_gain": round(result[f"bleu_{best}"] - result["bleu_none"], 2),
            "total_minutes": round((time.monotonic() - started) / 60, 2),
            "test_pairs": len(data.test_pairs),
            "train_pairs": data.train_size,
            "tokens": config.tokens,
            "input_feeding": config.input_feeding,
            "lexical": config.lexical,
            "lr_schedule": config.lr_schedule,
            "label_smoothing": config.label_smoothing,
            "beam_width": config.beam_width,
            "length_penalty": config.length_penalty,
            "coverage_penalty": config.coverage_penalty,
            "machine": f"{platform.machine()}, {os.cpu_count()} cores, "
            f"Python {sys.version.split()[0]}, Keras {keras.__version__}",
        }
    )
    print(json.dumps(result))


if __name__ == "__main__":
    main()
