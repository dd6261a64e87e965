import pytest

from keras_seq.data import labelled
from keras_seq.errors import UserError


def test_vader_ratings_keep_clear_opinions_labelled_by_sign():
    text = (
        "1\t2.26666666667\tThe Rock is destined to be great.\r\n"
        "2\t-0.6\tEffective but too tepid biopic\r\n"
        "3\t0.4\tNeither here nor there.\r\n"
        "4\t-0.5\tExactly on the threshold.\r\n"
    )
    data = labelled.parse_vader_ratings(text)
    assert data.texts == [
        "The Rock is destined to be great.",
        "Effective but too tepid biopic",
    ]
    assert data.labels == ["positive", "negative"]


def test_vader_ratings_errors_name_the_line():
    with pytest.raises(UserError, match="Rating line 1 has no numeric rating"):
        labelled.parse_vader_ratings("1\tgood\ttext\n")
    with pytest.raises(UserError, match="Rating line 2 must be"):
        labelled.parse_vader_ratings("1\t1.0\ttext\nbroken line\n")


def test_fortune_entries_are_split_on_percent_lines():
    text = "First entry,\non two lines.\n%\nSecond.\n%\n%\n  \n%\nThird.\n"
    assert labelled.parse_fortunes(text) == [
        "First entry,\non two lines.",
        "Second.",
        "Third.",
    ]


def test_labelled_files_csv_and_tsv(tmp_path):
    csv_file = tmp_path / "data.csv"
    csv_file.write_text('text,label\n"Good, really",pos\nBad,neg\n')
    data = labelled.parse_labelled_file(str(csv_file))
    assert data.texts == ["Good, really", "Bad"] and data.labels == ["pos", "neg"]
    tsv_file = tmp_path / "data.tsv"
    tsv_file.write_text("Good\tpos\nBad\tneg\n")
    assert labelled.parse_labelled_file(str(tsv_file)).labels == ["pos", "neg"]
    bad = tmp_path / "bad.csv"
    bad.write_text("only one column\n")
    with pytest.raises(UserError, match="row 1 must have 2 columns"):
        labelled.parse_labelled_file(str(bad))
    one_label = tmp_path / "one.csv"
    one_label.write_text("a,x\nb,x\n")
    with pytest.raises(UserError, match="at least 2 labels"):
        labelled.load_labelled(f"file:{one_label}")


def test_splits_are_fixed_and_disjoint():
    first = labelled.split_indices(100, seed=3)
    assert first == labelled.split_indices(100, seed=3)
    assert [len(first[name]) for name in ("train", "validation", "test")] == [
        80,
        10,
        10,
    ]
    assert sorted(sum(first.values(), [])) == list(range(100))
    assert first != labelled.split_indices(100, seed=4)


@pytest.mark.data
def test_movie_sentences_source():
    data = labelled.load_labelled("movie_sentences")
    assert len(data.texts) == 10_043
    assert 4900 < data.labels.count("positive") < 5100


@pytest.mark.data
def test_fortunes_source():
    data = labelled.load_labelled("fortunes")
    assert 13_000 < len(data.texts) < 16_000
    assert 30 <= len(set(data.labels)) <= 45


def test_vader_lexicon_lines():
    text = "good\t1.9\t0.9\t[2, 2]\r\nbad\t-2.5\t0.5\t[-3, -2]\r\n:)\t2.0\t1.0\t[2]\r\n"
    assert labelled.parse_vader_lexicon(text) == {"good": 1.9, "bad": -2.5, ":)": 2.0}
