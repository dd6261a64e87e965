"""Stacks of recurrent layers: the one place keras-seq creates them."""

import keras
from keras import ops

from keras_seq.layers import recurrent
from keras_seq.layers._checks import check_recurrent

CELLS = {
    "rnn": recurrent.SimpleRNN,
    "gru": recurrent.GRU,
    "lstm": recurrent.LSTM,
}
RESIDUAL_KINDS = ("none", "add", "dense")


def _residual_kind(residual):
    if residual is True:
        return "add"
    if residual is False or residual is None:
        return "none"
    if residual in RESIDUAL_KINDS:
        return residual
    raise ValueError(
        "`residual` must be True, False or one of "
        f"{list(RESIDUAL_KINDS)}. Received: residual={residual!r}"
    )


@keras.saving.register_keras_serializable(package="keras_seq")
class RNNStack(keras.layers.Layer):
    """A stack of vanilla RNN, GRU or LSTM layers with optional shortcuts.

    Each layer is keras-seq's `SimpleRNN`, `GRU` or `LSTM` (wrapped in
    `keras.layers.Bidirectional` when asked): the Keras layers with their
    weights and numbers, whose loop on the TensorFlow backend's CPU is
    keras-seq's fused one (see `keras_seq.layers.LSTM`), while the cuDNN
    kernels serve them on a GPU and the stock loop on other backends.
    Layers are stacked with optional shortcuts between them, as in residual
    and densely connected networks: with `residual="add"` every
    layer after the first adds its input to its output; with
    `residual="dense"` every layer reads the concatenation of the stack's
    input and all earlier layers' outputs, and the stack returns the
    concatenation of all layers' outputs. Masks of padded steps are passed to
    every layer: padded steps carry the state over unchanged.

    The states of a bidirectional layer are the forward and backward states
    concatenated, so that every state of the stack has `units * directions`
    features and a decoder of that width can start from them.

    Reference:
    - [He et al., 2016](https://arxiv.org/abs/1512.03385) (residual shortcuts)
    - [Huang et al., 2017](https://arxiv.org/abs/1608.06993) (dense shortcuts)

    Args:
        cell: str. `"rnn"` (vanilla), `"gru"` or `"lstm"`.
        units: int. Hidden units of every layer (of every direction).
        num_layers: int. Number of stacked layers.
        bidirectional: bool. Whether every layer reads both directions.
        residual: bool or str. `False`/`"none"`, `True`/`"add"` or
            `"dense"`: the shortcuts between stacked layers.
        dropout: float. Dropout rate applied to every layer's output
            sequence during training.
        return_sequences: bool. Return the top output at every step (True) or
            the top layer's final hidden state (False; for a bidirectional
            stack the forward and backward final states, concatenated).
        return_state: bool. Also return the final states of every layer.
        **kwargs: Base layer keyword arguments, such as `name` and `dtype`.

    Call arguments:
        inputs: float tensor of shape `(batch_size, timesteps, features)`.
        mask: optional boolean tensor of shape `(batch_size, timesteps)`,
            True for real steps.
        initial_state: optional list of tensors, the flat list of states in
            the order they are returned (see `state_size`).
        training: Python boolean, whether dropout is active.

    Returns:
        The output, of shape `(batch_size, timesteps, output_dim)` with
        `return_sequences=True` or `(batch_size, output_dim)` otherwise; with
        `return_state=True`, a list `[output, *states]` whose states are, for
        every layer in order, `[h]` (rnn, gru) or `[h, c]` (lstm), each of
        shape `(batch_size, units * directions)`.

    Example:

    >>> tokens = keras.Input(shape=(None,), dtype="int32")
    >>> x = keras.layers.Embedding(100, 16, mask_zero=True)(tokens)
    >>> x = RNNStack(cell="gru", units=32, num_layers=2, residual=True)(x)
    >>> x.shape
    (None, None, 32)
    """

    def __init__(
        self,
        cell="lstm",
        units=128,
        num_layers=1,
        bidirectional=False,
        residual=False,
        dropout=0.0,
        return_sequences=True,
        return_state=False,
        **kwargs,
    ):
        super().__init__(**kwargs)
        check_recurrent(cell, CELLS, units, num_layers, dropout)
        self.cell = cell
        self.units = units
        self.num_layers = num_layers
        self.bidirectional = bool(bidirectional)
        self.residual = _residual_kind(residual)
        self.dropout = dropout
        self.return_sequences = return_sequences
        self.return_state = return_state
        self.supports_masking = True

        self.recurrent_layers = []
        for index in range(num_layers):
            layer = CELLS[cell](
                units,
                return_sequences=True,
                return_state=True,
                name=f"{cell}_{index}",
                dtype=self.dtype_policy,
            )
            if self.bidirectional:
                layer = keras.layers.Bidirectional(
                    layer,
                    name=f"bidirectional_{cell}_{index}",
                    dtype=self.dtype_policy,
                )
            self.recurrent_layers.append(layer)
        self.dropout_layers = [
            keras.layers.Dropout(dropout, name=f"dropout_{index}")
            for index in range(num_layers)
        ]

    @property
    def directions(self):
        return 2 if self.bidirectional else 1

    @property
    def states_per_layer(self):
        return 2 if self.cell == "lstm" else 1

    @property
    def state_size(self):
        """Widths of the flat list of states, in the order they are returned."""
        width = self.units * self.directions
        return [width] * (self.num_layers * self.states_per_layer)

    @property
    def output_dim(self):
        width = self.units * self.directions
        if self.residual == "dense" and self.return_sequences:
            return width * self.num_layers
        return width

    def _layer_input_dims(self, input_dim):
        width = self.units * self.directions
        dims = []
        for index in range(self.num_layers):
            if index == 0:
                dims.append(input_dim)
            elif self.residual == "dense":
                dims.append(input_dim + index * width)
            else:
                dims.append(width)
        return dims

    def build(self, input_shape):
        input_dim = input_shape[-1]
        for layer, dim in zip(self.recurrent_layers, self._layer_input_dims(input_dim)):
            layer.build((input_shape[0], input_shape[1], dim))
        self.built = True

    def _merge_directions(self, states):
        # Bidirectional returns the forward states, then the backward ones;
        # concatenating them pairwise gives states a decoder can start from.
        if not self.bidirectional:
            return list(states)
        half = len(states) // 2
        return [
            ops.concatenate([forward, backward], axis=-1)
            for forward, backward in zip(states[:half], states[half:])
        ]

    def _split_directions(self, states):
        if not self.bidirectional:
            return list(states)
        forward = [state[..., : self.units] for state in states]
        backward = [state[..., self.units :] for state in states]
        return forward + backward

    def call(self, inputs, mask=None, initial_state=None, training=None):
        if initial_state is not None:
            initial_state = list(initial_state)
            expected = self.num_layers * self.states_per_layer
            if len(initial_state) != expected:
                raise ValueError(
                    f"`initial_state` must hold {expected} tensors "
                    f"({self.num_layers} layers of {self.cell}). "
                    f"Received: {len(initial_state)} tensors"
                )
        x = inputs
        outputs = []
        final_states = []
        for index, layer in enumerate(self.recurrent_layers):
            layer_state = None
            if initial_state is not None:
                start = index * self.states_per_layer
                layer_state = self._split_directions(
                    initial_state[start : start + self.states_per_layer]
                )
            results = layer(x, mask=mask, initial_state=layer_state, training=training)
            sequence, states = results[0], results[1:]
            states = self._merge_directions(states)
            final_states.extend(states)
            sequence = self.dropout_layers[index](sequence, training=training)
            outputs.append(sequence)
            if self.residual == "add" and index > 0:
                x = x + sequence
            elif self.residual == "dense":
                x = ops.concatenate([x, sequence], axis=-1)
            else:
                x = sequence

        if not self.return_sequences:
            output = final_states[-self.states_per_layer]
        elif self.residual == "dense":
            output = ops.concatenate(outputs, axis=-1)
        else:
            output = x
        if self.return_state:
            return [output, *final_states]
        return output

    def compute_mask(self, inputs, mask=None):
        if not self.return_sequences:
            mask = None
        if self.return_state:
            return [mask] + [None] * len(self.state_size)
        return mask

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "cell": self.cell,
                "units": self.units,
                "num_layers": self.num_layers,
                "bidirectional": self.bidirectional,
                "residual": self.residual,
                "dropout": self.dropout,
                "return_sequences": self.return_sequences,
                "return_state": self.return_state,
            }
        )
        return config


def rnn_stack(
    inputs,
    cell="lstm",
    units=128,
    num_layers=1,
    bidirectional=False,
    residual=False,
    dropout=0.0,
    return_sequences=True,
    return_state=False,
    initial_state=None,
    mask=None,
    name=None,
):
    """Applies a new `RNNStack` to `inputs` and returns its outputs.

    The functional form of `RNNStack`, with the same arguments: one factory
    whose options are strings and flags, rather than a class per combination.
    To call the same weights again (for example a decoder run one step at a
    time), fetch the layer with `model.get_layer(name)`.

    Example:

    >>> x = keras.Input(shape=(None, 8))
    >>> y = rnn_stack(x, cell="gru", units=16, num_layers=3, residual=True)
    >>> y.shape
    (None, None, 16)
    """
    layer = RNNStack(
        cell=cell,
        units=units,
        num_layers=num_layers,
        bidirectional=bidirectional,
        residual=residual,
        dropout=dropout,
        return_sequences=return_sequences,
        return_state=return_state,
        name=name,
    )
    return layer(inputs, mask=mask, initial_state=initial_state)
