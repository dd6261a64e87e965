"""keras-seq: recurrent sequence models in Keras 3.

The package is split the way its users meet it:

- `keras_seq.layers`: reusable layers (`rnn_stack`, attention, pointer,
  residual and dense blocks), written with `keras.ops` only so that they run
  on every Keras 3 backend;
- `keras_seq.losses`: the token cross-entropy with label smoothing and
  padding left out (`keras.ops` only as well);
- `keras_seq.data`, `keras_seq.decoding`, `keras_seq.training`,
  `keras_seq.export`: the TensorFlow side shared by the tasks (sources and
  tf.data pipelines, in-graph decoding loops, the fit harness, SavedModel
  export);
- the `keras-seq` command, which runs the tasks of the top-level `tasks`
  package by name.

Importing `keras_seq` itself imports neither TensorFlow nor Keras.
"""

__version__ = "0.1.0"
