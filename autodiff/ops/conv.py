"""Convolution: conv1d/2d/3d and conv_transpose1d/2d/3d, as one `Convolution` node (PyTorch's
ConvolutionBackward0) and the node of its weight gradient.

The forward is im2col and one GEMM per sample and group: the backend's strided window view of the
padded input is copied once into columns (N, groups, C/groups * kernel, positions), and the
weight (groups, C_out/groups, C/groups * kernel) multiplies them. A transposed convolution is the
adjoint of a convolution: the weight's transpose times the input gives columns, which col2im
(`Backend.fold_windows`) adds back into the output. So the input gradient of a convolution is a
transposed convolution and the other way round, and the weight gradient of either is one op
(columns times the output gradient, summed over the batch); each of the three is the backward of
the others, so every order of derivative is these same ops. Backward never keeps the forward's
columns: the weight gradient recomputes them, and each op frees its own before the next starts,
so one column buffer is alive per convolution at a time.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from backends import Backend

from .. import dtypes
from ..autocast_state import autocast_op
from ..flop_counts import conv2d_flops
from ..function import Function
from ..jvp_rules import auto_multilinear, sum_terms
from ..profiling import CPU_OP, profiler_state
from ..saved_fields import Computed, befores, fields, saved, value
from ..tensor import Tensor
from ..user_warnings import warn
from ._windows import Pairs, pad_array, symmetric
from .memory_formats import (
    CHANNELS_LAST_FORMATS,
    channels_last_array,
    laid_out,
    to_channels_last_array,
)


@dataclass(frozen=True)
class ConvGeometry:
    """How a convolution's windows sit on its (unpadded) input, per spatial dim."""

    stride: tuple[int, ...]
    padding: Pairs  # (before, after)
    dilation: tuple[int, ...]
    groups: int


# ----------------------------------------------------------------------------- array kernels
def columns_of(backend: Backend, x: Any, kernel: Sequence[int], geometry: ConvGeometry,
            positions: Sequence[int]) -> Any:
    """im2col: (N, groups, C/groups * prod(kernel), prod(positions)), the first `positions`
    windows of the padded input per dim."""
    count = len(kernel)
    padded = pad_array(backend, x, geometry.padding)
    windows = backend.sliding_windows(padded, tuple(kernel), geometry.stride, geometry.dilation)
    if tuple(windows.shape[2:2 + count]) != tuple(positions):
        windows = backend.getitem(windows, (..., *(slice(0, p) for p in positions),
                                            *(slice(None),) * count))
    order = (0, 1, *range(2 + count, 2 + 2 * count), *range(2, 2 + count))
    batch, channels = x.shape[:2]
    groups = geometry.groups
    return backend.reshape(backend.permute_dims(windows, order),
                           (batch, groups, channels // groups * math.prod(kernel),
                            math.prod(positions)))


def convolve(backend: Backend, x: Any, weight: Any, geometry: ConvGeometry,
             positions: Sequence[int]) -> Any:
    """The convolution of x (N, C, *spatial) with weight (C_out, C/groups, *kernel)."""
    groups = geometry.groups
    out_channels = weight.shape[0]
    columns = columns_of(backend, x, weight.shape[2:], geometry, positions)
    matrix = backend.reshape(weight, (groups, out_channels // groups, -1))
    out = backend.matmul(matrix, columns)  # (N, groups, C_out/groups, positions)
    return backend.reshape(out, (x.shape[0], out_channels, *positions))


def convolve_transpose(backend: Backend, g: Any, weight: Any, geometry: ConvGeometry,
                       spatial: Sequence[int]) -> Any:
    """The adjoint of `convolve` with respect to its input: from g (N, C_out, *positions) to
    an array (N, C, *spatial) (col2im of the weight's transpose times g)."""
    groups = geometry.groups
    out_channels, group_channels = weight.shape[:2]
    kernel = weight.shape[2:]
    positions = g.shape[2:]
    batch = g.shape[0]
    matrix = backend.reshape(weight, (groups, out_channels // groups, -1))
    grads = backend.reshape(g, (batch, groups, out_channels // groups, math.prod(positions)))
    columns = backend.matmul(backend.permute_dims(matrix, (0, 2, 1)), grads)
    return fold_columns(backend, columns, groups * group_channels, kernel, positions, geometry,
                        spatial)


def fold_columns(backend: Backend, columns: Any, channels: int, kernel: Sequence[int],
                 positions: Sequence[int], geometry: ConvGeometry,
                 spatial: Sequence[int]) -> Any:
    """col2im, the adjoint of `columns`: columns (N, ..., C * prod(kernel), prod(positions))
    added back into an array (N, C, *spatial)."""
    count = len(kernel)
    windows = backend.reshape(columns, (columns.shape[0], channels, *kernel, *positions))
    order = (0, 1, *range(2 + count, 2 + 2 * count), *range(2, 2 + count))
    return backend.fold_windows(backend.permute_dims(windows, order), tuple(spatial),
                                geometry.stride, geometry.dilation,
                                tuple(before for before, _ in geometry.padding))


def convolve_weight_grad(backend: Backend, x: Any, g: Any, geometry: ConvGeometry,
                         kernel: Sequence[int]) -> Any:
    """The gradient of `convolve` with respect to its weight: columns of x times g, summed
    over the batch."""
    groups = geometry.groups
    out_channels = g.shape[1]
    positions = g.shape[2:]
    columns = columns_of(backend, x, kernel, geometry, positions)
    grads = backend.reshape(g, (g.shape[0], groups, out_channels // groups,
                                math.prod(positions)))
    per_sample = backend.matmul(grads, backend.permute_dims(columns, (0, 1, 3, 2)))
    total = backend.sum(per_sample, axis=0)  # (groups, C_out/groups, C/groups * kernel)
    return backend.reshape(total, (out_channels, x.shape[1] // groups, *kernel))


# ----------------------------------------------------------------------------- nodes
def _output_padding(node: Any) -> tuple[int, ...]:
    """A transposed convolution's output_padding: the output's cells past the last window."""
    geometry = node.geometry
    if not node.transposed:
        return (0,) * len(node.spatial)
    return tuple(out - ((size - 1) * stride - 2 * before + dilation * (kernel - 1) + 1)
                 for out, size, stride, (before, _), dilation, kernel in zip(
                     node.spatial, node.input_spatial, geometry.stride, geometry.padding,
                     geometry.dilation, node.kernel))


class Convolution(Function):
    """A convolution (or, `transposed`, its adjoint) of x with weight, plus bias; `spatial` is
    the output's spatial shape."""

    node_name = "ConvolutionBackward0"
    saved_fields = fields(
        input=saved(0), weight=saved(1),
        bias_sym_sizes_opt=value("bias_shape", lambda shape: (0,) if shape is None else shape),
        stride=value("geometry.stride"), padding=value("geometry.padding", befores),
        dilation=value("geometry.dilation"), transposed=value("transposed"),
        output_padding=Computed(_output_padding), groups=value("geometry.groups"))

    @staticmethod
    def forward(ctx: Any, x: Any, weight: Any, bias: Any, *, geometry: ConvGeometry,
                transposed: bool, spatial: tuple[int, ...]) -> Any:
        backend = ctx.backend
        ctx.geometry, ctx.transposed, ctx.spatial = geometry, transposed, spatial
        ctx.input_spatial, ctx.kernel = x.shape[2:], weight.shape[2:]
        ctx.bias_shape = None if bias is None else bias.shape
        ctx.save_for_backward(x, weight)
        if transposed:
            out = convolve_transpose(backend, x, weight, geometry, spatial)
        else:
            out = convolve(backend, x, weight, geometry, spatial)
        if bias is not None:
            out += backend.reshape(bias, (-1, *(1,) * len(spatial)))  # a fresh array
        if channels_last_array(backend, x) or channels_last_array(backend, weight):
            return to_channels_last_array(backend, out)  # PyTorch's kernels keep the layout
        return out

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> tuple[Tensor | None, ...]:
        x, weight = ctx.saved_tensors
        needs_x, needs_weight, needs_bias = ctx.needs_input_grad
        geometry = ctx.geometry
        kernel = tuple(weight._data.shape[2:])
        spatial = tuple(x._data.shape[2:])
        grad_x = grad_weight = grad_bias = None
        if ctx.transposed:
            if needs_x:
                grad_x = Convolution.apply(grad, weight, None, geometry=geometry,
                                           transposed=False, spatial=spatial)
            if needs_weight:
                grad_weight = ConvolutionWeight.apply(grad, x, geometry=geometry, kernel=kernel)
        else:
            if needs_x:
                grad_x = Convolution.apply(grad, weight, None, geometry=geometry,
                                           transposed=True, spatial=spatial)
            if needs_weight:
                grad_weight = ConvolutionWeight.apply(x, grad, geometry=geometry, kernel=kernel)
        if needs_bias:
            grad_bias = grad.sum((0, *range(2, grad._data.ndim)))
        if grad_weight is not None and channels_last_array(weight._backend, weight._data):
            grad_weight = laid_out(grad_weight, CHANNELS_LAST_FORMATS[weight._data.ndim])
        return grad_x, grad_weight, grad_bias

    @staticmethod
    def jvp(ctx: Any, tangent_x: Tensor | None, tangent_w: Tensor | None,
            tangent_b: Tensor | None) -> Tensor | None:
        """Bilinear in (x, weight), plus the bias over the channels."""
        x, weight = ctx.saved_tensors
        options = {"geometry": ctx.geometry, "transposed": ctx.transposed,
                   "spatial": ctx.spatial}
        return sum_terms([
            Convolution.apply(tangent_x, weight, None, **options)
            if tangent_x is not None else None,
            Convolution.apply(x, tangent_w, None, **options) if tangent_w is not None else None,
            tangent_b.reshape(-1, *(1,) * len(ctx.spatial)) if tangent_b is not None else None,
        ])


class ConvolutionWeight(Function):
    """The weight gradient of a convolution of x whose output gradient is g. It is bilinear in
    (x, g): its own gradients are a transposed convolution of g and a convolution of x, each
    with the incoming gradient as the weight."""

    node_name = "ConvolutionBackwardBackward0"

    jvp = auto_multilinear

    @staticmethod
    def forward(ctx: Any, x: Any, g: Any, *, geometry: ConvGeometry,
                kernel: tuple[int, ...]) -> Any:
        ctx.geometry = geometry
        ctx.save_for_backward(x, g)
        out = convolve_weight_grad(ctx.backend, x, g, geometry, kernel)
        if channels_last_array(ctx.backend, x) or channels_last_array(ctx.backend, g):
            return to_channels_last_array(ctx.backend, out)  # the weight's layout, as PyTorch
        return out

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> tuple[Tensor | None, Tensor | None]:
        x, g = ctx.saved_tensors
        needs_x, needs_g = ctx.needs_input_grad
        geometry = ctx.geometry
        grad_x = grad_g = None
        if needs_x:
            grad_x = Convolution.apply(g, grad, None, geometry=geometry, transposed=True,
                                       spatial=tuple(x._data.shape[2:]))
        if needs_g:
            grad_g = Convolution.apply(x, grad, None, geometry=geometry, transposed=False,
                                       spatial=tuple(g._data.shape[2:]))
        return grad_x, grad_g


# ----------------------------------------------------------------------------- arguments
def _expand(value: Any, count: int, name: str, dims: int) -> tuple[int, ...]:
    """PyTorch's argument parsing then expand_param_if_needed: an int is `dims` ints (the
    function's spatial dims), then a list of 1 int is `count` ints (the weight's)."""
    values = [value] * dims if isinstance(value, int) else list(value)
    if len(values) == 1:
        values = values * count
    if len(values) != count:
        raise RuntimeError(
            f"expected {name} to be a single integer value or a list of {count} values to "
            f"match the convolution dimensions, but got {name}={values}"
        )
    return tuple(int(v) for v in values)


def _check_int(function: str, name: str, value: Any) -> None:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(
            f"{function}(): argument '{name}' must be int, not {type(value).__name__}")


def _type_name(tensor: Tensor) -> str:
    return f"torch.{dtypes.LEGACY_NAMES[tensor.dtype.name]}"


def _check_dtypes(input: Tensor, weight: Tensor, bias: Tensor | None) -> None:
    if input.dtype is not weight.dtype:
        if input.dtype is dtypes.float32:  # PyTorch's oneDNN path words it this way
            raise RuntimeError(
                f"Input type ({_type_name(input)}) and weight type ({_type_name(weight)}) "
                "should be the same or input should be a MKLDNN tensor and weight is a dense "
                "tensor"
            )
        raise RuntimeError(
            f"expected scalar type {dtypes.SCALAR_TYPE_NAMES[input.dtype.name]} but found "
            f"{dtypes.SCALAR_TYPE_NAMES[weight.dtype.name]}"
        )
    if bias is not None and bias.dtype is not input.dtype:
        raise RuntimeError(
            f"Input type ({_CPP_NAMES[input.dtype.name]}) and bias type "
            f"({_CPP_NAMES[bias.dtype.name]}) should be the same"
        )
    if input.dtype is dtypes.bool_:
        raise NotImplementedError(
            f'"slow_conv{input.dim() - 2}d_cpu" not implemented for \'Bool\''
        )


_CPP_NAMES = {"float16": "c10::Half", "bfloat16": "c10::BFloat16", "float32": "float",
              "float64": "double",
              "int64": "long int", "int32": "int", "int16": "short int", "int8": "signed char",
              "uint8": "unsigned char", "bool": "bool"}


def _sizes(shape: Sequence[int]) -> str:
    return " x ".join(str(size) for size in shape)


def convolution(input: Tensor, weight: Tensor, bias: Tensor | None, stride: Any, padding: Any,
                dilation: Any, transposed: bool, output_padding: Any, groups: int,
                dims: int, name: str) -> Tensor:
    """Checks and shapes of every conv and conv_transpose function (as PyTorch's
    `convolution`), then one `Convolution` node; unbatched inputs get a batch dim around it."""
    _check_int(name, "groups", groups)
    if isinstance(padding, str) and transposed:
        raise TypeError(f"{name}(): argument 'padding' must be tuple of ints, not str")
    shape = tuple(input._data.shape)
    if len(shape) not in (dims + 1, dims + 2):
        raise RuntimeError(
            f"Expected {dims + 1}D (unbatched) or {dims + 2}D (batched) input to {name}, but got "
            f"input of size: {list(shape)}"
        )
    if len(shape) == dims + 1:
        out = convolution(input.unsqueeze(0), weight, bias, stride, padding, dilation,
                          transposed, output_padding, groups, dims, name)
        return out.squeeze(0)
    count = weight.dim() - 2
    stride = _expand(stride, count, "stride", dims)
    dilation = _expand(dilation, count, "dilation", dims)
    kernel = tuple(weight._data.shape[2:])
    same = False
    if isinstance(padding, str):
        if padding not in ("same", "valid"):
            raise RuntimeError(f"Invalid padding string: '{padding}'")
        if padding == "same" and any(s != 1 for s in stride):
            raise RuntimeError("padding='same' is not supported for strided convolutions")
        same = padding == "same"
        pads: tuple[int, ...] = (0,) * count
    else:
        pads = _expand(padding, count, "padding", dims)
    output_padding = _expand(output_padding, count, "output_padding", dims)
    if groups <= 0:
        raise RuntimeError("non-positive groups is not supported")
    if any(p < 0 for p in pads):
        raise RuntimeError("negative padding is not supported")
    if any(p < 0 for p in output_padding):
        raise RuntimeError("negative output_padding is not supported")
    if any(s <= 0 for s in stride):
        raise RuntimeError("non-positive stride is not supported")
    if any(d < 0 for d in dilation):
        raise RuntimeError("dilation should be greater than zero")
    if any(d == 0 for d in dilation):
        # PyTorch's autograd path checks this before its kernels do, in other words.
        if input.requires_grad or weight.requires_grad:
            raise RuntimeError(f"dilation should be greater than zero, but got {list(dilation)}")
        raise RuntimeError("non-positive dilation is not supported")
    if transposed:
        for op, s, d in zip(output_padding, stride, dilation):
            if op >= s and op >= d:
                raise RuntimeError(_output_padding_message(output_padding, stride, dilation))
    _check_shapes(input, weight, bias, groups, transposed, count)
    _check_dtypes(input, weight, bias)
    spatial = shape[2:]
    if same:
        totals = [d * (k - 1) for d, k in zip(dilation, kernel)]
        geometry_padding = tuple((total // 2, total - total // 2) for total in totals)
        if any(total % 2 for total in totals):
            warn(
                "Using padding='same' with even kernel lengths and odd dilation may require a "
                "zero-padded copy of the input be created", UserWarning, stacklevel=3)
    else:
        geometry_padding = symmetric(pads)
    geometry = ConvGeometry(stride, geometry_padding, dilation, groups)
    if transposed:
        out_spatial = tuple(
            (size - 1) * s - 2 * p + d * (k - 1) + op + 1
            for size, s, p, d, k, op in zip(spatial, stride, pads, dilation, kernel,
                                             output_padding))
        if any(size <= 0 for size in out_spatial):
            widen = (1,) if count == 1 else ()  # PyTorch reports 1-D as 2-D with a height of 1
            raise RuntimeError(
                f"Given input size per channel: ({_sizes(widen + spatial)}). Calculated output "
                f"size per channel: ({_sizes(widen + out_spatial)}). Output size is too small"
            )
    else:
        padded = tuple(size + before + after for size, (before, after) in
                       zip(spatial, geometry_padding))
        dilated = tuple(d * (k - 1) + 1 for d, k in zip(dilation, kernel))
        if any(size < reach for size, reach in zip(padded, dilated)):
            raise RuntimeError(
                f"Calculated padded input size per channel: ({_sizes(padded)}). Kernel size: "
                f"({_sizes(dilated)}). Kernel size can't be greater than actual input size"
            )
        out_spatial = tuple((size - reach) // s + 1
                            for size, reach, s in zip(padded, dilated, stride))
    return Convolution.apply(input, weight, bias, geometry=geometry, transposed=transposed,
                             spatial=out_spatial)


def _output_padding_message(output_padding: tuple[int, ...], stride: tuple[int, ...],
                            dilation: tuple[int, ...]) -> str:
    names = {1: ("width",), 2: ("height", "width"), 3: ("depth", "height", "width")}
    axes = names[len(stride)]
    parts = [f"output_padding_{axis}: {value}" for axis, value in zip(axes, output_padding)]
    parts += [f"stride_{axis}: {value}" for axis, value in zip(axes, stride)]
    parts += [f"dilation_{axis}: {value}" for axis, value in zip(axes, dilation)]
    return ("output padding must be smaller than either stride or dilation, but got "
            + " ".join(parts))


def _check_shapes(input: Tensor, weight: Tensor, bias: Tensor | None, groups: int,
                  transposed: bool, count: int) -> None:
    shape = list(input._data.shape)
    weight_shape = list(weight._data.shape)
    if weight.dim() != input.dim():
        raise RuntimeError(
            f"Expected {weight.dim()}-dimensional input for {weight.dim()}-dimensional weight "
            f"{weight_shape}, but got {input.dim()}-dimensional input of size {shape} instead"
        )
    if not transposed:
        if weight_shape[0] < groups:
            raise RuntimeError(
                f"Given groups={groups}, expected weight to be at least {groups} at dimension 0, "
                f"but got weight of size {weight_shape} instead"
            )
        if weight_shape[0] % groups:
            raise RuntimeError(
                f"Given groups={groups}, expected weight to be divisible by {groups} at "
                f"dimension 0, but got weight of size [{weight_shape}] instead"
            )
        if shape[1] != weight_shape[1] * groups:
            raise RuntimeError(
                f"Given groups={groups}, weight of size {weight_shape}, expected input{shape} "
                f"to have {weight_shape[1] * groups} channels, but got {shape[1]} channels "
                "instead"
            )
        out_channels = weight_shape[0]
        prefix = ""
    else:
        if shape[1] != weight_shape[0]:
            raise RuntimeError(
                f"Given transposed=1, weight of size {weight_shape}, expected input{shape} to "
                f"have {weight_shape[0]} channels, but got {shape[1]} channels instead"
            )
        if weight_shape[0] % groups:
            raise RuntimeError(
                f"Given groups={groups}, expected weight to be divisible by {groups} at "
                f"dimension 0, but got weight of size [{weight_shape}] instead"
            )
        out_channels = weight_shape[1] * groups
        prefix = "transposed=1, "
    if bias is not None and (bias.dim() != 1 or bias._data.shape[0] != out_channels):
        raise RuntimeError(
            f"Given {prefix}weight of size {weight_shape}, expected bias to be 1-dimensional "
            f"with {out_channels} elements, but got bias of size {list(bias._data.shape)} "
            "instead"
        )


# ----------------------------------------------------------------------------- public
@autocast_op("conv1d")
def public_convolution(input: Tensor, weight: Tensor, bias: Tensor | None, stride: Any,
                       padding: Any, dilation: Any, transposed: bool, output_padding: Any,
                       groups: int, dims: int, name: str) -> Tensor:
    """`convolution`, seen by the profiler as PyTorch's is: inside a range named for the public
    function (`aten::conv2d`), with its arguments in ATen's order; conv2d's range carries the
    FLOP count."""
    if not profiler_state.active:
        return convolution(input, weight, bias, stride, padding, dilation, transposed,
                           output_padding, groups, dims, name)
    arguments = ((input, weight, bias, stride, padding, output_padding, groups, dilation)
                 if transposed else (input, weight, bias, stride, padding, dilation, groups))
    opened = profiler_state.begin(f"aten::{name}", CPU_OP, arguments)
    try:
        recording = profiler_state.recording
        if (opened is not None and recording is not None and recording.with_flops
                and name == "conv2d"):
            opened.flops = conv2d_flops(input.shape, weight.shape, stride, padding, dilation,
                                        groups)
        return convolution(input, weight, bias, stride, padding, dilation, transposed,
                           output_padding, groups, dims, name)
    finally:
        profiler_state.end(opened)


def conv1d(input: Tensor, weight: Tensor, bias: Tensor | None = None, stride: Any = 1,
           padding: Any = 0, dilation: Any = 1, groups: int = 1) -> Tensor:
    """1-D convolution over (N, C, L) or (C, L)."""
    return public_convolution(input, weight, bias, stride, padding, dilation, False, 0, groups, 1,
                       "conv1d")


@autocast_op("conv2d")
def conv2d(input: Tensor, weight: Tensor, bias: Tensor | None = None, stride: Any = 1,
           padding: Any = 0, dilation: Any = 1, groups: int = 1) -> Tensor:
    """2-D convolution over (N, C, H, W) or (C, H, W)."""
    return public_convolution(input, weight, bias, stride, padding, dilation, False, 0, groups, 2,
                       "conv2d")


@autocast_op("conv3d")
def conv3d(input: Tensor, weight: Tensor, bias: Tensor | None = None, stride: Any = 1,
           padding: Any = 0, dilation: Any = 1, groups: int = 1) -> Tensor:
    """3-D convolution over (N, C, D, H, W) or (C, D, H, W)."""
    return public_convolution(input, weight, bias, stride, padding, dilation, False, 0, groups, 3,
                       "conv3d")


@autocast_op("conv_transpose1d")
def conv_transpose1d(input: Tensor, weight: Tensor, bias: Tensor | None = None,
                     stride: Any = 1, padding: Any = 0, output_padding: Any = 0,
                     groups: int = 1, dilation: Any = 1) -> Tensor:
    """The transpose (adjoint) of conv1d; weight (C_in, C_out/groups, k)."""
    return public_convolution(input, weight, bias, stride, padding, dilation, True, output_padding,
                       groups, 1, "conv_transpose1d")


@autocast_op("conv_transpose2d")
def conv_transpose2d(input: Tensor, weight: Tensor, bias: Tensor | None = None,
                     stride: Any = 1, padding: Any = 0, output_padding: Any = 0,
                     groups: int = 1, dilation: Any = 1) -> Tensor:
    """The transpose (adjoint) of conv2d; weight (C_in, C_out/groups, kH, kW)."""
    return public_convolution(input, weight, bias, stride, padding, dilation, True, output_padding,
                       groups, 2, "conv_transpose2d")


@autocast_op("conv_transpose3d")
def conv_transpose3d(input: Tensor, weight: Tensor, bias: Tensor | None = None,
                     stride: Any = 1, padding: Any = 0, output_padding: Any = 0,
                     groups: int = 1, dilation: Any = 1) -> Tensor:
    """The transpose (adjoint) of conv3d; weight (C_in, C_out/groups, kD, kH, kW)."""
    return public_convolution(input, weight, bias, stride, padding, dilation, True, output_padding,
                       groups, 3, "conv_transpose3d")
