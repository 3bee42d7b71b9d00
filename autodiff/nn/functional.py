"""`autodiff.nn.functional`: activations, losses and the other layers as functions."""

# ruff: noqa: F401 (a namespace of re-exported functions)

from __future__ import annotations

from typing import Any

from ..ops.activation import glu, logsigmoid, sigmoid, softplus, softsign, tanhshrink
from ..ops.adaptive_pool import (
    adaptive_avg_pool1d,
    adaptive_avg_pool2d,
    adaptive_avg_pool3d,
    adaptive_max_pool1d,
    adaptive_max_pool2d,
    adaptive_max_pool3d,
)
from ..ops.attention import scaled_dot_product_attention
from ..ops.avg_pool import avg_pool1d, avg_pool2d, avg_pool3d, lp_pool1d, lp_pool2d, lp_pool3d
from ..ops.batch_norm import batch_norm, instance_norm
from ..ops.conv import (
    conv1d,
    conv2d,
    conv3d,
    conv_transpose1d,
    conv_transpose2d,
    conv_transpose3d,
)
from ..ops.cross_entropy import cross_entropy, linear_cross_entropy, nll_loss
from ..ops.ctc import ctc_loss
from ..ops.distance import cosine_similarity, pairwise_distance, pdist
from ..ops.dropout import (
    alpha_dropout,
    dropout,
    dropout1d,
    dropout2d,
    dropout3d,
    feature_alpha_dropout,
)
from ..ops.embedding_bag import embedding_bag
from ..ops.fold import fold, unfold
from ..ops.grid_sample import affine_grid, grid_sample
from ..ops.interpolate import interpolate, upsample, upsample_bilinear, upsample_nearest
from ..ops.likelihood_loss import gaussian_nll_loss, poisson_nll_loss
from ..ops.linear import bilinear, linear
from ..ops.loss import (
    binary_cross_entropy,
    binary_cross_entropy_with_logits,
    huber_loss,
    kl_div,
    l1_loss,
    mse_loss,
    smooth_l1_loss,
)
from ..ops.margin_loss import (
    cosine_embedding_loss,
    hinge_embedding_loss,
    margin_ranking_loss,
    multi_margin_loss,
    multilabel_margin_loss,
    multilabel_soft_margin_loss,
    soft_margin_loss,
    triplet_margin_loss,
    triplet_margin_with_distance_loss,
)
from ..ops.max_pool import max_pool1d, max_pool2d, max_pool3d
from ..ops.max_unpool import max_unpool1d, max_unpool2d, max_unpool3d
from ..ops.multi_head_attention import canonical_mask as _canonical_mask
from ..ops.multi_head_attention import multi_head_attention_forward
from ..ops.multi_head_attention import none_or_dtype as _none_or_dtype
from ..ops.normalization import group_norm, layer_norm, local_response_norm, normalize, rms_norm
from ..ops.padding import pad
from ..ops.piecewise import hardshrink, prelu, softshrink
from ..ops.pixel_shuffle import (
    channel_shuffle,
    native_channel_shuffle,
    pixel_shuffle,
    pixel_unshuffle,
)
from ..ops.softmax import gumbel_softmax
from ..ops.softmax import implicit_dim as _implicit_dim
from ..ops.softmax import log_softmax as _log_softmax
from ..ops.softmax import softmax as _softmax
from ..ops.softmax import softmin as _softmin
from ..ops.sparse import embedding, one_hot
from ..tensor import Tensor
from ..torch_function import make_namespace_overridable as _make_namespace_overridable
from ._activations import (
    celu,
    celu_,
    elu,
    elu_,
    gelu,
    hardsigmoid,
    hardswish,
    hardtanh,
    hardtanh_,
    leaky_relu,
    leaky_relu_,
    mish,
    relu,
    relu6,
    relu_,
    rrelu,
    rrelu_,
    selu,
    selu_,
    silu,
    tanh,
    threshold,
    threshold_,
)


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


def softmin(input: Tensor, dim: int | None = None, _stacklevel: int = 3,
            dtype: Any = None) -> Tensor:
    """softmax(-x) along dim."""
    if dim is None:
        dim = _implicit_dim("softmin", input.dim(), _stacklevel)
    return _softmin(input, dim, dtype)

# Last: the public functions become their `__torch_function__` wrappers (torch_function.py)
# now, so the modules importing this one bind the wrappers, in defaults too (an
# `activation=F.relu` default is then the `F.relu` a user passes).
_make_namespace_overridable(globals(), __name__)
