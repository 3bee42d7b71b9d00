"""Norms of `autodiff.linalg`: vector_norm (one node, PyTorch's LinalgVectorNormBackward0),
matrix_norm and norm (compositions, as in PyTorch); and renorm, which rescales the slices of a
tensor whose norm exceeds a bound.

Differentiable: every vector order, and the matrix orders 'fro', 1, -1, inf, -inf. The
matrix orders 2, -2 and 'nuc' go through singular values, whose gradient U diag(g) V^T is
implemented to first order only (a second derivative raises).
"""

from __future__ import annotations

import math
from typing import Any

from .. import dtypes
from ..autocast_state import autocast_op
from ..function import Function
from ..jvp_rules import jvp_from_backward, reduction_jvp, rule_facts
from ..saved_fields import fields, int_tuple, saved, value
from ..tensor import Tensor, _wrap, _wrap_dim
from ._dims import keep_dims, reduction_axes
from ._promotion import opmath, rounded
from .minmax import Amax, Amin
from .selection import where
from .unary import sgn
from .unary import sign as _sign

_INF = math.inf


# ----------------------------------------------------------------------------- vector norm
class LinalgVectorNorm(Function):
    """The ord-norm of the elements over `axes` (all when None): linalg.vector_norm, which
    torch.norm, linalg.norm and matrix_norm('fro') call too."""

    node_name = "LinalgVectorNormBackward0"
    saved_fields = fields(self=saved(0), result=saved(1), ord=value("ord"),
                          dim=value("axes", int_tuple), keepdim=value("keepdim"))

    jvp = reduction_jvp

    @staticmethod
    def forward(ctx: Any, x: Any, *, ord: float, axes: tuple[int, ...] | None,
                keepdim: bool) -> Any:
        backend = ctx.backend
        ctx.ord, ctx.axes, ctx.keepdim = ord, axes, keepdim
        # A complex tensor's norm is that of its magnitudes (real, of the matching precision).
        wide, dtype = opmath(backend, backend.abs(x) if backend.is_complex(x.dtype) else x)
        out = rounded(backend, _vector_norm(backend, wide, ord, axes, keepdim), dtype)
        ctx.save_for_backward(x, out)
        return out

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> Tensor | None:
        x, norm = ctx.saved_tensors
        shape = x._data.shape
        grad = keep_dims(grad, shape, ctx.axes, ctx.keepdim)
        norm = keep_dims(norm, shape, ctx.axes, ctx.keepdim)
        return norm_backward(grad, x, norm, ctx.ord, ctx.axes)


def norm_backward(grad: Tensor, x: Tensor, norm: Tensor, p: float,
                  axes: tuple[int, ...] | None) -> Tensor | None:
    """The gradient of the p-norm of x over `axes` (None: all), PyTorch's norm_backward case by
    case with the same choices at 0; grad and norm have the reduced dims kept."""
    if p == 0:
        return None
    sign = sgn if x.dtype.is_complex else _sign  # x / |x|
    if p == 1:
        return grad * sign(x)
    norm_is_zero = norm == 0
    if p == 2:
        return grad * where(norm_is_zero, 0.0, x / where(norm_is_zero, 1.0, norm))
    magnitude = x.abs()
    if math.isinf(p):  # the gradient of amax(|x|), split between ties; NaN takes it all
        mask = (magnitude == norm) | magnitude.isnan()
        count = mask.sum(axes, keepdim=True) if axes else mask.sum()
        return sign(x) * where(mask, grad / count, 0.0)
    # sign(x) (|x| / norm)^(p - 1): PyTorch's |x|^(p - 1) / norm^(p - 1) (times x / |x|),
    # with a ratio of at most 1 (for p > 0) in place of powers that overflow, and 0 where
    # PyTorch masks (x = 0 for p < 1, norm = 0).
    zero = (x == 0) | norm_is_zero
    ratio = magnitude / where(norm_is_zero, 1.0, norm)
    return grad * sign(x) * where(zero, 0.0, where(zero, 1.0, ratio) ** (p - 1))


# The power sums of vector_norm are scaled when a term or the sum may have left the dtype's
# normal range: below its smallest normal number divided by its epsilon, or infinite.
_SMALLEST_SAFE_SUM = {"float32": 2.0 ** -103, "float64": 2.0 ** -970}


def _vector_norm(backend: Any, x: Any, ord: float, axes: tuple[int, ...] | None,
                 keepdim: bool) -> Any:
    """The ord-norm on arrays. (sum |x|^ord)^(1/ord) overflows or underflows where the norm
    itself does not (1e30 squared is inf in float32; 1e-30 squared is 0): there it is
    s (sum (|x| / s)^ord)^(1/ord), with s a power of two near the largest |x| (the smallest
    for a negative ord), so that every term is at most 1 and at least one is about 1.
    Dividing by a power of two is exact: where both ways are finite they agree to the bit.
    (PyTorch scales a one-element norm only: the norm of [1e30, 1e30] is inf there.)"""
    if ord == 0:
        nonzero = backend.astype(backend.not_equal(x, 0), backend.dtype_name(x))
        return backend.sum(nonzero, axis=axes, keepdims=keepdim)
    magnitude = x if ord == 2 else backend.abs(x)  # x * x needs no abs
    if ord == _INF:
        return backend.max(magnitude, axis=axes, keepdims=keepdim)
    if ord == -_INF:
        return backend.min(magnitude, axis=axes, keepdims=keepdim)
    if ord == 1:
        return backend.sum(magnitude, axis=axes, keepdims=keepdim)
    total = _power_sum(backend, magnitude, ord, axes, keepdim)
    safe = backend.logical_and(backend.isfinite(total),
                               backend.greater_equal(total, _SMALLEST_SAFE_SUM[
                                   backend.dtype_name(x)]))
    if magnitude.size == 0 or backend.all_true(safe):
        return _root(backend, total, ord)
    magnitude = backend.abs(x)
    extreme = backend.max if ord > 0 else backend.min
    scale = extreme(magnitude, axis=axes, keepdims=True)
    usable = backend.logical_and(backend.isfinite(scale), backend.greater(scale, 0))
    one = backend.ones_like(scale)
    # floor(log2 s) for the power of two, on 1 where s is 0, inf or nan (those stay unscaled).
    power = backend.pow(2.0, backend.floor(backend.log2(backend.where(usable, scale, one))))
    scaled = _power_sum(backend, backend.divide(magnitude, power), ord, axes, keepdim)
    if not keepdim:
        power = backend.reshape(power, scaled.shape)
    return backend.multiply(_root(backend, scaled, ord), power)


def _power_sum(backend: Any, magnitude: Any, ord: float, axes: tuple[int, ...] | None,
               keepdim: bool) -> Any:
    powered = backend.multiply(magnitude, magnitude) if ord == 2 else backend.pow(magnitude, ord)
    return backend.sum(powered, axis=axes, keepdims=keepdim)


def _root(backend: Any, total: Any, ord: float) -> Any:
    return backend.sqrt(total) if ord == 2 else backend.pow(total, 1.0 / ord)


class NormAll(LinalgVectorNorm):
    """`at::norm(x, p)` (no dim), as PyTorch's C++ composites call it: its own node name."""

    node_name = "NormBackward0"
    saved_fields = fields(self=saved(0), result=saved(1), p=value("ord"))


class NormDims(LinalgVectorNorm):
    """`at::norm(x, p, dim, keepdim)`, as PyTorch's C++ composites call it."""

    node_name = "NormBackward1"
    saved_fields = fields(self=saved(0), result=saved(1), p=value("ord"),
                          dim=value("axes", int_tuple), keepdim=value("keepdim"))


@autocast_op("linalg_vector_norm")
def vector_norm(x: Tensor, ord: float = 2, dim: Any = None, keepdim: bool = False, *,
                dtype: Any = None) -> Tensor:
    """(sum |x|^ord)^(1/ord) over `dim` (all dims when None); ord may be inf, -inf or 0."""
    ord = _order(ord)
    _check_floating("linalg.vector_norm", x)
    _check_real_order("linalg.vector_norm", ord)
    if dtype is not None:
        x = x.to(_norm_dtype("linalg.vector_norm", dtype, x.dtype))
    ord = float(ord)
    shape = x._data.shape
    axes = reduction_axes(dim, len(shape))
    if ord < 0 or math.isinf(ord):  # min/max-like norms: nothing to return for no elements
        _check_not_empty(shape, axes, ord)
    return LinalgVectorNorm.apply(x, ord=ord, axes=axes, keepdim=keepdim)


def _order(ord: Any) -> Any:
    """A norm's order as PyTorch's argument parser takes a Number: a 0-d tensor is its value."""
    if isinstance(ord, Tensor) and ord.ndim == 0:
        return ord.item()
    if isinstance(ord, str) or not isinstance(ord, (int, float, complex)):
        raise TypeError(
            "linalg_vector_norm(): argument 'ord' (position 2) must be Number, not "
            f"{type(ord).__name__}"
        )
    return ord


def _check_real_order(function: str, ord: Any) -> None:
    if isinstance(ord, complex):
        raise RuntimeError(f"{function}: Expected a non-complex scalar as the order of norm.")


def _norm_dtype(function: str, dtype: Any, input_dtype: dtypes.dtype) -> dtypes.dtype:
    """The `dtype=` of a norm, checked as PyTorch does: floating or complex as the input is,
    and wide enough to hold the input without narrowing."""
    kind = dtypes.to_dtype(dtype)
    name = dtypes.SCALAR_TYPE_NAMES[kind.name]
    if not (kind.is_floating_point or kind.is_complex):
        raise RuntimeError(f"{function}: dtype should be floating point or complex, but got {name}")
    if kind.is_complex != input_dtype.is_complex:
        part = "complex" if input_dtype.is_complex else "real"
        raise RuntimeError(f"{function}: dtype should be {part} for {part} inputs, but got {name}")
    if dtypes.promote_types(input_dtype, kind) is not kind:
        raise RuntimeError(
            f"{function}: the dtype of the input ({dtypes.SCALAR_TYPE_NAMES[input_dtype.name]}) "
            f"should be convertible without narrowing to the specified dtype ({name})"
        )
    return kind


def _check_floating(function: str, x: Tensor) -> None:
    if not (x.dtype.is_floating_point or x.dtype.is_complex):
        raise RuntimeError(
            f"{function}: Expected a floating point or complex tensor as input. Got "
            f"{dtypes.SCALAR_TYPE_NAMES[x.dtype.name]}"
        )


def _check_not_empty(shape: tuple[int, ...], axes: tuple[int, ...] | None, ord: float) -> None:
    name = {_INF: "inf", -_INF: "-inf"}.get(ord, f"{ord:g}")
    if axes is None:
        if 0 in shape:
            raise RuntimeError(
                f"linalg.vector_norm cannot compute the {name} norm on an empty tensor because "
                "the operation does not have an identity"
            )
        return
    for axis in axes:
        if shape[axis] == 0:
            # (sic: PyTorch's message has no space before "because")
            raise RuntimeError(
                f"linalg.vector_norm cannot compute the {name} norm on the dimension {axis}"
                "because this dimension is empty and the operation does not have an identity"
            )


# ----------------------------------------------------------------------------- matrix norms
class LinalgSvdvals(Function):
    """Singular values; the gradient is U diag(grad) V^T (first order: see the module doc)."""

    node_name = "LinalgSvdBackward0"

    @staticmethod
    def forward(ctx: Any, a: Any) -> Any:
        u, s, vh = ctx.backend.svd(a)
        ctx.u, ctx.vh = u, vh
        ctx.save_for_backward(a)
        return s

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> Tensor:
        a, = ctx.saved_tensors
        return SvdvalsBackward.apply(grad, a, u=ctx.u, vh=ctx.vh)

    @staticmethod
    @rule_facts(complex_safe=True)
    def jvp(ctx: Any, tangent: Tensor) -> Tensor:
        """d sigma_i = Re(u_i^H dA v_i) (first order, like the backward: U and V are
        constants)."""
        backend = ctx.backend
        count = min(tangent._data.shape[-2:])
        u = _wrap(ctx.u, backend)[..., :count]
        vh = _wrap(ctx.vh, backend)[..., :count, :]
        change = (u.conj() * (tangent @ vh.mH)).sum(-2)
        return change.real if change.is_complex() else change


class SvdvalsBackward(Function):
    """U diag(grad) V^T. It takes A as an input only so that a recorded backward has an edge
    to A: differentiating it again raises instead of treating U and V as constants."""

    node_name = "LinalgSvdBackwardBackward0"

    @staticmethod
    def forward(ctx: Any, grad: Any, a: Any, *, u: Any, vh: Any) -> Any:
        backend = ctx.backend
        scaled = backend.multiply(u, backend.expand_dims(grad, axis=grad.ndim - 1))
        return backend.matmul(scaled, vh)

    @staticmethod
    def backward(ctx: Any, outer: Tensor) -> Any:
        raise RuntimeError(
            "the derivative of the singular values (linalg.matrix_norm with ord=2, -2 or 'nuc') "
            "is implemented to first order only"
        )


@autocast_op("linalg_matrix_norm")
def matrix_norm(A: Tensor, ord: Any = "fro", dim: Any = (-2, -1), keepdim: bool = False, *,
                dtype: Any = None) -> Tensor:
    """A norm of each matrix over the two dims `dim`: 'fro', 'nuc', 1, -1, 2, -2, inf, -inf."""
    # PyTorch's checks, in its order.
    if isinstance(ord, Tensor) and ord.ndim == 0:
        ord = ord.item()
    _check_real_order("linalg.matrix_norm", ord)
    if not (ord in ("fro", "nuc") if isinstance(ord, str) else ord in (1, -1, 2, -2, _INF, -_INF)):
        raise RuntimeError(f"linalg.matrix_norm: Order {ord} not supported.")
    ndim = A._data.ndim
    if ndim < 2:
        raise RuntimeError(
            "linalg.matrix_norm: The input tensor A must have at least 2 dimensions.")
    _check_floating("linalg.matrix_norm", A)
    dims = (dim,) if isinstance(dim, int) else tuple(dim)
    if len(dims) != 2:
        raise RuntimeError(
            f"linalg.matrix_norm: dim must be a 2-tuple. Got {' '.join(map(str, dims))}")
    rows, cols = (_wrap_dim(d, ndim) for d in dims)
    if rows == cols:
        raise RuntimeError(f"linalg.matrix_norm: dims must be different. Got ({rows}, {cols})")
    if dtype is not None:
        A = A.to(_norm_dtype("linalg.matrix_norm", dtype, A.dtype))
    if ord == "fro":
        return vector_norm(A, 2, (rows, cols), keepdim)
    if ord == "nuc" or ord in (2, -2):
        if A.dtype in (dtypes.float16, dtypes.bfloat16):  # no low-precision SVD, as PyTorch
            raise RuntimeError("linalg.matrix_norm: Low precision dtypes not supported. Got "
                               f"{dtypes.SCALAR_TYPE_NAMES[A.dtype.name]}")
        return _singular_value_norm(A, ord, rows, cols, keepdim)
    # 1: the largest column sum of |A|; inf: the largest row sum (-1, -inf: the smallest).
    summed, other = (rows, cols) if ord in (1, -1) else (cols, rows)
    sums = A.abs().sum(summed, keepdim=keepdim)
    if not keepdim and other > summed:
        other -= 1
    return (Amax if ord > 0 else Amin).apply(sums, axes=(other,), keepdim=keepdim)


def _singular_value_norm(A: Tensor, ord: Any, rows: int, cols: int, keepdim: bool) -> Tensor:
    ndim = A._data.ndim
    batch = [axis for axis in range(ndim) if axis not in (rows, cols)]
    if (rows, cols) != (ndim - 2, ndim - 1):
        A = A.permute(*batch, rows, cols)
    values = LinalgSvdvals.apply(A)
    if ord == "nuc":
        out = values.sum(-1)
    else:
        out = (Amax if ord == 2 else Amin).apply(values, axes=(values._data.ndim - 1,),
                                                  keepdim=False)
    if keepdim:  # as PyTorch: keep the two dims at the end, then move them back
        out = out.unsqueeze(-1).unsqueeze(-1)
        order = [*batch, rows, cols]
        out = out.permute([order.index(axis) for axis in range(ndim)])
    return out


def norm(A: Tensor, ord: Any = None, dim: Any = None, keepdim: bool = False, *,
         dtype: Any = None) -> Tensor:
    """A vector norm (dim an int, or a 1-D input) or a matrix norm (dim a pair, or 2-D input)."""
    if dim is not None:
        dims = (dim,) if isinstance(dim, int) else tuple(dim)
        if len(dims) not in (1, 2):
            raise RuntimeError(
                f"linalg.norm: If dim is specified, it must be of length 1 or 2. Got {list(dims)}")
    else:
        dims = None
    if isinstance(ord, str):
        return matrix_norm(A, ord, (-2, -1) if dims is None else dims, keepdim, dtype=dtype)
    if ord is None:
        if dims is not None and len(dims) == 2:
            return matrix_norm(A, "fro", dims, keepdim, dtype=dtype)
        return vector_norm(A, 2, dims, keepdim, dtype=dtype)
    if dims is None:
        ndim = A._data.ndim
        if ndim not in (1, 2):
            raise RuntimeError(
                "linalg.norm: If dim is not specified but ord is, the input must be 1D or 2D. "
                f"Got {ndim}D."
            )
        dims = tuple(range(ndim))
    if len(dims) == 2:
        return matrix_norm(A, ord, dims, keepdim, dtype=dtype)
    return vector_norm(A, ord, dims, keepdim, dtype=dtype)


# ----------------------------------------------------------------------------- renorm
class Renorm(Function):
    """Each slice along `dim` whose p-norm exceeds maxnorm, scaled to norm maxnorm (by
    maxnorm / (norm + 1e-7), as PyTorch)."""

    node_name = "RenormBackward0"
    saved_fields = fields(self=saved(0), p=value("p"), dim=value("dim"),
                          maxnorm=value("maxnorm"))

    jvp = jvp_from_backward

    @staticmethod
    def forward(ctx: Any, x: Any, *, p: float, dim: int, maxnorm: float) -> Any:
        backend = ctx.backend
        axes = tuple(axis for axis in range(x.ndim) if axis != dim)
        ctx.p, ctx.axes, ctx.maxnorm, ctx.dim = p, axes, maxnorm, dim
        norm = LinalgVectorNorm.forward(ctx, x, ord=p, axes=axes, keepdim=True)
        ctx.save_for_backward(x)
        factor = backend.where(backend.greater(norm, maxnorm),
                               backend.divide(maxnorm, backend.add(norm, 1e-7)),
                               backend.ones_like(norm))
        return backend.multiply(x, factor)

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> Tensor:
        x, = ctx.saved_tensors
        axes, p, maxnorm = ctx.axes, ctx.p, ctx.maxnorm
        norm = vector_norm(x, p, axes, keepdim=True)
        weighted = (x * grad).sum(axes, keepdim=True)
        through_norm = norm_backward(weighted, x, norm, p, axes)
        inverse = 1 / (norm + 1e-7)
        scaled = inverse * maxnorm * grad
        if through_norm is not None:
            scaled = scaled - maxnorm * inverse * inverse * through_norm
        return where(norm > maxnorm, scaled, grad)


@autocast_op("renorm")
def renorm(input: Tensor, p: float, dim: int, maxnorm: float) -> Tensor:
    ndim = input._data.ndim
    if ndim <= 1:
        raise RuntimeError(
            f"renorm: input needs at least 2 dimensions, got {ndim} dimensions")
    if p <= 0:
        raise RuntimeError("renorm: non-positive-norm not supported")
    if maxnorm < 0:
        raise RuntimeError(f"renorm: expected maxnorm to be >= 0 but got {maxnorm:g}")
    dim = _wrap_dim(dim, ndim)
    _check_floating("linalg.vector_norm", input)
    return Renorm.apply(input, p=float(p), dim=dim, maxnorm=maxnorm)


def frobenius_norm(input: Tensor, dim: Any, keepdim: bool = False) -> Tensor:
    """torch.frobenius_norm (kept by PyTorch for TorchScript): the 2-norm over the (at most
    two) dims `dim`, all of them for ()."""
    dims = (dim,) if isinstance(dim, int) else tuple(dim)
    if len(dims) > 2:
        raise RuntimeError(
            f"Expected at most 2 dimensions, but got {len(dims)} dimensions instead.")
    if not (input.dtype.is_floating_point or input.dtype.is_complex):
        raise RuntimeError("norm(): input dtype should be either floating point or complex. "
                           f"Got {dtypes.SCALAR_TYPE_NAMES[input.dtype.name]} instead.")
    axes = reduction_axes(dims, input._data.ndim)
    return NormDims.apply(input, ord=2.0, axes=axes, keepdim=bool(keepdim))


def nuclear_norm(input: Tensor, dim: Any = (-2, -1), keepdim: bool = False) -> Tensor:
    """torch.nuclear_norm: the sum of the singular values over the two dims `dim`."""
    if isinstance(dim, bool):  # nuclear_norm(input, keepdim)
        dim, keepdim = (-2, -1), dim
    return matrix_norm(input, "nuc", dim, keepdim)
