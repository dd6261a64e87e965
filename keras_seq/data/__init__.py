"""Data: sources (fetch, check, extract, cache), vocabularies, tf.data pipelines.

Submodules import TensorFlow only where they build pipelines
(`keras_seq.data.pipelines`); fetching and parsing sources does not.
"""
