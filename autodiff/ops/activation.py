"""Activations: sigmoid, softplus, relu, leaky_relu, gelu (exact and tanh), elu, silu. (tanh
lives in `unary`.) `autodiff.nn.functional` exposes them with PyTorch's signatures, including
`inplace=`.

Kinks take PyTorch's side: relu's gradient at 0 is 0, leaky_relu's and elu's are the negative
slope's.
"""

from __future__ import annotations

import math
from typing import Any

from ..autocast_state import autocast_op
from ..function import Function
from ..tensor import Tensor
from ._checks import not_implemented_for, require_floating
from .selection import clamp, where
from .unary import UnaryOfOutput, erf, exp, tanh

_SQRT1_2 = math.sqrt(0.5)
_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)
_TANH_BETA = math.sqrt(2.0 / math.pi)  # gelu(approximate="tanh") constants, as PyTorch's
_TANH_KAPPA = 0.044715


class Sigmoid(UnaryOfOutput):
    node_name = "SigmoidBackward0"
    kernel = "sigmoid"

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> Tensor:
        out, = ctx.saved_tensors
        return grad * out * (1 - out)


def sigmoid(input: Tensor) -> Tensor:
    return Sigmoid.apply(input)


class Softplus(Function):
    node_name = "SoftplusBackward0"

    @staticmethod
    def forward(ctx: Any, a: Any, *, beta: float, threshold: float) -> Any:
        require_floating("softplus", ctx.backend, a)
        ctx.save_for_backward(a)
        ctx.beta, ctx.threshold = beta, threshold
        backend = ctx.backend
        if beta == 1:
            out = backend.softplus(a)
        else:
            out = backend.divide(backend.softplus(backend.multiply(a, beta)), beta)
        # Above the threshold softplus is the identity (PyTorch's linear region).
        return backend.where(backend.greater(backend.multiply(a, beta), threshold), a, out)

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> Tensor:
        a, = ctx.saved_tensors
        scaled = a * ctx.beta
        return where(scaled > ctx.threshold, grad, grad * sigmoid(scaled))


@autocast_op("softplus")
def softplus(input: Tensor, beta: float = 1.0, threshold: float = 20.0) -> Tensor:
    return Softplus.apply(input, beta=beta, threshold=threshold)


class Relu(Function):
    node_name = "ReluBackward0"

    @staticmethod
    def forward(ctx: Any, a: Any) -> Any:
        backend = ctx.backend
        if backend.is_bool(a.dtype):
            raise RuntimeError("Boolean inputs not supported for relu")
        out = backend.maximum(a, 0)  # keeps NaN, as PyTorch
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> Tensor:
        out, = ctx.saved_tensors
        return ThresholdBackward.apply(grad, out)


class ThresholdBackward(Function):
    """ReLU's gradient, `where(out <= 0, 0, grad)`, as one op (PyTorch's threshold_backward):
    NaN outputs pass the gradient, and a dead unit gives exactly 0 even for an infinite grad."""

    node_name = "ThresholdBackwardBackward0"

    @staticmethod
    def forward(ctx: Any, grad: Any, out: Any) -> Any:
        backend = ctx.backend
        dead = backend.less_equal(out, 0)
        ctx.save_for_backward(dead)
        return backend.where(dead, backend.zeros_like(grad), grad)

    @staticmethod
    def backward(ctx: Any, outer: Tensor) -> tuple[Tensor, None]:
        dead, = ctx.saved_tensors
        return where(dead, 0.0, outer), None  # linear in grad; nothing flows to `out`


def relu(input: Tensor) -> Tensor:
    return Relu.apply(input)


class LeakyRelu(Function):
    node_name = "LeakyReluBackward0"

    @staticmethod
    def forward(ctx: Any, a: Any, *, negative_slope: float) -> Any:
        backend = ctx.backend
        require_floating("leaky_relu", backend, a)
        ctx.save_for_backward(a)
        ctx.negative_slope = negative_slope
        return backend.where(backend.greater(a, 0), a, backend.multiply(a, negative_slope))

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> Tensor:
        a, = ctx.saved_tensors
        return where(a > 0, grad, grad * ctx.negative_slope)


def leaky_relu(input: Tensor, negative_slope: float = 0.01) -> Tensor:
    return LeakyRelu.apply(input, negative_slope=negative_slope)


class Gelu(Function):
    node_name = "GeluBackward0"

    @staticmethod
    def forward(ctx: Any, a: Any, *, approximate: str) -> Any:
        backend = ctx.backend
        if not backend.is_floating(a.dtype):  # PyTorch names this kernel without a device
            raise not_implemented_for("GeluKernelImpl", backend, a, on_device=False)
        ctx.save_for_backward(a)
        ctx.approximate = approximate
        name = backend.dtype_name(a)
        half = name in ("float16", "bfloat16")
        x = backend.astype(a, "float32") if half else a  # float16 computes in float32
        if approximate == "tanh":
            inner = backend.multiply(backend.add(x, backend.multiply(x * x * x, _TANH_KAPPA)),
                                     _TANH_BETA)
            cdf = backend.multiply(backend.add(backend.tanh(inner), 1.0), 0.5)
        else:
            cdf = backend.multiply(backend.add(backend.erf(backend.multiply(x, _SQRT1_2)), 1.0),
                                   0.5)
        out = backend.multiply(x, cdf)
        return backend.astype(out, name) if half else out

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> Tensor:
        a, = ctx.saved_tensors
        if ctx.approximate == "tanh":
            inner = (a + a * a * a * _TANH_KAPPA) * _TANH_BETA
            tanh_inner = tanh(inner)
            left_derivative = (tanh_inner + 1) * 0.5
            right_derivative = (1 - tanh_inner * tanh_inner) * (
                (a * a * (3 * _TANH_KAPPA) + 1) * _TANH_BETA)
            return grad * (left_derivative + a * 0.5 * right_derivative)
        cdf = (erf(a * _SQRT1_2) + 1) * 0.5
        pdf = exp(a * a * -0.5) * _INV_SQRT_2PI
        return grad * (cdf + a * pdf)


def gelu(input: Tensor, approximate: str = "none") -> Tensor:
    if approximate not in ("none", "tanh"):
        raise RuntimeError("approximate argument must be either none or tanh.")
    return Gelu.apply(input, approximate=approximate)


class Elu(Function):
    node_name = "EluBackward0"

    @staticmethod
    def forward(ctx: Any, a: Any, *, alpha: float) -> Any:
        backend = ctx.backend
        require_floating("elu", backend, a)
        ctx.save_for_backward(a)
        ctx.alpha = alpha
        # expm1 of min(x, 0): accurate near 0 and no overflow for large x (that branch is x).
        negative = backend.multiply(backend.expm1(backend.minimum(a, 0)), alpha)
        return backend.where(backend.greater(a, 0), a, negative)

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> Tensor:
        a, = ctx.saved_tensors
        # d/dx alpha (exp(x) - 1) = alpha exp(x), for x <= 0 (PyTorch's side of the kink).
        return where(a <= 0, grad * (exp(clamp(a, max=0.0)) * ctx.alpha), grad)


def elu(input: Tensor, alpha: float = 1.0) -> Tensor:
    return Elu.apply(input, alpha=alpha)


class Silu(Function):
    node_name = "SiluBackward0"

    @staticmethod
    def forward(ctx: Any, a: Any) -> Any:
        backend = ctx.backend
        require_floating("silu", backend, a)
        ctx.save_for_backward(a)
        return backend.multiply(a, backend.sigmoid(a))

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> Tensor:
        a, = ctx.saved_tensors
        sig = sigmoid(a)
        return grad * (sig * (1 + a * (1 - sig)))


def silu(input: Tensor) -> Tensor:
    return Silu.apply(input)
