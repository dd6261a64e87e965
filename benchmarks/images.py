"""Does DRAW with attention beat DRAW without it and a one-step VAE, each
trained the same minutes on the same digits?

Trains, in one run and one after the other, on the fixed split of the
chosen digits: DRAW with Gaussian attention (the draw default preset), DRAW
without attention (`attention=none`), and a one-step variational
autoencoder of the same width (`attention=none steps=1`), each for
`--minutes` of training (and at most the preset's epochs). Reports the
test negative variational bound in nats per image, in parts, next to the
figures Gregor et al. (2015, Table 2) report on binarised MNIST after
training on 50,000 digits on GPUs: 80.97 nats with attention, 87.40
without, about 86.6 for a deep latent Gaussian model.

    python benchmarks/images.py --minutes 10

The last line printed is one JSON object with at least `draw_nats`,
`draw_no_attention_nats` and `vae_nats`.
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

from keras_seq import config as config_lib  # noqa: E402
from keras_seq import registry  # noqa: E402
from tasks import draw  # noqa: E402

MODELS = {
    "draw": {},
    "draw_no_attention": {"attention": "none"},
    "vae": {"attention": "none", "steps": 1},
}


def train_and_score(config) -> dict:
    started = time.monotonic()
    data = registry.load_data(draw, config)
    pieces = registry.build_model(draw, config, data)
    with tempfile.TemporaryDirectory() as output_dir:
        history = draw.train(config, pieces, data, output_dir)
    minutes = (time.monotonic() - started) / 60
    results = draw.evaluate(config, pieces, data)
    return {
        "nats": round(results["test_nats"], 2),
        "reconstruction_nats": round(results["test_reconstruction_nats"], 2),
        "kl_nats": round(results["test_kl_nats"], 2),
        "epochs": len(history.history.get("loss", [])),
        "minutes": round(minutes, 2),
        "parameters": pieces.model.count_params(),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--preset", default="default", choices=sorted(draw.PRESETS))
    parser.add_argument("--set", dest="overrides", action="append", default=[])
    parser.add_argument(
        "--models",
        default=",".join(MODELS),
        help="comma-separated, of " + ", ".join(MODELS),
    )
    args = parser.parse_args()
    base = config_lib.apply_overrides(
        draw.PRESETS[args.preset], config_lib.parse_overrides(args.overrides)
    )
    # The minutes bound every model, not the epochs (the learning rate's
    # cosine, spread over them, stays near its start).
    base = config_lib.apply_overrides(base, {"minutes": args.minutes, "epochs": 10000})
    print(f"Settings: {config_lib.to_json(base)}", flush=True)
    result = {}
    for name in args.models.split(","):
        config = config_lib.apply_overrides(base, MODELS[name])
        outcome = train_and_score(config)
        print(f"{name}: {outcome}", flush=True)
        result[f"{name}_nats"] = outcome["nats"]
        result[name] = outcome
    result.update(
        {
            "minutes_each": args.minutes,
            "data": base.data,
            "paper_nats": draw.PAPER,
            "machine": f"{platform.machine()}, {os.cpu_count()} cores, "
            f"Python {sys.version.split()[0]}, Keras {keras.__version__}",
        }
    )
    print(json.dumps(result))


if __name__ == "__main__":
    main()
