"""Ops as ONNX nodes: one converter per op class, `convert(graph, record, other)` returning the
names of the op's outputs (None for an output that has no ONNX value). `other` is the same op in
the trace with the dynamic axes grown (None without dynamic axes): a size that differs between
the two is dynamic and is written so ONNX computes it (Reshape's -1 and 0, Expand's 1)."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from ..tensor import Tensor, _wrap
from .graph import INT64_MAX, ONNX_TYPES, Graph, Record

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


def _dtype(tensor: Tensor) -> str:
    return tensor.dtype.name


def _onnx_type(dtype: str) -> int:
    if dtype not in ONNX_TYPES:
        raise Unsupported(f"dtype {dtype}")
    return ONNX_TYPES[dtype]


def _operand(g: Graph, item: Any, dtype: str) -> str:
    """A Tensor (cast to `dtype` where it has another) or a Python number, as `dtype`."""
    _onnx_type(dtype)
    if isinstance(item, Tensor):
        name = g.value(item)
        if _dtype(item) != dtype:
            name = g.node("Cast", [name], to=_onnx_type(dtype))
        return name
    return g.scalar(item, dtype)


def _out(record: Record, index: int = 0) -> Tensor:
    return record.outputs[index]


# ----------------------------------------------------------------------------- elementwise
_UNARY = {
    "Relu": "Relu", "Sigmoid": "Sigmoid", "Tanh": "Tanh", "Exp": "Exp", "Log": "Log",
    "Sqrt": "Sqrt", "Neg": "Neg", "Abs": "Abs", "Erf": "Erf", "Reciprocal": "Reciprocal",
    "Sin": "Sin", "Cos": "Cos", "Tan": "Tan", "Asin": "Asin", "Acos": "Acos", "Atan": "Atan",
    "Sinh": "Sinh", "Cosh": "Cosh", "Asinh": "Asinh", "Acosh": "Acosh", "Atanh": "Atanh",
    "Floor": "Floor", "Ceil": "Ceil", "Sign": "Sign", "Round": "Round", "Clone": "Identity",
    "Contiguous": "Identity", "Alias": "Identity", "Softsign": "Softsign",
}


def _unary(op: str) -> Converter:
    def convert(g: Graph, record: Record, other: Record | None) -> list[Any]:
        x = record.args[0]
        return [g.node(op, [_operand(g, x, _dtype(_out(record)))])]

    return convert


for _name, _op in _UNARY.items():
    CONVERTERS[_name] = _unary(_op)

_BINARY = {"Add": "Add", "AddNumber": "Add", "Sub": "Sub", "SubNumber": "Sub", "Mul": "Mul",
           "MulNumber": "Mul", "Div": "Div", "DivNumber": "Div", "Maximum": "Max",
           "Minimum": "Min", "Pow": "Pow", "PowScalar": "Pow"}


def _binary(op: str) -> Converter:
    def convert(g: Graph, record: Record, other: Record | None) -> list[Any]:
        operands = list(record.args)
        if len(operands) == 1:  # the number as a keyword (`number=`)
            operands.append(record.kwargs["number"])
        if record.kwargs.get("alpha", 1) != 1:
            raise Unsupported("alpha")
        dtype = _dtype(_out(record))
        # Pow keeps its base's dtype: an integer exponent stays an integer
        if op == "Pow" and isinstance(operands[0], Tensor):
            return [g.node(op, [_operand(g, operands[0], dtype),
                                _operand(g, operands[1], dtype)])]
        return [g.node(op, [_operand(g, item, dtype) for item in operands[:2]])]

    return convert


for _name, _op in _BINARY.items():
    CONVERTERS[_name] = _binary(_op)


@converts("RPow")
def _rpow(g: Graph, record: Record, other: Record | None) -> list[Any]:
    x, number = record.args[0], record.args[1]
    dtype = _dtype(_out(record))
    return [g.node("Pow", [_operand(g, number, dtype), _operand(g, x, dtype)])]


@converts("Zero", "Fill", "FillTensor")
def _fill(g: Graph, record: Record, other: Record | None) -> list[Any]:
    x = record.args[0]
    dtype = _dtype(_out(record))
    value = record.args[1] if len(record.args) > 1 else record.kwargs.get("value", 0)
    return [g.node("Expand", [_operand(g, value, dtype), g.node("Shape", [g.value(x)])])]


@converts("Rsub")
def _rsub(g: Graph, record: Record, other: Record | None) -> list[Any]:
    x, number = record.args[0], record.args[1]
    dtype = _dtype(_out(record))
    return [g.node("Sub", [_operand(g, number, dtype), _operand(g, x, dtype)])]


@converts("Where")
def _where(g: Graph, record: Record, other: Record | None) -> list[Any]:
    condition, x, y = record.args
    dtype = _dtype(_out(record))
    return [g.node("Where", [_operand(g, condition, "bool"), _operand(g, x, dtype),
                             _operand(g, y, dtype)])]


@converts("MaskedFill")
def _masked_fill(g: Graph, record: Record, other: Record | None) -> list[Any]:
    x = record.args[0]
    dtype = _dtype(_out(record))
    mask = g.array(record.kwargs["mask"], x._backend, "mask")
    return [g.node("Where", [mask, _operand(g, record.kwargs["value"], dtype),
                             _operand(g, x, dtype)])]


@converts("Clamp", "ClampMin", "ClampMax", "Hardtanh")
def _clamp(g: Graph, record: Record, other: Record | None) -> list[Any]:
    x = record.args[0]
    dtype = _dtype(_out(record))
    low = record.kwargs.get("min", record.kwargs.get("min_val"))
    high = record.kwargs.get("max", record.kwargs.get("max_val"))
    if isinstance(low, Tensor) or isinstance(high, Tensor):
        raise Unsupported("tensor bounds")
    inputs = [_operand(g, x, dtype), "" if low is None else g.scalar(low, dtype),
              "" if high is None else g.scalar(high, dtype)]
    if low is not None and high is not None and low > high:  # PyTorch: all become max
        return [g.node("Expand", [g.scalar(high, dtype), g.node("Shape", [inputs[0]])])]
    return [g.node("Clip", inputs)]


@converts("Gelu")
def _gelu(g: Graph, record: Record, other: Record | None) -> list[Any]:
    x = record.args[0]
    dtype = _dtype(_out(record))
    value = _operand(g, x, dtype)
    if g.opset >= 20:
        return [g.node("Gelu", [value], approximate=record.kwargs["approximate"])]
    half = g.node("Mul", [value, g.scalar(0.5, dtype)])
    if record.kwargs["approximate"] == "tanh":  # 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))
        cube = g.node("Mul", [g.node("Pow", [value, g.scalar(3.0, dtype)]),
                              g.scalar(0.044715, dtype)])
        inner = g.node("Mul", [g.node("Add", [value, cube]),
                               g.scalar(math.sqrt(2 / math.pi), dtype)])
        return [g.node("Mul", [half, g.node("Add", [g.node("Tanh", [inner]),
                                                    g.scalar(1.0, dtype)])])]
    scaled = g.node("Mul", [value, g.scalar(1 / math.sqrt(2), dtype)])
    return [g.node("Mul", [half, g.node("Add", [g.node("Erf", [scaled]),
                                                g.scalar(1.0, dtype)])])]


@converts("Silu")
def _silu(g: Graph, record: Record, other: Record | None) -> list[Any]:
    value = _operand(g, record.args[0], _dtype(_out(record)))
    return [g.node("Mul", [value, g.node("Sigmoid", [value])])]


@converts("LeakyRelu")
def _leaky_relu(g: Graph, record: Record, other: Record | None) -> list[Any]:
    value = _operand(g, record.args[0], _dtype(_out(record)))
    return [g.node("LeakyRelu", [value], alpha=float(record.kwargs["negative_slope"]))]


@converts("Elu")
def _elu(g: Graph, record: Record, other: Record | None) -> list[Any]:
    """elu, and selu as scale * elu(x, alpha)."""
    if record.kwargs.get("input_scale", 1.0) != 1.0:
        raise Unsupported("input_scale")
    dtype = _dtype(_out(record))
    value = _operand(g, record.args[0], dtype)
    out = g.node("Elu", [value], alpha=float(record.kwargs["alpha"]))
    scale = record.kwargs.get("scale", 1.0)
    return [out if scale == 1.0 else g.node("Mul", [out, g.scalar(scale, dtype)])]


@converts("Softplus")
def _softplus(g: Graph, record: Record, other: Record | None) -> list[Any]:
    dtype = _dtype(_out(record))
    value = _operand(g, record.args[0], dtype)
    beta, threshold = record.kwargs["beta"], record.kwargs["threshold"]
    scaled = g.node("Mul", [value, g.scalar(beta, dtype)])
    soft = g.node("Div", [g.node("Softplus", [scaled]), g.scalar(beta, dtype)])
    linear = g.node("Greater", [scaled, g.scalar(threshold, dtype)])
    return [g.node("Where", [linear, value, soft])]


@converts("ToCopy")
def _to_copy(g: Graph, record: Record, other: Record | None) -> list[Any]:
    x = record.args[0]
    return [g.node("Cast", [g.value(x)], to=_onnx_type(_dtype(_out(record))))]


# ----------------------------------------------------------------------------- reductions
_REDUCTIONS = {"Sum": "ReduceSum", "SumDim": "ReduceSum", "Mean": "ReduceMean",
               "MeanDim": "ReduceMean", "Amax": "ReduceMax", "Amin": "ReduceMin",
               "MaxAll": "ReduceMax", "MinAll": "ReduceMin", "Prod": "ReduceProd",
               "ProdDim": "ReduceProd"}


def _reduction(op: str) -> Converter:
    def convert(g: Graph, record: Record, other: Record | None) -> list[Any]:
        x = record.args[0]
        kwargs = record.kwargs
        axes = kwargs.get("axes", kwargs.get("axis"))
        if isinstance(axes, int):
            axes = (axes,)
        keepdim = int(bool(kwargs.get("keepdim", False)))
        value = _operand(g, x, _dtype(_out(record)))
        if axes is None or (len(axes) == 0 and x.ndim):
            axes = tuple(range(x.ndim))
        if x.ndim == 0:
            return [g.node("Identity", [value])]
        if op == "ReduceSum" or g.opset >= 18:
            return [g.node(op, [value, g.ints(axes)], keepdims=keepdim)]
        return [g.node(op, [value], axes=list(axes), keepdims=keepdim)]

    return convert


for _name, _op in _REDUCTIONS.items():
    CONVERTERS[_name] = _reduction(_op)


@converts("Softmax", "LogSoftmax")
def _softmax(g: Graph, record: Record, other: Record | None) -> list[Any]:
    x = record.args[0]
    value = _operand(g, x, _dtype(_out(record)))
    if x.ndim == 0:
        value = g.node("Unsqueeze", [value, g.ints([0])])
        return [g.node("Squeeze", [g.node(record.op, [value], axis=0), g.ints([0])])]
    return [g.node(record.op, [value], axis=int(record.kwargs["dim"]))]


# ----------------------------------------------------------------------------- matrices
@converts("Mm", "Bmm", "Matmul", "Dot", "Mv")
def _matmul(g: Graph, record: Record, other: Record | None) -> list[Any]:
    dtype = _dtype(_out(record))
    return [g.node("MatMul", [_operand(g, item, dtype) for item in record.args[:2]])]


@converts("Linear", "LinearFolded", "LinearFoldedNoBias", "LinearMm", "LinearVector")
def _linear(g: Graph, record: Record, other: Record | None) -> list[Any]:
    x, weight = record.args[0], record.args[1]
    bias = record.args[2] if len(record.args) > 2 else None
    dtype = _dtype(_out(record))
    if x.ndim == 2 and weight.ndim == 2:
        inputs = [_operand(g, x, dtype), _operand(g, weight, dtype)]
        if bias is not None:
            inputs.append(_operand(g, bias, dtype))
        return [g.node("Gemm", inputs, transB=1)]
    transposed = g.node("Transpose", [_operand(g, weight, dtype)],
                        perm=list(reversed(range(weight.ndim))))
    out = g.node("MatMul", [_operand(g, x, dtype), transposed])
    if bias is not None:
        out = g.node("Add", [out, _operand(g, bias, dtype)])
    return [out]


@converts("Addmm")
def _addmm(g: Graph, record: Record, other: Record | None) -> list[Any]:
    dtype = _dtype(_out(record))
    bias, left, right = (_operand(g, item, dtype) for item in record.args[:3])
    return [g.node("Gemm", [left, right, bias], alpha=float(record.kwargs.get("alpha", 1)),
                   beta=float(record.kwargs.get("beta", 1)))]


@converts("Einsum")
def _einsum(g: Graph, record: Record, other: Record | None) -> list[Any]:
    dtype = _dtype(_out(record))
    if "float" not in dtype:
        raise Unsupported("integer einsum")
    operands = [_operand(g, item, dtype) for item in record.args if isinstance(item, Tensor)]
    return [g.node("Einsum", operands, equation=record.kwargs["equation"])]


# ----------------------------------------------------------------------------- shapes
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
        shape = [int(size) for size in _out(record).shape]
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
    shape = [int(size) for size in _out(record).shape]
    if other is not None:
        grown = list(_out(other).shape)
        shape = [1 if size != size_grown else size for size, size_grown in zip(shape, grown)]
    return [g.node("Expand", [g.value(x), g.ints(shape)])]


@converts("Cat")
def _cat(g: Graph, record: Record, other: Record | None) -> list[Any]:
    out = _out(record)
    dtype = _dtype(out)
    tensors = [item for item in record.args if isinstance(item, Tensor)
               and not (item.ndim == 1 and item.shape[0] == 0 and out.ndim != 1)]
    axis = int(record.kwargs["dim"]) % max(out.ndim, 1)
    return [g.node("Concat", [_operand(g, item, dtype) for item in tensors], axis=axis)]


@converts("Stack")
def _stack(g: Graph, record: Record, other: Record | None) -> list[Any]:
    out = _out(record)
    dtype = _dtype(out)
    axis = int(record.kwargs["dim"]) % out.ndim
    parts = [g.node("Unsqueeze", [_operand(g, item, dtype), g.ints([axis])])
             for item in record.args if isinstance(item, Tensor)]
    return [g.node("Concat", parts, axis=axis)]


@converts("Split", "SplitWithSizes", "UnsafeSplit", "UnsafeSplitWithSizes")
def _split(g: Graph, record: Record, other: Record | None) -> list[Any]:
    x = record.args[0]
    axis = int(record.kwargs["dim"]) % x.ndim
    sizes = [int(size) for size in record.kwargs["sizes"]]
    outputs = g.node("Split", [g.value(x), g.ints(sizes)], outputs=len(sizes), axis=axis)
    return list(outputs) if len(sizes) > 1 else [outputs]


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
    index = _index_value(g, record, record.kwargs["index"])
    return [g.node("GatherElements", [g.value(x), index], axis=axis)]


@converts("IndexSelect")
def _index_select(g: Graph, record: Record, other: Record | None) -> list[Any]:
    x = record.args[0]
    axis = int(record.kwargs["dim"]) % max(x.ndim, 1)
    index = _index_value(g, record, record.kwargs["index"])
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
        return [g.node("Gather", [g.value(x), _index_value(g, record, key[0])], axis=0)]
    hosts = [backend.to_numpy(item) for item in key]
    shape = _broadcast_shapes([tuple(host.shape) for host in hosts])
    parts = [g.node("Unsqueeze", [g.node("Expand", [g.constant(host, "index"), g.ints(shape)]),
                                  g.ints([len(shape)])]) for host in hosts]
    indices = g.node("Concat", parts, axis=len(shape))
    return [g.node("GatherND", [g.value(x), indices])]


def _broadcast_shapes(shapes: list[tuple[int, ...]]) -> list[int]:
    ndim = max(len(shape) for shape in shapes)
    out = [1] * ndim
    for shape in shapes:
        for axis, size in enumerate(shape, ndim - len(shape)):
            if size != 1:
                out[axis] = size
    return out


def _index_value(g: Graph, record: Record, array: Any) -> str:
    """An index array an op holds (made from a constant or a Tensor the trace no longer
    knows): an int64 constant."""
    backend = record.args[0]._backend
    name = g.arrays.get(id(array))
    if name is not None:
        return name if backend.dtype_name(array) == "int64" else g.node(
            "Cast", [name], to=ONNX_TYPES["int64"])
    host = backend.to_numpy(array)
    return g.constant(host.astype("int64") if str(host.dtype) != "int64" else host, "index")


@converts("Scatter", "ScatterAdd", "ScatterValue")
def _scatter(g: Graph, record: Record, other: Record | None) -> list[Any]:
    x = record.args[0]
    dtype = _dtype(_out(record))
    axis = int(record.kwargs["dim"]) % max(x.ndim, 1)
    index = _index_value(g, record, record.kwargs["index"])
    if record.op == "ScatterValue" or len(record.args) < 2:
        value = record.kwargs.get("value", record.args[1] if len(record.args) > 1 else None)
        if value is None or isinstance(value, Tensor):
            raise Unsupported("the scattered value")
        source = g.node("Expand", [g.scalar(value, dtype), g.node("Shape", [index])])
    else:
        source = _operand(g, record.args[1], dtype)
        index_shape = list(record.kwargs["index"].shape)
        if list(record.args[1].shape) != index_shape:
            source = g.node("Slice", [source, g.ints([0] * len(index_shape)),
                                      g.ints(index_shape), g.ints(range(len(index_shape)))])
    reduction = "add" if record.op == "ScatterAdd" else "none"
    return [g.node("ScatterElements", [_operand(g, x, dtype), index, source], axis=axis,
                   reduction=reduction)]


@converts("ConstantPadNd")
def _pad(g: Graph, record: Record, other: Record | None) -> list[Any]:
    x = record.args[0]
    dtype = _dtype(_out(record))
    pad = list(record.kwargs["pad"])
    begins, ends = [0] * x.ndim, [0] * x.ndim
    for position in range(len(pad) // 2):  # torch lists (before, after) from the last dim
        axis = x.ndim - 1 - position
        begins[axis], ends[axis] = pad[2 * position], pad[2 * position + 1]
    return [g.node("Pad", [_operand(g, x, dtype), g.ints(begins + ends),
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


@converts("Embedding")
def _embedding(g: Graph, record: Record, other: Record | None) -> list[Any]:
    weight, indices = record.args[0], record.args[1]
    if not isinstance(indices, Tensor):
        indices_name = _index_value(g, record, indices)
    else:
        indices_name = g.value(indices)
    return [g.node("Gather", [g.value(weight), indices_name], axis=0)]


# ----------------------------------------------------------------------------- layers
@converts("Convolution")
def _convolution(g: Graph, record: Record, other: Record | None) -> list[Any]:
    x, weight = record.args[0], record.args[1]
    bias = record.args[2] if len(record.args) > 2 else None
    dtype = _dtype(_out(record))
    geometry = record.kwargs["geometry"]
    kernel = [int(size) for size in weight.shape[2:]]
    pads = [int(lo) for lo, _ in geometry.padding] + [int(hi) for _, hi in geometry.padding]
    inputs = [_operand(g, x, dtype), _operand(g, weight, dtype)]
    if bias is not None:
        inputs.append(_operand(g, bias, dtype))
    value = inputs[0]
    batched = x.ndim == weight.ndim
    if not batched:  # an unbatched input: a batch of one
        inputs[0] = g.node("Unsqueeze", [value, g.ints([0])])
    attributes: dict[str, Any] = {
        "kernel_shape": kernel, "strides": list(geometry.stride),
        "dilations": list(geometry.dilation), "group": int(geometry.groups)}
    if record.kwargs["transposed"]:
        out = _conv_transpose(g, record, inputs, attributes, batched)
    else:
        out = g.node("Conv", inputs, pads=pads, **attributes)
    if not batched:
        out = g.node("Squeeze", [out, g.ints([0])])
    return [out]


def _conv_transpose(g: Graph, record: Record, inputs: list[str], attributes: dict[str, Any],
                    batched: bool) -> str:
    """The full transposed convolution (no padding, no output_padding: onnxruntime refuses an
    output_padding of at least the stride, which PyTorch allows below the dilation), then
    PyTorch's crop of `padding` from each side and the `output_padding` rows at the end
    (zeros where they lie past the full output), then the bias."""
    x, weight = record.args[0], record.args[1]
    geometry = record.kwargs["geometry"]
    spatial = [int(size) for size in record.kwargs["spatial"]]
    kernel = [int(size) for size in weight.shape[2:]]
    sizes = x.shape[2 if batched else 1:]
    full = [s * (n - 1) + d * (k - 1) + 1 for s, n, d, k in zip(
        geometry.stride, sizes, geometry.dilation, kernel)]
    out = g.node("ConvTranspose", inputs[:2], **attributes)
    starts = [int(lo) for lo, _ in geometry.padding]
    ends = [lo + want for lo, want in zip(starts, spatial)]
    axes = list(range(2, 2 + len(spatial)))
    out = g.node("Slice", [out, g.ints(starts), g.ints([min(end, size) for end, size in
                                                         zip(ends, full)]), g.ints(axes)])
    extra = [max(end - size, 0) for end, size in zip(ends, full)]
    if any(extra):
        pads = [0] * (2 + len(spatial)) + [0, 0] + extra
        out = g.node("Pad", [out, g.ints(pads)], mode="constant")
    if len(inputs) > 2:
        bias = g.node("Reshape", [inputs[2], g.ints([-1] + [1] * len(spatial))])
        out = g.node("Add", [out, bias])
    return out


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


@converts("MaxPool1DWithIndices", "MaxPool2DWithIndices", "MaxPool3DWithIndices")
def _max_pool(g: Graph, record: Record, other: Record | None) -> list[Any]:
    x = record.args[0]
    geometry = record.kwargs["geometry"]
    batched = x.ndim == len(geometry.kernel) + 2
    value = g.value(x)
    if not batched:
        value = g.node("Unsqueeze", [value, g.ints([0])])
    out = g.node("MaxPool", [value], kernel_shape=list(geometry.kernel),
                 strides=list(geometry.stride), dilations=list(geometry.dilation),
                 pads=_pool_pads(geometry), ceil_mode=_ceil_mode(x, geometry))
    if not batched:
        out = g.node("Squeeze", [out, g.ints([0])])
    # (ONNX's indices count over the whole tensor, PyTorch's within each plane)
    return [out, None] if len(record.outputs) > 1 else [out]


@converts("AvgPool1D", "AvgPool2D", "AvgPool3D")
def _avg_pool(g: Graph, record: Record, other: Record | None) -> list[Any]:
    x = record.args[0]
    geometry = record.kwargs["geometry"]
    divisor = record.kwargs["divisor"]
    if not isinstance(divisor, int) or divisor != math.prod(geometry.kernel):
        raise Unsupported("count_include_pad=False, divisor_override or ceil_mode windows")
    if _ceil_mode(x, geometry) or any(lo != hi for lo, hi in geometry.padding):
        raise Unsupported("ceil_mode")
    batched = x.ndim == len(geometry.kernel) + 2
    value = g.value(x)
    if not batched:
        value = g.node("Unsqueeze", [value, g.ints([0])])
    out = g.node("AveragePool", [value], kernel_shape=list(geometry.kernel),
                 strides=list(geometry.stride), pads=_pool_pads(geometry),
                 count_include_pad=1)
    if not batched:
        out = g.node("Squeeze", [out, g.ints([0])])
    return [out]


@converts("NativeLayerNorm")
def _layer_norm(g: Graph, record: Record, other: Record | None) -> list[Any]:
    x, weight, bias = record.args[:3]
    dtype = _dtype(_out(record))
    axes = record.kwargs["axes"]
    normalized = [int(size) for size in x.shape[axes[0]:]]
    backend = x._backend
    inputs = [_operand(g, x, dtype)]
    for given, fill in ((weight, 1.0), (bias, 0.0)):
        if given is None:
            given = _wrap(backend.full(tuple(normalized), fill, dtype=dtype),
                                       backend)
        inputs.append(_operand(g, given, dtype))
    out = g.node("LayerNormalization", inputs, axis=int(axes[0]),
                 epsilon=float(record.kwargs["eps"]))
    return [out] + [None] * (len(record.outputs) - 1)


@converts("NativeBatchNorm")
def _batch_norm(g: Graph, record: Record, other: Record | None) -> list[Any]:
    x, weight, bias = record.args[:3]
    kwargs = record.kwargs
    if kwargs["training"] or kwargs["running_mean"] is None:
        raise Unsupported("training mode (batch statistics)")
    dtype = _dtype(_out(record))
    channels = (int(x.shape[1]),)
    backend = x._backend
    inputs = [_operand(g, x, dtype)]
    for given, fill in ((weight, 1.0), (bias, 0.0)):
        if given is None:
            given = _wrap(backend.full(channels, fill, dtype=dtype), backend)
        inputs.append(_operand(g, given, dtype))
    inputs += [_operand(g, kwargs["running_mean"], dtype),
               _operand(g, kwargs["running_var"], dtype)]
    out = g.node("BatchNormalization", inputs, epsilon=float(kwargs["eps"]))
    return [out] + [None] * (len(record.outputs) - 1)


@converts("ScaledDotProductAttention", "ScaledDotProductAttentionMm")
def _attention(g: Graph, record: Record, other: Record | None) -> list[Any]:
    """softmax(q k^T * scale + mask) v, as PyTorch's math path (a float mask is added, a
    boolean one keeps where True)."""
    query, key, value = record.args[:3]
    mask = record.args[3] if len(record.args) > 3 else None
    kwargs = record.kwargs
    if kwargs.get("dropout_p", 0.0) or kwargs.get("group", 1) != 1:
        raise Unsupported("dropout_p or grouped query attention")
    dtype = _dtype(_out(record))
    perm = list(range(key.ndim))
    perm[-1], perm[-2] = perm[-2], perm[-1]
    scores = g.node("MatMul", [_operand(g, query, dtype),
                               g.node("Transpose", [_operand(g, key, dtype)], perm=perm)])
    scores = g.node("Mul", [scores, g.scalar(kwargs["scale"], dtype)])
    minus_inf = g.scalar(float("-inf"), dtype)
    bool_mask = kwargs.get("bool_mask")
    if kwargs.get("causal"):
        rows, columns = int(query.shape[-2]), int(key.shape[-2])
        ones = _wrap(query._backend.ones((rows, columns), dtype="bool"),
                                  query._backend)
        keep = g.node("Trilu", [g.value(ones), g.constant_int(0)], upper=0)
        scores = g.node("Where", [keep, scores, minus_inf])
    if bool_mask is not None:
        keep = g.array(bool_mask, query._backend, "mask")
        scores = g.node("Where", [keep, scores, minus_inf])
    if isinstance(mask, Tensor):
        if _dtype(mask) == "bool":
            scores = g.node("Where", [g.value(mask), scores, minus_inf])
        else:
            scores = g.node("Add", [scores, _operand(g, mask, dtype)])
    weights = g.node("Softmax", [scores], axis=-1)
    if kwargs.get("causal") or bool_mask is not None or isinstance(mask, Tensor):
        # a row with every key masked attends to nothing: zeros, as PyTorch's math path
        weights = g.node("Where", [g.node("IsNaN", [weights]), g.scalar(0.0, dtype), weights])
    return [g.node("MatMul", [weights, _operand(g, value, dtype)])]


# ----------------------------------------------------------------------------- more elementwise
@converts("Rsqrt")
def _rsqrt(g: Graph, record: Record, other: Record | None) -> list[Any]:
    value = _operand(g, record.args[0], _dtype(_out(record)))
    return [g.node("Reciprocal", [g.node("Sqrt", [value])])]


@converts("Log2", "Log10")
def _log_base(g: Graph, record: Record, other: Record | None) -> list[Any]:
    dtype = _dtype(_out(record))
    value = _operand(g, record.args[0], dtype)
    base = 2.0 if record.op == "Log2" else 10.0
    return [g.node("Div", [g.node("Log", [value]), g.scalar(math.log(base), dtype)])]


@converts("Exp2")
def _exp2(g: Graph, record: Record, other: Record | None) -> list[Any]:
    dtype = _dtype(_out(record))
    return [g.node("Pow", [g.scalar(2.0, dtype), _operand(g, record.args[0], dtype)])]


@converts("Trunc")
def _trunc(g: Graph, record: Record, other: Record | None) -> list[Any]:
    dtype = _dtype(_out(record))
    value = _operand(g, record.args[0], dtype)
    if "float" not in dtype:
        return [g.node("Identity", [value])]
    negative = g.node("Less", [value, g.scalar(0.0, dtype)])
    return [g.node("Where", [negative, g.node("Ceil", [value]), g.node("Floor", [value])])]


@converts("Celu")
def _celu(g: Graph, record: Record, other: Record | None) -> list[Any]:
    alpha = float(record.kwargs["alpha"])
    if not math.isclose(record.kwargs.get("input_scale", 1 / alpha) * alpha, 1.0):
        raise Unsupported("input_scale")
    value = _operand(g, record.args[0], _dtype(_out(record)))
    return [g.node("Celu", [value], alpha=alpha)]


@converts("LogSigmoid")
def _log_sigmoid(g: Graph, record: Record, other: Record | None) -> list[Any]:
    value = _operand(g, record.args[0], _dtype(_out(record)))
    return [g.node("Neg", [g.node("Softplus", [g.node("Neg", [value])])])]


@converts("Threshold")
def _threshold(g: Graph, record: Record, other: Record | None) -> list[Any]:
    dtype = _dtype(_out(record))
    value = _operand(g, record.args[0], dtype)
    above = g.node("Greater", [value, g.scalar(record.kwargs["threshold"], dtype)])
    return [g.node("Where", [above, value, g.scalar(record.kwargs["value"], dtype)])]


@converts("PreluKernel")
def _prelu(g: Graph, record: Record, other: Record | None) -> list[Any]:
    dtype = _dtype(_out(record))
    return [g.node("PRelu", [_operand(g, record.args[0], dtype),
                             _operand(g, record.args[1], dtype)])]


# ----------------------------------------------------------------------------- more reductions
@converts("MaxDim", "MinDim")
def _max_dim(g: Graph, record: Record, other: Record | None) -> list[Any]:
    x = record.args[0]
    if x.ndim == 0:
        raise Unsupported("a 0-d input")
    axis = int(record.kwargs["dim"]) % x.ndim
    keepdim = int(bool(record.kwargs["keepdim"]))
    value = g.value(x)
    reduce, arg = ("ReduceMax", "ArgMax") if record.op == "MaxDim" else ("ReduceMin", "ArgMin")
    if g.opset >= 18:
        values = g.node(reduce, [value, g.ints([axis])], keepdims=keepdim)
    else:
        values = g.node(reduce, [value], axes=[axis], keepdims=keepdim)
    return [values, g.node(arg, [value], axis=axis, keepdims=keepdim)]


@converts("Var")
def _var(g: Graph, record: Record, other: Record | None) -> list[Any]:
    """sum((x - mean)^2) / (n - correction), in the output's dtype."""
    x = record.args[0]
    dtype = _dtype(_out(record))
    axes = record.kwargs["axes"]
    axes = tuple(range(x.ndim)) if axes is None else tuple(axis % x.ndim for axis in axes)
    keepdim = int(bool(record.kwargs["keepdim"]))
    value = _operand(g, x, dtype)
    mean = g.node("ReduceMean", [value], axes=list(axes), keepdims=1) if g.opset < 18 else \
        g.node("ReduceMean", [value, g.ints(axes)], keepdims=1)
    centered = g.node("Sub", [value, mean])
    total = g.node("ReduceSum", [g.node("Mul", [centered, centered]), g.ints(axes)],
                   keepdims=keepdim)
    count = math.prod(int(x.shape[axis]) for axis in axes)
    return [g.node("Div", [total, g.scalar(count - record.kwargs["correction"], dtype)])]


@converts("LinalgVectorNorm")
def _vector_norm(g: Graph, record: Record, other: Record | None) -> list[Any]:
    x = record.args[0]
    dtype = _dtype(_out(record))
    order = record.kwargs["ord"]
    kinds = {1: "ReduceL1", 2: "ReduceL2"}
    if order not in kinds or x.ndim == 0:
        raise Unsupported(f"ord={order}")
    axes = record.kwargs["axes"]
    axes = tuple(range(x.ndim)) if axes is None else tuple(axis % x.ndim for axis in axes)
    keepdim = int(bool(record.kwargs["keepdim"]))
    value = _operand(g, x, dtype)
    if g.opset >= 18:
        return [g.node(kinds[order], [value, g.ints(axes)], keepdims=keepdim)]
    return [g.node(kinds[order], [value], axes=list(axes), keepdims=keepdim)]


@converts("Cumsum")
def _cumsum(g: Graph, record: Record, other: Record | None) -> list[Any]:
    x = record.args[0]
    value = _operand(g, x, _dtype(_out(record)))
    if x.ndim == 0:
        return [g.node("Identity", [value])]
    return [g.node("CumSum", [value, g.constant_int(int(record.kwargs["dim"]) % x.ndim)])]


@converts("Sort", "SortStable", "Topk")
def _top_k(g: Graph, record: Record, other: Record | None) -> list[Any]:
    x = record.args[0]
    if x.ndim == 0:
        raise Unsupported("a 0-d input")
    axis = int(record.kwargs["dim"]) % x.ndim
    if record.op == "Topk":
        count, largest = int(record.kwargs["k"]), int(bool(record.kwargs["largest"]))
    else:  # (ties keep no particular order in ONNX's TopK)
        count, largest = int(x.shape[axis]), int(bool(record.kwargs["descending"]))
    values, indices = g.node("TopK", [g.value(x), g.ints([count])], outputs=2, axis=axis,
                             largest=largest, sorted=1)
    return [values, indices]


# ----------------------------------------------------------------------------- more indexing
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
    dtype = _dtype(_out(record))
    hosts = [backend.to_numpy(item) for item in key]
    shape = _broadcast_shapes([tuple(host.shape) for host in hosts])
    parts = [g.node("Unsqueeze", [g.node("Expand", [g.constant(host, "index"), g.ints(shape)]),
                                  g.ints([len(shape)])]) for host in hosts]
    indices = g.node("Concat", parts, axis=len(shape))
    filled = shape + [int(size) for size in x.shape[len(key):]]
    updates = g.node("Expand", [_operand(g, values, dtype), g.ints(filled)])
    reduction = "add" if record.kwargs.get("accumulate") else "none"
    return [g.node("ScatterND", [_operand(g, x, dtype), indices, updates],
                   reduction=reduction)]


@converts("ScatterReduce")
def _scatter_reduce(g: Graph, record: Record, other: Record | None) -> list[Any]:
    x, source = record.args[0], record.args[1]
    reductions = {"sum": "add", "prod": "mul"}
    if g.opset >= 18:
        reductions.update(amax="max", amin="min")
    reduce = record.kwargs["reduce"]
    if reduce not in reductions or not record.kwargs["include_self"]:
        raise Unsupported(f"reduce={reduce!r}, include_self={record.kwargs['include_self']}")
    dtype = _dtype(_out(record))
    axis = int(record.kwargs["dim"]) % max(x.ndim, 1)
    index = _index_value(g, record, record.kwargs["index"])
    index_shape = [int(size) for size in record.kwargs["index"].shape]
    updates = _operand(g, source, dtype)
    if [int(size) for size in source.shape] != index_shape:
        updates = g.node("Slice", [updates, g.ints([0] * len(index_shape)), g.ints(index_shape),
                                   g.ints(range(len(index_shape)))])
    return [g.node("ScatterElements", [_operand(g, x, dtype), index, updates], axis=axis,
                   reduction=reductions[reduce])]


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


@converts("UpsampleNearest1D", "UpsampleNearest2D", "UpsampleNearest3D",
          "UpsampleNearestExact1D", "UpsampleNearestExact2D", "UpsampleNearestExact3D",
          "UpsampleLinear1D", "UpsampleBilinear2D", "UpsampleBilinear2DAa",
          "UpsampleBicubic2D", "UpsampleTrilinear3D")
def _upsample(g: Graph, record: Record, other: Record | None) -> list[Any]:
    """interpolate as the op computes it, one spatial axis at a time: each output position a
    weighted sum of input positions (its taps: indices and weights, as the op holds them),
    written as Gathers along the axis, multiplied by constant weights and added."""
    x = record.args[0]
    dtype = _dtype(_out(record))
    taps = record.kwargs["taps"]
    out = _operand(g, x, dtype)
    ndim = x.ndim
    first = ndim - len(taps)
    backend = x._backend
    for offset, tap in enumerate(taps):
        axis = first + offset
        terms = []
        for column in range(len(tap.index[0])):
            indices = backend.asarray([row[column] for row in tap.index], dtype="int64")
            index = g.constant(backend.to_numpy(indices), "taps")
            term = g.node("Gather", [out, index], axis=axis)
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
    return [out]
