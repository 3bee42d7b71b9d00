"""ONNX forms of the ops whose output size depends on the values: nonzero, masked_select,
unique and unique_consecutive (of all elements)."""

from __future__ import annotations

from typing import Any

from .convert import (
    Unsupported,
    converts,
    dtype_of,
    onnx_type,
    operand,
    output,
)
from .graph import Graph, Record

# Their output may be empty on one call and not on the next: never written as a constant.
SIZED_BY_VALUES = frozenset({"nonzero", "MaskedSelect", "Unique", "UniqueConsecutive"})


@converts("nonzero")
def _nonzero(g: Graph, record: Record, other: Record | None) -> list[Any]:
    """NonZero gives (ndim, n) positions: transposed to one row per element, or one vector per
    dim with as_tuple."""
    x = record.args[0]
    if x.ndim == 0:
        raise Unsupported("a 0-d input")
    positions = g.node("NonZero", [g.value(x)])
    if record.kwargs["as_tuple"]:
        return [g.node("Gather", [positions, g.constant_int(axis)], axis=0)
                for axis in range(x.ndim)]
    return [g.node("Transpose", [positions], perm=[1, 0])]


@converts("MaskedSelect")
def _masked_select(g: Graph, record: Record, other: Record | None) -> list[Any]:
    """The input broadcast with the mask, flattened, compressed by the flattened mask."""
    x = record.args[0]
    mask = g.array(record.kwargs["mask"], x._backend, "mask")
    base = g.node("Expand", [operand(g, x, dtype_of(output(record))),
                             g.node("Shape", [mask])])  # (broadcasts both)
    mask = g.node("Expand", [mask, g.node("Shape", [base])])
    return [g.node("Compress", [g.node("Reshape", [base, g.ints([-1])]),
                                g.node("Reshape", [mask, g.ints([-1])])], axis=0)]


@converts("Unique", "UniqueConsecutive")
def _unique(g: Graph, record: Record, other: Record | None) -> list[Any]:
    """The first element of each run of equal elements (NaN never equals NaN, so each NaN is
    its own run, as in PyTorch); for unique, of the elements sorted first. ONNX's Unique is not
    used: it merges NaNs with other values. The sort is two stable TopKs, by value with NaN
    as +inf and then by NaN-ness, which puts every NaN after every number (+inf included)."""
    x = record.args[0]
    dtype = dtype_of(output(record))
    value = operand(g, x, dtype)
    flat = g.node("Reshape", [value, g.ints([-1])])
    size = g.node("Shape", [flat])
    order = None
    if record.op == "Unique":
        if "float" in dtype:
            nan = g.node("IsNaN", [flat])
            key = g.node("Where", [nan, g.scalar(float("inf"), dtype), flat])
            _, by_value = g.node("TopK", [key, size], outputs=2, axis=0, largest=0, sorted=1)
            nans = g.node("Cast", [g.node("Gather", [nan, by_value], axis=0)],
                          to=onnx_type("float32"))
            _, by_nan = g.node("TopK", [nans, size], outputs=2, axis=0, largest=0, sorted=1)
            order = g.node("Gather", [by_value, by_nan], axis=0)
        else:
            _, order = g.node("TopK", [flat, size], outputs=2, axis=0, largest=0, sorted=1)
        flat = g.node("Gather", [flat, order], axis=0)
    rest = g.node("Slice", [flat, g.ints([1]), g.ints([2**63 - 1]), g.ints([0])])
    before = g.node("Slice", [flat, g.ints([0]), g.ints([-1]), g.ints([0])])
    starts = g.node("Concat", [g.node("Expand", [g.scalar(True, "bool"), g.ints([1])]),
                               g.node("Not", [g.node("Equal", [rest, before])])], axis=0)
    starts = g.node("Slice", [starts, g.ints([0]), size, g.ints([0])])  # (none when empty)
    outputs = [g.node("Compress", [flat, starts], axis=0)]
    if record.kwargs["return_inverse"]:
        run = g.node("Sub", [g.node("CumSum", [g.node("Cast", [starts], to=onnx_type("int64")),
                                               g.constant_int(0)]), g.constant_int(1)])
        if order is not None:  # each element's run, back in the input's order
            run = g.node("ScatterElements", [run, order, run], axis=0)
        outputs.append(g.node("Reshape", [run, g.node("Shape", [value])]))
    if record.kwargs["return_counts"]:
        first = g.node("Reshape", [g.node("NonZero", [starts]), g.ints([-1])])
        ends = g.node("Concat", [g.node("Slice", [first, g.ints([1]), g.ints([2**63 - 1]),
                                                   g.ints([0])]), size], axis=0)
        outputs.append(g.node("Sub", [ends, first]))
    return outputs
