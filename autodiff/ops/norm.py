"""Norms of `autodiff.linalg`: vector_norm (one node, PyTorch's LinalgVectorNormBackward0),
matrix_norm and norm (compositions, as in PyTorch).

Differentiable: every vector order, and the matrix orders 'fro', 1, -1, inf, -inf. The
matrix orders 2, -2 and 'nuc' go through singular values, whose gradient U diag(g) V^T is
implemented to first order only (a second derivative raises).
"""

from __future__ import annotations

import math
from typing import Any

from .. import dtypes
from ..function import Function
from ..tensor import Tensor, _wrap
from ._util import normalize_dims
from .elementwise import where

_INF = math.inf


def _constant(tensor: Tensor, array: Any) -> Tensor:
    return _wrap(array, tensor._backend)


def _sign(tensor: Tensor) -> Tensor:
    """sign(x) as a constant: its derivative is zero wherever it exists."""
    return _constant(tensor, tensor._backend.sign(tensor._data))


def _abs(tensor: Tensor) -> Tensor:
    return tensor * _sign(tensor)


def _keep_dims(tensor: Tensor, shape: tuple[int, ...], axes: tuple[int, ...] | None,
               keepdim: bool) -> Tensor:
    """A reduced tensor reshaped so it broadcasts against the input of `shape` again."""
    if keepdim:
        return tensor
    axes = tuple(range(len(shape))) if axes is None else axes
    return tensor.reshape([1 if axis in axes else size for axis, size in enumerate(shape)])


# ----------------------------------------------------------------------------- vector norm
class LinalgVectorNorm(Function):
    node_name = "LinalgVectorNormBackward0"

    @staticmethod
    def forward(ctx: Any, x: Any, *, ord: float, axes: tuple[int, ...] | None,
                keepdim: bool) -> Any:
        backend = ctx.backend
        ctx.ord, ctx.axes, ctx.keepdim = ord, axes, keepdim
        if ord == 2:
            out = backend.sqrt(backend.sum(backend.multiply(x, x), axis=axes, keepdims=keepdim))
        elif ord == 0:
            nonzero = backend.astype(backend.not_equal(x, 0), backend.dtype_name(x))
            out = backend.sum(nonzero, axis=axes, keepdims=keepdim)
        else:
            magnitude = backend.abs(x)
            if ord == _INF:
                out = backend.max(magnitude, axis=axes, keepdims=keepdim)
            elif ord == -_INF:
                out = backend.min(magnitude, axis=axes, keepdims=keepdim)
            elif ord == 1:
                out = backend.sum(magnitude, axis=axes, keepdims=keepdim)
            else:
                total = backend.sum(backend.pow(magnitude, ord), axis=axes, keepdims=keepdim)
                out = backend.pow(total, 1.0 / ord)
        ctx.save_for_backward(x, out)
        return out

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> Tensor:
        x, norm = ctx.saved_tensors
        p, shape = ctx.ord, x._data.shape
        grad = _keep_dims(grad, shape, ctx.axes, ctx.keepdim)
        norm = _keep_dims(norm, shape, ctx.axes, ctx.keepdim)
        # PyTorch's norm_backward, case by case; where the norm is 0 the gradient is 0.
        if p == 0:
            return _constant(x, x._backend.zeros_like(x._data))
        if p == 1:
            return _sign(x) * grad
        if p in (_INF, -_INF):
            backend = x._backend
            mask = backend.equal(backend.abs(x._data), norm._data)
            mask = backend.astype(mask, backend.dtype_name(x._data))
            count = backend.sum(mask, axis=ctx.axes, keepdims=True)
            return _sign(x) * _constant(x, backend.divide(mask, count)) * grad
        is_zero = norm == 0
        safe_norm = where(is_zero, 1.0, norm)
        if p == 2:
            return x * where(is_zero, 0.0, grad / safe_norm)
        magnitude = _abs(x)
        if p < 1:
            scaled = _sign(x) * where(x == 0, 0.0, where(x == 0, 1.0, magnitude) ** (p - 1))
            return scaled * grad * norm ** (1 - p)
        scale = where(is_zero, 0.0, grad / safe_norm ** (p - 1))
        if p < 2:
            return _sign(x) * magnitude ** (p - 1) * scale
        return x * magnitude ** (p - 2) * scale


def vector_norm(x: Tensor, ord: float = 2, dim: Any = None, keepdim: bool = False, *,
                dtype: Any = None) -> Tensor:
    """(sum |x|^ord)^(1/ord) over `dim` (all dims when None); ord may be inf, -inf or 0."""
    if isinstance(ord, str) or not isinstance(ord, (int, float)):
        raise TypeError(
            "linalg_vector_norm(): argument 'ord' (position 2) must be Number, not "
            f"{type(ord).__name__}"
        )
    if dtype is not None:
        x = x.to(dtypes.to_dtype(dtype))
    _check_floating("linalg.vector_norm", x)
    shape = x._data.shape
    axes = normalize_dims(dim, len(shape))
    if ord in (_INF, -_INF):
        _check_not_empty(shape, axes, dim)
    return LinalgVectorNorm.apply(x, ord=float(ord), axes=axes, keepdim=keepdim)


def _check_floating(function: str, x: Tensor) -> None:
    if not x.dtype.is_floating_point:
        raise RuntimeError(
            f"{function}: Expected a floating point or complex tensor as input. Got "
            f"{dtypes.SCALAR_TYPE_NAMES[x.dtype.name]}"
        )


def _check_not_empty(shape: tuple[int, ...], axes: tuple[int, ...] | None, dim: Any) -> None:
    """max/min have no identity: PyTorch refuses the inf norms of empty slices."""
    if axes is None or dim is None:
        if math.prod(shape) == 0:
            raise RuntimeError(
                "linalg.vector_norm cannot compute the inf norm on an empty tensor because the "
                "operation does not have an identity"
            )
        return
    for axis in axes:
        if shape[axis] == 0:
            raise RuntimeError(
                f"linalg.vector_norm cannot compute the inf norm on the dimension {axis}because "
                "this dimension is empty and the operation does not have an identity"
            )


# ----------------------------------------------------------------------------- matrix norms
class Amax(Function):
    """max over dims; the gradient goes to the maxima, split evenly between ties."""

    node_name = "AmaxBackward0"

    @staticmethod
    def forward(ctx: Any, x: Any, *, axes: tuple[int, ...], keepdim: bool) -> Any:
        ctx.axes, ctx.keepdim = axes, keepdim
        out = ctx.backend.max(x, axis=axes, keepdims=True)
        backend = ctx.backend
        mask = backend.astype(backend.equal(x, out), backend.dtype_name(x))
        ctx.save_for_backward(backend.divide(mask, backend.sum(mask, axis=axes, keepdims=True)))
        return out if keepdim else backend.squeeze(out, axis=axes)

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> Tensor:
        share, = ctx.saved_tensors
        return share * _keep_dims(grad, share._data.shape, ctx.axes, ctx.keepdim)


class Amin(Amax):
    node_name = "AminBackward0"

    @staticmethod
    def forward(ctx: Any, x: Any, *, axes: tuple[int, ...], keepdim: bool) -> Any:
        backend = ctx.backend
        return backend.negative(Amax.forward(ctx, backend.negative(x), axes=axes,
                                             keepdim=keepdim))


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


def matrix_norm(A: Tensor, ord: Any = "fro", dim: Any = (-2, -1), keepdim: bool = False, *,
                dtype: Any = None) -> Tensor:
    """A norm of each matrix over the two dims `dim`: 'fro', 'nuc', 1, -1, 2, -2, inf, -inf."""
    if A._data.ndim < 2:
        raise RuntimeError(
            "linalg.matrix_norm: The input tensor A must have at least 2 dimensions.")
    if dtype is not None:
        A = A.to(dtypes.to_dtype(dtype))
    _check_floating("linalg.matrix_norm", A)
    ndim = A._data.ndim
    rows, cols = (_wrap_dim(d, ndim) for d in dim)
    if ord == "fro":
        return vector_norm(A, 2, (rows, cols), keepdim)
    if ord == "nuc" or ord in (2, -2):
        return _singular_value_norm(A, ord, rows, cols, keepdim)
    if ord not in (1, -1, _INF, -_INF):
        raise RuntimeError(f"linalg.matrix_norm: Order {ord} not supported.")
    # 1: the largest column sum of |A|; inf: the largest row sum (-1, -inf: the smallest).
    summed, other = (rows, cols) if ord in (1, -1) else (cols, rows)
    sums = _abs(A).sum(summed, keepdim=keepdim)
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


def _wrap_dim(dim: int, ndim: int) -> int:
    from ..tensor import _wrap_dim as wrap

    return wrap(dim, ndim)
