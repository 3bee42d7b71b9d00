"""ONNX forms of shape ops: reshapes (with dynamic sizes), transposes, (un)squeezes, expand,
concatenation and splits, constant pads, tiles, triangles."""

from __future__ import annotations

from typing import Any

from ..tensor import Tensor
from .convert import (
    Unsupported,
    converts,
    dtype_of,
    operand,
    output,
)
from .graph import Graph, Record


def _dynamic_shape(record: Record, other: Record | None, key: str = "shape") -> list[int]:
    """A target shape with the dims that differ in the grown trace written as ONNX infers
    them: 0 (copy the input's dim) where the input has that very dim at that place, else -1
    (at most one)."""
    shape = [int(size) for size in record.kwargs[key]]
    if other is None:
        return shape
    grown = [int(size) for size in other.kwargs[key]]
    source, source_grown = record.args[0].shape, other.args[0].shape
    inferred = False
    for axis, (size, size_grown) in enumerate(zip(shape, grown)):
        if size == size_grown and size != -1:
            continue
        if (axis < len(source) and source[axis] == size
                and source_grown[axis] == size_grown):
            shape[axis] = 0
        elif not inferred:
            shape[axis] = -1
            inferred = True
        else:
            raise Unsupported("more than one dynamic size in a reshape")
    return shape


@converts("View", "UnsafeView", "Reshape", "ReshapeAlias")
def _view(g: Graph, record: Record, other: Record | None) -> list[Any]:
    x = record.args[0]
    if "shape" not in record.kwargs:
        raise Unsupported("no target shape")
    if other is None:  # every size is the traced one
        shape = [int(size) for size in output(record).shape]
        return [g.node("Reshape", [g.value(x), g.ints(shape)], allowzero=1)]
    return [g.node("Reshape", [g.value(x), g.ints(_dynamic_shape(record, other))])]


@converts("Transpose", "T")
def _transpose(g: Graph, record: Record, other: Record | None) -> list[Any]:
    x = record.args[0]
    perm = list(range(x.ndim))
    if x.ndim < 2:
        return [g.node("Identity", [g.value(x)])]
    if x.ndim >= 2:
        first, second = record.kwargs["dim0"] % x.ndim, record.kwargs["dim1"] % x.ndim
        perm[first], perm[second] = perm[second], perm[first]
    return [g.node("Transpose", [g.value(x)], perm=perm)]


@converts("Permute")
def _permute(g: Graph, record: Record, other: Record | None) -> list[Any]:
    x = record.args[0]
    perm = [int(axis) % max(x.ndim, 1) for axis in record.kwargs["dims"]]
    if not perm:
        return [g.node("Identity", [g.value(x)])]
    return [g.node("Transpose", [g.value(x)], perm=perm)]


@converts("Unsqueeze")
def _unsqueeze(g: Graph, record: Record, other: Record | None) -> list[Any]:
    x = record.args[0]
    axis = int(record.kwargs["dim"]) % (x.ndim + 1)
    return [g.node("Unsqueeze", [g.value(x), g.ints([axis])])]


@converts("Squeeze", "SqueezeDim", "SqueezeDims")
def _squeeze(g: Graph, record: Record, other: Record | None) -> list[Any]:
    x = record.args[0]
    axes = record.kwargs.get("axes")
    if axes is None:
        axes = tuple(range(x.ndim))
    axes = [axis % x.ndim for axis in axes if x.ndim and x.shape[axis % x.ndim] == 1]
    if not axes:
        return [g.node("Identity", [g.value(x)])]
    return [g.node("Squeeze", [g.value(x), g.ints(axes)])]


@converts("Expand")
def _expand(g: Graph, record: Record, other: Record | None) -> list[Any]:
    x = record.args[0]
    shape = [int(size) for size in output(record).shape]
    if other is not None:
        grown = list(output(other).shape)
        shape = [1 if size != size_grown else size for size, size_grown in zip(shape, grown)]
    return [g.node("Expand", [g.value(x), g.ints(shape)])]


@converts("Cat")
def _cat(g: Graph, record: Record, other: Record | None) -> list[Any]:
    out = output(record)
    dtype = dtype_of(out)
    tensors = [item for item in record.args if isinstance(item, Tensor)
               and not (item.ndim == 1 and item.shape[0] == 0 and out.ndim != 1)]
    axis = int(record.kwargs["dim"]) % max(out.ndim, 1)
    return [g.node("Concat", [operand(g, item, dtype) for item in tensors], axis=axis)]


@converts("Stack")
def _stack(g: Graph, record: Record, other: Record | None) -> list[Any]:
    out = output(record)
    dtype = dtype_of(out)
    axis = int(record.kwargs["dim"]) % out.ndim
    parts = [g.node("Unsqueeze", [operand(g, item, dtype), g.ints([axis])])
             for item in record.args if isinstance(item, Tensor)]
    return [g.node("Concat", parts, axis=axis)]


@converts("Split", "SplitWithSizes", "UnsafeSplit", "UnsafeSplitWithSizes")
def _split(g: Graph, record: Record, other: Record | None) -> list[Any]:
    x = record.args[0]
    axis = int(record.kwargs["dim"]) % x.ndim
    sizes = [int(size) for size in record.kwargs["sizes"]]
    outputs = g.node("Split", [g.value(x), g.ints(sizes)], outputs=len(sizes), axis=axis)
    return list(outputs) if len(sizes) > 1 else [outputs]


@converts("ConstantPadNd")
def _pad(g: Graph, record: Record, other: Record | None) -> list[Any]:
    x = record.args[0]
    dtype = dtype_of(output(record))
    pad = list(record.kwargs["pad"])
    begins, ends = [0] * x.ndim, [0] * x.ndim
    for position in range(len(pad) // 2):  # torch lists (before, after) from the last dim
        axis = x.ndim - 1 - position
        begins[axis], ends[axis] = pad[2 * position], pad[2 * position + 1]
    return [g.node("Pad", [operand(g, x, dtype), g.ints(begins + ends),
                           g.scalar(record.kwargs["value"], dtype)], mode="constant")]


@converts("Repeat")
def _repeat(g: Graph, record: Record, other: Record | None) -> list[Any]:
    x = record.args[0]
    repeats = [int(count) for count in record.kwargs["repeats"]]
    value = g.value(x)
    if len(repeats) > x.ndim:
        shape = [1] * (len(repeats) - x.ndim) + [int(size) for size in x.shape]
        value = g.node("Reshape", [value, g.ints(shape)], allowzero=1)
    return [g.node("Tile", [value, g.ints(repeats)])]


@converts("Tril", "Triu")
def _trilu(g: Graph, record: Record, other: Record | None) -> list[Any]:
    x = record.args[0]
    return [g.node("Trilu", [g.value(x), g.constant_int(int(record.kwargs["diagonal"]))],
                   upper=int(record.op == "Triu"))]


@converts("ReflectionPad1D", "ReflectionPad2D", "ReflectionPad3D", "ReplicationPad1D",
          "ReplicationPad2D", "ReplicationPad3D")
def _mode_pad(g: Graph, record: Record, other: Record | None) -> list[Any]:
    x = record.args[0]
    pad = list(record.kwargs["pad"])
    begins, ends = [0] * x.ndim, [0] * x.ndim
    for position in range(len(pad) // 2):
        axis = x.ndim - 1 - position
        begins[axis], ends[axis] = pad[2 * position], pad[2 * position + 1]
    mode = "edge" if record.kwargs["replicate"] else "reflect"
    return [g.node("Pad", [g.value(x), g.ints(begins + ends)], mode=mode)]
