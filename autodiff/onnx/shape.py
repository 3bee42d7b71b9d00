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


@converts("Transpose", "T", "TInPlace", "TransposeInPlace")
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


@converts("Unsqueeze", "UnsqueezeInPlace")
def _unsqueeze(g: Graph, record: Record, other: Record | None) -> list[Any]:
    x = record.args[0]
    axis = int(record.kwargs["dim"]) % (x.ndim + 1)
    return [g.node("Unsqueeze", [g.value(x), g.ints([axis])])]


@converts("Squeeze", "SqueezeDim", "SqueezeDims", "SqueezeInPlace", "SqueezeDimInplace",
          "SqueezeDimsInPlace")
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
    if other is not None and [int(count) for count in other.kwargs["repeats"]] != repeats:
        raise Unsupported("a repeat count that follows a dynamic size")
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


@converts("Diagonal", "DiagonalCopy", "DiagCopy")
def _diagonal(g: Graph, record: Record, other: Record | None) -> list[Any]:
    """The two dims moved last and merged into one, from which a Gather takes every
    (cols + 1)-th element from the diagonal's first."""
    x = record.args[0]
    offset, dim1, dim2 = (int(record.kwargs[key]) for key in ("offset", "dim1", "dim2"))
    rows, cols = int(x.shape[dim1]), int(x.shape[dim2])
    if other is not None and (other.args[0].shape[dim1], other.args[0].shape[dim2]) != (
            rows, cols):
        raise Unsupported("a dynamic size of the diagonal's dims")
    others = [axis for axis in range(x.ndim) if axis not in (dim1, dim2)]
    value = g.node("Transpose", [g.value(x)], perm=[*others, dim1, dim2])
    merged = g.node("Reshape", [value, g.ints([0] * len(others) + [-1])])
    length = max(0, min(rows, cols - offset) if offset >= 0 else min(rows + offset, cols))
    start = offset if offset >= 0 else -offset * cols
    positions = [start + index * (cols + 1) for index in range(length)]
    return [g.node("Gather", [merged, g.ints(positions)], axis=len(others))]


@converts("Unbind")
def _unbind(g: Graph, record: Record, other: Record | None) -> list[Any]:
    x = record.args[0]
    dim = int(record.kwargs["dim"])
    count = int(x.shape[dim])
    if other is not None and other.args[0].shape[dim] != count:
        raise Unsupported("unbind along a dynamic dim")
    parts = g.node("Split", [g.value(x), g.ints([1] * count)], outputs=count, axis=dim)
    parts = [parts] if count == 1 else parts
    return [g.node("Squeeze", [part, g.ints([dim])]) for part in parts]


@converts("Roll")
def _roll(g: Graph, record: Record, other: Record | None) -> list[Any]:
    """Each rolled dim as its last `shift` elements then the others (Slice, Concat); without
    dims, the flattened tensor rolled and put back in shape."""
    x = record.args[0]
    shifts, dims = record.kwargs["shifts"], record.kwargs["dims"]
    value = g.value(x)
    if dims is None:
        shape = g.node("Shape", [value])
        rolled = _roll_axis(g, g.node("Reshape", [value, g.ints([-1])]), int(shifts[0]),
                            int(x.numel()), 0)
        return [g.node("Reshape", [rolled, shape])]
    for shift, dim in zip(shifts, dims):
        if other is not None and other.args[0].shape[dim] != x.shape[dim]:
            raise Unsupported("roll along a dynamic dim")
        value = _roll_axis(g, value, int(shift), int(x.shape[dim]), int(dim))
    return [value]


def _roll_axis(g: Graph, value: str, shift: int, size: int, axis: int) -> str:
    if not size or not shift % size:
        return value
    cut = size - shift % size
    tail = g.node("Slice", [value, g.ints([cut]), g.ints([size]), g.ints([axis])])
    head = g.node("Slice", [value, g.ints([0]), g.ints([cut]), g.ints([axis])])
    return g.node("Concat", [tail, head], axis=axis)


# ----------------------------------------------------------------------------- as_strided
def _memory_positions(shape: Any, strides: Any, offset: int) -> list[int]:
    """offset + sum(i * stride) for each index of `shape`, in row-major order."""
    positions = [int(offset)]
    for size, step in zip(shape, strides):
        positions = [position + index * int(step) for position in positions
                     for index in range(int(size))]
    return positions


def _fixed(record: Record, other: Record | None) -> None:
    if other is not None and tuple(other.args[0].shape) != tuple(record.args[0].shape):
        raise Unsupported("a dynamic size of an as_strided input")
    if record.kwargs.get("examples"):
        raise Unsupported("a vmap-batched view")


@converts("AsStridedView", "AsStridedInPlace", "AsStridedCopy")
def _as_strided(g: Graph, record: Record, other: Record | None) -> list[Any]:
    """A Gather from the flattened input (as torch.onnx writes as_strided): each element of the
    view is the input element at the same memory position. The input's own memory positions
    come from its strides, so a view of a transposed or sliced input reads the right ones; a
    view reaching memory the input does not hold (another part of its base) cannot be
    written."""
    _fixed(record, other)
    x = record.args[0]
    size, stride, offset = record.kwargs["size"], record.kwargs["stride"], record.kwargs["offset"]
    element_at: dict[int, int] = {}
    for flat, position in enumerate(_memory_positions(x.shape, x.stride(), x.storage_offset())):
        element_at.setdefault(position, flat)
    try:
        indices = [element_at[position] for position in _memory_positions(size, stride, offset)]
    except KeyError:
        raise Unsupported("a view reaching memory its input does not hold") from None
    flat_x = g.node("Reshape", [g.value(x), g.ints([-1])])
    gathered = g.node("Gather", [flat_x, g.ints(indices)], axis=0)
    return [g.node("Reshape", [gathered, g.ints([int(s) for s in size])])]


def write_through(g: Graph, view: Tensor, base: Tensor) -> None:
    """An in-place op wrote `view`'s new value: its base takes it at the view's elements (a
    ScatterElements at their positions in the base), when the base held its value until this
    write and every element of the view is one of the base's. Otherwise the base keeps its
    old value, and reading it later is refused (its version moved on)."""
    name = g.names.get(id(base))
    if name is None or not g.current(base, writes=1):
        return
    element_at: dict[int, int] = {}
    for flat, position in enumerate(_memory_positions(base.shape, base.stride(),
                                                      base.storage_offset())):
        element_at.setdefault(position, flat)
    try:
        indices = [element_at[position] for position in _memory_positions(
            view.shape, view.stride(), view.storage_offset())]
    except KeyError:
        return
    if indices:
        updates = g.node("Reshape", [g.names[id(view)], g.ints([-1])])
        flat = g.node("ScatterElements", [g.node("Reshape", [name, g.ints([-1])]),
                                          g.ints(indices), updates], axis=0)
        name = g.node("Reshape", [flat, g.ints([int(size) for size in base.shape])])
    g.bind(base, name, computed=g.is_computed(base) or g.is_computed(view))


@converts("AsStridedScatter")
def _as_strided_scatter(g: Graph, record: Record, other: Record | None) -> list[Any]:
    """The input flattened (row-major), `src` written at the view's positions by a
    ScatterElements (the last write of a position wins, as the eager assignment's does)."""
    _fixed(record, other)
    x, src = record.args[0], record.args[1]
    dtype = dtype_of(output(record))
    positions = _memory_positions(record.kwargs["size"], record.kwargs["stride"],
                                  record.kwargs["offset"])
    flat_x = g.node("Reshape", [operand(g, x, dtype), g.ints([-1])])
    if not positions:
        return [g.node("Reshape", [flat_x, g.ints([int(s) for s in x.shape])])]
    last: dict[int, int] = {}
    for index, position in enumerate(positions):
        last[position] = index  # a position written twice keeps its last value
    kept = sorted(last.values())
    values = g.node("Reshape", [operand(g, src, dtype), g.ints([-1])])
    if len(kept) != len(positions):
        values = g.node("Gather", [values, g.ints(kept)], axis=0)
    scattered = g.node("ScatterElements",
                       [flat_x, g.ints([positions[index] for index in kept]), values], axis=0)
    return [g.node("Reshape", [scattered, g.ints([int(s) for s in x.shape])])]


# ----------------------------------------------------------------------------- pad_sequence
@converts("PadSequence")
def _pad_sequence(g: Graph, record: Record, other: Record | None) -> list[Any]:
    """Each sequence padded with padding_value to the longest (on the right, or on the left)
    and the sequences stacked along the batch dim (1, or 0 with batch_first)."""
    sequences = record.args
    if other is not None and [tuple(s.shape) for s in other.args] != [
            tuple(s.shape) for s in sequences]:
        raise Unsupported("dynamic sequence lengths")
    kwargs = record.kwargs
    dtype = dtype_of(output(record))
    longest = max(int(sequence.shape[0]) for sequence in sequences)
    trailing = [int(size) for size in sequences[0].shape[1:]]
    padded = []
    for sequence in sequences:
        value = operand(g, sequence, dtype)
        if [int(size) for size in sequence.shape[1:]] != trailing:  # (broadcast, as eager)
            value = g.node("Expand", [value, g.ints([int(sequence.shape[0]), *trailing])])
        missing = longest - int(sequence.shape[0])
        if missing:
            before, after = (missing, 0) if kwargs["left"] else (0, missing)
            zeros = [0] * len(trailing)
            value = g.node("Pad", [value, g.ints([before, *zeros, after, *zeros]),
                                   g.scalar(kwargs["padding_value"], dtype)])
        padded.append(g.node("Unsqueeze", [value, g.ints([0 if kwargs["batch_first"] else 1])]))
    return [g.node("Concat", padded, axis=0 if kwargs["batch_first"] else 1)]
