"""A training model's inference pieces, and the module that decodes with them.

A generative task trains one Keras model and decodes with two more, built
from the same layer objects so that they share its weights:

- the encoder reads the inputs (a source sentence, an image, a prompt, a
  point set) and returns what every decoder step reads (the memory) and the
  decoder's first states;
- the step reads one token per row, the memory and the states, and returns
  the next logits (and, for some tasks, attention weights) and states.

`Pieces` bundles the three; `state_inputs` and `step_model` build a step
model in the one layout every decoder uses: inputs `[token, *memory,
*states]`, outputs `[logits, *extras, *states]`.

A task's decoder subclasses `Decoder` and supplies `start(inputs)`: the
first tokens, the decoding state and the step function over it. Greedy
search, beam search and sampling (`keras_seq.decoding`, in-graph loops) run
from such a start, the same way in `evaluate`, in `show` and in the
exported SavedModel.
`decode_all` runs a decoder over a whole data set in batches, with a
progress bar.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable, Sequence
from typing import Any, NamedTuple

import keras
import numpy as np
import tensorflow as tf

from keras_seq import decoding


@dataclasses.dataclass
class Pieces:
    """A training model and the inference models built from its layers.

    `encoder` and `step` are None for a task that does not decode (a
    classifier); `extras` are further models a task builds from the same
    layers (for example one that explains a prediction).
    """

    model: keras.Model
    encoder: keras.Model | None = None
    step: keras.Model | None = None
    extras: dict[str, keras.Model] = dataclasses.field(default_factory=dict)


def state_inputs(widths: Sequence[int]) -> list:
    """One `keras.Input` per recurrent state, `state_0`, `state_1`, ...: the
    states a step model reads, of the widths a layer's `state_size` gives."""
    return [
        keras.Input(shape=(width,), name=f"state_{index}")
        for index, width in enumerate(widths)
    ]


def token_input() -> Any:
    """The `keras.Input` of the token a step model reads: int32 `[B, 1]`."""
    return keras.Input(shape=(1,), dtype="int32", name="token")


def step_model(
    token, memory: Sequence, states: Sequence, logits, new_states: Sequence, extras=()
) -> keras.Model:
    """The step model, in the layout `Decoder.step` reads:
    `[token, *memory, *states] -> [logits, *extras, *new_states]`."""
    return keras.Model(
        [token, *memory, *states], [logits, *extras, *new_states], name="step"
    )


class Start(NamedTuple):
    """What a decoding loop starts from.

    Attributes:
        step_fn: `step_fn(tokens, state) -> (logits, state)` (see
            `keras_seq.decoding`).
        tokens: int32 `[B]`, the first inputs.
        state: the decoding state (any nest of tensors).
        max_length: int or int32 scalar, the longest output.
    """

    step_fn: Callable
    tokens: tf.Tensor
    state: Any
    max_length: Any


class Decoder(tf.Module):
    """Decoding loops over a task's pieces: evaluate, show and the export.

    A subclass implements `start(inputs) -> Start`; the loops below decode
    from a start. `step` runs the step model once in its layout.

    Args:
        pieces: the task's `Pieces` (the encoder and step are used).
        end_id: the token that ends an output.
        extras: how many outputs the step model has between the logits and
            the states (attention weights, for example).
        resources: lookup tables and tokenizers the endpoints use, tracked
            in the export with the pieces.
    """

    def __init__(
        self,
        pieces: Pieces,
        end_id: int,
        extras: int = 0,
        resources: Sequence[Any] = (),
    ):
        super().__init__()
        self.pieces = pieces
        self.end_id = end_id
        self.extras = extras
        self.resources = list(resources)

    def step(self, tokens: tf.Tensor, memory: Sequence, states: Sequence):
        """One decoder step: `(logits [B, V], extras, new_states)`."""
        logits, *rest = self.pieces.step([tokens[:, None], *memory, *states])
        return logits[:, 0], rest[: self.extras], rest[self.extras :]

    def start(self, inputs) -> Start:
        """The first tokens, state and step function for a batch of inputs."""
        raise NotImplementedError

    def greedy(self, start: Start) -> tuple[tf.Tensor, tf.Tensor]:
        """Tokens `[B, T]` and lengths `[B]` of the likeliest token at each step."""
        return decoding.greedy_decode(
            start.step_fn, start.tokens, start.state, start.max_length, self.end_id
        )

    def beam(
        self,
        start: Start,
        beam_width: int,
        length_penalty: float = 0.0,
        extra_score_fn: Callable | None = None,
    ) -> tuple[tf.Tensor, tf.Tensor, tf.Tensor]:
        """Tokens `[B, W, T]`, scores `[B, W]` and lengths `[B, W]` of the
        beams, best first (see `keras_seq.decoding.beam_search`)."""
        return decoding.beam_search(
            start.step_fn,
            start.tokens,
            start.state,
            beam_width,
            start.max_length,
            self.end_id,
            length_penalty,
            extra_score_fn=extra_score_fn,
        )

    def sample(self, start: Start, temperature, top_k=0, seed=None) -> tf.Tensor:
        """`start.max_length` tokens `[B, length]` drawn with temperature and
        top-k, without an end token."""
        return decoding.sample(
            start.step_fn,
            start.tokens,
            start.state,
            start.max_length,
            temperature,
            top_k,
            seed=seed,
        )

    def trackables(self) -> list:
        """The pieces and resources the endpoints use, to track in an export."""
        pieces = (self.pieces.encoder, self.pieces.step, *self.resources)
        return [piece for piece in pieces if piece is not None]


def batches(items: Sequence | np.ndarray, batch_size: int) -> list:
    """`items` cut into consecutive batches of `batch_size`."""
    return [
        items[start : start + batch_size] for start in range(0, len(items), batch_size)
    ]


def decode_all(
    function: Callable,
    inputs: Iterable,
    total: int | None = None,
    unit: str = "example",
) -> list[str] | np.ndarray:
    """`function` (compiled once) on every batch of `inputs`, joined.

    Args:
        function: batch in, a string tensor `[B]` or a numeric tensor
            `[B, ...]` out; called with each batch (a tuple is unpacked).
        inputs: the batches: lists of texts, arrays, tuples of them, or a
            batched `tf.data.Dataset`.
        total: examples in all, for the progress bar (none without it).
        unit: what an example is called on the progress bar.

    Returns:
        The outputs of every example in order: a list of `str` for strings,
        else one array.
    """
    # No autograph (as keras.export traces endpoints): the decoders loop
    # with tf.while_loop, and converting every function they call would
    # only cost tracing time.
    compiled = tf.function(function, reduce_retracing=True, autograph=False)
    progress = keras.utils.Progbar(total, unit_name=unit) if total else None
    outputs = []
    for batch in inputs:
        arguments = batch if isinstance(batch, tuple) else (batch,)
        result = compiled(*[tf.convert_to_tensor(argument) for argument in arguments])
        outputs.append(np.asarray(result))
        if progress is not None:
            progress.add(len(outputs[-1]))
    if not outputs:
        return []
    joined = np.concatenate(outputs)
    if joined.dtype == object:
        return [text.decode() for text in joined]
    return joined
