"""Subword pieces: learnt merges, greedy longest-match splitting, joining."""

import collections

import numpy as np
import tensorflow as tf

from keras_seq.data import subwords
from keras_seq.data.vocabulary import OOV_ID, Vocabulary, lookup_table

COUNTS = collections.Counter({"lower": 5, "newer": 6, "wider": 3, "new": 2})


def test_merges_follow_pair_frequency():
    pieces = subwords.learn_pieces(COUNTS, 100)
    alphabet = {"l", "n", "w", "##o", "##w", "##e", "##r", "##i", "##d"}
    assert set(pieces[: len(alphabet)]) == alphabet
    # ##e ##r occurs in lower, newer and wider (14 times); then ##w ##er in
    # lower and newer (11), then n ##e in newer and new (8).
    assert pieces[len(alphabet) : len(alphabet) + 3] == ["##er", "##wer", "ne"]
    # Every word the merges made from frequent pairs becomes one piece.
    assert {"lower", "newer", "new"} <= set(pieces)
    assert subwords.learn_pieces(COUNTS, 10) == pieces[:10]


def test_pieces_are_at_most_the_maximum_length(monkeypatch):
    monkeypatch.setattr(subwords, "MAX_PIECE_CHARACTERS", 4)
    pieces = subwords.learn_pieces({"abcdefghijk": 10}, 100)
    assert max(len(piece.removeprefix("##")) for piece in pieces) == 4


def _split(symbols, words):
    vocabulary = Vocabulary(symbols)
    table = lookup_table(vocabulary.symbols)
    ids, strings = subwords.split_words(tf.constant(words, tf.string), table)
    return (
        vocabulary,
        ids.to_list(),
        [[s.decode() for s in row] for row in strings.to_list()],
    )


def test_split_takes_the_longest_known_piece_from_the_left():
    vocabulary, ids, strings = _split(
        ["a", "abend", "##b", "##es", "##essen", "##sen", "##e", "##n", "##s"],
        ["abendessen", "abends", "ab", "aß"],
    )
    assert strings[:3] == [["abend", "##essen"], ["abend", "##s"], ["a", "##b"]]
    assert ids[0] == [vocabulary._ids["abend"], vocabulary._ids["##essen"]]
    # A character the vocabulary lacks: the word is one unknown piece.
    assert ids[3] == [OOV_ID] and strings[3] == ["aß"]


def test_split_of_nothing_is_empty():
    _, ids, strings = _split(["a"], [])
    assert ids == [] and strings == []


def test_learnt_pieces_spell_every_training_word_back():
    vocabulary = subwords.subword_vocabulary(COUNTS, 16, ["<s>"])
    assert vocabulary.size == 16 and vocabulary.symbols[0] == "<s>"
    table = lookup_table(vocabulary.symbols)
    words = sorted(COUNTS)
    _, strings = subwords.split_words(tf.constant(words), table)
    texts = tf.strings.reduce_join(strings, axis=1, separator=" ")
    joined = subwords.join_pieces(texts).numpy().tolist()
    assert [text.decode() for text in joined] == words


def _greedy_reference(word, pieces):
    """Longest match from the left, written out in Python."""
    result, start = [], 0
    while start < len(word):
        mark = "##" if start else ""
        for end in range(len(word), start, -1):
            if mark + word[start:end] in pieces:
                result.append(mark + word[start:end])
                start = end
                break
        else:
            return [word]
    return result


def test_split_agrees_with_a_python_longest_match():
    rng = np.random.default_rng(0)
    letters = list("abcdeä")

    def random_word(low, high):
        return "".join(rng.choice(letters, rng.integers(low, high)))

    pieces = sorted(
        {random_word(1, 4) for _ in range(30)}
        | {"##" + random_word(1, 4) for _ in range(40)}
    )
    words = [random_word(1, 9) for _ in range(200)]
    _, _, strings = _split(pieces, words)
    assert strings == [_greedy_reference(word, set(pieces)) for word in words]
