"""ONNX forms of indexing: select and slices, gathers (Gather, GatherElements, GatherND),
scatters (ScatterElements, ScatterND), flips, embeddings."""

from __future__ import annotations

from typing import Any

from ..tensor import Tensor
from .convert import (
    Unsupported,
    broadcast_shapes,
    converts,
    dtype_of,
    index_value,
    onnx_type,
    operand,
    output,
    reduce_over,
)
from .graph import INT64_MAX, Graph, Record


@converts("Select")
def _select(g: Graph, record: Record, other: Record | None) -> list[Any]:
    x = record.args[0]
    axis = int(record.kwargs["dim"]) % x.ndim
    index = g.constant_int(int(record.kwargs["index"]))
    return [g.node("Gather", [g.value(x), index], axis=axis)]


@converts("Slice")
def _slice(g: Graph, record: Record, other: Record | None) -> list[Any]:
    x = record.args[0]
    axis = int(record.kwargs["dim"]) % x.ndim
    start, stop, step = (record.kwargs[key] for key in ("start", "stop", "step"))
    size = x.shape[axis]
    start = 0 if start is None else start
    stop = INT64_MAX if stop is None or stop >= size else stop
    return [g.node("Slice", [g.value(x), g.ints([start]), g.ints([stop]), g.ints([axis]),
                             g.ints([step or 1])])]


@converts("Flip")
def _flip(g: Graph, record: Record, other: Record | None) -> list[Any]:
    x = record.args[0]
    axes = [int(axis) % x.ndim for axis in record.kwargs["dims"]]
    if not axes:
        return [g.node("Identity", [g.value(x)])]
    return [g.node("Slice", [g.value(x), g.ints([-1] * len(axes)),
                             g.ints([-INT64_MAX] * len(axes)), g.ints(axes),
                             g.ints([-1] * len(axes))])]


@converts("Gather")
def _gather(g: Graph, record: Record, other: Record | None) -> list[Any]:
    x = record.args[0]
    axis = int(record.kwargs["dim"]) % max(x.ndim, 1)
    index = index_value(g, record, record.kwargs["index"])
    return [g.node("GatherElements", [g.value(x), index], axis=axis)]


@converts("IndexSelect")
def _index_select(g: Graph, record: Record, other: Record | None) -> list[Any]:
    x = record.args[0]
    axis = int(record.kwargs["dim"]) % max(x.ndim, 1)
    index = index_value(g, record, record.kwargs["index"])
    return [g.node("Gather", [g.value(x), index], axis=axis)]


@converts("Index")
def _index(g: Graph, record: Record, other: Record | None) -> list[Any]:
    """x[i] with one integer index array along the first axis (advanced indexing) as Gather;
    several arrays (broadcast against each other, consecutive from the first axis) as
    GatherND."""
    x = record.args[0]
    key = record.kwargs["key"]
    backend = x._backend
    if any(item is None or type(item) is slice or isinstance(item, int) for item in key):
        raise Unsupported("a key mixing slices or None with arrays")
    if any(backend.is_bool(item.dtype) for item in key):
        raise Unsupported("a boolean mask")
    if len(key) == 1:
        return [g.node("Gather", [g.value(x), index_value(g, record, key[0])], axis=0)]
    shape = broadcast_shapes([tuple(int(size) for size in item.shape) for item in key])
    parts = [g.node("Unsqueeze", [g.node("Expand", [index_value(g, record, item),
                                                    g.ints(shape)]),
                                  g.ints([len(shape)])]) for item in key]
    indices = g.node("Concat", parts, axis=len(shape))
    return [g.node("GatherND", [g.value(x), indices])]


@converts("Scatter", "ScatterAdd", "ScatterValue")
def _scatter(g: Graph, record: Record, other: Record | None) -> list[Any]:
    x = record.args[0]
    dtype = dtype_of(output(record))
    axis = int(record.kwargs["dim"]) % max(x.ndim, 1)
    index = index_value(g, record, record.kwargs["index"])
    if record.op == "ScatterValue" or len(record.args) < 2:
        value = record.kwargs.get("value", record.args[1] if len(record.args) > 1 else None)
        if value is None or isinstance(value, Tensor):
            raise Unsupported("the scattered value")
        source = g.node("Expand", [g.scalar(value, dtype), g.node("Shape", [index])])
    else:
        source = operand(g, record.args[1], dtype)
        index_shape = list(record.kwargs["index"].shape)
        if list(record.args[1].shape) != index_shape:
            source = g.node("Slice", [source, g.ints([0] * len(index_shape)),
                                      g.ints(index_shape), g.ints(range(len(index_shape)))])
    reduction = "add" if record.op == "ScatterAdd" else "none"
    return [g.node("ScatterElements", [operand(g, x, dtype), index, source], axis=axis,
                   reduction=reduction)]


@converts("IndexPut")
def _index_put(g: Graph, record: Record, other: Record | None) -> list[Any]:
    """x[key] = values (or += with accumulate) for a key of integer arrays from the first
    axis: ScatterND over the broadcast index arrays, the values broadcast to what they fill."""
    x, values = record.args[0], record.args[1]
    key = record.kwargs["key"]
    backend = x._backend
    if any(item is None or type(item) is slice or isinstance(item, int)
           or backend.is_bool(item.dtype) for item in key):
        raise Unsupported("a key with slices, None or a boolean mask")
    dtype = dtype_of(output(record))
    shape = broadcast_shapes([tuple(int(size) for size in item.shape) for item in key])
    parts = [g.node("Unsqueeze", [g.node("Expand", [index_value(g, record, item),
                                                    g.ints(shape)]),
                                  g.ints([len(shape)])]) for item in key]
    indices = g.node("Concat", parts, axis=len(shape))
    filled = shape + [int(size) for size in x.shape[len(key):]]
    updates = g.node("Expand", [operand(g, values, dtype), g.ints(filled)])
    reduction = "add" if record.kwargs.get("accumulate") else "none"
    return [g.node("ScatterND", [operand(g, x, dtype), indices, updates],
                   reduction=reduction)]


@converts("ScatterReduce")
def _scatter_reduce(g: Graph, record: Record, other: Record | None) -> list[Any]:
    x, source = record.args[0], record.args[1]
    dtype = dtype_of(output(record))
    axis = int(record.kwargs["dim"]) % max(x.ndim, 1)
    index = index_value(g, record, record.kwargs["index"])
    index_shape = [int(size) for size in record.kwargs["index"].shape]
    updates = operand(g, source, dtype)
    if [int(size) for size in source.shape] != index_shape:
        updates = g.node("Slice", [updates, g.ints([0] * len(index_shape)), g.ints(index_shape),
                                   g.ints(range(len(index_shape)))])
    return [_reduce_into(g, operand(g, x, dtype), axis, index, updates,
                         record.kwargs["reduce"], bool(record.kwargs["include_self"]), dtype)]


def _reduce_into(g: Graph, x: str, axis: int, index: str, updates: str, reduce: str,
                 include_self: bool, dtype: str) -> str:
    """scatter_reduce's value by ScatterElements: the reductions ONNX has (add and mul, max and
    min from opset 18) directly; without the input's own values, the positions written are
    first set to the reduction's identity (to an update's own value for max and min); mean is
    the sum over the count of values reduced into each position."""
    reductions = {"sum": "add", "prod": "mul", "mean": "add"}
    if g.opset >= 18:
        reductions.update(amax="max", amin="min")
    if reduce not in reductions:
        raise Unsupported(f"reduce={reduce!r} below opset 18")
    if reduce == "mean" and "float" not in dtype:
        raise Unsupported("reduce='mean' of an integer tensor (PyTorch floors the quotient)")

    def filled(value: Any) -> str:
        return g.node("Expand", [g.scalar(value, dtype), g.node("Shape", [updates])])

    start = x
    if not include_self:
        identity = updates if reduce in ("amax", "amin") else filled(
            1 if reduce == "prod" else 0)
        start = g.node("ScatterElements", [x, index, identity], axis=axis)
    total = g.node("ScatterElements", [start, index, updates], axis=axis,
                   reduction=reductions[reduce])
    if reduce != "mean":
        return total
    ones = g.node("Expand", [g.scalar(1, dtype), g.node("Shape", [x])])
    if not include_self:
        ones = g.node("ScatterElements", [ones, index, filled(0)], axis=axis)
    count = g.node("ScatterElements", [ones, index, filled(1)], axis=axis, reduction="add")
    return g.node("Div", [total, count])


@converts("one_hot")
def _one_hot(g: Graph, record: Record, other: Record | None) -> list[Any]:
    """OneHot along a new last dim, int64 0s and 1s; num_classes=-1 is one more than the
    largest class (computed from the input)."""
    x = record.args[0]
    classes = record.args[1] if len(record.args) > 1 else record.kwargs.get("num_classes", -1)
    if classes == -1:
        depth = g.node("Add", [reduce_over(g, "ReduceMax", g.value(x), range(x.ndim), 0),
                               g.constant_int(1)])
    else:
        depth = g.constant_int(classes)
    return [g.node("OneHot", [g.value(x), depth, g.ints([0, 1])], axis=-1)]


@converts("EmbeddingBag")
def _embedding_bag(g: Graph, record: Record, other: Record | None) -> list[Any]:
    """Each bag's rows of weight at its indices (the bags' bounds are the op's offsets, fixed
    in the graph): summed or averaged by a ScatterElements into the bags (weighted by
    per_sample_weights, padding left out), or laid out as a (bags, longest bag) grid for max;
    an empty bag gives zeros."""
    weight, indices, per_sample, _ = record.args
    kwargs = record.kwargs
    offsets, mode, padding_idx = list(kwargs["offsets"]), kwargs["mode"], kwargs["padding_idx"]
    if other is not None and (list(other.kwargs["offsets"]) != offsets
                              or other.args[1].shape != indices.shape):
        raise Unsupported("dynamic bags")
    dtype = dtype_of(output(record))
    count, dim = len(offsets), int(weight.shape[1])
    ends = [*offsets[1:], int(indices.shape[0])]
    bag_of = [bag for bag, (start, end) in enumerate(zip(offsets, ends))
              for _ in range(start, end)]
    used = len(bag_of)
    zeros = g.node("Expand", [g.scalar(0, dtype), g.ints([count, dim])])
    if not used:
        return [zeros]
    index = g.node("Slice", [index_value(g, record, indices._data), g.ints([0]),
                             g.ints([used]), g.ints([0])])
    rows = g.node("Gather", [g.value(weight), index], axis=0)
    kept = None if padding_idx is None else g.node(
        "Not", [g.node("Equal", [index, g.constant_int(padding_idx)])])
    if mode == "max":
        longest = max(end - start for start, end in zip(offsets, ends))
        positions, inside = [], []  # the (bags, longest) grid, row by row
        for start, end in zip(offsets, ends):
            for position in range(start, start + longest):
                inside.append(position < end)
                positions.append(position if position < end else 0)
        mask = g.node("Reshape", [g.node("Cast", [g.ints(inside)], to=onnx_type("bool")),
                                  g.ints([count, longest])])
        if kept is not None:
            mask = g.node("And", [mask, g.node("Reshape", [
                g.node("Gather", [kept, g.ints(positions)], axis=0), g.ints([count, longest])])])
        values = g.node("Reshape", [g.node("Gather", [rows, g.ints(positions)], axis=0),
                                    g.ints([count, longest, dim])])
        values = g.node("Where", [g.node("Unsqueeze", [mask, g.ints([2])]), values,
                                  g.scalar(float("-inf"), dtype)])
        largest = reduce_over(g, "ReduceMax", values, [1], 0)
        empty = g.node("Not", [g.node("Cast", [reduce_over(g, "ReduceMax", g.node(
            "Cast", [mask], to=onnx_type("int64")), [1], 1)], to=onnx_type("bool"))])
        return [g.node("Where", [empty, g.scalar(0, dtype), largest])]
    scale = None if kept is None else g.node("Cast", [kept], to=onnx_type(dtype))
    if per_sample is not None:
        weights = g.node("Slice", [operand(g, per_sample, dtype), g.ints([0]), g.ints([used]),
                                   g.ints([0])])
        scale = weights if scale is None else g.node("Mul", [scale, weights])
    bags = g.ints(bag_of)
    if mode == "mean":
        ones = g.node("Expand", [g.scalar(1, dtype), g.ints([used])]) if kept is None else \
            g.node("Cast", [kept], to=onnx_type(dtype))
        counts = g.node("ScatterElements", [g.node("Expand", [g.scalar(0, dtype),
                                                               g.ints([count])]), bags, ones],
                        axis=0, reduction="add")
        scale = g.node("Div", [ones if scale is None else scale, g.node("Gather", [
            g.node("Max", [counts, g.scalar(1, dtype)]), bags], axis=0)])
    if scale is not None:
        rows = g.node("Mul", [rows, g.node("Unsqueeze", [scale, g.ints([1])])])
    where = g.node("Expand", [g.node("Unsqueeze", [bags, g.ints([1])]), g.ints([used, dim])])
    return [g.node("ScatterElements", [zeros, where, rows], axis=0, reduction="add")]


@converts("Embedding")
def _embedding(g: Graph, record: Record, other: Record | None) -> list[Any]:
    weight, indices = record.args[0], record.args[1]
    if not isinstance(indices, Tensor):
        indices_name = index_value(g, record, indices)
    else:
        indices_name = g.value(indices)
    return [g.node("Gather", [g.value(weight), indices_name], axis=0)]


@converts("Take")
def _take(g: Graph, record: Record, other: Record | None) -> list[Any]:
    """A Gather from the flattened input (the index is already wrapped into range)."""
    x = record.args[0]
    flat = g.node("Reshape", [g.value(x), g.ints([-1])])
    return [g.node("Gather", [flat, index_value(g, record, record.kwargs["index"])], axis=0)]


@converts("MaskedScatter")
def _masked_scatter(g: Graph, record: Record, other: Record | None) -> list[Any]:
    """The input (broadcast with the mask) where the mask is False; where it is True, the
    source's element whose position in the flattened source is the running count of Trues
    before it (CumSum), as the op computes it."""
    x, source = record.args[0], record.args[1]
    dtype = dtype_of(output(record))
    mask = g.array(record.kwargs["mask"], x._backend, "mask")
    base = g.node("Expand", [operand(g, x, dtype), g.node("Shape", [mask])])  # (broadcasts both)
    shape = g.node("Shape", [base])
    mask = g.node("Expand", [mask, shape])
    if not source.numel():  # no True anywhere (the op refuses more Trues than source elements)
        return [base]
    flat_mask = g.node("Cast", [g.node("Reshape", [mask, g.ints([-1])])], to=onnx_type("int64"))
    rank = g.node("Sub", [g.node("CumSum", [flat_mask, g.constant_int(0)]), g.constant_int(1)])
    rank = g.node("Max", [rank, g.constant_int(0)])  # (positions before the first True)
    taken = g.node("Gather", [g.node("Reshape", [operand(g, source, dtype), g.ints([-1])]),
                              rank], axis=0)
    return [g.node("Where", [mask, g.node("Reshape", [taken, shape]), base])]


@converts("IndexReduce")
def _index_reduce(g: Graph, record: Record, other: Record | None) -> list[Any]:
    """index_reduce: scatter_reduce with the index laid along `dim` and expanded to the
    source's shape."""
    x, source = record.args[0], record.args[1]
    dtype = dtype_of(output(record))
    if x.ndim == 0:
        raise Unsupported("a 0-d input")
    axis = int(record.kwargs["dim"]) % x.ndim
    updates = operand(g, source, dtype)
    index = _along(g, index_value(g, record, record.kwargs["index"]), axis, x.ndim, updates)
    return [_reduce_into(g, operand(g, x, dtype), axis, index, updates,
                         record.kwargs["reduce"], bool(record.kwargs["include_self"]), dtype)]


@converts("IndexAdd", "IndexCopy")
def _index_add(g: Graph, record: Record, other: Record | None) -> list[Any]:
    """x.index_add(dim, index, source, alpha=) / x.index_copy(dim, index, source): the index
    laid along `dim` and expanded to the source's shape, then ScatterElements (reduction
    "add", opset 16, for index_add; the source times alpha)."""
    x, source = record.args[0], record.args[1]
    dtype = dtype_of(output(record))
    adding = record.op == "IndexAdd"
    if adding and g.opset < 16:
        raise Unsupported("ScatterElements' reduction needs opset 16")
    if x.ndim == 0:
        raise Unsupported("a 0-d input")
    axis = int(record.kwargs["dim"]) % x.ndim
    updates = operand(g, source, dtype)
    if source.ndim == 0:
        updates = g.node("Reshape", [updates, g.ints([1] * x.ndim)])
    alpha = record.kwargs.get("alpha", 1)
    if adding and alpha != 1:
        updates = g.node("Mul", [updates, g.scalar(alpha, dtype)])
    shape = [1] * x.ndim
    shape[axis] = -1
    index = g.node("Reshape", [index_value(g, record, record.kwargs["index"]), g.ints(shape)])
    index = g.node("Expand", [index, g.node("Shape", [updates])])
    return [g.node("ScatterElements", [operand(g, x, dtype), index, updates], axis=axis,
                   reduction="add" if adding else "none")]


def _along(g: Graph, index: str, axis: int, ndim: int, like: str) -> str:
    """A vector of positions laid along `axis` and expanded to the shape of `like`."""
    shape = [1] * ndim
    shape[axis] = -1
    return g.node("Expand", [g.node("Reshape", [index, g.ints(shape)]),
                             g.node("Shape", [like])])


@converts("SelectScatter", "SliceScatter")
def _slice_scatter(g: Graph, record: Record, other: Record | None) -> list[Any]:
    """x with the positions of one select or slice along a dim replaced by src:
    ScatterElements of src at those positions."""
    x, source = record.args[0], record.args[1]
    dtype = dtype_of(output(record))
    key = list(record.kwargs["key"])
    if Ellipsis in key:
        at = key.index(Ellipsis)
        key[at:at + 1] = [slice(None)] * (x.ndim - len(key) + 1)
    picked = [(axis, item) for axis, item in enumerate(key) if item != slice(None)]
    if len(picked) != 1:
        raise Unsupported("a key of other than one select or slice")
    axis, item = picked[0]
    if other is not None and other.args[0].shape[axis] != x.shape[axis]:
        raise Unsupported("a scatter along a dynamic dim")
    positions = [item % int(x.shape[axis])] if isinstance(item, int) else list(
        range(*item.indices(int(x.shape[axis]))))
    updates = operand(g, source, dtype)
    if isinstance(item, int):
        updates = g.node("Unsqueeze", [updates, g.ints([axis])])
    index = _along(g, g.ints(positions), axis, x.ndim, updates)
    return [g.node("ScatterElements", [operand(g, x, dtype), index, updates], axis=axis)]


@converts("IndexFill", "IndexFillTensor")
def _index_fill(g: Graph, record: Record, other: Record | None) -> list[Any]:
    """x with the positions `index` along the dim filled with the value: ScatterElements of
    the value expanded to those positions."""
    x = record.args[0]
    dtype = dtype_of(output(record))
    value = record.args[1] if record.op == "IndexFillTensor" else record.kwargs["value"]
    if x.ndim == 0:
        raise Unsupported("a 0-d input")
    axis = int(record.kwargs["dim"]) % x.ndim
    index = index_value(g, record, record.kwargs["index"])
    data = operand(g, x, dtype)
    shape = g.node("Shape", [data])
    count = g.node("Shape", [index])
    filled = g.node("Concat", [g.node("Slice", [shape, g.ints([0]), g.ints([axis])]), count,
                               g.node("Slice", [shape, g.ints([axis + 1]),
                                                g.ints([x.ndim])])], axis=0)
    updates = g.node("Expand", [operand(g, value, dtype), filled])
    return [g.node("ScatterElements", [data, _along(g, index, axis, x.ndim, updates),
                                       updates], axis=axis)]


@converts("Put")
def _put(g: Graph, record: Record, other: Record | None) -> list[Any]:
    """x.put(index, source, accumulate): ScatterElements into the flattened x (reduction
    "add" with accumulate, opset 16)."""
    x, source = record.args[0], record.args[1]
    dtype = dtype_of(output(record))
    accumulate = bool(record.kwargs["accumulate"])
    if accumulate and g.opset < 16:
        raise Unsupported("ScatterElements' reduction needs opset 16")
    data = operand(g, x, dtype)
    flat = g.node("Reshape", [data, g.ints([-1])])
    index = g.node("Reshape", [index_value(g, record, record.kwargs["index"]), g.ints([-1])])
    updates = g.node("Reshape", [operand(g, source, dtype), g.ints([-1])])
    out = g.node("ScatterElements", [flat, index, updates], axis=0,
                 reduction="add" if accumulate else "none")
    return [g.node("Reshape", [out, g.node("Shape", [data])])]
