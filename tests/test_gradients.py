import csv

import keras
import numpy as np
import pytest
import tensorflow as tf

from keras_seq import cli
from keras_seq.gradients import hidden_state_gradient_norms, largest_singular_value


def test_linear_rnn_gradients_match_the_closed_form():
    # h_t = x_t W + h_{t-1} U (no tanh), L = h_T . v: then
    # dL/dh_t = v (U^T)^(T-t), a power of U by the distance to the end.
    units, steps = 3, 6
    rng = np.random.default_rng(0)
    recurrent = rng.normal(size=(units, units)).astype("float32") * 0.6
    v = rng.normal(size=(units,)).astype("float32")
    cell = keras.layers.SimpleRNNCell(units, activation=None)
    cell.build((None, 2))
    cell.recurrent_kernel.assign(recurrent)
    inputs = rng.normal(size=(1, steps, 2)).astype("float32")

    def loss_fn(hidden_states):
        return tf.reduce_sum(hidden_states[-1] * v)

    norms, _ = hidden_state_gradient_norms(cell, inputs, loss_fn)
    expected = [
        np.linalg.norm(v @ np.linalg.matrix_power(recurrent.T, steps - t))
        for t in range(1, steps + 1)
    ]
    np.testing.assert_allclose(norms, expected, rtol=1e-5)


def test_scaled_identity_decays_geometrically():
    cell = keras.layers.SimpleRNNCell(2, activation=None)
    cell.build((None, 1))
    cell.recurrent_kernel.assign(0.5 * np.eye(2))
    norms, _ = hidden_state_gradient_norms(
        cell,
        np.ones((1, 5, 1), "float32"),
        lambda hidden: tf.reduce_sum(hidden[-1]),
    )
    np.testing.assert_allclose(norms, np.sqrt(2) * 0.5 ** np.arange(4, -1, -1))
    assert largest_singular_value(0.5 * np.eye(2)) == pytest.approx(0.5)


def test_gradients_command_writes_csv_and_plot(tmp_path, capsys):
    output = tmp_path / "gradients"
    assert (
        cli.main(
            [
                "gradients",
                "--cells",
                "rnn,lstm",
                "--length",
                "5",
                "--batch-size",
                "4",
                "--output",
                str(output),
            ]
        )
        == 0
    )
    printed = capsys.readouterr().out
    assert "largest singular value of W_h" in printed
    with open(output / "gradient_norms.csv") as file:
        rows = list(csv.DictReader(file))
    assert list(rows[0]) == ["cell", "t", "grad_norm", "model"]
    assert [(row["cell"], row["t"]) for row in rows][:2] == [("rnn", "1"), ("rnn", "2")]
    assert len(rows) == 10 and all(float(row["grad_norm"]) > 0 for row in rows)
    assert (output / "gradient_norms.png").stat().st_size > 10_000


def test_compare_then_gradients_of_the_trained_models(tmp_path, capsys):
    output = tmp_path / "compare"
    assert (
        cli.main(
            [
                "compare",
                "adding",
                "--preset",
                "tiny",
                "--cells",
                "rnn,gru",
                "--output",
                str(output),
            ]
        )
        == 0
    )
    printed = capsys.readouterr().out
    assert "test_mse" in printed and "parameters" in printed
    with open(output / "compare.csv") as file:
        rows = list(csv.DictReader(file))
    assert [row["cell"] for row in rows] == ["rnn", "gru"]
    assert set(rows[0]) == {"cell", "test_mse", "parameters", "seconds"}
    assert (output / "compare.png").is_file()
    assert (
        cli.main(
            [
                "gradients",
                "--cells",
                "gru",
                "--length",
                "6",
                "--batch-size",
                "4",
                "--model",
                str(output),
                "--output",
                str(tmp_path / "g"),
                "--clipnorm",
                "0.01",
            ]
        )
        == 0
    )
    printed = capsys.readouterr().out
    assert "rnn (trained)" in printed and "gru (trained)" in printed
    assert "clipped to 0.01" in printed


@pytest.mark.parametrize(
    "argv, message",
    [
        (["gradients", "--cells", "rnn,transformer"], "--cells takes"),
        (["gradients", "--task", "tsp"], "--task must be one of"),
        (["gradients", "--model", "/nonexistent"], "no trained run there"),
        (["compare", "no_such_task", "--cells", "gru"], "Unknown task"),
    ],
)
def test_bad_arguments(argv, message, capsys):
    assert cli.main(argv) == 2
    assert message in capsys.readouterr().err
