"""Elementwise ops: arithmetic, powers, exp and log, sin and cos, sigmoid and softplus. The other
elementwise families (unary, activation, comparison, selection, division) are re-exported at the
end: Tensor's methods reach them all through this module.

Broadcasting is undone by the `Function` base class, so each backward returns the gradient at
the broadcast shape. Python scalars take part as PyTorch's "wrapped numbers" (see _util.promote).
"""

from __future__ import annotations

import math
from typing import Any

from ..function import Function
from ..tensor import Tensor
from ._common import UnaryOfInput, UnaryOfOutput, require_floating, zeros_like_grad
from ._util import checked_number, default_float, promote, with_number
from .selection import where

_SCALARS = (bool, int, float)


# ----------------------------------------------------------------------------- arithmetic
class Add(Function):
    node_name = "AddBackward0"

    @staticmethod
    def forward(ctx: Any, a: Any, b: Any) -> Any:
        backend = ctx.backend
        # A float tensor with a Python float needs no promotion: skip the call (hot path).
        if type(b) is not float or a.dtype not in backend.full_precision_floating:
            a, b = promote(backend, a, b)
            if a.dtype == backend._bool:  # bool + bool is logical or, as in PyTorch
                return backend.logical_or(a, b)
            if type(b) in _SCALARS:
                return with_number(backend, backend.add, a, b)
        return backend.add(a, b)

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
        backend = ctx.backend
        # The hot path (a float tensor minus a float) needs neither promotion nor bool checks.
        if type(b) is not float or a.dtype not in backend.full_precision_floating:
            _check_bool_subtraction(backend, a, b)  # before promotion turns bools into numbers
            a, b = promote(backend, a, b)
            if type(b) in _SCALARS:
                return with_number(backend, backend.subtract, a, b)
        return backend.subtract(a, b)

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
        if type(number) is bool or a.dtype == ctx.backend._bool:
            _check_bool_subtraction(ctx.backend, number, a)
        a, number = promote(ctx.backend, a, number)
        return with_number(ctx.backend, ctx.backend.subtract, number, a)

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> tuple[Tensor, None]:
        return -grad, None


def rsub(input: Tensor, other: Any) -> Tensor:
    """other - input."""
    if isinstance(other, Tensor):
        return Sub.apply(other, input)
    return Rsub.apply(input, other)


def _check_bool_subtraction(backend: Any, a: Any, b: Any) -> None:
    a_is_bool = type(a) is bool or (type(a) not in _SCALARS and a.dtype == backend._bool)
    b_is_bool = type(b) is bool or (type(b) not in _SCALARS and b.dtype == backend._bool)
    if a_is_bool and b_is_bool:
        raise RuntimeError(
            "Subtraction, the `-` operator, with two bool tensors is not supported. Use the `^` "
            "or `logical_xor()` operator instead."
        )
    if a_is_bool or b_is_bool:
        raise RuntimeError(
            "Subtraction, the `-` operator, with a bool tensor is not supported. If you are "
            "trying to invert a mask, use the `~` or `logical_not()` operator instead."
        )


class Mul(Function):
    node_name = "MulBackward0"

    @staticmethod
    def forward(ctx: Any, a: Any, b: Any) -> Any:
        backend = ctx.backend
        if type(b) in _SCALARS:
            ctx.scalar = b  # the gradient is grad * b: no array to save...
            ctx._saved = ()  # ...but, as in PyTorch, a second backward without retain_graph fails
            if type(b) is not bool and a.dtype in backend.full_precision_floating:
                return backend.multiply(a, b)  # the hot path: float tensor * number
        else:
            ctx.save_for_backward(a, b)
        a, b = promote(backend, a, b)
        if a.dtype == backend._bool:  # bool * bool is logical and, as in PyTorch
            return backend.logical_and(a, b)
        if type(b) in _SCALARS:
            return with_number(backend, backend.multiply, a, b)
        return backend.multiply(a, b)

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> tuple[Tensor | None, Tensor | None]:
        if not ctx._saved:
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
            ctx._saved = ()  # freed by backward like any saved tensor (see Mul)
            # An integer tensor over a number divides in the default float dtype (before
            # promotion, which would wrap the number into the integer dtype's range).
            a = default_float(ctx.backend, a)
        else:
            ctx.save_for_backward(a, b)
        a, b = promote(ctx.backend, a, b)
        if a.dtype not in ctx.backend._floating:  # true division of integers (a is an array)
            a = default_float(ctx.backend, a)
            if type(b) not in _SCALARS:
                b = default_float(ctx.backend, b)
        if type(b) in _SCALARS:
            return with_number(ctx.backend, ctx.backend.divide, a, b)
        return ctx.backend.divide(a, b)

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> tuple[Tensor | None, Tensor | None]:
        if not ctx._saved:
            return grad / ctx.scalar, None
        a, b = ctx.saved_tensors
        needs_a, needs_b = ctx.needs_input_grad
        grad_a = grad / b if needs_a else None
        # PyTorch's -grad * ((a / b) / b): it overflows only where the result does (b * b
        # leaves float32's range for |b| beyond 1e19 or below 1e-19).
        grad_b = -grad * ((a / b) / b) if needs_b else None
        return grad_a, grad_b


def div(input: Any, other: Any, *, rounding_mode: str | None = None) -> Tensor:
    if rounding_mode is not None:
        if rounding_mode not in ("trunc", "floor"):
            raise RuntimeError(
                "div expected rounding_mode to be one of None, 'trunc', or 'floor' but found "
                f"'{rounding_mode}'"
            )
        return _division.div_rounded(input, other, rounding_mode)
    if not isinstance(input, Tensor):
        return rdiv(other, input)
    return Div.apply(input, other)


divide = div


def true_divide(input: Any, other: Any) -> Tensor:
    return div(input, other)


def rdiv(input: Tensor, other: Any) -> Tensor:
    """other / input; a number over a tensor is `reciprocal(input) * number`, as in PyTorch."""
    if isinstance(other, Tensor):
        return Div.apply(other, input)
    return mul(reciprocal(input), other)


class Neg(Function):
    node_name = "NegBackward0"

    @staticmethod
    def forward(ctx: Any, a: Any) -> Any:
        try:
            return ctx.backend.negative(a)
        except TypeError:
            if a.dtype == ctx.backend._bool:
                raise RuntimeError(
                    "Negation, the `-` operator, on a bool tensor is not supported. If you are "
                    "trying to invert a mask, use the `~` or `logical_not()` operator instead."
                ) from None
            raise

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
        backend = ctx.backend
        if type(exponent) is int and a.dtype not in backend._floating and a.dtype != backend._bool:
            if exponent < 0:  # checked on the number as given (promotion would wrap it)
                raise RuntimeError("Integers to negative integer powers are not allowed.")
            exponent = checked_number(exponent, backend.dtype_name(a))
        a, exponent = promote(backend, a, exponent)
        if a.dtype not in backend._floating:
            if type(exponent) is int and exponent < 0:
                raise RuntimeError("Integers to negative integer powers are not allowed.")
            if a.dtype == backend._bool:  # bool ** bool: a when True, all True when False
                return backend.logical_or(a, not exponent)
        return backend.pow(a, exponent)

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> tuple[Tensor, None]:
        a, = ctx.saved_tensors
        exponent = ctx.exponent
        if exponent == 0:  # PyTorch: zeros, even where a ** -1 is infinite
            return zeros_like_grad(grad), None
        return grad * (exponent * a ** (exponent - 1)), None


class Pow(Function):
    """tensor ** tensor."""

    node_name = "PowBackward1"

    @staticmethod
    def forward(ctx: Any, a: Any, b: Any) -> Any:
        backend = ctx.backend
        a, b = promote(backend, a, b)
        if a.dtype == backend._bool:
            raise _pow_bool_error()
        out = backend.pow(a, b) if a.dtype in backend._floating else _integer_pow(backend, a, b)
        ctx.save_for_backward(a, b, out)
        return out

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> tuple[Tensor | None, Tensor | None]:
        a, b, out = ctx.saved_tensors
        needs_a, needs_b = ctx.needs_input_grad
        grad_a = grad_b = None
        if needs_a:  # PyTorch takes 0 where b == 0 (not 0 * inf at a == 0)
            grad_a = where(b == 0, 0.0, grad * (b * a ** (b - 1)))
        if needs_b:
            # d/db a**b = a**b log(a). At a == 0 PyTorch takes 0 where b >= 0 and
            # inf * log(0) = -inf where b < 0; log(1) stands in for log(0) so nothing warns.
            at_zero = a == 0
            factor = where(at_zero, where(b >= 0, 0.0, -math.inf),
                           out * log(where(at_zero, 1.0, a)))
            grad_b = grad * factor
        return grad_a, grad_b


class RPow(Function):
    """number ** tensor."""

    node_name = "PowBackward2"

    @staticmethod
    def forward(ctx: Any, a: Any, base: Any) -> Any:
        ctx.base = base
        a, base = promote(ctx.backend, a, base)
        if a.dtype == ctx.backend._bool:
            raise _pow_bool_error()
        if type(base) is int and a.dtype not in ctx.backend._floating:
            backend = ctx.backend
            out = _integer_pow(backend, backend.full(a.shape, base, backend.dtype_name(a)), a)
        else:
            out = ctx.backend.pow(base, a)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> tuple[Tensor, None]:
        out, = ctx.saved_tensors
        base = ctx.base
        if base == 0:
            # out * log(0): 0 where the exponent is >= 0 (PyTorch's choice), -inf where it is
            # negative (out is inf there).
            return grad * where(out == 0, 0.0, where(out == 1, 0.0, -math.inf)), None
        return grad * (out * (math.log(base) if base > 0 else math.nan)), None


def _integer_pow(backend: Any, a: Any, b: Any) -> Any:
    """a ** b for integer arrays as PyTorch computes it: a negative exponent gives what integer
    arithmetic would (1 for a base of 1, -1 or 1 for -1 by the exponent's parity, 0 for every
    other base, 0 included), where NumPy raises a ValueError."""
    negative = backend.less(b, 0)
    if not bool(backend.any(negative)):
        return backend.pow(a, b)
    out = backend.pow(a, backend.where(negative, backend.zeros_like(b), b))
    dtype = backend.dtype_name(out)
    odd = backend.astype(backend.not_equal(backend.remainder(b, 2), 0), dtype)
    is_one = backend.astype(backend.equal(a, 1), dtype)
    is_minus_one = backend.astype(backend.equal(a, -1), dtype)
    reciprocal = is_one + is_minus_one * (1 - 2 * odd)  # 1 / a where that is an integer
    return backend.where(negative, reciprocal, out)


def _pow_bool_error() -> NotImplementedError:
    return NotImplementedError('"pow" not implemented for \'Bool\'')


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


def square(input: Tensor) -> Tensor:
    """input ** 2 (PyTorch records it as PowBackward0; a bool squares to int64)."""
    return PowScalar.apply(input, 2)


class Sqrt(UnaryOfOutput):
    node_name = "SqrtBackward0"
    kernel = "sqrt"

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> Tensor:
        out, = ctx.saved_tensors
        return grad / (2 * out)


def sqrt(input: Tensor) -> Tensor:
    return Sqrt.apply(input)


class Rsqrt(Function):
    node_name = "RsqrtBackward0"

    @staticmethod
    def forward(ctx: Any, a: Any) -> Any:
        out = ctx.backend.divide(1.0, ctx.backend.sqrt(default_float(ctx.backend, a)))
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> Tensor:
        out, = ctx.saved_tensors
        return grad * (out * out * out * -0.5)


def rsqrt(input: Tensor) -> Tensor:
    return Rsqrt.apply(input)


# ----------------------------------------------------------------------------- exp and log
class Exp(UnaryOfOutput):
    node_name = "ExpBackward0"
    kernel = "exp"

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> Tensor:
        out, = ctx.saved_tensors
        return grad * out


def exp(input: Tensor) -> Tensor:
    return Exp.apply(input)


class Log(UnaryOfInput):
    node_name = "LogBackward0"
    kernel = "log"

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> Tensor:
        a, = ctx.saved_tensors
        return grad / a


def log(input: Tensor) -> Tensor:
    return Log.apply(input)


# ----------------------------------------------------------------------------- trigonometry
class Sin(UnaryOfInput):
    node_name = "SinBackward0"
    kernel = "sin"

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> Tensor:
        a, = ctx.saved_tensors
        return grad * cos(a)


def sin(input: Tensor) -> Tensor:
    return Sin.apply(input)


class Cos(UnaryOfInput):
    node_name = "CosBackward0"
    kernel = "cos"

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> Tensor:
        a, = ctx.saved_tensors
        return grad * -sin(a)


def cos(input: Tensor) -> Tensor:
    return Cos.apply(input)


# ----------------------------------------------------------------------------- activations
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


def softplus(input: Tensor, beta: float = 1.0, threshold: float = 20.0) -> Tensor:
    return Softplus.apply(input, beta=beta, threshold=threshold)


# The other elementwise families, re-exported: Tensor's methods reach every elementwise op
# through this module. (Imported last: they build on the ops above.)
from . import division as _division  # noqa: E402
from .activation import elu, gelu, leaky_relu, relu, silu  # noqa: E402, F401
from .comparison import (  # noqa: E402, F401
    allclose,
    bitwise_and,
    bitwise_not,
    bitwise_or,
    bitwise_xor,
    eq,
    equal,
    ge,
    greater,
    greater_equal,
    gt,
    invert,
    isclose,
    isfinite,
    isinf,
    isnan,
    le,
    less,
    less_equal,
    logical_and,
    logical_not,
    logical_or,
    logical_xor,
    lt,
    ne,
    not_equal,
)
from .division import floor_divide, remainder  # noqa: E402, F401
from .selection import clamp, clamp_max, clamp_min, clip, lerp, maximum, minimum  # noqa: E402, F401
from .unary import (  # noqa: E402, F401
    abs,
    absolute,
    acos,
    arccos,
    arcsin,
    arctan,
    arctan2,
    asin,
    atan,
    atan2,
    ceil,
    cosh,
    erf,
    expm1,
    fix,
    floor,
    log1p,
    log2,
    log10,
    round,
    sign,
    sinh,
    tan,
    tanh,
    trunc,
)
