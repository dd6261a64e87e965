import pytest

from keras_seq.data import parallel
from keras_seq.errors import UserError

DING = """\
# Version :: 1.9
Abendessen {n} | Das Abendessen hat mir geschmeckt. :: supper | I enjoyed my supper.
Hunger {m} | Ich habe Hunger. | Hunger! :: hunger | I am hungry. | Hungry!
Geht es? :: Is it okay?
ungleich | Eins. | Zwei. :: unequal | One.
Ja. :: Yes, sir.
Wie spät ist es? :: What time is it?
"""


def test_ding_keeps_aligned_sentences():
    assert parallel.parse_ding(DING) == [
        ("Das Abendessen hat mir geschmeckt.", "I enjoyed my supper."),
        ("Ich habe Hunger.", "I am hungry."),
        ("Geht es?", "Is it okay?"),
        ("Wie spät ist es?", "What time is it?"),
    ]


def test_ding_phrases_drop_notes_sentences_and_synonyms():
    text = DING + (
        "Aal {m} [cook.] | Aal blau; blauer Aal :: eel | eel au bleu; blue eel\n"
        "ein sehr langer Ausdruck mit vielen Wörtern :: a phrase\n"
    )
    assert parallel.parse_ding_phrases(text) == [
        ("Abendessen", "supper"),
        ("Hunger", "hunger"),
        ("Aal", "eel"),
        ("Aal blau", "eel au bleu"),
    ]


def test_tsv_pairs_and_errors(tmp_path):
    good = tmp_path / "pairs.tsv"
    good.write_text("Hallo Welt.\tHello world.\n\nJa.\tYes.\n")
    assert parallel._tsv(str(good)) == [
        ("Hallo Welt.", "Hello world."),
        ("Ja.", "Yes."),
    ]
    bad = tmp_path / "bad.tsv"
    bad.write_text("no tab here\n")
    with pytest.raises(UserError, match="line 1 must be source<TAB>target"):
        parallel._tsv(str(bad))
    with pytest.raises(UserError, match="Unknown data source 'europarl'"):
        parallel.load_pairs("europarl")


@pytest.mark.data
def test_ding_source():
    pairs = parallel.load_pairs("ding_de_en")
    assert 18_000 < len(pairs) < 21_000
    assert ("Das Abendessen hat mir geschmeckt.", "I enjoyed my supper.") in pairs
