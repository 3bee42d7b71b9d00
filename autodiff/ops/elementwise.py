"""Elementwise ops: arithmetic, powers, exponentials, trigonometry, activations, comparisons.

Broadcasting is undone by the `Function` base class, so each backward returns the gradient at
the broadcast shape. Python scalars take part as PyTorch's "wrapped numbers" (see _util.promote).
"""

from __future__ import annotations

from typing import Any

from ..function import Function
from ..tensor import Tensor, _wrap
from ._util import default_float, promote

_SCALARS = (bool, int, float)


# ----------------------------------------------------------------------------- arithmetic
class Add(Function):
    node_name = "AddBackward0"

    @staticmethod
    def forward(ctx: Any, a: Any, b: Any) -> Any:
        # A float tensor with a Python number needs no promotion: skip the call (hot path).
        if type(b) not in _SCALARS or a.dtype not in ctx.backend._floating:
            a, b = promote(ctx.backend, a, b)
        return ctx.backend.add(a, b)

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> tuple[Tensor, Tensor]:
        return grad, grad


def add(input: Any, other: Any, *, alpha: Any = 1) -> Tensor:
    if alpha != 1:
        other = mul(other, alpha) if isinstance(other, Tensor) else other * alpha
    if not isinstance(input, Tensor):
        input, other = other, input  # a Python number first: addition commutes
    return Add.apply(input, other)


class Sub(Function):
    node_name = "SubBackward0"

    @staticmethod
    def forward(ctx: Any, a: Any, b: Any) -> Any:
        a, b = promote(ctx.backend, a, b)
        return ctx.backend.subtract(a, b)

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> tuple[Tensor, Tensor | None]:
        return grad, (-grad if ctx.needs_input_grad[1] else None)


def sub(input: Any, other: Any, *, alpha: Any = 1) -> Tensor:
    if alpha != 1:
        other = mul(other, alpha) if isinstance(other, Tensor) else other * alpha
    if not isinstance(input, Tensor):
        return rsub(other, input)
    return Sub.apply(input, other)


class Rsub(Function):
    """`number - tensor`."""

    node_name = "RsubBackward1"

    @staticmethod
    def forward(ctx: Any, a: Any, number: Any) -> Any:
        a, number = promote(ctx.backend, a, number)
        return ctx.backend.subtract(number, a)

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> tuple[Tensor, None]:
        return -grad, None


def rsub(input: Tensor, other: Any) -> Tensor:
    """other - input."""
    if isinstance(other, Tensor):
        return Sub.apply(other, input)
    return Rsub.apply(input, other)


class Mul(Function):
    node_name = "MulBackward0"

    @staticmethod
    def forward(ctx: Any, a: Any, b: Any) -> Any:
        if type(b) in _SCALARS:
            ctx.scalar = b  # nothing to save: the gradient is grad * b
            if a.dtype not in ctx.backend._floating:
                a, b = promote(ctx.backend, a, b)
        else:
            ctx.save_for_backward(a, b)
            a, b = promote(ctx.backend, a, b)
        return ctx.backend.multiply(a, b)

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> tuple[Tensor | None, Tensor | None]:
        if ctx._saved is None:
            return grad * ctx.scalar, None
        a, b = ctx.saved_tensors
        needs_a, needs_b = ctx.needs_input_grad
        return (grad * b if needs_a else None), (grad * a if needs_b else None)


def mul(input: Any, other: Any) -> Tensor:
    if not isinstance(input, Tensor):
        input, other = other, input
    return Mul.apply(input, other)


class Div(Function):
    node_name = "DivBackward0"

    @staticmethod
    def forward(ctx: Any, a: Any, b: Any) -> Any:
        if type(b) in _SCALARS:
            ctx.scalar = b
        else:
            ctx.save_for_backward(a, b)
        a, b = promote(ctx.backend, a, b)
        if type(a) is not float and type(b) is not float:  # true division of integers
            a = default_float(ctx.backend, a) if not isinstance(a, (int, bool)) else float(a)
        return ctx.backend.divide(a, b)

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> tuple[Tensor | None, Tensor | None]:
        if ctx._saved is None:
            return grad / ctx.scalar, None
        a, b = ctx.saved_tensors
        needs_a, needs_b = ctx.needs_input_grad
        grad_a = grad / b if needs_a else None
        grad_b = -grad * a / (b * b) if needs_b else None
        return grad_a, grad_b


def div(input: Any, other: Any, *, rounding_mode: str | None = None) -> Tensor:
    if rounding_mode is not None:
        raise NotImplementedError("div(rounding_mode=...) is not supported; use floor_divide")
    if not isinstance(input, Tensor):
        return rdiv(other, input)
    return Div.apply(input, other)


def rdiv(input: Tensor, other: Any) -> Tensor:
    """other / input; a number over a tensor is `reciprocal(input) * number`, as in PyTorch."""
    if isinstance(other, Tensor):
        return Div.apply(other, input)
    return mul(reciprocal(input), other)


class Neg(Function):
    node_name = "NegBackward0"

    @staticmethod
    def forward(ctx: Any, a: Any) -> Any:
        return ctx.backend.negative(a)

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> Tensor:
        return -grad


def neg(input: Tensor) -> Tensor:
    return Neg.apply(input)


negative = neg


class Reciprocal(Function):
    node_name = "ReciprocalBackward0"

    @staticmethod
    def forward(ctx: Any, a: Any) -> Any:
        out = ctx.backend.divide(1.0, default_float(ctx.backend, a))
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> Tensor:
        out, = ctx.saved_tensors
        return -grad * out * out


def reciprocal(input: Tensor) -> Tensor:
    return Reciprocal.apply(input)


# ----------------------------------------------------------------------------- powers
class PowScalar(Function):
    """tensor ** number."""

    node_name = "PowBackward0"

    @staticmethod
    def forward(ctx: Any, a: Any, exponent: Any) -> Any:
        ctx.save_for_backward(a)
        ctx.exponent = exponent
        a, exponent = promote(ctx.backend, a, exponent)
        if type(exponent) is int and exponent < 0 and a.dtype not in ctx.backend._floating:
            raise RuntimeError("Integers to negative integer powers are not allowed.")
        return ctx.backend.pow(a, exponent)

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> tuple[Tensor, None]:
        a, = ctx.saved_tensors
        exponent = ctx.exponent
        if exponent == 0:
            return grad * 0, None
        return grad * (exponent * a ** (exponent - 1)), None


class Pow(Function):
    """tensor ** tensor."""

    node_name = "PowBackward1"

    @staticmethod
    def forward(ctx: Any, a: Any, b: Any) -> Any:
        a, b = promote(ctx.backend, a, b)
        out = ctx.backend.pow(a, b)
        ctx.save_for_backward(a, b, out)
        return out

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> tuple[Tensor | None, Tensor | None]:
        a, b, out = ctx.saved_tensors
        needs_a, needs_b = ctx.needs_input_grad
        grad_a = grad * b * a ** (b - 1) if needs_a else None
        grad_b = None
        if needs_b:
            # d/db a**b = a**b log(a); PyTorch takes 0 where a == 0 and b >= 0 (not nan).
            safe = where((a == 0) & (b >= 0), 0.0, grad * out * log(a))
            grad_b = safe
        return grad_a, grad_b


class RPow(Function):
    """number ** tensor."""

    node_name = "PowBackward2"

    @staticmethod
    def forward(ctx: Any, a: Any, base: Any) -> Any:
        ctx.base = base
        a, base = promote(ctx.backend, a, base)
        if type(base) is int and a.dtype not in ctx.backend._floating:
            out = ctx.backend.pow(ctx.backend.full(a.shape, base, ctx.backend.dtype_name(a)), a)
        else:
            out = ctx.backend.pow(base, a)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> tuple[Tensor, None]:
        out, = ctx.saved_tensors
        base = ctx.base
        if base == 0:  # log(0) = -inf; PyTorch's gradient of 0 ** x is 0
            return grad * 0, None
        return grad * out * _math_log(base), None


def pow(input: Any, exponent: Any) -> Tensor:
    if not isinstance(input, Tensor):
        return rpow(exponent, input)
    if isinstance(exponent, Tensor):
        return Pow.apply(input, exponent)
    return PowScalar.apply(input, exponent)


def rpow(input: Tensor, base: Any) -> Tensor:
    """base ** input."""
    if isinstance(base, Tensor):
        return Pow.apply(base, input)
    return RPow.apply(input, base)


def _math_log(value: float) -> float:
    import math

    return math.log(value)


# ----------------------------------------------------------------------------- exp and log
class Exp(Function):
    node_name = "ExpBackward0"

    @staticmethod
    def forward(ctx: Any, a: Any) -> Any:
        out = ctx.backend.exp(default_float(ctx.backend, a))
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> Tensor:
        out, = ctx.saved_tensors
        return grad * out


def exp(input: Tensor) -> Tensor:
    return Exp.apply(input)


class Log(Function):
    node_name = "LogBackward0"

    @staticmethod
    def forward(ctx: Any, a: Any) -> Any:
        ctx.save_for_backward(a)
        return ctx.backend.log(default_float(ctx.backend, a))

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> Tensor:
        a, = ctx.saved_tensors
        return grad / a


def log(input: Tensor) -> Tensor:
    return Log.apply(input)


# ----------------------------------------------------------------------------- trigonometry
class Sin(Function):
    node_name = "SinBackward0"

    @staticmethod
    def forward(ctx: Any, a: Any) -> Any:
        ctx.save_for_backward(a)
        return ctx.backend.sin(default_float(ctx.backend, a))

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> Tensor:
        a, = ctx.saved_tensors
        return grad * cos(a)


def sin(input: Tensor) -> Tensor:
    return Sin.apply(input)


class Cos(Function):
    node_name = "CosBackward0"

    @staticmethod
    def forward(ctx: Any, a: Any) -> Any:
        ctx.save_for_backward(a)
        return ctx.backend.cos(default_float(ctx.backend, a))

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> Tensor:
        a, = ctx.saved_tensors
        return grad * -sin(a)


def cos(input: Tensor) -> Tensor:
    return Cos.apply(input)


# ----------------------------------------------------------------------------- activations
class Sigmoid(Function):
    node_name = "SigmoidBackward0"

    @staticmethod
    def forward(ctx: Any, a: Any) -> Any:
        out = ctx.backend.sigmoid(default_float(ctx.backend, a))
        ctx.save_for_backward(out)
        return out

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


def softplus(input: Tensor, beta: float = 1.0, threshold: float = 20.0) -> Tensor:
    return Softplus.apply(input, beta=beta, threshold=threshold)


class Clamp(Function):
    """clamp with number bounds; the gradient passes where min <= x <= max."""

    node_name = "ClampBackward1"

    @staticmethod
    def forward(ctx: Any, a: Any, *, min: Any, max: Any) -> Any:
        ctx.save_for_backward(a)
        ctx.bounds = (min, max)
        if a.dtype not in ctx.backend._floating and (type(min) is float or type(max) is float):
            a = default_float(ctx.backend, a)
        return ctx.backend.clip(a, min, max)

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> Tensor:
        a, = ctx.saved_tensors
        low, high = ctx.bounds
        mask = None
        if low is not None:
            mask = a >= low
        if high is not None:
            mask = (a <= high) if mask is None else mask & (a <= high)
        return grad * mask


def clamp(input: Tensor, min: Any = None, max: Any = None) -> Tensor:
    if min is None and max is None:
        raise RuntimeError("torch.clamp: At least one of 'min' or 'max' must not be None")
    if isinstance(min, Tensor) or isinstance(max, Tensor):
        return _clamp_tensor(input, min, max)
    return Clamp.apply(input, min=min, max=max)


clip = clamp


def _clamp_tensor(input: Tensor, min: Any, max: Any) -> Tensor:
    out = input
    if min is not None:
        out = maximum(out, min)
    if max is not None:
        out = minimum(out, max)
    return out


class Maximum(Function):
    node_name = "MaximumBackward0"

    @staticmethod
    def forward(ctx: Any, a: Any, b: Any) -> Any:
        ctx.save_for_backward(a, b)
        a, b = promote(ctx.backend, a, b)
        return ctx.backend.maximum(a, b)

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> tuple[Tensor | None, Tensor | None]:
        a, b = ctx.saved_tensors
        # Ties split the gradient evenly, as PyTorch does.
        weight_a = (a > b) + (a == b) * 0.5
        needs_a, needs_b = ctx.needs_input_grad
        return (grad * weight_a if needs_a else None), (grad * (1 - weight_a) if needs_b else None)


def maximum(input: Tensor, other: Any) -> Tensor:
    return Maximum.apply(input, other)


class Minimum(Function):
    node_name = "MinimumBackward0"

    @staticmethod
    def forward(ctx: Any, a: Any, b: Any) -> Any:
        ctx.save_for_backward(a, b)
        a, b = promote(ctx.backend, a, b)
        return ctx.backend.minimum(a, b)

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> tuple[Tensor | None, Tensor | None]:
        a, b = ctx.saved_tensors
        weight_a = (a < b) + (a == b) * 0.5
        needs_a, needs_b = ctx.needs_input_grad
        return (grad * weight_a if needs_a else None), (grad * (1 - weight_a) if needs_b else None)


def minimum(input: Tensor, other: Any) -> Tensor:
    return Minimum.apply(input, other)


# ----------------------------------------------------------------------------- selection
class Where(Function):
    node_name = "WhereBackward0"

    @staticmethod
    def forward(ctx: Any, condition: Any, a: Any, b: Any) -> Any:
        ctx.save_for_backward(condition)
        a, b = promote(ctx.backend, a, b)
        backend = ctx.backend
        if type(a) in (int, float, bool) and type(b) in (int, float, bool):
            a = backend.full(condition.shape, a, "float32" if isinstance(a, float) else "int64")
        return backend.where(condition, a, b)

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> tuple[None, Tensor | None, Tensor | None]:
        condition, = ctx.saved_tensors
        _, needs_a, needs_b = ctx.needs_input_grad
        zero = grad * 0 if (needs_a or needs_b) else None
        return (
            None,
            where(condition, grad, zero) if needs_a else None,
            where(condition, zero, grad) if needs_b else None,
        )


def where(condition: Tensor, input: Any, other: Any) -> Tensor:
    return Where.apply(condition, input, other)


# ----------------------------------------------------------------------------- comparisons
# Not differentiable: they compute on the arrays and return a bool Tensor outside the graph.
def _compare(name: str, input: Tensor, other: Any) -> Tensor:
    backend = input._backend
    if isinstance(other, Tensor):
        if other._backend is not backend:
            from ..function import _raise_device_mismatch

            _raise_device_mismatch(backend, other._backend)
        other = other._data
    a, b = promote(backend, input._data, other)
    return _wrap(getattr(backend, name)(a, b), backend)


def eq(input: Tensor, other: Any) -> Tensor:
    return _compare("equal", input, other)


def ne(input: Tensor, other: Any) -> Tensor:
    return _compare("not_equal", input, other)


def gt(input: Tensor, other: Any) -> Tensor:
    return _compare("greater", input, other)


def ge(input: Tensor, other: Any) -> Tensor:
    return _compare("greater_equal", input, other)


def lt(input: Tensor, other: Any) -> Tensor:
    return _compare("less", input, other)


def le(input: Tensor, other: Any) -> Tensor:
    return _compare("less_equal", input, other)


def logical_and(input: Tensor, other: Tensor) -> Tensor:
    backend = input._backend
    return _wrap(backend.logical_and(input._data, other._data), backend)


def logical_or(input: Tensor, other: Tensor) -> Tensor:
    backend = input._backend
    return _wrap(backend.logical_or(input._data, other._data), backend)


def logical_not(input: Tensor) -> Tensor:
    backend = input._backend
    return _wrap(backend.logical_not(input._data), backend)


def isnan(input: Tensor) -> Tensor:
    return _wrap(input._backend.isnan(input._data), input._backend)
