"""Memory formats: the order in which a dense tensor's dims lie in memory (row-major, or the
channels innermost for torch.channels_last), and the copies that lay a tensor out in one."""

from __future__ import annotations

from typing import Any

from ..function import Function
from ..jvp_rules import auto_linear
from ..layouts import (
    CHANNELS_LAST_ORDER,
    channels_last,
    channels_last_3d,
    check_memory_format,
    preserve_format,
)
from ..tensor import Tensor


def dense_in_order(shape: Any, strides: Any, order: Any) -> bool:
    """Whether the dims, outermost first in `order`, lie in memory without gaps."""
    expected = 1
    for dim in reversed(order):
        if shape[dim] == 1:
            continue
        if strides[dim] != expected:
            return False
        expected *= shape[dim]
    return True


def memory_order(function: str, memory_format: Any, ndim: int) -> tuple[int, ...] | None:
    """The dim order in memory (outermost first) that `memory_format` asks of an `ndim`-d
    tensor; None for row-major (contiguous_format) and for preserve_format."""
    check_memory_format(function, memory_format)
    order = CHANNELS_LAST_ORDER.get(memory_format)
    if order is not None and len(order) != ndim:
        raise RuntimeError(f"required rank {len(order)} tensor to use {memory_format.name} "
                           "format")
    return order


class Contiguous(Function):
    """A copy dense in memory: row-major, or in `order` (outermost dim first) for the
    channels-last formats."""

    node_name = "CloneBackward0"

    jvp = auto_linear

    @staticmethod
    def forward(ctx: Any, a: Any, *, order: tuple[int, ...] | None = None) -> Any:
        backend = ctx.backend
        if order is None:
            return backend.contiguous_copy(a)
        stored = backend.contiguous_copy(backend.permute_dims(a, order))
        return backend.permute_dims(stored, tuple(order.index(dim) for dim in range(a.ndim)))

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> Tensor:
        return grad


class ToCopyLaidOut(Contiguous):
    """`to(memory_format=)`'s copy: PyTorch records it as a copy by `to`."""

    node_name = "ToCopyBackward0"


def laid_out(input: Tensor, memory_format: Any, op: type[Contiguous] = Contiguous) -> Tensor:
    """`input` with exactly the strides of a fresh tensor in `memory_format` (a copy unless it
    has them): what `to(memory_format=)` and `clone(memory_format=)` give. Unlike contiguous(),
    this also restrides the dims of size 1 that make a layout ambiguous."""
    order = memory_order("to", memory_format, input.dim())
    if memory_format is None or memory_format is preserve_format or input.is_sparse:
        return input
    shape = tuple(input._data.shape)
    wanted = [0] * len(shape)
    step = 1
    for dim in reversed(order if order is not None else range(len(shape))):
        wanted[dim] = step
        step *= max(shape[dim], 1)
    if input.stride() == tuple(wanted):
        return input
    return op.apply(input, order=order)


# The channels-last format of each rank that has one.
CHANNELS_LAST_FORMATS = {4: channels_last, 5: channels_last_3d}


def channels_last_array(backend: Any, array: Any) -> bool:
    """Whether a 4-d or 5-d backend array is laid out channels last and not also row-major:
    the layout an op whose kernel prefers channels last (convolution) gives its output."""
    if array.ndim not in (4, 5):
        return False
    shape, strides = array.shape, backend.strides(array)
    order = CHANNELS_LAST_ORDER[CHANNELS_LAST_FORMATS[array.ndim]]
    return (dense_in_order(shape, strides, order)
            and not dense_in_order(shape, strides, range(array.ndim)))


def to_channels_last_array(backend: Any, array: Any) -> Any:
    """A copy of a 4-d or 5-d backend array laid out channels last."""
    order = CHANNELS_LAST_ORDER[CHANNELS_LAST_FORMATS[array.ndim]]
    stored = backend.contiguous_copy(backend.permute_dims(array, order))
    return backend.permute_dims(stored, tuple(order.index(dim) for dim in range(array.ndim)))
