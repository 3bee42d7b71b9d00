"""ONNX forms of elementwise functions that ONNX has no operator for, written with the ones it
has, keeping eager's accuracy and special values: atan2 by quadrant, hypot scaled by the larger
magnitude, expm1 and log1p by Kahan's correction (exp(x) - 1 and log(1 + x) lose every digit
near 0), logaddexp through log1p, xlogy's 0 * log(0) = 0, lerp in PyTorch's two-sided form.
Each keeps NaN where eager gives NaN and the infinities eager gives."""

from __future__ import annotations

import math
from typing import Any

from ..dtypes import finfo
from ..tensor import Tensor
from .convert import Unsupported, converts, dtype_of, onnx_type, operand, output
from .graph import Graph, Record


def _where(g: Graph, condition: str, yes: str, no: str) -> str:
    return g.node("Where", [condition, yes, no])


def _eq(g: Graph, a: str, b: str) -> str:
    return g.node("Equal", [a, b])


def _floating(record: Record) -> str:
    dtype = dtype_of(output(record))
    if "float" not in dtype:
        raise Unsupported(f"dtype {dtype}")
    return dtype


def log1p(g: Graph, x: str, dtype: str) -> str:
    """log(1 + x) to full accuracy near 0: log(u) * x / (u - 1) with u = 1 + x rounded (x
    itself where u is 1; u's log where u is infinite)."""
    one = g.scalar(1, dtype)
    u = g.node("Add", [x, one])
    corrected = g.node("Div", [g.node("Mul", [g.node("Log", [u]), x]), g.node("Sub", [u, one])])
    out = _where(g, _eq(g, u, one), x, corrected)
    return _where(g, g.node("IsInf", [u]), g.node("Log", [u]), out)


def expm1(g: Graph, x: str, dtype: str) -> str:
    """exp(x) - 1 to full accuracy near 0: (u - 1) * x / log(u) with u = exp(x) (x where u
    is 1, -1 where u - 1 is, u - 1 where u is infinite)."""
    one = g.scalar(1, dtype)
    u = g.node("Exp", [x])
    less = g.node("Sub", [u, one])
    corrected = g.node("Div", [g.node("Mul", [less, x]), g.node("Log", [u])])
    out = _where(g, _eq(g, u, one), x, corrected)
    out = _where(g, _eq(g, less, g.scalar(-1, dtype)), less, out)
    return _where(g, g.node("IsInf", [u]), less, out)


@converts("Log1p")
def _log1p(g: Graph, record: Record, other: Record | None) -> list[Any]:
    dtype = _floating(record)
    return [log1p(g, operand(g, record.args[0], dtype), dtype)]


@converts("Expm1")
def _expm1(g: Graph, record: Record, other: Record | None) -> list[Any]:
    dtype = _floating(record)
    return [expm1(g, operand(g, record.args[0], dtype), dtype)]


def _negative(g: Graph, value: str, dtype: str) -> str:
    """Where a value is below 0 or is -0 (1 / -0 is -inf)."""
    zero = g.scalar(0, dtype)
    return g.node("Or", [g.node("Less", [value, zero]),
                         g.node("Less", [g.node("Reciprocal", [value]), zero])])


@converts("Atan2")
def _atan2(g: Graph, record: Record, other: Record | None) -> list[Any]:
    """sign(y) * atan2(|y|, x), the sign of a -0 included (1 / -0 < 0): atan(|y| / |x|), from
    pi where x is negative or -0; the ratio 0 where both are 0 and 1 where both are infinite.
    (The sign is a product: onnxruntime's Where turns a -0 it picks into +0.)"""
    dtype = _floating(record)
    y, x = (operand(g, item, dtype) for item in record.args[:2])
    zero = g.scalar(0, dtype)
    height, width = g.node("Abs", [y]), g.node("Abs", [x])
    ratio = g.node("Div", [height, width])
    ratio = _where(g, g.node("And", [_eq(g, height, zero), _eq(g, width, zero)]), zero, ratio)
    both_infinite = g.node("And", [g.node("IsInf", [height]), g.node("IsInf", [width])])
    angle = g.node("Atan", [_where(g, both_infinite, g.scalar(1, dtype), ratio)])
    angle = _where(g, _negative(g, x, dtype),
                   g.node("Sub", [g.scalar(math.pi, dtype), angle]), angle)
    return [g.node("Mul", [angle, _sign_of(g, y, dtype)])]


def _sign_of(g: Graph, value: str, dtype: str) -> str:
    """-1 where a value is negative or -0, else 1."""
    return _where(g, _negative(g, value, dtype), g.scalar(-1, dtype), g.scalar(1, dtype))


@converts("Hypot")
def _hypot(g: Graph, record: Record, other: Record | None) -> list[Any]:
    """m * sqrt(1 + (n / m)^2) for m, n the larger and smaller magnitude (no overflow); 0
    where both are 0, infinity where either is."""
    dtype = _floating(record)
    a, b = (g.node("Abs", [operand(g, item, dtype)]) for item in record.args[:2])
    large, small = g.node("Max", [a, b]), g.node("Min", [a, b])
    ratio = g.node("Div", [small, large])
    one = g.scalar(1, dtype)
    out = g.node("Mul", [large, g.node("Sqrt", [g.node("Add", [one, g.node("Mul", [ratio,
                                                                                 ratio])])])])
    out = _where(g, _eq(g, large, g.scalar(0, dtype)), large, out)
    infinite = g.node("Or", [g.node("IsInf", [a]), g.node("IsInf", [b])])
    return [_where(g, infinite, g.scalar(math.inf, dtype), out)]


@converts("Logit")
def _logit(g: Graph, record: Record, other: Record | None) -> list[Any]:
    dtype = _floating(record)
    p = operand(g, record.args[0], dtype)
    eps = record.kwargs["eps"]
    if eps is not None:
        p = g.node("Clip", [p, g.scalar(eps, dtype), g.scalar(1 - eps, dtype)])
    return [g.node("Log", [g.node("Div", [p, g.node("Sub", [g.scalar(1, dtype), p])])])]


def _xlog(g: Graph, record: Record, log: Any) -> list[Any]:
    """x * log(y) (or log1p), 0 where x is 0 unless y is NaN (x log x: y is x)."""
    dtype = _floating(record)
    x, y = (operand(g, item, dtype) for item in (record.args * 2)[:2])
    out = _where(g, _eq(g, x, g.scalar(0, dtype)), g.scalar(0, dtype),
                 g.node("Mul", [x, log(y)]))
    return [_where(g, g.node("IsNaN", [y]), y, out)]


@converts("Xlogy", "XlogyNumberOther", "XlogyNumberSelf", "XLogX")
def _xlogy(g: Graph, record: Record, other: Record | None) -> list[Any]:
    return _xlog(g, record, lambda y: g.node("Log", [y]))


@converts("Xlog1py", "Xlog1pyNumberOther")
def _xlog1py(g: Graph, record: Record, other: Record | None) -> list[Any]:
    dtype = _floating(record)
    return _xlog(g, record, lambda y: log1p(g, y, dtype))


@converts("Entr")
def _entr(g: Graph, record: Record, other: Record | None) -> list[Any]:
    """-x log x for x > 0, 0 at 0, -inf below, NaN for NaN."""
    dtype = _floating(record)
    x = operand(g, record.args[0], dtype)
    zero = g.scalar(0, dtype)
    out = _where(g, g.node("Greater", [x, zero]),
                 g.node("Neg", [g.node("Mul", [x, g.node("Log", [x])])]),
                 _where(g, _eq(g, x, zero), zero, g.scalar(-math.inf, dtype)))
    return [_where(g, g.node("IsNaN", [x]), x, out)]


@converts("Logaddexp", "Logaddexp2")
def _logaddexp(g: Graph, record: Record, other: Record | None) -> list[Any]:
    """max + log1p(exp(-|a - b|)) (base 2: max + log1p(2^-|a - b|) / ln 2); where a == b
    (equal infinities too) a + log(2) (a + 1)."""
    dtype = _floating(record)
    a, b = (operand(g, item, dtype) for item in record.args[:2])
    gap = g.node("Neg", [g.node("Abs", [g.node("Sub", [a, b])])])
    if record.op == "Logaddexp":
        tail = log1p(g, g.node("Exp", [gap]), dtype)
        same = g.scalar(math.log(2), dtype)
    else:
        power = g.node("Pow", [g.scalar(2, dtype), gap])
        tail = g.node("Div", [log1p(g, power, dtype), g.scalar(math.log(2), dtype)])
        same = g.scalar(1, dtype)
    out = g.node("Add", [g.node("Max", [a, b]), tail])
    return [_where(g, _eq(g, a, b), g.node("Add", [a, same]), out)]


@converts("Lerp", "LerpTensor")
def _lerp(g: Graph, record: Record, other: Record | None) -> list[Any]:
    """start + weight * (end - start) where |weight| < 0.5, else end - (end - start) *
    (1 - weight): exact at both ends, as PyTorch."""
    dtype = _floating(record)
    start, end = (operand(g, item, dtype) for item in record.args[:2])
    weight = operand(g, record.args[2] if record.op == "LerpTensor" else record.kwargs["weight"],
                     dtype)
    difference = g.node("Sub", [end, start])
    near = g.node("Add", [start, g.node("Mul", [weight, difference])])
    far = g.node("Sub", [end, g.node("Mul", [difference, g.node("Sub", [g.scalar(1, dtype),
                                                                     weight])])])
    small = g.node("Less", [g.node("Abs", [weight]), g.scalar(0.5, dtype)])
    return [_where(g, small, near, far)]


@converts("Addcmul", "Addcdiv")
def _addc(g: Graph, record: Record, other: Record | None) -> list[Any]:
    """input + value * (tensor1 * tensor2) (or / tensor2)."""
    dtype = dtype_of(output(record))
    x, first, second = (operand(g, item, dtype) for item in record.args[:3])
    if record.op == "Addcdiv" and "float" not in dtype:
        raise Unsupported("integer division")
    product = g.node("Mul" if record.op == "Addcmul" else "Div", [first, second])
    value = record.kwargs.get("value", 1)
    if value != 1:
        product = g.node("Mul", [product, g.scalar(value, dtype)])
    return [g.node("Add", [x, product])]


@converts("Sinc")
def _sinc(g: Graph, record: Record, other: Record | None) -> list[Any]:
    dtype = _floating(record)
    x = operand(g, record.args[0], dtype)
    scaled = g.node("Mul", [x, g.scalar(math.pi, dtype)])
    ratio = g.node("Div", [g.node("Sin", [scaled]), scaled])
    return [_where(g, _eq(g, x, g.scalar(0, dtype)), g.scalar(1, dtype), ratio)]


@converts("RoundDecimals")
def _round_decimals(g: Graph, record: Record, other: Record | None) -> list[Any]:
    """PyTorch's formula: scaled by 10^|decimals|, rounded half to even, scaled back."""
    dtype = _floating(record)
    x = operand(g, record.args[0], dtype)
    decimals = int(record.kwargs["decimals"])
    if decimals == 0:
        return [g.node("Round", [x])]
    scale = g.scalar(10.0 ** abs(decimals), dtype)
    if decimals > 0:
        return [g.node("Div", [g.node("Round", [g.node("Mul", [x, scale])]), scale])]
    return [g.node("Mul", [g.node("Round", [g.node("Div", [x, scale])]), scale])]


@converts("Ldexp")
def _ldexp(g: Graph, record: Record, other: Record | None) -> list[Any]:
    dtype = _floating(record)
    x, exponent = (operand(g, item, dtype) for item in record.args[:2])
    return [g.node("Mul", [x, g.node("Pow", [g.scalar(2, dtype), exponent])])]


@converts("Angle")
def _angle(g: Graph, record: Record, other: Record | None) -> list[Any]:
    """A real number's angle: pi below 0, else 0 (NaN for NaN)."""
    dtype = _floating(record)
    x = operand(g, record.args[0], dtype)
    out = _where(g, g.node("Less", [x, g.scalar(0, dtype)]), g.scalar(math.pi, dtype),
                 g.scalar(0, dtype))
    out = g.node("Expand", [out, g.node("Shape", [x])])
    return [_where(g, g.node("IsNaN", [x]), x, out)]


@converts("Ndtr")
def _ndtr(g: Graph, record: Record, other: Record | None) -> list[Any]:
    """(1 + erf(x / sqrt 2)) * 0.5, PyTorch's composition."""
    dtype = _floating(record)
    x = operand(g, record.args[0], dtype)
    erf = g.node("Erf", [g.node("Mul", [x, g.scalar(1 / math.sqrt(2), dtype)])])
    return [g.node("Mul", [g.node("Add", [erf, g.scalar(1, dtype)]), g.scalar(0.5, dtype)])]


@converts("Heaviside")
def _heaviside(g: Graph, record: Record, other: Record | None) -> list[Any]:
    x, values = record.args[:2]
    dtype = dtype_of(output(record))
    value = operand(g, x, dtype)
    if dtype == "bool":  # False -> values, True -> True
        return [_where(g, value, value, operand(g, values, dtype))]
    step = g.node("Cast", [g.node("Greater", [value, g.scalar(0, dtype)])],
                  to=onnx_type(dtype))
    return [_where(g, _eq(g, value, g.scalar(0, dtype)), operand(g, values, dtype), step)]


@converts("Fmax", "Fmin")
def _fmax(g: Graph, record: Record, other: Record | None) -> list[Any]:
    """Max (Min) ignoring a NaN on either side."""
    dtype = dtype_of(output(record))
    a, b = (operand(g, item, dtype) for item in record.args[:2])
    out = g.node("Max" if record.op == "Fmax" else "Min", [a, b])
    if "float" not in dtype:
        return [out]
    out = _where(g, g.node("IsNaN", [b]), a, out)
    return [_where(g, g.node("IsNaN", [a]), b, out)]


@converts("Copysign", "CopysignNumber")
def _copysign(g: Graph, record: Record, other: Record | None) -> list[Any]:
    """|a| times -1 where b is negative or -0 (1 / b < 0). (A NaN's sign bit has no ONNX
    test: a NaN b gives |a|.)"""
    dtype = _floating(record)
    a, b = (operand(g, item, dtype) for item in record.args[:2])
    # (a product: onnxruntime's Where turns a -0 it picks into +0)
    out = g.node("Mul", [g.node("Abs", [a]), _sign_of(g, b, dtype)])
    if not isinstance(record.args[1], Tensor):
        out = g.node("Expand", [out, g.node("Shape", [a])])
    return [out]


@converts("NanToNum")
def _nan_to_num(g: Graph, record: Record, other: Record | None) -> list[Any]:
    dtype = dtype_of(output(record))
    x = operand(g, record.args[0], dtype)
    if "float" not in dtype:
        return [g.node("Identity", [x])]
    largest = finfo(output(record).dtype).max
    kwargs = record.kwargs
    high = largest if kwargs["posinf"] is None else kwargs["posinf"]
    low = -largest if kwargs["neginf"] is None else kwargs["neginf"]
    out = _where(g, g.node("IsNaN", [x]), g.scalar(kwargs["nan"], dtype), x)
    out = _where(g, g.node("IsInf", [x], detect_negative=0), g.scalar(high, dtype), out)
    return [_where(g, g.node("IsInf", [x], detect_positive=0), g.scalar(low, dtype), out)]
