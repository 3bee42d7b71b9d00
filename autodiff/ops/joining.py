"""Joining and splitting: cat, stack, split, chunk, unbind; and the copies that rearrange
elements: repeat, tile, flip, roll.

split, chunk and unbind return views of their input from one node with several outputs (as in
PyTorch, those views may not be modified in place; see views.py).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from .. import dtypes
from ..function import Function
from ..tensor import Tensor, _wrap_dim
from ._dims import normalize_dims
from ._out import castable, takes_out
from .indexing import narrow, select
from .shape import shape_arg
from .views import as_multi_output_views


def _promote_all(backend: Any, arrays: Sequence[Any]) -> list[Any]:
    names = {backend.dtype_name(a) for a in arrays}
    if len(names) == 1:
        return list(arrays)
    result = dtypes.result_type(*(dtypes.BY_NAME[name] for name in names)).name
    return [a if backend.dtype_name(a) == result else backend.astype(a, result) for a in arrays]


# ----------------------------------------------------------------------------- cat and stack
class Cat(Function):
    node_name = "CatBackward0"

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

    @staticmethod
    def forward(ctx: Any, *arrays: Any, dim: int) -> Any:
        ctx.dim = dim
        return ctx.backend.stack(_promote_all(ctx.backend, arrays), axis=dim)

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> tuple[Tensor | None, ...]:
        return tuple(select(grad, ctx.dim, index) if needed else None
                     for index, needed in enumerate(ctx.needs_input_grad))


@takes_out(_CAT_OUT, "stack")
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

    @staticmethod
    def forward(ctx: Any, a: Any, *, dim: int, sizes: tuple[int, ...]) -> Any:
        ctx.dim = dim
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


def _split(op: type[Split], input: Tensor, dim: int, sizes: tuple[int, ...]) -> tuple[Tensor, ...]:
    options = {"dim": dim, "sizes": sizes}
    return as_multi_output_views(op.apply(input, **options), input, op, options)


def split(input: Tensor, split_size_or_sections: Any, dim: int = 0) -> tuple[Tensor, ...]:
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
        return _split(SplitWithSizes, input, dim, sizes)
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
    sizes = tuple(min(piece, size - index * piece) for index in range(count))
    return _split(Split, input, dim, sizes)


def chunk(input: Tensor, chunks: int, dim: int = 0) -> tuple[Tensor, ...]:
    if chunks <= 0:
        raise RuntimeError(f"chunk expects `chunks` to be greater than 0, got: {chunks}")
    shape = input._data.shape
    if not shape:
        raise RuntimeError("chunk expects at least a 1-dimensional tensor")
    dim = _wrap_dim(dim, len(shape))
    if shape[dim] == 0:
        return _split(Split, input, dim, (0,) * chunks)
    return split(input, -(-shape[dim] // chunks), dim)


class Unbind(Function):
    node_name = "UnbindBackward0"

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
    return as_multi_output_views(Unbind.apply(input, **options), input, Unbind, options)


# ----------------------------------------------------------------------------- rearranging copies
class Repeat(Function):
    node_name = "RepeatBackward0"

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
