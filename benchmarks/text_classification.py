"""Does the text_classification default preset beat a TF-IDF baseline?

Trains the default preset (settings overridable with --set) on the fixed
split of the chosen data, and, on the same split in the same run, a TF-IDF
(word 1- and 2-grams) plus logistic-regression baseline from scikit-learn.
With --variant, also the same model with other settings (pretraining, lexicon).

    python benchmarks/text_classification.py --variant pretrain=task

The last line printed is one JSON object with at least `accuracy` and
`baseline_accuracy` (test split).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras  # noqa: E402
import numpy as np  # noqa: E402

from keras_seq import config as config_lib  # noqa: E402
from keras_seq import registry  # noqa: E402
from tasks import text_classification  # noqa: E402


def tfidf_baseline(data) -> dict:
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression

    started = time.monotonic()
    # One pass over the (reshuffling) training set, so texts and labels align.
    train_texts, train_labels = [], []
    for texts, labels in data.train:
        train_texts += [text.decode() for text in texts.numpy()]
        train_labels += labels.numpy().tolist()
    vectorizer = TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, min_df=1)
    features = vectorizer.fit_transform(train_texts)
    classifier = LogisticRegression(C=10.0, max_iter=2000)
    classifier.fit(features, train_labels)
    predicted = classifier.predict(vectorizer.transform(data.test_texts))
    result = {
        "baseline_accuracy": round(float(np.mean(predicted == data.test_labels)), 4),
        "baseline_seconds": round(time.monotonic() - started, 1),
    }
    if data.valence is not None:
        # The same baseline given the lexicon too, so that the gain the lexicon
        # brings the RNN can be told apart from what it brings any model.
        from scipy.sparse import hstack

        valence = dict(zip(data.vocabulary, data.valence))
        analyzer = vectorizer.build_analyzer()

        def lexicon_features(texts):
            rows = []
            for text in texts:
                values = [
                    valence.get(word, 0.0) for word in analyzer(text) if " " not in word
                ]
                rows.append(
                    [
                        sum(values),
                        sum(v > 0 for v in values),
                        sum(v < 0 for v in values),
                    ]
                )
            return np.array(rows, dtype=np.float64)

        with_lexicon = LogisticRegression(C=10.0, max_iter=4000)
        with_lexicon.fit(
            hstack([features, lexicon_features(train_texts)]), train_labels
        )
        predicted = with_lexicon.predict(
            hstack(
                [
                    vectorizer.transform(data.test_texts),
                    lexicon_features(data.test_texts),
                ]
            )
        )
        result["baseline_lexicon_accuracy"] = round(
            float(np.mean(predicted == data.test_labels)), 4
        )
    return result


def train_variant(config, data) -> dict:
    started = time.monotonic()
    pieces = registry.build_model(text_classification, config, data)
    with tempfile.TemporaryDirectory() as output_dir:
        text_classification.train(config, pieces, data, output_dir)
        results = text_classification.evaluate(config, pieces, data)
    results["minutes"] = round((time.monotonic() - started) / 60, 2)
    return results


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
        text_classification.PRESETS["default"],
        config_lib.parse_overrides(args.overrides),
    )
    print(f"Settings: {config_lib.to_json(config)}", flush=True)
    data = registry.load_data(text_classification, config)
    print(
        f"{len(data.train_texts):,} training texts, {len(data.test_texts):,} test "
        f"texts, classes {data.class_names}",
        flush=True,
    )
    result = tfidf_baseline(data)
    print(f"TF-IDF + logistic regression: {result}", flush=True)
    main_results = train_variant(config, data)
    print(f"default preset: {main_results}", flush=True)
    result.update(
        {
            "accuracy": round(main_results["accuracy"], 4),
            "macro_f1": round(main_results["macro_f1"], 4),
            "minutes": main_results["minutes"],
        }
    )
    variants = {}
    for variant in args.variants:
        changes = config_lib.parse_overrides(variant.split(","))
        variant_config = config_lib.apply_overrides(config, changes)
        # The split and vocabulary stay the same; only a lexicon needs data.
        variant_data = (
            registry.load_data(text_classification, variant_config)
            if variant_config.lexicon != config.lexicon
            else data
        )
        outcome = train_variant(variant_config, variant_data)
        print(f"{variant}: {outcome}", flush=True)
        variants[variant] = {
            "accuracy": round(outcome["accuracy"], 4),
            "macro_f1": round(outcome["macro_f1"], 4),
            "minutes": outcome["minutes"],
        }
    if variants:
        result["variants"] = variants
    result.update(
        {
            "data": config.data,
            "test_examples": int(len(data.test_labels)),
            "pretrain": config.pretrain,
            "machine": f"{platform.machine()}, {os.cpu_count()} cores, "
            f"Python {sys.version.split()[0]}, Keras {keras.__version__}",
        }
    )
    print(json.dumps(result))


if __name__ == "__main__":
    main()
