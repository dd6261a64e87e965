"""SavedModel export: endpoints written atomically, and found again."""

import shutil
from pathlib import Path

import keras
import numpy as np
import pytest
import tensorflow as tf

from keras_seq import export


@pytest.fixture
def endpoints():
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])

    def double(values):
        return {"doubled": 2 * model(values)}

    spec = tf.TensorSpec([None, 3], tf.float32, name="values")
    return export.Endpoints(functions={"double": (double, [spec])}, track=[model])


def test_endpoints_are_written_and_serve(endpoints, tmp_path):
    path = export.write_endpoints(endpoints, tmp_path / "saved_model")
    served = tf.saved_model.load(str(path))
    values = np.ones((2, 3), np.float32)
    function, _ = endpoints.functions["double"]
    np.testing.assert_allclose(
        served.double(values=values)["doubled"], function(values)["doubled"]
    )


def test_export_replaces_the_old_model_only_when_complete(endpoints, tmp_path):
    target = export.write_endpoints(endpoints, tmp_path / "saved_model")
    before = (target / "saved_model.pb").read_bytes()

    class InterruptedArchive:
        """Writes half a model, then fails, as a full disk or a kill would."""

        def write_out(self, path, **kwargs):
            Path(path).mkdir(parents=True)
            (Path(path) / "saved_model.pb").write_bytes(b"half")
            raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        export.write_atomically(InterruptedArchive(), target)
    assert (target / "saved_model.pb").read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["saved_model"]


def test_a_swap_interrupted_between_renames_is_recovered(endpoints, tmp_path):
    written = export.write_endpoints(endpoints, tmp_path / "written")
    shutil.copytree(written, tmp_path / "run" / ".saved_model.previous")
    assert export.saved_model_path(tmp_path / "run") == tmp_path / "run" / "saved_model"
    assert (tmp_path / "run" / "saved_model" / "saved_model.pb").is_file()
