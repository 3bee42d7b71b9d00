"""Average pooling (avg_pool1d/2d/3d) and power-average pooling (lp_pool1d/2d/3d).

The forward sums the backend's strided window view of the zero-padded input (no copy) and
divides by each window's divisor. The gradient spreads grad / divisor over each window and adds
the windows back up (`fold_windows`); both are linear, each the other's backward. lp_pool is
PyTorch's composition of average pooling and powers.
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
from ..saved_fields import fields, saved, value
from ..tensor import Tensor
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
from .activation import relu
from .max_pool import max_pool1d, max_pool2d, max_pool3d
from .memory_formats import channels_last_array, to_channels_last_array


class AvgPool2D(Function):
    """The sum of each window of the zero-padded input over `divisor` (a number or an array of
    the output's spatial shape)."""

    node_name = "AvgPool2DBackward0"
    saved_fields = fields(
        self=saved(0), kernel_size=value("arguments.kernel_size"),
        stride=value("arguments.stride"), padding=value("arguments.padding"),
        ceil_mode=value("arguments.ceil_mode"),
        count_include_pad=value("arguments.count_include_pad"),
        divisor_override=value("arguments.divisor_override"))

    jvp = auto_linear

    @staticmethod
    def forward(ctx: Any, x: Any, *, geometry: PoolGeometry, arguments: PoolArguments,
                divisor: Any) -> Any:
        backend = ctx.backend
        count = len(geometry.kernel)
        ctx.geometry, ctx.divisor, ctx.spatial = geometry, divisor, x.shape[x.ndim - count:]
        ctx.arguments = arguments
        ctx.save_for_backward(x)
        windows = _windows_of(backend, x, geometry, 0)
        total = backend.sum(windows, axis=tuple(range(-count, 0)))
        if backend.is_floating(total.dtype):
            out = backend.divide(total, divisor)
        else:  # integers divide as C++ does, truncating toward zero
            quotient = backend.floor_divide(backend.abs(total), divisor)
            out = backend.where(backend.less(total, 0), backend.negative(quotient), quotient)
        if channels_last_array(backend, x):  # PyTorch's channels-last kernel keeps the layout
            return to_channels_last_array(backend, out)
        return out

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> Tensor:
        adjoint = AvgPool3DBackward if len(ctx.geometry.kernel) == 3 else AvgPool2DBackward
        return adjoint.apply(grad, geometry=ctx.geometry, arguments=ctx.arguments,
                             divisor=ctx.divisor, spatial=ctx.spatial)


class AvgPool3D(AvgPool2D):
    node_name = "AvgPool3DBackward0"


class AvgPool2DBackward(Function):
    """The gradient of average pooling: grad / divisor spread over each window, the windows
    added back up. Linear: its gradient is average pooling again."""

    node_name = "AvgPool2DBackwardBackward0"

    jvp = auto_linear

    @staticmethod
    def forward(ctx: Any, grad: Any, *, geometry: PoolGeometry, arguments: PoolArguments,
                divisor: Any, spatial: tuple[int, ...]) -> Any:
        backend = ctx.backend
        ctx.geometry, ctx.arguments, ctx.divisor = geometry, arguments, divisor
        count = len(geometry.kernel)
        scaled = backend.divide(grad, divisor)
        scaled = backend.reshape(scaled, (*scaled.shape, *(1,) * count))
        windows = backend.broadcast_to(scaled, (*grad.shape, *geometry.kernel))
        return fold_into(backend, windows, geometry, spatial)

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> Tensor:
        pool = AvgPool3D if len(ctx.geometry.kernel) == 3 else AvgPool2D
        return pool.apply(grad, geometry=ctx.geometry, arguments=ctx.arguments,
                          divisor=ctx.divisor)


class AvgPool3DBackward(AvgPool2DBackward):
    node_name = "AvgPool3DBackwardBackward0"


def _divisor(backend: Backend, spatial: Sequence[int], geometry: PoolGeometry,
             padding: Sequence[int], count_include_pad: bool,
             divisor_override: int | None, dtype: str) -> Any:
    """Each window's divisor, as PyTorch counts it: the override; else the window's cells
    inside the input and its padding (count_include_pad) or inside the input alone. The count
    is a product over dims, so it is built from one small vector per dim."""
    if divisor_override is not None:
        return divisor_override
    counts = []
    for size, kernel, stride, pad, positions in zip(spatial, geometry.kernel, geometry.stride,
                                                    padding, geometry.positions):
        per_dim = []
        for index in range(positions):
            start = index * stride - pad
            end = min(start + kernel, size + pad)
            if not count_include_pad:
                start, end = max(start, 0), min(end, size)
            per_dim.append(end - start)
        counts.append(per_dim)
    if all(len(set(c)) <= 1 for c in counts):  # every window alike: a number
        return math.prod(c[0] for c in counts)
    total = None
    for axis, per_dim in enumerate(counts):
        vector = backend.reshape(backend.asarray(per_dim, dtype="int64"),
                                 (-1, *(1,) * (len(counts) - 1 - axis)))
        total = vector if total is None else total * vector
    return backend.astype(total, dtype) if dtype.startswith(("float", "bfloat")) else total


_WORDING = {
    2: ("avg_pool2d: kernel_size must either be a single int, or a tuple of two ints",
        "avg_pool2d: stride must either be omitted, a single int, or a tuple of two ints",
        "avg_pool2d: padding must either be a single int, or a tuple of two ints"),
    3: ("avg_pool3d: kernel_size must be a single int, or a tuple of three ints",
        "avg_pool3d: stride must be omitted, a single int, or a tuple of three ints",
        "avg_pool3d: padding must be a single int, or a tuple of three ints"),
}


def _avg_pool(input: Tensor, kernel_size: Any, stride: Any, padding: Any, ceil_mode: bool,
              count_include_pad: bool, divisor_override: int | None, count: int) -> Tensor:
    """avg_pool2d/avg_pool3d with PyTorch's checks, in PyTorch's order."""
    kernel_words, stride_words, padding_words = _WORDING[count]
    kernel = as_tuple(kernel_size, count, kernel_words)
    strides = as_tuple(() if stride is None else stride, count, stride_words,
                       allow_empty=True) or kernel
    pads = as_tuple(padding, count, padding_words)
    if divisor_override is not None and divisor_override == 0:
        raise RuntimeError("divisor must be not zero")
    shape = list(input._data.shape)
    if len(shape) not in (count + 1, count + 2):
        raise RuntimeError(f"non-empty {count + 1}D or {count + 2}D (batch mode) tensor "
                           "expected for input")
    spatial = tuple(shape[-count:])
    positions = tuple(pooling_output_size(size, k, p, s, 1, ceil_mode)
                      for size, k, p, s in zip(spatial, kernel, pads, strides))
    _check_shape(input, kernel, strides, pads, positions, count)
    name = input.dtype.name
    if name not in ("float16", "bfloat16", "float32", "float64", "int64") or (
            count == 3 and name in ("float16", "bfloat16")):
        kernel_name = "avg_pool2d" if count == 2 else "avg_pool3d_out_frame"
        raise NotImplementedError(
            f'"{kernel_name}" not implemented for \'{dtypes.SCALAR_TYPE_NAMES[name]}\'')
    geometry = pool_geometry(spatial, kernel, strides, pads, (1,) * count, positions)
    divisor = _divisor(input._backend, spatial, geometry, pads, count_include_pad,
                       divisor_override, name)
    arguments = PoolArguments(given(kernel_size, count), given(stride, count),
                              given(padding, count), (), ceil_mode, count_include_pad,
                              divisor_override)
    op = AvgPool3D if count == 3 else AvgPool2D
    return op.apply(input, geometry=geometry, arguments=arguments, divisor=divisor)


def _check_shape(input: Tensor, kernel: tuple[int, ...], stride: tuple[int, ...],
                 padding: tuple[int, ...], positions: tuple[int, ...], count: int) -> None:
    """PyTorch's pool2d_shape_check / pool3d_shape_check for average pooling."""
    axes = ("H", "W") if count == 2 else ("T", "H", "W")
    for values, what, label in ((kernel, "kernel size", "k"), (stride, "stride", "d")):
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
                    "avg_pool3d(): Expected input's non-batch dimensions to have positive "
                    f"length, but input has a shape of {shape} and non-batch dimension {size} "
                    "has length zero!")
        if any(size < k for size, k in zip(shape[-3:], kernel)):
            time, height, width = shape[-3:]
            raise RuntimeError(
                f"input image (T: {time} H: {height} W: {width}) smaller than kernel size "
                f"(kT: {kernel[0]} kH: {kernel[1]} kW: {kernel[2]})")
    if min(positions) < 1:
        planes = shape[-count - 1]
        sizes = "x".join(str(size) for size in (planes, *shape[-count:]))
        outs = "x".join(str(size) for size in (planes, *positions))
        raise RuntimeError(f"Given input size: ({sizes}). Calculated output size: ({outs}). "
                           "Output size is too small")


def _one(value: Any, name: str) -> int:
    values = [value] if isinstance(value, int) else list(value)
    if len(values) != 1:
        raise RuntimeError(f"avg_pool1d() argument '{name}' should contain one int "
                           f"(got {len(values)})")
    return int(values[0])


def avg_pool1d(input: Tensor, kernel_size: Any, stride: Any = None, padding: Any = 0,
               ceil_mode: bool = False, count_include_pad: bool = True) -> Tensor:
    """Average pooling over (N, C, L) or (C, L)."""
    if input.dim() not in (2, 3):
        raise RuntimeError(
            f"Expected 2 to 3 dimensions, but got {input.dim()}-dimensional tensor for argument "
            "#1 'self' (while checking arguments for avg_pool1d)")
    kernel = _one(kernel_size, "kernel_size")
    step = kernel if stride is None or (not isinstance(stride, int) and not list(stride)) \
        else _one(stride, "stride")
    pad = _one(padding, "padding")
    return _avg_pool(input.unsqueeze(-2), (1, kernel), (1, step), (0, pad), ceil_mode,
                     count_include_pad, None, 2).squeeze(-2)


def avg_pool2d(input: Tensor, kernel_size: Any, stride: Any = None, padding: Any = 0,
               ceil_mode: bool = False, count_include_pad: bool = True,
               divisor_override: int | None = None) -> Tensor:
    """Average pooling over (N, C, H, W) or (C, H, W)."""
    return _avg_pool(input, kernel_size, stride, padding, ceil_mode, count_include_pad,
                     divisor_override, 2)


@autocast_op("avg_pool3d")
def avg_pool3d(input: Tensor, kernel_size: Any, stride: Any = None, padding: Any = 0,
               ceil_mode: bool = False, count_include_pad: bool = True,
               divisor_override: int | None = None) -> Tensor:
    """Average pooling over (N, C, D, H, W) or (C, D, H, W)."""
    return _avg_pool(input, kernel_size, stride, padding, ceil_mode, count_include_pad,
                     divisor_override, 3)


# ----------------------------------------------------------------------------- lp_pool
def _lp_pool(input: Tensor, norm_type: float, kernel_size: Any, stride: Any, ceil_mode: bool,
             count: int) -> Tensor:
    """(sum of x^p over each window)^(1/p), as PyTorch composes it from average pooling (a
    window whose sum is 0 gets a 0 gradient); p = +-inf is max pooling of |x|."""
    pools = {1: (max_pool1d, avg_pool1d), 2: (max_pool2d, avg_pool2d),
             3: (max_pool3d, avg_pool3d)}
    max_pool, avg_pool = pools[count]
    if norm_type == math.inf:
        return max_pool(input.abs(), kernel_size, stride, 0, 1, ceil_mode)
    if norm_type == -math.inf:
        return -max_pool(-input.abs(), kernel_size, stride, 0, 1, ceil_mode)
    size = kernel_size if count == 1 else math.prod(
        (kernel_size,) * count if isinstance(kernel_size, int) else kernel_size)
    out = avg_pool(input.pow(norm_type), kernel_size, stride, 0, ceil_mode)
    return (out.sign() * relu(out.abs())).mul(size).pow(1.0 / norm_type)


def lp_pool1d(input: Tensor, norm_type: float, kernel_size: int, stride: Any = None,
              ceil_mode: bool = False) -> Tensor:
    """Power-average pooling over (N, C, L): (sum of x^p over each window)^(1/p)."""
    return _lp_pool(input, norm_type, kernel_size, stride, ceil_mode, 1)


def lp_pool2d(input: Tensor, norm_type: float, kernel_size: Any, stride: Any = None,
              ceil_mode: bool = False) -> Tensor:
    """Power-average pooling over (N, C, H, W)."""
    return _lp_pool(input, norm_type, kernel_size, stride, ceil_mode, 2)


def lp_pool3d(input: Tensor, norm_type: float, kernel_size: Any, stride: Any = None,
              ceil_mode: bool = False) -> Tensor:
    """Power-average pooling over (N, C, D, H, W)."""
    return _lp_pool(input, norm_type, kernel_size, stride, ceil_mode, 3)
