"""`unfold` (im2col) and `fold` (col2im) of `nn.functional`: the sliding blocks of a batch of
images as columns, and columns summed back into images. Each is the other's adjoint, so each is
the other's backward."""

from __future__ import annotations

import math
from typing import Any

from .. import dtypes
from ..function import Function
from ..jvp_rules import auto_linear
from ..saved_fields import befores, fields, value
from ..tensor import Tensor
from ._windows import symmetric
from .conv import ConvGeometry, columns_of, fold_columns

# What PyTorch's im2col and col2im nodes keep of their window arguments.
_WINDOW_FIELDS = {"kernel_size": value("kernel", tuple), "dilation": value("geometry.dilation"),
                  "padding": value("geometry.padding", befores),
                  "stride": value("geometry.stride")}


class Im2Col(Function):
    node_name = "Im2ColBackward0"
    saved_fields = fields(**_WINDOW_FIELDS,
                          self_sym_argsize_minus_1=value("spatial", lambda spatial: spatial[-1]),
                          self_sym_argsize_minus_2=value("spatial", lambda spatial: spatial[-2]))

    jvp = auto_linear

    @staticmethod
    def forward(ctx: Any, x: Any, *, kernel: tuple[int, ...], geometry: ConvGeometry,
                positions: tuple[int, ...]) -> Any:
        backend = ctx.backend
        ctx.kernel, ctx.geometry, ctx.positions = kernel, geometry, positions
        ctx.spatial = x.shape[-2:]
        batched = x.ndim == 4  # an unbatched (C, H, W) input gives (C * kH * kW, L)
        cols = columns_of(backend, x if batched else backend.expand_dims(x, axis=0), kernel,
                          geometry, positions)
        return backend.reshape(cols, cols.shape[2:] if not batched else
                               (x.shape[0], *cols.shape[2:]))

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> Tensor:
        return Col2Im.apply(grad, kernel=ctx.kernel, geometry=ctx.geometry,
                            positions=ctx.positions, spatial=ctx.spatial)


class Col2Im(Function):
    node_name = "Col2ImBackward0"
    saved_fields = fields(**_WINDOW_FIELDS)

    jvp = auto_linear

    @staticmethod
    def forward(ctx: Any, cols: Any, *, kernel: tuple[int, ...], geometry: ConvGeometry,
                positions: tuple[int, ...], spatial: tuple[int, ...]) -> Any:
        backend = ctx.backend
        ctx.kernel, ctx.geometry, ctx.positions = kernel, geometry, positions
        batched = cols.ndim == 3  # an unbatched (C * kH * kW, L) input gives (C, H, W)
        if not batched:
            cols = backend.expand_dims(cols, axis=0)
        channels = cols.shape[1] // math.prod(kernel)
        out = fold_columns(backend, cols, channels, kernel, positions, geometry, spatial)
        return out if batched else backend.reshape(out, out.shape[1:])

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> Tensor:
        return Im2Col.apply(grad, kernel=ctx.kernel, geometry=ctx.geometry,
                            positions=ctx.positions)


def _pair(value: Any, name: str) -> tuple[int, int]:
    values = (value, value) if isinstance(value, int) else tuple(value)
    if len(values) != 2:
        raise RuntimeError(f"It is expected {name} equals to 2, but got size {len(values)}")
    return int(values[0]), int(values[1])


def _geometry(kernel_size: Any, dilation: Any, padding: Any, stride: Any
              ) -> tuple[tuple[int, int], ConvGeometry]:
    kernel = _pair(kernel_size, "kernel_size")
    dilations, pads, strides = (_pair(dilation, "dilation"), _pair(padding, "padding"),
                                _pair(stride, "stride"))
    for values, name, label, minimum in ((kernel, "kernel size", "kernel", 1),
                                         (strides, "stride", "stride", 1),
                                         (pads, "padding", "pad", 0),
                                         (dilations, "dilation", "dilation", 1)):
        if min(values) < minimum:
            wanted = "greater than zero" if minimum else "non-negative"
            raise RuntimeError(f"{name} should be {wanted}, but got {label}_height: "
                               f"{values[0]} {label}_width: {values[1]}")
    return kernel, ConvGeometry(strides, symmetric(pads), dilations, 1)


def _blocks(spatial: tuple[int, ...], kernel: tuple[int, int], geometry: ConvGeometry
            ) -> tuple[int, int]:
    height, width = (
        (size + 2 * before - d * (k - 1) - 1) // s + 1
        for size, (before, _), d, k, s in zip(spatial, geometry.padding, geometry.dilation,
                                               kernel, geometry.stride))
    return height, width


def _describe(kernel: tuple[int, int], geometry: ConvGeometry) -> str:
    pads = tuple(before for before, _ in geometry.padding)
    return (f"kernel_size={kernel}, dilation={geometry.dilation}, padding={pads}")


def _check_float(input: Tensor, kernel: str) -> None:
    if not input.dtype.is_floating_point:
        raise NotImplementedError(
            f'"{kernel}" not implemented for \'{dtypes.SCALAR_TYPE_NAMES[input.dtype.name]}\'')


def unfold(input: Tensor, kernel_size: Any, dilation: Any = 1, padding: Any = 0,
           stride: Any = 1) -> Tensor:
    """Sliding local blocks of (N, C, H, W) as columns (N, C * prod(kernel_size), L)."""
    shape = tuple(input._data.shape)
    if len(shape) not in (3, 4) or 0 in shape[-3:]:
        raise RuntimeError(
            "Expected 3D or 4D (batch mode) tensor with possibly 0 batch size and other "
            f"non-zero dimensions for input, but got: {list(shape)}")
    kernel, geometry = _geometry(kernel_size, dilation, padding, stride)
    blocks = _blocks(shape[-2:], kernel, geometry)
    if min(blocks) < 1:
        pads = tuple(before for before, _ in geometry.padding)
        raise RuntimeError(
            f"Given input with spatial size {shape[-2:]}, kernel_size={kernel}, "
            f"dilation={geometry.dilation}, padding={pads}, calculated shape of the array of "
            f"sliding blocks as {blocks}, but its components must be at least one.")
    _check_float(input, "im2col_out_cpu")
    return Im2Col.apply(input, kernel=kernel, geometry=geometry, positions=blocks)


def fold(input: Tensor, output_size: Any, kernel_size: Any, dilation: Any = 1,
         padding: Any = 0, stride: Any = 1) -> Tensor:
    """Sums columns (N, C * prod(kernel_size), L) of sliding blocks into (N, C, *output_size)."""
    shape = tuple(input._data.shape)
    if len(shape) not in (2, 3) or 0 in shape[-2:]:
        raise RuntimeError(
            "Expected 2D or 3D (batch mode) tensor for input with possibly 0 batch size and "
            f"non-zero dimensions for input, but got: {list(shape)}")
    spatial = _pair(output_size, "output_size")
    kernel, geometry = _geometry(kernel_size, dilation, padding, stride)
    if shape[-2] % (kernel[0] * kernel[1]):
        raise RuntimeError(
            "Expected size of input's dimension 1 to be divisible by the product of "
            f"kernel_size, but got input.size(1)={shape[-2]} and kernel_size={kernel}.")
    blocks = _blocks(spatial, kernel, geometry)
    if shape[-1] != blocks[0] * blocks[1] or min(blocks) < 1:
        raise RuntimeError(
            f"Given output_size={spatial}, {_describe(kernel, geometry)}, "
            f"stride={geometry.stride}, expected size of input's dimension 2 to match the "
            f"calculated number of sliding blocks {blocks[0]} * {blocks[1]} = "
            f"{blocks[0] * blocks[1]}, but got input.size(2)={shape[-1]}.")
    _check_float(input, "col2im_out_cpu")
    return Col2Im.apply(input, kernel=kernel, geometry=geometry, positions=blocks,
                        spatial=spatial)
