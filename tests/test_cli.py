from keras_seq import cli
from tests.conftest import keras_seq_command


def test_list_shows_every_task_with_data_and_presets(capsys):
    assert cli.main(["list"]) == 0
    out = capsys.readouterr().out
    for task in ("char_generation", "text_classification", "adding", "copy"):
        assert task in out
    assert "data: shakespeare" in out
    assert "presets: tiny, default, paper" in out


def test_list_verbose_shows_settings(capsys):
    assert cli.main(["list", "-v"]) == 0
    out = capsys.readouterr().out
    assert "cell='gru' (rnn|gru|lstm)" in out


def test_python_dash_m_is_the_same_command():
    result = keras_seq_command("list")
    assert result.returncode == 0, result.stderr
    assert "char_generation" in result.stdout
    # TensorFlow's start-up chatter is kept off the terminal.
    assert result.stderr.strip() == ""


def test_unknown_arguments_are_one_line(capsys):
    assert cli.main(["list", "--colour"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == ["keras-seq: error: unrecognized arguments: --colour"]
