"""Op table entries: elementwise ops."""

from __future__ import annotations

import numpy as np

import autodiff

from . import BINARY_SHAPES, UNARY_SHAPES, OpInfo

ELEMENTWISE: list[OpInfo] = [
    OpInfo("add", lambda a, b: a + b, np.add, BINARY_SHAPES, "AddBackward0"),
    OpInfo("add_scalar", lambda a: 2.5 + a, lambda a: 2.5 + a, UNARY_SHAPES, "AddBackward0"),
    OpInfo("add_alpha", lambda a, b: autodiff.add(a, b, alpha=3), lambda a, b: a + 3 * b,
           BINARY_SHAPES[:2], "AddBackward0"),
    OpInfo("sub", lambda a, b: a - b, np.subtract, BINARY_SHAPES, "SubBackward0"),
    OpInfo("rsub", lambda a: 1 - a, lambda a: 1 - a, UNARY_SHAPES, "RsubBackward1"),
    OpInfo("mul", lambda a, b: a * b, np.multiply, BINARY_SHAPES, "MulBackward0"),
    OpInfo("mul_scalar", lambda a: a * 3.0, lambda a: a * 3.0, UNARY_SHAPES, "MulBackward0"),
    OpInfo("div", lambda a, b: a / b, np.divide, BINARY_SHAPES, "DivBackward0", domain=(0.5, 2.0)),
    OpInfo("div_scalar", lambda a: a / 4.0, lambda a: a / 4.0, UNARY_SHAPES, "DivBackward0"),
    OpInfo("rdiv", lambda a: 2.0 / a, lambda a: 2.0 / a, UNARY_SHAPES, "MulBackward0",
           domain=(0.5, 2.0)),
    OpInfo("neg", lambda a: -a, np.negative, UNARY_SHAPES, "NegBackward0"),
    OpInfo("pow_scalar", lambda a: a ** 3, lambda a: a ** 3, UNARY_SHAPES, "PowBackward0"),
    OpInfo("pow_fractional", lambda a: a ** 0.5, np.sqrt, UNARY_SHAPES, "PowBackward0",
           domain=(0.5, 2.0)),
    OpInfo("pow_tensor", lambda a, b: a ** b, np.power, BINARY_SHAPES, "PowBackward1",
           domain=(0.5, 2.0)),
    OpInfo("rpow", lambda a: 2.0 ** a, lambda a: 2.0 ** a, UNARY_SHAPES, "PowBackward2"),
    OpInfo("exp", autodiff.exp, np.exp, UNARY_SHAPES, "ExpBackward0"),
    OpInfo("log", autodiff.log, np.log, UNARY_SHAPES, "LogBackward0", domain=(0.5, 3.0)),
    OpInfo("sin", autodiff.sin, np.sin, UNARY_SHAPES, "SinBackward0"),
    OpInfo("cos", autodiff.cos, np.cos, UNARY_SHAPES, "CosBackward0"),
    OpInfo("sigmoid", autodiff.sigmoid, lambda a: 1 / (1 + np.exp(-a)), UNARY_SHAPES,
           "SigmoidBackward0", domain=(-6.0, 6.0)),
    OpInfo("clamp", lambda a: autodiff.clamp(a, -0.5, 0.7), lambda a: np.clip(a, -0.5, 0.7),
           UNARY_SHAPES, "ClampBackward1"),
    OpInfo("clamp_min", lambda a: a.clamp(min=0.1), lambda a: np.maximum(a, 0.1), UNARY_SHAPES,
           "ClampBackward1"),
]
