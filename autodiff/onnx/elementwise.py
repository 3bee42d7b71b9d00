"""ONNX forms of elementwise ops: arithmetic with numbers cast to the result's dtype,
activations (decomposed where ONNX's operator lacks PyTorch's options), casts."""

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
    onnx_type,
    operand,
    output,
)
from .graph import Graph, Record

_UNARY = {
    "Relu": "Relu", "Sigmoid": "Sigmoid", "Tanh": "Tanh", "Exp": "Exp", "Log": "Log",
    "Sqrt": "Sqrt", "Neg": "Neg", "Abs": "Abs", "Erf": "Erf", "Reciprocal": "Reciprocal",
    "Sin": "Sin", "Cos": "Cos", "Tan": "Tan", "Asin": "Asin", "Acos": "Acos", "Atan": "Atan",
    "Sinh": "Sinh", "Cosh": "Cosh", "Asinh": "Asinh", "Acosh": "Acosh", "Atanh": "Atanh",
    "Floor": "Floor", "Ceil": "Ceil", "Sign": "Sign", "Round": "Round", "Clone": "Identity",
    "Contiguous": "Identity", "Alias": "Identity", "Softsign": "Softsign",
    "AcoshInPlace": "Acosh", "AsinhInPlace": "Asinh", "AtanhInPlace": "Atanh",
}


def _unary(op: str) -> Converter:
    def convert(g: Graph, record: Record, other: Record | None) -> list[Any]:
        x = record.args[0]
        return [g.node(op, [operand(g, x, dtype_of(output(record)))])]

    return convert


for _name, _op in _UNARY.items():
    CONVERTERS[_name] = _unary(_op)

_BINARY = {"Add": "Add", "AddNumber": "Add", "Sub": "Sub", "SubNumber": "Sub", "Mul": "Mul",
           "MulNumber": "Mul", "Div": "Div", "DivNumber": "Div", "Maximum": "Max",
           "Minimum": "Min", "Pow": "Pow", "PowScalar": "Pow"}


def _binary(op: str) -> Converter:
    def convert(g: Graph, record: Record, other: Record | None) -> list[Any]:
        operands = list(record.args)
        if len(operands) == 1:  # the number as a keyword (`number=`, `exponent=`)
            operands.append(record.kwargs.get("number", record.kwargs.get("exponent")))
        if record.kwargs.get("alpha", 1) != 1:
            raise Unsupported("alpha")
        dtype = dtype_of(output(record))
        # Pow keeps its base's dtype: an integer exponent stays an integer
        if op == "Pow" and isinstance(operands[0], Tensor):
            return [g.node(op, [operand(g, operands[0], dtype),
                                operand(g, operands[1], dtype)])]
        return [g.node(op, [operand(g, item, dtype) for item in operands[:2]])]

    return convert


for _name, _op in _BINARY.items():
    CONVERTERS[_name] = _binary(_op)


@converts("RPow")
def _rpow(g: Graph, record: Record, other: Record | None) -> list[Any]:
    x, number = record.args[0], record.kwargs["base"]
    dtype = dtype_of(output(record))
    return [g.node("Pow", [operand(g, number, dtype), operand(g, x, dtype)])]


@converts("Zero", "Fill", "FillTensor")
def _fill(g: Graph, record: Record, other: Record | None) -> list[Any]:
    x = record.args[0]
    dtype = dtype_of(output(record))
    value = record.args[1] if len(record.args) > 1 else record.kwargs.get("value", 0)
    return [g.node("Expand", [operand(g, value, dtype), g.node("Shape", [g.value(x)])])]


@converts("Copy")
def _copy(g: Graph, record: Record, other: Record | None) -> list[Any]:
    """a.copy_(src): src cast to a's dtype and broadcast to a's shape."""
    x, source = record.args
    return [g.node("Expand", [operand(g, source, dtype_of(x)), g.node("Shape", [g.value(x)])])]


@converts("Rsub", "RsubTensor")
def _rsub(g: Graph, record: Record, other: Record | None) -> list[Any]:
    """other - input (a number as the keyword `other`, a tensor as the second argument)."""
    if record.kwargs.get("alpha", 1) != 1:
        raise Unsupported("alpha")
    x = record.args[0]
    subtrahend = record.args[1] if len(record.args) > 1 else record.kwargs["other"]
    dtype = dtype_of(output(record))
    return [g.node("Sub", [operand(g, subtrahend, dtype), operand(g, x, dtype)])]


@converts("Where")
def _where(g: Graph, record: Record, other: Record | None) -> list[Any]:
    condition, x, y = record.args
    dtype = dtype_of(output(record))
    return [g.node("Where", [operand(g, condition, "bool"), operand(g, x, dtype),
                             operand(g, y, dtype)])]


@converts("MaskedFill")
def _masked_fill(g: Graph, record: Record, other: Record | None) -> list[Any]:
    x = record.args[0]
    dtype = dtype_of(output(record))
    mask = g.array(record.kwargs["mask"], x._backend, "mask")
    return [g.node("Where", [mask, operand(g, record.kwargs["value"], dtype),
                             operand(g, x, dtype)])]


@converts("Clamp", "ClampMin", "ClampMax", "Hardtanh")
def _clamp(g: Graph, record: Record, other: Record | None) -> list[Any]:
    x = record.args[0]
    dtype = dtype_of(output(record))
    low = record.kwargs.get("min", record.kwargs.get("min_val"))
    high = record.kwargs.get("max", record.kwargs.get("max_val"))
    if isinstance(low, Tensor) or isinstance(high, Tensor):
        raise Unsupported("tensor bounds")
    inputs = [operand(g, x, dtype), "" if low is None else g.scalar(low, dtype),
              "" if high is None else g.scalar(high, dtype)]
    if low is not None and high is not None and low > high:  # PyTorch: all become max
        return [g.node("Expand", [g.scalar(high, dtype), g.node("Shape", [inputs[0]])])]
    return [g.node("Clip", inputs)]


@converts("Gelu")
def _gelu(g: Graph, record: Record, other: Record | None) -> list[Any]:
    x = record.args[0]
    dtype = dtype_of(output(record))
    value = operand(g, x, dtype)
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
    value = operand(g, record.args[0], dtype_of(output(record)))
    return [g.node("Mul", [value, g.node("Sigmoid", [value])])]


@converts("LeakyRelu", "LeakyReluResult")
def _leaky_relu(g: Graph, record: Record, other: Record | None) -> list[Any]:
    value = operand(g, record.args[0], dtype_of(output(record)))
    return [g.node("LeakyRelu", [value], alpha=float(record.kwargs["negative_slope"]))]


@converts("Elu", "EluResult")
def _elu(g: Graph, record: Record, other: Record | None) -> list[Any]:
    """elu, and selu as scale * elu(x, alpha)."""
    if record.kwargs.get("input_scale", 1.0) != 1.0:
        raise Unsupported("input_scale")
    dtype = dtype_of(output(record))
    value = operand(g, record.args[0], dtype)
    out = g.node("Elu", [value], alpha=float(record.kwargs["alpha"]))
    scale = record.kwargs.get("scale", 1.0)
    return [out if scale == 1.0 else g.node("Mul", [out, g.scalar(scale, dtype)])]


@converts("Softplus")
def _softplus(g: Graph, record: Record, other: Record | None) -> list[Any]:
    dtype = dtype_of(output(record))
    value = operand(g, record.args[0], dtype)
    beta, threshold = record.kwargs["beta"], record.kwargs["threshold"]
    scaled = g.node("Mul", [value, g.scalar(beta, dtype)])
    soft = g.node("Div", [g.node("Softplus", [scaled]), g.scalar(beta, dtype)])
    linear = g.node("Greater", [scaled, g.scalar(threshold, dtype)])
    return [g.node("Where", [linear, value, soft])]


@converts("ToCopy")
def _to_copy(g: Graph, record: Record, other: Record | None) -> list[Any]:
    x = record.args[0]
    return [g.node("Cast", [g.value(x)], to=onnx_type(dtype_of(output(record))))]


@converts("Rsqrt")
def _rsqrt(g: Graph, record: Record, other: Record | None) -> list[Any]:
    value = operand(g, record.args[0], dtype_of(output(record)))
    return [g.node("Reciprocal", [g.node("Sqrt", [value])])]


@converts("Log2", "Log10")
def _log_base(g: Graph, record: Record, other: Record | None) -> list[Any]:
    dtype = dtype_of(output(record))
    value = operand(g, record.args[0], dtype)
    base = 2.0 if record.op == "Log2" else 10.0
    return [g.node("Div", [g.node("Log", [value]), g.scalar(math.log(base), dtype)])]


@converts("Exp2")
def _exp2(g: Graph, record: Record, other: Record | None) -> list[Any]:
    dtype = dtype_of(output(record))
    return [g.node("Pow", [g.scalar(2.0, dtype), operand(g, record.args[0], dtype)])]


@converts("Trunc")
def _trunc(g: Graph, record: Record, other: Record | None) -> list[Any]:
    dtype = dtype_of(output(record))
    value = operand(g, record.args[0], dtype)
    if "float" not in dtype:
        return [g.node("Identity", [value])]
    negative = g.node("Less", [value, g.scalar(0.0, dtype)])
    return [g.node("Where", [negative, g.node("Ceil", [value]), g.node("Floor", [value])])]


@converts("Celu", "CeluResult")
def _celu(g: Graph, record: Record, other: Record | None) -> list[Any]:
    alpha = float(record.kwargs["alpha"])
    if not math.isclose(record.kwargs.get("input_scale", 1 / alpha) * alpha, 1.0):
        raise Unsupported("input_scale")
    value = operand(g, record.args[0], dtype_of(output(record)))
    return [g.node("Celu", [value], alpha=alpha)]


@converts("LogSigmoid")
def _log_sigmoid(g: Graph, record: Record, other: Record | None) -> list[Any]:
    value = operand(g, record.args[0], dtype_of(output(record)))
    return [g.node("Neg", [g.node("Softplus", [g.node("Neg", [value])])])]


@converts("Threshold", "ThresholdInPlace")
def _threshold(g: Graph, record: Record, other: Record | None) -> list[Any]:
    dtype = dtype_of(output(record))
    value = operand(g, record.args[0], dtype)
    above = g.node("Greater", [value, g.scalar(record.kwargs["threshold"], dtype)])
    return [g.node("Where", [above, value, g.scalar(record.kwargs["value"], dtype)])]


@converts("PreluKernel")
def _prelu(g: Graph, record: Record, other: Record | None) -> list[Any]:
    dtype = dtype_of(output(record))
    return [g.node("PRelu", [operand(g, record.args[0], dtype),
                             operand(g, record.args[1], dtype)])]


@converts("Hardsigmoid")
def _hardsigmoid(g: Graph, record: Record, other: Record | None) -> list[Any]:
    value = operand(g, record.args[0], dtype_of(output(record)))
    return [g.node("HardSigmoid", [value], alpha=1 / 6, beta=0.5)]


@converts("Hardswish")
def _hardswish(g: Graph, record: Record, other: Record | None) -> list[Any]:
    return [g.node("HardSwish", [operand(g, record.args[0], dtype_of(output(record)))])]


@converts("Softshrink", "Hardshrink")
def _shrink(g: Graph, record: Record, other: Record | None) -> list[Any]:
    """ONNX's Shrink: x - bias above lambd, x + bias below -lambd, 0 between (softshrink's
    bias is lambd, hardshrink's 0)."""
    lambd = float(record.kwargs["lambd"])
    value = operand(g, record.args[0], dtype_of(output(record)))
    return [g.node("Shrink", [value], lambd=lambd,
                   bias=lambd if record.op == "Softshrink" else 0.0)]


@converts("Mish")
def _mish(g: Graph, record: Record, other: Record | None) -> list[Any]:
    value = operand(g, record.args[0], dtype_of(output(record)))
    return [g.node("Mul", [value, g.node("Tanh", [g.node("Softplus", [value])])])]


@converts("Deg2Rad", "Rad2Deg")
def _angle_units(g: Graph, record: Record, other: Record | None) -> list[Any]:
    dtype = dtype_of(output(record))
    factor = math.pi / 180 if record.op == "Deg2Rad" else 180 / math.pi
    return [g.node("Mul", [operand(g, record.args[0], dtype), g.scalar(factor, dtype)])]


@converts("Frac")
def _frac(g: Graph, record: Record, other: Record | None) -> list[Any]:
    dtype = dtype_of(output(record))
    value = operand(g, record.args[0], dtype)
    negative = g.node("Less", [value, g.scalar(0, dtype)])
    whole = g.node("Where", [negative, g.node("Ceil", [value]), g.node("Floor", [value])])
    return [g.node("Sub", [value, whole])]


@converts("Sgn")
def _sgn(g: Graph, record: Record, other: Record | None) -> list[Any]:
    return [g.node("Sign", [operand(g, record.args[0], dtype_of(output(record)))])]


@converts("Glu")
def _glu(g: Graph, record: Record, other: Record | None) -> list[Any]:
    x = record.args[0]
    dim = int(record.kwargs["dim"]) % x.ndim
    half = int(x.shape[dim]) // 2
    if other is not None and other.args[0].shape[dim] != x.shape[dim]:
        raise Unsupported("glu along a dynamic dim")
    first, second = g.node("Split", [operand(g, x, dtype_of(output(record))),
                                     g.ints([half, half])], outputs=2, axis=dim)
    return [g.node("Mul", [first, g.node("Sigmoid", [second])])]


@converts("MaskedFillTensor")
def _masked_fill_tensor(g: Graph, record: Record, other: Record | None) -> list[Any]:
    x, value = record.args[0], record.args[1]
    dtype = dtype_of(output(record))
    mask = g.array(record.kwargs["mask"], x._backend, "mask")
    return [g.node("Where", [mask, operand(g, value, dtype), operand(g, x, dtype)])]


@converts("ClampTensor", "ClampMinTensor", "ClampMaxTensor")
def _clamp_tensor(g: Graph, record: Record, other: Record | None) -> list[Any]:
    """max(x, min), then min(., max): where min > max the result is max, as PyTorch's."""
    x, low, high = record.args
    dtype = dtype_of(output(record))
    out = operand(g, x, dtype)
    if low is not None:
        out = g.node("Max", [out, operand(g, low, dtype)])
    if high is not None:
        out = g.node("Min", [out, operand(g, high, dtype)])
    return [out]

