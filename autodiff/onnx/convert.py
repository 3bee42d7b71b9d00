"""The converter table: `CONVERTERS[op class name](graph, record, other)` gives the names of an
op's outputs as ONNX values (None for an output with no ONNX value). `other` is the same op in
the run with the dynamic axes grown (None without dynamic axes): a size that differs between
the two is dynamic, and is written so ONNX computes it. The converters live with their family
(`elementwise.py`, `reduction.py`, `shape.py`, `indexing.py`, `layers.py`); helpers here."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..tensor import Tensor
from .graph import ONNX_TYPES, Graph, Record

Converter = Callable[[Graph, Record, "Record | None"], list[Any]]
CONVERTERS: dict[str, Converter] = {}


class Unsupported(Exception):
    """An op whose arguments this export cannot write (the reason names them)."""


def converts(*names: str) -> Callable[[Converter], Converter]:
    def register(function: Converter) -> Converter:
        for name in names:
            CONVERTERS[name] = function
        return function

    return register


def dtype_of(tensor: Tensor) -> str:
    return tensor.dtype.name


def onnx_type(dtype: str) -> int:
    if dtype not in ONNX_TYPES:
        raise Unsupported(f"dtype {dtype}")
    return ONNX_TYPES[dtype]


def operand(g: Graph, item: Any, dtype: str) -> str:
    """A Tensor (cast to `dtype` where it has another) or a Python number, as `dtype`."""
    onnx_type(dtype)
    if isinstance(item, Tensor):
        name = g.value(item)
        if dtype_of(item) != dtype:
            name = g.node("Cast", [name], to=onnx_type(dtype))
        return name
    return g.scalar(item, dtype)


def output(record: Record, index: int = 0) -> Tensor:
    return record.outputs[index]


def broadcast_shapes(shapes: list[tuple[int, ...]]) -> list[int]:
    ndim = max(len(shape) for shape in shapes)
    out = [1] * ndim
    for shape in shapes:
        for axis, size in enumerate(shape, ndim - len(shape)):
            if size != 1:
                out[axis] = size
    return out


def reduce_over(g: Graph, kind: str, value: str, axes: Any, keepdims: int) -> str:
    """A ReduceX node over `axes`: given as an input (ReduceSum from opset 13, the others from
    opset 18) or, before that, as an attribute."""
    if kind == "ReduceSum" or g.opset >= 18:
        return g.node(kind, [value, g.ints(axes)], keepdims=keepdims)
    return g.node(kind, [value], axes=list(axes), keepdims=keepdims)


def index_value(g: Graph, record: Record, array: Any) -> str:
    """An index array an op holds (made from a constant or a Tensor the trace no longer
    knows): an int64 constant."""
    backend = record.args[0]._backend
    name = g.array_value(array, backend)
    if name is not None:
        return name if backend.dtype_name(array) == "int64" else g.node(
            "Cast", [name], to=ONNX_TYPES["int64"])
    host = backend.to_numpy(array)
    g.frozen_arrays.add(id(array))
    return g.constant(host.astype("int64") if str(host.dtype) != "int64" else host, "index")


def apply_taps(g: Graph, x: Tensor, value: str, taps: Any, dtype: str) -> str:
    """The separable linear map an op holds as taps (one per trailing axis of `x`): along
    each axis, each output position a weighted sum of input positions, written as Gathers
    along the axis, multiplied by constant weights and added."""
    ndim = x.ndim
    first = ndim - len(taps)
    backend = x._backend
    out = value
    for offset, tap in enumerate(taps):
        axis = first + offset
        terms = []
        for column in range(len(tap.index[0])):
            indices = backend.asarray([row[column] for row in tap.index], dtype="int64")
            term = g.node("Gather", [out, g.constant(backend.to_numpy(indices), "taps")],
                          axis=axis)
            if tap.weight is not None:
                shape = [1] * ndim
                shape[axis] = len(tap.weight)
                weights = backend.reshape(backend.asarray([row[column] for row in tap.weight],
                                                          dtype=dtype), tuple(shape))
                term = g.node("Mul", [term, g.constant(backend.to_numpy(weights), "weights")])
            terms.append(term)
        out = terms[0]
        for term in terms[1:]:
            out = g.node("Add", [out, term])
    return out
