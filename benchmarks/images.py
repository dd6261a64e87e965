"""Does DRAW with attention beat DRAW without it and a one-step VAE, and
the spatial LSTM a masked-convolution model and independent pixels, each
trained the same minutes on the same digits?

Trains, in one run and one after the other, on the fixed split of the
chosen digits (the `--set` settings go to every model of a task):

- `draw`: DRAW with Gaussian attention (the draw default preset);
  `draw_no_attention` (`attention=none`); `vae`, a one-step variational
  autoencoder of the same width (`attention=none steps=1`). Test negative
  variational bound in nats per image, in parts, next to Gregor et al.
  (2015, Table 2) on binarised MNIST (50,000 training digits, GPUs): 80.97
  nats with attention, 87.40 without, about 86.6 for a deep latent
  Gaussian model.
- `spatial_lstm` (the spatial_lstm default preset); `masked_conv`, a
  PixelCNN of masked convolutions of similar size; `independent`, a
  distribution per pixel position. Exact test negative log-likelihood in
  nats per image, next to van den Oord et al. (2016, Table 3): 79.20 for
  the diagonal BiLSTM PixelRNN, 81.30 for PixelCNN.

Each trains `--minutes` (and at most the preset's epochs).

    python benchmarks/images.py --minutes 10
    python benchmarks/images.py --models spatial_lstm,masked_conv,independent

The last line printed is one JSON object with `NAME_nats` for every model
run (`draw_nats`, `draw_no_attention_nats`, `vae_nats`, `spatial_lstm_nats`,
`masked_conv_nats`, `independent_nats` with all of them).
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
from tasks import draw, spatial_lstm  # noqa: E402

# Each model: its task and the settings that make it.
MODELS = {
    "draw": (draw, {}),
    "draw_no_attention": (draw, {"attention": "none"}),
    "vae": (draw, {"attention": "none", "steps": 1}),
    "spatial_lstm": (spatial_lstm, {}),
    "masked_conv": (spatial_lstm, {"model": "masked_conv"}),
    "independent": (spatial_lstm, {"model": "independent"}),
}


def train_and_score(task, config) -> dict:
    started = time.monotonic()
    data = registry.load_data(task, config)
    pieces = registry.build_model(task, config, data)
    with tempfile.TemporaryDirectory() as output_dir:
        history = task.train(config, pieces, data, output_dir)
    minutes = (time.monotonic() - started) / 60
    results = task.evaluate(config, pieces, data)
    found = {"nats": round(results["test_nats"], 2)}
    for part in ("reconstruction_nats", "kl_nats", "bits_per_pixel"):
        if f"test_{part}" in results:
            found[part] = round(results[f"test_{part}"], 4)
    return {
        **found,
        "epochs": len(history.history.get("loss", [])),
        "minutes": round(minutes, 2),
        "parameters": pieces.model.count_params(),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--preset", default="default", help="every task's preset")
    parser.add_argument(
        "--set",
        dest="overrides",
        action="append",
        default=[],
        help="KEY=VALUE for every model whose task has KEY",
    )
    parser.add_argument(
        "--models",
        default=",".join(MODELS),
        help="comma-separated, of " + ", ".join(MODELS),
    )
    args = parser.parse_args()
    names = args.models.split(",")
    unknown = sorted(set(names) - set(MODELS))
    if unknown:
        parser.error(
            f"--models: unknown {', '.join(unknown)}; allowed: {', '.join(MODELS)}"
        )
    overrides = config_lib.parse_overrides(args.overrides)
    result = {}
    for name in names:
        task, settings = MODELS[name]
        if args.preset not in task.PRESETS:
            parser.error(
                f"--preset {args.preset}: {name} has {', '.join(task.PRESETS)}"
            )
        fields = {field.name for field in dataclasses.fields(task.Config)}
        mine = {key: value for key, value in overrides.items() if key in fields}
        # The minutes bound every model, not the epochs (the learning
        # rate's cosine, spread over them, stays near its start).
        config = config_lib.apply_overrides(
            task.PRESETS[args.preset],
            {**mine, **settings, "minutes": args.minutes, "epochs": 10000},
        )
        print(f"{name}: {config_lib.to_json(config)}", flush=True)
        outcome = train_and_score(task, config)
        print(f"{name}: {outcome}", flush=True)
        result[f"{name}_nats"] = outcome["nats"]
        result[name] = outcome
        result["data"] = config.data
    result.update(
        {
            "minutes_each": args.minutes,
            "paper_nats": {**draw.PAPER, **spatial_lstm.PAPER},
            "machine": f"{platform.machine()}, {os.cpu_count()} cores, "
            f"Python {sys.version.split()[0]}, Keras {keras.__version__}",
        }
    )
    print(json.dumps(result))


if __name__ == "__main__":
    main()
