"""Distances: cdist (between the rows of two batches of matrices), pdist (between the rows of
one matrix, each pair once) and dist (the p-norm of a difference).

cdist follows PyTorch's two algorithms: for p = 2 and more than 25 rows on a side (or
compute_mode='use_mm_for_euclid_dist') it expands |x - y|^2 = |x|^2 - 2 x.y + |y|^2 into one
matrix product (fast, less accurate for near points; composed of ops, so its gradient is that
of the composition, as in PyTorch); otherwise it takes the p-norm of every difference. Norm
gradients at zero distance are 0, as in PyTorch.
"""

from __future__ import annotations

import math
from typing import Any

from .. import dtypes
from ..creation import zeros
from ..function import Function
from ..tensor import Tensor, _wrap
from ._checks import same_device, scalar_type_name
from ._promotion import check_broadcast, promote
from .arithmetic import _check_bool_subtraction
from .joining import cat
from .norm import LinalgVectorNorm, norm_backward
from .selection import where
from .unary import sign

_INF = math.inf
_MODES = ("use_mm_for_euclid_dist_if_necessary", "use_mm_for_euclid_dist",
          "donot_use_mm_for_euclid_dist")


def _p_norm(backend: Any, difference: Any, p: float, axis: int) -> Any:
    """The p-norm of `difference` along `axis` (p = 0 counts the nonzero elements)."""
    dtype = backend.dtype_name(difference)
    if difference.shape[axis] == 0:
        shape = tuple(size for index, size in enumerate(difference.shape)
                      if index != axis % difference.ndim)
        return backend.zeros(shape, dtype)
    if p == 0:
        return backend.sum(backend.astype(backend.not_equal(difference, 0), dtype), axis=axis)
    magnitude = backend.abs(difference)
    if p == 1:
        return backend.sum(magnitude, axis=axis)
    if p == 2:
        return backend.sqrt(backend.sum(backend.multiply(difference, difference), axis=axis))
    if p == _INF:
        return backend.max(magnitude, axis=axis)
    return backend.pow(backend.sum(backend.pow(magnitude, p), axis=axis), 1.0 / p)


def _p_norm_weights(difference: Tensor, distance: Tensor, p: float) -> Tensor | None:
    """d distance / d difference, elementwise, PyTorch's choices at zero (None for p = 0)."""
    if p == 0:
        return None
    if p == 1:
        return sign(difference)
    at_zero = distance == 0
    safe = where(at_zero, 1.0, distance)
    if p == 2:
        return where(at_zero, 0.0, difference / safe)
    magnitude = difference.abs()
    if p == _INF:
        return sign(difference) * (magnitude == distance)
    if p < 2:
        zero = at_zero | ((difference == 0) & (p < 1))
        powered = where(magnitude == 0, 1.0, magnitude) ** (p - 1)
        return where(zero, 0.0, sign(difference) * powered / safe ** (p - 1))
    return where(at_zero, 0.0, difference * magnitude ** (p - 2) / safe ** (p - 1))


# ----------------------------------------------------------------------------- cdist
class Cdist(Function):
    """out[..., i, j] = ||x1[..., i, :] - x2[..., j, :]||_p."""

    node_name = "CdistBackward0"

    @staticmethod
    def forward(ctx: Any, x1: Any, x2: Any, *, p: float) -> Any:
        backend = ctx.backend
        ctx.p = p
        difference = backend.subtract(backend.expand_dims(x1, -2), backend.expand_dims(x2, -3))
        out = _p_norm(backend, difference, p, -1)
        ctx.save_for_backward(x1, x2, out)
        return out

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> tuple[Tensor | None, Tensor | None]:
        x1, x2, out = ctx.saved_tensors
        needs_1, needs_2 = ctx.needs_input_grad
        weights = _p_norm_weights(x1.unsqueeze(-2) - x2.unsqueeze(-3), out.unsqueeze(-1), ctx.p)
        if weights is None:
            return (x1 * 0 if needs_1 else None), (x2 * 0 if needs_2 else None)
        weighted = grad.unsqueeze(-1) * weights
        return ((weighted.sum(-2) if needs_1 else None),
                (-weighted.sum(-3) if needs_2 else None))


def cdist(x1: Tensor, x2: Tensor, p: float = 2.0,
          compute_mode: str = "use_mm_for_euclid_dist_if_necessary") -> Tensor:
    """The p-norm distance between each row of x1 and each row of x2 (batched)."""
    same_device(x1, x2)
    for name, tensor in (("X1", x1), ("X2", x2)):
        if tensor._data.ndim < 2:
            raise RuntimeError(
                f"cdist only supports at least 2D tensors, {name} got: {tensor._data.ndim}D")
    if compute_mode not in _MODES:
        raise ValueError(f"{compute_mode} is not a valid value for compute_mode")
    a, b = x1._data.shape, x2._data.shape
    if a[-1] != b[-1]:
        raise RuntimeError(
            f"X1 and X2 must have the same number of columns. X1: {a[-1]} X2: {b[-1]}")
    for name, tensor in (("X1", x1), ("X2", x2)):
        if not tensor.dtype.is_floating_point:
            raise RuntimeError(
                f"cdist only supports floating-point dtypes, {name} got: "
                f"{scalar_type_name(tensor)}")
    if x1.dtype is not x2.dtype:
        raise RuntimeError(f"expected scalar type {scalar_type_name(x1)} but found "
                           f"{scalar_type_name(x2)}")
    if p < 0:
        raise RuntimeError("cdist only supports non-negative p values")
    if a[:-2] != b[:-2]:
        check_broadcast(a[:-2], b[:-2])
    p = float(p)
    use_mm = p == 2 and (compute_mode == "use_mm_for_euclid_dist" or (
        compute_mode == _MODES[0] and (a[-2] > 25 or b[-2] > 25)))
    if use_mm and a[-1] and a[-2] and b[-2]:
        return _euclidean_by_product(x1, x2)
    return Cdist.apply(x1, x2, p=p)


def _euclidean_by_product(x1: Tensor, x2: Tensor) -> Tensor:
    """PyTorch's _euclidean_dist: one product of [-2 x1, |x1|^2, 1] and [x2, 1, |x2|^2],
    clamped at 0 and square-rooted, then viewed as the output."""
    x1_norm = (x1 * x1).sum(-1, keepdim=True)
    x2_norm = (x2 * x2).sum(-1, keepdim=True)
    x1_padded = cat([x1 * -2, x1_norm, x1_norm.detach() * 0 + 1], -1)
    x2_padded = cat([x2, x2_norm.detach() * 0 + 1, x2_norm], -1)
    out = (x1_padded @ x2_padded.mT).clamp_min(0).sqrt()
    return out.view(out.shape)


# ----------------------------------------------------------------------------- pdist
class Pdist(Function):
    """The p-norm distance of each pair of rows i < j, in row-major order."""

    node_name = "PdistBackward0"

    @staticmethod
    def forward(ctx: Any, x: Any, *, p: float) -> Any:
        backend = ctx.backend
        count = x.shape[0]
        rows = backend.arange(0, count, 1, "int64")
        above = backend.greater(backend.expand_dims(rows, 0), backend.expand_dims(rows, 1))
        first, second = backend.nonzero(above)
        ctx.pairs = (first, second)
        ctx.p = p
        difference = backend.subtract(backend.take(x, first, axis=0),
                                      backend.take(x, second, axis=0))
        out = _p_norm(backend, difference, p, -1)
        ctx.save_for_backward(x, out)
        return out

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> Tensor | None:
        x, out = ctx.saved_tensors
        first, second = (_wrap(index, ctx.backend) for index in ctx.pairs)
        difference = x.index_select(0, first) - x.index_select(0, second)
        weights = _p_norm_weights(difference, out.unsqueeze(-1), ctx.p)
        if weights is None:
            return x * 0
        weighted = grad.unsqueeze(-1) * weights
        base = zeros(x.shape, dtype=x.dtype, device=x.device)
        return base.index_add(0, first, weighted) - base.index_add(0, second, weighted)


def pdist(input: Tensor, p: float = 2) -> Tensor:
    if input._data.ndim != 2:
        raise RuntimeError(f"pdist only supports 2D tensors, got: {input._data.ndim}D")
    if not input.dtype.is_floating_point:
        raise RuntimeError("pdist only supports floating-point dtypes")
    if p < 0:
        raise RuntimeError("pdist only supports non-negative p values")
    return Pdist.apply(input, p=float(p))


# ----------------------------------------------------------------------------- dist
class Dist(Function):
    """||a - b||_p over all elements (a and b broadcast)."""

    node_name = "DistBackward0"

    @staticmethod
    def forward(ctx: Any, a: Any, b: Any, *, p: float) -> Any:
        backend = ctx.backend
        _check_bool_subtraction(backend, a, b)
        a, b = promote(backend, a, b)
        if not backend.is_floating(a.dtype):
            raise RuntimeError(
                "norm(): input dtype should be either floating point or complex. Got "
                f"{dtypes.SCALAR_TYPE_NAMES[backend.dtype_name(a)]} instead.")
        difference = backend.subtract(a, b)
        out = LinalgVectorNorm.forward(ctx, difference, ord=p, axes=None, keepdim=False)
        ctx.save_for_backward(a, b, out)
        ctx.p = p
        return out

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> tuple[Tensor | None, Tensor | None]:
        a, b, out = ctx.saved_tensors
        needs_a, needs_b = ctx.needs_input_grad
        difference = a - b
        gradient = norm_backward(grad, difference, out, ctx.p, None)
        if gradient is None:
            gradient = difference * 0
        return (gradient if needs_a else None), (-gradient if needs_b else None)


def dist(input: Tensor, other: Tensor, p: float = 2) -> Tensor:
    if not isinstance(other, Tensor):
        raise TypeError(f"dist(): argument 'other' (position 2) must be Tensor, not "
                        f"{type(other).__name__}")
    same_device(input, other)
    return Dist.apply(input, other, p=float(p))
