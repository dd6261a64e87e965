import keras
import numpy as np
import pytest

from keras_seq.layers import dense_block, residual_block


@pytest.mark.parametrize("shape", [(6, 3), (6, 6, 3)], ids=["sequence", "image"])
def test_residual_block_shapes_and_names(shape):
    inputs = keras.Input(shape)
    same = residual_block(inputs, 3, name="same")
    down = residual_block(same, 8, strides=2, name="down")
    model = keras.Model(inputs, down)
    assert down.shape[-1] == 8 and down.shape[1] == 3
    assert model.get_layer("down_shortcut") is not None
    assert "same_shortcut" not in [layer.name for layer in model.layers]
    out = model.predict(np.ones((2, *shape), "float32"), verbose=0)
    assert out.shape == (2, *[3] * (len(shape) - 1), 8)


def test_residual_block_is_identity_when_the_branch_is_zero():
    inputs = keras.Input((5, 4))
    model = keras.Model(inputs, residual_block(inputs, 4, name="block"))
    model.get_layer("block_conv2").kernel.assign(np.zeros((3, 4, 4)))
    x = np.random.default_rng(0).normal(size=(2, 5, 4)).astype("float32")
    np.testing.assert_allclose(model.predict(x, verbose=0), x, atol=1e-6)


@pytest.mark.parametrize("shape", [(6, 3), (6, 6, 3)], ids=["sequence", "image"])
def test_dense_block_grows_channels_and_keeps_its_input(shape):
    inputs = keras.Input(shape)
    outputs = dense_block(inputs, num_layers=3, growth_rate=4, name="dense")
    model = keras.Model(inputs, outputs)
    assert outputs.shape[-1] == 3 + 3 * 4
    x = np.random.default_rng(1).normal(size=(2, *shape)).astype("float32")
    # The first channels of the output are the input itself.
    np.testing.assert_allclose(model.predict(x, verbose=0)[..., :3], x, atol=1e-6)


def test_blocks_refuse_other_ranks():
    with pytest.raises(ValueError, match="Received: shape="):
        residual_block(keras.Input((4,)), 2)
    with pytest.raises(ValueError, match="Received: num_layers=0"):
        dense_block(keras.Input((4, 2)), num_layers=0, growth_rate=2)
