import dataclasses

import pytest

from keras_seq.config import (
    TrainingConfig,
    apply_overrides,
    from_json,
    option,
    parse_overrides,
    to_json,
)
from keras_seq.errors import UserError


@dataclasses.dataclass(frozen=True)
class ExampleConfig(TrainingConfig):
    cell: str = option("gru", choices=("rnn", "gru", "lstm"))
    units: int = option(8, minimum=1)
    dropout: float = option(0.0, minimum=0.0, maximum=0.9)
    bidirectional: bool = option(False)


def test_overrides_are_coerced_to_the_field_type():
    config = apply_overrides(
        ExampleConfig(),
        parse_overrides(
            [
                "units=16",
                "dropout=0.5",
                "bidirectional=true",
                "cell=lstm",
                "learning_rate=1e-2",
                "data=file:x=y.txt",
            ]
        ),
    )
    assert config.units == 16 and config.dropout == 0.5
    assert config.bidirectional is True and config.cell == "lstm"
    assert config.learning_rate == 0.01 and config.data == "file:x=y.txt"


def test_an_int_is_accepted_for_a_float_field():
    assert apply_overrides(ExampleConfig(), {"dropout": "0"}).dropout == 0.0


@pytest.mark.parametrize(
    "pair, message",
    [
        ("units=eight", "`units` must be of type int. Received: units='eight'"),
        ("bidirectional=maybe", "must be a boolean"),
        ("cell=transformer", "`cell` must be one of ['rnn', 'gru', 'lstm']"),
        ("units=0", "`units` must be at least 1. Received: units=0"),
        ("dropout=0.95", "`dropout` must be at most 0.9"),
        ("colour=red", "Unknown setting 'colour'"),
        ("units", "`--set` takes KEY=VALUE. Received: 'units'"),
    ],
)
def test_bad_overrides_say_what_was_received(pair, message):
    with pytest.raises(UserError) as error:
        apply_overrides(ExampleConfig(), parse_overrides([pair]))
    assert message in str(error.value)


def test_unknown_key_lists_the_allowed_ones():
    with pytest.raises(UserError, match="Allowed: .*units"):
        apply_overrides(ExampleConfig(), {"colour": "red"})


def test_json_round_trip():
    config = ExampleConfig(units=3, cell="rnn")
    assert from_json(ExampleConfig, to_json(config)) == config


def test_tiny_sets_the_small_values_a_config_has_and_changes_win():
    from keras_seq.config import tiny

    small = tiny(ExampleConfig(units=256, epochs=30), epochs=1)
    # ExampleConfig has no embedding_dim or beam_width: they are left out.
    assert (small.units, small.epochs, small.batch_size) == (8, 1, 8)
    assert small.cell == "gru"


def test_shared_fields_keep_their_checks():
    from keras_seq import config as config_lib

    @dataclasses.dataclass(frozen=True)
    class Shared(TrainingConfig):
        batch_size: int = config_lib.batch_size(4, "images")
        dropout: float = config_lib.dropout(0.1)

    field = {f.name: f for f in dataclasses.fields(Shared)}["batch_size"]
    assert field.metadata["help"] == "images per batch"
    with pytest.raises(UserError, match="dropout"):
        apply_overrides(Shared(), {"dropout": "0.99"})
    assert Shared().batch_size == 4
