"""A learned token prepended to a sequence."""

import keras
from keras import ops


@keras.saving.register_keras_serializable(package="keras_seq")
class PrependToken(keras.layers.Layer):
    """Prepends one learned vector to every sequence of a batch.

    A pointer network (Vinyals et al., 2015) needs two inputs that are not
    among the points: the decoder's first input and an "end" position the
    decoder can point at to stop. Both are this one learned vector, placed
    at position 0, so that position `i + 1` of the output is element `i` of
    the input. A mask, when given, is extended with True for the new
    position.

    Args:
        **kwargs: Base layer keyword arguments, such as `name` and `dtype`.

    Call arguments:
        inputs: float tensor `(batch_size, timesteps, features)`.
        mask: optional boolean tensor `(batch_size, timesteps)`.

    Returns:
        A tensor `(batch_size, timesteps + 1, features)`.

    Example:

    >>> points = keras.random.uniform((2, 5, 3))
    >>> PrependToken()(points).shape
    (2, 6, 3)
    """

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.supports_masking = True

    def build(self, input_shape):
        if len(input_shape) != 3 or input_shape[-1] is None:
            raise ValueError(
                "`PrependToken` takes sequences (batch_size, timesteps, features) "
                f"with a known number of features. Received: shape={input_shape}"
            )
        self.token = self.add_weight(
            shape=(input_shape[-1],),
            initializer="random_uniform",
            name="token",
        )

    def call(self, inputs):
        batch_size = ops.shape(inputs)[0]
        token = ops.cast(self.token, inputs.dtype)
        token = ops.broadcast_to(
            token[None, None, :], (batch_size, 1, inputs.shape[-1])
        )
        return ops.concatenate([token, inputs], axis=1)

    def compute_mask(self, inputs, mask=None):
        if mask is None:
            return None
        first = ops.ones_like(mask[:, :1], dtype="bool")
        return ops.concatenate([first, ops.cast(mask, "bool")], axis=1)

    def compute_output_shape(self, input_shape):
        steps = None if input_shape[1] is None else input_shape[1] + 1
        return (input_shape[0], steps, input_shape[2])
