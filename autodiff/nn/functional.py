"""`autodiff.nn.functional`: activations, losses and the other layers as functions."""

# ruff: noqa: F401 (a namespace of re-exported functions)

from __future__ import annotations

from typing import Any

from ..ops.activation import sigmoid, softplus
from ..ops.attention import scaled_dot_product_attention
from ..ops.cross_entropy import cross_entropy, nll_loss
from ..ops.dropout import dropout
from ..ops.linear import linear
from ..ops.loss import (
    binary_cross_entropy,
    binary_cross_entropy_with_logits,
    huber_loss,
    kl_div,
    l1_loss,
    mse_loss,
    smooth_l1_loss,
)
from ..ops.multi_head_attention import canonical_mask as _canonical_mask
from ..ops.multi_head_attention import multi_head_attention_forward
from ..ops.multi_head_attention import none_or_dtype as _none_or_dtype
from ..ops.normalization import layer_norm, normalize
from ..ops.padding import pad
from ..ops.softmax import implicit_dim as _implicit_dim
from ..ops.softmax import log_softmax as _log_softmax
from ..ops.softmax import softmax as _softmax
from ..ops.sparse import embedding, one_hot
from ..tensor import Tensor
from ._activations import elu, gelu, leaky_relu, relu, silu, tanh


def softmax(input: Tensor, dim: int | None = None, _stacklevel: int = 3,
            dtype: Any = None) -> Tensor:
    """exp(x) / sum(exp(x)) along dim."""
    if dim is None:
        dim = _implicit_dim("softmax", input.dim(), _stacklevel)
    return _softmax(input, dim, dtype)


def log_softmax(input: Tensor, dim: int | None = None, _stacklevel: int = 3,
                dtype: Any = None) -> Tensor:
    """x - logsumexp(x) along dim."""
    if dim is None:
        dim = _implicit_dim("log_softmax", input.dim(), _stacklevel)
    return _log_softmax(input, dim, dtype)
