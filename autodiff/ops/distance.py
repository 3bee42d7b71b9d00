"""Distances of `nn.functional`: pairwise_distance, cosine_similarity (compositions, as PyTorch
writes them) and pdist (one node, PdistBackward0).

pairwise_distance is PyTorch's `norm(x1 - x2 + eps, p, -1)`: its norm is the `at::norm` overload
(`NormBackward1`), the same vector norm under that name. cosine_similarity divides each input
by its norm first (kept away from 0 by eps outside the graph, as PyTorch does), so the result
stays in [-1, 1].
"""

from __future__ import annotations

import math
from typing import Any

from backends import broadcast_shapes

from .. import dtypes
from ..function import Function
from ..grad_mode import no_grad
from ..tensor import Tensor, _wrap
from ._dims import reduction_axes
from ._promotion import check_broadcast
from .arithmetic import AddNumber
from .norm import NormDims, vector_norm
from .selection import where
from .unary import sign


def pairwise_distance(x1: Tensor, x2: Tensor, p: float = 2.0, eps: float = 1e-6,
                      keepdim: bool = False) -> Tensor:
    """The p-norm of x1 - x2 + eps along the last dim (of the broadcast shape)."""
    ndim = max(x1._data.ndim, x2._data.ndim)
    difference = AddNumber.apply(x1 - x2, float(eps))  # integers become floats here
    axes = reduction_axes(ndim - 1 if ndim else -1, difference._data.ndim)
    return NormDims.apply(difference, ord=float(p), axes=axes, keepdim=keepdim)


def cosine_similarity(x1: Tensor, x2: Tensor, dim: int = 1, eps: float = 1e-8) -> Tensor:
    """<x1, x2> / (max(||x1||, eps) max(||x2||, eps)) along dim, both inputs broadcast."""
    common = dtypes.result_type((x1.dtype, x1._data.ndim), (x2.dtype, x2._data.ndim))
    if not common.is_floating_point:
        raise RuntimeError(
            "expected common dtype to be floating point, yet common dtype is "
            f"{dtypes.SCALAR_TYPE_NAMES[common.name]}")
    if not x1.dtype.is_floating_point:
        x1 = x1.to(common)
    if not x2.dtype.is_floating_point:
        x2 = x2.to(common)
    check_broadcast(x1._data.shape, x2._data.shape)
    shape = broadcast_shapes(x1._data.shape, x2._data.shape)
    if x1._data.shape != shape:
        x1 = x1.expand(shape)
    if x2._data.shape != shape:
        x2 = x2.expand(shape)
    # Each norm is cloned and clamped in place outside the graph: the forward divides by at
    # least eps while the gradient flows as through the plain norm (PyTorch's choice).
    norm1 = vector_norm(x1, 2, dim, keepdim=True).clone()
    norm2 = vector_norm(x2, 2, dim, keepdim=True).clone()
    with no_grad():
        norm1.clamp_(min=eps)
        norm2.clamp_(min=eps)
    return ((x1 / norm1) * (x2 / norm2)).sum(dim)


class Pdist(Function):
    """||x_i - x_j||_p for every pair of rows i < j, in row-major order of the pairs."""

    node_name = "PdistBackward0"

    @staticmethod
    def forward(ctx: Any, x: Any, *, p: float) -> Any:
        backend = ctx.backend
        first, second = _pairs(backend, x.shape[0])
        difference = backend.subtract(backend.take(x, first, axis=0),
                                      backend.take(x, second, axis=0))
        with no_grad():
            out = vector_norm(_wrap(difference, backend), p, 1)._data
        ctx.p = p
        ctx.save_for_backward(x, first, second, out)
        return out

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> Tensor | None:
        x, first, second, dist = ctx.saved_tensors
        p = ctx.p
        if p == 0:
            return None
        difference = x.index_select(0, first) - x.index_select(0, second)
        grad, dist = grad.unsqueeze(1), dist.unsqueeze(1)
        # PyTorch's pdist kernels, case by case, with their choices at 0.
        if p == 1:
            pair_grad = sign(difference) * grad
        elif p == 2:
            zero = dist == 0
            pair_grad = where(zero, 0.0, difference * grad / where(zero, 1.0, dist))
        elif math.isinf(p):
            pair_grad = where(difference.abs() == dist, sign(difference) * grad, 0.0)
        elif p < 2:
            zero = difference == 0
            if p < 1:
                zero = zero | (dist == 0)
            magnitude = where(zero, 1.0, difference.abs())
            pair_grad = where(zero, 0.0, sign(difference) * magnitude ** (p - 1) * grad
                              / where(zero, 1.0, dist) ** (p - 1))
        else:
            zero = dist == 0
            pair_grad = where(zero, 0.0, difference * difference.abs() ** (p - 2) * grad
                              / where(zero, 1.0, dist) ** (p - 1))
        zeros = x * 0.0
        return zeros.index_add(0, first, pair_grad).index_add(0, second, -pair_grad)


def _pairs(backend: Any, rows: int) -> tuple[Any, Any]:
    """The row indices (i, j) of every pair i < j, as int64 arrays on the backend's device."""
    first = [i for i in range(rows) for _ in range(i + 1, rows)]
    second = [j for i in range(rows) for j in range(i + 1, rows)]
    return backend.asarray(first, dtype="int64"), backend.asarray(second, dtype="int64")


def pdist(input: Tensor, p: float = 2) -> Tensor:
    """The p-norm distance between every pair of rows of a 2-D input (the upper triangle of
    cdist, row by row)."""
    if input._data.ndim != 2:
        raise RuntimeError(f"pdist only supports 2D tensors, got: {input._data.ndim}D")
    if not input.dtype.is_floating_point:
        raise RuntimeError("pdist only supports floating-point dtypes")
    if p < 0:
        raise RuntimeError("pdist only supports non-negative p values")
    return Pdist.apply(input, p=float(p))
