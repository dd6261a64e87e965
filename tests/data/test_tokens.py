"""Words and pieces of text, to ids and back, in TensorFlow ops."""

import numpy as np
import pytest
import tensorflow as tf

from keras_seq.data import words
from keras_seq.data.tokens import Tokenizer, sentence_vocabulary
from keras_seq.data.vocabulary import (
    END_ID,
    FIRST_SYMBOL_ID,
    PAD_ID,
    SENTENCE_MARKS,
    START_ID,
    Vocabulary,
    id_to_string,
    lookup_table,
)

TEXTS = ["The house is old.", "The car is new.", "You are thirsty."] * 3


def test_tokenize_and_detokenize():
    found = words.tokenize(tf.constant(["Ich bin's, Ärger!", ""]))
    assert found.to_list() == [[b"ich", b"bin's", b",", "ärger".encode(), b"!"], []]
    joined = words.detokenize(tf.constant([["i", "am", "hungry", "."]]))
    assert joined.numpy().tolist() == [b"i am hungry."]


def test_splitters_for_code_pretokenized_text_and_trees():
    def split(text, splitter):
        return [
            t.decode() for t in words.tokenize(tf.constant([text]), splitter)[0].numpy()
        ]

    assert split("x+=f(Y)", "code") == ["x", "+", "=", "f", "(", "Y", ")"]
    assert split("Ich bin's ,  da", "spaces") == ["Ich", "bin's", ",", "da"]
    tree = "(S (NP XX) (VP XX (NP XX)))"
    tokens = split(tree, "brackets")
    assert tokens == ["(S", "(NP", "XX", ")", "(VP", "XX", "(NP", "XX", ")", ")", ")"]
    vocabulary = sentence_vocabulary([tree], "word", 20, "brackets")
    tokenizer = Tokenizer(vocabulary, False, 20, "brackets")
    ids = tokenizer.ids(tf.constant([tree])).to_tensor()
    assert tokenizer.text(ids, tf.constant([len(tokens)])).numpy()[0].decode() == tree
    with pytest.raises(ValueError, match="`splitter` must be one of"):
        words.tokenize(tf.constant(["a"]), "letters")


def test_lookup_table_and_id_to_string_number_alike():
    symbols = ["a", "b"]
    ids = lookup_table(symbols).lookup(tf.constant(["b", "a", "zebra"])).numpy()
    np.testing.assert_array_equal(ids, [3, 2, 1])
    back = id_to_string(symbols, tf.constant([3, 2, 1, 0, 9])).numpy().tolist()
    assert back == [b"b", b"a", b"", b"", b""]


@pytest.mark.parametrize("kind", ["word", "subword"])
def test_tokens_spell_known_text_back(kind):
    vocabulary = sentence_vocabulary(TEXTS, kind, 60)
    assert vocabulary.symbols[:2] == SENTENCE_MARKS
    tokens = Tokenizer(vocabulary, kind == "subword", max_tokens=20)
    texts = tf.constant(["The house is new.", "You are thirsty."])
    ids, _ = tokens.split(texts)
    assert np.all(ids.flat_values.numpy() >= FIRST_SYMBOL_ID)
    back = tokens.text(ids.to_tensor(), ids.row_lengths()).numpy().tolist()
    assert back == [b"the house is new.", b"you are thirsty."]
    # Words the training text never had still get ids: unknown or pieces.
    unseen, _ = tokens.split(tf.constant(["Zebras."]))
    assert unseen.row_lengths().numpy()[0] >= 2


def test_teacher_forcing_inputs_and_targets():
    vocabulary = Vocabulary([*SENTENCE_MARKS, "the", "car", "house", "."])
    tokens = Tokenizer(vocabulary, subword=False, max_tokens=3)
    inputs, targets = tokens.teacher_forcing(tf.constant(["The car.", "The house is"]))
    the, car, house, stop = 4, 5, 6, 7
    # max_tokens cuts "is" (unknown anyway) and keeps three words a text.
    np.testing.assert_array_equal(
        inputs, [[START_ID, the, car, stop], [START_ID, the, house, 1]]
    )
    np.testing.assert_array_equal(
        targets, [[the, car, stop, END_ID], [the, house, 1, END_ID]]
    )
    assert PAD_ID not in inputs.numpy()


@pytest.mark.parametrize("kind", ["word", "subword"])
def test_encode_gives_the_ids_of_many_texts_as_ids_does(kind):
    vocabulary = sentence_vocabulary(TEXTS, kind, 40)
    tokens = Tokenizer(vocabulary, kind == "subword", max_tokens=4)
    texts = ["The house is new and old.", "", "Zebras are thirsty.", "car"]
    # Small chunks, so that words of several lengths are split apart.
    found = tokens.encode(texts, chunk=2)
    assert found.dtype == tf.int32
    assert found.to_list() == tokens.ids(tf.constant(texts)).to_list()
    assert max(found.row_lengths().numpy()) == 4
    assert tokens.encode([]).to_list() == []
