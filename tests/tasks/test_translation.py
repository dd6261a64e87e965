"""translation end to end at the tiny preset."""

import json

import keras
import numpy as np
import pytest
import tensorflow as tf

from keras_seq import cli
from keras_seq.config import apply_overrides
from keras_seq.data.vocabulary import END_ID, START_ID
from tasks import translation
from tests.tasks import tiny_data


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    return tiny_data.pairs(tmp_path_factory.mktemp("translation"))


# The settings load_data reads: tests that differ only in the model share
# the data (tracing its pipelines costs seconds).
DATA_FIELDS = ("data", "tokens", "limit", "direction", "max_vocabulary", "max_tokens")
DATA_FIELDS += ("phrases", "fresh_phrases", "batch_size", "seed")
_loaded = {}


def _load(config):
    key = tuple(getattr(config, field) for field in DATA_FIELDS)
    if key not in _loaded:
        _loaded[key] = translation.load_data(config)
    return _loaded[key]


@pytest.fixture(scope="module")
def tiny_run(tiny_runs):
    return tiny_runs("translation").folder


def test_run_reports_bleu(tiny_run):
    metrics = json.loads((tiny_run / "metrics.json").read_text())
    assert 0 <= metrics["bleu_greedy"] <= 100 and 0 <= metrics["bleu_beam"] <= 100
    assert metrics["test_pairs"] == 6


@pytest.mark.parametrize("input_feeding", [False, True])
@pytest.mark.parametrize("attention", ["dot", "additive"])
def test_attention_weights_over_padded_source_positions_are_zero(
    corpus, attention, input_feeding
):
    config = apply_overrides(
        translation.PRESETS["tiny"],
        {
            "data": f"file:{corpus}",
            "attention": attention,
            "input_feeding": str(input_feeding).lower(),
        },
    )
    data = _load(config)
    pieces = translation.build_model(config, data)
    source = tf.constant([[5, 6, 7, 0, 0], [5, 6, 7, 8, 9]], tf.int32)
    encoder_sequence, *states = pieces.encoder(source)
    _, weights, *_ = pieces.step(
        [
            tf.fill([2, 1], START_ID),
            source,
            encoder_sequence,
            *states,
        ]
    )
    weights = np.asarray(weights)[:, 0]
    assert np.all(weights[0, 3:] == 0)
    np.testing.assert_allclose(weights.sum(-1), [1, 1], rtol=1e-5)


@pytest.mark.parametrize(
    "tokens, input_feeding, lexical, copy",
    [
        ("word", False, False, False),
        ("subword", False, False, False),
        ("subword", True, False, False),
        ("subword", False, True, False),
        ("subword", True, True, True),
    ],
)
def test_training_and_inference_pieces_agree(
    corpus, tokens, input_feeding, lexical, copy
):
    config = apply_overrides(
        translation.PRESETS["tiny"],
        {
            "data": f"file:{corpus}",
            "tokens": tokens,
            "input_feeding": input_feeding,
            "lexical": lexical,
            "copy": copy,
        },
    )
    data = _load(config)
    pieces = translation.build_model(config, data)
    inputs, _ = next(iter(data.train))
    source, target_in = inputs["source"][:2], inputs["target_in"][:2]
    full = pieces.model([source, target_in])
    encoder_sequence, *states = pieces.encoder(source)
    for t in range(target_in.shape[1]):
        logits, _, *states = pieces.step(
            [target_in[:, t : t + 1], source, encoder_sequence, *states]
        )
        np.testing.assert_allclose(logits[:, 0], full[:, t], rtol=1e-4, atol=1e-4)


def test_empty_and_unknown_sentences_translate(corpus):
    config = apply_overrides(translation.PRESETS["tiny"], {"data": f"file:{corpus}"})
    data = _load(config)
    translator = translation.Translator(
        config, translation.build_model(config, data), data
    )
    texts = tf.constant(["Ich habe Hunger.", "", "Xyzzy quux."])
    for translate in (translator.translate, translator.translate_greedy):
        assert translate(texts).shape == (3,)
    found = translator.attention(texts[:1], tf.constant(["I am hungry."]))
    # The forced translation's pieces and the end mark, over the source.
    assert found["weights"].shape[:2] == (1, 5)


def test_predict_plots_attention(tiny_run, tmp_path, capsys):
    picture = tmp_path / "attention.png"
    assert (
        cli.main(
            [
                "predict",
                "translation",
                "--model",
                str(tiny_run),
                "Ich habe Hunger.",
                "--plot-attention",
                str(picture),
            ]
        )
        == 0
    )
    assert capsys.readouterr().out.startswith("Ich habe Hunger. -> ")
    assert picture.stat().st_size > 5_000


def test_loading_through_the_registry_fixes_the_data_order(corpus):
    # A seeded tf.data shuffle also depends on the global seed of the moment;
    # registry.load_data sets it from the config, whatever was set before.
    from keras_seq import registry

    config = apply_overrides(translation.PRESETS["tiny"], {"data": f"file:{corpus}"})

    def first_batch(global_seed, load):
        keras.utils.set_random_seed(global_seed)
        inputs, _ = next(iter(load().train))
        return inputs["source"].numpy()

    def through_registry():
        return registry.load_data(translation, config)

    def directly():
        return translation.load_data(config)

    np.testing.assert_array_equal(
        first_batch(1, through_registry), first_batch(2, through_registry)
    )
    assert not np.array_equal(first_batch(1, directly), first_batch(2, directly))


def test_phrases_of_a_source_without_a_dictionary_are_skipped(corpus, capsys):
    config = apply_overrides(
        translation.PRESETS["tiny"], {"data": f"file:{corpus}", "phrases": 100}
    )
    data = translation.load_data(config)
    assert data.train_size == 48
    assert "no phrases added" in capsys.readouterr().out


def test_beam_search_with_coverage_penalty(corpus):
    config = apply_overrides(
        translation.PRESETS["tiny"],
        {"data": f"file:{corpus}", "coverage_penalty": 5.0, "beam_width": 1},
    )
    data = _load(config)
    pieces = translation.build_model(config, data)
    texts = tf.constant(["Ich habe Hunger.", "Das Auto ist alt.", ""])
    translator = translation.Translator(config, pieces, data)
    # One beam has nothing to rank: the penalty leaves greedy's choice.
    np.testing.assert_array_equal(
        translator.translate(texts), translator.translate_greedy(texts)
    )
    # The decoding state sums each step's attention: after k steps every
    # row holds k over its real source pieces and 0 on padding.
    step_fn, tokens, state, _ = translator.start(texts[:2], coverage=True)
    for _ in range(3):
        logits, state = step_fn(tokens, state)
        tokens = tf.argmax(logits, -1, output_type=tf.int32)
    padded = state["source"] == 0
    assert padded.numpy().any()
    np.testing.assert_allclose(
        tf.reduce_sum(state["coverage"], -1), [3.0, 3.0], rtol=1e-5
    )
    np.testing.assert_array_equal(tf.boolean_mask(state["coverage"], padded), 0.0)


@pytest.mark.parametrize("lexical, copy", [(False, False), (True, True)])
def test_a_reloaded_model_decodes_as_the_trained_one(corpus, tmp_path, lexical, copy):
    config = apply_overrides(
        translation.PRESETS["tiny"],
        {"data": f"file:{corpus}", "lexical": lexical, "copy": copy},
    )
    data = _load(config)
    pieces = translation.build_model(config, data)
    assert any(layer.name == "lexical" for layer in pieces.model.layers) == lexical
    pieces.model.save(tmp_path / "model.keras")
    reloaded = translation.from_saved(
        config, keras.saving.load_model(tmp_path / "model.keras")
    )
    if copy:  # the map from source to target ids is saved with the model
        saved = reloaded.model.get_layer("copy").vocabulary_map.numpy()
        assert saved.tolist() == translation.vocabulary_map(data)
        assert (saved >= 0).sum() > 10
    inputs, _ = next(iter(data.train))
    source, target_in = inputs["source"][:2], inputs["target_in"][:2]
    memory, *states = reloaded.encoder(source)
    logits, *_ = reloaded.step([target_in[:, :1], source, memory, *states])
    full = pieces.model([source, target_in])
    np.testing.assert_allclose(logits[:, 0], full[:, 0], rtol=1e-4, atol=1e-4)


def test_a_copying_translator_emits_only_source_tokens(corpus):
    config = apply_overrides(
        translation.PRESETS["tiny"], {"data": f"file:{corpus}", "copy": True}
    )
    data = _load(config)
    pieces = translation.build_model(config, data)
    gate = pieces.model.get_layer("copy").gate
    kernel, _ = gate.get_weights()
    gate.set_weights([np.zeros_like(kernel), np.array([-30.0])])  # always copy
    translator = translation.Translator(config, pieces, data)
    sentence = tf.constant(["Das Auto ist neu."])
    tokens, lengths = translator.greedy(translator.start(sentence))
    emitted = set(tokens[0, : int(lengths[0])].numpy().tolist()) - {END_ID}
    source_ids = translator.source_tokens.split(sentence)[0].to_list()[0]
    mapping = np.array(translation.vocabulary_map(data))
    copyable = set(mapping[source_ids].tolist()) - {-1}
    assert emitted and copyable and emitted <= copyable, (emitted, copyable)


def test_the_copy_path_offers_dictionary_senses(corpus, monkeypatch, tmp_path):
    from keras_seq.data.parallel import WordLookup
    from keras_seq.errors import UserError

    lookup = WordLookup({"Haus": "house", "Auto": "the car", "neu": "new"})
    monkeypatch.setattr(translation.parallel, "ding_lookup", lambda: lookup)
    config = apply_overrides(
        translation.PRESETS["tiny"],
        {"data": f"file:{corpus}", "copy": True, "copy_dictionary": True},
    )
    data = _load(config)
    pieces = translation.build_model(config, data)
    pieces.model.save(tmp_path / "model.keras")
    copy = keras.saving.load_model(tmp_path / "model.keras").get_layer("copy")
    ids, weights = copy.vocabulary_map.numpy(), copy.candidate_weights.numpy()
    source = {symbol: i + 2 for i, symbol in enumerate(data.source_vocabulary.symbols)}
    target = {symbol: i + 2 for i, symbol in enumerate(data.target_vocabulary.symbols)}
    # "haus" is not an English piece: its one candidate is "house";
    # "the car" is offered as "car" (the article dropped).
    assert ids[source["haus"]].tolist() == [-1, target["house"]]
    assert weights[source["haus"]].tolist() == [0.0, 1.0]
    assert ids[source["auto"]].tolist() == [-1, target["car"]]
    # A word the lookup lacks keeps its own candidate only.
    assert ids[source["ist"]][1] == -1
    np.testing.assert_allclose(weights[ids[:, 0] >= 0].sum(-1), 1.0)
    with pytest.raises(UserError, match="needs copy=true and direction=forward"):
        translation.build_model(apply_overrides(config, {"copy": False}), data)


def test_copy_without_attention_is_refused(corpus):
    from keras_seq.errors import UserError

    config = apply_overrides(
        translation.PRESETS["tiny"],
        {"data": f"file:{corpus}", "copy": True, "attention": "none"},
    )
    with pytest.raises(UserError, match="needs attention=dot or additive"):
        translation.build_model(config, _load(config))


@pytest.mark.parametrize("fresh", [False, True])
def test_fresh_phrases_are_drawn_anew_every_epoch(corpus, monkeypatch, fresh):
    from keras_seq.data import parallel

    sentences = parallel.load_pairs(f"file:{corpus}")
    phrases = [(f"wort{i} nummer", f"word{i} number") for i in range(200)]
    monkeypatch.setattr(parallel, "load_pairs", lambda name: sentences)
    monkeypatch.setattr(parallel, "phrase_pairs", lambda reverse, seed: phrases)
    config = apply_overrides(
        translation.PRESETS["tiny"],
        {"phrases": 20, "fresh_phrases": str(fresh).lower(), "batch_size": 8},
    )
    data = translation.load_data(config)
    assert data.train_size == 48 + 20

    def epoch():
        rows = set()
        for inputs, _ in data.train:
            # Without the padding, which depends on the batch's longest row.
            rows |= {tuple(np.trim_zeros(row, "b")) for row in inputs["source"].numpy()}
        return rows

    first, second = epoch(), epoch()
    assert len(first) == len(second)  # as many pairs every epoch
    assert (first != second) == fresh


@pytest.mark.parametrize("take", [None, 40])
def test_sorted_training_batches_hold_pairs_of_alike_lengths(take):
    from keras_seq.data.tokens import Tokenizer, sentence_vocabulary

    lengths = [1 + (7 * i) % 12 for i in range(48)]
    pairs = [(" ".join(["ein"] * n), " ".join(["one"] * n)) for n in lengths]
    tokenizers = [
        Tokenizer(
            sentence_vocabulary([pair[side] for pair in pairs], "word", 10), False, 20
        )
        for side in (0, 1)
    ]
    config = apply_overrides(translation.PRESETS["tiny"], {"batch_size": 8})
    batches = translation.pair_batches(
        pairs, tokenizers, config, True, take=take, sort=True
    )
    spans = []
    for inputs, targets in batches:
        rows = (inputs["source"].numpy() != 0).sum(axis=1)
        spans.append((rows.min(), rows.max()))
        np.testing.assert_array_equal((targets.numpy() != 0).sum(axis=1), rows + 1)
    # Every pair (of the `take`) once; a run of 32 batches holds all 48
    # pairs, so batches are consecutive stretches of the sorted lengths.
    assert len(batches) == -(-(take or 48) // 8)
    assert sum(1 for _ in batches.unbatch()) == (take or 48)
    spans.sort()
    assert all(high <= low for (_, high), (low, _) in zip(spans, spans[1:]))
    assert spans[0][0] == 1 and spans[-1][1] == 12
