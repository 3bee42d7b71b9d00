"""Op table entries: activations (`autodiff.nn.functional` and their Tensor forms)."""

from __future__ import annotations

import math

import numpy as np

import autodiff
import autodiff.nn.functional as F

from .info import UNARY_SHAPES, OpInfo

_erf = np.vectorize(math.erf, otypes=[np.float64])


def _gelu(x: np.ndarray) -> np.ndarray:
    return 0.5 * x * (1 + _erf(x / math.sqrt(2)))


def _gelu_tanh(x: np.ndarray) -> np.ndarray:
    return 0.5 * x * (1 + np.tanh(math.sqrt(2 / math.pi) * (x + 0.044715 * x ** 3)))


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1 / (1 + np.exp(-x))


def _elu(x: np.ndarray, alpha: float = 1.0) -> np.ndarray:
    return np.where(x > 0, x, alpha * np.expm1(np.minimum(x, 0)))


def _softplus(x: np.ndarray, beta: float = 1.0, threshold: float = 20.0) -> np.ndarray:
    return np.where(x * beta > threshold, x, np.logaddexp(0, x * beta) / beta)


ACTIVATION: list[OpInfo] = [
    OpInfo("relu", autodiff.relu, lambda a: np.maximum(a, 0), UNARY_SHAPES, "ReluBackward0"),
    OpInfo("relu_method", lambda a: a.relu(), lambda a: np.maximum(a, 0), UNARY_SHAPES[:1],
           "ReluBackward0"),
    OpInfo("F.relu", F.relu, lambda a: np.maximum(a, 0), UNARY_SHAPES[:1], "ReluBackward0"),
    OpInfo("F.leaky_relu", F.leaky_relu, lambda a: np.where(a > 0, a, 0.01 * a), UNARY_SHAPES,
           "LeakyReluBackward0"),
    OpInfo("F.leaky_relu_slope", lambda a: F.leaky_relu(a, 0.2),
           lambda a: np.where(a > 0, a, 0.2 * a), UNARY_SHAPES[:2], "LeakyReluBackward0"),
    OpInfo("F.gelu", F.gelu, _gelu, UNARY_SHAPES, "GeluBackward0", domain=(-4.0, 4.0)),
    OpInfo("F.gelu_tanh", lambda a: F.gelu(a, approximate="tanh"), _gelu_tanh, UNARY_SHAPES,
           "GeluBackward0", domain=(-4.0, 4.0)),
    OpInfo("F.elu", F.elu, _elu, UNARY_SHAPES, "EluBackward0"),
    OpInfo("F.elu_alpha", lambda a: F.elu(a, alpha=0.5), lambda a: _elu(a, 0.5),
           UNARY_SHAPES[:2], "EluBackward0"),
    OpInfo("F.silu", F.silu, lambda a: a * _sigmoid(a), UNARY_SHAPES, "SiluBackward0",
           domain=(-5.0, 5.0)),
    OpInfo("F.softplus", F.softplus, _softplus, UNARY_SHAPES, "SoftplusBackward0",
           domain=(-5.0, 5.0)),
    OpInfo("F.softplus_beta", lambda a: F.softplus(a, beta=2.0, threshold=3.0),
           lambda a: _softplus(a, 2.0, 3.0), UNARY_SHAPES[:2], "SoftplusBackward0",
           domain=(-5.0, 5.0)),
    OpInfo("F.sigmoid", F.sigmoid, _sigmoid, UNARY_SHAPES, "SigmoidBackward0",
           domain=(-6.0, 6.0)),
    OpInfo("sigmoid", autodiff.sigmoid, _sigmoid, UNARY_SHAPES, "SigmoidBackward0",
           domain=(-6.0, 6.0)),
    OpInfo("softplus", autodiff.softplus, _softplus, UNARY_SHAPES[:1], "SoftplusBackward0"),
    OpInfo("F.tanh", F.tanh, np.tanh, UNARY_SHAPES, "TanhBackward0", domain=(-3.0, 3.0)),
]
