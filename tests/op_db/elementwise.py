"""Op table entries: elementwise ops (arithmetic, powers, unary math, selection, comparisons).

Activations are in `activation.py`. Each domain keeps the inputs where the op is smooth (away
from kinks, poles and jumps), so the numerical gradient is meaningful.
"""

from __future__ import annotations

import math

import numpy as np

import autodiff

from .info import BINARY_SHAPES, UNARY_SHAPES, OpInfo, Sample

_erf = np.vectorize(math.erf, otypes=[np.float64])

# Three operands: broadcasting among all three, a 0-d one, and an empty one.
TERNARY_SHAPES = (
    Sample(((3, 4), (3, 4), (3, 4))),
    Sample(((3, 4), (4,), (3, 1))),
    Sample(((2, 1, 4), (3, 1), ())),
    Sample(((0, 3), (3,), (1, 3))),
)
# Rounding and comparison ops compare exactly: inputs rounded to a coarse grid meet ties.
GRID = 0.25


def _grid(x: np.ndarray) -> np.ndarray:
    return np.round(x / GRID) * GRID


def _on_grid(tensor: autodiff.Tensor) -> autodiff.Tensor:
    return (tensor / GRID).round() * GRID


def _trunc_div(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.trunc(a / b)


def _lerp(start: np.ndarray, end: np.ndarray, weight: np.ndarray | float) -> np.ndarray:
    return start + weight * (end - start)


def _clamp_tensor(a: np.ndarray, low: np.ndarray, high: np.ndarray) -> np.ndarray:
    return np.minimum(np.maximum(a, low), high)


ARITHMETIC: list[OpInfo] = [
    OpInfo("add", lambda a, b: a + b, np.add, BINARY_SHAPES, "AddBackward0", complex_grad=True),
    OpInfo("add_scalar", lambda a: 2.5 + a, lambda a: 2.5 + a, UNARY_SHAPES, "AddBackward0",
           complex_grad=True),
    OpInfo("add_alpha", lambda a, b: autodiff.add(a, b, alpha=3), lambda a, b: a + 3 * b,
           BINARY_SHAPES[:2], "AddBackward0", complex_grad=True),
    OpInfo("sub", lambda a, b: a - b, np.subtract, BINARY_SHAPES, "SubBackward0",
           complex_grad=True),
    OpInfo("sub_alpha", lambda a, b: autodiff.sub(a, b, alpha=2), lambda a, b: a - 2 * b,
           BINARY_SHAPES[:3], "SubBackward0", complex_grad=True),
    OpInfo("rsub", lambda a: 1 - a, lambda a: 1 - a, UNARY_SHAPES, "RsubBackward1",
           complex_grad=True),
    OpInfo("rsub_alpha", lambda a: autodiff.rsub(a, 1.5, alpha=2), lambda a: 1.5 - 2 * a,
           UNARY_SHAPES, "RsubBackward1", complex_grad=True),
    OpInfo("rsub_tensor", lambda a, b: autodiff.rsub(a, b), lambda a, b: b - a, BINARY_SHAPES,
           "RsubBackward0", complex_grad=True),
    OpInfo("rsub_tensor_alpha", lambda a, b: autodiff.rsub(a, b, alpha=3),
           lambda a, b: b - 3 * a, BINARY_SHAPES[:3], "RsubBackward0", complex_grad=True),
    OpInfo("mul", lambda a, b: a * b, np.multiply, BINARY_SHAPES, "MulBackward0",
           complex_grad=True),
    OpInfo("mul_scalar", lambda a: a * 3.0, lambda a: a * 3.0, UNARY_SHAPES, "MulBackward0",
           complex_grad=True),
    OpInfo("div", lambda a, b: a / b, np.divide, BINARY_SHAPES, "DivBackward0", domain=(0.5, 2.0),
           complex_grad=True),
    OpInfo("div_scalar", lambda a: a / 4.0, lambda a: a / 4.0, UNARY_SHAPES, "DivBackward0",
           complex_grad=True),
    OpInfo("divide", lambda a, b: autodiff.divide(a, b), np.divide, BINARY_SHAPES[:2],
           "DivBackward0", domain=(0.5, 2.0)),
    OpInfo("true_divide", lambda a, b: autodiff.true_divide(a, b), np.divide,
           BINARY_SHAPES[:2], "DivBackward0", domain=(0.5, 2.0)),
    OpInfo("rdiv", lambda a: 2.0 / a, lambda a: 2.0 / a, UNARY_SHAPES, "MulBackward0",
           domain=(0.5, 2.0), complex_grad=True),
    # Rounded division is piecewise constant: the gradient is zero (PyTorch's DivBackward2).
    OpInfo("div_trunc", lambda a, b: autodiff.div(a, b, rounding_mode="trunc"), _trunc_div,
           BINARY_SHAPES, "DivBackward2", domain=(-3.0, 3.0)),
    OpInfo("div_floor", lambda a, b: autodiff.div(a, b, rounding_mode="floor"),
           np.floor_divide, BINARY_SHAPES, "DivBackward2", domain=(-3.0, 3.0)),
    OpInfo("floor_divide", lambda a, b: autodiff.floor_divide(a, b), np.floor_divide,
           BINARY_SHAPES, "torch::autograd::NotImplemented", domain=(-3.0, 3.0),
           differentiable=False),
    OpInfo("remainder", lambda a, b: autodiff.remainder(a, b), np.remainder, BINARY_SHAPES,
           "RemainderBackward1", domain=(0.5, 3.0)),
    OpInfo("remainder_scalar", lambda a: a % 0.75, lambda a: np.remainder(a, 0.75),
           UNARY_SHAPES, "RemainderBackward0"),
    OpInfo("neg", lambda a: -a, np.negative, UNARY_SHAPES, "NegBackward0", complex_grad=True),
    OpInfo("negative", autodiff.negative, np.negative, UNARY_SHAPES[:1], "NegBackward0"),
    OpInfo("reciprocal", autodiff.reciprocal, np.reciprocal, UNARY_SHAPES,
           "ReciprocalBackward0", domain=(0.5, 2.0), complex_grad=True),
]

POWERS: list[OpInfo] = [
    OpInfo("pow_scalar", lambda a: a ** 3, lambda a: a ** 3, UNARY_SHAPES, "PowBackward0",
           complex_grad=True),
    OpInfo("pow_fractional", lambda a: a ** 0.5, np.sqrt, UNARY_SHAPES, "PowBackward0",
           domain=(0.5, 2.0)),
    OpInfo("pow_negative", lambda a: autodiff.pow(a, -1.5), lambda a: a ** -1.5, UNARY_SHAPES,
           "PowBackward0", domain=(0.5, 2.0)),
    OpInfo("pow_tensor", lambda a, b: a ** b, np.power, BINARY_SHAPES, "PowBackward1",
           domain=(0.5, 2.0)),
    OpInfo("rpow", lambda a: 2.0 ** a, lambda a: 2.0 ** a, UNARY_SHAPES, "PowBackward2"),
    OpInfo("square", autodiff.square, np.square, UNARY_SHAPES, "PowBackward0", complex_grad=True),
    OpInfo("sqrt", autodiff.sqrt, np.sqrt, UNARY_SHAPES, "SqrtBackward0", domain=(0.5, 2.0),
           complex_grad=True),
    OpInfo("rsqrt", autodiff.rsqrt, lambda a: 1 / np.sqrt(a), UNARY_SHAPES, "RsqrtBackward0",
           domain=(0.5, 2.0), complex_grad=True),
]

UNARY: list[OpInfo] = [
    OpInfo("exp", autodiff.exp, np.exp, UNARY_SHAPES, "ExpBackward0", complex_grad=True),
    OpInfo("expm1", autodiff.expm1, np.expm1, UNARY_SHAPES, "Expm1Backward0", complex_grad=True),
    OpInfo("log", autodiff.log, np.log, UNARY_SHAPES, "LogBackward0", domain=(0.5, 3.0),
           complex_grad=True),
    OpInfo("log1p", autodiff.log1p, np.log1p, UNARY_SHAPES, "Log1PBackward0",
           domain=(-0.5, 3.0)),
    OpInfo("log2", autodiff.log2, np.log2, UNARY_SHAPES, "Log2Backward0", domain=(0.5, 3.0),
           complex_grad=True),
    OpInfo("log10", autodiff.log10, np.log10, UNARY_SHAPES, "Log10Backward0",
           domain=(0.5, 3.0), complex_grad=True),
    OpInfo("erf", autodiff.erf, _erf, UNARY_SHAPES, "ErfBackward0", domain=(-3.0, 3.0)),
    OpInfo("erf_tails", autodiff.erf, _erf, UNARY_SHAPES[:1], "ErfBackward0",
           domain=(2.0, 6.5)),
    OpInfo("abs", autodiff.abs, np.abs, UNARY_SHAPES, "AbsBackward0", complex_grad=True),
    OpInfo("abs_operator", lambda a: abs(a), np.abs, UNARY_SHAPES[:1], "AbsBackward0"),
    OpInfo("absolute", autodiff.absolute, np.abs, UNARY_SHAPES[:1], "AbsBackward0"),
    OpInfo("sign", autodiff.sign, np.sign, UNARY_SHAPES, "SignBackward0"),
    OpInfo("floor", autodiff.floor, np.floor, UNARY_SHAPES, "FloorBackward0"),
    OpInfo("ceil", autodiff.ceil, np.ceil, UNARY_SHAPES, "CeilBackward0"),
    OpInfo("trunc", autodiff.trunc, np.trunc, UNARY_SHAPES, "TruncBackward0"),
    OpInfo("fix", autodiff.fix, np.trunc, UNARY_SHAPES[:1], "TruncBackward0"),
    OpInfo("round", autodiff.round, np.round, UNARY_SHAPES, "RoundBackward0"),
    # Ties on a grid: round half to even, like NumPy.
    OpInfo("round_ties", lambda a: autodiff.round(a * 2), lambda a: np.round(a * 2),
           UNARY_SHAPES[:1], "RoundBackward0", domain=(-4.0, 4.0)),
    OpInfo("round_decimals", lambda a: autodiff.round(a, decimals=2),
           lambda a: np.round(a * 100) / 100, UNARY_SHAPES, "RoundBackward1"),
    OpInfo("sin", autodiff.sin, np.sin, UNARY_SHAPES, "SinBackward0", complex_grad=True),
    OpInfo("cos", autodiff.cos, np.cos, UNARY_SHAPES, "CosBackward0", complex_grad=True),
    OpInfo("tan", autodiff.tan, np.tan, UNARY_SHAPES, "TanBackward0", domain=(-1.2, 1.2),
           complex_grad=True),
    OpInfo("asin", autodiff.asin, np.arcsin, UNARY_SHAPES, "AsinBackward0",
           domain=(-0.9, 0.9)),
    OpInfo("arcsin", autodiff.arcsin, np.arcsin, UNARY_SHAPES[:1], "AsinBackward0",
           domain=(-0.9, 0.9)),
    OpInfo("acos", autodiff.acos, np.arccos, UNARY_SHAPES, "AcosBackward0",
           domain=(-0.9, 0.9)),
    OpInfo("arccos", autodiff.arccos, np.arccos, UNARY_SHAPES[:1], "AcosBackward0",
           domain=(-0.9, 0.9)),
    OpInfo("atan", autodiff.atan, np.arctan, UNARY_SHAPES, "AtanBackward0", domain=(-3, 3)),
    OpInfo("arctan", autodiff.arctan, np.arctan, UNARY_SHAPES[:1], "AtanBackward0"),
    OpInfo("atan2", autodiff.atan2, np.arctan2, BINARY_SHAPES, "Atan2Backward0"),
    OpInfo("arctan2", autodiff.arctan2, np.arctan2, BINARY_SHAPES[:1], "Atan2Backward0"),
    OpInfo("tanh", autodiff.tanh, np.tanh, UNARY_SHAPES, "TanhBackward0", domain=(-3, 3),
           complex_grad=True),
    OpInfo("sinh", autodiff.sinh, np.sinh, UNARY_SHAPES, "SinhBackward0", complex_grad=True),
    OpInfo("cosh", autodiff.cosh, np.cosh, UNARY_SHAPES, "CoshBackward0", complex_grad=True),
    OpInfo("asinh", autodiff.asinh, np.arcsinh, UNARY_SHAPES, "AsinhBackward0"),
    OpInfo("arcsinh", autodiff.arcsinh, np.arcsinh, UNARY_SHAPES[:1], "AsinhBackward0"),
    OpInfo("acosh", autodiff.acosh, np.arccosh, UNARY_SHAPES, "AcoshBackward0",
           domain=(1.2, 3.0)),
    OpInfo("arccosh", autodiff.arccosh, np.arccosh, UNARY_SHAPES[:1], "AcoshBackward0",
           domain=(1.2, 3.0)),
    OpInfo("atanh", autodiff.atanh, np.arctanh, UNARY_SHAPES, "AtanhBackward0",
           domain=(-0.9, 0.9)),
    OpInfo("arctanh", autodiff.arctanh, np.arctanh, UNARY_SHAPES[:1], "AtanhBackward0",
           domain=(-0.9, 0.9)),
    OpInfo("deg2rad", autodiff.deg2rad, np.deg2rad, UNARY_SHAPES, "Deg2RadBackward0"),
    OpInfo("rad2deg", autodiff.rad2deg, np.rad2deg, UNARY_SHAPES, "Rad2DegBackward0"),
    OpInfo("sinc", autodiff.sinc, np.sinc, UNARY_SHAPES, "SincBackward0"),
    OpInfo("sinc_at_zero", lambda a: autodiff.sinc(a * (a > 0)), lambda a: np.sinc(a * (a > 0)),
           UNARY_SHAPES[:1], "SincBackward0"),
    OpInfo("exp2", autodiff.exp2, np.exp2, UNARY_SHAPES, "Exp2Backward0"),
    OpInfo("frac", autodiff.frac, lambda a: a - np.trunc(a), UNARY_SHAPES, "FracBackward0"),
    OpInfo("sgn", autodiff.sgn, np.sign, UNARY_SHAPES, "SgnBackward0", complex_grad=True),
    OpInfo("positive", autodiff.positive, np.positive, UNARY_SHAPES),
]

SELECTION: list[OpInfo] = [
    OpInfo("clamp", lambda a: autodiff.clamp(a, -0.5, 0.7), lambda a: np.clip(a, -0.5, 0.7),
           UNARY_SHAPES, "ClampBackward1"),
    OpInfo("clamp_min", lambda a: a.clamp(min=0.1), lambda a: np.maximum(a, 0.1), UNARY_SHAPES,
           "ClampBackward1"),
    OpInfo("clamp_max", lambda a: a.clamp(max=0.1), lambda a: np.minimum(a, 0.1),
           UNARY_SHAPES[:2], "ClampBackward1"),
    OpInfo("clip", lambda a: autodiff.clip(a, -1, 1), lambda a: np.clip(a, -1, 1),
           UNARY_SHAPES[:2], "ClampBackward1"),
    OpInfo("clamp_tensor", lambda a, low, high: autodiff.clamp(a, low, high), _clamp_tensor,
           TERNARY_SHAPES, "ClampBackward0"),
    OpInfo("clamp_tensor_min", lambda a, low: autodiff.clamp(a, min=low), np.maximum,
           BINARY_SHAPES, "ClampBackward0"),
    OpInfo("clamp_tensor_max", lambda a, high: a.clamp(max=high), np.minimum, BINARY_SHAPES,
           "ClampBackward0"),
    OpInfo("clamp_min_fn", lambda a: autodiff.clamp_min(a, 0.2), lambda a: np.maximum(a, 0.2),
           UNARY_SHAPES[:2], "ClampMinBackward0"),
    OpInfo("clamp_max_fn", lambda a: autodiff.clamp_max(a, 0.2), lambda a: np.minimum(a, 0.2),
           UNARY_SHAPES[:2], "ClampMaxBackward0"),
    OpInfo("clamp_min_fn_tensor", lambda a, b: autodiff.clamp_min(a, b), np.maximum,
           BINARY_SHAPES[:3], "ClampMinBackward1"),
    OpInfo("clamp_max_fn_tensor", lambda a, b: a.clamp_max(b), np.minimum, BINARY_SHAPES[:3],
           "ClampMaxBackward1"),
    OpInfo("maximum", autodiff.maximum, np.maximum, BINARY_SHAPES, "MaximumBackward0"),
    OpInfo("minimum", autodiff.minimum, np.minimum, BINARY_SHAPES, "MinimumBackward0"),
    OpInfo("max_binary", lambda a, b: autodiff.max(a, b), np.maximum, BINARY_SHAPES[:2],
           "MaximumBackward0"),
    OpInfo("min_binary", lambda a, b: a.min(b), np.minimum, BINARY_SHAPES[:2],
           "MinimumBackward0"),
    # The condition is the third input (not differentiated): where(c > 0, a, b).
    OpInfo("where", lambda a, b, c: autodiff.where(c > 0, a, b),
           lambda a, b, c: np.where(c > 0, a, b), TERNARY_SHAPES, "WhereBackward0",
           grad_inputs=2),
    OpInfo("where_scalar", lambda a, c: autodiff.where(c > 0, a, 0.5),
           lambda a, c: np.where(c > 0, a, 0.5), BINARY_SHAPES, "WhereBackward0",
           grad_inputs=1),
    OpInfo("where_method", lambda a, b: a.where(b > 0, -a), lambda a, b: np.where(b > 0, a, -a),
           BINARY_SHAPES[:3], "WhereBackward0", grad_inputs=1),
    OpInfo("lerp", lambda a, b: autodiff.lerp(a, b, 0.3), lambda a, b: _lerp(a, b, 0.3),
           BINARY_SHAPES, "LerpBackward0"),
    OpInfo("lerp_large_weight", lambda a, b: a.lerp(b, 0.8), lambda a, b: _lerp(a, b, 0.8),
           BINARY_SHAPES[:2], "LerpBackward0"),
    OpInfo("lerp_tensor", autodiff.lerp, _lerp, TERNARY_SHAPES, "LerpBackward1",
           domain=(-1.0, 1.0)),
]


def _compare(op: str) -> OpInfo:
    return OpInfo(op, lambda a, b: getattr(autodiff, op)(_on_grid(a), _on_grid(b)),
                  lambda a, b: getattr(np, _NUMPY_NAMES.get(op, op))(_grid(a), _grid(b)),
                  BINARY_SHAPES, differentiable=False, out_dtype=autodiff.bool)


_NUMPY_NAMES = {"eq": "equal", "ne": "not_equal", "lt": "less", "le": "less_equal",
                "gt": "greater", "ge": "greater_equal"}


def _logical(op: str) -> OpInfo:
    return OpInfo(op, lambda a, b: getattr(autodiff, op)(a > 0, b.round()),
                  lambda a, b: getattr(np, op)(a > 0, np.round(b)),
                  BINARY_SHAPES, differentiable=False, out_dtype=autodiff.bool)


def _specials(where, a):  # type: ignore[no-untyped-def]
    """inf above 1, nan below -1, `a` elsewhere (built with where: nothing divides by zero)."""
    return where(a > 1, math.inf, where(a < -1, math.nan, a))


def _is(op: str) -> OpInfo:
    return OpInfo(op, lambda a: getattr(autodiff, op)(_specials(autodiff.where, a)),
                  lambda a: getattr(np, op)(_specials(np.where, a)),
                  UNARY_SHAPES, differentiable=False, out_dtype=autodiff.bool)


COMPARISON: list[OpInfo] = [
    *(_compare(op) for op in ("eq", "ne", "lt", "le", "gt", "ge", "greater", "greater_equal",
                              "less", "less_equal", "not_equal")),
    OpInfo("eq_operator", lambda a, b: _on_grid(a) == _on_grid(b),
           lambda a, b: _grid(a) == _grid(b), BINARY_SHAPES, differentiable=False,
           out_dtype=autodiff.bool),
    OpInfo("eq_scalar", lambda a: _on_grid(a) == 0.5, lambda a: _grid(a) == 0.5, UNARY_SHAPES,
           differentiable=False, out_dtype=autodiff.bool),
    *(_logical(op) for op in ("logical_and", "logical_or", "logical_xor")),
    OpInfo("logical_not", lambda a: autodiff.logical_not(a.round()),
           lambda a: np.logical_not(np.round(a)), UNARY_SHAPES, differentiable=False,
           out_dtype=autodiff.bool),
    OpInfo("bitwise_and", lambda a, b: autodiff.bitwise_and(a > 0, b > 0),
           lambda a, b: (a > 0) & (b > 0), BINARY_SHAPES, differentiable=False,
           out_dtype=autodiff.bool),
    OpInfo("bitwise_or", lambda a, b: (a > 0) | autodiff.bitwise_or(a > 1, b > 0),
           lambda a, b: (a > 0) | (a > 1) | (b > 0), BINARY_SHAPES, differentiable=False,
           out_dtype=autodiff.bool),
    OpInfo("bitwise_xor", lambda a, b: autodiff.bitwise_xor(a > 0, b > 0) ^ (a > 1),
           lambda a, b: (a > 0) ^ (b > 0) ^ (a > 1), BINARY_SHAPES, differentiable=False,
           out_dtype=autodiff.bool),
    OpInfo("bitwise_not", lambda a: autodiff.bitwise_not(a > 0) & ~(a < -1),
           lambda a: ~(a > 0) & ~(a < -1), UNARY_SHAPES, differentiable=False,
           out_dtype=autodiff.bool),
    _is("isnan"),
    _is("isinf"),
    _is("isfinite"),
    OpInfo("isclose", lambda a, b: autodiff.isclose(a, a + b * 1e-4, rtol=0, atol=1e-4),
           lambda a, b: np.isclose(a, a + b * 1e-4, rtol=0, atol=1e-4), BINARY_SHAPES,
           differentiable=False, out_dtype=autodiff.bool),
    # The division-based ops also check integer results (floor_divide keeps the dtype).
    OpInfo("floor_divide_int", lambda a, b: (a * 4).long() // (b * 2 + 5).long(),
           lambda a, b: np.floor_divide(np.trunc(a * 4), np.trunc(b * 2 + 5)), BINARY_SHAPES,
           differentiable=False, out_dtype=autodiff.int64),
    OpInfo("div_trunc_int",
           lambda a, b: autodiff.div((a * 4).long(), (b + 3).long(), rounding_mode="trunc"),
           lambda a, b: np.trunc(np.trunc(a * 4) / np.trunc(b + 3)), BINARY_SHAPES,
           differentiable=False, out_dtype=autodiff.int64),
    OpInfo("remainder_int", lambda a, b: (a * 4).long() % 3,
           lambda a, b: np.remainder(np.trunc(a * 4), 3), BINARY_SHAPES,
           differentiable=False, out_dtype=autodiff.int64),
]

ELEMENTWISE: list[OpInfo] = [*ARITHMETIC, *POWERS, *UNARY, *SELECTION, *COMPARISON]
