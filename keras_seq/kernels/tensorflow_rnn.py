"""Fused recurrent loops for Keras's TensorFlow backend on CPU.

Keras's `LSTM`, `GRU` and `SimpleRNN` layers run their cell at every step:
the input projection `x_t W` is computed inside the loop, and autodiff of the
loop computes the weight gradients one step at a time. Here the input
projection of all steps is one GEMM, the loop does only `h U` and the gate
arithmetic, and a custom gradient runs a reverse loop that carries only `dh`
(and `dc` for the LSTM); the gradients of the kernels, the inputs and the
biases are GEMMs or sums over all the steps of a loop's rows.

The forward loop writes, besides the states, the per-step terms the reverse
loop needs (the gate derivatives, multiplied out and with the mask folded
in), so that a reverse step is one matmul and a few multiplies. With
`jit=True` both loops are compiled by XLA, which fuses a step's gate
arithmetic into one kernel. XLA compiles once per shape, so masked
(variable-length) inputs whose length or batch size is not known when the
graph is traced are padded with masked steps and rows to multiples of
`BUCKET`, which bounds the number of compilations. Each loop runs as two
loops over half the batch's rows, side by side (see `ROW_PARTS`).

The formulas, the weight layout and the masking rules are those of the Keras
layers, so the numbers agree with them to float32 rounding. Inside, tensors
are time-major: `(time, batch, features)`, and a mask is float
`(time, batch, 1)`, 1 for real steps.
"""

import functools

import tensorflow as tf

BUCKET = 8
GATES = {"lstm": 4, "gru": 3, "rnn": 1}


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


# XLA vectorises a step's gate arithmetic only when every tensor it reads at
# step t is a whole one (columns sliced out of a step's slice make it scalar
# code, five times slower), so the projections of the gates come in one
# tensor each and every term is written to its own.
#
# LSTM: z = x W + h U + b, gates i, f, g, o in Keras's order. The forward
# loop can also write the terms of the reverse step:
#   dc += dh * into_cell; dz = [dc, dc, dc, dh] * gate_term;
#   dh_prev = dz U^T (+ dh at a padded step); dc_prev = dc * carry.


def _gate_kernels(recurrent_kernel, units, gates):
    """The recurrent kernel's columns of each gate, as tensors of their own.

    One `[B, U] x [U, U]` matmul per gate writes each gate's input whole;
    XLA's gate kernels then read it faster than slices of one `[B, gates
    U]` product (at the char-RNN shape an LSTM step took 158 microseconds
    against 218).
    """
    return [recurrent_kernel[:, k * units : (k + 1) * units] for k in range(gates)]


def _lstm_forward(projections, states, recurrent_kernel, biases, mask, units, keep):
    gate_kernels = _gate_kernels(recurrent_kernel, units, 4)

    def step(t, h, c):
        z = [
            projection[t] + tf.matmul(h, gate_kernel) + bias
            for projection, gate_kernel, bias in zip(projections, gate_kernels, biases)
        ]
        i, f, o = tf.sigmoid(z[0]), tf.sigmoid(z[1]), tf.sigmoid(z[3])
        g = tf.tanh(z[2])
        c_new = f * c + i * g
        tanh_c = tf.tanh(c_new)
        mask_t = _step_mask(mask, t)
        h_new = _keep(mask_t, o * tanh_c, h)
        if not keep:
            return [h_new, _keep(mask_t, c_new, c)], [h_new]
        gate_terms = [
            g * i * (1 - i),
            c * f * (1 - f),
            i * (1 - g * g),
            tanh_c * o * (1 - o),
        ]
        into_cell = o * (1 - tanh_c * tanh_c)
        carry = f
        if mask_t is not None:
            gate_terms = [term * mask_t for term in gate_terms]
            into_cell *= mask_t
            carry = carry * mask_t + (1 - mask_t)
        return [h_new, _keep(mask_t, c_new, c)], [h_new, *gate_terms, into_cell, carry]

    steps = tf.shape(projections[0])[0]
    count = 7 if keep else 1
    (h, c), outputs = _scan(step, states, steps, states[0].dtype, count)
    return [outputs[0], h, c, *outputs[1:]]


def _lstm_backward(d_states, finals, terms, recurrent_kernel, mask):
    *gate_terms, into_cells, carries = terms
    transposed = tf.transpose(recurrent_kernel)

    def step(t, dh, dc):
        dh = dh + d_states[t]
        dc = dc + dh * into_cells[t]
        dz = tf.concat(
            [d * term[t] for d, term in zip([dc, dc, dc, dh], gate_terms)], axis=1
        )
        dh_previous = tf.matmul(dz, transposed)
        if mask is not None:
            dh_previous += dh * (1 - mask[t])
        return [dh_previous, dc * carries[t]], [dz]

    d_initial, (d_gates,) = _scan(
        step, finals, tf.shape(d_states)[0], d_states.dtype, 1, reverse=True
    )
    return d_gates, None, d_initial


# GRU with reset_after=True (Keras's default): z and r from x W + b_in and
# inner = h U + b_rec; the candidate reads r * inner's last third. The terms
# of the reverse step:
#   d_inner = [dh * to_update, dh * to_reset, dh * to_candidate * r];
#   d_input = [d_inner's first two thirds, dh * to_candidate];
#   dh_prev = dh * carry + d_inner U^T.


def _gru_forward(projections, states, recurrent_kernel, biases, mask, units, keep):
    gate_kernels = _gate_kernels(recurrent_kernel, units, 3)
    # biases: the three input biases, then the three recurrent ones.
    input_biases, recurrent_biases = biases[:3], biases[3:]

    def step(t, h):
        inner = [
            tf.matmul(h, gate_kernel) + bias
            for gate_kernel, bias in zip(gate_kernels, recurrent_biases)
        ]
        x = [
            projection[t] + bias for projection, bias in zip(projections, input_biases)
        ]
        z = tf.sigmoid(x[0] + inner[0])
        r = tf.sigmoid(x[1] + inner[1])
        recurrent_h = inner[2]
        hh = tf.tanh(x[2] + r * recurrent_h)
        mask_t = _step_mask(mask, t)
        h_new = _keep(mask_t, z * h + (1 - z) * hh, h)
        if not keep:
            return [h_new], [h_new]
        to_candidate = (1 - z) * (1 - hh * hh)
        terms = [
            (h - hh) * z * (1 - z),
            to_candidate * recurrent_h * r * (1 - r),
            to_candidate * r,
            to_candidate,
        ]
        carry = z
        if mask_t is not None:
            terms = [term * mask_t for term in terms]
            carry = carry * mask_t + (1 - mask_t)
        return [h_new], [h_new, *terms, carry]

    count = 6 if keep else 1
    steps = tf.shape(projections[0])[0]
    (h,), outputs = _scan(step, states, steps, states[0].dtype, count)
    return [outputs[0], h, *outputs[1:]]


def _gru_backward(d_states, finals, terms, recurrent_kernel, mask):
    # The mask is folded into the terms.
    to_update, to_reset, to_hidden, to_candidate, carries = terms
    transposed = tf.transpose(recurrent_kernel)

    def step(t, dh):
        dh = dh + d_states[t]
        d_update, d_reset = dh * to_update[t], dh * to_reset[t]
        d_inner = tf.concat([d_update, d_reset, dh * to_hidden[t]], axis=1)
        d_input = tf.concat([d_update, d_reset, dh * to_candidate[t]], axis=1)
        dh_previous = dh * carries[t] + tf.matmul(d_inner, transposed)
        return [dh_previous], [d_input, d_inner]

    d_initial, (d_inputs, d_inners) = _scan(
        step, finals, tf.shape(d_states)[0], d_states.dtype, 2, reverse=True
    )
    return d_inputs, d_inners, d_initial


# Vanilla RNN: h = tanh(x W + b + h U); the reverse step's term is tanh's
# derivative, 1 - h^2: da = dh * (1 - h^2); dh_prev = da U^T (+ dh at a
# padded step).


def _rnn_forward(projections, states, recurrent_kernel, biases, mask, units, keep):
    (projection,), (bias,) = projections, biases

    def step(t, h):
        h_new = tf.tanh(projection[t] + bias + tf.matmul(h, recurrent_kernel))
        kept = _keep(_step_mask(mask, t), h_new, h)
        return [kept], [kept]

    steps = tf.shape(projection)[0]
    (h,), (sequence,) = _scan(step, states, steps, states[0].dtype, 1)
    # The reverse loop needs only the outputs (tanh's derivative is 1 - h^2).
    return [sequence, h, sequence] if keep else [sequence, h]


def _rnn_backward(d_states, finals, terms, recurrent_kernel, mask):
    (outputs,) = terms
    transposed = tf.transpose(recurrent_kernel)

    def step(t, dh):
        dh = dh + d_states[t]
        # At a padded step the output is the carried state; the mask zeroes
        # its term and passes dh through instead.
        derivative = 1 - outputs[t] * outputs[t]
        if mask is not None:
            derivative *= mask[t]
        da = dh * derivative
        dh_previous = tf.matmul(da, transposed)
        if mask is not None:
            dh_previous += dh * (1 - mask[t])
        return [dh_previous], [da]

    d_initial, (d_pre,) = _scan(
        step, finals, tf.shape(d_states)[0], d_states.dtype, 1, reverse=True
    )
    return d_pre, None, d_initial


FORWARD = {"lstm": _lstm_forward, "gru": _gru_forward, "rnn": _rnn_forward}
BACKWARD = {"lstm": _lstm_backward, "gru": _gru_backward, "rnn": _rnn_backward}


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


def _part_gradients(d_input, d_inner, x, initial, sequence):
    """The gradients of the kernel, the recurrent kernel and the biases from
    one loop's rows, each a GEMM over all of its steps.

    `d_input` is the gradient of `x W + b`, `d_inner` that of `h U (+ b_rec)`
    (None when the two add up before the gates, as in the LSTM and the
    vanilla RNN: then `d_input` serves both and there is one bias). The state
    entering step t is `initial` at the first step and the output of step
    t - 1 after it, so `h U`'s gradient needs no shifted copy of the outputs:
    the leading rows of `sequence` and the trailing ones of `d_inner` line up.
    """
    d_state = d_input if d_inner is None else d_inner
    d_kernel = tf.matmul(_rows(x), _rows(d_input), transpose_a=True)
    d_recurrent = tf.matmul(initial, d_state[0], transpose_a=True) + tf.matmul(
        _rows(sequence[:-1]), _rows(d_state[1:]), transpose_a=True
    )
    d_biases = [tf.reduce_sum(_rows(d_input), axis=0)]
    if d_inner is not None:
        d_biases.append(tf.reduce_sum(_rows(d_inner), axis=0))
    return [d_kernel, d_recurrent, *d_biases]


def _back_project(d_pre, kernel, like):
    """The gradient of the inputs through x W: (time, batch, features)."""
    return tf.reshape(tf.matmul(_rows(d_pre), kernel, transpose_b=True), tf.shape(like))


def _no_gradient(values):
    # Autodiff must not look inside the loops: the custom gradients replace it.
    return [tf.stop_gradient(value) for value in values]


def _split_biases(kind, biases, units):
    """The biases as the forward loop adds them: one per gate projection
    (the GRU's input biases, then its recurrent ones)."""
    if kind == "gru":
        input_bias, recurrent_bias = biases
        return [*tf.split(input_bias, 3), *tf.split(recurrent_bias, 3)]
    return tf.split(biases[0], GATES[kind])


# XLA runs a step's small matmul and its gate kernels on one core or spreads
# them poorly over two: at the char-RNN shape a step, [64, 256] x [256, 256]
# for the vanilla RNN, leaves much of the second core idle. The rows of a
# batch are independent, so each loop runs as two loops over half the rows,
# which TensorFlow's executor runs side by side. Measured on 2 cores (a
# layer's forward and backward, units 128 to 512, batches 16 to 256): 1.07 to
# 1.74 times as fast up to 64 rows; at 256 rows or 512 units, from 5% slower
# (the vanilla RNN at 256 rows) to 9% faster.
ROW_PARTS = 2
MIN_PART_ROWS = 8


def _row_parts(batch):
    """How many loops over the batch's rows (a batch unknown when traced
    is split too: its halves are sliced when it runs)."""
    if batch is not None and batch < ROW_PARTS * MIN_PART_ROWS:
        return 1
    return ROW_PARTS


def _row_slices(batch, parts):
    """The rows of each of `parts` loops over `batch` rows."""
    if parts == 1:
        return [slice(None)]
    bounds = [batch * k // parts for k in range(parts)] + [None]
    return [slice(bounds[k], bounds[k + 1]) for k in range(parts)]


def _join(pieces, axis):
    return pieces[0] if len(pieces) == 1 else tf.concat(pieces, axis=axis)


def _core(kind, x, states, kernel, recurrent_kernel, biases, mask, jit, keep_terms):
    """The loop of one layer over time-major `x`, with its custom gradient.

    `biases` are the cell's bias tensors (the GRU's input and recurrent ones);
    returns the states after every step and the final states.

    Each loop over a part of the rows keeps its own inputs, terms and
    gradients from the input projection to the weight gradients (summed over
    the parts at the end): only the outputs and the inputs' gradient are
    joined, so no term is copied into a whole batch and sliced again.
    """
    units = recurrent_kernel.shape[0]
    forward = _compiled(FORWARD[kind], jit)
    backward = _compiled(BACKWARD[kind], jit)
    count = len(states)
    batch = tf.shape(x)[1] if x.shape[1] is None else x.shape[1]
    parts = _row_slices(batch, _row_parts(x.shape[1]) if jit else 1)

    @tf.custom_gradient
    def core(x, kernel, recurrent_kernel, *rest):
        x_, kernel_, recurrent_, *rest_ = _no_gradient(
            [x, kernel, recurrent_kernel, *rest]
        )
        states_, biases_ = rest_[:count], rest_[count:]
        gate_kernels = _gate_kernels(kernel_, units, GATES[kind])
        step_biases = _split_biases(kind, biases_, units)
        xs = [x_[:, rows] for rows in parts]
        masks = [None if mask is None else mask[:, rows] for rows in parts]
        initials = [[state[rows] for state in states_] for rows in parts]

        def run(keep):
            # Per part: [sequence, *final states, *terms].
            return [
                forward(
                    [_project(x_part, gate_kernel) for gate_kernel in gate_kernels],
                    initial,
                    recurrent_,
                    step_biases,
                    mask_part,
                    units,
                    keep,
                )
                for x_part, initial, mask_part in zip(xs, initials, masks)
            ]

        outputs = run(keep_terms)
        sequence = _join([output[0] for output in outputs], axis=1)
        finals = [
            _join([output[1 + k] for output in outputs], axis=0) for k in range(count)
        ]

        def gradient(d_sequence, *d_finals):
            d_sequence, *d_finals = _zeros_for_none(
                [d_sequence, *d_finals], [sequence, *finals]
            )
            # Without the terms (an inference call differentiated after all),
            # the forward loop runs again to write them.
            with_terms = outputs if keep_terms else run(True)
            weight_gradients, dxs, d_initials = [], [], []
            for rows, output, x_part, initial, mask_part in zip(
                parts, with_terms, xs, initials, masks
            ):
                d_input, d_inner, d_initial = backward(
                    d_sequence[:, rows],
                    [d_final[rows] for d_final in d_finals],
                    output[1 + count :],
                    recurrent_,
                    mask_part,
                )
                weight_gradients.append(
                    _part_gradients(d_input, d_inner, x_part, initial[0], output[0])
                )
                dxs.append(_back_project(d_input, kernel_, x_part))
                d_initials.append(d_initial)
            d_kernel, d_recurrent, *d_biases = [
                tf.add_n(list(pieces)) for pieces in zip(*weight_gradients)
            ]
            d_initial = [
                _join([part[k] for part in d_initials], axis=0) for k in range(count)
            ]
            dx = _join(dxs, axis=1)
            return (dx, d_kernel, d_recurrent, *d_initial, *d_biases)

        return (sequence, *finals), gradient

    sequence, *finals = core(x, kernel, recurrent_kernel, *states, *biases)
    return sequence, finals


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
    if kind not in GATES:
        raise ValueError(
            f"`kind` must be one of {list(GATES)}. Received: kind={kind!r}"
        )
    dtype = inputs.dtype
    units = recurrent_kernel.shape[0]
    if go_backwards:
        inputs = tf.reverse(inputs, [1])
        mask = None if mask is None else tf.reverse(mask, [1])
    batch_size, steps = tf.shape(inputs)[0], tf.shape(inputs)[1]
    x = tf.transpose(inputs, [1, 0, 2])
    states = list(initial_state)
    step_mask = None
    padded = False
    if mask is not None:
        step_mask = tf.cast(tf.transpose(mask), dtype)[:, :, None]
        padded = jit and (inputs.shape[0] is None or inputs.shape[1] is None)
        if padded:
            pad_steps = _round_up(steps) - steps
            pad_rows = _round_up(batch_size) - batch_size
            x = tf.pad(x, [[0, pad_steps], [0, pad_rows], [0, 0]])
            step_mask = tf.pad(step_mask, [[0, pad_steps], [0, pad_rows], [0, 0]])
            states = [tf.pad(state, [[0, pad_rows], [0, 0]]) for state in states]

    width = GATES[kind] * units
    if kind == "gru":
        bias = tf.zeros([2, width], dtype) if bias is None else bias
        biases = [bias[0], bias[1]]
    else:
        biases = [tf.zeros([width], dtype) if bias is None else bias]
    sequence, final_states = _core(
        kind,
        x,
        states,
        kernel,
        recurrent_kernel,
        biases,
        step_mask,
        jit,
        keep_terms=bool(training),
    )

    if padded:
        sequence = sequence[:steps, :batch_size]
        final_states = [state[:batch_size] for state in final_states]
    sequence = tf.transpose(sequence, [1, 0, 2])
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
