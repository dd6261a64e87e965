"""Keras's recurrent layers, with a fused loop on the TensorFlow backend's CPU."""

import os

import keras

# Below this many units the loops run as plain TensorFlow ops: XLA's
# compilation (about a second per shape) would cost more than it saves.
JIT_MIN_UNITS = 32

_settings = {"fused": os.environ.get("KERAS_SEQ_FUSED_RNN", "1") != "0"}
_devices = {}


def set_fused_rnn(enabled: bool) -> bool:
    """Turns the fused CPU loop of keras-seq's recurrent layers on or off.

    The choice is read when a layer's call is traced, so it applies to models
    built (or functions traced) afterwards. The environment variable
    `KERAS_SEQ_FUSED_RNN=0` turns the loop off from the start.

    Args:
        enabled: bool. Whether the fused loop may serve.

    Returns:
        The previous setting.
    """
    previous = _settings["fused"]
    _settings["fused"] = bool(enabled)
    return previous


def fused_rnn_enabled() -> bool:
    """Whether the fused CPU loop may serve (see `set_fused_rnn`)."""
    return _settings["fused"]


def _has_gpu():
    if "gpu" not in _devices:
        import tensorflow as tf

        _devices["gpu"] = bool(tf.config.list_logical_devices("GPU"))
    return _devices["gpu"]


class _FusedLoop:
    """Replaces the stock loop of a Keras RNN layer where the fused one serves.

    The layer keeps its class's weights, config and `call`; only the loop over
    the steps changes, and only where its numbers are the stock loop's.
    """

    kind = None

    def _fused_loop_serves(self, sequences, training):
        cell = self.cell
        if not _settings["fused"] or keras.backend.backend() != "tensorflow":
            return False
        if _has_gpu() or self.unroll or sequences.shape[1] == 1:
            # A GPU has cuDNN (the stock path uses it); a single step (a
            # decoder stepping one token at a time) gains nothing from the
            # fused loop.
            return False
        if self.compute_dtype != "float32" or cell.recurrent_dropout:
            return False
        if cell.activation is not keras.activations.tanh:
            return False
        if self.kind != "rnn":
            if cell.recurrent_activation is not keras.activations.sigmoid:
                return False
        if self.kind == "gru" and not cell.reset_after:
            return False
        if training and cell.dropout and getattr(cell, "dropout_mask_count", None):
            return False
        return True

    def inner_loop(self, sequences, initial_state, mask, training=False):
        if isinstance(mask, (list, tuple)):
            mask = mask[0]
        if not self._fused_loop_serves(sequences, training):
            return super().inner_loop(
                sequences, initial_state, mask=mask, training=training
            )
        from keras_seq.kernels import tensorflow_rnn

        cell = self.cell
        if training and cell.dropout:
            # One dropout mask for every step, as the stock loop applies it.
            dropout_mask = cell.get_dropout_mask(sequences[:, 0, :])
            sequences = sequences * dropout_mask[:, None, :]
        return tensorflow_rnn.fused_rnn(
            self.kind,
            sequences,
            initial_state if isinstance(initial_state, list) else list(initial_state),
            cell.kernel.value,
            cell.recurrent_kernel.value,
            cell.bias.value if cell.use_bias else None,
            mask=mask,
            go_backwards=self.go_backwards,
            zero_output_for_mask=self.zero_output_for_mask,
            jit=cell.units >= JIT_MIN_UNITS,
            training=bool(training),
        )


_FUSED_NOTE = """

    On the TensorFlow backend's CPU, the loop over the steps is keras-seq's
    fused one: the input projection of all steps is one GEMM, the loop does
    only the recurrent matmul and the gate arithmetic, and a custom gradient
    computes the weight gradients as single GEMMs over all steps (compiled by
    XLA from {units} units). The weights, config and numbers are those of
    `keras.layers.{name}`, so saved models load either way. The stock Keras
    loop serves instead on a GPU (cuDNN), on the JAX and PyTorch backends,
    for a single step, with `recurrent_dropout`, `unroll`, other activations,
    {extra}and dtypes other than float32; `set_fused_rnn(False)` turns the
    fused loop off.
"""


def _fused_docstring(name, extra=""):
    summary = f"`keras.layers.{name}` with keras-seq's fused CPU loop."
    return summary + _FUSED_NOTE.format(units=JIT_MIN_UNITS, name=name, extra=extra)


@keras.saving.register_keras_serializable(package="keras_seq")
class LSTM(_FusedLoop, keras.layers.LSTM):
    kind = "lstm"
    __doc__ = _fused_docstring("LSTM")


@keras.saving.register_keras_serializable(package="keras_seq")
class GRU(_FusedLoop, keras.layers.GRU):
    kind = "gru"
    __doc__ = _fused_docstring("GRU", extra="`reset_after=False` ")


@keras.saving.register_keras_serializable(package="keras_seq")
class SimpleRNN(_FusedLoop, keras.layers.SimpleRNN):
    kind = "rnn"
    __doc__ = _fused_docstring("SimpleRNN")
