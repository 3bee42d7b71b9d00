"""Arithmetic: add, sub, mul, div (true division; the rounding modes are in `division`), neg,
reciprocal, pow and square, addcmul and addcdiv.

Broadcasting is undone by the `Function` base class, so each backward returns the gradient at
the broadcast shape. Python scalars take part as PyTorch's "wrapped numbers" (see
_promotion.promote).
"""

from __future__ import annotations

import cmath
import math
from typing import Any

from ..autocast_state import autocast_op
from ..creation import zeros_like
from ..flop_counts import elementwise_flops
from ..function import Function
from ..grad_mode import state as _grad_state
from ..hot_path import modes as _modes
from ..jvp_rules import auto_element_wise
from ..layout_dispatch import layout_data
from ..saved_fields import fields, saved, saved_or_number, value
from ..tensor import Tensor, _wrap
from . import division
from ._checks import require_tensors
from ._out import CAST, SAME, takes_out
from ._promotion import cast_operand, checked_number, default_float, promote, with_number
from .holomorphic import Holomorphic
from .selection import where
from .sparse_compressed import CompressedAdd, CompressedMulForm, UnsupportedLayout
from .sparse_coo import OnValues
from .sparse_elementwise import SparseAdd, SparseMul, SparseNeg, SparseSub
from .unary import log

_SCALARS = (bool, int, float, complex)
_REAL_NUMBERS = (int, float)


# ----------------------------------------------------------------------------- arithmetic
class Add(Function):
    node_name = "AddBackward0"
    saved_fields = fields(alpha=value("alpha", default=1))
    sparse_form = SparseAdd
    compressed_form = CompressedAdd

    @staticmethod
    def count_flops(args: tuple[Any, ...], kwargs: dict[str, Any]) -> int:
        return elementwise_flops(args[0])

    jvp = auto_element_wise

    @staticmethod
    def forward(ctx: Any, a: Any, b: Any, *, alpha: Any = 1) -> Any:
        backend = ctx.backend
        if alpha != 1 or alpha is True:  # a + alpha * b in the result's dtype, one node
            ctx.alpha = alpha
            a, b = _scaled_by_alpha(backend, a, b, alpha)
        # A float tensor with a Python float needs no promotion: skip the call (hot path). The
        # arithmetic forwards read the backend's dtype sets, not its predicates: one call less.
        # float16 is not on it: PyTorch computes it with a number in float32 (`with_number`).
        if type(b) is not float or a.dtype not in backend.full_precision_floating:
            a, b = promote(backend, a, b)
            if a.dtype == backend.bool_dtype:  # bool + bool is logical or, as in PyTorch
                return backend.logical_or(a, b)
            if type(b) in _SCALARS:
                return with_number(backend, backend.add, a, b)
        return backend.add(a, b)

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> tuple[Tensor, Tensor]:
        alpha = getattr(ctx, "alpha", 1)
        if alpha != 1 and ctx.needs_input_grad[1]:
            return grad, grad * _conj(alpha)
        return grad, grad


def _scaled_by_alpha(backend: Any, a: Any, b: Any, alpha: Any) -> tuple[Any, Any]:
    """The promoted operands of `a + alpha * b`, b already times alpha; PyTorch's checks of
    alpha against the result's dtype first."""
    a, b = promote(backend, a, b)
    dtype = b.dtype if type(b) not in _SCALARS else a.dtype
    if type(alpha) is bool and not backend.is_bool(dtype):
        raise RuntimeError("Boolean alpha only supported for Boolean results.")
    if type(alpha) is float and not (backend.is_floating(dtype) or backend.is_complex(dtype)):
        raise RuntimeError(
            "For integral input tensors, argument alpha must not be a floating point number.")
    if type(alpha) is complex and not backend.is_complex(dtype):
        raise RuntimeError(
            "For non-complex input tensors, argument alpha must not be a complex number.")
    if type(b) in _SCALARS:
        return a, cast_operand(backend, b * alpha, backend.dtype_name(a))
    return a, with_number(backend, backend.multiply, b, alpha)


def _scales_layout(input: Any, other: Any) -> bool:
    """True when a sparse or nested operand takes `add`/`sub`: its forms take `other` already
    times alpha."""
    return layout_data((input, other)) is not None


@takes_out(CAST)
def add(input: Any, other: Any, *, alpha: Any = 1) -> Tensor:
    if not isinstance(input, Tensor):
        if alpha != 1:
            other = mul(other, alpha) if isinstance(other, Tensor) else other * alpha
        return Add.apply(other, input)  # a Python number first: addition commutes
    if alpha != 1 or alpha is True:  # True == 1, but PyTorch checks a bool alpha
        if _scales_layout(input, other):
            other = mul(other, alpha) if isinstance(other, Tensor) else other * alpha
        return Add.apply(input, other, alpha=alpha)
    return Add.apply(input, other)


class Sub(Function):
    node_name = "SubBackward0"
    saved_fields = fields(alpha=value("alpha", default=1))
    sparse_form = SparseSub
    compressed_form = UnsupportedLayout()

    jvp = auto_element_wise

    @staticmethod
    def forward(ctx: Any, a: Any, b: Any, *, alpha: Any = 1) -> Any:
        backend = ctx.backend
        if alpha != 1 or alpha is True:  # a - alpha * b, one node, as in Add
            ctx.alpha = alpha
            if type(b) is not float or a.dtype not in backend.full_precision_floating:
                _check_bool_subtraction(backend, a, b)
            a, b = _scaled_by_alpha(backend, a, b, alpha)
        # The hot path (a float tensor minus a float) needs neither promotion nor bool checks.
        if type(b) is not float or a.dtype not in backend.full_precision_floating:
            _check_bool_subtraction(backend, a, b)  # before promotion turns bools into numbers
            a, b = promote(backend, a, b)
            if type(b) in _SCALARS:
                return with_number(backend, backend.subtract, a, b)
        return backend.subtract(a, b)

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> tuple[Tensor, Tensor | None]:
        if not ctx.needs_input_grad[1]:
            return grad, None
        alpha = getattr(ctx, "alpha", 1)
        return grad, (-grad if alpha == 1 else grad * -_conj(alpha))


@takes_out(CAST)
def sub(input: Any, other: Any, *, alpha: Any = 1) -> Tensor:
    if not isinstance(input, Tensor):
        if alpha != 1:
            other = mul(other, alpha) if isinstance(other, Tensor) else other * alpha
        return rsub(other, input)
    if alpha != 1 or alpha is True:  # True == 1, but PyTorch checks a bool alpha
        if _scales_layout(input, other):
            other = mul(other, alpha) if isinstance(other, Tensor) else other * alpha
        return Sub.apply(input, other, alpha=alpha)
    return Sub.apply(input, other)


subtract = sub


class Rsub(Function):
    """`number - alpha * tensor`: PyTorch's Scalar overload, one edge (the tensor's)."""

    node_name = "RsubBackward1"
    saved_fields = fields(alpha=value("alpha", default=1))
    compressed_form = UnsupportedLayout()

    jvp = auto_element_wise

    @staticmethod
    def forward(ctx: Any, a: Any, *, other: Any, alpha: Any = 1) -> Any:
        backend = ctx.backend
        if type(other) is bool or backend.is_bool(a.dtype):
            _check_bool_subtraction(backend, other, a)
        if alpha != 1 or alpha is True:
            ctx.alpha = alpha
            number, a = _scaled_by_alpha(backend, other, a, alpha)
            return backend.subtract(number, a) if type(number) not in _SCALARS else (
                with_number(backend, backend.subtract, number, a))
        a, number = promote(backend, a, other)
        return with_number(backend, backend.subtract, number, a)

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> Tensor:
        alpha = getattr(ctx, "alpha", 1)
        return -grad if alpha == 1 else grad * -_conj(alpha)


class RsubTensor(Function):
    """`other - alpha * input` of two tensors (PyTorch's rsub.Tensor: edges input, other)."""

    node_name = "RsubBackward0"
    saved_fields = fields(alpha=value("alpha", default=1))

    jvp = auto_element_wise

    @staticmethod
    def forward(ctx: Any, a: Any, b: Any, *, alpha: Any = 1) -> Any:
        return Sub.forward(ctx, b, a, alpha=alpha)

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> tuple[Tensor | None, Tensor | None]:
        alpha = getattr(ctx, "alpha", 1)
        needs_input, needs_other = ctx.needs_input_grad
        grad_input = None
        if needs_input:
            grad_input = -grad if alpha == 1 else grad * -_conj(alpha)
        return grad_input, (grad if needs_other else None)


def rsub(input: Tensor, other: Any, *, alpha: Any = 1) -> Tensor:
    """other - alpha * input."""
    if isinstance(other, Tensor):
        if alpha != 1 or alpha is True:
            if _scales_layout(input, other):
                return Sub.apply(other, mul(input, alpha))
            return RsubTensor.apply(input, other, alpha=alpha)
        if _scales_layout(input, other):
            return Sub.apply(other, input)
        return RsubTensor.apply(input, other)
    if alpha != 1 or alpha is True:
        return Rsub.apply(input, other=other, alpha=alpha)
    return Rsub.apply(input, other=other)


def _check_bool_subtraction(backend: Any, a: Any, b: Any) -> None:
    a_is_bool = type(a) is bool or (type(a) not in _SCALARS and a.dtype == backend.bool_dtype)
    b_is_bool = type(b) is bool or (type(b) not in _SCALARS and b.dtype == backend.bool_dtype)
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
    saved_fields = fields(self=saved(1, when=1), other=saved_or_number(0, "scalar", when=0))
    sparse_form = SparseMul
    compressed_form = CompressedMulForm()

    @staticmethod
    def count_flops(args: tuple[Any, ...], kwargs: dict[str, Any]) -> int:
        return elementwise_flops(args[0])

    jvp = auto_element_wise

    @staticmethod
    def forward(ctx: Any, a: Any, b: Any) -> Any:
        backend = ctx.backend
        if type(b) in _SCALARS:
            ctx.scalar = b  # the gradient is grad * b: no array to save...
            ctx._saved = ()  # ...but, as in PyTorch, a second backward without retain_graph fails
            if type(b) in _REAL_NUMBERS and a.dtype in backend.full_precision_floating:
                return backend.multiply(a, b)  # the hot path: float tensor * number
        else:
            # PyTorch's MulBackward0 saves `other` before `self`: saved-tensor hooks see them
            # in that order.
            ctx.save_for_backward(b, a)
        a, b = promote(backend, a, b)
        if a.dtype == backend.bool_dtype:  # bool * bool is logical and, as in PyTorch
            return backend.logical_and(a, b)
        if type(b) in _SCALARS:
            return with_number(backend, backend.multiply, a, b)
        return backend.multiply(a, b)

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> tuple[Tensor | None, Tensor | None]:
        # Complex factors enter conjugated (PyTorch's convention for complex gradients).
        if not ctx._saved:
            scalar = ctx.scalar
            if type(scalar) is complex:
                return grad * scalar.conjugate(), None
            return _times_number(grad, scalar), None
        b, a = ctx.saved_tensors
        needs_a, needs_b = ctx.needs_input_grad
        return (grad * _conj(b) if needs_a else None), (grad * _conj(a) if needs_b else None)


def _times_number(grad: Tensor, number: Any) -> Tensor:
    """`grad * number` in a backward formula. Where `Mul.apply` would only take its hot path
    and wrap the product (no mode on, grad mode off so nothing is recorded, a float tensor
    times a real number), the product is computed here without making a ctx for it; anything
    else goes through the op."""
    if (_modes.active or _grad_state.enabled or type(grad) is not Tensor
            or type(number) not in _REAL_NUMBERS):
        return grad * number
    backend = grad._backend
    data = grad._data
    if data.dtype not in backend.full_precision_floating:
        return grad * number
    return _wrap(backend.multiply(data, number), backend)


def _conj(value: Any) -> Any:
    """The complex conjugate of a complex tensor or number; anything else as it is."""
    if isinstance(value, Tensor):
        return value.conj() if value._backend.is_complex(value._data.dtype) else value
    return value.conjugate() if type(value) is complex else value


@takes_out(CAST)
def mul(input: Any, other: Any) -> Tensor:
    if not isinstance(input, Tensor):
        input, other = other, input
    return Mul.apply(input, other)


multiply = mul


class Div(Function):
    sparse_form = OnValues()
    compressed_form = UnsupportedLayout()
    node_name = "DivBackward0"
    saved_fields = fields(self=saved(0, when=1), other=saved_or_number(1, "scalar"))

    jvp = auto_element_wise

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
        if a.dtype not in ctx.backend.floating_dtypes:  # true division of integers (an array)
            a = default_float(ctx.backend, a)
            if type(b) not in _SCALARS:
                b = default_float(ctx.backend, b)
        if type(b) in _SCALARS:
            return with_number(ctx.backend, ctx.backend.divide, a, b)
        return ctx.backend.divide(a, b)

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> tuple[Tensor | None, Tensor | None]:
        if not ctx._saved:
            scalar = ctx.scalar
            return grad / (scalar.conjugate() if type(scalar) is complex else scalar), None
        a, b = ctx.saved_tensors
        needs_a, needs_b = ctx.needs_input_grad
        grad_a = grad / _conj(b) if needs_a else None
        # PyTorch's -grad * ((a / b) / b): it overflows only where the result does (b * b
        # leaves float32's range for |b| beyond 1e19 or below 1e-19).
        grad_b = -grad * _conj((a / b) / b) if needs_b else None
        return grad_a, grad_b


@takes_out(CAST)
def div(input: Any, other: Any, *, rounding_mode: str | None = None) -> Tensor:
    if rounding_mode is not None:
        if rounding_mode not in ("trunc", "floor"):
            raise RuntimeError(
                "div expected rounding_mode to be one of None, 'trunc', or 'floor' but found "
                f"'{rounding_mode}'"
            )
        return division.div_rounded(input, other, rounding_mode)
    if not isinstance(input, Tensor):
        return rdiv(other, input)
    return Div.apply(input, other)


divide = div


# Inside PyTorch's C++ composites (losses, distances) a Python number is a Scalar argument, and
# those overloads are nodes of their own. The same ops, under those names:
class AddNumber(Add):
    node_name = "AddBackward1"
    saved_fields = fields()


class SubNumber(Sub):
    node_name = "SubBackward1"
    saved_fields = fields()


class MulNumber(Mul):
    node_name = "MulBackward1"
    saved_fields = fields(other=value("scalar"))


class DivNumber(Div):
    sparse_form = OnValues()
    compressed_form = UnsupportedLayout()
    node_name = "DivBackward1"
    saved_fields = fields(other=value("scalar"))


@takes_out(CAST)
def true_divide(input: Any, other: Any) -> Tensor:
    return div(input, other)


def rdiv(input: Tensor, other: Any) -> Tensor:
    """other / input; a number over a tensor is `reciprocal(input) * number`, as in PyTorch."""
    if isinstance(other, Tensor):
        return Div.apply(other, input)
    return mul(reciprocal(input), other)


class Neg(Function):
    node_name = "NegBackward0"
    sparse_form = SparseNeg
    compressed_form = OnValues()

    jvp = auto_element_wise

    @staticmethod
    def forward(ctx: Any, a: Any) -> Any:
        try:
            return ctx.backend.negative(a)
        except TypeError:
            if ctx.backend.is_bool(a.dtype):
                raise RuntimeError(
                    "Negation, the `-` operator, on a bool tensor is not supported. If you are "
                    "trying to invert a mask, use the `~` or `logical_not()` operator instead."
                ) from None
            raise

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> Tensor:
        return -grad


@takes_out(SAME)
def neg(input: Tensor) -> Tensor:
    return Neg.apply(input)


def neg_(input: Tensor) -> Tensor:
    """In place: `input.neg_()`."""
    require_tensors("neg_", ("input", input))
    return input.neg_()


negative = neg


def negative_(input: Tensor) -> Tensor:
    """In place: `input.negative_()` (neg_)."""
    require_tensors("negative_", ("input", input))
    return input.neg_()


class Reciprocal(Holomorphic, Function):
    node_name = "ReciprocalBackward0"
    saved_fields = fields(result=saved(0))

    jvp = auto_element_wise

    @staticmethod
    def forward(ctx: Any, a: Any) -> Any:
        out = ctx.backend.divide(1.0, default_float(ctx.backend, a))
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> Tensor:
        out, = ctx.saved_tensors
        return -grad * out * out


@takes_out(CAST)
@autocast_op("reciprocal")
def reciprocal(input: Tensor) -> Tensor:
    return Reciprocal.apply(input)


def reciprocal_(input: Tensor) -> Tensor:
    """In place: `input.reciprocal_()`."""
    require_tensors("reciprocal_", ("input", input))
    return input.reciprocal_()


# ----------------------------------------------------------------------------- powers
class PowScalar(Holomorphic, Function):
    """tensor ** number: PyTorch's Tensor_Scalar overload, one edge (the number a keyword)."""

    sparse_form = OnValues()
    compressed_form = UnsupportedLayout()
    node_name = "PowBackward0"
    saved_fields = fields(self=saved(0), exponent=value("exponent"))

    jvp = auto_element_wise

    @staticmethod
    def forward(ctx: Any, a: Any, *, exponent: Any) -> Any:
        ctx.save_for_backward(a)
        ctx.exponent = exponent
        backend = ctx.backend
        if type(exponent) is int and backend.is_integer(a.dtype):
            if exponent < 0:  # checked on the number as given (promotion would wrap it)
                raise RuntimeError("Integers to negative integer powers are not allowed.")
            exponent = checked_number(exponent, backend.dtype_name(a))
        a, exponent = promote(backend, a, exponent)
        if backend.is_complex(a.dtype):
            return _complex_pow_scalar(backend, a, exponent)
        if not backend.is_floating(a.dtype):
            if type(exponent) is int and exponent < 0:
                raise RuntimeError("Integers to negative integer powers are not allowed.")
            if backend.is_bool(a.dtype):  # bool ** bool: a when True, all True when False
                return backend.logical_or(a, not exponent)
        return backend.pow(a, exponent)

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> Tensor:
        a, = ctx.saved_tensors
        exponent = ctx.exponent
        if exponent == 0:  # PyTorch: zeros, even where a ** -1 is infinite
            return zeros_like(grad)
        return grad * (exponent * a ** (exponent - 1))


class Pow(Function):
    """tensor ** tensor."""

    node_name = "PowBackward1"
    saved_fields = fields(self=saved(0), exponent=saved(1), result=saved(2, when=1))

    jvp = auto_element_wise

    @staticmethod
    def forward(ctx: Any, input: Any, exponent: Any) -> Any:
        backend = ctx.backend
        a, b = promote(backend, input, exponent)
        if backend.is_bool(a.dtype):
            raise _pow_bool_error()
        if backend.is_complex(a.dtype):
            out = _complex_pow(backend, a, b)
        elif backend.is_floating(a.dtype):
            out = backend.pow(a, b)
        else:
            out = _integer_pow(backend, a, b)
        # The inputs as given (so that a second derivative reaches them), promoted in backward
        ctx.save_for_backward(input, exponent, out)
        return out

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> tuple[Tensor | None, Tensor | None]:
        # Complex gradients are grad times the conjugated derivative, PyTorch's convention.
        a, b, out = ctx.saved_tensors
        a, b = a.to(out.dtype), b.to(out.dtype)
        needs_a, needs_b = ctx.needs_input_grad
        grad_a = grad_b = None
        if needs_a:  # PyTorch takes 0 where b == 0 (not 0 * inf at a == 0)
            grad_a = where(b == 0, 0.0, grad * (b * a ** (b - 1)).conj())
        if needs_b:
            grad_b = grad * _exponent_derivative(a, b, out).conj()
        return grad_a, grad_b


def _exponent_derivative(a: Tensor, b: Tensor, out: Tensor) -> Tensor:
    """d/db a**b = a**b log(a). At a == 0 PyTorch takes 0 where b is real and >= 0; for real
    operands inf * log(0) = -inf where b < 0 (log(1) stands in for log(0) so nothing warns),
    for complex ones whatever out * log(0) is."""
    at_zero = a == 0
    if not a.is_complex():
        return where(at_zero, where(b >= 0, 0.0, -math.inf), out * log(where(at_zero, 1.0, a)))
    real_and_not_negative = (b.imag == 0) & (b.real >= 0)
    return where(at_zero & real_and_not_negative, 0.0, out * log(a))


def _complex_pow_scalar(backend: Any, a: Any, exponent: Any) -> Any:
    """A complex array to a number's power as PyTorch computes it: the exponents it special-
    cases (0, 1, 2, 3, 0.5, -0.5, -1, -2, as a real or complex number) by products, roots and
    reciprocals, every other one as exp(exponent log a)."""
    if exponent == 0:
        return backend.ones(a.shape, backend.dtype_name(a))
    if exponent == 1:
        return backend.asarray(a, copy=True)
    if exponent in (2, 3, -2):
        square = backend.multiply(a, a)
        if exponent == -2:
            return backend.divide(backend.ones(a.shape, backend.dtype_name(a)), square)
        return square if exponent == 2 else backend.multiply(square, a)
    if exponent in (0.5, -0.5):
        root = backend.sqrt(a)
        if exponent == 0.5:
            return root
        return backend.divide(backend.ones(a.shape, backend.dtype_name(a)), root)
    if exponent == -1:
        return backend.divide(backend.ones(a.shape, backend.dtype_name(a)), a)
    return _complex_pow(backend, a, exponent)


def _complex_pow(backend: Any, a: Any, b: Any) -> Any:
    """a ** b for complex arrays as PyTorch computes it (C's cpow): exp(b log a). At a == 0
    that is 0 where Re b > 0, inf + nan j where Re b < 0 and nan where Re b == 0 (0 ** 0
    included), and a negative real base takes the principal log (log|a| + i pi)."""
    return backend.exp(backend.multiply(b, backend.log(a)))


class RPow(Function):
    """number ** tensor: PyTorch's Scalar overload, one edge (the number the keyword `base`)."""

    node_name = "PowBackward2"
    saved_fields = fields(self=value("base"), exponent=saved(0), result=saved(1))

    jvp = auto_element_wise

    @staticmethod
    def forward(ctx: Any, exponent: Any, *, base: Any) -> Any:
        ctx.base = base
        backend = ctx.backend
        a, base = promote(backend, exponent, base)
        if backend.is_bool(a.dtype):
            raise _pow_bool_error()
        if backend.is_complex(a.dtype):
            dtype = backend.dtype_name(a)
            if base == 1:  # PyTorch: ones, whatever the exponent (inf and nan included)
                out = backend.ones(a.shape, dtype)
            else:
                out = _complex_pow(backend, backend.full(a.shape, base, dtype), a)
        elif type(base) is int and not backend.is_floating(a.dtype):
            out = _integer_pow(backend, backend.full(a.shape, base, backend.dtype_name(a)), a)
        else:
            out = backend.pow(base, a)
        ctx.save_for_backward(exponent, out)
        return out

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> Tensor:
        a, out = ctx.saved_tensors
        base = ctx.base
        if out.is_complex():  # log of the base as a complex number; the derivative conjugated
            if base == 0:
                real_and_not_negative = (a.imag == 0) & (a.real >= 0) if a.is_complex() \
                    else a >= 0
                factor = where(real_and_not_negative, 0.0, out * complex(-math.inf, 0.0))
            else:
                factor = out * cmath.log(base)
            return grad * factor.conj()
        if base == 0:
            # out * log(0): 0 where the exponent is >= 0 (PyTorch's choice), -inf where it is
            # negative (out is inf there).
            return grad * where(out == 0, 0.0, where(out == 1, 0.0, -math.inf))
        return grad * (out * (math.log(base) if base > 0 else math.nan))


def _integer_pow(backend: Any, a: Any, b: Any) -> Any:
    """a ** b for integer arrays as PyTorch computes it: a negative exponent gives what integer
    arithmetic would (1 for a base of 1, -1 or 1 for -1 by the exponent's parity, 0 for every
    other base, 0 included), where NumPy raises a ValueError."""
    negative = backend.less(b, 0)
    if not backend.any_true(negative):
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


@takes_out(CAST)
@autocast_op("pow")
def pow(input: Any, exponent: Any) -> Tensor:
    if not isinstance(input, Tensor):
        return rpow(exponent, input)
    if isinstance(exponent, Tensor):
        return Pow.apply(input, exponent)
    return PowScalar.apply(input, exponent=exponent)


@autocast_op("pow")
def rpow(input: Tensor, base: Any) -> Tensor:
    """base ** input."""
    if isinstance(base, Tensor):
        return Pow.apply(base, input)
    return RPow.apply(input, base=base)


@takes_out(CAST)
def square(input: Tensor) -> Tensor:
    """input ** 2 (PyTorch records it as PowBackward0; a bool squares to int64)."""
    return PowScalar.apply(input, exponent=2)


def square_(input: Tensor) -> Tensor:
    """In place: `input.square_()`."""
    require_tensors("square_", ("input", input))
    return input.square_()


# ----------------------------------------------------------------------------- addcmul, addcdiv
class Addcmul(Function):
    """input + value * tensor1 * tensor2 (the Adam-style update, and its in-place form)."""

    node_name = "AddcmulBackward0"
    saved_fields = fields(tensor1=saved(0, when=2), tensor2=saved(1, when=1), value=value("value"))
    combine = "multiply"  # Addcdiv divides

    jvp = auto_element_wise

    @staticmethod
    def forward(ctx: Any, a: Any, t1: Any, t2: Any, *, value: Any) -> Any:
        backend = ctx.backend
        ctx.value = value
        ctx.save_for_backward(t1, t2)
        if value != 1:  # PyTorch's rounding: (value * t1) * t2, (value * t1) / t2
            t1 = backend.multiply(t1, value)
        return backend.add(a, getattr(backend, ctx.combine)(t1, t2))

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> tuple[Tensor | None, ...]:
        t1, t2 = ctx.saved_tensors
        needs_a, needs_t1, needs_t2 = ctx.needs_input_grad
        scaled = grad * ctx.value if ctx.value != 1 else grad
        return ((grad if needs_a else None), (scaled * t2 if needs_t1 else None),
                (scaled * t1 if needs_t2 else None))


@takes_out(CAST)
@autocast_op("addcmul")
def addcmul(input: Tensor, tensor1: Tensor, tensor2: Tensor, *, value: Any = 1) -> Tensor:
    return Addcmul.apply(input, tensor1, tensor2, value=value)


class Addcdiv(Addcmul):
    """input + value * tensor1 / tensor2."""

    node_name = "AddcdivBackward0"
    combine = "divide"

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> tuple[Tensor | None, ...]:
        t1, t2 = ctx.saved_tensors
        needs_a, needs_t1, needs_t2 = ctx.needs_input_grad
        scaled = grad * ctx.value if ctx.value != 1 else grad
        return ((grad if needs_a else None), (scaled / t2 if needs_t1 else None),
                (-scaled * t1 / (t2 * t2) if needs_t2 else None))


def check_addcdiv(tensor1: Tensor, tensor2: Tensor) -> None:
    """PyTorch refuses two integral (or bool) divisors' operands."""
    if not any(isinstance(t, Tensor) and (t.is_floating_point() or t.is_complex())
               for t in (tensor1, tensor2)):
        raise RuntimeError(
            "Integer division with addcdiv is no longer supported, and in a future  release "
            "addcdiv will perform a true division of tensor1 and tensor2. The historic addcdiv "
            "behavior can be implemented as (input + value * torch.trunc(tensor1 / tensor2))"
            ".to(input.dtype) for integer inputs and as (input + value * tensor1 / tensor2) "
            "for float inputs. The future addcdiv behavior is just the latter implementation: "
            "(input + value * tensor1 / tensor2), for all dtypes.")


@takes_out(CAST)
@autocast_op("addcdiv")
def addcdiv(input: Tensor, tensor1: Tensor, tensor2: Tensor, *, value: Any = 1) -> Tensor:
    check_addcdiv(tensor1, tensor2)
    return Addcdiv.apply(input, tensor1, tensor2, value=value)
