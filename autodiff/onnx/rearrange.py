"""ONNX forms of ops that rearrange elements: rot90, pixel_shuffle of any rank and
pixel_unshuffle, channel_shuffle, narrow_copy, diag_embed, Tensor.unfold's sliding windows,
block_diag. Each is Reshapes and Transposes, or Gathers of constant positions (a Where for the
zeros diag_embed leaves, so infinities and NaNs stay where eager puts them)."""

from __future__ import annotations

from typing import Any

from ..tensor import Tensor
from .convert import Unsupported, converts, dtype_of, operand, output
from .graph import INT64_MAX, Graph, Record


def _flip(g: Graph, value: str, axes: list[int]) -> str:
    count = len(axes)
    return g.node("Slice", [value, g.ints([-1] * count), g.ints([-INT64_MAX] * count),
                            g.ints(axes), g.ints([-1] * count)])


def _swap(g: Graph, value: str, ndim: int, first: int, second: int) -> str:
    perm = list(range(ndim))
    perm[first], perm[second] = perm[second], perm[first]
    return g.node("Transpose", [value], perm=perm)


@converts("Rot90")
def _rot90(g: Graph, record: Record, other: Record | None) -> list[Any]:
    """PyTorch's: k = 1 flips dims[1] then swaps the two, 2 flips both, 3 flips dims[0]
    then swaps."""
    x = record.args[0]
    k = int(record.kwargs["k"]) % 4
    first, second = (int(axis) % x.ndim for axis in record.kwargs["dims"])
    value = g.value(x)
    if k == 0:
        return [g.node("Identity", [value])]
    if k == 2:
        return [_flip(g, value, [first, second])]
    flipped = _flip(g, value, [second if k == 1 else first])
    return [_swap(g, flipped, x.ndim, first, second)]


def _shuffle(g: Graph, value: str, lead: int, split: list[int], perm: list[int],
             merged: list[int]) -> str:
    """Reshape the trailing dims to `split`, permute them, reshape them to `merged` (the
    leading `lead` dims kept as they are, dynamic or not)."""
    value = g.node("Reshape", [value, g.ints([0] * lead + split)])
    value = g.node("Transpose", [value], perm=list(range(lead)) + [lead + axis for axis in perm])
    return g.node("Reshape", [value, g.ints([0] * lead + merged)])


@converts("PixelShuffle")
def _pixel_shuffle(g: Graph, record: Record, other: Record | None) -> list[Any]:
    """(..., C r^2, H, W) -> (..., C, H r, W r): ONNX's DepthToSpace in CRD order for 4-D
    (its mode attribute is from opset 11: before, DepthToSpace is DCR only), or the same split
    and permutation written out."""
    x = record.args[0]
    factor = int(record.kwargs["factor"])
    if x.ndim == 4 and g.opset >= 11:
        return [g.node("DepthToSpace", [g.value(x)], blocksize=factor, mode="CRD")]
    channels, height, width = (int(size) for size in x.shape[-3:])
    small = channels // (factor * factor)
    return [_shuffle(g, g.value(x), x.ndim - 3, [small, factor, factor, height, width],
                     [0, 3, 1, 4, 2], [small, height * factor, width * factor])]


@converts("PixelUnshuffle")
def _pixel_unshuffle(g: Graph, record: Record, other: Record | None) -> list[Any]:
    """(..., C, H r, W r) -> (..., C r^2, H, W)."""
    x = record.args[0]
    factor = int(record.kwargs["factor"])
    channels, height, width = (int(size) for size in x.shape[-3:])
    small_height, small_width = height // factor, width // factor
    return [_shuffle(g, g.value(x), x.ndim - 3,
                     [channels, small_height, factor, small_width, factor], [0, 2, 4, 1, 3],
                     [channels * factor * factor, small_height, small_width])]


@converts("ChannelShuffle")
def _channel_shuffle(g: Graph, record: Record, other: Record | None) -> list[Any]:
    """(N, C, ...) -> the channels as (groups, C / groups) transposed."""
    x = record.args[0]
    groups = int(record.kwargs["groups"])
    channels = int(x.shape[1])
    if other is not None and other.args[0].shape[2:] != x.shape[2:]:
        raise Unsupported("a dynamic spatial size")
    rest = [int(size) for size in x.shape[2:]]
    return [_shuffle(g, g.value(x), 1, [groups, channels // groups, *rest],
                     [1, 0, *range(2, 2 + len(rest))], [channels, *rest])]


@converts("NarrowCopy")
def _narrow_copy(g: Graph, record: Record, other: Record | None) -> list[Any]:
    x = record.args[0]
    axis = int(record.kwargs["dim"]) % x.ndim
    return [g.node("Slice", [g.value(x), g.ints([int(record.kwargs["start"])]),
                             g.ints([int(record.kwargs["stop"])]), g.ints([axis])])]


@converts("DiagEmbed")
def _diag_embed(g: Graph, record: Record, other: Record | None) -> list[Any]:
    """The last dim's n values on the offset diagonal of an (m, m) plane (m = n + |offset|):
    a Gather of the value at each place, zero off the diagonal; then the plane's two dims
    moved to dim1 and dim2."""
    x = record.args[0]
    offset = int(record.kwargs["offset"])
    count = int(x.shape[-1])
    size = count + abs(offset)
    ndim = x.ndim + 1
    dim1, dim2 = (int(record.kwargs[key]) % ndim for key in ("dim1", "dim2"))
    places = [[(row if offset >= 0 else column) if column - row == offset else 0
               for column in range(size)] for row in range(size)]
    on = [[column - row == offset for column in range(size)] for row in range(size)]
    backend = x._backend
    dtype = dtype_of(output(record))
    if count == 0:  # no values: the zeros of the offset's plane
        return [g.node("Expand", [g.scalar(0, dtype),
                                  g.ints([int(size) for size in output(record).shape])])]
    value = operand(g, x, dtype)
    gathered = g.node("Gather", [value, g.constant(backend.to_numpy(
        backend.asarray(places, dtype="int64")), "places")], axis=x.ndim - 1)
    plane = g.node("Where", [g.constant(backend.to_numpy(backend.asarray(on, dtype="bool")),
                                        "diagonal"), gathered, g.scalar(0, dtype)])
    order = list(range(ndim - 2))
    perm = []
    for axis in range(ndim):
        perm.append(ndim - 2 if axis == dim1 else ndim - 1 if axis == dim2 else order.pop(0))
    return [g.node("Transpose", [plane], perm=perm)]


@converts("Unfold")
def _unfold(g: Graph, record: Record, other: Record | None) -> list[Any]:
    """x.unfold(dim, size, step): each window's positions gathered along the dim ((count,
    size) there), the window's axis moved last."""
    x = record.args[0]
    if x.ndim == 0:
        return [g.node("Unsqueeze", [g.value(x), g.ints([0])])]
    axis = int(record.kwargs["dim"]) % x.ndim
    size, step = int(record.kwargs["size"]), int(record.kwargs["step"])
    if other is not None and other.args[0].shape[axis] != x.shape[axis]:
        raise Unsupported("windows along a dynamic dim")
    count = (int(x.shape[axis]) - size) // step + 1
    positions = [[window * step + offset for offset in range(size)] for window in range(count)]
    backend = x._backend
    index = g.constant(backend.to_numpy(backend.asarray(positions, dtype="int64")), "windows")
    out = g.node("Gather", [g.value(x), index], axis=axis)
    perm = [*range(axis + 1), *range(axis + 2, x.ndim + 1), axis + 1]
    return [g.node("Transpose", [out], perm=perm)]


@converts("BlockDiag")
def _block_diag(g: Graph, record: Record, other: Record | None) -> list[Any]:
    """Each block as a matrix (0-d: 1 x 1, 1-d: one row), padded with zeros to the full width
    at its columns, the blocks stacked."""
    dtype = dtype_of(output(record))
    blocks = [item for item in record.args if isinstance(item, Tensor)]
    shapes = [(1, 1) if item.ndim == 0 else (1, int(item.shape[0])) if item.ndim == 1 else
              (int(item.shape[0]), int(item.shape[1])) for item in blocks]
    width = sum(columns for _, columns in shapes)
    rows, left = [], 0
    for item, (count, columns) in zip(blocks, shapes):
        value = g.node("Reshape", [operand(g, item, dtype), g.ints([count, columns])])
        rows.append(g.node("Pad", [value, g.ints([0, left, 0, width - left - columns]),
                                   g.scalar(0, dtype)], mode="constant"))
        left += columns
    return [g.node("Concat", rows, axis=0)]
