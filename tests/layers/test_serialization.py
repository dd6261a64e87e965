"""Every custom layer survives a .keras round trip in a fresh process, and the
saved model gives the same answers on the JAX backend."""

import keras
import numpy as np
import pytest

from keras_seq.layers import (
    AdditiveAttention,
    DotAttention,
    InputFeedingDecoder,
    LexicalContext,
    PointerAttention,
    RNNStack,
)
from tests.conftest import run_python


def _model_with_every_layer():
    tokens = keras.Input((None,), dtype="int32", name="tokens")
    x = keras.layers.Embedding(12, 6, mask_zero=True)(tokens)
    encoded = RNNStack(
        cell="lstm",
        units=3,
        num_layers=2,
        bidirectional=True,
        residual="add",
        name="encoder",
    )(x)
    decoded, *_ = RNNStack(
        cell="gru",
        units=6,
        residual="dense",
        num_layers=2,
        return_state=True,
        name="decoder",
    )(x)
    dot = DotAttention(score="general", name="dot")([decoded, encoded])
    additive, weights = AdditiveAttention(units=5, name="additive")(
        [decoded, encoded], return_attention_scores=True
    )
    lexical = LexicalContext(name="lexical")([weights, x])
    pointer = PointerAttention(units=5, name="pointer")([decoded, encoded])
    simple = RNNStack(cell="rnn", units=2, return_sequences=False, name="simple")(x)
    fed, fed_weights, *_ = InputFeedingDecoder(
        cell="lstm", units=4, num_layers=2, attention="additive", name="fed"
    )([x, encoded])
    return keras.Model(
        tokens, [dot, additive, lexical, pointer, simple, fed, fed_weights]
    )


TOKENS = np.array([[1, 2, 3, 4, 0, 0], [5, 6, 7, 8, 9, 10]], "int32")


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    folder = tmp_path_factory.mktemp("saved")
    model = _model_with_every_layer()
    path = folder / "model.keras"
    model.save(path)
    outputs = model.predict(TOKENS, verbose=0)
    np.savez(folder / "expected.npz", *outputs)
    np.save(folder / "tokens.npy", TOKENS)
    return folder


LOAD_AND_COMPARE = """
    import numpy as np, keras
    import keras_seq.layers  # registers the layers
    folder = {folder!r}
    model = keras.saving.load_model(folder + "/model.keras")
    outputs = model.predict(np.load(folder + "/tokens.npy"), verbose=0)
    expected = np.load(folder + "/expected.npz")
    for index, output in enumerate(outputs):
        np.testing.assert_allclose(
            np.asarray(output), expected[f"arr_{{index}}"], rtol=1e-4, atol=1e-5)
    print("backend", keras.backend.backend(), "ok")
"""


def test_keras_round_trip_in_a_fresh_process(saved):
    result = run_python(LOAD_AND_COMPARE.format(folder=str(saved)))
    assert result.returncode == 0, result.stderr[-2000:]
    assert "backend tensorflow ok" in result.stdout


@pytest.mark.slow
def test_layers_run_on_the_jax_backend(saved):
    pytest.importorskip("jax", reason="the test extra installs jax")
    result = run_python(
        LOAD_AND_COMPARE.format(folder=str(saved)), env={"KERAS_BACKEND": "jax"}
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert "backend jax ok" in result.stdout
