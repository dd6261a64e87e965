"""How much does attention add? Encoder-decoders on the Ding sentence pairs.

On the same split, in one run: an encoder-decoder without attention, with
dot (Luong "general") attention and with additive (Bahdanau) attention, each
decoded with beam search, plus greedy decoding of the best one. BLEU is
sacreBLEU's corpus BLEU on the test split, case-insensitive.

Next to them, the baseline a model of a dictionary must beat: the Ding
dictionary looked up word by word (`keras_seq.data.parallel.WordLookup`).
Models and lookup are also scored out of domain, on the German message
catalogues of Debian's command-line tools (`messages_de_en`), text of
another kind than the dictionary's sentences, never trained or tuned on.

    python benchmarks/translation.py
    python benchmarks/translation.py --attentions additive --set epochs=2

The last line printed is one JSON object with `bleu_none`, `bleu_dot`,
`bleu_additive`, `bleu_greedy`, `bleu_beam`, the minutes each took,
`lookup_bleu` and, out of domain, `dev_bleu_ATTENTION` and
`lookup_dev_bleu`; then `copy_bleu`, `copy_dev_bleu` of the best attention
retrained with the pointer-generator's copy path (`copy=true`).
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
from keras_seq import metrics as metrics_lib  # noqa: E402
from keras_seq import registry  # noqa: E402
from keras_seq.data import parallel  # noqa: E402
from tasks import translation  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--set", dest="overrides", action="append", default=[])
    parser.add_argument(
        "--attentions",
        default="none,dot,additive",
        help="the models to train, comma-separated",
    )
    parser.add_argument(
        "--copy-ablation",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="also train the best model with the copy setting flipped",
    )
    args = parser.parse_args()
    attentions = args.attentions.split(",")
    allowed = ("none", "dot", "additive")
    if not set(attentions) <= set(allowed):
        parser.error(f"--attentions {args.attentions!r}: each one of {allowed}")
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
    development = parallel.load_pairs("messages_de_en")
    if config.direction == "reverse":
        development = [(target, source) for source, target in development]
    result = {"dev_pairs": len(development)}
    if config.direction == "forward":
        lookup = parallel.ding_lookup()
        for key, pairs in (
            ("lookup_bleu", data.test_pairs),
            ("lookup_dev_bleu", development),
        ):
            translated = [lookup.translate(source) for source, _ in pairs]
            references = [[target] for _, target in pairs]
            result[key] = round(metrics_lib.corpus_bleu(translated, references), 2)
        print(
            f"word-by-word lookup: {result['lookup_bleu']} BLEU on the test split, "
            f"{result['lookup_dev_bleu']} on {len(development)} messages",
            flush=True,
        )

    def train_and_score(variant):
        variant_started = time.monotonic()
        pieces = registry.build_model(translation, variant, data)
        with tempfile.TemporaryDirectory() as output_dir:
            translation.train(variant, pieces, data, output_dir)
        metrics = translation.evaluate(variant, pieces, data)
        minutes = (time.monotonic() - variant_started) / 60
        metrics["dev_bleu_beam"] = translation.bleu(variant, pieces, data, development)[
            "bleu_beam"
        ]
        return metrics, minutes

    for attention in attentions:
        metrics, minutes = train_and_score(
            dataclasses.replace(config, attention=attention)
        )
        print(f"attention={attention}: {metrics}, {minutes:.1f} min", flush=True)
        result[f"bleu_{attention}"] = round(metrics["bleu_beam"], 2)
        result[f"bleu_greedy_{attention}"] = round(metrics["bleu_greedy"], 2)
        result[f"dev_bleu_{attention}"] = round(metrics["dev_bleu_beam"], 2)
        result[f"minutes_{attention}"] = round(minutes, 2)
    best = max(attentions, key=lambda name: result[f"bleu_{name}"])
    if args.copy_ablation and best != "none":
        # The best model again with the pointer-generator's copy path flipped.
        flipped = not config.copy
        metrics, minutes = train_and_score(
            dataclasses.replace(config, attention=best, copy=flipped)
        )
        print(f"attention={best}, copy={flipped}: {metrics}, {minutes:.1f} min")
        label = "copy" if flipped else "no_copy"
        result[f"{label}_bleu"] = round(metrics["bleu_beam"], 2)
        result[f"{label}_bleu_greedy"] = round(metrics["bleu_greedy"], 2)
        result[f"{label}_dev_bleu"] = round(metrics["dev_bleu_beam"], 2)
        result[f"{label}_minutes"] = round(minutes, 2)
    if "none" in attentions:
        result["attention_gain"] = round(
            result[f"bleu_{best}"] - result["bleu_none"], 2
        )
    result.update(
        {
            "best_attention": best,
            "bleu_beam": result[f"bleu_{best}"],
            "bleu_greedy": result[f"bleu_greedy_{best}"],
            "total_minutes": round((time.monotonic() - started) / 60, 2),
            "test_pairs": len(data.test_pairs),
            "train_pairs": data.train_size,
            "tokens": config.tokens,
            "input_feeding": config.input_feeding,
            "lexical": config.lexical,
            "copy": config.copy,
            "copy_dictionary": config.copy_dictionary,
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
