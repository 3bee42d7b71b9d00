"""Distances: cdist (between the rows of two batches of matrices), pdist (between the rows of
one matrix, each pair once), dist (the p-norm of a difference), and nn.functional's
pairwise_distance and cosine_similarity (compositions, as PyTorch writes them).

The distances come from the backend (`minkowski_distances`, `euclidean_distances`,
`pairwise_distances`: SciPy's cdist/pdist on the CPU). cdist keeps PyTorch's two algorithms
where they are visible: for p = 2 and more than 25 rows on a side (or
compute_mode='use_mm_for_euclid_dist') PyTorch expands |x - y|^2 = |x|^2 - 2 x.y + |y|^2 into
one matrix product, a composition whose last node is a view; here it is one node of that name,
computed by the matrix product on other backends and exactly by SciPy on the CPU. Gradients at
zero distance are 0 (PyTorch's composition gives NaN there). Unlike PyTorch's, these backwards
are differentiable again.

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
from ..autocast_state import autocast_op
from ..creation import zeros
from ..function import Function
from ..grad_mode import no_grad
from ..jvp_rules import jvp_from_backward
from ..saved_fields import fields, saved, value
from ..tensor import Tensor, _wrap
from ._checks import not_implemented_for, same_device, scalar_type_name
from ._dims import reduction_axes
from ._promotion import check_broadcast, promote
from .arithmetic import AddNumber, _check_bool_subtraction
from .norm import LinalgVectorNorm, NormDims, norm_backward, vector_norm
from .selection import where
from .unary import sign

_INF = math.inf
_MODES = ("use_mm_for_euclid_dist_if_necessary", "use_mm_for_euclid_dist",
          "donot_use_mm_for_euclid_dist")


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
def _euclidean_backward(grad: Tensor, x1: Tensor, x2: Tensor, out: Tensor,
                        needs: tuple[bool, ...]) -> tuple[Tensor | None, Tensor | None]:
    """The p = 2 gradients without the differences of every pair: with w = grad / distance (0
    where the distance is 0), x1's is x1 * sum_j w - w @ x2, and x2's alike."""
    at_zero = out == 0
    weights = where(at_zero, 0.0, grad / where(at_zero, 1.0, out))
    grad_1 = x1 * weights.sum(-1, keepdim=True) - weights @ x2 if needs[0] else None
    grad_2 = x2 * weights.sum(-2).unsqueeze(-1) - weights.mT @ x1 if needs[1] else None
    return grad_1, grad_2


class Cdist(Function):
    """out[..., i, j] = ||x1[..., i, :] - x2[..., j, :]||_p."""

    node_name = "CdistBackward0"
    saved_fields = fields(x1=saved(0), x2=saved(1), p=value("p"), result=saved(2))

    jvp = jvp_from_backward

    @staticmethod
    def forward(ctx: Any, x1: Any, x2: Any, *, p: float) -> Any:
        ctx.p = p
        out = ctx.backend.minkowski_distances(x1, x2, p)
        ctx.save_for_backward(x1, x2, out)
        return out

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> tuple[Tensor | None, Tensor | None]:
        x1, x2, out = ctx.saved_tensors
        needs = ctx.needs_input_grad
        if ctx.p == 2:
            return _euclidean_backward(grad, x1, x2, out, needs)
        weights = _p_norm_weights(x1.unsqueeze(-2) - x2.unsqueeze(-3), out.unsqueeze(-1), ctx.p)
        if weights is None:
            return (x1 * 0 if needs[0] else None), (x2 * 0 if needs[1] else None)
        weighted = grad.unsqueeze(-1) * weights
        return ((weighted.sum(-2) if needs[0] else None),
                (-weighted.sum(-3) if needs[1] else None))


class CdistByProduct(Function):
    """cdist for p = 2 with many rows, PyTorch's matrix-product algorithm (a composition ending
    in a view there, hence the node's name). The NumPy backend computes it exactly, in one pass
    (SciPy's cdist); the gradient is that of the exact distance (0 between equal points)."""

    node_name = "ViewBackward0"

    jvp = jvp_from_backward

    @staticmethod
    def forward(ctx: Any, x1: Any, x2: Any) -> Any:
        out = ctx.backend.euclidean_distances(x1, x2)
        ctx.save_for_backward(x1, x2, out)
        return out

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> tuple[Tensor | None, Tensor | None]:
        x1, x2, out = ctx.saved_tensors
        return _euclidean_backward(grad, x1, x2, out, ctx.needs_input_grad)


@autocast_op("cdist")
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
    if x1.dtype in (dtypes.float16, dtypes.bfloat16):
        raise not_implemented_for("cdist", x1._backend, x1._data, on_device=False)
    if p < 0:
        raise RuntimeError("cdist only supports non-negative p values")
    if a[:-2] != b[:-2]:
        check_broadcast(a[:-2], b[:-2])
    p = float(p)
    use_mm = p == 2 and (compute_mode == "use_mm_for_euclid_dist" or (
        compute_mode == _MODES[0] and (a[-2] > 25 or b[-2] > 25)))
    if use_mm and a[-1] and a[-2] and b[-2]:
        return CdistByProduct.apply(x1, x2)
    return Cdist.apply(x1, x2, p=p)


# ----------------------------------------------------------------------------- pdist
class Pdist(Function):
    """The p-norm distance of each pair of rows i < j, in row-major order."""

    node_name = "PdistBackward0"
    saved_fields = fields(self=saved(0), p=value("p"), result=saved(1))

    jvp = jvp_from_backward

    @staticmethod
    def forward(ctx: Any, x: Any, *, p: float) -> Any:
        ctx.p = p
        out = ctx.backend.pairwise_distances(x, p)
        ctx.save_for_backward(x, out)
        return out

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> Tensor | None:
        x, out = ctx.saved_tensors
        backend = ctx.backend
        first, second = (_wrap(index, backend) for index in backend.upper_pairs(x.shape[0]))
        difference = x.index_select(0, first) - x.index_select(0, second)
        weights = _p_norm_weights(difference, out.unsqueeze(-1), ctx.p)
        if weights is None:
            return x * 0
        weighted = grad.unsqueeze(-1) * weights
        base = zeros(x.shape, dtype=x.dtype, device=x.device)
        return base.index_add(0, first, weighted) - base.index_add(0, second, weighted)


@autocast_op("pdist")
def pdist(input: Tensor, p: float = 2) -> Tensor:
    if input._data.ndim != 2:
        raise RuntimeError(f"pdist only supports 2D tensors, got: {input._data.ndim}D")
    if not input.dtype.is_floating_point:
        raise RuntimeError("pdist only supports floating-point dtypes")
    if input.dtype in (dtypes.float16, dtypes.bfloat16):
        raise not_implemented_for("pdist", input._backend, input._data, on_device=False)
    if p < 0:
        raise RuntimeError("pdist only supports non-negative p values")
    return Pdist.apply(input, p=float(p))


# ----------------------------------------------------------------------------- dist
class Dist(Function):
    """||a - b||_p over all elements (a and b broadcast)."""

    node_name = "DistBackward0"
    saved_fields = fields(self=saved(0), other=saved(1), p=value("p"), result=saved(2))

    jvp = jvp_from_backward

    @staticmethod
    def forward(ctx: Any, a: Any, b: Any, *, p: float) -> Any:
        backend = ctx.backend
        _check_bool_subtraction(backend, a, b)
        a, b = promote(backend, a, b)
        if not (backend.is_floating(a.dtype) or backend.is_complex(a.dtype)):
            raise RuntimeError(
                "norm(): input dtype should be either floating point or complex. Got "
                f"{dtypes.SCALAR_TYPE_NAMES[backend.dtype_name(a)]} instead.")
        difference = backend.subtract(a, b)
        out = LinalgVectorNorm.forward(ctx, difference, ord=float(p), axes=None, keepdim=False)
        ctx.save_for_backward(a, b, out)
        ctx.p = p  # the caller's number, as PyTorch's node keeps a Scalar
        return out

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> tuple[Tensor | None, Tensor | None]:
        a, b, out = ctx.saved_tensors
        needs_a, needs_b = ctx.needs_input_grad
        difference = a - b
        gradient = norm_backward(grad, difference, out, float(ctx.p), None)
        if gradient is None:
            gradient = difference * 0
        return (gradient if needs_a else None), (-gradient if needs_b else None)


@autocast_op("dist")
def dist(input: Tensor, other: Tensor, p: float = 2) -> Tensor:
    if not isinstance(other, Tensor):
        raise TypeError(f"dist(): argument 'other' (position 2) must be Tensor, not "
                        f"{type(other).__name__}")
    same_device(input, other)
    number = float(p)  # a TypeError for what is not a number
    return Dist.apply(input, other, p=p if type(p) is int else number)


# ------------------------------------------------------------------ nn.functional's distances
def pairwise_distance(x1: Tensor, x2: Tensor, p: float = 2.0, eps: float = 1e-6,
                      keepdim: bool = False) -> Tensor:
    """The p-norm of x1 - x2 + eps along the last dim (of the broadcast shape)."""
    ndim = max(x1._data.ndim, x2._data.ndim)
    difference = AddNumber.apply(x1 - x2, float(eps))  # integers become floats here
    axes = reduction_axes(ndim - 1 if ndim else -1, difference._data.ndim)
    return NormDims.apply(difference, ord=float(p), axes=axes, keepdim=keepdim)


@autocast_op("cosine_similarity")
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
