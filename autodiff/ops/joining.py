"""Joining and splitting: cat, stack and their by-dim forms (hstack, vstack, dstack,
column_stack); split, chunk, unbind, split_with_sizes, tensor_split and hsplit/vsplit/dsplit;
and the copies that rearrange elements: repeat, tile, flip, roll (the rest are in
rearranging.py).

split, chunk and unbind return views of their input from one node with several outputs (as in
PyTorch, those views may not be modified in place; see views.py); tensor_split's pieces are
slices (one SliceBackward0 each), as PyTorch's are.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from typing import Any

from .. import dtypes
from ..autocast_state import autocast_op
from ..function import Function
from ..jvp_rules import auto_linear
from ..saved_fields import InputSizes, every_dim_empty, fields, int_tuple, value
from ..tensor import Tensor, _wrap_dim
from ._dims import normalize_dims
from ._out import castable, takes_out
from .indexing import narrow, select
from .shape import atleast_1d, atleast_2d, atleast_3d, shape_arg
from .views import as_multi_output_views, prepare_view_input


def _promote_all(backend: Any, arrays: Sequence[Any]) -> list[Any]:
    names = {backend.dtype_name(a) for a in arrays}
    if len(names) == 1:
        return list(arrays)
    result = dtypes.result_type(*(dtypes.BY_NAME[name] for name in names)).name
    return [a if backend.dtype_name(a) == result else backend.astype(a, result) for a in arrays]


# ----------------------------------------------------------------------------- cat and stack
class Cat(Function):
    node_name = "CatBackward0"
    saved_fields = fields(dim=value("dim"))

    jvp = auto_linear

    @staticmethod
    def forward(ctx: Any, *arrays: Any, dim: int) -> Any:
        ctx.dim = dim
        # PyTorch's legacy rule: 1-d empty tensors are skipped when the others have more dims.
        ctx.sizes = [None if a.shape == (0,) and a.ndim != _ndim(arrays) else a.shape[dim]
                     for a in arrays]
        kept = [a for a, size in zip(arrays, ctx.sizes) if size is not None]
        return ctx.backend.concat(_promote_all(ctx.backend, kept), axis=dim)

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> tuple[Tensor | None, ...]:
        grads: list[Tensor | None] = []
        start = 0
        for size, needed in zip(ctx.sizes, ctx.needs_input_grad):
            if size is None:
                grads.append(None)
                continue
            grads.append(narrow(grad, ctx.dim, start, size) if needed else None)
            start += size
        return tuple(grads)


def _ndim(arrays: Sequence[Any]) -> int:
    return max(a.ndim for a in arrays)


# cat and stack write any castable dtype into out; PyTorch refuses the rest as a TypeError.
_CAT_OUT = castable("torch.cat(): input types can't be cast to the desired output type {out}",
                    TypeError)


@takes_out(_CAT_OUT)
@autocast_op("cat")
def cat(tensors: Sequence[Tensor], dim: int = 0) -> Tensor:
    tensors = list(tensors)
    if not tensors:
        raise ValueError("torch.cat(): expected a non-empty list of Tensors")
    shapes = [t._data.shape for t in tensors]
    kept = [(index, shape) for index, shape in enumerate(shapes)
            if not (shape == (0,) and any(len(s) != 1 for s in shapes))]
    for index, shape in kept:
        if not shape:
            raise RuntimeError(
                f"zero-dimensional tensor (at position {index}) cannot be concatenated"
            )
    first = kept[0][1] if kept else shapes[0]
    dim = _wrap_dim(dim, len(first))
    for index, shape in kept:
        if len(shape) != len(first):
            raise RuntimeError(
                f"Tensors must have same number of dimensions: got {len(first)} and {len(shape)}"
            )
        for axis, (size, expected) in enumerate(zip(shape, first)):
            if axis != dim and size != expected:
                raise RuntimeError(
                    f"Sizes of tensors must match except in dimension {dim}. Expected size "
                    f"{expected} but got size {size} for tensor number {index} in the list."
                )
    return Cat.apply(*tensors, dim=dim)


concat = cat
concatenate = cat


class Stack(Function):
    node_name = "StackBackward0"
    saved_fields = fields(dim=value("dim"))

    jvp = auto_linear

    @staticmethod
    def forward(ctx: Any, *arrays: Any, dim: int) -> Any:
        ctx.dim = dim
        return ctx.backend.stack(_promote_all(ctx.backend, arrays), axis=dim)

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> tuple[Tensor | None, ...]:
        return tuple(select(grad, ctx.dim, index) if needed else None
                     for index, needed in enumerate(ctx.needs_input_grad))


@takes_out(_CAT_OUT, "stack")
@autocast_op("stack")
def stack(tensors: Sequence[Tensor], dim: int = 0) -> Tensor:
    tensors = list(tensors)
    if not tensors:
        raise RuntimeError("stack expects a non-empty TensorList")
    first = tensors[0]._data.shape
    for index, tensor in enumerate(tensors[1:], start=1):
        if tensor._data.shape != first:
            raise RuntimeError(
                f"stack expects each tensor to be equal size, but got {list(first)} at entry 0 "
                f"and {list(tensor._data.shape)} at entry {index}"
            )
    return Stack.apply(*tensors, dim=_wrap_dim(dim, len(first) + 1))


# ----------------------------------------------------------------------------- split
class Split(Function):
    """One node, one output per piece; each piece is a view of the input."""

    node_name = "SplitBackward0"
    saved_fields = fields(dim=value("dim"), self_sym_sizes=value("input_shape", tuple),
                          split_size=value("split_size"))

    jvp = auto_linear

    @staticmethod
    def forward(ctx: Any, a: Any, *, dim: int, sizes: tuple[int, ...],
                split_size: int | None = None) -> Any:
        """`split_size`: the size asked for, where split was given one (the first piece's,
        or more)."""
        ctx.dim, ctx.input_shape, ctx.sizes = dim, a.shape, sizes
        ctx.split_size = sizes[0] if split_size is None else split_size
        pieces = []
        start = 0
        for size in sizes:
            key = (*(slice(None),) * dim, slice(start, start + size), ...)
            pieces.append(ctx.backend.getitem(a, key))
            start += size
        return tuple(pieces)

    @staticmethod
    def backward(ctx: Any, *grads: Tensor) -> Tensor:
        return cat(grads, ctx.dim)


class SplitWithSizes(Split):
    node_name = "SplitWithSizesBackward0"
    saved_fields = fields(dim=value("dim"), self_sym_sizes=value("input_shape", tuple),
                          split_sizes=value("sizes", tuple))


def _split(op: type[Split], input: Tensor, dim: int, sizes: tuple[int, ...],
           **extra: Any) -> tuple[Tensor, ...]:
    options = {"dim": dim, "sizes": sizes, **extra}
    prepare_view_input(input)
    return as_multi_output_views(op.apply(input, **options), input, op, options)


def _split_sizes(input: Tensor, split_size_or_sections: Any, dim: int,
                 ) -> tuple[type[Split], int, tuple[int, ...]]:
    """split's op (by size or by sections), wrapped dim and piece sizes, after its checks."""
    shape = input._data.shape
    if not shape:
        raise RuntimeError("split expects at least a 1-dimensional tensor")
    dim = _wrap_dim(dim, len(shape))
    size = shape[dim]
    if not isinstance(split_size_or_sections, int):
        sizes = tuple(int(s) for s in split_size_or_sections)
        if sum(sizes) != size or any(s < 0 for s in sizes):
            raise RuntimeError(
                "split_with_sizes expects split_sizes to sum exactly to "
                f"{size} (input tensor's size at dimension {dim}), but got "
                f"split_sizes={list(sizes)}"
            )
        return SplitWithSizes, dim, sizes
    piece = split_size_or_sections
    if piece < 0:
        raise RuntimeError(
            f"split expects split_size be non-negative, but got split_size={piece}"
        )
    if piece == 0 and size != 0:
        raise RuntimeError(
            "split_size can only be 0 if dimension size is 0, but got dimension size of "
            f"{size}"
        )
    count = max(-(-size // piece), 1) if piece else 1
    return Split, dim, tuple(min(piece, size - index * piece) for index in range(count))


def split(input: Tensor, split_size_or_sections: Any, dim: int = 0) -> tuple[Tensor, ...]:
    op, dim, sizes = _split_sizes(input, split_size_or_sections, dim)
    if op is Split:
        return _split(op, input, dim, sizes, split_size=split_size_or_sections)
    return _split(op, input, dim, sizes)


def _chunk_size(input: Tensor, chunks: int, dim: int) -> tuple[int, int]:
    """(dim, piece size) of chunk, after its checks; size -1: every chunk empty."""
    if chunks <= 0:
        raise RuntimeError(f"chunk expects `chunks` to be greater than 0, got: {chunks}")
    shape = input._data.shape
    if not shape:
        raise RuntimeError("chunk expects at least a 1-dimensional tensor")
    dim = _wrap_dim(dim, len(shape))
    return dim, (-1 if shape[dim] == 0 else -(-shape[dim] // chunks))


def chunk(input: Tensor, chunks: int, dim: int = 0) -> tuple[Tensor, ...]:
    dim, piece = _chunk_size(input, chunks, dim)
    if piece < 0:
        return _split(Split, input, dim, (0,) * chunks)
    return split(input, piece, dim)


class UnsafeSplit(Split):
    """split whose pieces share the input's memory without being tracked as its views (no
    shared version counter, no in-place restrictions): PyTorch's unsafe_split."""

    node_name = "UnsafeSplitBackward0"


class UnsafeSplitWithSizes(Split):
    node_name = "UnsafeSplitWithSizesBackward0"
    saved_fields = SplitWithSizes.saved_fields


def unsafe_split(input: Tensor, split_size: Any, dim: int = 0) -> tuple[Tensor, ...]:
    op, dim, sizes = _split_sizes(input, split_size, dim)
    if op is SplitWithSizes:
        return tuple(UnsafeSplitWithSizes.apply(input, dim=dim, sizes=sizes))
    return tuple(UnsafeSplit.apply(input, dim=dim, sizes=sizes, split_size=split_size))


def unsafe_split_with_sizes(input: Tensor, split_sizes: Any, dim: int = 0) -> tuple[Tensor, ...]:
    return unsafe_split(input, [int(size) for size in split_sizes], dim)


def unsafe_chunk(input: Tensor, chunks: int, dim: int = 0) -> tuple[Tensor, ...]:
    dim, piece = _chunk_size(input, chunks, dim)
    if piece < 0:
        return tuple(UnsafeSplit.apply(input, dim=dim, sizes=(0,) * chunks))
    return unsafe_split(input, piece, dim)


class Unbind(Function):
    node_name = "UnbindBackward0"
    saved_fields = fields(dim=value("dim"))

    jvp = auto_linear

    @staticmethod
    def forward(ctx: Any, a: Any, *, dim: int) -> Any:
        ctx.dim = dim
        return tuple(ctx.backend.getitem(a, (slice(None),) * dim + (index, ...))
                     for index in range(a.shape[dim]))

    @staticmethod
    def backward(ctx: Any, *grads: Tensor) -> Tensor:
        return stack(grads, ctx.dim)


def unbind(input: Tensor, dim: int = 0) -> tuple[Tensor, ...]:
    shape = input._data.shape
    if not shape:
        raise IndexError("Dimension specified as 0 but tensor has no dimensions")
    dim = _wrap_dim(dim, len(shape))
    options = {"dim": dim}
    prepare_view_input(input)
    return as_multi_output_views(Unbind.apply(input, **options), input, Unbind, options)


# ----------------------------------------------------------------------------- rearranging copies
class Repeat(Function):
    node_name = "RepeatBackward0"
    saved_fields = fields(repeats=value("repeats", int_tuple), self_sym_sizes=InputSizes())

    jvp = auto_linear

    @staticmethod
    def forward(ctx: Any, a: Any, *, repeats: tuple[int, ...]) -> Any:
        ctx.input_shape = a.shape
        ctx.repeats = repeats
        lead = len(repeats) - a.ndim
        a = ctx.backend.reshape(a, (1,) * lead + a.shape)
        return ctx.backend.tile(a, repeats)

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> Tensor:
        # Split every dim into (repeat, size) and sum over the repeats.
        sizes = (1,) * (len(ctx.repeats) - len(ctx.input_shape)) + ctx.input_shape
        interleaved = []
        for repeat, size in zip(ctx.repeats, sizes):
            interleaved += [repeat, size]
        summed = grad.reshape(interleaved).sum(tuple(range(0, len(interleaved), 2)))
        return summed.reshape(ctx.input_shape)


def repeat(input: Tensor, *sizes: Any) -> Tensor:
    repeats = shape_arg(sizes)
    if len(repeats) < input._data.ndim:
        raise RuntimeError(
            "Number of dimensions of repeat dims can not be smaller than number of dimensions "
            "of tensor"
        )
    if any(r < 0 for r in repeats):
        raise RuntimeError(
            f"Trying to create tensor with negative dimension {min(repeats)}: {list(repeats)}"
        )
    return Repeat.apply(input, repeats=repeats)


def tile(input: Tensor, dims: Any) -> Tensor:
    dims = shape_arg((dims,))
    ndim = input._data.ndim
    return repeat(input, (1,) * (ndim - len(dims)) + dims)


class Flip(Function):
    node_name = "FlipBackward0"
    saved_fields = fields(dims=value("dims", int_tuple))

    jvp = auto_linear

    @staticmethod
    def forward(ctx: Any, a: Any, *, dims: tuple[int, ...]) -> Any:
        ctx.dims = dims
        flipped = ctx.backend.flip(a, axis=dims) if dims and a.ndim else a
        return ctx.backend.asarray(flipped, copy=True)  # NumPy's flip is a view; PyTorch's a copy

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> Tensor:
        return Flip.apply(grad, dims=ctx.dims)


def flip(input: Tensor, *dims: Any) -> Tensor:
    axes = normalize_dims(shape_arg(dims), input._data.ndim)
    return Flip.apply(input, dims=axes or ())


class Roll(Function):
    node_name = "RollBackward0"
    saved_fields = fields(dims=value("dims", every_dim_empty),
                          shifts=value("shifts", int_tuple))

    jvp = auto_linear

    @staticmethod
    def forward(ctx: Any, a: Any, *, shifts: tuple[int, ...], dims: tuple[int, ...] | None) -> Any:
        ctx.shifts, ctx.dims = shifts, dims
        backend = ctx.backend
        if dims is None:  # roll the flattened tensor
            flat = backend.roll(backend.reshape(a, (-1,)), shifts[0])
            return backend.reshape(flat, a.shape)
        return backend.roll(a, shifts, axis=dims)

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> Tensor:
        return Roll.apply(grad, shifts=tuple(-s for s in ctx.shifts), dims=ctx.dims)


def roll(input: Tensor, shifts: Any, dims: Any = None) -> Tensor:
    shift_list = (int(shifts),) if isinstance(shifts, int) else tuple(int(s) for s in shifts)
    if dims is None:
        if len(shift_list) != 1:
            raise RuntimeError(
                f"shifts and dimensions must align. shifts: {len(shift_list)}, dims:0"
            )
        return Roll.apply(input, shifts=shift_list, dims=None)
    dim_list = (dims,) if isinstance(dims, int) else tuple(dims)
    if len(shift_list) != len(dim_list):
        raise RuntimeError(
            f"shifts and dimensions must align. shifts: {len(shift_list)}, dims:{len(dim_list)}"
        )
    ndim = input._data.ndim
    return Roll.apply(input, shifts=shift_list, dims=tuple(_wrap_dim(d, ndim) for d in dim_list))


def split_with_sizes(input: Tensor, split_sizes: Any, dim: int = 0) -> tuple[Tensor, ...]:
    """Pieces of the given sizes along `dim` (views; they must add up to its size)."""
    return split(input, [int(size) for size in split_sizes], dim)


# ----------------------------------------------------------------------------- tensor_split
def _sections_or_indices(value: Any) -> Any:
    """tensor_split's second argument as an int (sections) or a list of ints (indices)."""
    if isinstance(value, Tensor):
        if value.dtype is not dtypes.int64:
            raise RuntimeError(
                "tensor_split expected tensor_indices_or_sections to have dtype of long, but "
                f"got {dtypes.SCALAR_TYPE_NAMES[value.dtype.name]}"
            )
        if value.ndim > 1:
            raise RuntimeError(
                "tensor_split expected tensor_indices_or_sections to be a zero-dimensional or "
                f"one-dimensional tensor, but got a tensor with {value.ndim} dims"
            )
        return int(value.item()) if value.ndim == 0 else [int(v) for v in value.tolist()]
    if isinstance(value, int):
        return value
    return [int(v) for v in value]


def tensor_split(input: Tensor, indices_or_sections: Any, dim: int = 0) -> tuple[Tensor, ...]:
    """Views along `dim`: `n` near-equal sections (the first size % n one longer), or the
    pieces between the given indices (each slice clamped, as Python's slicing is)."""
    shape = input._data.shape
    if not shape:
        raise RuntimeError(
            "tensor_split expected at least a 1-dimensional tensor, but got a tensor with 0 dims"
        )
    dim = _wrap_dim(dim, len(shape))
    size = shape[dim]
    split_at = _sections_or_indices(indices_or_sections)
    if isinstance(split_at, int):
        if split_at <= 0:
            raise RuntimeError(f"number of sections must be larger than 0, got {split_at}")
        base, longer = divmod(size, split_at)
        bounds, start = [], 0
        for section in range(split_at):
            length = base + (1 if section < longer else 0)
            bounds.append((start, start + length))
            start += length
    else:
        edges = [0, *split_at, size]
        bounds = []
        for start, stop in itertools.pairwise(edges):
            first, last, _ = slice(start, stop).indices(size)
            bounds.append((first, max(last, first)))
    return tuple(narrow(input, dim, start, stop - start) for start, stop in bounds)


def _split_along(name: str, dim: int, minimum: int, input: Tensor,
                 indices_or_sections: Any) -> tuple[Tensor, ...]:
    ndim = input._data.ndim
    if ndim < minimum:
        raise RuntimeError(
            f"torch.{name} requires a tensor with at least {minimum} dimension, but got a "
            f"tensor with {ndim} dimensions!"
        )
    split_at = _sections_or_indices(indices_or_sections)
    if isinstance(split_at, int):
        size = input._data.shape[dim]
        if split_at == 0 or size % split_at:
            raise RuntimeError(
                f"torch.{name} attempted to split along dimension {dim}, but the size of the "
                f"dimension {size} is not divisible by the split_size {split_at}!"
            )
    return tensor_split(input, split_at, dim)


def hsplit(input: Tensor, indices_or_sections: Any) -> tuple[Tensor, ...]:
    """tensor_split along dim 1 (dim 0 of a 1-d tensor); sections must divide it evenly."""
    ndim = input._data.ndim
    if ndim < 1:
        raise RuntimeError(
            "torch.hsplit requires a tensor with at least 1 dimension, but got a tensor with 0 "
            "dimensions!"
        )
    return _split_along("hsplit", 1 if ndim > 1 else 0, 1, input, indices_or_sections)


def vsplit(input: Tensor, indices_or_sections: Any) -> tuple[Tensor, ...]:
    """tensor_split along dim 0 of a tensor of 2 or more dims."""
    return _split_along("vsplit", 0, 2, input, indices_or_sections)


def dsplit(input: Tensor, indices_or_sections: Any) -> tuple[Tensor, ...]:
    """tensor_split along dim 2 of a tensor of 3 or more dims."""
    return _split_along("dsplit", 2, 3, input, indices_or_sections)


# ----------------------------------------------------------------------------- stacking by dims
def _tensor_list(name: str, tensors: Sequence[Tensor]) -> list[Tensor]:
    tensors = list(tensors)
    if not tensors:
        raise RuntimeError(f"{name} expects a non-empty TensorList")
    return tensors


def hstack(tensors: Sequence[Tensor]) -> Tensor:
    """Concatenated along dim 1 (along dim 0 when they are 1-d); 0-d tensors count as 1-d."""
    tensors = [atleast_1d(t) for t in _tensor_list("hstack", tensors)]
    return cat(tensors, 0 if tensors[0]._data.ndim == 1 else 1)


def vstack(tensors: Sequence[Tensor]) -> Tensor:
    """Concatenated along dim 0, each made at least 2-d (a vector becomes a row)."""
    return cat([atleast_2d(t) for t in _tensor_list("vstack", tensors)], 0)


row_stack = vstack


def dstack(tensors: Sequence[Tensor]) -> Tensor:
    """Concatenated along dim 2, each made at least 3-d."""
    return cat([atleast_3d(t) for t in _tensor_list("dstack", tensors)], 2)


def column_stack(tensors: Sequence[Tensor]) -> Tensor:
    """Concatenated along dim 1, with 0-d and 1-d tensors as columns."""
    tensors = _tensor_list("column_stack", tensors)
    columns = [t.reshape(t.numel(), 1) if t._data.ndim <= 1 else t for t in tensors]
    return cat(columns, 1)
