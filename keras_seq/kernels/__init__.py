"""Fused kernels behind the layers, one module per backend that has them.

`keras_seq.layers` calls these when the running backend and device allow it
and falls back to the stock Keras code otherwise; nothing here is needed to
build, save or load a model.
"""
