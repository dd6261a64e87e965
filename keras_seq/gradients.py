"""Gradient norms through time: how far back a recurrent network can learn.

For a loss L that depends on the hidden states h_1..h_T of a recurrent layer,
backpropagation gives dL/dh_t = dL/dh_T * prod_{s=t}^{T-1} dh_{s+1}/dh_s.
For a vanilla RNN each factor is D_s W_h (D_s the diagonal of tanh'), so the
norm shrinks or grows like ||W_h||^(T-t): gradients vanish or explode. The
gates of GRU and LSTM (and shortcuts) keep the product near 1.

`hidden_state_gradient_norms` unrolls a Keras recurrent cell step by step
under a GradientTape and returns ||dL/dh_t|| for every t.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import keras
import numpy as np
import tensorflow as tf


def hidden_state_gradient_norms(
    cell: keras.layers.Layer,
    step_inputs: tf.Tensor,
    loss_fn: Callable[[Sequence[tf.Tensor]], tf.Tensor],
) -> tuple[np.ndarray, float]:
    """||dL/dh_t|| for t = 1..T, and the loss.

    Args:
        cell: a Keras recurrent cell (`SimpleRNNCell`, `GRUCell`, `LSTMCell`).
        step_inputs: float tensor `[batch, T, features]`, the cell's inputs.
        loss_fn: the loss as a function of the list of hidden states
            `[h_1, ..., h_T]` (each `[batch, units]`).

    Returns:
        `(norms, loss)`: float64 array `[T]` of the Frobenius norm of dL/dh_t
        over the batch, and the loss value.
    """
    step_inputs = tf.convert_to_tensor(step_inputs)
    batch_size = int(step_inputs.shape[0])
    states = cell.get_initial_state(batch_size)
    with tf.GradientTape() as tape:
        hidden_states = []
        for t in range(int(step_inputs.shape[1])):
            output, states = cell(step_inputs[:, t], states, training=False)
            hidden_states.append(output)
        loss = loss_fn(hidden_states)
    gradients = tape.gradient(loss, hidden_states)
    norms = [
        0.0 if gradient is None else float(tf.norm(gradient)) for gradient in gradients
    ]
    return np.array(norms, dtype=np.float64), float(loss)


def largest_singular_value(matrix) -> float:
    """The spectral norm ||W||_2, the bound on how much W can stretch a vector."""
    return float(np.linalg.svd(np.asarray(matrix), compute_uv=False)[0])


def parameter_gradient_norm(model: keras.Model, inputs, targets) -> float:
    """The global norm of dL/dtheta over all trainable weights, on one batch."""
    with tf.GradientTape() as tape:
        predictions = model(inputs, training=False)
        loss = model.compute_loss(x=inputs, y=targets, y_pred=predictions)
    gradients = tape.gradient(loss, model.trainable_weights)
    return float(tf.linalg.global_norm([g for g in gradients if g is not None]))
