"""The `keras-seq` command: list, run, evaluate and predict tasks by name.

    keras-seq list [-v]
    keras-seq run TASK [--preset tiny|default|paper] [--set KEY=VALUE ...]
                       [--output DIR] [--strategy default|mirrored|multi_worker]
    keras-seq evaluate TASK --model DIR [--set KEY=VALUE ...]
    keras-seq predict TASK --model DIR [INPUT ...]

The commands are a thin layer over `keras_seq.api`, which does the same
from Python. Mistakes a user can fix (an unknown task or key, a badly typed
value, a missing file, unreadable data) end with one line on stderr that
says what was received and what is allowed, and exit status 2.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import sys
from pathlib import Path

from keras_seq.errors import UserError

EXIT_USAGE = 2
PREDICT_OPTIONS = ("length", "temperature", "plot", "plot_attention")


class _Parser(argparse.ArgumentParser):
    def error(self, message):
        raise UserError(message)


def _quiet_tensorflow() -> None:
    """Imports TensorFlow without the C++ start-up chatter on stderr.

    TensorFlow's native libraries log (oneDNN, CUDA probing) before its log
    level is read, so the process's stderr is pointed at /dev/null for the
    import only; a Python exception raised by the import still shows.
    """
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    if "tensorflow" in sys.modules:
        return
    sys.stderr.flush()
    saved = os.dup(2)
    try:
        with open(os.devnull, "w") as devnull:
            os.dup2(devnull.fileno(), 2)
            import tensorflow  # noqa: F401
    finally:
        os.dup2(saved, 2)
        os.close(saved)


def _build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="keras-seq",
        description="Recurrent sequence models in Keras 3: run a task by name.",
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    listing = commands.add_parser("list", help="the tasks, their data and presets")
    listing.add_argument(
        "-v", "--verbose", action="store_true", help="also every setting of each task"
    )

    run = commands.add_parser("run", help="train, evaluate, show samples, export")
    run.add_argument("task")
    run.add_argument("--preset", default="default", help="tiny, default or paper")
    run.add_argument(
        "--set",
        dest="overrides",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override one setting of the preset (repeatable)",
    )
    run.add_argument("--output", help="run folder (default: saved_models/TASK)")
    run.add_argument(
        "--strategy",
        default="default",
        choices=("default", "mirrored", "multi_worker"),
        help="tf.distribute strategy",
    )

    evaluate = commands.add_parser("evaluate", help="metrics of a trained run")
    evaluate.add_argument("task")
    evaluate.add_argument("--model", required=True, help="run folder")
    evaluate.add_argument(
        "--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE"
    )

    compare = commands.add_parser(
        "compare", help="train one variant per cell, same settings and budget"
    )
    compare.add_argument("task")
    compare.add_argument("--cells", default="rnn,gru,lstm", help="comma-separated")
    compare.add_argument("--preset", default="default", help="tiny, default or paper")
    compare.add_argument(
        "--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE"
    )
    compare.add_argument("--output", help="folder (default: runs/compare_TASK)")

    gradients = commands.add_parser(
        "gradients", help="norms of dL/dh_t through time, fresh and trained"
    )
    gradients.add_argument("--cells", default="rnn,gru,lstm", help="comma-separated")
    gradients.add_argument("--task", default="adding", help="adding or copy")
    gradients.add_argument("--length", type=int, default=100, help="sequence length")
    gradients.add_argument("--batch-size", type=int, default=64)
    gradients.add_argument(
        "--clipnorm", type=float, help="also show the norms after clipping"
    )
    gradients.add_argument(
        "--model", help="a trained run folder, or a compare folder of them"
    )
    gradients.add_argument("--output", default="runs/gradients", help="folder")
    gradients.add_argument("--seed", type=int, default=1337)

    predict = commands.add_parser("predict", help="answers of an exported model")
    predict.add_argument("task")
    predict.add_argument("--model", required=True, help="run folder or SavedModel")
    predict.add_argument("inputs", nargs="*", metavar="INPUT")
    predict.add_argument("--length", type=int, help="characters or tokens to draw")
    predict.add_argument("--temperature", type=float, help="sampling temperature")
    predict.add_argument("--plot", help="write a picture of the answer to this PNG")
    predict.add_argument(
        "--plot-attention", help="write the attention weights to this PNG"
    )
    return parser


def _command_list(verbose: bool) -> None:
    from keras_seq import config as config_lib
    from keras_seq import registry

    for name in registry.task_names():
        task = registry.get_task(name)
        default = task.PRESETS["default"]
        print(f"{name:<22}{task.DESCRIPTION}")
        others = [source for source in task.DATA_SOURCES if source != default.data]
        also = f" (also: {', '.join(others)})" if others else ""
        print(f"{'':<22}data: {default.data}{also}")
        print(f"{'':<22}presets: {', '.join(task.PRESETS)}")
        if verbose:
            for field, kind, help_text in config_lib.describe_fields(task.Config):
                print(
                    f"{'':<24}{field}={getattr(default, field)!r} ({kind}) {help_text}"
                )


def _command_run(args: argparse.Namespace) -> None:
    from keras_seq import api
    from keras_seq import config as config_lib

    api.run(
        args.task,
        preset=args.preset,
        output=args.output,
        strategy=args.strategy,
        **config_lib.parse_overrides(args.overrides),
    )


def _command_evaluate(args: argparse.Namespace) -> None:
    from keras_seq import api
    from keras_seq import config as config_lib

    metrics = api.evaluate(
        args.task, args.model, **config_lib.parse_overrides(args.overrides)
    )
    print(json.dumps(metrics, indent=2))


def _flags(names) -> str:
    return ", ".join("--" + name.replace("_", "-") for name in names)


def _command_predict(args: argparse.Namespace) -> None:
    from keras_seq import registry

    task = registry.get_task(args.task)
    from keras_seq.export import saved_model_path

    path = saved_model_path(args.model)
    if not (path / "saved_model.pb").is_file():
        raise UserError(
            f"--model {args.model}: no exported model there (saved_model.pb expected)"
        )
    options = {
        key: value
        for key, value in vars(args).items()
        if key in PREDICT_OPTIONS and value is not None
    }
    allowed = task.PREDICT_OPTIONS
    refused = sorted(set(options) - set(allowed))
    if refused:
        raise UserError(
            f"{args.task} predict takes {_flags(allowed) or 'no options'}. "
            f"Received: {_flags(refused)}"
        )
    task.predict(path, list(args.inputs), options)


def _cells(text: str) -> list[str]:
    from keras_seq.config import CELLS

    cells = [cell.strip() for cell in text.split(",") if cell.strip()]
    unknown = [cell for cell in cells if cell not in CELLS]
    if unknown or not cells:
        raise UserError(
            f"--cells takes a comma-separated list of {', '.join(CELLS)}. "
            f"Received: {text!r}"
        )
    return cells


def _command_compare(args: argparse.Namespace) -> None:
    from keras_seq import api
    from keras_seq import config as config_lib

    rows = api.compare(
        args.task,
        _cells(args.cells),
        preset=args.preset,
        output=args.output,
        **config_lib.parse_overrides(args.overrides),
    )
    metric = [key for key in rows[0] if key not in ("cell", "parameters", "seconds")][0]
    print(f"{'cell':<6}{metric:>22}{'parameters':>12}{'seconds':>10}")
    for row in rows:
        print(
            f"{row['cell']:<6}{row[metric]:>22.5f}"
            f"{row['parameters']:>12,}{row['seconds']:>10.1f}"
        )
    folder = Path(args.output or Path("runs") / f"compare_{args.task}")
    print(f"Wrote {folder / 'compare.csv'} and {folder / 'compare.png'}")


def _trained_models(model_dir: str) -> dict[str, Path]:
    """Cell name to model.keras, for a run folder or a compare folder."""
    folder = Path(model_dir)
    candidates = [folder, *sorted(path for path in folder.glob("*") if path.is_dir())]
    found = {}
    for candidate in candidates:
        if (candidate / "model.keras").is_file() and (
            candidate / "config.json"
        ).is_file():
            cell = json.loads((candidate / "config.json").read_text()).get("cell")
            if cell:
                found[cell] = candidate
    if not found:
        raise UserError(
            f"--model {model_dir}: no trained run there (model.keras and "
            "config.json expected, in the folder or its subfolders)"
        )
    return found


def _command_gradients(args: argparse.Namespace) -> None:
    import csv

    import keras

    from keras_seq import config as config_lib
    from keras_seq import gradients as gradients_lib
    from keras_seq import plots, registry

    task = registry.get_task(args.task)
    if task.probe is None:
        probed = [
            name for name in registry.task_names() if registry.get_task(name).probe
        ]
        raise UserError(f"--task must be one of {probed}. Received: {args.task!r}")
    if args.length < 2:
        raise UserError(f"--length must be at least 2. Received: {args.length}")
    cells = _cells(args.cells)
    trained = _trained_models(args.model) if args.model else {}
    output = Path(args.output)
    output.mkdir(parents=True, exist_ok=True)

    def measure(cell: str, config, pieces, label: str) -> list[dict]:
        data = task.load_data(
            dataclasses.replace(
                config, train_examples=args.batch_size, test_examples=args.batch_size
            )
        )
        inputs = data.test_inputs[: args.batch_size]
        targets = data.test_targets[: args.batch_size]
        step_cell, step_inputs, loss_fn = task.probe(config, pieces, inputs, targets)
        norms, loss = gradients_lib.hidden_state_gradient_norms(
            step_cell, step_inputs, loss_fn
        )
        scale = 1.0
        if args.clipnorm:
            total = gradients_lib.parameter_gradient_norm(pieces.model, inputs, targets)
            scale = min(1.0, args.clipnorm / total) if total > 0 else 1.0
            print(
                f"{cell} ({label}): parameter gradient norm {total:.4g}, "
                f"clipped to {args.clipnorm} (scale {scale:.3g})"
            )
        print(
            f"{cell} ({label}): loss {loss:.4f}, ||dL/dh_T|| {norms[-1]:.3e}, "
            f"||dL/dh_1|| {norms[0]:.3e}, ratio h_1/h_T {norms[0] / norms[-1]:.3e}"
        )
        if cell == "rnn":
            kernel = step_cell.recurrent_kernel
            print(
                f"{cell} ({label}): largest singular value of W_h "
                f"{gradients_lib.largest_singular_value(kernel):.4f}"
            )
        return [
            {"cell": cell, "t": t + 1, "grad_norm": norm * scale, "model": label}
            for t, norm in enumerate(norms)
        ]

    rows = []
    for cell in cells:
        config = config_lib.apply_overrides(
            task.PRESETS["default"],
            {
                "cell": cell,
                "length": str(args.length),
                "num_layers": "1",
                "seed": str(args.seed),
            },
        )
        keras.utils.set_random_seed(args.seed)
        rows += measure(cell, config, task.build_model(config), "fresh")
    for cell, folder in trained.items():
        config = config_lib.from_json(task.Config, (folder / "config.json").read_text())
        config = dataclasses.replace(config, length=args.length)
        model = keras.saving.load_model(folder / "model.keras")
        rows += measure(cell, config, task.from_saved(config, model), "trained")
    with open(output / "gradient_norms.csv", "w", newline="") as file:
        writer = csv.DictWriter(file, fieldnames=["cell", "t", "grad_norm", "model"])
        writer.writeheader()
        writer.writerows(rows)
    plots.gradient_norms(
        rows,
        output / "gradient_norms.png",
        title=f"||dL/dh_t||, {args.task}, T={args.length}",
    )
    print(f"Wrote {output / 'gradient_norms.csv'} and {output / 'gradient_norms.png'}")


def main(argv: list[str] | None = None) -> int:
    _quiet_tensorflow()
    parser = _build_parser()
    try:
        args, extra = parser.parse_known_args(argv)
        # Inputs of `predict` may follow its options; argparse cannot take
        # positionals after options in a subcommand, so they arrive here.
        if args.command == "predict" and not any(
            item.startswith("-") for item in extra
        ):
            args.inputs = [*args.inputs, *extra]
        elif extra:
            raise UserError(f"unrecognized arguments: {' '.join(extra)}")
        if args.command == "list":
            _command_list(args.verbose)
        elif args.command == "run":
            _command_run(args)
        elif args.command == "evaluate":
            _command_evaluate(args)
        elif args.command == "predict":
            _command_predict(args)
        elif args.command == "compare":
            _command_compare(args)
        elif args.command == "gradients":
            _command_gradients(args)
    except UserError as error:
        print(f"keras-seq: error: {error}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("keras-seq: interrupted", file=sys.stderr)
        return 130
    return 0


__all__ = ["main"]
