"""ONNX forms of pooling and sliding windows: max and average pooling, adaptive pooling,
max_unpool, unfold (im2col) and fold (col2im).

Max pooling's indices are ONNX MaxPool's second output, which counts over the whole tensor:
its remainder by the plane size is PyTorch's index within each plane. Adaptive pooling whose
output size divides the input size is a plain pooling (kernel = stride = input / output);
otherwise its windows differ in length, and it is written along each axis as gathers of the
window's positions reduced together (a weighted sum for average, the op's own taps; a Max for
max), which PyTorch's exporter refuses. im2col is one strided Slice of the padded input per
kernel offset; col2im adds the columns back with ScatterElements (reduction "add", opset 16),
so infinities and NaNs go where eager puts them (a convolution with one-hot kernels would
multiply them by zeros).
"""

from __future__ import annotations

import math
from typing import Any

from ..tensor import Tensor
from .convert import (
    Unsupported,
    apply_taps,
    converts,
    dtype_of,
    index_value,
    operand,
    output,
)
from .graph import Graph, Record


def _ceil_mode(x: Tensor, geometry: Any) -> int:
    """1 where the op's output positions exceed the floor formula's (ceil_mode=True)."""
    spatial = x.shape[x.ndim - len(geometry.kernel):]
    for size, k, s, d, (lo, hi), positions in zip(spatial, geometry.kernel, geometry.stride,
                                                  geometry.dilation, geometry.padding,
                                                  geometry.positions):
        if (size + lo + hi - d * (k - 1) - 1) // s + 1 != positions:
            return 1
    return 0


def _pool_pads(geometry: Any) -> list[int]:
    return [int(lo) for lo, _ in geometry.padding] + [int(hi) for _, hi in geometry.padding]


def _batched(g: Graph, x: Tensor, spatial: int) -> tuple[str, bool]:
    """x's value with a batch axis (ONNX's pooling wants (N, C, ...)); whether it had one."""
    value = g.value(x)
    if x.ndim == spatial + 2:
        return value, True
    return g.node("Unsqueeze", [value, g.ints([0])]), False


def _plane_indices(g: Graph, indices: str, x: Tensor, spatial: int, batched: bool) -> str:
    """MaxPool's indices (over the whole N x C x plane tensor) as PyTorch's, within each
    plane; unbatched, the batch axis taken off."""
    plane = math.prod(int(size) for size in x.shape[x.ndim - spatial:])
    indices = g.node("Mod", [indices, g.scalar(plane, "int64")])
    return indices if batched else g.node("Squeeze", [indices, g.ints([0])])


@converts("MaxPool1DWithIndices", "MaxPool2DWithIndices", "MaxPool3DWithIndices")
def _max_pool(g: Graph, record: Record, other: Record | None) -> list[Any]:
    x = record.args[0]
    geometry = record.kwargs["geometry"]
    spatial = len(geometry.kernel)
    value, batched = _batched(g, x, spatial)
    attributes: dict[str, Any] = {
        "kernel_shape": list(geometry.kernel), "strides": list(geometry.stride),
        "dilations": list(geometry.dilation), "pads": _pool_pads(geometry),
        "ceil_mode": _ceil_mode(x, geometry)}
    if len(record.outputs) == 1:
        out = g.node("MaxPool", [value], **attributes)
        return [out if batched else g.node("Squeeze", [out, g.ints([0])])]
    if other is not None and other.args[0].shape[-spatial:] != x.shape[-spatial:]:
        raise Unsupported("max pooling indices over a dynamic spatial size")
    out, indices = g.node("MaxPool", [value], outputs=2, **attributes)
    out = out if batched else g.node("Squeeze", [out, g.ints([0])])
    return [out, _plane_indices(g, indices, x, spatial, batched)]


@converts("AvgPool1D", "AvgPool2D", "AvgPool3D")
def _avg_pool(g: Graph, record: Record, other: Record | None) -> list[Any]:
    """ONNX's AveragePool counting the padding (its geometry's padding already covers
    ceil_mode's last windows); where the op divides by other than the kernel's size
    (count_include_pad=False, divisor_override, windows past the padding) the mean is turned
    into the op's sum over its divisor (a number, or one per output position)."""
    x = record.args[0]
    geometry = record.kwargs["geometry"]
    divisor = record.kwargs["divisor"]
    spatial = len(geometry.kernel)
    dtype = dtype_of(output(record))
    if other is not None and other.args[0].shape[-spatial:] != x.shape[-spatial:] and not (
            isinstance(divisor, int) and divisor == math.prod(geometry.kernel)
            and not _ceil_mode(x, geometry)):
        raise Unsupported("average pooling of a dynamic spatial size with a divisor per window")
    value, batched = _batched(g, x, spatial)
    out = g.node("AveragePool", [value], kernel_shape=list(geometry.kernel),
                 strides=list(geometry.stride), pads=_pool_pads(geometry),
                 count_include_pad=1)
    size = math.prod(geometry.kernel)
    if isinstance(divisor, int):
        if divisor != size:
            out = g.node("Mul", [out, g.scalar(size / divisor, dtype)])
    else:
        backend = x._backend
        factor = backend.divide(backend.asarray(float(size), dtype=dtype),
                                backend.astype(divisor, dtype))
        out = g.node("Mul", [out, g.constant(backend.to_numpy(factor), "divisor")])
    return [out if batched else g.node("Squeeze", [out, g.ints([0])])]


def _windows(size: int, out: int) -> list[tuple[int, int]]:
    """Adaptive pooling's windows along one axis: [floor(i * size / out),
    ceil((i + 1) * size / out))."""
    return [(index * size // out, -(-(index + 1) * size // out)) for index in range(out)]


def _adaptive_sizes(record: Record, other: Record | None, spatial: int
                    ) -> tuple[list[int], list[int], bool]:
    """The input's and output's spatial sizes, and whether an input size is dynamic."""
    x, out = record.args[0], output(record)
    sizes = [int(size) for size in x.shape[x.ndim - spatial:]]
    positions = [int(size) for size in out.shape[out.ndim - spatial:]]
    dynamic = other is not None and [
        int(size) for size in other.args[0].shape[x.ndim - spatial:]] != sizes
    return sizes, positions, dynamic


@converts("AdaptiveAvgPool2D", "AdaptiveAvgPool3D")
def _adaptive_avg_pool(g: Graph, record: Record, other: Record | None) -> list[Any]:
    """AveragePool where the output divides the input, else the op's taps (each output the
    weighted sum of its window). (Pooling to 1 is a mean, as in PyTorch: no op of its own.)"""
    x = record.args[0]
    taps = record.kwargs["taps"]
    spatial = len(taps)
    sizes, positions, dynamic = _adaptive_sizes(record, other, spatial)
    if dynamic:
        raise Unsupported("adaptive pooling of a dynamic spatial size to other than 1")
    if all(size % count == 0 for size, count in zip(sizes, positions)):
        value, batched = _batched(g, x, spatial)
        kernel = [size // count for size, count in zip(sizes, positions)]
        out = g.node("AveragePool", [value], kernel_shape=kernel, strides=kernel)
        return [out if batched else g.node("Squeeze", [out, g.ints([0])])]
    dtype = dtype_of(output(record))
    return [apply_taps(g, x, operand(g, x, dtype), taps, dtype)]


@converts("AdaptiveMaxPool2D", "AdaptiveMaxPool3D")
def _adaptive_max_pool(g: Graph, record: Record, other: Record | None) -> list[Any]:
    """MaxPool where the output divides the input (with PyTorch's indices; GlobalMaxPool,
    without them, to 1 over a dynamic size); else, along each axis, the Max of one Gather per
    window position (windows shorter than the longest repeat their last position), its
    indices unavailable."""
    x = record.args[0]
    spatial = len(record.kwargs["positions"])
    sizes, positions, dynamic = _adaptive_sizes(record, other, spatial)
    if dynamic:
        if any(count != 1 for count in positions):
            raise Unsupported("adaptive pooling of a dynamic spatial size to other than 1")
        value, batched = _batched(g, x, spatial)
        out = g.node("GlobalMaxPool", [value])
        return [out if batched else g.node("Squeeze", [out, g.ints([0])]), None]
    if all(size % count == 0 for size, count in zip(sizes, positions)):
        value, batched = _batched(g, x, spatial)
        kernel = [size // count for size, count in zip(sizes, positions)]
        out, indices = g.node("MaxPool", [value], outputs=2, kernel_shape=kernel,
                              strides=kernel)
        out = out if batched else g.node("Squeeze", [out, g.ints([0])])
        return [out, _plane_indices(g, indices, x, spatial, batched)]
    out = g.value(x)
    first = x.ndim - spatial
    for offset, (size, count) in enumerate(zip(sizes, positions)):
        windows = _windows(size, count)
        longest = max(end - start for start, end in windows)
        terms = [g.node("Gather", [out, g.ints([min(start + tap, end - 1)
                                                for start, end in windows])],
                        axis=first + offset) for tap in range(longest)]
        out = terms[0] if len(terms) == 1 else g.node("Max", terms)
    return [out, None]


@converts("MaxUnpool2D", "MaxUnpool3D")
def _max_unpool(g: Graph, record: Record, other: Record | None) -> list[Any]:
    """Each value written at its index in a zero plane: ScatterElements along the flattened
    plane (ONNX's MaxUnpool counts indices over the whole tensor, PyTorch's per plane)."""
    x = record.args[0]
    spatial = [int(size) for size in record.kwargs["spatial"]]
    lead = x.ndim - len(spatial)
    dtype = dtype_of(output(record))
    flat = [0] * lead + [-1]
    values = g.node("Reshape", [operand(g, x, dtype), g.ints(flat)])
    indices = g.node("Reshape", [index_value(g, record, record.kwargs["indices"]),
                                 g.ints(flat)])
    plane = g.node("Concat", [g.node("Slice", [g.node("Shape", [values]), g.ints([0]),
                                               g.ints([lead])]),
                              g.ints([math.prod(spatial)])], axis=0)
    zeros = g.node("Expand", [g.scalar(0, dtype), plane])
    out = g.node("ScatterElements", [zeros, indices, values], axis=lead)
    return [g.node("Reshape", [out, g.ints([0] * lead + spatial)])]


@converts("Im2Col")
def _im2col(g: Graph, record: Record, other: Record | None) -> list[Any]:
    """unfold: the zero-padded input sliced once per kernel offset (every stride-th position
    from the offset times the dilation), the slices stacked after the channels and flattened
    to (N, C * prod(kernel), L)."""
    x = record.args[0]
    kernel = [int(size) for size in record.kwargs["kernel"]]
    geometry = record.kwargs["geometry"]
    positions = [int(size) for size in record.kwargs["positions"]]
    if other is not None and other.args[0].shape[-2:] != x.shape[-2:]:
        raise Unsupported("unfold over a dynamic spatial size")
    value, batched = _batched(g, x, 2)
    if any(lo or hi for lo, hi in geometry.padding):
        pads = [0, 0] + [int(lo) for lo, _ in geometry.padding] + \
            [0, 0] + [int(hi) for _, hi in geometry.padding]
        value = g.node("Pad", [value, g.ints(pads), g.scalar(0, dtype_of(x))],
                       mode="constant")
    slices = []
    for row in range(kernel[0]):
        for column in range(kernel[1]):
            starts = [offset * dilation for offset, dilation in
                      zip((row, column), geometry.dilation)]
            ends = [start + stride * (count - 1) + 1 for start, stride, count in
                    zip(starts, geometry.stride, positions)]
            piece = g.node("Slice", [value, g.ints(starts), g.ints(ends), g.ints([2, 3]),
                                     g.ints(list(geometry.stride))])
            slices.append(g.node("Unsqueeze", [piece, g.ints([2])]))
    stacked = g.node("Concat", slices, axis=2)
    out = g.node("Reshape", [stacked, g.ints([0, -1, math.prod(positions)])])
    return [out if batched else g.node("Squeeze", [out, g.ints([0])])]


@converts("Col2Im")
def _col2im(g: Graph, record: Record, other: Record | None) -> list[Any]:
    """fold: each column element added at its place in the padded output (ScatterElements
    with reduction "add" along the flattened plane), the padding then cut off."""
    cols = record.args[0]
    if g.opset < 16:
        raise Unsupported("ScatterElements' reduction needs opset 16")
    kernel = [int(size) for size in record.kwargs["kernel"]]
    geometry = record.kwargs["geometry"]
    positions = [int(size) for size in record.kwargs["positions"]]
    spatial = [int(size) for size in record.kwargs["spatial"]]
    dtype = dtype_of(output(record))
    value = operand(g, cols, dtype)
    batched = cols.ndim == 3
    if not batched:
        value = g.node("Unsqueeze", [value, g.ints([0])])
    channels = int(cols.shape[-2]) // math.prod(kernel)
    padded = [size + lo + hi for size, (lo, hi) in zip(spatial, geometry.padding)]
    places = []
    for row in range(kernel[0]):
        for column in range(kernel[1]):
            for y in range(positions[0]):
                top = y * geometry.stride[0] + row * geometry.dilation[0]
                for x in range(positions[1]):
                    left = x * geometry.stride[1] + column * geometry.dilation[1]
                    places.append(top * padded[1] + left)
    updates = g.node("Reshape", [value, g.ints([0, channels, -1])])
    indices = g.node("Expand", [g.ints(places), g.node("Shape", [updates])])
    plane = g.node("Concat", [g.node("Slice", [g.node("Shape", [updates]), g.ints([0]),
                                               g.ints([1])]),
                              g.ints([channels, math.prod(padded)])], axis=0)
    zeros = g.node("Expand", [g.scalar(0, dtype), plane])
    out = g.node("ScatterElements", [zeros, indices, updates], axis=2, reduction="add")
    out = g.node("Reshape", [out, g.ints([0, channels, *padded])])
    starts = [int(lo) for lo, _ in geometry.padding]
    out = g.node("Slice", [out, g.ints(starts),
                           g.ints([start + size for start, size in zip(starts, spatial)]),
                           g.ints([2, 3])])
    return [out if batched else g.node("Squeeze", [out, g.ints([0])])]
