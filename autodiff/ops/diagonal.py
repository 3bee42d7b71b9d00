"""Matrix-structure ops: diagonal (a view), trace, tril and triu; diag, diagflat, diag_embed
and diagonal_scatter; block_diag; fill_diagonal_."""

from __future__ import annotations

import math
from typing import Any

from backends import contiguous_strides

from .. import dtypes
from ..autocast_state import autocast_op
from ..batching.dispatch import function_rule
from ..creation import zeros, zeros_like
from ..function import Function
from ..jvp_rules import auto_linear
from ..saved_fields import Computed, fields, value
from ..tensor import Tensor, _wrap, _wrap_dim
from ._out import EXACT, takes_out
from .flat_indexing import unravel_index
from .indexing import ViewScatter, canonical_key, take_index
from .shape import view_op
from .strides import as_strided, is_contiguous, storage_offset

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


def _unmoved_shape(node: Any) -> tuple[int, ...]:
    """The input's shape, from the shape with the two diagonal dims moved last."""
    shape = [0] * len(node.order)
    for axis, size in zip(node.order, node.moved_shape):
        shape[axis] = size
    return tuple(shape)


class Diagonal(Function):
    """A view on the diagonal. Without strides to set, it is taken as a strided slice of the
    two dims flattened into one (a view whenever those dims can be merged without a copy)."""

    node_name = "DiagonalBackward0"
    saved_fields = fields(offset=value("offset"), dim1=value("order", lambda order: order[-2]),
                          dim2=value("order", lambda order: order[-1]),
                          self_sym_sizes=Computed(_unmoved_shape))

    jvp = auto_linear

    @staticmethod
    def forward(ctx: Any, a: Any, *, offset: int, dim1: int, dim2: int) -> Any:
        backend = ctx.backend
        others = [axis for axis in range(a.ndim) if axis not in (dim1, dim2)]
        ctx.order = (*others, dim1, dim2)
        ctx.moved_shape = tuple(a.shape[axis] for axis in ctx.order)
        ctx.offset = offset
        ctx.length = _diagonal_length(a.shape[dim1], a.shape[dim2], offset)
        if 0 in a.shape:  # no elements: PyTorch's strides, the two dims' summed
            strides = backend.strides(a)
            return backend.restrided(
                a, (*(a.shape[axis] for axis in others), ctx.length),
                (*(strides[axis] for axis in others), strides[dim1] + strides[dim2]))
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
    saved_fields = fields(self_sym_sizes=value("shape", tuple))

    jvp = auto_linear

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


@autocast_op("trace")
def trace(input: Tensor) -> Tensor:
    if input.dtype is dtypes.bool_:
        raise NotImplementedError('"trace" not implemented for \'Bool\'')
    if input._data.ndim != 2:
        raise RuntimeError(f"trace: expected a matrix, but got tensor with dim {input._data.ndim}")
    return Trace.apply(input)


class Tril(Function):
    node_name = "TrilBackward0"
    saved_fields = fields(diagonal=value("diagonal"))
    upper = False

    jvp = auto_linear

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


@takes_out(EXACT)
def tril(input: Tensor, diagonal: int = 0) -> Tensor:
    return _triangle(Tril, "tril", input, diagonal)


@takes_out(EXACT)
def triu(input: Tensor, diagonal: int = 0) -> Tensor:
    return _triangle(Triu, "triu", input, diagonal)


class DiagCopy(DiagonalCopy):
    """torch.diag of a matrix: the diagonal as a new tensor (PyTorch's diagonal_copy)."""

    node_name = "DiagonalBackward0_copy"


# ----------------------------------------------------------------------------- diagonals in
def _move_order(ndim: int, dim1: int, dim2: int) -> tuple[int, ...]:
    """The permutation that puts dim1 and dim2 last (the rest in order)."""
    return (*(axis for axis in range(ndim) if axis not in (dim1, dim2)), dim1, dim2)


def _inverse(order: tuple[int, ...]) -> tuple[int, ...]:
    inverse = [0] * len(order)
    for position, axis in enumerate(order):
        inverse[axis] = position
    return tuple(inverse)


def _write_diagonal(backend: Any, out: Any, values: Any, offset: int, dim1: int,
                    dim2: int) -> Any:
    """`out` (a fresh array) with its diagonal (offset, dim1, dim2) set to `values`."""
    order = _move_order(out.ndim, dim1, dim2)
    moved = backend.asarray(backend.permute_dims(out, order), copy=True)
    key = canonical_key(backend, moved.shape, _diagonal_key(backend, values.shape[-1], offset))
    backend.setitem(moved, key, values)
    return backend.asarray(backend.permute_dims(moved, _inverse(order)), copy=True)


class DiagEmbed(Function):
    """Tensors whose diagonal (offset, dim1, dim2 of the output) is the input's last dim."""

    node_name = "DiagEmbedBackward0"
    saved_fields = fields(offset=value("offset"), dim1=value("dim1"), dim2=value("dim2"))

    jvp = auto_linear

    @staticmethod
    def forward(ctx: Any, a: Any, *, offset: int, dim1: int, dim2: int) -> Any:
        backend = ctx.backend
        ctx.offset, ctx.dim1, ctx.dim2 = offset, dim1, dim2
        size = a.shape[-1] + abs(offset)
        batch = list(a.shape[:-1])
        shape = []
        for axis in range(a.ndim + 1):
            shape.append(size if axis in (dim1, dim2) else batch.pop(0))
        out = backend.zeros(tuple(shape), backend.dtype_name(a))
        return _write_diagonal(backend, out, a, offset, dim1, dim2)

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> Tensor:
        return diagonal(grad, ctx.offset, ctx.dim1, ctx.dim2)


def diag_embed(input: Tensor, offset: int = 0, dim1: int = -2, dim2: int = -1) -> Tensor:
    """Matrices (in dims dim1, dim2 of the result) with the input's last dim on their diagonal
    `offset`, zeros elsewhere."""
    ndim = input._data.ndim + 1
    dim1, dim2 = _wrap_dim(dim1, ndim), _wrap_dim(dim2, ndim)
    if dim1 == dim2:
        raise RuntimeError(f"diagonal dimensions cannot be identical {dim1}, {dim2}")
    if input._data.ndim == 0:
        input = input.reshape(1)
    return DiagEmbed.apply(input, offset=int(offset), dim1=dim1, dim2=dim2)


def diag(input: Tensor, diagonal: int = 0) -> Tensor:
    """A vector's square matrix with it on diagonal `diagonal`; a matrix's diagonal (a copy)."""
    ndim = input._data.ndim
    if ndim == 1:
        return diag_embed(input, diagonal, 0, 1)
    if ndim != 2:
        raise RuntimeError(f"diag(): Supports 1D or 2D tensors. Got {ndim}D")
    return DiagCopy.apply(input, offset=int(diagonal), dim1=0, dim2=1)


def diagflat(input: Tensor, offset: int = 0) -> Tensor:
    """The square matrix with the flattened input on diagonal `offset`."""
    return diag_embed(input.flatten(), offset, 0, 1)


class DiagonalScatter(Function):
    """A copy of the input with its diagonal (offset, dim1, dim2) replaced by `src`."""

    node_name = "DiagonalScatterBackward0"
    saved_fields = DiagEmbed.saved_fields

    jvp = auto_linear

    @staticmethod
    def forward(ctx: Any, a: Any, src: Any, *, offset: int, dim1: int, dim2: int) -> Any:
        backend = ctx.backend
        ctx.offset, ctx.dim1, ctx.dim2 = offset, dim1, dim2
        if src.dtype != a.dtype:
            src = backend.astype(src, backend.dtype_name(a))
        return _write_diagonal(backend, backend.asarray(a, copy=True), src, offset, dim1, dim2)

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> tuple[Tensor | None, Tensor | None]:
        needs_input, needs_src = ctx.needs_input_grad
        options = {"offset": ctx.offset, "dim1": ctx.dim1, "dim2": ctx.dim2}
        grad_input = grad_src = None
        if needs_input or needs_src:
            diagonal_grad = diagonal(grad, ctx.offset, ctx.dim1, ctx.dim2)
            if needs_input:
                grad_input = DiagonalScatter.apply(grad, zeros_like(diagonal_grad), **options)
            if needs_src:
                grad_src = diagonal_grad
        return grad_input, grad_src


def diagonal_scatter(input: Tensor, src: Tensor, offset: int = 0, dim1: int = 0,
                     dim2: int = 1) -> Tensor:
    """A copy of `input` whose diagonal (as `diagonal` takes it) holds `src`."""
    ndim = input._data.ndim
    dim1, dim2 = _wrap_dim(dim1, ndim), _wrap_dim(dim2, ndim)
    if dim1 == dim2:
        raise RuntimeError(f"diagonal dimensions cannot be identical {dim1}, {dim2}")
    shape = input._data.shape
    others = [shape[axis] for axis in range(ndim) if axis not in (dim1, dim2)]
    expected = [*others, _diagonal_length(shape[dim1], shape[dim2], int(offset))]
    if list(src._data.shape) != expected:
        raise RuntimeError(
            f"expected src to have a size equal to the slice of self. src size = "
            f"{list(src._data.shape)}, slice size = {expected}"
        )
    return DiagonalScatter.apply(input, src, offset=int(offset), dim1=dim1, dim2=dim2)


# ----------------------------------------------------------------------------- block_diag
class BlockDiag(Function):
    """The matrices one after another along the diagonal of a zero matrix."""

    node_name = "BlockDiagBackward0"

    jvp = auto_linear

    @staticmethod
    def forward(ctx: Any, *arrays: Any) -> Any:
        backend = ctx.backend
        kind = dtypes.result_type(*(dtypes.BY_NAME[backend.dtype_name(a)] for a in arrays))
        ctx.shapes = [a.shape for a in arrays]
        blocks = [backend.reshape(a, (1, 1) if a.ndim == 0 else (1, -1) if a.ndim == 1
                                  else a.shape) for a in arrays]
        rows = sum(block.shape[0] for block in blocks)
        cols = sum(block.shape[1] for block in blocks)
        out = backend.zeros((rows, cols), kind.name)
        row = col = 0
        ctx.corners = []
        for block in blocks:
            height, width = block.shape
            ctx.corners.append((row, col, height, width))
            if block.dtype != out.dtype:
                block = backend.astype(block, kind.name)
            backend.setitem(out, (slice(row, row + height), slice(col, col + width)), block)
            row, col = row + height, col + width
        return out

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> tuple[Tensor | None, ...]:
        grads: list[Tensor | None] = []
        for (row, col, height, width), shape, needed in zip(ctx.corners, ctx.shapes,
                                                             ctx.needs_input_grad):
            if not needed:
                grads.append(None)
                continue
            block = grad[row:row + height, col:col + width]
            grads.append(block.reshape(shape))
        return tuple(grads)


def block_diag(*tensors: Tensor) -> Tensor:
    """The block-diagonal matrix of the tensors (0-d as 1x1, 1-d as one row)."""
    for index, tensor in enumerate(tensors):
        if tensor._data.ndim > 2:
            raise RuntimeError(
                "torch.block_diag: Input tensors must have 2 or fewer dimensions. Input "
                f"{index} has {tensor._data.ndim} dimensions"
            )
    if not tensors:
        return zeros(1, 0)
    return BlockDiag.apply(*tensors)


# ----------------------------------------------------------------------------- fill_diagonal_
def diagonal_positions(shape: tuple[int, ...], wrap: bool) -> tuple[int, int]:
    """fill_diagonal_'s checks of the shape, and the (count, step) of its diagonal's flat
    positions in row-major order."""
    if len(shape) < 2:
        raise RuntimeError("dimensions must larger than 1")
    if len(shape) > 2 and len(set(shape)) != 1:
        raise RuntimeError("all dimensions of input must be of equal length")
    step = sum(contiguous_strides(shape))
    count = len(range(0, math.prod(shape), step)) if wrap and len(shape) == 2 else min(shape)
    return count, step


@function_rule("fill_diagonal_")
def fill_diagonal_(input: Tensor, fill_value: Any, wrap: bool = False) -> Tensor:
    """Write `fill_value` on the main diagonal (all dims of equal size, or a matrix), in place.
    The diagonal is every (sum of strides)-th element of the tensor read in row-major order;
    with `wrap` a tall matrix's diagonal goes on below each square block, as in PyTorch. On a
    contiguous tensor of a backend with strided views it is a fill through an as_strided view
    (the base's node is CopySlices, as in PyTorch's); elsewhere an index_put_ at the positions."""
    shape = input._data.shape
    count, step = diagonal_positions(shape, wrap)
    if is_contiguous(input):
        view = as_strided(input, (count,), (step,), storage_offset(input))
        if view._base is not None:  # a real view: the fill reaches the input
            view.fill_(fill_value)
            return input
    backend = input._backend
    positions = backend.multiply(backend.arange(0, count, 1, "int64"), step)
    coordinates = unravel_index(_wrap(positions, backend), shape)
    value = _wrap(backend.full((), fill_value, backend.dtype_name(input._data)), backend)
    return input.index_put_(coordinates, value)
