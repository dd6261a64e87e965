"""Layers anyone can reuse in their own Keras 3 models, on any backend."""

from keras_seq.layers.attention import (
    AdditiveAttention,
    AttentionPooling,
    DotAttention,
    PointerAttention,
)
from keras_seq.layers.blocks import dense_block, residual_block
from keras_seq.layers.decoder import InputFeedingDecoder
from keras_seq.layers.lexical import LexicalContext
from keras_seq.layers.rnn import RNNStack, rnn_stack
from keras_seq.layers.tokens import PrependToken

__all__ = [
    "AdditiveAttention",
    "AttentionPooling",
    "DotAttention",
    "InputFeedingDecoder",
    "LexicalContext",
    "PointerAttention",
    "PrependToken",
    "RNNStack",
    "dense_block",
    "residual_block",
    "rnn_stack",
]
