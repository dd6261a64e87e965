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


# Vocabulary: 0 = end, 1 = A, 2 = B, 3 = start. Greedy takes A (0.6), then
# A again (0.4): P(A A) = 0.24. A beam of 2 also keeps B (0.4), whose end
# token is likely (0.9): P(B end) = 0.36, the better sequence.
NEXT = {
    0: [1.0, 0.0, 0.0, 0.0],
    1: [0.3, 0.4, 0.3, 0.0],
    2: [0.9, 0.05, 0.05, 0.0],
    3: [0.0, 0.6, 0.4, 0.0],
}
TOY_LOG_PROBABILITIES = np.log(np.maximum([NEXT[t] for t in range(4)], 1e-12))


def _toy_step(tokens, state):
    return tf.gather(tf.constant(TOY_LOG_PROBABILITIES, tf.float32), tokens), state


def test_beam_search_by_hand():
    start = tf.constant([3])
    greedy, _ = decoding.greedy_decode(_toy_step, start, tf.zeros([1]), 2, 0)
    np.testing.assert_array_equal(greedy, [[1, 1]])
    tokens, scores, lengths = decoding.beam_search(
        _toy_step, start, tf.zeros([1]), beam_width=2, max_length=2, end_token=0
    )
    np.testing.assert_array_equal(tokens, [[[2, 0], [1, 1]]])
    np.testing.assert_allclose(scores, [[np.log(0.36), np.log(0.24)]], rtol=1e-5)
    np.testing.assert_array_equal(lengths, [[1, 2]])


def test_beam_search_adds_the_extra_score_and_freezes_it_when_finished():
    # The state is the last token read; reading B (2) costs 0.5. Without it
    # B end (log 0.36) beats A A (log 0.24); with it, log 0.36 - 0.5 loses.
    def step_fn(tokens, state):
        return _toy_step(tokens, None)[0], tokens

    def extra(state):
        return tf.where(state == 2, -0.5, 0.0)

    start = tf.constant([3])
    tokens, scores, _ = decoding.beam_search(
        step_fn, start, start, 2, max_length=2, end_token=0, extra_score_fn=extra
    )
    np.testing.assert_array_equal(tokens, [[[1, 1], [2, 0]]])
    np.testing.assert_allclose(scores, [[np.log(0.24), np.log(0.36) - 0.5]], rtol=1e-5)
    # One step more: the finished B end reads the end token (no cost) but
    # keeps its -0.5, and now beats A A A (log 0.096).
    tokens, scores, _ = decoding.beam_search(
        step_fn, start, start, 2, max_length=3, end_token=0, extra_score_fn=extra
    )
    np.testing.assert_array_equal(tokens, [[[2, 0, 0], [1, 1, 1]]])
    np.testing.assert_allclose(scores, [[np.log(0.36) - 0.5, np.log(0.096)]], rtol=1e-5)


def test_coverage_penalty_by_hand():
    coverage = tf.constant([[0.5, 1.5, 1.0, 0.0], [1.0, 0.25, 0.0, 0.0]])
    mask = tf.constant([[True, True, True, False], [True, True, True, True]])
    penalty = decoding.coverage_penalty(coverage, mask, beta=0.2)
    # Row 1: log 0.5 + log 1 + log 1 (the padded 0 is left out).
    # Row 2: log 1 + log 0.25 + 2 log 1e-6 (never attended).
    expected = [0.2 * np.log(0.5), 0.2 * (np.log(0.25) + 2 * np.log(1e-6))]
    np.testing.assert_allclose(penalty, expected, rtol=1e-4)


def test_beam_of_width_1_is_greedy():
    rng = np.random.default_rng(0)
    table = tf.constant(rng.normal(size=(6, 6)) * 2.0, tf.float32)

    def step_fn(tokens, state):
        # Logits depend on the last token and on the step count in the state.
        return tf.gather(table, (tokens + state) % 6), state + 1

    start = tf.constant([0, 1, 2, 5])
    state = tf.constant([0, 3, 1, 2])
    greedy, greedy_lengths = decoding.greedy_decode(step_fn, start, state, 7, 4)
    tokens, _, lengths = decoding.beam_search(step_fn, start, state, 1, 7, 4)
    np.testing.assert_array_equal(tokens[:, 0], greedy)
    np.testing.assert_array_equal(lengths[:, 0], greedy_lengths)


def test_beam_search_runs_in_a_tf_function_with_nested_state():
    @tf.function(input_signature=[tf.TensorSpec([None], tf.int32)])
    def decode(start):
        state = {"h": tf.zeros([tf.shape(start)[0], 3]), "step": tf.zeros_like(start)}

        def step_fn(tokens, state):
            state = {"h": state["h"] + 1.0, "step": state["step"] + 1}
            logits, _ = _toy_step(tokens, None)
            return logits, state

        return decoding.beam_search(step_fn, start, state, 3, 5, 0, length_penalty=0.6)

    tokens, scores, lengths = decode(tf.constant([3, 3]))
    assert tokens.shape[:2] == (2, 3)
    assert np.all(np.diff(scores.numpy(), axis=-1) <= 1e-6)
    np.testing.assert_array_equal(tokens[0, 0, :2], [2, 0])


def test_teacher_forced_stacks_what_each_step_reports():
    def step_fn(tokens, state):
        # Reports the token it read, one-hot, and counts the steps.
        return tf.one_hot(tokens, 4) * tf.cast(state[:, None], tf.float32), state + 1

    inputs = tf.constant([[1, 2, 3], [0, 0, 2]])
    outputs = decoding.teacher_forced(step_fn, inputs, tf.ones([2], tf.int32))
    expected = tf.one_hot(inputs, 4).numpy() * np.array([1, 2, 3])[None, :, None]
    np.testing.assert_allclose(outputs.numpy(), expected)
