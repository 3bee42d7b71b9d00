"""Op table entries: activations (`autodiff.nn.functional` and their Tensor forms)."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

import autodiff
import autodiff.nn.functional as F

from .info import UNARY_SHAPES, OpInfo, Sample

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


_SELU_ALPHA = 1.6732632423543772848170429916717
_SELU_SCALE = 1.0507009873554804934193349852946


def _hardsigmoid(x: np.ndarray) -> np.ndarray:
    return np.clip(x / 6 + 0.5, 0.0, 1.0)


def _softshrink(x: np.ndarray, lambd: float = 0.5) -> np.ndarray:
    return np.where(x > lambd, x - lambd, np.where(x < -lambd, x + lambd, 0.0))


def _glu(x: np.ndarray, axis: int = -1) -> np.ndarray:
    first, second = np.split(x, 2, axis=axis)
    return first * _sigmoid(second)


def _prelu(x: np.ndarray, w: np.ndarray) -> np.ndarray:
    shape = [1] * x.ndim
    if x.ndim > 1:
        shape[1] = w.size
    return np.where(x > 0, x, w.reshape(shape) * x)


def _softmin(x: np.ndarray, axis: int) -> np.ndarray:
    shifted = -x - (-x).max(axis=axis, keepdims=True)
    return np.exp(shifted) / np.exp(shifted).sum(axis=axis, keepdims=True)


def _seeded(function: Callable[..., autodiff.Tensor]) -> Callable[..., autodiff.Tensor]:
    """A random op made repeatable: the same draws on every call (gradcheck calls it often),
    drawn in float64 whatever the input's dtype (so the reference can draw them too)."""

    def call(a: autodiff.Tensor) -> autodiff.Tensor:
        autodiff.manual_seed(0)
        return function(a.double()).to(a.dtype)

    return call


def _rrelu_noise(shape: tuple[int, ...], device: Any, lower: float = 1 / 8,
                 upper: float = 1 / 3) -> np.ndarray:
    """The slopes rrelu draws after manual_seed(0), for the reference (every slope of a
    negative element lies in [lower, upper], which test_activations checks by itself)."""
    autodiff.manual_seed(0)
    draws = autodiff.rand(shape, dtype=autodiff.float64, device=device)
    return (draws * (upper - lower) + lower).cpu().numpy()


def _gumbel_softmax(x: np.ndarray, tau: float, hard: bool = False, axis: int = -1) -> np.ndarray:
    """The reference draws the same uniforms as the op after manual_seed(0), in float64."""
    autodiff.manual_seed(0)
    uniform = autodiff.rand(x.shape, dtype=autodiff.float64).numpy()
    gumbels = -np.log(np.maximum(-np.log1p(-uniform), np.finfo(np.float64).tiny))
    soft = np.exp(_log_softmax((x + gumbels) / tau, axis))
    if not hard:
        return soft
    return (soft == soft.max(axis=axis, keepdims=True)).astype(np.float64)


def _log_softmax(x: np.ndarray, axis: int) -> np.ndarray:
    if x.size == 0:
        return x
    shifted = x - x.max(axis=axis, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=axis, keepdims=True))


def _generator_noise(shape: tuple[int, ...], lower: float, upper: float) -> np.ndarray:
    """The slopes rrelu draws from a CPU Generator seeded with 0, in float64."""
    draws = autodiff.rand(shape, dtype=autodiff.float64,
                          generator=autodiff.Generator().manual_seed(0)).numpy()
    return draws * (upper - lower) + lower


def _in_place(function: Callable[..., autodiff.Tensor]) -> Callable[..., autodiff.Tensor]:
    """function applied in place to a copy of the input (so the leaf is never modified)."""

    def call(a: autodiff.Tensor, *others: autodiff.Tensor) -> autodiff.Tensor:
        out = a * 1
        result = function(out, *others)
        assert result is out
        return out

    return call


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
    # the ELU family, with the in-place forms' own nodes
    OpInfo("F.elu_", _in_place(F.elu_), _elu, UNARY_SHAPES, "EluBackward1"),
    OpInfo("F.elu_inplace", _in_place(lambda a: F.elu(a, 0.7, inplace=True)),
           lambda a: _elu(a, 0.7), UNARY_SHAPES[:1], "EluBackward1"),
    OpInfo("F.selu", F.selu, lambda a: _SELU_SCALE * _elu(a, _SELU_ALPHA), UNARY_SHAPES,
           "EluBackward0"),
    OpInfo("F.selu_", _in_place(F.selu_), lambda a: _SELU_SCALE * _elu(a, _SELU_ALPHA),
           UNARY_SHAPES[:2], "EluBackward1"),
    OpInfo("F.celu", lambda a: F.celu(a, 0.5),
           lambda a: np.where(a > 0, a, 0.5 * np.expm1(a / 0.5)), UNARY_SHAPES, "CeluBackward0"),
    OpInfo("F.celu_", _in_place(lambda a: F.celu_(a, 2.0)),
           lambda a: np.where(a > 0, a, 2.0 * np.expm1(a / 2.0)), UNARY_SHAPES[:2],
           "CeluBackward1"),
    OpInfo("F.leaky_relu_", _in_place(lambda a: F.leaky_relu_(a, 0.2)),
           lambda a: np.where(a > 0, a, 0.2 * a), UNARY_SHAPES, "LeakyReluBackward1"),
    OpInfo("F.relu_", _in_place(F.relu_), lambda a: np.maximum(a, 0), UNARY_SHAPES,
           "ReluBackward0"),
    # smooth activations
    OpInfo("F.mish", F.mish, lambda a: a * np.tanh(_softplus(a)), UNARY_SHAPES,
           "MishBackward0", domain=(-5.0, 5.0)),
    OpInfo("F.mish_inplace", _in_place(lambda a: F.mish(a, inplace=True)),
           lambda a: a * np.tanh(_softplus(a)), UNARY_SHAPES[:1], "MishBackward0"),
    OpInfo("F.logsigmoid", F.logsigmoid, lambda a: -_softplus(-a), UNARY_SHAPES,
           "LogSigmoidBackward0", domain=(-30.0, 30.0)),
    OpInfo("F.softsign", F.softsign, lambda a: a / (1 + np.abs(a)), UNARY_SHAPES,
           "DivBackward0"),
    OpInfo("F.tanhshrink", F.tanhshrink, lambda a: a - np.tanh(a), UNARY_SHAPES,
           "SubBackward0"),
    OpInfo("F.glu", F.glu, _glu, (Sample(((3, 4),)), Sample(((2, 0),)), Sample(((2, 3, 2),))),
           "GluBackward0"),
    OpInfo("F.glu_dim0", lambda a: F.glu(a, 0), lambda a: _glu(a, 0),
           (Sample(((4, 3),)), Sample(((2,),))), "GluBackward0"),
    OpInfo("F.silu_inplace", _in_place(lambda a: F.silu(a, inplace=True)),
           lambda a: a * _sigmoid(a), UNARY_SHAPES[:1], "SiluBackward0"),
    # piecewise activations
    OpInfo("F.hardtanh", F.hardtanh, lambda a: np.clip(a, -1, 1), UNARY_SHAPES,
           "HardtanhBackward0"),
    OpInfo("F.hardtanh_", _in_place(lambda a: F.hardtanh_(a, -0.5, 1.5)),
           lambda a: np.clip(a, -0.5, 1.5), UNARY_SHAPES[:2], "HardtanhBackward0"),
    OpInfo("F.relu6", F.relu6, lambda a: np.clip(a, 0, 6), UNARY_SHAPES, "HardtanhBackward0",
           domain=(-4.0, 8.0)),
    OpInfo("F.hardsigmoid", F.hardsigmoid, _hardsigmoid, UNARY_SHAPES, "HardsigmoidBackward0",
           domain=(-5.0, 5.0)),
    OpInfo("F.hardswish", F.hardswish, lambda a: a * _hardsigmoid(a), UNARY_SHAPES,
           "HardswishBackward0", domain=(-5.0, 5.0)),
    OpInfo("F.hardswish_inplace", _in_place(lambda a: F.hardswish(a, inplace=True)),
           lambda a: a * _hardsigmoid(a), UNARY_SHAPES[:1], "HardswishBackward0",
           domain=(-5.0, 5.0)),
    OpInfo("F.softshrink", F.softshrink, _softshrink, UNARY_SHAPES, "SoftshrinkBackward0"),
    OpInfo("F.hardshrink", lambda a: F.hardshrink(a, 0.3),
           lambda a: np.where(np.abs(a) > 0.3, a, 0.0), UNARY_SHAPES, "HardshrinkBackward0"),
    OpInfo("F.threshold", lambda a: F.threshold(a, 0.1, -2.0),
           lambda a: np.where(a > 0.1, a, -2.0), UNARY_SHAPES, "ThresholdBackward0"),
    OpInfo("F.threshold_", _in_place(lambda a: F.threshold_(a, 0.1, -2.0)),
           lambda a: np.where(a > 0.1, a, -2.0), UNARY_SHAPES[:2], "ThresholdBackward1"),
    OpInfo("F.prelu", F.prelu, _prelu,
           (Sample(((3, 4), (4,))), Sample(((3, 4), (1,))), Sample(((2, 3, 2), (3,))),
            Sample(((5,), (1,))), Sample(((), (1,))), Sample(((3, 4), ()))),
           "PreluKernelBackward0"),
    OpInfo("F.rrelu", F.rrelu, lambda a: np.where(a > 0, a, a * (1 / 8 + 1 / 3) / 2),
           UNARY_SHAPES, "RreluWithNoiseBackward0"),
    OpInfo("F.rrelu_training", _seeded(lambda a: F.rrelu(a, 0.1, 0.6, training=True)),
           lambda a: np.where(a > 0, a, a * _rrelu_noise(a.shape, "cpu", 0.1, 0.6)),
           UNARY_SHAPES, "RreluWithNoiseBackward0"),
    OpInfo("F.rrelu_", _in_place(lambda a: F.rrelu_(a, 0.1, 0.3)),
           lambda a: np.where(a > 0, a, a * 0.2), UNARY_SHAPES[:2], "RreluWithNoiseBackward1"),
    OpInfo("F.rrelu__training",
           _seeded(_in_place(lambda a: F.rrelu_(a, 0.1, 0.6, training=True))),
           lambda a: np.where(a > 0, a, a * _rrelu_noise(a.shape, "cpu", 0.1, 0.6)),
           UNARY_SHAPES[:2], "RreluWithNoiseBackward1"),
    # softmin, gumbel_softmax
    OpInfo("F.softmin", lambda a: F.softmin(a, 1), lambda a: _softmin(a, 1),
           (Sample(((3, 4),)), Sample(((2, 3, 2),)), Sample(((0, 3),))), "SoftmaxBackward0"),
    OpInfo("F.softmin_dtype", lambda a: F.softmin(a, 0, dtype=autodiff.float64),
           lambda a: _softmin(a, 0), (Sample(((3, 4),)),), "SoftmaxBackward0",
           out_dtype=autodiff.float64),
    OpInfo("F.gumbel_softmax", _seeded(lambda a: F.gumbel_softmax(a, tau=0.5)),
           lambda a: _gumbel_softmax(a, 0.5), (Sample(((3, 4),)), Sample(((2, 3, 2),))),
           "SoftmaxBackward0"),
    # hard: the forward is the one-hot of the soft sample's argmax, the gradient the soft
    # sample's (straight through), which central differences cannot see.
    OpInfo("F.gumbel_softmax_hard", _seeded(lambda a: F.gumbel_softmax(a, hard=True, dim=0)),
           lambda a: _gumbel_softmax(a, 1.0, hard=True, axis=0), (Sample(((3, 4),)),),
           "AddBackward0", differentiable=False),
    # the torch.* forms (no inplace=)
    OpInfo("selu", autodiff.selu, lambda a: _SELU_SCALE * _elu(a, _SELU_ALPHA), UNARY_SHAPES[:2],
           "EluBackward0"),
    OpInfo("celu", lambda a: autodiff.celu(a, 0.8),
           lambda a: np.where(a > 0, a, 0.8 * np.expm1(a / 0.8)), UNARY_SHAPES[:2],
           "CeluBackward0"),
    OpInfo("threshold", lambda a: autodiff.threshold(a, -0.2, 3.0),
           lambda a: np.where(a > -0.2, a, 3.0), UNARY_SHAPES[:2], "ThresholdBackward0"),
    OpInfo("rrelu", _seeded(lambda a: autodiff.rrelu(
               a, 0.1, 0.6, training=True, generator=autodiff.Generator(a.device).manual_seed(0))),
           lambda a: np.where(a > 0, a, a * _generator_noise(a.shape, 0.1, 0.6)), UNARY_SHAPES[:2],
           "RreluWithNoiseBackward0"),
    OpInfo("hardshrink_method", lambda a: a.hardshrink(0.25),
           lambda a: np.where(np.abs(a) > 0.25, a, 0.0), UNARY_SHAPES[:1], "HardshrinkBackward0"),
    OpInfo("prelu_method", lambda a, w: a.prelu(w), _prelu, (Sample(((3, 4), (4,))),),
           "PreluKernelBackward0"),
]
