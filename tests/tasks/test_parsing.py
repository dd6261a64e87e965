"""The parsing task: the tree constraint's rules, well-formed trees from an
untrained model, and the session's tiny run with predict drawing a tree."""

import dataclasses
import json

import numpy as np
import pytest
import tensorflow as tf

from keras_seq import cli
from keras_seq.data import trees
from keras_seq.data.vocabulary import Vocabulary
from tasks import parsing
from tests.tasks import tiny_data


def test_token_kinds_tell_brackets_leaves_and_marks_apart():
    vocabulary = Vocabulary(["<s>", "</s>", "(S", ")", "XX", "Add"])
    kinds = parsing.token_kinds(vocabulary)
    assert kinds.tolist() == [
        parsing.OTHER,  # padding
        parsing.OTHER,  # OOV
        parsing.OTHER,  # start
        parsing.END,
        parsing.OPEN,
        parsing.CLOSE,
        parsing.LEAF,
        parsing.LEAF,
    ]


def test_the_rules_open_the_root_first_and_close_within_the_budget():
    # Rows: nothing written; inside two nodes with room; inside two nodes
    # with room only to close; the root closed.
    depth = tf.constant([0, 2, 2, 0])
    opened = tf.constant([False, True, True, True])
    written = tf.constant([0, 3, 7, 5])
    allowed = parsing.allowed_kinds(depth, opened, written, max_length=10).numpy()
    names = ["other", "open", "close", "leaf", "end"]
    found = [{names[k] for k in np.flatnonzero(row)} for row in allowed]
    assert found == [{"open"}, {"open", "close", "leaf"}, {"close"}, {"end"}]


@pytest.fixture(scope="module")
def untrained(tmp_path_factory):
    folder = tmp_path_factory.mktemp("treebank")
    config = dataclasses.replace(
        parsing.PRESETS["tiny"], data=f"file:{tiny_data.treebank(folder)}"
    )
    data = parsing.load_data(config)
    return config, parsing.build_model(config, data), data


@pytest.mark.parametrize("constrained", [True, False])
def test_an_untrained_model_writes_only_well_formed_trees_when_constrained(
    untrained, constrained
):
    config, pieces, data = untrained
    config = dataclasses.replace(config, constrained=constrained)
    parser = parsing.Parser(config, pieces, data)
    texts = tf.constant(["the cat sees the dog", "the bird", "fish fish fish ."])
    outputs = [parser.translate_greedy(texts), parser.translate(texts)]
    formed = [
        trees.read_tree(text.decode()) is not None
        for o in outputs
        for text in o.numpy()
    ]
    if constrained:
        assert all(formed)
    else:
        # Random weights write anything: the constraint is what makes trees.
        assert not all(formed)


@pytest.fixture(scope="module")
def tiny_run(tiny_runs):
    return tiny_runs("parsing").folder


def test_the_tiny_run_scores_trees_and_predict_draws_one(tiny_run, tmp_path, capsys):
    found = json.loads((tiny_run / "metrics.json").read_text())
    assert found["well_formed_beam"] == 100.0
    assert 0 <= found["f1_beam"] <= 100 and 0 <= found["exact_beam"] <= 100
    picture = tmp_path / "tree.png"
    arguments = [
        "predict",
        "parsing",
        "--model",
        str(tiny_run),
        "the dog sees the cat .",
    ]
    assert cli.main([*arguments, "--plot", str(picture)]) == 0
    assert "the dog sees the cat . -> (" in capsys.readouterr().out
    assert picture.stat().st_size > 3000
    assert cli.main(["predict", "parsing", "--model", str(tiny_run)]) == 2
    error = capsys.readouterr().err
    assert "at least one sentence" in error and "Traceback" not in error
