"""The `keras-seq` command: list, run, evaluate and predict tasks by name.

    keras-seq list [-v]
    keras-seq run TASK [--preset tiny|default|paper] [--set KEY=VALUE ...]
                       [--output DIR] [--strategy default|mirrored|multi_worker]
    keras-seq evaluate TASK --model DIR [--set KEY=VALUE ...]
    keras-seq predict TASK --model DIR [INPUT ...]

Mistakes a user can fix (an unknown task or key, a badly typed value, a
missing file, unreadable data) end with one line on stderr that says what
was received and what is allowed, and exit status 2.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import sys
import time
from pathlib import Path

from keras_seq.errors import UserError

EXIT_USAGE = 2
PREDICT_OPTIONS = ("length", "temperature", "plot", "plot_attention")
# Tasks whose modules provide `probe` for `keras-seq gradients`.
GRADIENT_TASKS = ("adding", "copy")


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


def _format(value) -> str:
    return f"{value:.4f}" if isinstance(value, float) else str(value)


def _run_folder(task_name: str, output: str | None) -> Path:
    return Path(output) if output else Path("saved_models") / task_name


def _check_resumable(output: Path, config_json: str) -> None:
    """Refuses to resume an interrupted run of another configuration."""
    saved = output / "config.json"
    backup = output / "backup"
    if backup.is_dir() and any(backup.iterdir()) and saved.is_file():
        previous = json.loads(saved.read_text())
        current = json.loads(config_json)
        changed = sorted(
            key
            for key in set(previous) | set(current)
            if previous.get(key) != current.get(key)
        )
        if changed:
            raise UserError(
                f"{output} holds an interrupted run with other settings "
                f"(differs in: {', '.join(changed)}); rerun the same command to "
                f"resume it, or choose another --output"
            )


def _save_keras_model(model, path: Path) -> None:
    """Saves `model` to a temporary file renamed into place."""
    staging = path.with_name(f".{path.name}.writing.keras")
    model.save(staging)
    os.replace(staging, path)


def _command_run(args: argparse.Namespace) -> None:
    from keras_seq import config as config_lib
    from keras_seq import registry

    task = registry.get_task(args.task)
    config = registry.get_preset(task, args.preset)
    config = config_lib.apply_overrides(
        config, config_lib.parse_overrides(args.overrides)
    )
    output = _run_folder(args.task, args.output)
    config_json = config_lib.to_json(config)
    _check_resumable(output, config_json)

    from keras_seq import plots, training

    strategy = training.get_strategy(args.strategy)
    print(f"keras-seq run {args.task} --preset {args.preset}: {output}")
    started = time.monotonic()
    data = registry.load_data(task, config)
    with strategy.scope():
        pieces = registry.build_model(task, config, data)
    if strategy.num_replicas_in_sync > 1:
        print(f"Training on {strategy.num_replicas_in_sync} replicas")
    output.mkdir(parents=True, exist_ok=True)
    (output / "config.json").write_text(config_json)
    (output / "task.json").write_text(
        json.dumps({"task": args.task, "preset": args.preset})
    )
    task.train(config, pieces, data, output)
    _save_keras_model(pieces.model, output / "model.keras")
    metrics = task.evaluate(config, pieces, data, output)
    metrics["train_minutes"] = (time.monotonic() - started) / 60
    (output / "metrics.json").write_text(json.dumps(metrics, indent=2))
    print(
        "Metrics: "
        + ", ".join(f"{key}={_format(value)}" for key, value in metrics.items())
    )
    task.show(config, pieces, data)
    saved_model = task.export(config, pieces, data, output / "saved_model")
    if (output / "history.csv").is_file():
        plots.learning_curves(
            output / "history.csv",
            output / "learning_curves.png",
            title=args.task,
            labels=getattr(task, "METRIC_LABELS", None),
        )
    print(f"Exported {saved_model}")


def _load_run(task_name: str, model_dir: str, overrides: list[str]):
    from keras_seq import config as config_lib
    from keras_seq import registry

    task = registry.get_task(task_name)
    folder = Path(model_dir)
    if not (folder / "config.json").is_file() or not (folder / "model.keras").is_file():
        raise UserError(
            f"--model {model_dir}: not a run folder of keras-seq run "
            "(config.json and model.keras expected)"
        )
    recorded = folder / "task.json"
    if recorded.is_file():
        recorded_task = json.loads(recorded.read_text()).get("task")
        if recorded_task != task_name:
            raise UserError(
                f"--model {model_dir} holds a run of task {recorded_task!r}, "
                f"not {task_name!r}"
            )
    config = config_lib.from_json(task.Config, (folder / "config.json").read_text())
    config = config_lib.apply_overrides(config, config_lib.parse_overrides(overrides))
    return task, config, folder


def _command_evaluate(args: argparse.Namespace) -> None:
    task, config, folder = _load_run(args.task, args.model, args.overrides)
    import keras

    data = task.load_data(config)
    model = keras.saving.load_model(folder / "model.keras")
    pieces = task.from_saved(config, model)
    metrics = task.evaluate(config, pieces, data)
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
    allowed = getattr(task, "PREDICT_OPTIONS", ())
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
    import csv

    from keras_seq import config as config_lib
    from keras_seq import plots, registry

    task = registry.get_task(args.task)
    if not hasattr(task, "PRIMARY_METRIC"):
        raise UserError(f"Task {args.task!r} has no PRIMARY_METRIC to compare")
    base = config_lib.apply_overrides(
        registry.get_preset(task, args.preset),
        config_lib.parse_overrides(args.overrides),
    )
    if not hasattr(base, "cell"):
        raise UserError(f"Task {args.task!r} has no `cell` setting to compare")
    cells = _cells(args.cells)
    output = Path(args.output or Path("runs") / f"compare_{args.task}")
    data = registry.load_data(task, base)
    rows = []
    for cell in cells:
        config = config_lib.apply_overrides(base, {"cell": cell})
        folder = output / cell
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "config.json").write_text(config_lib.to_json(config))
        (folder / "task.json").write_text(json.dumps({"task": args.task}))
        print(f"--- {args.task} with cell={cell} ---")
        started = time.monotonic()
        pieces = registry.build_model(task, config, data)
        task.train(config, pieces, data, folder)
        seconds = time.monotonic() - started
        _save_keras_model(pieces.model, folder / "model.keras")
        metrics = task.evaluate(config, pieces, data)
        rows.append(
            {
                "cell": cell,
                task.PRIMARY_METRIC: metrics[task.PRIMARY_METRIC],
                "parameters": pieces.model.count_params(),
                "seconds": round(seconds, 1),
            }
        )
    with open(output / "compare.csv", "w", newline="") as file:
        writer = csv.DictWriter(file, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    plots.compare_curves(
        {row["cell"]: output / row["cell"] / "history.csv" for row in rows},
        output / "compare.png",
        title=f"{args.task}: validation loss by cell",
    )
    print(f"{'cell':<6}{task.PRIMARY_METRIC:>22}{'parameters':>12}{'seconds':>10}")
    for row in rows:
        print(
            f"{row['cell']:<6}{row[task.PRIMARY_METRIC]:>22.5f}"
            f"{row['parameters']:>12,}{row['seconds']:>10.1f}"
        )
    print(f"Wrote {output / 'compare.csv'} and {output / 'compare.png'}")


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

    if args.task not in GRADIENT_TASKS:
        raise UserError(
            f"--task must be one of {list(GRADIENT_TASKS)}. Received: {args.task!r}"
        )
    if args.length < 2:
        raise UserError(f"--length must be at least 2. Received: {args.length}")
    task = registry.get_task(args.task)
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
