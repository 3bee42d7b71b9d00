"""`nn.functional.pad`: constant, reflect, replicate and circular padding of the last dims."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ..autocast_state import autocast_op
from ..batching.dispatch import function_rule
from ..function import Function
from ..jvp_rules import auto_linear, auto_linear_with
from ..saved_fields import fields, int_tuple, saved, value
from ..tensor import Tensor
from .indexing import zeros
from .scatter import IndexAdd


def _pairs(pad: Sequence[int], ndim: int) -> list[tuple[int, int, int]]:
    """(dim, before, after) for each padded dim; `pad` starts with the last dim."""
    return [(ndim - 1 - i, int(pad[2 * i]), int(pad[2 * i + 1])) for i in range(len(pad) // 2)]


class ConstantPadNd(Function):
    """Pad with a value; negative widths crop. Its gradient is the opposite crop/pad."""

    node_name = "ConstantPadNdBackward0"
    saved_fields = fields(pad=value("pad", int_tuple))

    jvp = auto_linear_with(value=0)

    @staticmethod
    def forward(ctx: Any, a: Any, *, pad: tuple[int, ...], value: Any) -> Any:
        backend = ctx.backend
        ctx.pad = pad
        shape = list(a.shape)
        source: list[Any] = [slice(None)] * a.ndim
        target: list[Any] = [slice(None)] * a.ndim
        for dim, before, after in _pairs(pad, a.ndim):
            size = shape[dim]
            shape[dim] = size + before + after
            if shape[dim] < 0:
                raise RuntimeError("narrow(): length must be non-negative.")
            source[dim] = slice(max(-before, 0), max(size - max(-after, 0), max(-before, 0)))
            target[dim] = slice(max(before, 0), max(before, 0) + max(
                size - max(-before, 0) - max(-after, 0), 0))
        out = backend.full(tuple(shape), value, backend.dtype_name(a))
        backend.setitem(out, tuple(target), backend.getitem(a, tuple(source)))
        return out

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> Tensor:
        return ConstantPadNd.apply(grad, pad=tuple(-width for width in ctx.pad), value=0)


class ReflectionPad1D(Function):
    """reflect/replicate padding as one gather of index arrays per padded dim; the gradient
    scatter-adds back (the reflected elements receive from both places)."""

    node_name = "ReflectionPad1DBackward0"
    saved_fields = fields(self=saved(0), padding=value("pad", int_tuple))

    jvp = auto_linear

    @staticmethod
    def forward(ctx: Any, a: Any, *, pad: tuple[int, ...], replicate: bool) -> Any:
        backend = ctx.backend
        ctx.pad, ctx.steps = pad, []
        ctx.save_for_backward(a)  # as PyTorch's node
        out = a
        for dim, before, after in _pairs(pad, a.ndim):
            size = out.shape[dim]
            positions = range(-before, size + after)
            if replicate:
                index = [min(max(p, 0), size - 1) for p in positions]
            else:
                index = [-p if p < 0 else (2 * (size - 1) - p if p >= size else p)
                         for p in positions]
            array = backend.asarray(index, dtype="int64")
            ctx.steps.append((dim, array, out.shape))
            out = backend.take(out, array, axis=dim)
        return out

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> Tensor:
        for dim, array, shape in reversed(ctx.steps):
            grad = IndexAdd.apply(zeros(grad._backend, shape, grad._data), grad, dim=dim,
                                  index=array, alpha=1)
        return grad


class ReflectionPad2D(ReflectionPad1D):
    node_name = "ReflectionPad2DBackward0"


class ReflectionPad3D(ReflectionPad1D):
    node_name = "ReflectionPad3DBackward0"


class ReplicationPad1D(ReflectionPad1D):
    node_name = "ReplicationPad1DBackward0"


class ReplicationPad2D(ReflectionPad1D):
    node_name = "ReplicationPad2DBackward0"


class ReplicationPad3D(ReflectionPad1D):
    node_name = "ReplicationPad3DBackward0"


_NON_CONSTANT = {
    "reflect": (ReflectionPad1D, ReflectionPad2D, ReflectionPad3D),
    "replicate": (ReplicationPad1D, ReplicationPad2D, ReplicationPad3D),
}


def padding_op(input: Tensor, pad: Sequence[int], mode: str = "constant",
               value: Any = None) -> str | None:
    """The ATen op `pad` runs, which autocast's lists name (reflection_pad1d, ...)."""
    if mode in ("reflect", "replicate"):
        kind = "reflection" if mode == "reflect" else "replication"
        return f"{kind}_pad{len(pad) // 2}d"
    return None


@autocast_op(padding_op)
def pad(input: Tensor, pad: Sequence[int], mode: str = "constant", value: Any = None) -> Tensor:
    """Pad the last `len(pad) // 2` dims; `pad` = (last_before, last_after, prev_before, ...)."""
    pad = tuple(int(width) for width in pad)
    ndim = input._data.ndim
    if len(pad) % 2:
        raise RuntimeError("Padding length must be divisible by 2")
    if len(pad) // 2 > ndim:
        raise RuntimeError(
            "Padding length should be less than or equal to two times the input dimension but "
            f"got padding length {len(pad)} and input of dimension {ndim}"
        )
    if mode == "constant":
        return ConstantPadNd.apply(input, pad=pad, value=0 if value is None else value)
    if mode not in _NON_CONSTANT and mode != "circular":
        raise NotImplementedError(f"Unrecognised padding mode {mode}")
    if value is not None and value != 0:
        raise RuntimeError(f'Padding mode "{mode}" doesn\'t take in value argument')
    dims = len(pad) // 2
    if not 1 <= dims <= 3 or ndim not in (dims + 1, dims + 2):
        raise NotImplementedError(
            f"Padding size {len(pad)} is not supported for {ndim}D input tensor.\n"
            "Supported combinations for non-constant padding:\n"
            "  - 2D or 3D input: padding size = 2 (pads last dimension)\n"
            "  - 3D or 4D input: padding size = 4 (pads last 2 dimensions)\n"
            "  - 4D or 5D input: padding size = 6 (pads last 3 dimensions)"
        )
    if mode == "circular":
        return _circular(input, pad)
    shape = input._data.shape
    for dim, before, after in _pairs(pad, ndim):
        if shape[dim] == 0:
            raise RuntimeError(
                f"Expected {dims + 1}D or {dims + 2}D (batch mode) tensor with possibly 0 batch "
                "size and other non-zero dimensions for input, but got: " + str(list(shape))
            )
        if mode == "reflect" and (before >= shape[dim] or after >= shape[dim]):
            raise RuntimeError(
                "Argument #4: Padding size should be less than the corresponding input "
                f"dimension, but got: padding ({before}, {after}) at dimension {dim} of input "
                f"{list(shape)}"
            )
    op = _NON_CONSTANT[mode][dims - 1]
    return op.apply(input, pad=pad, replicate=mode == "replicate")


@function_rule("leading_dims")
def _circular(input: Tensor, pad: tuple[int, ...]) -> Tensor:
    """Circular padding as PyTorch writes it: the input copied into the middle of a new tensor,
    then each padded dim's ends copied from its other end (slice assignments, so the node is
    CopySlices and the gradient of a wrapped element comes from both places)."""
    ndim = input._data.ndim
    shape = list(input._data.shape)
    pairs = _pairs(pad, ndim)
    out_shape = list(shape)
    for dim, before, after in pairs:
        size = shape[dim]
        if before > size or after > size:
            raise RuntimeError("Padding value causes wrapping around more than once.")
        out_shape[dim] = size + before + after
        if out_shape[dim] < 0:
            raise RuntimeError("Negative padding value is resulting in an empty dimension")
    out = zeros(input._backend, tuple(out_shape), input._data)
    target: list[Any] = [slice(None)] * ndim
    source: list[Any] = [slice(None)] * ndim
    for dim, before, after in pairs:
        target[dim] = slice(max(before, 0), out_shape[dim] - max(after, 0))
        source[dim] = slice(max(-before, 0), shape[dim] - max(-after, 0))
    out[tuple(target)] = input[tuple(source)]
    for dim, before, after in reversed(pairs):  # the first padded dim first, as PyTorch
        size = out_shape[dim]
        if before > 0:
            out[_along(ndim, dim, 0, before)] = out[
                _along(ndim, dim, size - before - max(after, 0), size - max(after, 0))]
        if after > 0:
            out[_along(ndim, dim, size - after, size)] = out[
                _along(ndim, dim, max(before, 0), max(before, 0) + after)]
    return out


def _along(ndim: int, dim: int, start: int, stop: int) -> tuple[Any, ...]:
    key: list[Any] = [slice(None)] * ndim
    key[dim] = slice(start, stop)
    return tuple(key)
