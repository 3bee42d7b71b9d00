"""ONNX forms of reductions (ReduceX with keepdims), softmax, matrix products and linear
layers, cumulative sums, sorting (TopK)."""

from __future__ import annotations

import math
from typing import Any

from ..tensor import Tensor
from .convert import (
    CONVERTERS,
    Converter,
    Unsupported,
    converts,
    dtype_of,
    operand,
    output,
)
from .graph import Graph, Record

_REDUCTIONS = {"Sum": "ReduceSum", "SumDim": "ReduceSum", "Mean": "ReduceMean",
               "MeanDim": "ReduceMean", "Amax": "ReduceMax", "Amin": "ReduceMin",
               "MaxAll": "ReduceMax", "MinAll": "ReduceMin", "Prod": "ReduceProd",
               "ProdDim": "ReduceProd", "Logsumexp": "ReduceLogSumExp"}


def _reduction(op: str) -> Converter:
    def convert(g: Graph, record: Record, other: Record | None) -> list[Any]:
        x = record.args[0]
        kwargs = record.kwargs
        axes = kwargs.get("axes", kwargs.get("axis"))
        if isinstance(axes, int):
            axes = (axes,)
        keepdim = int(bool(kwargs.get("keepdim", False)))
        value = operand(g, x, dtype_of(output(record)))
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
    value = operand(g, x, dtype_of(output(record)))
    if x.ndim == 0:
        value = g.node("Unsqueeze", [value, g.ints([0])])
        return [g.node("Squeeze", [g.node(record.op, [value], axis=0), g.ints([0])])]
    return [g.node(record.op, [value], axis=int(record.kwargs["dim"]))]


@converts("Mm", "Bmm", "Matmul", "Dot", "Mv")
def _matmul(g: Graph, record: Record, other: Record | None) -> list[Any]:
    dtype = dtype_of(output(record))
    return [g.node("MatMul", [operand(g, item, dtype) for item in record.args[:2]])]


@converts("Linear", "LinearFolded", "LinearFoldedNoBias", "LinearMm", "LinearVector")
def _linear(g: Graph, record: Record, other: Record | None) -> list[Any]:
    x, weight = record.args[0], record.args[1]
    bias = record.args[2] if len(record.args) > 2 else None
    dtype = dtype_of(output(record))
    if x.ndim == 2 and weight.ndim == 2:
        inputs = [operand(g, x, dtype), operand(g, weight, dtype)]
        if bias is not None:
            inputs.append(operand(g, bias, dtype))
        return [g.node("Gemm", inputs, transB=1)]
    transposed = g.node("Transpose", [operand(g, weight, dtype)],
                        perm=list(reversed(range(weight.ndim))))
    out = g.node("MatMul", [operand(g, x, dtype), transposed])
    if bias is not None:
        out = g.node("Add", [out, operand(g, bias, dtype)])
    return [out]


@converts("Addmm")
def _addmm(g: Graph, record: Record, other: Record | None) -> list[Any]:
    dtype = dtype_of(output(record))
    bias, left, right = (operand(g, item, dtype) for item in record.args[:3])
    return [g.node("Gemm", [left, right, bias], alpha=float(record.kwargs.get("alpha", 1)),
                   beta=float(record.kwargs.get("beta", 1)))]


@converts("Einsum", "EinsumPermute", "EinsumProduct", "EinsumSum")
def _einsum(g: Graph, record: Record, other: Record | None) -> list[Any]:
    dtype = dtype_of(output(record))
    if "float" not in dtype:
        raise Unsupported("integer einsum")
    operands = [operand(g, item, dtype) for item in record.args if isinstance(item, Tensor)]
    return [g.node("Einsum", operands, equation=record.kwargs["equation"])]


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


@converts("Var", "Std", "VarMean", "StdMean")
def _var(g: Graph, record: Record, other: Record | None) -> list[Any]:
    """sum((x - mean)^2) / (n - correction), in the output's dtype (std its square root;
    var_mean and std_mean with the mean too)."""
    x = record.args[0]
    dtype = dtype_of(output(record))
    axes = record.kwargs["axes"]
    axes = tuple(range(x.ndim)) if axes is None else tuple(axis % x.ndim for axis in axes)
    keepdim = int(bool(record.kwargs["keepdim"]))
    value = operand(g, x, dtype)
    mean = g.node("ReduceMean", [value], axes=list(axes), keepdims=1) if g.opset < 18 else \
        g.node("ReduceMean", [value, g.ints(axes)], keepdims=1)
    centered = g.node("Sub", [value, mean])
    total = g.node("ReduceSum", [g.node("Mul", [centered, centered]), g.ints(axes)],
                   keepdims=keepdim)
    count = math.prod(int(x.shape[axis]) for axis in axes)
    out = g.node("Div", [total, g.scalar(count - record.kwargs["correction"], dtype)])
    if record.op in ("Std", "StdMean"):
        out = g.node("Sqrt", [out])
    if record.op in ("VarMean", "StdMean"):
        return [out, mean if keepdim else g.node("Squeeze", [mean, g.ints(axes)])]
    return [out]


@converts("LinalgVectorNorm")
def _vector_norm(g: Graph, record: Record, other: Record | None) -> list[Any]:
    x = record.args[0]
    dtype = dtype_of(output(record))
    order = record.kwargs["ord"]
    kinds = {1: "ReduceL1", 2: "ReduceL2"}
    if order not in kinds or x.ndim == 0:
        raise Unsupported(f"ord={order}")
    axes = record.kwargs["axes"]
    axes = tuple(range(x.ndim)) if axes is None else tuple(axis % x.ndim for axis in axes)
    keepdim = int(bool(record.kwargs["keepdim"]))
    value = operand(g, x, dtype)
    if g.opset >= 18:
        return [g.node(kinds[order], [value, g.ints(axes)], keepdims=keepdim)]
    return [g.node(kinds[order], [value], axes=list(axes), keepdims=keepdim)]


@converts("Cumsum")
def _cumsum(g: Graph, record: Record, other: Record | None) -> list[Any]:
    x = record.args[0]
    value = operand(g, x, dtype_of(output(record)))
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


@converts("Trace")
def _trace(g: Graph, record: Record, other: Record | None) -> list[Any]:
    """The sum of every (cols + 1)-th element of the flattened matrix from the first."""
    x = record.args[0]
    rows, cols = int(x.shape[0]), int(x.shape[1])
    positions = [index * (cols + 1) for index in range(min(rows, cols))]
    flat = g.node("Reshape", [operand(g, x, dtype_of(output(record))), g.ints([-1])])
    picked = g.node("Gather", [flat, g.ints(positions)], axis=0)
    return [g.node("ReduceSum", [picked, g.ints([0])], keepdims=0)]


@converts("LinalgDet")
def _det(g: Graph, record: Record, other: Record | None) -> list[Any]:
    return [g.node("Det", [operand(g, record.args[0], dtype_of(output(record)))])]
