"""Shared test helpers: tiny corpora, fresh processes, a quiet TensorFlow."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

PROJECT = Path(__file__).resolve().parents[1]

TINY_PLAY = """\
ROMEO:
But, soft! what light through yonder window breaks?
It is the east, and Juliet is the sun.

JULIET:
O Romeo, Romeo! wherefore art thou Romeo?
Deny thy father and refuse thy name.

"""


@pytest.fixture
def tiny_corpus(tmp_path: Path) -> Path:
    """A small play-like UTF-8 text file, long enough for the tiny preset."""
    path = tmp_path / "play.txt"
    path.write_text(TINY_PLAY * 60, encoding="utf-8")
    return path


def run_python(
    code: str, *, env: dict[str, str] | None = None, timeout: float = 300
) -> subprocess.CompletedProcess:
    """Runs `code` in a fresh Python process of this interpreter."""
    environment = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", **(env or {})}
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        env=environment,
        timeout=timeout,
        cwd=PROJECT,
    )


def keras_seq_command(
    *args: str, env: dict[str, str] | None = None, timeout: float = 300
) -> subprocess.CompletedProcess:
    """Runs `python -m keras_seq ARGS` in a fresh process."""
    environment = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", **(env or {})}
    return subprocess.run(
        [sys.executable, "-m", "keras_seq", *args],
        capture_output=True,
        text=True,
        env=environment,
        timeout=timeout,
        cwd=PROJECT,
    )


# One tiny run of every task per session, shared by the task's own tests,
# the contract test and the API test (each run trains, evaluates and
# exports once).
class TinyRuns:
    """`keras_seq.run(TASK, preset="tiny")` on the task's tiny data, made
    the first time a test asks for it; generated data is cached under
    `data_home`, which the tests that load data again should point
    `KERAS_SEQ_DATA` at."""

    def __init__(self, folder: Path):
        self.folder = folder
        self.data_home = folder / "cache"
        self._runs = {}

    def __call__(self, task: str):
        from keras_seq import api
        from tests.tasks import tiny_data

        if task not in self._runs:
            with pytest.MonkeyPatch.context() as patch:
                patch.setenv("KERAS_SEQ_DATA", str(self.data_home))
                try:
                    self._runs[task] = api.run(
                        task,
                        preset="tiny",
                        output=self.folder / task,
                        **tiny_data.settings(task, self.folder / "data" / task),
                    )
                except Exception as error:  # every test of the task reports it
                    self._runs[task] = error
        found = self._runs[task]
        if isinstance(found, Exception):
            raise found
        return found


@pytest.fixture(scope="session")
def tiny_runs(tmp_path_factory):
    return TinyRuns(tmp_path_factory.mktemp("tiny_runs"))


def pytest_itemcollected(item):
    """Under pytest-xdist (`--dist loadgroup`, the suite's default), every
    test that needs a tiny task run goes to the same worker, so each run is
    made once; the other tests spread over the workers."""
    if "tiny_runs" in getattr(item, "fixturenames", ()):
        item.add_marker(pytest.mark.xdist_group("tiny_runs"))
