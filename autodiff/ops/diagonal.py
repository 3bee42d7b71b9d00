"""Matrix-structure ops: diagonal (a view), trace, tril and triu."""

from __future__ import annotations

from typing import Any

from .. import dtypes
from ..function import Function
from ..tensor import Tensor, _wrap_dim
from .indexing import ViewScatter, take_index
from .shape import view_op

_NOT_VIEWABLE = (ValueError, AttributeError)


def _diagonal_length(rows: int, cols: int, offset: int) -> int:
    if offset >= 0:
        return max(min(rows, cols - offset), 0)
    return max(min(rows + offset, cols), 0)


def _diagonal_key(backend: Any, length: int, offset: int) -> tuple[Any, ...]:
    """(..., row indices, column indices) of the diagonal in the last two dims."""
    rows = backend.arange(max(-offset, 0), max(-offset, 0) + length, 1, "int64")
    cols = backend.arange(max(offset, 0), max(offset, 0) + length, 1, "int64")
    return (..., rows, cols)


class Diagonal(Function):
    """A view on the diagonal. Without strides to set, it is taken as a strided slice of the
    two dims flattened into one (a view whenever those dims can be merged without a copy)."""

    node_name = "DiagonalBackward0"

    @staticmethod
    def forward(ctx: Any, a: Any, *, offset: int, dim1: int, dim2: int) -> Any:
        backend = ctx.backend
        others = [axis for axis in range(a.ndim) if axis not in (dim1, dim2)]
        ctx.order = (*others, dim1, dim2)
        ctx.moved_shape = tuple(a.shape[axis] for axis in ctx.order)
        ctx.offset = offset
        ctx.length = _diagonal_length(a.shape[dim1], a.shape[dim2], offset)
        return ctx._take(backend, backend.permute_dims(a, ctx.order), offset, ctx.length)

    @staticmethod
    def _take(backend: Any, moved: Any, offset: int, length: int) -> Any:
        *lead, rows, cols = moved.shape
        # diagonal(A, k) == diagonal(A.T, -k): try both layouts for one that flattens as a view.
        for matrix, k, width in ((moved, offset, cols), (None, -offset, rows)):
            if matrix is None:
                order = (*range(len(lead)), len(lead) + 1, len(lead))
                matrix = backend.permute_dims(moved, order)
            try:
                flat = backend.reshape(matrix, (*lead, rows * cols),
                                       copy=False if 0 not in moved.shape else None)
            except _NOT_VIEWABLE:
                continue
            start = k if k >= 0 else -k * width
            step = width + 1
            stop = start + (length - 1) * step + 1 if length else start
            return backend.getitem(flat, (..., slice(start, stop, step)))
        raise ValueError("diagonal: no view of this layout")

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> Tensor:
        key = _diagonal_key(grad._backend, ctx.length, ctx.offset)
        moved = ViewScatter.apply(grad, shape=ctx.moved_shape, key=key)
        inverse = [0] * len(ctx.order)
        for position, axis in enumerate(ctx.order):
            inverse[axis] = position
        return moved.permute(inverse)


class DiagonalCopy(Diagonal):
    """The diagonal of a layout that has no view on it: a copy (writes do not reach the input)."""

    @staticmethod
    def _take(backend: Any, moved: Any, offset: int, length: int) -> Any:
        return take_index(backend, moved, _diagonal_key(backend, length, offset))


def diagonal(input: Tensor, offset: int = 0, dim1: int = 0, dim2: int = 1) -> Tensor:
    ndim = input._data.ndim
    dim1, dim2 = _wrap_dim(dim1, ndim), _wrap_dim(dim2, ndim)
    if dim1 == dim2:
        raise RuntimeError(f"diagonal dimensions cannot be identical {dim1}, {dim2}")
    try:
        return view_op(Diagonal, input, offset=int(offset), dim1=dim1, dim2=dim2)
    except _NOT_VIEWABLE:
        return DiagonalCopy.apply(input, offset=int(offset), dim1=dim1, dim2=dim2)


class Trace(Function):
    node_name = "TraceBackward0"

    @staticmethod
    def forward(ctx: Any, a: Any) -> Any:
        backend = ctx.backend
        ctx.shape = a.shape
        ctx.length = min(a.shape)
        return backend.sum(backend.getitem(a, _diagonal_key(backend, ctx.length, 0)[1:]))

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> Tensor:
        key = _diagonal_key(grad._backend, ctx.length, 0)[1:]
        return ViewScatter.apply(grad.expand(ctx.length), shape=ctx.shape, key=key)


def trace(input: Tensor) -> Tensor:
    if input.dtype is dtypes.bool_:
        raise NotImplementedError('"trace" not implemented for \'Bool\'')
    if input._data.ndim != 2:
        raise RuntimeError(f"trace: expected a matrix, but got tensor with dim {input._data.ndim}")
    return Trace.apply(input)


class Tril(Function):
    node_name = "TrilBackward0"
    upper = False

    @staticmethod
    def forward(ctx: Any, a: Any, *, diagonal: int) -> Any:
        backend = ctx.backend
        ctx.diagonal = diagonal
        rows, cols = a.shape[-2:]
        row = backend.reshape(backend.arange(0, rows, 1, "int64"), (rows, 1))
        col = backend.reshape(backend.arange(0, cols, 1, "int64"), (1, cols))
        above = backend.subtract(col, row)  # how far right of the main diagonal
        keep = (backend.greater_equal(above, diagonal) if ctx.upper
                else backend.less_equal(above, diagonal))
        return backend.where(keep, a, backend.zeros_like(a))

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> Tensor:
        return type(ctx).apply(grad, diagonal=ctx.diagonal)


class Triu(Tril):
    node_name = "TriuBackward0"
    upper = True


def _triangle(op: type[Tril], name: str, input: Tensor, diagonal: int) -> Tensor:
    if input._data.ndim < 2:
        raise RuntimeError(f"{name}: input tensor must have at least 2 dimensions")
    return op.apply(input, diagonal=int(diagonal))


def tril(input: Tensor, diagonal: int = 0) -> Tensor:
    return _triangle(Tril, "tril", input, diagonal)


def triu(input: Tensor, diagonal: int = 0) -> Tensor:
    return _triangle(Triu, "triu", input, diagonal)
