"""Layers anyone can reuse in their own Keras 3 models, on any backend."""

from keras_seq.layers.attention import (
    AdditiveAttention,
    AttentionPooling,
    DotAttention,
    PointerAttention,
)
from keras_seq.layers.blocks import dense_block, residual_block, small_resnet
from keras_seq.layers.copy import CopyMixture
from keras_seq.layers.decoder import InputFeedingDecoder
from keras_seq.layers.draw import DRAW
from keras_seq.layers.glimpse import GaussianGlimpse, GaussianWrite
from keras_seq.layers.lexical import LexicalContext
from keras_seq.layers.recurrent import (
    GRU,
    LSTM,
    SimpleRNN,
    fused_rnn_enabled,
    set_fused_rnn,
)
from keras_seq.layers.rnn import RNNStack, rnn_stack
from keras_seq.layers.spatial import (
    CausalNeighbourhood,
    IndependentPixels,
    MaskedConv2D,
    SpatialLSTM,
)
from keras_seq.layers.tokens import PrependToken

__all__ = [
    "AdditiveAttention",
    "AttentionPooling",
    "CausalNeighbourhood",
    "CopyMixture",
    "DRAW",
    "DotAttention",
    "GRU",
    "GaussianGlimpse",
    "GaussianWrite",
    "IndependentPixels",
    "InputFeedingDecoder",
    "LSTM",
    "LexicalContext",
    "MaskedConv2D",
    "PointerAttention",
    "PrependToken",
    "RNNStack",
    "SimpleRNN",
    "SpatialLSTM",
    "dense_block",
    "fused_rnn_enabled",
    "residual_block",
    "rnn_stack",
    "set_fused_rnn",
    "small_resnet",
]
