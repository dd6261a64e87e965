"""A lexical path from the attended source words to the output layer."""

import keras
from keras import ops


@keras.saving.register_keras_serializable(package="keras_seq")
class LexicalContext(keras.layers.Layer):
    """The source embeddings averaged by attention, for the output layer.

    A translator's attention says which source words a target step reads;
    this layer averages those words' embeddings with the same weights,
    `f = tanh(sum_t alpha_t e_t)`, and returns `tanh(W f) + f`: a short path
    by which a source word's embedding reaches the softmax, next to the
    decoder's state (Nguyen and Chiang's lexical model). It gives the output
    layer word-to-word translations to learn, which helps most where
    sentence pairs are few.

    Reference:
    - [Nguyen and Chiang, 2018](https://arxiv.org/abs/1710.01329)

    Args:
        **kwargs: Base layer keyword arguments, such as `name` and `dtype`.

    Call arguments:
        inputs: list `[weights, embeddings]`: attention weights of shape
            `(batch_size, Tq, Tv)` (rows summing to one, zero on padding) and
            the source embeddings `(batch_size, Tv, embedding_dim)`.
        mask: optional list of the inputs' masks. The source mask is not
            needed (the weights are zero on padding) and the output has no
            mask of its own.

    Returns:
        A tensor of shape `(batch_size, Tq, embedding_dim)`.

    Example:

    >>> weights = keras.ops.softmax(keras.random.normal((2, 3, 5)))
    >>> embeddings = keras.random.normal((2, 5, 4))
    >>> LexicalContext()([weights, embeddings]).shape
    (2, 3, 4)
    """

    def _check(self, inputs):
        if not isinstance(inputs, (list, tuple)) or len(inputs) != 2:
            raise ValueError(
                "`LexicalContext` takes a list `[weights, embeddings]`. "
                f"Received: inputs={inputs!r}"
            )

    def build(self, input_shape):
        self._check(input_shape)
        width = input_shape[1][-1]
        # The residual needs W to keep the embeddings' width, known only here.
        self.dense = keras.layers.Dense(width, name="dense", dtype=self.dtype_policy)
        self.dense.build((None, width))
        self.built = True

    def call(self, inputs, mask=None):
        self._check(inputs)
        weights, embeddings = inputs
        averaged = ops.tanh(ops.matmul(ops.cast(weights, embeddings.dtype), embeddings))
        return ops.tanh(self.dense(averaged)) + averaged

    def compute_mask(self, inputs, mask=None):
        return None

    def compute_output_shape(self, input_shape):
        weights_shape, embeddings_shape = input_shape
        return (*weights_shape[:-1], embeddings_shape[-1])
