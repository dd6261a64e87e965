"""The tasks keras-seq runs by name.

Every module here has the same contract, so that knowing one task means
knowing all of them (see DESIGN.md):

- `DESCRIPTION`: one line for `keras-seq list`;
- `Config`: a frozen dataclass derived from `keras_seq.config.TrainingConfig`;
  `PRESETS = {"tiny": ..., "default": ..., "paper": ...}`;
- `load_data(config)`: the train/validation/test datasets and what the model
  needs from the data (vocabularies, sizes);
- `build_model(config, data)`: the compiled training model and, for
  generative tasks, the inference pieces built from the same layer objects;
- `train(config, model, data, output_dir, callbacks)`: the shared harness
  (`keras_seq.training.fit`) with the task's steps;
- `from_saved(config, model)`: the same pieces around a model loaded from
  `model.keras`;
- `evaluate(config, model, data, output_dir=None)`: a dict of named
  metrics (and, given a folder, the task's plots of them);
- `show(config, model, data)`: samples or predictions printed after a run;
- `export(config, model, data, path)`: the SavedModel endpoints;
- `predict(saved_model_path, inputs, options)`: what `keras-seq predict`
  prints.

Tasks are found through the `keras_seq.tasks` entry points of the installed
distribution (see setup.cfg), so the library never imports a task by name.
"""
