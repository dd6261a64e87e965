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


LOOKUP_DING = """\
# Version :: 1.9
Buchstabe {m} | Buchstaben {pl} :: letter | letters
Buchstabe {m}; Schriftzeichen {n} [print] | Buchstaben {pl} :: character | characters
der {art} (des; dem; den) :: the
die; das {art} :: the
Ich {n} [psych.] :: ego
ich {ppron} | ich bin :: I | I am
Spinne {f} [zool.]; Weberknecht {m} :: spider; arachnid
Weberknecht {m} (langer Eintrag, der zweite Sinn) :: harvestman
"""


def test_word_lookup_takes_the_first_sense_of_the_shortest_entry():
    lookup = parallel.WordLookup.from_ding(LOOKUP_DING)
    # The shorter of the two Buchstabe entries; a synonym's own entry wins
    # over its place as a second synonym of a shorter one.
    assert lookup.word("Buchstabe") == "letter"
    assert lookup.word("Weberknecht") == "harvestman"
    assert lookup.word("Schriftzeichen") == "character"
    # First words are looked up in lower case first; unknown words copied.
    assert lookup.translate("Der Buchstabe P.") == "the letter P."
    assert lookup.translate("Ich, die Spinne!") == "I, the spider!"
    assert lookup.translate("Das Ich") == "the ego"
    assert lookup.translate("") == ""


def _catalogue(messages: dict[str, str], charset: str = "UTF-8") -> bytes:
    """A compiled gettext catalogue (.mo) of `messages`, msgid to msgstr,
    encoded in `charset`; a header entry naming it comes first."""
    import struct

    messages = {"": f"Content-Type: text/plain; charset={charset}\n", **messages}
    keys = sorted(messages)
    encoded = [(key.encode(charset), messages[key].encode(charset)) for key in keys]
    ids = b"".join(key + b"\0" for key, _ in encoded)
    strings = b"".join(value + b"\0" for _, value in encoded)
    offset = 7 * 4 + 16 * len(keys)
    id_table, string_table = b"", b""
    for key, _ in encoded:
        id_table += struct.pack("<2I", len(key), offset)
        offset += len(key) + 1
    for _, value in encoded:
        string_table += struct.pack("<2I", len(value), offset)
        offset += len(value) + 1
    header = struct.pack("<7I", 0x950412DE, 0, len(keys), 28, 28 + 8 * len(keys), 0, 0)
    return header + id_table + string_table + ids + strings


def test_messages_keep_plain_sentences_of_a_catalogue():
    catalogue = _catalogue(
        {
            "Cannot update the archive": "Kann das Archiv nicht aktualisieren",
            "%s: invalid option": "%s: ungültige Option",
            "use FILE as input": "DATEI als Eingabe benutzen",
            "too short": "zu kurz",
            "Not translated at all": "",
        }
    )
    assert parallel.parse_messages(catalogue) == [
        ("DATEI als Eingabe benutzen", "use FILE as input"),
        (
            "Kann das Archiv nicht aktualisieren",
            "Cannot update the archive",
        ),
    ]


def test_catalogues_are_read_in_their_own_charset():
    # A Latin-1 header and messages; plural forms and messages in a context
    # are left out.
    catalogue = _catalogue(
        {
            "Cannot open the file": "Kann die Datei nicht öffnen",
            "one file was removed\0many files were removed": "eine\0viele",
            "menu\x04Open the file now": "Datei jetzt öffnen",
        },
        charset="ISO-8859-1",
    )
    assert "ö".encode("latin-1") in catalogue
    assert parallel.read_catalogue(catalogue) == {
        "Cannot open the file": "Kann die Datei nicht öffnen"
    }
    with pytest.raises(ValueError, match="magic"):
        parallel.read_catalogue(b"\0" * 40)


def test_catalogue_pairs_leave_out_what_the_development_set_has(monkeypatch):
    catalogues = {
        "first": [_catalogue({"Cannot open the file": "Kann Datei nicht öffnen"})],
        "second": [
            _catalogue(
                {
                    "Memory is exhausted now": "Der Speicher ist erschöpft",
                    "Write the error out": "Schreibfehler jetzt ausgeben",
                    "Read all of the input": "Die ganze Eingabe lesen",
                }
            )
        ],
    }
    monkeypatch.setattr(parallel, "_german_catalogues", catalogues.__getitem__)
    development = [
        ("Speicher erschöpft", "memory is exhausted now"),
        ("Schreibfehler jetzt ausgeben", "Could not write"),
    ]
    assert parallel.catalogue_pairs(development, ("first", "second")) == [
        ("Die ganze Eingabe lesen", "Read all of the input"),
        ("Kann Datei nicht öffnen", "Cannot open the file"),
    ]
