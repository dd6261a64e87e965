import numpy as np
import tensorflow as tf

from keras_seq import decoding

VOCABULARY = 5


def _fixed_step(probabilities):
    """A decoder whose next-token distribution depends only on the last token."""
    table = tf.math.log(tf.constant(probabilities, tf.float32))

    def step_fn(tokens, state):
        return tf.gather(table, tokens), state + 1

    return step_fn


# From token t the likeliest next token is (t + 1) % 5.
CHAIN = [
    [0.1 if j != (i + 1) % VOCABULARY else 0.6 for j in range(VOCABULARY)]
    for i in range(VOCABULARY)
]


def test_temperature_zero_and_top_1_are_greedy():
    step_fn = _fixed_step(CHAIN)
    start = tf.constant([0, 3])
    for temperature, top_k in [(0.0, 0), (1.0, 1)]:
        drawn = decoding.sample(step_fn, start, tf.zeros([2]), 6, temperature, top_k)
        np.testing.assert_array_equal(drawn, [[1, 2, 3, 4, 0, 1], [4, 0, 1, 2, 3, 4]])


def test_state_is_threaded_through_the_loop():
    # The likeliest token is the step counter kept in the state.
    def counting(tokens, state):
        logits = tf.one_hot(tf.cast(state, tf.int32) % VOCABULARY, VOCABULARY) * 5.0
        return logits, state + 1

    drawn = decoding.sample(
        counting, tf.constant([0, 0]), tf.constant([0.0, 2.0]), 6, 0.0
    )
    np.testing.assert_array_equal(drawn, [[0, 1, 2, 3, 4, 0], [2, 3, 4, 0, 1, 2]])


def test_samples_follow_the_distribution_and_temperature():
    uniform_row = [0.5, 0.25, 0.125, 0.0625, 0.0625]
    step_fn = _fixed_step([uniform_row] * VOCABULARY)
    start = tf.zeros([4000], tf.int32)
    drawn = decoding.sample(step_fn, start, tf.zeros([4000]), 1, 1.0, seed=7)
    frequencies = np.bincount(drawn.numpy().ravel(), minlength=VOCABULARY) / 4000
    np.testing.assert_allclose(frequencies, uniform_row, atol=0.03)
    cold = decoding.sample(step_fn, start, tf.zeros([4000]), 1, 0.25, seed=7)
    assert np.mean(cold.numpy() == 0) > 0.9
    top2 = decoding.sample(step_fn, start, tf.zeros([4000]), 1, 1.0, top_k=2, seed=7)
    assert set(np.unique(top2.numpy())) == {0, 1}


def test_seeded_sampling_repeats():
    step_fn = _fixed_step(CHAIN)
    first = decoding.sample(step_fn, tf.constant([0, 1]), tf.zeros([2]), 8, 1.5, seed=5)
    again = decoding.sample(step_fn, tf.constant([0, 1]), tf.zeros([2]), 8, 1.5, seed=5)
    np.testing.assert_array_equal(first, again)


def test_sampling_runs_inside_a_tf_function_with_tensor_arguments():
    step_fn = _fixed_step(CHAIN)

    @tf.function(
        input_signature=[tf.TensorSpec([], tf.int32), tf.TensorSpec([], tf.float32)]
    )
    def generate(length, temperature):
        return decoding.sample(
            step_fn, tf.constant([2]), tf.zeros([1]), length, temperature
        )

    np.testing.assert_array_equal(generate(3, 0.0), [[3, 4, 0]])
    assert generate(7, 1.0).shape == (1, 7)


def test_greedy_decode_stops_at_the_end_token():
    step_fn = _fixed_step(CHAIN)
    tokens, lengths = decoding.greedy_decode(
        step_fn, tf.constant([1, 3]), tf.zeros([2]), max_length=10, end_token=4
    )
    # From 1: 2, 3, then 4 (end). From 3: 4 (end) at once.
    np.testing.assert_array_equal(lengths, [2, 0])
    np.testing.assert_array_equal(tokens, [[2, 3, 4], [4, 4, 4]])
    tokens, lengths = decoding.greedy_decode(
        step_fn, tf.constant([0]), tf.zeros([1]), max_length=2, end_token=4
    )
    np.testing.assert_array_equal(tokens, [[1, 2]])
    np.testing.assert_array_equal(lengths, [2])
