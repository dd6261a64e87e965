"""One tiny run of every task per session, shared by the task's own tests
and the contract test (each run trains, evaluates and exports once)."""

from pathlib import Path

import pytest

from tests.tasks import tiny_data


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
