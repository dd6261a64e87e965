"""Trees as bracketed sequences: reading and writing both ways, the
sources' conversions on hand-made cases, and bracket scores computed by
hand."""

import ast
import re

import pytest

from keras_seq.data import corpora, trees
from keras_seq.data.trees import Node
from keras_seq.errors import UserError
from keras_seq.metrics import bracket_scores


def test_python_statements_become_their_syntax_trees():
    statement = ast.parse("x = f(y) + 1").body[0]
    assert trees.to_brackets(trees.statement_tree(statement, "keep")) == (
        "(Assign (Name x) (BinOp (Call (Name f) (Name y)) Add (Constant 1)))"
    )
    assert trees.to_brackets(trees.statement_tree(statement, "xx")) == (
        "(Assign (Name XX) (BinOp (Call (Name XX) (Name XX)) Add (Constant XX)))"
    )
    nothing = ast.parse("a = None; pass").body
    assert [trees.to_brackets(trees.statement_tree(s, "keep")) for s in nothing] == [
        "(Assign (Name a) (Constant None))",
        "(Pass)",
    ]
    assert trees.code_text("x+=f(y)") == "x + = f ( y )"


def test_every_tree_of_a_library_sample_reads_back_as_written():
    paths = corpora.stdlib_paths()[:20]
    statements = list(trees.python_statements(paths))
    assert len(statements) > 500
    for words in trees.WORD_MODES:
        for _, statement in statements:
            text = trees.to_brackets(trees.statement_tree(statement, words))
            (tree,) = trees.read_brackets(text)
            assert trees.to_brackets(tree) == text
            assert trees.bracket_tokens(text)[0].startswith("(")


def test_a_penn_treebank_tree_is_normalised_as_parsers_are_scored(tmp_path):
    text = (
        "( (S (NP-SBJ-1 (DT The) (NN cat)) (VP (VBD sat) (NP (-NONE- *T*-1)))"
        " (. .)) )\n(S (NP (PRP I)) (VP (VBD ran)))"
    )
    (path := tmp_path / "two.mrg").write_text(text)
    assert trees.load_treebank(f"file:{path}", "keep") == [
        ("The cat sat .", "(S (NP The cat) (VP sat) .)"),
        ("I ran", "(S (NP I) (VP ran))"),
    ]
    assert trees.load_treebank(f"file:{path}", "xx")[0] == (
        "The cat sat .",
        "(S (NP XX XX) (VP XX) XX)",
    )


@pytest.mark.parametrize(
    "text, message",
    [
        ("(S (NP a)", "1 bracket(s) left open"),
        ("a (S b)", "the word 'a' at character 0 is outside any bracket"),
        ("(S a))", "a ')' closes nothing at character 5"),
    ],
)
def test_broken_brackets_get_one_line_with_the_place(text, message):
    with pytest.raises(UserError, match=re.escape(message)):
        trees.read_brackets(text)
    assert trees.read_tree(text) is None


def test_a_file_that_is_no_treebank_is_refused(tmp_path):
    (path := tmp_path / "plain.txt").write_text("no brackets here\n")
    with pytest.raises(UserError, match="is outside any bracket"):
        trees.load_treebank(f"file:{path}", "xx")
    with pytest.raises(UserError, match="no such file"):
        trees.load_treebank(f"file:{tmp_path / 'missing'}", "xx")
    with pytest.raises(UserError, match="Unknown data source 'wsj'"):
        trees.load_treebank("wsj", "xx")


def test_a_dependency_tree_nests_dependents_around_their_head():
    rows = [(1, "the", 2, "det"), (2, "cat", 3, "nsubj"), (3, "sat", 0, "root")]
    assert trees.to_brackets(trees.dependency_tree(rows)) == (
        "(root (nsubj (det the) cat) sat)"
    )
    conllu = "# text = x\n1\tthe\t_\tDET\t_\t_\t2\tdet\t_\t_\n1-2\tx\t_\n"
    conllu += "2\tcat\t_\tNOUN\t_\t_\t0\troot\t_\t_\n\n"
    assert trees.read_conllu(conllu) == [[(1, "the", 2, "det"), (2, "cat", 0, "root")]]
    with pytest.raises(UserError, match="one root. Received: 2"):
        trees.dependency_tree([(1, "a", 0, "root"), (2, "b", 0, "root")])


def test_labelled_spans_count_repeated_brackets():
    tree = Node("S", (Node("S", ("XX",)),))
    assert trees.labelled_spans(tree) == {("S", 0, 1): 2}


def test_bracket_scores_by_hand():
    gold = "(S (NP XX XX) (VP XX (NP XX)))"  # S 0-4, NP 0-2, VP 2-4, NP 3-4
    wrong = "(S (NP XX) (VP XX (NP XX XX)))"  # S 0-4, NP 0-1, VP 1-4, NP 2-4
    assert bracket_scores([gold], [gold]) == {
        "exact": 100.0,
        "precision": 100.0,
        "recall": 100.0,
        "f1": 100.0,
        "well_formed": 100.0,
    }
    assert bracket_scores([wrong], [gold]) == pytest.approx(
        {"exact": 0, "precision": 25, "recall": 25, "f1": 25, "well_formed": 100}
    )
    # An ill-formed output adds its gold brackets (S 0-2, NP 0-1) and nothing
    # else: 1 match of 4 predicted and 6 gold brackets.
    scores = bracket_scores([wrong, "(S (NP XX"], [gold, "(S (NP XX) XX)"])
    assert scores == pytest.approx(
        {"exact": 0, "precision": 25, "recall": 100 / 6, "f1": 20, "well_formed": 50}
    )
    # A unary chain: one of the two S brackets found.
    scores = bracket_scores(["(S XX)"], ["(S (S XX))"])
    assert (scores["precision"], scores["recall"]) == (100.0, 50.0)
