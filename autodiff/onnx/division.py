"""ONNX forms of the rounding divisions and remainders (PyTorch's floor_divide, div with a
rounding_mode, remainder, fmod) through ONNX's Div and Mod.

ONNX's Mod with fmod=1 is C's fmod (the sign of the dividend), for every dtype; with fmod=0
(integers only) Python's modulo (the sign of the divisor). Floating floor division is NumPy's
and PyTorch's exact one, from fmod: (a - fmod(a, b)) / b, one lower where the remainder's sign
is not the divisor's, then rounded to the nearest integer below (floor(a / b) is off where a / b
rounds across an integer).
"""

from __future__ import annotations

from typing import Any

from .convert import converts, dtype_of, operand, output
from .graph import Graph, Record


def _operands(g: Graph, record: Record) -> tuple[str, str, str]:
    a, b = record.args[0], record.args[1] if len(record.args) > 1 else record.kwargs["other"]
    dtype = dtype_of(output(record))
    return operand(g, a, dtype), operand(g, b, dtype), dtype


def _floating(dtype: str) -> bool:
    return "float" in dtype


def _other_sign(g: Graph, remainder: str, divisor: str, dtype: str) -> str:
    """Where a nonzero remainder's sign is not the divisor's."""
    zero = g.scalar(0, dtype)
    return g.node("And", [g.node("Not", [g.node("Equal", [remainder, zero])]),
                          g.node("Xor", [g.node("Less", [divisor, zero]),
                                         g.node("Less", [remainder, zero])])])


def _floor_quotient(g: Graph, a: str, b: str, dtype: str) -> str:
    if not _floating(dtype):  # exact: a - (a mod b) is a multiple of b
        return g.node("Div", [g.node("Sub", [a, g.node("Mod", [a, b], fmod=0)]), b])
    remainder = g.node("Mod", [a, b], fmod=1)
    quotient = g.node("Div", [g.node("Sub", [a, remainder]), b])
    one = g.scalar(1, dtype)
    quotient = g.node("Where", [_other_sign(g, remainder, b, dtype),
                                g.node("Sub", [quotient, one]), quotient])
    floor = g.node("Floor", [quotient])
    floor = g.node("Where", [g.node("Greater", [g.node("Sub", [quotient, floor]),
                                                g.scalar(0.5, dtype)]),
                             g.node("Add", [floor, one]), floor])
    # a zero divisor: a / b (an infinity or NaN), as NumPy and PyTorch
    return g.node("Where", [g.node("Equal", [b, g.scalar(0, dtype)]), g.node("Div", [a, b]),
                            floor])


def _trunc_quotient(g: Graph, a: str, b: str, dtype: str) -> str:
    quotient = g.node("Div", [a, b])  # integer Div rounds towards zero
    if not _floating(dtype):
        return quotient
    negative = g.node("Less", [quotient, g.scalar(0, dtype)])
    return g.node("Where", [negative, g.node("Ceil", [quotient]), g.node("Floor", [quotient])])


@converts("FloorDivide", "FloorDivideInPlace")
def _floor_divide(g: Graph, record: Record, other: Record | None) -> list[Any]:
    return [_floor_quotient(g, *_operands(g, record))]


@converts("DivMode")
def _div_mode(g: Graph, record: Record, other: Record | None) -> list[Any]:
    rounding = _floor_quotient if record.kwargs["mode"] == "floor" else _trunc_quotient
    return [rounding(g, *_operands(g, record))]


@converts("Remainder", "RemainderTensor", "RemainderNumber")
def _remainder(g: Graph, record: Record, other: Record | None) -> list[Any]:
    a, b, dtype = _operands(g, record)
    if not _floating(dtype):
        return [g.node("Mod", [a, b], fmod=0)]
    remainder = g.node("Mod", [a, b], fmod=1)
    return [g.node("Where", [_other_sign(g, remainder, b, dtype),
                             g.node("Add", [remainder, b]), remainder])]


@converts("Fmod", "FmodTensor")
def _fmod(g: Graph, record: Record, other: Record | None) -> list[Any]:
    a, b, _ = _operands(g, record)
    return [g.node("Mod", [a, b], fmod=1)]
