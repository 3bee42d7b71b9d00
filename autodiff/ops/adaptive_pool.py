"""Adaptive pooling: adaptive_avg_pool1d/2d/3d and adaptive_max_pool1d/2d/3d.

Output o of a dim of size `size` pools the input window [floor(o * size / out),
ceil((o + 1) * size / out)), as PyTorch. Windows differ in length, so they are gathered per dim as
taps (`_taps.py`): average pooling is a separable linear map, max pooling takes the argmax of the
gathered windows and sends each gradient back to it with a scatter-add (adaptive windows overlap).
"""

from __future__ import annotations

import math
from typing import Any

from .. import dtypes
from ..autocast_state import autocast_op
from ..function import Function
from ..jvp_rules import jvp_from_backward
from ..saved_fields import fields, saved, saved_array
from ..tensor import Tensor
from ._taps import SeparableTaps, Taps
from .indexing import zeros
from .scatter import ScatterAdd


def _window(index: int, size: int, out: int) -> tuple[int, int]:
    return index * size // out, -(-(index + 1) * size // out)


def _average_taps(size: int, out: int) -> Taps:
    windows = [_window(index, size, out) for index in range(out)]
    count = max((end - start for start, end in windows), default=1)
    index = tuple(tuple(min(start + t, end - 1) for t in range(count)) for start, end in windows)
    weight = tuple(tuple(1.0 / (end - start) if t < end - start else 0.0 for t in range(count))
                   for start, end in windows)
    return Taps(index, weight, size)


class AdaptiveAvgPool2D(SeparableTaps):
    node_name = "AdaptiveAvgPool2DBackward0"
    saved_fields = fields(self=saved(0))

    @staticmethod
    def forward(ctx: Any, x: Any, *, taps: tuple[Taps, ...]) -> Any:
        ctx.save_for_backward(x)  # PyTorch's node keeps its input
        return SeparableTaps.forward(ctx, x, taps=taps)


class AdaptiveAvgPool3D(AdaptiveAvgPool2D):
    node_name = "AdaptiveAvgPool3DBackward0"


class AdaptiveMaxPool2D(Function):
    """The maximum of each adaptive window and its flat index in the input plane. Ties go to
    the first maximum in row-major order and NaN to the last NaN, as PyTorch's CPU kernel."""

    node_name = "AdaptiveMaxPool2DBackward0"
    saved_fields = fields(self=saved(0), result1=saved_array("indices"))

    jvp = jvp_from_backward

    @staticmethod
    def forward(ctx: Any, x: Any, *, positions: tuple[int, ...]) -> Any:
        backend = ctx.backend
        count = len(positions)
        first = x.ndim - count
        spatial = x.shape[first:]
        windows = x
        table = None  # each gathered element's flat index in the input plane
        valid = None
        for axis in reversed(range(count)):
            size, out = spatial[axis], positions[axis]
            bounds = [_window(index, size, out) for index in range(out)]
            taps = max((end - start for start, end in bounds), default=1)
            rows = [[min(start + t, end - 1) for t in range(taps)] for start, end in bounds]
            flat = backend.asarray([i for row in rows for i in row], dtype="int64")
            windows = backend.take(windows, flat, axis=first + axis)
            shape = windows.shape
            windows = backend.reshape(windows, (*shape[:first + axis], out, taps,
                                                *shape[first + axis + 1:]))
            trailing = 2 * (count - 1 - axis)
            place = backend.reshape(backend.asarray(rows, dtype="int64"),
                                    (out, taps, *(1,) * trailing))
            inside = backend.reshape(
                backend.asarray([[t < end - start for t in range(taps)]
                                 for start, end in bounds], dtype="bool"),
                (out, taps, *(1,) * trailing))
            term = place * math.prod(spatial[axis + 1:])
            table = term if table is None else table + term
            valid = inside if valid is None else backend.logical_and(valid, inside)
        # (*lead, o0, t0, o1, t1, ...) -> (*lead, o0, o1, ..., t0 * t1 * ...)
        order = (*range(first), *range(first, first + 2 * count, 2),
                 *range(first + 1, first + 2 * count, 2))
        local = tuple(axis - first for axis in order[first:])
        windows = backend.permute_dims(windows, order)
        flat_shape = (*windows.shape[:first + count], -1)
        windows = backend.reshape(windows, flat_shape)
        table = backend.reshape(backend.permute_dims(table, local), (*positions, -1))
        valid = backend.reshape(backend.permute_dims(valid, local), (*positions, -1))
        lowest = backend.asarray(-math.inf, dtype=backend.dtype_name(x))
        windows = backend.where(valid, windows, lowest)
        arg = backend.argmax(windows, axis=-1)
        values = backend.take_along_axis(windows, backend.expand_dims(arg, axis=-1), axis=-1)
        values = backend.reshape(values, arg.shape)
        nans = backend.isnan(values)
        if backend.holds_values and backend.item(backend.any(nans)):
            last = backend.argmax(backend.flip(backend.isnan(windows), axis=-1), axis=-1)
            arg = backend.where(nans, windows.shape[-1] - 1 - last, arg)
        table = backend.broadcast_to(table, windows.shape)
        indices = backend.reshape(
            backend.take_along_axis(table, backend.expand_dims(arg, axis=-1), axis=-1),
            arg.shape)
        ctx.indices, ctx.spatial = indices, spatial
        ctx.save_for_backward(x)
        ctx.mark_non_differentiable(indices)
        return values, indices

    @staticmethod
    def backward(ctx: Any, grad: Tensor, *_: Any) -> Tensor:
        return _scatter_to_indices(grad, ctx.indices, ctx.spatial)


class AdaptiveMaxPool3D(AdaptiveMaxPool2D):
    node_name = "AdaptiveMaxPool3DBackward0"


def _scatter_to_indices(grad: Tensor, indices: Any, spatial: tuple[int, ...]) -> Tensor:
    """Each gradient added at its flat index of the input plane, in recorded ops."""
    backend = grad._backend
    count = len(spatial)
    lead = tuple(grad._data.shape[:grad._data.ndim - count])
    flat_index = backend.reshape(indices, (*lead, -1))
    target = zeros(backend, (*lead, math.prod(spatial)), grad._data)
    out = ScatterAdd.apply(target, grad.reshape(*lead, -1), dim=len(lead), index=flat_index)
    return out.reshape(*lead, *spatial)


# ----------------------------------------------------------------------------- arguments
def _sizes(output_size: Any, input: Tensor, count: int) -> list[Any]:
    sizes = [output_size] * count if isinstance(output_size, int) or output_size is None \
        else list(output_size)
    shape = input._data.shape
    return [shape[len(shape) - len(sizes) + axis] if size is None else size
            for axis, size in enumerate(sizes)] if len(sizes) <= len(shape) else sizes


def _check_input(input: Tensor, name: str, count: int, colon: str) -> None:
    shape = list(input._data.shape)
    if len(shape) not in (count + 1, count + 2):
        raise RuntimeError(f"{name}(): Expected {count + 1}D or {count + 2}D tensor, but got"
                           f"{colon} {shape}")
    for axis in range(1 if len(shape) == count + 2 else 0, len(shape)):
        if shape[axis] == 0:
            raise RuntimeError(
                f"{name}(): Expected input to have non-zero size for non-batch dimensions, but "
                f"input has sizes {shape} with dimension {axis} being empty")


def _check_float(input: Tensor, name: str) -> None:
    if not input.dtype.is_floating_point:
        if name.endswith("3d"):  # PyTorch's 3-D kernels name their device
            name += "_cuda" if input.device.type == "cuda" else "_cpu"
        raise NotImplementedError(
            f'"{name}" not implemented for \'{dtypes.SCALAR_TYPE_NAMES[input.dtype.name]}\'')


def _adaptive_avg(input: Tensor, output_size: Any, count: int) -> Tensor:
    name = f"adaptive_avg_pool{count}d"
    sizes = _sizes(output_size, input, count)
    if len(sizes) != count:
        raise RuntimeError(f"{name}: output_size must be {count}")
    if any(size < 0 for size in sizes):
        listed = ", ".join(str(size) for size in sizes)
        raise RuntimeError(f"{name}: elements of output_size must be greater than or equal to 0 "
                           f"but received {{{listed}}}")
    if all(size == 1 for size in sizes):  # PyTorch's shortcut: a mean over the pooled dims
        return input.mean(tuple(range(-count, 0)), keepdim=True)
    _check_input(input, name, count, "")
    _check_float(input, name)
    spatial = input._data.shape[-count:]
    taps = tuple(_average_taps(size, out) for size, out in zip(spatial, sizes))
    op = AdaptiveAvgPool3D if count == 3 else AdaptiveAvgPool2D
    return op.apply(input, taps=taps)


def _adaptive_max(input: Tensor, output_size: Any, return_indices: bool, count: int) -> Any:
    name = f"adaptive_max_pool{count}d"
    sizes = _sizes(output_size, input, count)
    if len(sizes) != count:
        raise RuntimeError(f"{name}(): internal error: output_size.size() must be {count}")
    _check_input(input, name, count, ":")
    shape = list(input._data.shape)
    if any(size < 0 for size in sizes):
        bad = next(size for size in sizes if size < 0)
        raise RuntimeError(f"Trying to create tensor with negative dimension {bad}: "
                           f"{[*shape[:-count], *sizes]}")
    _check_float(input, name)
    op = AdaptiveMaxPool3D if count == 3 else AdaptiveMaxPool2D
    values, indices = op.apply(input, positions=tuple(sizes))
    return (values, indices) if return_indices else values


def _one(value: Any, function: str) -> int:
    values = [value] if isinstance(value, int) else list(value)
    if len(values) != 1:
        raise RuntimeError(f"{function}() argument 'output_size' should contain one int "
                           f"(got {len(values)})")
    return int(values[0])


def _check_1d(input: Tensor, function: str) -> None:
    if input.dim() not in (2, 3):
        raise RuntimeError(
            f"Expected 2 to 3 dimensions, but got {input.dim()}-dimensional tensor for argument "
            f"#1 'self' (while checking arguments for {function})")


def adaptive_avg_pool1d(input: Tensor, output_size: Any) -> Tensor:
    """Average pooling of (N, C, L) or (C, L) into output_size windows."""
    _check_1d(input, "adaptive_avg_pool1d")
    size = _one(output_size, "adaptive_avg_pool1d")
    return _adaptive_avg(input.unsqueeze(-2), (1, size), 2).squeeze(-2)


def adaptive_avg_pool2d(input: Tensor, output_size: Any) -> Tensor:
    """Average pooling of (N, C, H, W) or (C, H, W) into output_size windows (None keeps)."""
    return _adaptive_avg(input, output_size, 2)


@autocast_op("adaptive_avg_pool3d")
def adaptive_avg_pool3d(input: Tensor, output_size: Any) -> Tensor:
    """Average pooling of (N, C, D, H, W) or (C, D, H, W) into output_size windows."""
    return _adaptive_avg(input, output_size, 3)


def adaptive_max_pool1d(input: Tensor, output_size: Any, return_indices: bool = False) -> Any:
    """Max pooling of (N, C, L) or (C, L) into output_size windows."""
    _check_1d(input, "adaptive_max_pool1d")
    size = _one(output_size, "adaptive_max_pool1d")
    values, indices = _adaptive_max(input.unsqueeze(-2), (1, size), True, 2)
    if return_indices:
        return values.squeeze(-2), indices.squeeze(-2)
    return values.squeeze(-2)


def adaptive_max_pool2d(input: Tensor, output_size: Any, return_indices: bool = False) -> Any:
    """Max pooling of (N, C, H, W) or (C, H, W) into output_size windows."""
    return _adaptive_max(input, output_size, return_indices, 2)


@autocast_op("adaptive_max_pool3d")
def adaptive_max_pool3d(input: Tensor, output_size: Any, return_indices: bool = False) -> Any:
    """Max pooling of (N, C, D, H, W) or (C, D, H, W) into output_size windows."""
    return _adaptive_max(input, output_size, return_indices, 3)
