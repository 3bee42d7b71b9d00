"""Max pooling: max_pool1d/2d/3d, with indices.

The forward takes the argmax of each window of the backend's strided window view of the input
(padded with the dtype's lowest value). The gradient puts each output's gradient at its window's
argmax and adds the windows back up (`fold_windows`, convolution's col2im), so overlapping
windows accumulate; the gradient of that is a gather at the same argmax, so every backward is
differentiable. As in PyTorch, 1-D pooling is 2-D pooling of an input with a height of one.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from backends import Backend

from .. import dtypes
from ..autocast_state import autocast_op
from ..function import Function
from ..jvp_rules import auto_linear
from ..saved_fields import Computed, fields, saved, value
from ..tensor import Tensor, _wrap
from ._windows import (
    PoolArguments,
    PoolGeometry,
    as_tuple,
    fold_into,
    given,
    pool_geometry,
    pooling_output_size,
)
from ._windows import windows_of as _windows_of
from .memory_formats import channels_last_array, to_channels_last_array

_LOWEST = {"int8": -(2**7), "int16": -(2**15), "int32": -(2**31), "int64": -(2**63),
           "uint8": 0, "float16": -math.inf, "bfloat16": -math.inf, "float32": -math.inf,
           "float64": -math.inf}


def _flat(backend: Backend, windows: Any, count: int) -> Any:
    """The windows with their `count` window dims as one (a copy of the strided view)."""
    return backend.reshape(windows, (*windows.shape[:windows.ndim - count], -1))


def flat_indices(backend: Backend, arg: Any, geometry: PoolGeometry,
                 spatial: Sequence[int]) -> Any:
    """Where each window's argmax `arg` is in the input, as one index into its spatial dims
    (PyTorch's indices)."""
    count = len(geometry.kernel)
    index = None
    remaining = arg
    for axis in reversed(range(count)):
        size = geometry.kernel[axis]
        offset = backend.remainder(remaining, size)
        remaining = backend.floor_divide(remaining, size)
        starts = backend.arange(0, geometry.positions[axis] * geometry.stride[axis],
                                geometry.stride[axis], "int64")
        starts = backend.reshape(starts, (-1, *(1,) * (count - 1 - axis)))
        position = starts - geometry.padding[axis][0] + offset * geometry.dilation[axis]
        term = position * math.prod(spatial[axis + 1:])
        index = term if index is None else index + term
    return index


# ----------------------------------------------------------------------------- nodes
def _indices(node: Any) -> Tensor:
    """The indices output (PyTorch's node saves it even where the caller asked for none)."""
    return _wrap(flat_indices(node.backend, node.arg, node.geometry, node.spatial),
                 node.backend)


class MaxPool2DWithIndices(Function):
    """The maximum of each window; `with_indices` also returns where it is. Ties go to the
    window's first maximum in row-major order and NaN to its last NaN, as in PyTorch."""

    node_name = "MaxPool2DWithIndicesBackward0"
    saved_fields = fields(
        self=saved(0), kernel_size=value("arguments.kernel_size"),
        stride=value("arguments.stride"), padding=value("arguments.padding"),
        dilation=value("arguments.dilation"), ceil_mode=value("arguments.ceil_mode"),
        result1=Computed(_indices, tensor=True))

    @staticmethod
    def forward(ctx: Any, x: Any, *, geometry: PoolGeometry, arguments: PoolArguments,
                with_indices: bool) -> Any:
        backend = ctx.backend
        count = len(geometry.kernel)
        flat = _flat(backend, _windows_of(backend, x, geometry,
                                          _LOWEST[backend.dtype_name(x)]), count)
        arg = backend.argmax(flat, axis=-1)
        values = backend.take_along_axis(flat, backend.expand_dims(arg, axis=-1), axis=-1)
        values = backend.reshape(values, arg.shape)
        if backend.is_floating(values.dtype):
            nans = backend.isnan(values)
            if backend.any_true(nans):
                last = backend.argmax(backend.flip(backend.isnan(flat), axis=-1), axis=-1)
                arg = backend.where(nans, flat.shape[-1] - 1 - last, arg)
        ctx.geometry, ctx.arg, ctx.spatial = geometry, arg, x.shape[x.ndim - count:]
        ctx.arguments, ctx.with_indices = arguments, with_indices
        ctx.save_for_backward(x)
        keep_layout = channels_last_array(backend, x)  # PyTorch's channels-last kernel
        if keep_layout:
            values = to_channels_last_array(backend, values)
        if not with_indices:
            return values
        indices = flat_indices(backend, arg, geometry, ctx.spatial)
        if keep_layout:
            indices = to_channels_last_array(backend, indices)
        ctx.mark_non_differentiable(indices)
        return values, indices

    @staticmethod
    def backward(ctx: Any, grad: Tensor, *_: Any) -> Tensor:
        scatter = MaxPool3DScatter if len(ctx.geometry.kernel) == 3 else MaxPoolScatter
        return scatter.apply(grad, geometry=ctx.geometry, arg=ctx.arg, spatial=ctx.spatial)

    @staticmethod
    def jvp(ctx: Any, tangent: Tensor) -> Any:
        """The tangent at each window's maximum."""
        values = MaxPoolGather.apply(tangent, geometry=ctx.geometry, arg=ctx.arg)
        return (values, None) if ctx.with_indices else values


class MaxPool3DWithIndices(MaxPool2DWithIndices):
    node_name = "MaxPool3DWithIndicesBackward0"


class MaxPoolScatter(Function):
    """The gradient of max pooling: each output's gradient to its window's argmax `arg`."""

    node_name = "MaxPool2DWithIndicesBackwardBackward0"

    jvp = auto_linear

    @staticmethod
    def forward(ctx: Any, grad: Any, *, geometry: PoolGeometry, arg: Any,
                spatial: tuple[int, ...]) -> Any:
        backend = ctx.backend
        ctx.geometry, ctx.arg = geometry, arg
        size = math.prod(geometry.kernel)
        columns = backend.zeros((*grad.shape, size), backend.dtype_name(grad))
        backend.put_along_axis(columns, backend.expand_dims(arg, axis=-1),
                               backend.expand_dims(grad, axis=-1), axis=-1)
        windows = backend.reshape(columns, (*grad.shape, *geometry.kernel))
        return fold_into(backend, windows, geometry, spatial)

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> Tensor:
        return MaxPoolGather.apply(grad, geometry=ctx.geometry, arg=ctx.arg)


class MaxPool3DScatter(MaxPoolScatter):
    node_name = "MaxPool3DWithIndicesBackwardBackward0"


class MaxPoolGather(Function):
    """Max pooling with the argmax given: each window's element at `arg` (the gradient of
    `MaxPoolScatter`)."""

    node_name = "MaxPool2DWithIndicesBackward0"

    jvp = auto_linear

    @staticmethod
    def forward(ctx: Any, x: Any, *, geometry: PoolGeometry, arg: Any) -> Any:
        backend = ctx.backend
        count = len(geometry.kernel)
        ctx.geometry, ctx.arg, ctx.spatial = geometry, arg, x.shape[x.ndim - count:]
        flat = _flat(backend, _windows_of(backend, x, geometry, 0), count)
        values = backend.take_along_axis(flat, backend.expand_dims(arg, axis=-1), axis=-1)
        return backend.reshape(values, arg.shape)

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> Tensor:
        return MaxPoolScatter.apply(grad, geometry=ctx.geometry, arg=ctx.arg,
                                    spatial=ctx.spatial)


# ----------------------------------------------------------------------------- arguments
_COUNT_WORDS = {2: "two", 3: "three"}
_AXES = {2: ("H", "W"), 3: ("T", "H", "W")}


def _max_pool(input: Tensor, kernel_size: Any, stride: Any, padding: Any, dilation: Any,
              ceil_mode: bool, return_indices: bool, count: int) -> Any:
    """max_pool2d/max_pool3d with PyTorch's checks, in PyTorch's order."""
    name = f"max_pool{count}d"
    words = _COUNT_WORDS[count]
    kernel = as_tuple(kernel_size, count, f"{name}: kernel_size must either be a single int, "
                      f"or a tuple of {words} ints")
    strides = as_tuple(() if stride is None else stride, count,
                       f"{name}: stride must either be omitted, a single int, or a tuple of "
                       f"{words} ints", allow_empty=True) or kernel
    pads = as_tuple(padding, count, f"{name}: padding must either be a single int, or a "
                    f"tuple of {words} ints")
    dilations = as_tuple(dilation, count, f"{name}: dilation must be either a single int, or "
                         f"a tuple of {words} ints")
    shape = tuple(input._data.shape)
    if len(shape) not in (count + 1, count + 2):
        raise RuntimeError(f"non-empty {count + 1}D or {count + 2}D (batch mode) tensor "
                           "expected for input")
    spatial = shape[-count:]
    positions = tuple(pooling_output_size(*args, ceil_mode) for args in
                      zip(spatial, kernel, pads, strides, dilations))
    _check_shape(input, kernel, strides, pads, dilations, positions, count)
    if input.dtype is dtypes.bool_:
        raise NotImplementedError(f'"{name}" not implemented for \'Bool\'')
    geometry = pool_geometry(spatial, kernel, strides, pads, dilations, positions)
    arguments = PoolArguments(given(kernel_size, count), given(stride, count),
                              given(padding, count), given(dilation, count), ceil_mode)
    op = MaxPool3DWithIndices if count == 3 else MaxPool2DWithIndices
    return op.apply(input, geometry=geometry, arguments=arguments,
                    with_indices=return_indices)


def _check_shape(input: Tensor, kernel: tuple[int, ...], stride: tuple[int, ...],
                 padding: tuple[int, ...], dilation: tuple[int, ...],
                 positions: tuple[int, ...], count: int) -> None:
    """PyTorch's pool2d_shape_check / pool3d_shape_check."""
    axes = _AXES[count]
    for values, what, label in ((kernel, "kernel size", "k"), (stride, "stride", "d"),
                                (dilation, "dilation", "dilation")):
        if min(values) <= 0:
            parts = " ".join(f"{label}{axis}: {value}" for axis, value in zip(axes, values))
            raise RuntimeError(f"{what} should be greater than zero, but got {parts}")
    shape = list(input._data.shape)
    if count == 2:
        if 0 in shape[-3:]:
            raise RuntimeError("Expected 3D or 4D (batch mode) tensor with optional 0 dim batch "
                               f"size for input, but got:{shape}")
    else:
        for size in shape[-4:]:
            if size == 0:
                raise RuntimeError(
                    "max_pool3d_with_indices_out_cpu_template(): Expected input's non-batch "
                    f"dimensions to have positive length, but input has a shape of {shape} and "
                    f"non-batch dimension {size} has length zero!")
        if any(k // 2 < p for k, p in zip(kernel, padding)):
            effective = [(k - 1) * d + 1 for k, d in zip(kernel, dilation)]
            raise RuntimeError(
                "pad should be smaller than or equal to half of effective kernel size, but got "
                f"padT: {padding[0]} padW: {padding[2]} padH: {padding[1]} effectiveKT: "
                f"{effective[0]} effectiveKW: {effective[2]} effectiveKH: {effective[1]}")
    if min(positions) < 1:
        planes = shape[-count - 1]
        sizes = "x".join(str(size) for size in (planes, *shape[-count:]))
        outs = "x".join(str(size) for size in (planes, *positions))
        raise RuntimeError(f"Given input size: ({sizes}). Calculated output size: ({outs}). "
                           "Output size is too small")


def _one(value: Any, name: str, function: str) -> int:
    values = [value] if isinstance(value, int) else list(value)
    if len(values) != 1:
        raise RuntimeError(f"{function}() argument '{name}' should contain one int "
                           f"(got {len(values)})")
    return int(values[0])


def max_pool1d(input: Tensor, kernel_size: Any, stride: Any = None, padding: Any = 0,
               dilation: Any = 1, ceil_mode: bool = False,
               return_indices: bool = False) -> Any:
    """Max pooling over (N, C, L) or (C, L)."""
    if return_indices:
        if input.dim() not in (2, 3):
            raise RuntimeError(
                f"Expected 2 to 3 dimensions, but got {input.dim()}-dimensional tensor for "
                "argument #1 'self' (while checking arguments for max_pool1d)")
        kernel = _one(kernel_size, "kernel_size", "max_pool1d")
        omitted = stride is None or (not isinstance(stride, int) and not list(stride))
        steps: tuple[int, ...] = () if omitted else (_one(stride, "stride", "max_pool1d"),)
        pad = _one(padding, "padding", "max_pool1d")
        spacing = _one(dilation, "dilation", "max_pool1d")
    else:
        kernel, steps, pad, spacing = _check_max_pool1d(input, kernel_size, stride, padding,
                                                        dilation, ceil_mode)
    out = _max_pool(input.unsqueeze(-2), (1, kernel), (1, *steps) if steps else (1, kernel),
                    (0, pad), (1, spacing), ceil_mode, return_indices, 2)
    if return_indices:
        return out[0].squeeze(-2), out[1].squeeze(-2)
    return out.squeeze(-2)


def _check_max_pool1d(input: Tensor, kernel_size: Any, stride: Any, padding: Any,
                      dilation: Any, ceil_mode: bool
                      ) -> tuple[int, tuple[int, ...], int, int]:
    """PyTorch's checks for max_pool1d without indices (its own wording)."""
    shape = list(input._data.shape)
    if len(shape) not in (2, 3) or 0 in shape[-2:]:
        raise RuntimeError("max_pool1d: Expected 2D or 3D (batch mode) tensor with optional 0 "
                           f"dim batch size for input, but got:{shape}")
    sizes = {}
    for name, argument, wording in (
            ("kernel_size", kernel_size, "an int, list of ints or tuple of ints"),
            ("stride", () if stride is None else stride,
             "None, an int, list of ints, or tuple of ints"),
            ("padding", padding, "an int, list of ints, or tuple of ints"),
            ("dilation", dilation, "an int, list of ints or tuple of ints")):
        values = [argument] if isinstance(argument, int) else list(argument)
        if len(values) != 1 and not (name == "stride" and not values):
            raise RuntimeError(f"max_pool1d() {name} must be {wording} of size 1 but got size "
                               f"{len(values)}")
        sizes[name] = values
    kernel = int(sizes["kernel_size"][0])
    step = int(sizes["stride"][0]) if sizes["stride"] else kernel
    pad, spacing = int(sizes["padding"][0]), int(sizes["dilation"][0])
    for name, size, minimum in (("kernel_size", kernel, 1), ("stride", step, 1)):
        if size < minimum:
            raise RuntimeError(f"max_pool1d() {name} must be greater than zero, but got {size}")
    if pad < 0:
        raise RuntimeError(f"max_pool1d() padding must be non-negative, but got {pad}")
    if pad > kernel // 2:
        raise RuntimeError("max_pool1d() padding should be at most half of kernel size, but got "
                           f"padding={pad} and kernel_size={kernel}")
    if spacing <= 0:
        raise RuntimeError(f"max_pool1d() dilation must be greater than zero, but got {spacing}")
    out = pooling_output_size(shape[-1], kernel, pad, step, spacing, ceil_mode)
    if out <= 0:
        raise RuntimeError(f"max_pool1d() Invalid computed output size: {out}")
    return kernel, (step,), pad, spacing


def max_pool2d(input: Tensor, kernel_size: Any, stride: Any = None, padding: Any = 0,
               dilation: Any = 1, ceil_mode: bool = False,
               return_indices: bool = False) -> Any:
    """Max pooling over (N, C, H, W) or (C, H, W); with return_indices, also the argmax's
    index in each H x W plane (for max_unpool2d)."""
    return _max_pool(input, kernel_size, stride, padding, dilation, ceil_mode, return_indices,
                     2)


def max_pool3d_op(*args: Any, **kwargs: Any) -> str:
    """The ATen op max_pool3d runs: with indices it is another one (not on autocast's lists)."""
    with_indices = args[6] if len(args) > 6 else kwargs.get("return_indices", False)
    return "max_pool3d_with_indices" if with_indices else "max_pool3d"


@autocast_op(max_pool3d_op)
def max_pool3d(input: Tensor, kernel_size: Any, stride: Any = None, padding: Any = 0,
               dilation: Any = 1, ceil_mode: bool = False,
               return_indices: bool = False) -> Any:
    """Max pooling over (N, C, D, H, W) or (C, D, H, W)."""
    return _max_pool(input, kernel_size, stride, padding, dilation, ceil_mode, return_indices,
                     3)
