"""keras-seq: recurrent sequence models in Keras 3.

The package is split the way its users meet it:

- `keras_seq.run(task, ...)` and `keras_seq.load(path)`: what the
  `keras-seq` command does, from Python (`keras_seq.api`);
- `keras_seq.layers`: reusable layers (`rnn_stack` and its fused CPU loop,
  attention, pointer, residual and dense blocks), written with `keras.ops`
  so that they run on every Keras 3 backend;
- `keras_seq.losses`: the token cross-entropy with label smoothing and
  padding left out (`keras.ops` only as well);
- `keras_seq.data`, `keras_seq.decoding`, `keras_seq.inference`,
  `keras_seq.training`, `keras_seq.export`: the TensorFlow side shared by
  the tasks (sources and tf.data pipelines, in-graph decoding loops and the
  module that runs them, the fit harness, SavedModel export);
- the `keras-seq` command, which runs the tasks of the top-level `tasks`
  package by name.

Importing `keras_seq` itself imports neither TensorFlow nor Keras.
"""

__version__ = "0.1.0"


def run(
    task: str, preset: str = "default", output=None, strategy="default", **settings
):
    """Trains, evaluates and exports a task; see `keras_seq.api.run`."""
    from keras_seq import api

    return api.run(task, preset=preset, output=output, strategy=strategy, **settings)


def load(path, **settings):
    """A run folder or a SavedModel; see `keras_seq.api.load`."""
    from keras_seq import api

    return api.load(path, **settings)
