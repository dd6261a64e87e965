"""Fused recurrent loops for Keras's TensorFlow backend on CPU.

Keras's `LSTM`, `GRU` and `SimpleRNN` layers run their cell at every step:
the input projection `x_t W` is computed inside the loop, and autodiff of the
loop computes the weight gradients one step at a time. Here the input
projection of all steps is one GEMM, the loop does only `h U` and the gate
arithmetic, and a custom gradient runs a reverse loop that carries only `dh`
(and `dc` for the LSTM); the gradients of the kernels, the inputs and the
biases are single GEMMs or sums over all `batch * time` rows.

The forward loop writes, besides the states, the per-step terms the reverse
loop needs (the gate derivatives, multiplied out and with the mask folded
in), so that a reverse step is one matmul and a few multiplies. With
`jit=True` both loops are compiled by XLA, which fuses a step's gate
arithmetic into one kernel. XLA compiles once per shape, so masked
(variable-length) inputs whose length or batch size is not known when the
graph is traced are padded with masked steps and rows to multiples of
`BUCKET`, which bounds the number of compilations.

The formulas, the weight layout and the masking rules are those of the Keras
layers, so the numbers agree with them to float32 rounding. Inside, tensors
are time-major: `(time, batch, features)`, and a mask is float
`(time, batch, 1)`, 1 for real steps.
"""

import functools

import tensorflow as tf

BUCKET = 8
KINDS = ("lstm", "gru", "rnn")


def _step_mask(mask, t):
    return None if mask is None else mask[t]


def _keep(mask_t, new, old):
    return new if mask_t is None else tf.where(mask_t > 0, new, old)


def _scan(step, carry, steps, dtype, count, reverse=False):
    """Runs `step(t, *carry) -> (carry, outputs)` over the steps.

    Returns the final carry and every output stacked over time, `count` of
    them; in reverse, from the last step to the first.
    """

    def body(t, carry, arrays):
        carry, outputs = step(t, *carry)
        arrays = [array.write(t, output) for array, output in zip(arrays, outputs)]
        return t + (-1 if reverse else 1), carry, arrays

    arrays = [tf.TensorArray(dtype, size=steps) for _ in range(count)]
    _, carry, arrays = tf.while_loop(
        (lambda t, *_: t >= 0) if reverse else (lambda t, *_: t < steps),
        body,
        (steps - 1 if reverse else 0, list(carry), arrays),
    )
    return carry, [array.stack() for array in arrays]


# LSTM: z = x W + h U + b, gates i, f, g, o in Keras's order. The forward
# loop can also write the terms of the reverse step:
#   dc += dh * into_cell; dz = [dc, dc, dc, dh] * gate_term;
#   dh_prev = dz U^T (+ dh at a padded step); dc_prev = dc * carry.


def _lstm_forward(xw, h0, c0, recurrent_kernel, bias, mask, units, keep_terms):
    def step(t, h, c):
        z = xw[t] + tf.matmul(h, recurrent_kernel) + bias
        i = tf.sigmoid(z[:, :units])
        f = tf.sigmoid(z[:, units : 2 * units])
        g = tf.tanh(z[:, 2 * units : 3 * units])
        o = tf.sigmoid(z[:, 3 * units :])
        c_new = f * c + i * g
        tanh_c = tf.tanh(c_new)
        mask_t = _step_mask(mask, t)
        h_new = _keep(mask_t, o * tanh_c, h)
        if not keep_terms:
            return [h_new, _keep(mask_t, c_new, c)], [h_new]
        gate_term = tf.concat(
            [g * i * (1 - i), c * f * (1 - f), i * (1 - g * g), tanh_c * o * (1 - o)],
            axis=1,
        )
        into_cell = o * (1 - tanh_c * tanh_c)
        carry = f
        if mask_t is not None:
            gate_term *= mask_t
            into_cell *= mask_t
            carry = carry * mask_t + (1 - mask_t)
        cell_term = tf.concat([into_cell, carry], axis=1)
        return [h_new, _keep(mask_t, c_new, c)], [h_new, gate_term, cell_term]

    count = 3 if keep_terms else 1
    (h, c), outputs = _scan(step, [h0, c0], tf.shape(xw)[0], xw.dtype, count)
    return [outputs[0], h, c, *outputs[1:]]


def _lstm_backward(
    d_states, dh, dc, gate_terms, cell_terms, recurrent_kernel, mask, units
):
    transposed = tf.transpose(recurrent_kernel)

    def step(t, dh, dc):
        dh = dh + d_states[t]
        cell_term = cell_terms[t]
        dc = dc + dh * cell_term[:, :units]
        dz = tf.concat([dc, dc, dc, dh], axis=1) * gate_terms[t]
        dh_previous = tf.matmul(dz, transposed)
        if mask is not None:
            dh_previous += dh * (1 - mask[t])
        return [dh_previous, dc * cell_term[:, units:]], [dz]

    (dh, dc), (d_gates,) = _scan(
        step, [dh, dc], tf.shape(d_states)[0], d_states.dtype, 1, reverse=True
    )
    return d_gates, dh, dc


# GRU with reset_after=True (Keras's default): z and r from x W + b_in and
# inner = h U + b_rec; the candidate reads r * inner's last third. The terms
# of the reverse step:
#   d_inner = [dh, dh, dh] * recurrent_term;
#   d_input = [d_inner's first two thirds, dh * to_candidate];
#   dh_prev = dh * carry + d_inner U^T.


def _gru_forward(
    xw, h0, recurrent_kernel, input_bias, recurrent_bias, mask, units, keep_terms
):
    def step(t, h):
        x = xw[t] + input_bias
        inner = tf.matmul(h, recurrent_kernel) + recurrent_bias
        z = tf.sigmoid(x[:, :units] + inner[:, :units])
        r = tf.sigmoid(x[:, units : 2 * units] + inner[:, units : 2 * units])
        recurrent_h = inner[:, 2 * units :]
        hh = tf.tanh(x[:, 2 * units :] + r * recurrent_h)
        mask_t = _step_mask(mask, t)
        h_new = _keep(mask_t, z * h + (1 - z) * hh, h)
        if not keep_terms:
            return [h_new], [h_new]
        to_update = (h - hh) * z * (1 - z)
        to_candidate = (1 - z) * (1 - hh * hh)
        to_reset = to_candidate * recurrent_h * r * (1 - r)
        recurrent_term = tf.concat([to_update, to_reset, to_candidate * r], axis=1)
        carry = z
        if mask_t is not None:
            recurrent_term *= mask_t
            to_candidate *= mask_t
            carry = carry * mask_t + (1 - mask_t)
        candidate_term = tf.concat([to_candidate, carry], axis=1)
        return [h_new], [h_new, recurrent_term, candidate_term]

    count = 3 if keep_terms else 1
    (h,), outputs = _scan(step, [h0], tf.shape(xw)[0], xw.dtype, count)
    return [outputs[0], h, *outputs[1:]]


def _gru_backward(
    d_states, dh, recurrent_terms, candidate_terms, recurrent_kernel, units
):
    transposed = tf.transpose(recurrent_kernel)

    def step(t, dh):
        dh = dh + d_states[t]
        candidate_term = candidate_terms[t]
        d_inner = tf.concat([dh, dh, dh], axis=1) * recurrent_terms[t]
        d_input = tf.concat(
            [d_inner[:, : 2 * units], dh * candidate_term[:, :units]], axis=1
        )
        dh_previous = dh * candidate_term[:, units:] + tf.matmul(d_inner, transposed)
        return [dh_previous], [d_input, d_inner]

    (dh,), (d_inputs, d_inners) = _scan(
        step, [dh], tf.shape(d_states)[0], d_states.dtype, 2, reverse=True
    )
    return d_inputs, d_inners, dh


# Vanilla RNN: h = tanh(x W + b + h U); the reverse step's term is tanh's
# derivative: da = dh * derivative; dh_prev = da U^T (+ dh at a padded step).


def _rnn_forward(xw, h0, recurrent_kernel, bias, mask, keep_terms):
    def step(t, h):
        h_new = tf.tanh(xw[t] + bias + tf.matmul(h, recurrent_kernel))
        mask_t = _step_mask(mask, t)
        kept = _keep(mask_t, h_new, h)
        if not keep_terms:
            return [kept], [kept]
        derivative = 1 - h_new * h_new
        if mask_t is not None:
            derivative *= mask_t
        return [kept], [kept, derivative]

    count = 2 if keep_terms else 1
    (h,), outputs = _scan(step, [h0], tf.shape(xw)[0], xw.dtype, count)
    return [outputs[0], h, *outputs[1:]]


def _rnn_backward(d_states, dh, derivatives, recurrent_kernel, mask):
    transposed = tf.transpose(recurrent_kernel)

    def step(t, dh):
        dh = dh + d_states[t]
        da = dh * derivatives[t]
        dh_previous = tf.matmul(da, transposed)
        if mask is not None:
            dh_previous += dh * (1 - mask[t])
        return [dh_previous], [da]

    (dh,), (d_pre,) = _scan(
        step, [dh], tf.shape(d_states)[0], d_states.dtype, 1, reverse=True
    )
    return d_pre, dh


@functools.cache
def _compiled(function, jit):
    # One tf.function per loop and mode, shared by every layer, so that XLA's
    # compilations are shared too.
    return tf.function(function, jit_compile=jit, reduce_retracing=True)


def _zeros_for_none(gradients, like):
    return [
        tf.zeros_like(reference) if gradient is None else gradient
        for gradient, reference in zip(gradients, like)
    ]


def _rows(tensor):
    return tf.reshape(tensor, [-1, tf.shape(tensor)[-1]])


def _project(x, kernel):
    """x W for every step and row at once: (time, batch, width)."""
    shape = tf.shape(x)
    return tf.reshape(tf.matmul(_rows(x), kernel), [shape[0], shape[1], -1])


def _weight_gradients(d_pre, *inputs):
    """The gradients of the kernels that multiply `inputs`, and of the bias.

    One GEMM over all steps and rows: [inputs..., 1]^T d_pre, split back.
    """
    rows = [_rows(tensor) for tensor in inputs]
    ones = tf.ones([tf.shape(rows[0])[0], 1], rows[0].dtype)
    product = tf.matmul(
        tf.concat([*rows, ones], axis=1), _rows(d_pre), transpose_a=True
    )
    widths = [tensor.shape[-1] for tensor in inputs] + [1]
    *kernels, bias = tf.split(product, widths, axis=0)
    return [*kernels, bias[0]]


def _back_project(d_pre, kernel, like):
    """The gradient of the inputs through x W: (time, batch, features)."""
    return tf.reshape(tf.matmul(_rows(d_pre), kernel, transpose_b=True), tf.shape(like))


def _previous(initial, states):
    """The state entering every step: the initial state, then all but the last."""
    return tf.concat([initial[None], states[:-1]], axis=0)


def _no_gradient(values):
    # Autodiff must not look inside the loops: the custom gradients replace it.
    return [tf.stop_gradient(value) for value in values]


def _lstm_core(x, h0, c0, kernel, recurrent_kernel, bias, mask, jit, keep_terms):
    units = recurrent_kernel.shape[0]
    forward = _compiled(_lstm_forward, jit)
    backward = _compiled(_lstm_backward, jit)

    @tf.custom_gradient
    def core(x, h0, c0, kernel, recurrent_kernel, bias):
        x_, h0_, c0_, kernel_, recurrent_, bias_ = _no_gradient(
            [x, h0, c0, kernel, recurrent_kernel, bias]
        )
        xw = _project(x_, kernel_)

        def run(keep):
            return forward(xw, h0_, c0_, recurrent_, bias_, mask, units, keep)

        outputs = run(keep_terms)
        states, h, c = outputs[:3]

        def gradient(d_states, dh, dc):
            d_states, dh, dc = _zeros_for_none([d_states, dh, dc], [states, h, c])
            # Without the terms (an inference call differentiated after all),
            # the forward loop runs again to write them.
            gate_terms, cell_terms = (outputs if keep_terms else run(True))[3:]
            dz, dh0, dc0 = backward(
                d_states, dh, dc, gate_terms, cell_terms, recurrent_, mask, units
            )
            d_kernel, d_recurrent, d_bias = _weight_gradients(
                dz, x_, _previous(h0_, states)
            )
            dx = _back_project(dz, kernel_, x_)
            return dx, dh0, dc0, d_kernel, d_recurrent, d_bias

        return (states, h, c), gradient

    return core(x, h0, c0, kernel, recurrent_kernel, bias)


def _gru_core(
    x, h0, kernel, recurrent_kernel, input_bias, recurrent_bias, mask, jit, keep_terms
):
    units = recurrent_kernel.shape[0]
    forward = _compiled(_gru_forward, jit)
    backward = _compiled(_gru_backward, jit)

    @tf.custom_gradient
    def core(x, h0, kernel, recurrent_kernel, input_bias, recurrent_bias):
        x_, h0_, kernel_, recurrent_, input_bias_, recurrent_bias_ = _no_gradient(
            [x, h0, kernel, recurrent_kernel, input_bias, recurrent_bias]
        )
        xw = _project(x_, kernel_)

        def run(keep):
            return forward(
                xw, h0_, recurrent_, input_bias_, recurrent_bias_, mask, units, keep
            )

        outputs = run(keep_terms)
        states, h = outputs[:2]

        def gradient(d_states, dh):
            d_states, dh = _zeros_for_none([d_states, dh], [states, h])
            recurrent_terms, candidate_terms = (outputs if keep_terms else run(True))[
                2:
            ]
            d_inputs, d_inners, dh0 = backward(
                d_states, dh, recurrent_terms, candidate_terms, recurrent_, units
            )
            d_kernel, d_input_bias = _weight_gradients(d_inputs, x_)
            d_recurrent, d_recurrent_bias = _weight_gradients(
                d_inners, _previous(h0_, states)
            )
            dx = _back_project(d_inputs, kernel_, x_)
            return dx, dh0, d_kernel, d_recurrent, d_input_bias, d_recurrent_bias

        return (states, h), gradient

    return core(x, h0, kernel, recurrent_kernel, input_bias, recurrent_bias)


def _rnn_core(x, h0, kernel, recurrent_kernel, bias, mask, jit, keep_terms):
    forward = _compiled(_rnn_forward, jit)
    backward = _compiled(_rnn_backward, jit)

    @tf.custom_gradient
    def core(x, h0, kernel, recurrent_kernel, bias):
        x_, h0_, kernel_, recurrent_, bias_ = _no_gradient(
            [x, h0, kernel, recurrent_kernel, bias]
        )
        xw = _project(x_, kernel_)

        def run(keep):
            return forward(xw, h0_, recurrent_, bias_, mask, keep)

        outputs = run(keep_terms)
        states, h = outputs[:2]

        def gradient(d_states, dh):
            d_states, dh = _zeros_for_none([d_states, dh], [states, h])
            (derivatives,) = (outputs if keep_terms else run(True))[2:]
            d_pre, dh0 = backward(d_states, dh, derivatives, recurrent_, mask)
            d_kernel, d_recurrent, d_bias = _weight_gradients(
                d_pre, x_, _previous(h0_, states)
            )
            dx = _back_project(d_pre, kernel_, x_)
            return dx, dh0, d_kernel, d_recurrent, d_bias

        return (states, h), gradient

    return core(x, h0, kernel, recurrent_kernel, bias)


def _round_up(size):
    return (size + BUCKET - 1) // BUCKET * BUCKET


def fused_rnn(
    kind,
    inputs,
    initial_state,
    kernel,
    recurrent_kernel,
    bias,
    mask=None,
    go_backwards=False,
    zero_output_for_mask=False,
    jit=True,
    training=True,
):
    """Runs a Keras LSTM, GRU or SimpleRNN layer's loop over `inputs`.

    Args:
        kind: str. `"lstm"`, `"gru"` (with `reset_after=True`) or `"rnn"`.
        inputs: float32 tensor `(batch, time, features)`.
        initial_state: list of the layer's initial states, each
            `(batch, units)`: `[h, c]` for the LSTM, `[h]` otherwise.
        kernel, recurrent_kernel: the cell's weights, in Keras's layout.
        bias: the cell's bias in Keras's layout (`(2, 3 * units)` for the
            GRU), or None.
        mask: optional boolean tensor `(batch, time)`, True for real steps:
            padded steps carry the states over.
        go_backwards: bool. Process the steps in reverse order (the outputs
            are in that order too, as Keras's are).
        zero_output_for_mask: bool. Output zeros at padded steps (as the
            Keras layers do inside `Bidirectional`) instead of the last real
            step's output.
        jit: bool. Compile the loops with XLA.
        training: bool. Whether a gradient is expected: the forward loop then
            writes the terms of the reverse loop. Without them (inference) a
            gradient is still right, at the cost of a second forward loop.

    Returns:
        `(last_output, outputs, states)`, as `keras`'s backend `rnn` returns
        them: `(batch, units)`, `(batch, time, units)` and the final states.
    """
    if kind not in KINDS:
        raise ValueError(
            f"`kind` must be one of {list(KINDS)}. Received: kind={kind!r}"
        )
    dtype = inputs.dtype
    units = recurrent_kernel.shape[0]
    if go_backwards:
        inputs = tf.reverse(inputs, [1])
        mask = None if mask is None else tf.reverse(mask, [1])
    batch_size, steps = tf.shape(inputs)[0], tf.shape(inputs)[1]
    x = tf.transpose(inputs, [1, 0, 2])
    states0 = list(initial_state)
    step_mask = None
    if mask is not None:
        step_mask = tf.cast(tf.transpose(mask), dtype)[:, :, None]
        dynamic = inputs.shape[0] is None or inputs.shape[1] is None
        if jit and dynamic:
            pad_steps = _round_up(steps) - steps
            pad_rows = _round_up(batch_size) - batch_size
            x = tf.pad(x, [[0, pad_steps], [0, pad_rows], [0, 0]])
            step_mask = tf.pad(step_mask, [[0, pad_steps], [0, pad_rows], [0, 0]])
            states0 = [tf.pad(state, [[0, pad_rows], [0, 0]]) for state in states0]

    width = {"lstm": 4, "gru": 3, "rnn": 1}[kind] * units
    options = dict(mask=step_mask, jit=jit, keep_terms=bool(training))
    if kind == "gru":
        biases = tf.zeros([2, width], dtype) if bias is None else bias
        sequence, *final_states = _gru_core(
            x, *states0, kernel, recurrent_kernel, biases[0], biases[1], **options
        )
    else:
        bias = tf.zeros([width], dtype) if bias is None else bias
        core = _lstm_core if kind == "lstm" else _rnn_core
        sequence, *final_states = core(
            x, *states0, kernel, recurrent_kernel, bias, **options
        )

    sequence = tf.transpose(sequence[:steps, :batch_size], [1, 0, 2])
    final_states = [state[:batch_size] for state in final_states]
    # The loops' functions generalise over shapes; the results keep the
    # static shapes of the inputs, as the stock loop's do.
    batch, time = inputs.shape[0], inputs.shape[1]
    sequence = tf.ensure_shape(sequence, [batch, time, units])
    final_states = [tf.ensure_shape(state, [batch, units]) for state in final_states]
    if mask is not None:
        real = tf.cast(mask, dtype)
        if not zero_output_for_mask:
            # Keras outputs the last real step's output at a padded step, and
            # zeros before the first real one.
            real = tf.cast(tf.cumsum(real, axis=1) > 0, dtype)
        sequence = sequence * real[:, :, None]
    return sequence[:, -1], sequence, final_states
