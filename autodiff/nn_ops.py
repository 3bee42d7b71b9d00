"""The nn functions PyTorch also exposes as `torch.*` (`torch.conv2d`, `torch.batch_norm`,
`torch.dropout`, ...), with ATen's signatures rather than `nn.functional`'s: some arguments are
required or in another order (`torch.embedding(weight, indices)`, `torch.batch_norm`'s weight
before the running statistics), a reduction is ATen's integer (0 none, 1 mean, 2 sum) and an empty
pooling stride means the kernel size. Each one calls the `nn.functional` op: one op, one place.

A reduction left out is 0 (none): ATen's schemas say Mean, but PyTorch's Python bindings of
these functions read the default as 0, and programs see that.

`cudnn_enabled` is accepted and has no effect: it picks a CUDA library in PyTorch, and autodiff
has one implementation per backend.
"""

from __future__ import annotations

from typing import Any

from .ops import (
    adaptive_pool,
    avg_pool,
    conv,
    ctc,
    likelihood_loss,
    loss,
    margin_loss,
    max_pool,
    normalization,
)
from .ops import batch_norm as _batch_norm
from .ops import dropout as _drop
from .ops import pixel_shuffle as _ps
from .ops import sparse as _sparse  # `sparse` is embedding's keyword
from .tensor import Tensor

__all__ = [
    "adaptive_avg_pool1d", "adaptive_max_pool1d", "alpha_dropout", "alpha_dropout_",
    "avg_pool1d", "batch_norm", "binary_cross_entropy_with_logits", "channel_shuffle", "conv1d",
    "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d", "conv_transpose3d",
    "convolution", "cosine_embedding_loss", "ctc_loss", "dropout", "dropout_", "embedding",
    "feature_alpha_dropout", "feature_alpha_dropout_", "group_norm", "hinge_embedding_loss",
    "instance_norm", "kl_div", "margin_ranking_loss", "max_pool1d", "max_pool2d", "max_pool3d",
    "pixel_shuffle", "pixel_unshuffle", "poisson_nll_loss", "triplet_margin_loss",
]

_REDUCTIONS = ("none", "mean", "sum")


def _reduction(reduction: int) -> str:
    """ATen's Reduction enum as nn.functional's name."""
    if isinstance(reduction, bool) or not isinstance(reduction, int) \
            or not 0 <= reduction < len(_REDUCTIONS):
        raise ValueError(f"{reduction} is not a valid value for reduction")
    return _REDUCTIONS[reduction]


def _stride(stride: Any) -> Any:
    """ATen's pooling stride: an empty list (its default) means the kernel size."""
    if stride is None or (isinstance(stride, (list, tuple)) and len(stride) == 0):
        return None
    return stride


# ----------------------------------------------------------------------------- convolution
conv1d = conv.conv1d
conv2d = conv.conv2d
conv3d = conv.conv3d
conv_transpose1d = conv.conv_transpose1d
conv_transpose2d = conv.conv_transpose2d
conv_transpose3d = conv.conv_transpose3d


def convolution(input: Tensor, weight: Tensor, bias: Tensor | None, stride: Any, padding: Any,
                dilation: Any, transposed: bool, output_padding: Any, groups: int) -> Tensor:
    """ATen's convolution: every argument required, batched input only, the number of
    spatial dims read from the weight; `transposed` picks the transposed convolution."""
    if weight.dim() < 3:
        raise RuntimeError("weight should have at least three dimensions")
    if input.dim() != weight.dim():
        raise RuntimeError(
            f"Expected {weight.dim()}-dimensional input for {weight.dim()}-dimensional weight "
            f"{list(weight.shape)}, but got {input.dim()}-dimensional input of size "
            f"{list(input.shape)} instead")
    dims = weight.dim() - 2
    name = f"conv_transpose{dims}d" if transposed else f"conv{dims}d"
    return conv.convolution(input, weight, bias, stride, padding, dilation, transposed,
                            output_padding, groups, dims, name)


# ----------------------------------------------------------------------------------- pooling
adaptive_avg_pool1d = adaptive_pool.adaptive_avg_pool1d


def adaptive_max_pool1d(input: Tensor, output_size: Any) -> tuple[Tensor, Tensor]:
    """The values and their indices (ATen always returns both)."""
    result: tuple[Tensor, Tensor] = adaptive_pool.adaptive_max_pool1d(input, output_size, True)
    return result


def avg_pool1d(input: Tensor, kernel_size: Any, stride: Any = (), padding: Any = 0,
               ceil_mode: bool = False, count_include_pad: bool = True) -> Tensor:
    return avg_pool.avg_pool1d(input, kernel_size, _stride(stride), padding, ceil_mode,
                               count_include_pad)


def max_pool1d(input: Tensor, kernel_size: Any, stride: Any = (), padding: Any = 0,
               dilation: Any = 1, ceil_mode: bool = False) -> Tensor:
    result: Tensor = max_pool.max_pool1d(input, kernel_size, _stride(stride), padding, dilation,
                                         ceil_mode)
    return result


def max_pool2d(input: Tensor, kernel_size: Any, stride: Any = (), padding: Any = 0,
               dilation: Any = 1, ceil_mode: bool = False) -> Tensor:
    result: Tensor = max_pool.max_pool2d(input, kernel_size, _stride(stride), padding, dilation,
                                         ceil_mode)
    return result


def max_pool3d(input: Tensor, kernel_size: Any, stride: Any = (), padding: Any = 0,
               dilation: Any = 1, ceil_mode: bool = False) -> Tensor:
    result: Tensor = max_pool.max_pool3d(input, kernel_size, _stride(stride), padding, dilation,
                                         ceil_mode)
    return result


# ----------------------------------------------------------------------------- normalization
def batch_norm(input: Tensor, weight: Tensor | None, bias: Tensor | None,
               running_mean: Tensor | None, running_var: Tensor | None, training: bool,
               momentum: float, eps: float, cudnn_enabled: bool) -> Tensor:
    return _batch_norm.batch_norm(input, running_mean, running_var, weight, bias, training,
                                  momentum, eps)


def instance_norm(input: Tensor, weight: Tensor | None, bias: Tensor | None,
                  running_mean: Tensor | None, running_var: Tensor | None,
                  use_input_stats: bool, momentum: float, eps: float,
                  cudnn_enabled: bool) -> Tensor:
    return _batch_norm.instance_norm(input, running_mean, running_var, weight, bias,
                                     use_input_stats, momentum, eps)


def group_norm(input: Tensor, num_groups: int, weight: Tensor | None = None,
               bias: Tensor | None = None, eps: float = 1e-5, cudnn_enabled: bool = True
               ) -> Tensor:
    return normalization.group_norm(input, num_groups, weight, bias, eps)


# ----------------------------------------------------------------------------------- dropout
def dropout(input: Tensor, p: float, train: bool) -> Tensor:
    return _drop.dropout(input, p, train)


def dropout_(input: Tensor, p: float, train: bool) -> Tensor:
    return _drop.dropout(input, p, train, inplace=True)


def alpha_dropout(input: Tensor, p: float, train: bool) -> Tensor:
    return _drop.alpha_dropout(input, p, train)


def alpha_dropout_(input: Tensor, p: float, train: bool) -> Tensor:
    return _drop.alpha_dropout(input, p, train, inplace=True)


def feature_alpha_dropout(input: Tensor, p: float, train: bool) -> Tensor:
    return _drop.feature_alpha_dropout(input, p, train)


def feature_alpha_dropout_(input: Tensor, p: float, train: bool) -> Tensor:
    return _drop.feature_alpha_dropout(input, p, train, inplace=True)


# ------------------------------------------------------------------------------- embeddings
def embedding(weight: Tensor, indices: Tensor, padding_idx: int = -1,
              scale_grad_by_freq: bool = False, sparse: bool = False) -> Tensor:
    """Rows of `weight` (first, as in ATen). A negative padding_idx means none: ATen skips the
    gradient of rows equal to padding_idx, which no index is."""
    return _sparse.embedding(indices, weight, None if padding_idx < 0 else padding_idx,
                             scale_grad_by_freq=scale_grad_by_freq, sparse=sparse)


# ------------------------------------------------------------------------------ pixel shuffle
channel_shuffle = _ps.channel_shuffle
pixel_shuffle = _ps.pixel_shuffle
pixel_unshuffle = _ps.pixel_unshuffle


# ------------------------------------------------------------------------------------ losses
def binary_cross_entropy_with_logits(input: Tensor, target: Tensor, weight: Tensor | None = None,
                                     pos_weight: Tensor | None = None, reduction: int = 0
                                     ) -> Tensor:
    return loss.binary_cross_entropy_with_logits(input, target, weight,
                                                 reduction=_reduction(reduction),
                                                 pos_weight=pos_weight)


def kl_div(input: Tensor, target: Tensor, reduction: int = 0, *, log_target: bool = False
           ) -> Tensor:
    return loss.kl_div(input, target, reduction=_reduction(reduction), log_target=log_target)


def poisson_nll_loss(input: Tensor, target: Tensor, log_input: bool, full: bool, eps: float,
                     reduction: int) -> Tensor:
    return likelihood_loss.poisson_nll_loss(input, target, log_input, full, eps=eps,
                                            reduction=_reduction(reduction))


def cosine_embedding_loss(input1: Tensor, input2: Tensor, target: Tensor, margin: float = 0.0,
                          reduction: int = 0) -> Tensor:
    return margin_loss.cosine_embedding_loss(input1, input2, target, margin,
                                             reduction=_reduction(reduction))


def hinge_embedding_loss(input: Tensor, target: Tensor, margin: float = 1.0,
                         reduction: int = 0) -> Tensor:
    return margin_loss.hinge_embedding_loss(input, target, margin,
                                            reduction=_reduction(reduction))


def margin_ranking_loss(input1: Tensor, input2: Tensor, target: Tensor, margin: float = 0.0,
                        reduction: int = 0) -> Tensor:
    return margin_loss.margin_ranking_loss(input1, input2, target, margin,
                                           reduction=_reduction(reduction))


def triplet_margin_loss(anchor: Tensor, positive: Tensor, negative: Tensor, margin: float = 1.0,
                        p: float = 2.0, eps: float = 1e-6, swap: bool = False,
                        reduction: int = 0) -> Tensor:
    return margin_loss.triplet_margin_loss(anchor, positive, negative, margin, p, eps, swap,
                                           reduction=_reduction(reduction))


def ctc_loss(log_probs: Tensor, targets: Tensor, input_lengths: Any, target_lengths: Any,
             blank: int = 0, reduction: int = 0, zero_infinity: bool = False) -> Tensor:
    return ctc.ctc_loss(log_probs, targets, input_lengths, target_lengths, blank,
                        _reduction(reduction), zero_infinity)
