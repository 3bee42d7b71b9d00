"""Statistics: nansum and nanmean (NaN counted as missing), var_mean and std_mean (both in one
node, as PyTorch), cov (with frequency and observation weights) and corrcoef.

cov and corrcoef are composed of ops as in PyTorch, so their graphs end in PyTorch's nodes
(SqueezeBackward0, ClampBackward1) and their gradients are the composition's.
"""

from __future__ import annotations

from typing import Any

from .. import dtypes
from ..batching.dispatch import all_examples
from ..function import Function
from ..jvp_rules import jvp_from_backward
from ..layout_dispatch import dense_only
from ..saved_fields import fields, int_tuple, saved, value
from ..tensor import Tensor
from ..user_warnings import warn
from ._dims import keep_dims, reduced_count, reduction_axes
from .comparison import isnan, logical_not
from .matmul import mm
from .reduction import (
    VARIANCE_FIELDS,
    _correction,
    _var_backward,
    _variance,
    _warn_dof,
    given_arguments,
)
from .selection import where


# ----------------------------------------------------------------------------- nansum, nanmean
class Nansum(Function):
    node_name = "NansumBackward0"
    saved_fields = fields(self=saved(0), dim=value("axes", int_tuple), keepdim=value("keepdim"))

    jvp = jvp_from_backward

    @staticmethod
    def forward(ctx: Any, a: Any, *, axes: tuple[int, ...] | None, keepdim: bool,
                dtype: str | None) -> Any:
        backend = ctx.backend
        ctx.save_for_backward(a)
        ctx.axes, ctx.keepdim = axes, keepdim
        if dtype is not None:
            a = backend.astype(a, dtype)
        elif not backend.is_floating(a.dtype):
            a = backend.astype(a, "int64")  # as sum: integers and bools add up as int64
        if backend.is_floating(a.dtype):
            a = backend.where(backend.isnan(a), backend.zeros_like(a), a)
        return backend.sum(a, axis=axes, keepdims=keepdim)

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> Tensor:
        a, = ctx.saved_tensors
        grad = keep_dims(grad, a.shape, ctx.axes, ctx.keepdim)
        return where(a.isnan(), 0.0, grad.expand(a.shape))


def nansum(input: Tensor, dim: Any = None, keepdim: bool = False, *,
           dtype: Any = None) -> Tensor:
    """The sum, NaN counted as zero."""
    axes = reduction_axes(dim, input._data.ndim)
    dtype_name = None if dtype is None else dtypes.to_dtype(dtype).name
    return Nansum.apply(input, axes=axes, keepdim=keepdim, dtype=dtype_name)


def nanmean(input: Tensor, dim: Any = None, keepdim: bool = False, *,
            dtype: Any = None) -> Tensor:
    """The mean of the elements that are not NaN (NaN where all are)."""
    dense_only("aten::ne.Tensor", input)
    if not input.dtype.is_floating_point:
        raise RuntimeError("nanmean(): expected input to have floating point or complex dtype "
                           f"but got {dtypes.SCALAR_TYPE_NAMES[input.dtype.name]}")
    count = logical_not(isnan(input)).sum(dim, keepdim)
    return nansum(input, dim, keepdim, dtype=dtype).div(count)


# ----------------------------------------------------------------------------- var_mean
class VarMean(Function):
    """(variance, mean) over `axes`, one node with two outputs."""

    node_name = "VarMeanBackward0"
    saved_fields = fields(**VARIANCE_FIELDS)

    jvp = jvp_from_backward

    @staticmethod
    def forward(ctx: Any, a: Any, *, axes: tuple[int, ...] | None, correction: float,
                keepdim: bool, arguments: tuple[Any, Any] = (None, None)) -> Any:
        backend = ctx.backend
        ctx.arguments = arguments
        variance = _variance(ctx, a, axes, correction, keepdim)
        ctx.count = reduced_count(a.shape, axes)
        if ctx.count == 0:
            mean = backend.full(variance.shape, float("nan"), backend.dtype_name(a))
        else:
            mean = backend.mean(a, axis=axes, keepdims=keepdim)
        # The variance comes in the dtype PyTorch accumulates it in; rounded to a's here.
        first = backend.astype(ctx.finish(backend, variance), backend.dtype_name(a))
        ctx.save_for_backward(a, first)
        return first, mean

    @staticmethod
    def finish(backend: Any, variance: Any) -> Any:
        return variance

    @staticmethod
    def backward(ctx: Any, grad_first: Tensor | None, grad_mean: Tensor | None) -> Tensor:
        a, first = ctx.saved_tensors
        total = None
        if grad_first is not None:
            total = _var_backward(ctx.to_variance_grad(grad_first, first), a, ctx)
        if grad_mean is not None:
            scaled = grad_mean / ctx.count if ctx.count else grad_mean
            spread = keep_dims(scaled, ctx.input_shape, ctx.axes, ctx.keepdim).expand(
                ctx.input_shape)
            total = spread if total is None else total + spread
        return total  # type: ignore[return-value]

    @staticmethod
    def to_variance_grad(grad: Tensor, first: Tensor) -> Tensor:
        return grad


class StdMean(VarMean):
    """(standard deviation, mean) over `axes`."""

    node_name = "StdMeanBackward0"
    saved_fields = fields(**VARIANCE_FIELDS, result0=saved(1))

    jvp = jvp_from_backward

    @staticmethod
    def finish(backend: Any, variance: Any) -> Any:
        return backend.sqrt(variance)

    @staticmethod
    def to_variance_grad(grad: Tensor, std: Tensor) -> Tensor:
        # d std = d var / (2 std); PyTorch takes 0 where std == 0.
        at_zero = std == 0
        return where(at_zero, 0.0, grad / (where(at_zero, 1.0, std) * 2))


def _moments(op: type[Function], name: str, input: Tensor, dim: Any, unbiased: Any,
             keepdim: bool, correction: Any) -> tuple[Tensor, Tensor]:
    if isinstance(dim, bool):  # the legacy positional form var_mean(input, unbiased)
        dim, unbiased = None, dim
    if not input.dtype.is_floating_point:
        raise RuntimeError(f"{name} only support floating point and complex dtypes")
    axes = reduction_axes(dim, input._data.ndim)
    used = _correction(name, unbiased, correction)
    _warn_dof(name, reduced_count(input._data.shape, axes), used)
    first, mean = op.apply(input, axes=axes, correction=used, keepdim=keepdim,
                           arguments=given_arguments(dim, unbiased, correction, used))
    return first, mean


def var_mean(input: Tensor, dim: Any = None, unbiased: Any = None, keepdim: bool = False, *,
             correction: Any = None) -> tuple[Tensor, Tensor]:
    return _moments(VarMean, "var_mean", input, dim, unbiased, keepdim, correction)


def std_mean(input: Tensor, dim: Any = None, unbiased: Any = None, keepdim: bool = False, *,
             correction: Any = None) -> tuple[Tensor, Tensor]:
    return _moments(StdMean, "std_mean", input, dim, unbiased, keepdim, correction)


# ----------------------------------------------------------------------------- cov, corrcoef
def _check_weights(name: str, weights: Tensor, observations: int, integral: bool) -> None:
    if weights._data.ndim > 1:
        raise RuntimeError(f"cov(): expected {name} to have one or fewer dimensions but got "
                           f"{name} with {weights._data.ndim} dimensions")
    kind = weights.dtype
    if integral and kind.category != 1:
        raise RuntimeError(f"cov(): expected {name} to have integral dtype but got {name} with "
                           f"{dtypes.SCALAR_TYPE_NAMES[kind.name]} dtype")
    if not integral and not kind.is_floating_point:
        raise RuntimeError(f"cov(): expected {name} to have floating point dtype but got "
                           f"{name} with {dtypes.SCALAR_TYPE_NAMES[kind.name]} dtype")
    if weights.numel() != observations:
        raise RuntimeError(f"cov(): expected {name} to have the same numel as there are "
                           f"observations in the input but got {weights.numel()} != "
                           f"{observations}")
    if observations and bool(all_examples(weights.min() < 0).any()):  # each example's in vmap
        raise RuntimeError(f"cov(): {name} cannot be negative")


def cov(input: Tensor, *, correction: int = 1, fweights: Tensor | None = None,
        aweights: Tensor | None = None) -> Tensor:
    """The covariance matrix of the variables in the rows of input (observations in its
    columns), with frequency weights and observation weights."""
    input._backend.needs_values("aten::equal")  # (PyTorch's checks of the weights' sums)
    if input._data.ndim > 2:
        raise RuntimeError("cov(): expected input to have two or fewer dimensions but got an "
                           f"input with {input._data.ndim} dimensions")
    if input.dtype is dtypes.bool_:
        raise RuntimeError("cov(): bool dtype is not supported for input")
    observed = input if input._data.ndim == 2 else input.view(1, -1)
    observations = observed._data.shape[1]
    weights = None
    if fweights is not None:
        _check_weights("fweights", fweights, observations, integral=True)
        weights = fweights
    if aweights is not None:
        _check_weights("aweights", aweights, observations, integral=False)
        weights = aweights if weights is None else weights * aweights
    if weights is None:
        total: Any = observations
        average = observed.sum(1) / total
    else:
        total = weights.sum()
        if bool(all_examples(total == 0).any()):
            raise RuntimeError("cov(): weights sum to zero, can't be normalized")
        average = (observed * weights).sum(1) / total
    if weights is not None and aweights is not None and correction != 0:
        factor = total - correction * (weights * aweights).sum() / total
    else:
        factor = total - correction
    if bool(all_examples(factor <= 0).any()) if isinstance(factor, Tensor) else factor <= 0:
        warn("cov(): degrees of freedom is <= 0. Correction should be strictly less "
             "than the number of observations.", UserWarning, stacklevel=2)
        # zero where it is not positive (inside vmap, for the examples where it is not)
        factor = factor * (factor > 0) if isinstance(factor, Tensor) else factor * 0
    centered = observed - average.unsqueeze(1)
    product = mm(centered, (centered if weights is None else centered * weights).t())
    return (product / factor).squeeze()


def corrcoef(input: Tensor) -> Tensor:
    """Pearson's correlation coefficients of the variables in the rows of input."""
    if input._data.ndim > 2:
        raise RuntimeError("corrcoef(): expected input to have two or fewer dimensions but got "
                           f"an input with {input._data.ndim} dimensions")
    covariance = cov(input)
    if covariance._data.ndim == 0:
        return covariance / covariance  # nan for nan, inf or 0, else 1
    deviation = covariance.diagonal().sqrt()
    covariance = covariance / deviation.view(-1, 1)
    covariance = covariance / deviation.view(1, -1)
    return covariance.clip(-1, 1)
