"""Ops that address a tensor as if it were flattened (row-major): take and put (by flat index),
masked_select and masked_scatter (by a mask, filling in order), and unravel_index.

Index and mask tensors are options, not inputs: they get no gradient. Each op's gradient is
the other op of its pair (take's is an accumulating put, masked_select's a masked_scatter into
zeros), so every backward is differentiable again.
"""

from __future__ import annotations

from typing import Any

from backends import broadcast_shapes

from .. import dtypes
from ..batching.levels import levels
from ..function import Function
from ..jvp_rules import auto_linear
from ..saved_fields import fields, saved, saved_array, value
from ..tensor import Tensor, _wrap
from . import inplace
from ._checks import require_tensor, same_device, scalar_type_name
from ._promotion import check_broadcast
from .indexing import same_device_index
from .joining import cat


def _flat_index(name: str, input: Tensor, index: Tensor) -> Any:
    """The index array, wrapped into [0, numel), after PyTorch's checks."""
    if index.dtype is not dtypes.int64:
        raise RuntimeError(
            f"{name}(): Expected a long tensor for index, but got {scalar_type_name(index)}")
    same_device_index(name, input, index)
    backend = input._backend
    array = index._data
    count = input.numel()
    if array.size:
        bad = backend.logical_or(backend.less(array, -count),
                                 backend.greater_equal(array, count))
        if backend.item(backend.any(bad)):
            first = backend.item(backend.getitem(backend.reshape(array, (-1,)),
                                                 backend.reshape(bad, (-1,)))[0])
            raise IndexError(
                f"out of range: tried to access index {first} on a tensor of {count} elements.")
    return backend.where(backend.less(array, 0), backend.add(array, count), array)


# ----------------------------------------------------------------------------- take, put
class Take(Function):
    """The elements at flat positions `index` (shaped like the index)."""

    node_name = "TakeBackward0"
    saved_fields = fields(self=saved(0), index=saved_array("index"))

    jvp = auto_linear

    @staticmethod
    def forward(ctx: Any, a: Any, *, index: Any) -> Any:
        backend = ctx.backend
        ctx.index, ctx.shape = index, a.shape
        ctx.save_for_backward(a)  # as PyTorch's node
        flat = backend.reshape(a, (-1,))
        out = backend.take(flat, backend.reshape(index, (-1,)), axis=0)
        return backend.reshape(out, index.shape)

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> Tensor:
        backend = grad._backend
        target = _wrap(backend.zeros(ctx.shape, backend.dtype_name(grad._data)), backend)
        return Put.apply(target, grad, index=ctx.index, accumulate=True)


def take(input: Tensor, index: Tensor) -> Tensor:
    """The elements of `input`, read as a 1-d tensor, at `index`."""
    require_tensor("take", "index", 2, index)
    return Take.apply(input, index=_flat_index("take", input, index))


class Put(Function):
    """A copy of the input with `source` written (or added) at flat positions `index`."""

    node_name = "PutBackward0"
    saved_fields = fields(index=saved_array("index"), source=saved(0, when=1),
                          accumulate=value("accumulate"))

    jvp = auto_linear

    @staticmethod
    def forward(ctx: Any, a: Any, source: Any, *, index: Any, accumulate: bool) -> Any:
        backend = ctx.backend
        ctx.index, ctx.accumulate, ctx.source_shape = index, accumulate, source.shape
        ctx.save_for_backward(source)  # as PyTorch's node
        out = backend.asarray(backend.reshape(a, (-1,)), copy=True)
        positions = backend.reshape(index, (-1,))
        values = backend.reshape(source, (-1,))
        if values.dtype != a.dtype:
            values = backend.astype(values, backend.dtype_name(a))
        if positions.shape[0]:
            if accumulate:
                backend.index_add(out, (positions,), values)
            else:
                backend.setitem(out, (positions,), values)
        return backend.reshape(out, a.shape)

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> tuple[Tensor | None, Tensor | None]:
        needs_input, needs_source = ctx.needs_input_grad
        grad_input = grad_source = None
        if needs_input:
            if ctx.accumulate:
                grad_input = grad
            else:
                backend = grad._backend
                nothing = _wrap(backend.zeros(ctx.source_shape, backend.dtype_name(grad._data)),
                                backend)
                grad_input = Put.apply(grad, nothing, index=ctx.index, accumulate=False)
        if needs_source:
            grad_source = Take.apply(grad, index=ctx.index).reshape(ctx.source_shape)
        return grad_input, grad_source


def put(input: Tensor, index: Tensor, source: Tensor, accumulate: bool = False) -> Tensor:
    """A copy of `input` (read as 1-d) with `source` written at `index` (added with
    `accumulate`; without, a repeated index keeps one of its values)."""
    if index.dtype is not dtypes.int64:
        raise RuntimeError(
            f"put_(): Expected a long tensor for index, but got {scalar_type_name(index)}")
    if source.numel() != index.numel():
        raise IndexError(
            "put_(): Expected source and index to have the same number of elements, but got "
            f"source.numel() = {source.numel()}, index.numel() = {index.numel()}"
        )
    if source.dtype is not input.dtype:
        raise RuntimeError(
            "put_(): self and source expected to have the same dtype, but got self.dtype = "
            f"{scalar_type_name(input)} and source.dtype = {scalar_type_name(source)}"
        )
    array = _flat_index("put_", input, index)
    return Put.apply(input, source, index=array, accumulate=bool(accumulate))


def put_(input: Tensor, index: Tensor, source: Tensor, accumulate: bool = False) -> Tensor:
    return inplace.call_(input, put, index, source, accumulate)


# ----------------------------------------------------------------------------- by a mask
def _mask_array(name: str, input: Tensor, mask: Tensor) -> Any:
    if not isinstance(mask, Tensor) or mask.dtype is not dtypes.bool_:
        if name == "masked_select":
            raise RuntimeError("masked_select: expected BoolTensor for mask")
        found = scalar_type_name(mask) if isinstance(mask, Tensor) else type(mask).__name__
        raise RuntimeError(
            f"masked_scatter_ only supports boolean masks, but got mask with dtype {found}")
    same_device(input, mask)
    check_broadcast(mask._data.shape, input._data.shape)
    return mask._data


class MaskedSelect(Function):
    """The elements where the mask (broadcast with the input) is True, in order, as 1-d."""

    node_name = "MaskedSelectBackward0"
    saved_fields = fields(self=saved(0), mask=saved_array("mask"))

    jvp = auto_linear

    @staticmethod
    def forward(ctx: Any, a: Any, *, mask: Any) -> Any:
        backend = ctx.backend
        shape = broadcast_shapes(a.shape, mask.shape)
        ctx.mask, ctx.shape = mask, shape
        ctx.save_for_backward(a)  # as PyTorch's node
        a = backend.broadcast_to(a, shape) if a.shape != shape else a
        mask = backend.broadcast_to(mask, shape) if mask.shape != shape else mask
        if not shape:
            a, mask = backend.reshape(a, (1,)), backend.reshape(mask, (1,))
        return backend.asarray(backend.getitem(a, mask), copy=True)

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> Tensor:
        # Broadcasting is undone by the engine (the gradient is summed to the input's shape).
        backend = grad._backend
        target = _wrap(backend.zeros(ctx.shape, backend.dtype_name(grad._data)), backend)
        return MaskedScatter.apply(target, grad, mask=ctx.mask)


def masked_select(input: Tensor, mask: Tensor) -> Tensor:
    """The elements of `input` where `mask` is True (both broadcast), as a 1-d tensor."""
    return MaskedSelect.apply(input, mask=_mask_array("masked_select", input, mask))


class MaskedScatter(Function):
    """A copy of the input (broadcast with the mask) whose elements where the mask is True are
    the first elements of `source`, in order."""

    node_name = "MaskedScatterBackward0"
    saved_fields = fields(mask=saved_array("mask"), source_sym_sizes=value("source_shape", tuple))

    jvp = auto_linear

    @staticmethod
    def forward(ctx: Any, a: Any, source: Any, *, mask: Any) -> Any:
        backend = ctx.backend
        shape = broadcast_shapes(a.shape, mask.shape)
        ctx.mask, ctx.source_shape = mask, source.shape
        a = backend.broadcast_to(a, shape) if a.shape != shape else a
        mask = backend.broadcast_to(mask, shape) if mask.shape != shape else mask
        flat_mask = backend.reshape(mask, (-1,))
        # The i-th True takes source's i-th element: its rank among the Trues is a running
        # count, and `where` keeps the input elsewhere.
        rank = backend.subtract(backend.cumulative_sum(backend.astype(flat_mask, "int64"),
                                                       axis=0), 1)
        wanted = backend.item(rank[-1]) + 1 if rank.shape[0] else 0
        count = _numel(source.shape)
        if wanted > count:
            raise RuntimeError("Number of elements of source < number of ones in mask")
        if wanted == 0:
            return backend.asarray(a, copy=True)
        picked = backend.take(backend.reshape(source, (-1,)), backend.clip(rank, 0, count - 1),
                              axis=0)
        if picked.dtype != a.dtype:
            picked = backend.astype(picked, backend.dtype_name(a))
        return backend.where(mask, backend.reshape(picked, shape), a)

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> tuple[Tensor | None, Tensor | None]:
        needs_input, needs_source = ctx.needs_input_grad
        mask = _wrap(ctx.mask, grad._backend)
        grad_input = grad.masked_fill(mask, 0) if needs_input else None
        grad_source = None
        if needs_source:
            # The masked positions are fixed by the forward's mask: a gather of them (not
            # masked_select, whose output size vmap cannot batch) under a batched gradient.
            backend = grad._backend
            shape = grad._data.shape
            flat_mask = backend.reshape(backend.broadcast_to(ctx.mask, shape), (-1,))
            positions = _wrap(backend.nonzero(flat_mask)[0], backend)
            selected = grad.reshape(-1).take(positions)
            missing = _numel(ctx.source_shape) - selected.numel()
            if missing:
                padding = _wrap(backend.zeros((missing,), backend.dtype_name(grad._data)),
                                backend)
                selected = cat([selected, padding])
            grad_source = selected.reshape(ctx.source_shape)
        return grad_input, grad_source


def _numel(shape: tuple[int, ...]) -> int:
    total = 1
    for size in shape:
        total *= size
    return total


def masked_scatter(input: Tensor, mask: Tensor, source: Tensor) -> Tensor:
    """A copy of `input` with the elements where `mask` is True taken, in order, from the
    first elements of `source`."""
    array = _mask_array("masked_scatter", input, mask)
    if source.dtype is not input.dtype:
        raise RuntimeError(
            "masked_scatter: expected self and source to have same dtypes but got"
            f"{scalar_type_name(input)} and {scalar_type_name(source)}"
        )
    return MaskedScatter.apply(input, source, mask=array)


def masked_scatter_(input: Tensor, mask: Tensor, source: Tensor) -> Tensor:
    if levels.depth:
        from ..batching.rules import check_inplace_into

        check_inplace_into("aten::masked_scatter_", input, (mask, source))
    if isinstance(mask, Tensor) and mask.dtype is dtypes.bool_:
        mask.expand(input._data.shape)  # PyTorch's error when the mask does not expand to input
    return inplace.call_(input, masked_scatter, mask, source)


# ----------------------------------------------------------------------------- unravel_index
def unravel_index(indices: Tensor, shape: Any) -> tuple[Tensor, ...]:
    """The coordinates in a tensor of `shape` of each flat index (negative ones count from the
    end; larger ones wrap around, as in PyTorch, which does not check them)."""
    if not isinstance(indices, Tensor) or indices.dtype.category != 1:
        found = indices.dtype if isinstance(indices, Tensor) else type(indices)
        raise TypeError(f"expected 'indices' to be integer dtype, but got {found}")
    if isinstance(shape, int) and not isinstance(shape, bool):
        shape = (shape,)
    elif isinstance(shape, (tuple, list)):
        for size in shape:
            if not isinstance(size, int):
                raise TypeError(
                    "expected 'shape' sequence to only contain ints, but got "
                    f"{type(size)}"
                )
        shape = tuple(shape)
    else:
        raise TypeError(f"expected 'shape' to be int or sequence of ints, but got {type(shape)}")
    if any(size < 0 for size in shape):
        raise ValueError(f"'shape' cannot have negative values, but got {tuple(shape)}")
    backend = indices._backend
    array = indices._data
    if backend.dtype_name(array) != "int64":
        array = backend.astype(array, "int64")
    coordinates = []
    stride = 1
    for size in reversed(shape):
        coordinates.append(backend.remainder(backend.floor_divide(array, stride), size))
        stride *= size
    return tuple(_wrap(c, backend) for c in reversed(coordinates))
