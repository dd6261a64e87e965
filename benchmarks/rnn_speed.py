"""How fast does rnn_stack train and run against PyTorch and the Keras layers?

One recurrent layer in a character model (Embedding 64, the layer, Dense 65,
Adam 2e-3, cross-entropy), the char-RNN shape by default: 256 units,
windows of 100 characters, batches of 64. For every shape and cell, three
systems run the same model on random characters, each in its own process,
taking turns for `--rounds` rounds: PyTorch (`torch.nn.LSTM/GRU/RNN`, as
many threads as cores), the raw Keras layer (`keras.layers.LSTM/GRU/
SimpleRNN`) and `keras_seq.layers.rnn_stack`. A process times `--steps`
training steps after a warm-up and the same number of forward passes, and
reports the median step; a figure is the median over the rounds.

The machine's float32 GEMM peak (a 2048-cube matmul in TensorFlow) is
measured in the same run, before and after, so that every training figure
is also given as a share of it: training costs about 3x the forward FLOPs,
2 * (gates * units * (features + units) + units * vocabulary) per character.

    python benchmarks/rnn_speed.py                      # every cell and shape
    python benchmarks/rnn_speed.py --cells lstm --shapes char_rnn --rounds 5

Needs PyTorch (`pip install torch`, CPU build). The last line printed is one
JSON object with the figures; `lstm_over_torch`, `gru_over_torch` and
`rnn_over_torch` are rnn_stack's training speed over PyTorch's at the
char-RNN shape.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time

VOCABULARY = 65
EMBEDDING = 64
GATES = {"lstm": 4, "gru": 3, "rnn": 1}
SYSTEMS = ("torch", "keras", "rnn_stack")
# name: (units, time steps, batch size)
SHAPES = {
    "char_rnn": (256, 100, 64),
    "time_500": (256, 500, 64),
    "units_512": (512, 100, 64),
    "batch_16": (256, 100, 16),
    "batch_256": (256, 100, 256),
}


def flops_per_character(cell: str, units: int) -> float:
    """Forward FLOPs per character of the layer and the output layer."""
    return 2 * (GATES[cell] * units * (EMBEDDING + units) + units * VOCABULARY)


def _median_seconds(function, steps: int, warmup: int) -> float:
    for _ in range(warmup):
        function()
    times = []
    for _ in range(steps):
        started = time.perf_counter()
        function()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def _torch_worker(cell, units, length, batch, steps, warmup):
    import torch

    torch.set_num_threads(os.cpu_count())
    torch.manual_seed(0)
    layer_class = {"lstm": torch.nn.LSTM, "gru": torch.nn.GRU, "rnn": torch.nn.RNN}
    embedding = torch.nn.Embedding(VOCABULARY, EMBEDDING)
    recurrent = layer_class[cell](EMBEDDING, units, batch_first=True)
    output = torch.nn.Linear(units, VOCABULARY)
    parameters = [
        *embedding.parameters(),
        *recurrent.parameters(),
        *output.parameters(),
    ]
    optimizer = torch.optim.Adam(parameters, lr=2e-3)
    tokens = torch.randint(0, VOCABULARY, (batch, length))
    targets = torch.randint(0, VOCABULARY, (batch, length))

    def forward():
        return output(recurrent(embedding(tokens))[0])

    def train_step():
        optimizer.zero_grad()
        logits = forward()
        loss = torch.nn.functional.cross_entropy(
            logits.reshape(-1, VOCABULARY), targets.reshape(-1)
        )
        loss.backward()
        optimizer.step()

    def inference_step():
        with torch.no_grad():
            forward()

    return (
        _median_seconds(train_step, steps, warmup),
        _median_seconds(inference_step, steps, warmup),
    )


def _keras_worker(system, cell, units, length, batch, steps, warmup):
    import keras
    import numpy as np
    import tensorflow as tf

    from keras_seq.layers import rnn_stack

    keras.utils.set_random_seed(0)
    tokens = keras.Input((length,), dtype="int32", batch_size=batch)
    x = keras.layers.Embedding(VOCABULARY, EMBEDDING)(tokens)
    if system == "keras":
        layer_class = {
            "lstm": keras.layers.LSTM,
            "gru": keras.layers.GRU,
            "rnn": keras.layers.SimpleRNN,
        }
        x = layer_class[cell](units, return_sequences=True)(x)
    else:
        x = rnn_stack(x, cell=cell, units=units)
    model = keras.Model(tokens, keras.layers.Dense(VOCABULARY)(x))
    model.compile(
        keras.optimizers.Adam(2e-3),
        keras.losses.SparseCategoricalCrossentropy(from_logits=True),
    )
    rng = np.random.default_rng(0)
    inputs = tf.constant(rng.integers(0, VOCABULARY, (batch, length)), tf.int32)
    targets = tf.constant(rng.integers(0, VOCABULARY, (batch, length)), tf.int32)
    # Batches already in memory, so that the timing is the model's and not
    # the input pipeline's.

    def train_step():
        model.train_on_batch(inputs, targets)

    def inference_step():
        model.predict_on_batch(inputs)

    return (
        _median_seconds(train_step, steps, warmup),
        _median_seconds(inference_step, steps, warmup),
    )


def _peak_worker():
    import tensorflow as tf

    size = 2048
    a = tf.random.normal([size, size])
    b = tf.random.normal([size, size])
    matmul = tf.function(tf.matmul)
    matmul(a, b).numpy()
    best = min(_median_seconds(lambda: matmul(a, b).numpy(), 1, 0) for _ in range(5))
    return 2 * size**3 / best / 1e9


def worker(arguments) -> None:
    if arguments.worker == "peak":
        print(json.dumps({"gflops": _peak_worker()}))
        return
    units, length, batch = SHAPES[arguments.shape]
    if arguments.worker == "torch":
        train, infer = _torch_worker(
            arguments.cell, units, length, batch, arguments.steps, arguments.warmup
        )
    else:
        train, infer = _keras_worker(
            arguments.worker,
            arguments.cell,
            units,
            length,
            batch,
            arguments.steps,
            arguments.warmup,
        )
    characters = length * batch
    print(
        json.dumps(
            {
                "train_chars_per_s": characters / train,
                "infer_chars_per_s": characters / infer,
            }
        )
    )


def run_worker(*args: str) -> dict:
    environment = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    result = subprocess.run(
        [sys.executable, __file__, "--worker", *args],
        capture_output=True,
        text=True,
        env=environment,
    )
    if result.returncode != 0:
        raise SystemExit(f"worker {' '.join(args)} failed:\n{result.stderr[-3000:]}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--cells", default="lstm,gru,rnn")
    parser.add_argument("--shapes", default=",".join(SHAPES))
    parser.add_argument("--systems", default=",".join(SYSTEMS))
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--cell", help=argparse.SUPPRESS)
    parser.add_argument("--shape", help=argparse.SUPPRESS)
    arguments = parser.parse_args()
    if arguments.worker:
        worker(arguments)
        return

    cells = arguments.cells.split(",")
    shapes = arguments.shapes.split(",")
    systems = arguments.systems.split(",")
    for name, values, allowed in [
        ("--cells", cells, GATES),
        ("--shapes", shapes, SHAPES),
        ("--systems", systems, SYSTEMS),
    ]:
        unknown = [value for value in values if value not in allowed]
        if unknown:
            raise SystemExit(f"{name}: unknown {unknown}; allowed: {list(allowed)}")

    print(f"Machine: {platform.machine()}, {os.cpu_count()} cores", flush=True)
    peaks = [run_worker("peak")["gflops"]]
    print(
        f"GEMM peak (2048-cube matmul, TensorFlow): {peaks[0]:.1f} GFLOP/s", flush=True
    )

    results = {}
    for shape in shapes:
        units, length, batch = SHAPES[shape]
        for cell in cells:
            runs = {system: [] for system in systems}
            for round_index in range(arguments.rounds):
                for system in systems:
                    figures = run_worker(
                        system,
                        "--cell",
                        cell,
                        "--shape",
                        shape,
                        "--steps",
                        str(arguments.steps),
                        "--warmup",
                        str(arguments.warmup),
                    )
                    runs[system].append(figures)
                    print(
                        f"  {shape} {cell} round {round_index + 1} {system}: "
                        f"train {figures['train_chars_per_s']:,.0f} chars/s, "
                        f"inference {figures['infer_chars_per_s']:,.0f} chars/s",
                        flush=True,
                    )
            results[(shape, cell)] = {
                system: {
                    key: statistics.median(run[key] for run in system_runs)
                    for key in ("train_chars_per_s", "infer_chars_per_s")
                }
                for system, system_runs in runs.items()
            }
    peaks.append(run_worker("peak")["gflops"])
    peak = statistics.mean(peaks)

    print()
    print(
        f"Characters per second (median of {arguments.rounds} rounds); share of "
        f"the GEMM peak ({peak:.0f} GFLOP/s, mean of {peaks[0]:.0f} before and "
        f"{peaks[1]:.0f} after) in brackets"
    )
    print()
    header = "| shape (units, T, B) | cell | phase |"
    header += "".join(f" {system} |" for system in systems)
    if "torch" in systems and "rnn_stack" in systems:
        header += " rnn_stack / torch |"
    if "keras" in systems and "rnn_stack" in systems:
        header += " rnn_stack / keras |"
    print(header)
    print("|" + " --- |" * (header.count("|") - 1))
    summary = {"gemm_peak_gflops": round(peak, 1), "rounds": arguments.rounds}
    for (shape, cell), figures in results.items():
        units, length, batch = SHAPES[shape]
        flops = 3 * flops_per_character(cell, units)
        for phase, key in [
            ("train", "train_chars_per_s"),
            ("inference", "infer_chars_per_s"),
        ]:
            row = f"| {shape} ({units}, {length}, {batch}) | {cell} | {phase} |"
            for system in systems:
                speed = figures[system][key]
                share = (
                    f" ({speed * flops / peak / 1e9:.0%})" if phase == "train" else ""
                )
                row += f" {speed:,.0f}{share} |"
                summary[f"{shape}_{cell}_{phase}_{system}"] = round(speed)
            for other in ("torch", "keras"):
                if other in systems and "rnn_stack" in systems:
                    ratio = figures["rnn_stack"][key] / figures[other][key]
                    row += f" {ratio:.2f} |"
                    summary[f"{shape}_{cell}_{phase}_over_{other}"] = round(ratio, 3)
            print(row)
    for cell in cells:
        key = f"char_rnn_{cell}_train_over_torch"
        if key in summary:
            summary[f"{cell}_over_torch"] = summary[key]
        key = f"char_rnn_{cell}_train_over_keras"
        if key in summary:
            summary[f"{cell}_over_keras"] = summary[key]
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
