"""ONNX forms of comparisons, logical and bitwise ops and value tests (isnan, isinf, ...), seen
as an op mode's `computed` calls (they record no node) or, in place, as the `Compared` op that
writes the result in x's dtype. Comparisons promote their operands first (PyTorch's rules);
logical ops take nonzero as True."""

from __future__ import annotations

from typing import Any

from ..dtypes import result_type
from ..tensor import Tensor
from .convert import Unsupported, converts, dtype_of, onnx_type, operand, output, reduce_over
from .graph import Graph, Record

# our name -> (PyTorch's node stem for the in-place form, the ONNX operator)
_OPS = {"equal": ("Eq", "Equal"), "not_equal": ("Ne", "Equal"), "less": ("Lt", "Less"),
        "less_equal": ("Le", "LessOrEqual"), "greater": ("Gt", "Greater"),
        "greater_equal": ("Ge", "GreaterOrEqual"), "logical_and": ("LogicalAnd", "And"),
        "logical_or": ("LogicalOr", "Or"), "logical_xor": ("LogicalXor", "Xor"),
        "logical_not": ("LogicalNot", "Not")}


def _common_dtype(x: Any, other: Any) -> str:
    """The dtype a comparison of x with `other` computes in (PyTorch's promotion)."""
    first = (x.dtype, x.ndim) if isinstance(x, Tensor) else x
    second = (other.dtype, other.ndim) if isinstance(other, Tensor) else other
    return result_type(first, second).name


def _truth(g: Graph, item: Any, dtype: str) -> str:
    """An operand as bool: nonzero is True."""
    item_dtype = dtype_of(item) if isinstance(item, Tensor) else dtype
    value = operand(g, item, item_dtype)
    if item_dtype == "bool":
        return value
    return g.node("Not", [g.node("Equal", [value, g.scalar(0, item_dtype)])])


def _compare(g: Graph, op: str, first: Any, second: Any) -> str:
    """`first <op> second` as a bool value."""
    kind = _OPS[op][1]
    if op.startswith("logical_"):
        dtype = dtype_of(first)
        operands = [_truth(g, first, dtype)] if op == "logical_not" else [
            _truth(g, first, dtype), _truth(g, second, dtype)]
    else:
        common = _common_dtype(first, second)
        operands = [operand(g, first, common), operand(g, second, common)]
    out = g.node(kind, operands)
    return g.node("Not", [out]) if op == "not_equal" else out


@converts(*_OPS)
def _comparison(g: Graph, record: Record, other: Record | None) -> list[Any]:
    args = record.args
    return [_compare(g, record.op, args[0], args[1] if len(args) > 1 else None)]


@converts(*(f"{stem}Backward{form}" for stem, _ in _OPS.values() for form in (0, 1)))
def _compared_in_place(g: Graph, record: Record, other: Record | None) -> list[Any]:
    """x.eq_(y), x.logical_and_(y) & co.: the result in x's dtype."""
    op = record.kwargs["op"]
    second = record.args[1] if len(record.args) > 1 else record.kwargs.get("number")
    out = _compare(g, op, record.args[0], second)
    return [g.node("Cast", [out], to=onnx_type(dtype_of(output(record))))]


@converts("bitwise_and", "bitwise_or", "bitwise_xor", "bitwise_not")
def _bitwise(g: Graph, record: Record, other: Record | None) -> list[Any]:
    """And/Or/Xor/Not on bools; ONNX's Bitwise operators (opset 18) on integers."""
    dtype = dtype_of(output(record))
    operands = [operand(g, item, dtype) for item in record.args]
    kind = record.op.split("_")[1].capitalize()
    if dtype == "bool":
        return [g.node(kind, operands)]
    if g.opset < 18:
        raise Unsupported("integer bitwise ops need opset 18")
    return [g.node(f"Bitwise{kind}", operands)]


@converts("isin")
def _isin(g: Graph, record: Record, other: Record | None) -> list[Any]:
    """Each element compared with every test element (Equal, so NaN is in nothing), any over
    them; inverted with invert=True."""
    elements, tests = record.args[0], record.args[1]
    dtype = _common_dtype(elements, tests)
    tests = g.node("Reshape", [operand(g, tests, dtype), g.ints([-1])])
    equal = g.node("Equal", [g.node("Unsqueeze", [operand(g, elements, dtype), g.ints([-1])]),
                             tests])
    found = g.node("Cast", [reduce_over(g, "ReduceMax", g.node(
        "Cast", [equal], to=onnx_type("int32")), [-1], 0)], to=onnx_type("bool"))
    return [g.node("Not", [found]) if record.kwargs.get("invert") else found]


@converts("bitwise_left_shift", "bitwise_right_shift")
def _shift(g: Graph, record: Record, other: Record | None) -> list[Any]:
    """x << n as x * 2^n and x >> n as floor(x / 2^n), computed in int64 and cast back (the
    wrap of a narrower dtype is the cast's); a shift below 0 or past the dtype's width gives 0
    to the left and the sign's fill to the right, as PyTorch's."""
    dtype = dtype_of(output(record))
    if dtype == "bool" or "int" not in dtype:
        raise Unsupported(f"dtype {dtype}")
    width = {"int8": 8, "uint8": 8, "int16": 16, "int32": 32, "int64": 64}[dtype]
    x, n = (operand(g, item, dtype) for item in record.args[:2])
    if dtype != "int64":
        x, n = (g.node("Cast", [name], to=onnx_type("int64")) for name in (x, n))
    beyond = g.node("Or", [g.node("Less", [n, g.constant_int(0)]),
                           g.node("GreaterOrEqual", [n, g.constant_int(width)])])
    powers = [1 << k if k < 63 else -(1 << 63) for k in range(width)]  # (2^63 wraps)
    power = g.node("Gather", [g.ints(powers), g.node("Where", [beyond, g.constant_int(0), n])],
                   axis=0)
    if record.op == "bitwise_left_shift":
        out = g.node("Where", [beyond, g.constant_int(0), g.node("Mul", [x, power])])
    else:
        if width == 64:  # 2^63 does not fit: a shift by 63 leaves the sign's fill
            beyond = g.node("Or", [beyond, g.node("Equal", [n, g.constant_int(63)])])
        fill = g.node("Where", [g.node("Less", [x, g.constant_int(0)]), g.constant_int(-1),
                                g.constant_int(0)])
        floor = g.node("Div", [g.node("Sub", [x, g.node("Mod", [x, power])]), power])
        out = g.node("Where", [beyond, fill, floor])
    return [out if dtype == "int64" else g.node("Cast", [out], to=onnx_type(dtype))]


@converts("isnan", "isinf", "isfinite", "isposinf", "isneginf")
def _value_test(g: Graph, record: Record, other: Record | None) -> list[Any]:
    x = record.args[0]
    value = g.value(x)
    if "float" not in dtype_of(x):  # no NaN or infinity: all False (isfinite: all True)
        false = g.node("Expand", [g.scalar(record.op == "isfinite", "bool"),
                                  g.node("Shape", [value])])
        return [false]
    if record.op == "isnan":
        return [g.node("IsNaN", [value])]
    if record.op == "isfinite":
        return [g.node("Not", [g.node("Or", [g.node("IsNaN", [value]),
                                             g.node("IsInf", [value])])])]
    return [g.node("IsInf", [value], detect_negative=int(record.op != "isposinf"),
                   detect_positive=int(record.op != "isneginf"))]


def _axes(x: Tensor, dim: Any) -> list[int]:
    if dim is None or (isinstance(dim, (tuple, list)) and not dim):
        return list(range(x.ndim))
    dims = dim if isinstance(dim, (tuple, list)) else (dim,)
    return [int(axis) % max(x.ndim, 1) for axis in dims]


def _option(record: Record, position: int, name: str, default: Any) -> Any:
    """An argument given by position (after the input) or by keyword."""
    if len(record.args) > position:
        return record.args[position]
    return record.kwargs.get(name, default)


@converts("argmax", "argmin")
def _argmax(g: Graph, record: Record, other: Record | None) -> list[Any]:
    """ArgMax/ArgMin (the first of equal values, as PyTorch), over the flattened input when
    dim is None."""
    x = record.args[0]
    dim, keepdim = _option(record, 1, "dim", None), bool(_option(record, 2, "keepdim", False))
    value = g.value(x)
    kind = "ArgMax" if record.op == "argmax" else "ArgMin"
    if dim is None or x.ndim == 0:
        flat = g.node(kind, [g.node("Reshape", [value, g.ints([-1])])], axis=0, keepdims=0)
        shape = [1] * x.ndim if keepdim else []
        return [g.node("Reshape", [flat, g.ints(shape)])]
    return [g.node(kind, [value], axis=int(dim) % x.ndim, keepdims=int(keepdim))]


@converts("any", "all", "count_nonzero")
def _any(g: Graph, record: Record, other: Record | None) -> list[Any]:
    """The truth of each element as 0/1, reduced by ReduceMax (any), ReduceMin (all) or
    ReduceSum (count_nonzero)."""
    x = record.args[0]
    dim = _option(record, 1, "dim", None)
    keepdim = int(bool(_option(record, 2, "keepdim", False))) if record.op != "count_nonzero" \
        else 0
    ones = g.node("Cast", [_truth(g, x, dtype_of(x))], to=onnx_type("int64"))
    if x.ndim == 0:
        out = ones
    else:
        kind = {"any": "ReduceMax", "all": "ReduceMin", "count_nonzero": "ReduceSum"}[record.op]
        axes = _axes(x, dim)
        out = reduce_over(g, kind, ones, axes, keepdim)
    if record.op == "count_nonzero":
        return [out]
    return [g.node("Cast", [out], to=onnx_type(dtype_of(output(record))))]


@converts("argsort")
def _argsort(g: Graph, record: Record, other: Record | None) -> list[Any]:
    """TopK of every element along the dim, its indices (equal values may come in another
    order than PyTorch's)."""
    x = record.args[0]
    if x.ndim == 0:
        return [g.node("Cast", [g.node("Mul", [g.value(x), g.scalar(0, dtype_of(x))])],
                       to=onnx_type("int64"))]
    axis = int(_option(record, 1, "dim", -1)) % x.ndim
    descending = bool(_option(record, 2, "descending", False))
    _, indices = g.node("TopK", [g.value(x), g.ints([int(x.shape[axis])])], outputs=2,
                        axis=axis, largest=int(descending), sorted=1)
    return [indices]


@converts("isclose")
def _isclose(g: Graph, record: Record, other: Record | None) -> list[Any]:
    """|a - b| <= atol + rtol |b|, or equal (equal infinities); NaNs close with equal_nan."""
    a, b = record.args[:2]
    rtol, atol = _option(record, 2, "rtol", 1e-05), _option(record, 3, "atol", 1e-08)
    equal_nan = bool(_option(record, 4, "equal_nan", False))
    dtype = dtype_of(a)
    first, second = operand(g, a, dtype), operand(g, b, dtype)
    out = g.node("Equal", [first, second])
    if "float" in dtype:
        gap = g.node("Abs", [g.node("Sub", [first, second])])
        bound = g.node("Add", [g.scalar(atol, dtype),
                               g.node("Mul", [g.scalar(rtol, dtype), g.node("Abs", [second])])])
        finite = g.node("Not", [g.node("IsInf", [gap])])
        out = g.node("Or", [out, g.node("And", [finite, g.node("LessOrEqual", [gap, bound])])])
        if equal_nan:
            out = g.node("Or", [out, g.node("And", [g.node("IsNaN", [first]),
                                                    g.node("IsNaN", [second])])])
    return [out]


@converts("signbit")
def _signbit(g: Graph, record: Record, other: Record | None) -> list[Any]:
    """Below 0, or -0 (1 / -0 < 0). (A NaN's sign bit has no ONNX test: False.)"""
    x = record.args[0]
    dtype = dtype_of(x)
    value = g.value(x)
    zero = g.scalar(0, dtype)
    if dtype == "bool":
        return [g.node("Expand", [g.scalar(False, "bool"), g.node("Shape", [value])])]
    below = g.node("Less", [value, zero])
    if "float" not in dtype:
        return [below]
    return [g.node("Or", [below, g.node("Less", [g.node("Reciprocal", [value]), zero])])]


@converts("isreal")
def _isreal(g: Graph, record: Record, other: Record | None) -> list[Any]:
    return [g.node("Expand", [g.scalar(True, "bool"), g.node("Shape", [g.value(record.args[0])])])]


@converts("searchsorted")
def _searchsorted(g: Graph, record: Record, other: Record | None) -> list[Any]:
    """The eager op's vectorised binary search, unrolled (bit_length(S) steps for rows of S
    elements): `left` moves past `not (s >= v)`, `right` past `not (s > v)`, compared in the
    promoted dtype, so NaNs fall where the eager op (and PyTorch's) puts them."""
    sequence, values = record.args[0], record.args[1]
    kwargs = record.kwargs
    size = int(sequence.shape[-1])
    if other is not None and int(other.args[0].shape[-1]) != size:
        raise Unsupported("a dynamic length of the sorted sequence")
    right = bool(kwargs.get("right", False)) or kwargs.get("side") == "right"
    dtype = _common_dtype(sequence, values)
    row = operand(g, sequence, dtype)
    if kwargs.get("sorter") is not None:
        row = g.node("GatherElements", [row, g.value(kwargs["sorter"])], axis=-1)
    value = operand(g, values, dtype)
    shape = g.node("Shape", [value])
    low = g.node("Expand", [g.constant_int(0), shape])
    high = g.node("Expand", [g.constant_int(size), shape])
    for _ in range(size.bit_length()):
        middle = g.node("Div", [g.node("Add", [low, high]), g.constant_int(2)])
        at = g.node("Min", [middle, g.constant_int(size - 1)])
        probe = g.node("Gather", [row, at], axis=0) if sequence.ndim == 1 else \
            g.node("GatherElements", [row, at], axis=-1)
        passed = g.node("Not", [g.node("Greater" if right else "GreaterOrEqual",
                                       [probe, value])])
        active = g.node("Less", [low, high])
        low, high = (
            g.node("Where", [g.node("And", [active, passed]),
                             g.node("Add", [middle, g.constant_int(1)]), low]),
            g.node("Where", [g.node("And", [active, g.node("Not", [passed])]), middle, high]))
    if kwargs.get("out_int32"):
        low = g.node("Cast", [low], to=onnx_type("int32"))
    return [low]
