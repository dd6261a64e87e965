import numpy as np
import pytest

from keras_seq.data import synthetic


def test_adding_problem_targets_and_baseline():
    rng = np.random.default_rng(0)
    inputs, targets = synthetic.adding_problem(20_000, 50, rng)
    assert inputs.shape == (20_000, 50, 2) and targets.shape == (20_000, 1)
    markers = inputs[..., 1]
    assert np.all(markers.sum(axis=1) == 2)
    assert np.all(markers[:, :25].sum(axis=1) == 1)
    np.testing.assert_allclose(
        targets[:, 0], (inputs[..., 0] * markers).sum(axis=1), rtol=1e-6
    )
    # Always answering 1 scores the variance of the sum of two uniforms.
    assert np.mean((targets - 1.0) ** 2) == pytest.approx(
        synthetic.ADDING_BASELINE_MSE, rel=0.03
    )


def test_copy_memory_layout_and_baseline():
    rng = np.random.default_rng(1)
    inputs, targets = synthetic.copy_memory(5000, 30, rng)
    assert inputs.shape == targets.shape == (5000, 50)
    np.testing.assert_array_equal(targets[:, -10:], inputs[:, :10])
    assert np.all(inputs[:, 39] == 9) and np.all(targets[:, :40] == 0)
    assert np.all((inputs[:, :10] >= 1) & (inputs[:, :10] <= 8))
    # The memoryless answer: blanks, then uniform over the 8 symbols.
    memoryless = np.zeros((50, 9))
    memoryless[:40, 0] = 1.0
    memoryless[40:, 1:] = 1 / 8
    nats = -np.log(memoryless[np.arange(50), targets] + 1e-300)
    assert nats.mean() == pytest.approx(synthetic.copy_memory_baseline(30))


def test_bad_sizes():
    with pytest.raises(ValueError, match="Received: length=1"):
        synthetic.adding_problem(2, 1, np.random.default_rng())
    with pytest.raises(ValueError, match="Received: delay=0"):
        synthetic.copy_memory(2, 0, np.random.default_rng())
