import numpy as np
import pytest

from keras_seq.data import pipelines
from keras_seq.data.vocabulary import OOV_ID, PAD_ID, Vocabulary


def test_character_vocabulary_round_trip(tmp_path):
    vocabulary = Vocabulary.from_characters("hello world")
    ids = vocabulary.encode_characters("hello!")
    assert PAD_ID not in ids and ids[-1] == OOV_ID
    assert vocabulary.decode(ids) == "hello"
    assert vocabulary.size == len(set("hello world")) + 2
    vocabulary.save(tmp_path / "vocabulary.json")
    assert Vocabulary.load(tmp_path / "vocabulary.json").symbols == vocabulary.symbols


def test_token_vocabulary_keeps_the_most_frequent():
    vocabulary = Vocabulary.from_tokens("a b b c c c d".split(), max_size=2)
    assert vocabulary.symbols == ["c", "b"]


def test_random_windows_are_shifted_by_one():
    ids = np.arange(2, 200, dtype=np.int32)
    batch = next(iter(pipelines.random_windows(ids, 10, 4, seed=1)))
    inputs, targets = (np.asarray(part) for part in batch)
    assert inputs.shape == (4, 10)
    np.testing.assert_array_equal(targets, inputs + 1)


def test_consecutive_windows_cover_the_stream_once():
    ids = np.arange(2, 105, dtype=np.int32)
    batches = list(pipelines.consecutive_windows(ids, 10, 3))
    inputs = np.concatenate([np.asarray(x) for x, _ in batches])
    targets = np.concatenate([np.asarray(y) for _, y in batches])
    assert inputs.shape == (10, 10)
    np.testing.assert_array_equal(inputs.ravel(), ids[:100])
    np.testing.assert_array_equal(targets.ravel(), ids[1:101])


def test_too_short_streams_are_refused():
    with pytest.raises(ValueError, match="Received: 5 tokens"):
        pipelines.random_windows(np.arange(5), 10, 2, seed=0)
