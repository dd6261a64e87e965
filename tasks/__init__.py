"""The tasks keras-seq runs by name.

Every task has the same contract (`keras_seq.registry.CONTRACT`), so that
knowing one task means knowing all of them:

- `DESCRIPTION`, `DATA_SOURCES`, `PRIMARY_METRIC`;
- `Config`: a frozen dataclass derived from `keras_seq.config.TrainingConfig`;
  `PRESETS = {"tiny": ..., "default": ..., "paper": ...}`;
- `load_data(config)`: the train/validation/test datasets and what the model
  needs from the data (vocabularies, sizes);
- `build_model(config, data)`: a `keras_seq.inference.Pieces`, the compiled
  training model and, for generative tasks, the encoder and step built from
  the same layer objects;
- `from_saved(config, model)`: the same pieces around a model loaded from
  `model.keras`;
- `train(config, pieces, data, output_dir, callbacks=())`: the shared
  harness (`keras_seq.training.fit_task`) with the task's steps;
- `evaluate(config, pieces, data, output_dir=None)`: a dict of named
  metrics (and, given a folder, the task's plots of them);
- `show(config, pieces, data)`: samples or predictions printed after a run;
- `export(config, pieces, data, path)`: the SavedModel endpoints;
- `examples(config, data, count)`: inputs for every endpoint, from the data;
- `predict(saved_model, inputs, options)`: what `keras-seq predict` prints;
- optionally `PREDICT_OPTIONS`, `METRIC_LABELS` and `probe` (for
  `keras-seq gradients`).

A generative task's decoder is a `keras_seq.inference.Decoder` that supplies
only how decoding starts. Families share a module: `_pointer.PointerTask`
(tsp, convex_hull) and `_long_memory.LongMemoryTask` (adding, copy), which a
task module subclasses with its problem and registers as `TASK`.

Tasks are found through the `keras_seq.tasks` entry points of the installed
distribution (see setup.cfg), so the library never imports a task by name.
"""
