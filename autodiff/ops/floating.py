"""Floating-point operations: fmod (C's remainder, the sign of the dividend), copysign, hypot,
nextafter, ldexp and frexp (scaling by powers of two), float_power (pow in double precision),
heaviside, nan_to_num, signbit.

Integer inputs follow PyTorch: fmod keeps them (dividing by zero raises), copysign and ldexp
compute in the default float dtype, hypot and nextafter refuse them.
"""

from __future__ import annotations

import math
from typing import Any

from .. import dtypes, return_types
from ..batching.dispatch import elementwise_op
from ..creation import zeros_like
from ..function import Function
from ..jvp_rules import auto_element_wise, jvp_from_backward
from ..saved_fields import fields, saved
from ..tensor import Tensor
from ._checks import (
    not_implemented_for,
    not_implemented_for_dtype,
    require_tensors,
    same_device,
)
from ._promotion import check_broadcast, float_dtype, promote
from .arithmetic import pow, rpow
from .comparison import value_test
from .division import _check_integer_divisor
from .selection import where
from .sparse_compressed import NoKernel
from .sparse_coo import OnValues

_SCALARS = (bool, int, float)
_LN2 = math.log(2.0)


# ----------------------------------------------------------------------------- fmod
class Fmod(Function):
    """a - trunc(a / b) * b, computed exactly (the sign of a)."""

    node_name = "FmodBackward0"
    saved_fields = fields()

    jvp = auto_element_wise

    @staticmethod
    def forward(ctx: Any, a: Any, b: Any) -> Any:
        backend = ctx.backend
        ctx.save_for_backward(a, b)
        a, b = promote(backend, a, b)
        if backend.is_bool(a.dtype):
            raise not_implemented_for("fmod", backend, a)
        if not backend.is_floating(a.dtype):
            _check_integer_divisor(backend, a, b)
        return backend.fmod(a, b)

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> tuple[Tensor | None, Tensor | None]:
        a, b = ctx.saved_tensors
        needs_a, needs_b = ctx.needs_input_grad
        grad_b = -grad * a.div(b, rounding_mode="trunc") if needs_b else None
        return (grad if needs_a else None), grad_b


class FmodTensor(Fmod):

    node_name = "FmodBackward1"
    saved_fields = fields(self=saved(0), other=saved(1))
    jvp = auto_element_wise


def fmod(input: Tensor, other: Any) -> Tensor:
    if isinstance(other, Tensor):
        return FmodTensor.apply(input, other)
    return Fmod.apply(input, other)


# ----------------------------------------------------------------------------- copysign
class Copysign(Function):
    """|a| with the sign of b (negative zero counts as negative)."""

    node_name = "CopysignBackward0"
    saved_fields = fields(self=saved(0), result=saved(1))

    jvp = auto_element_wise

    @staticmethod
    def forward(ctx: Any, a: Any, b: Any) -> Any:
        backend = ctx.backend
        dtype = float_dtype(backend, a, b)
        a = backend.astype(a, dtype)
        b = backend.astype(b, dtype) if type(b) not in _SCALARS else float(b)
        if type(b) is float:
            b = backend.full((), b, dtype)
        out = backend.copysign(a, b)
        ctx.save_for_backward(a, out)
        return out

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> tuple[Tensor | None, Tensor | None]:
        a, out = ctx.saved_tensors
        needs_a, needs_b = ctx.needs_input_grad
        # out / a is the sign flip, taken as 0 at a == 0 (PyTorch's choice).
        grad_a = grad * where(a == 0, 0.0, out / where(a == 0, 1.0, a)) if needs_a else None
        return grad_a, (zeros_like(grad) if needs_b else None)


class CopysignNumber(Copysign):

    node_name = "CopysignBackward1"
    jvp = auto_element_wise


def copysign(input: Tensor, other: Any) -> Tensor:
    if isinstance(other, Tensor):
        return Copysign.apply(input, other)
    return CopysignNumber.apply(input, other)


# ----------------------------------------------------------------------------- hypot, nextafter
def _floating_pair(name: str, backend: Any, a: Any, b: Any) -> tuple[Any, Any]:
    a, b = promote(backend, a, b)
    if not backend.is_floating(a.dtype):
        raise not_implemented_for_dtype(name, backend, backend.dtype_name(a))
    return a, b


class Hypot(Function):
    """sqrt(a^2 + b^2) without overflow."""

    node_name = "HypotBackward0"
    saved_fields = fields(self=saved(0), other=saved(1), result=saved(2))

    jvp = auto_element_wise

    @staticmethod
    def forward(ctx: Any, a: Any, b: Any) -> Any:
        backend = ctx.backend
        out = backend.hypot(*_floating_pair("hypot", backend, a, b))
        ctx.save_for_backward(a, b, out)
        return out

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> tuple[Tensor | None, Tensor | None]:
        a, b, out = ctx.saved_tensors
        needs_a, needs_b = ctx.needs_input_grad
        return ((grad * a / out if needs_a else None), (grad * b / out if needs_b else None))


def hypot(input: Tensor, other: Tensor) -> Tensor:
    require_tensors("hypot", ("input", input), ("other", other))
    return Hypot.apply(input, other)


class Nextafter(Function):
    """The next representable number after a, towards b."""

    node_name = "NextafterBackward0"
    saved_fields = fields(self=saved(0), other=saved(1))

    jvp = auto_element_wise

    @staticmethod
    def forward(ctx: Any, a: Any, b: Any) -> Any:
        backend = ctx.backend
        ctx.save_for_backward(a, b)  # as PyTorch's node
        return backend.nextafter(*_floating_pair("nextafter", backend, a, b))

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> tuple[Tensor | None, Tensor | None]:
        needs_a, needs_b = ctx.needs_input_grad
        return (grad if needs_a else None), (zeros_like(grad) if needs_b else None)


def nextafter(input: Tensor, other: Tensor) -> Tensor:
    require_tensors("nextafter", ("input", input), ("other", other))
    return Nextafter.apply(input, other)


# ----------------------------------------------------------------------------- ldexp, frexp
class Ldexp(Function):
    """a * 2 ** e."""

    node_name = "LdexpBackward0"
    saved_fields = fields(other=saved(1), result=saved(2))

    jvp = auto_element_wise

    @staticmethod
    def forward(ctx: Any, a: Any, e: Any) -> Any:
        backend = ctx.backend
        dtype = float_dtype(backend, a, e)
        scale = backend.pow(2.0, backend.astype(e, dtype))
        out = backend.multiply(backend.astype(a, dtype), scale)
        ctx.save_for_backward(a, e, out)
        return out

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> tuple[Tensor | None, Tensor | None]:
        a, e, _ = ctx.saved_tensors
        needs_a, needs_e = ctx.needs_input_grad
        scale = rpow(e.to(grad.dtype), 2.0)
        return ((grad * scale if needs_a else None),
                (grad * a * scale * _LN2 if needs_e else None))


def ldexp(input: Tensor, other: Tensor) -> Tensor:
    require_tensors("ldexp", ("input", input), ("other", other))
    return Ldexp.apply(input, other)


def ldexp_(input: Tensor, other: Tensor) -> Tensor:
    """In place: `input.ldexp_(other)`."""
    require_tensors("ldexp_", ("input", input))
    return input.ldexp_(other)


class Frexp(Function):
    """(mantissa, exponent) with input = mantissa * 2 ** exponent, |mantissa| in [0.5, 1);
    the exponent is int32 and not differentiable."""

    node_name = "FrexpBackward0"
    saved_fields = fields(exponent=saved(0))

    jvp = jvp_from_backward

    @staticmethod
    def forward(ctx: Any, a: Any) -> Any:
        backend = ctx.backend
        mantissa, exponent = backend.frexp(a)
        exponent = backend.astype(exponent, "int32")
        ctx.mark_non_differentiable(exponent)
        ctx.save_for_backward(exponent)
        return mantissa, exponent

    @staticmethod
    def backward(ctx: Any, grad: Tensor, grad_exponent: Tensor | None) -> Tensor:
        exponent, = ctx.saved_tensors
        return grad / exponent.to(grad.dtype).exp2()


def frexp(input: Tensor) -> Any:
    if not input.dtype.is_floating_point:
        raise RuntimeError("torch.frexp() only supports floating-point dtypes")
    return return_types.frexp(Frexp.apply(input))


# ----------------------------------------------------------------------------- float_power
def float_power(input: Any, exponent: Any) -> Tensor:
    """pow computed in double precision: the result is float64 whatever the inputs."""
    double = dtypes.float64
    if not isinstance(input, Tensor):
        return rpow(exponent.to(double), float(input))
    base = input.to(double)
    if isinstance(exponent, Tensor):
        return pow(base, exponent.to(double))
    return pow(base, float(exponent))


# ----------------------------------------------------------------------------- heaviside
class Heaviside(Function):
    """0 where input < 0, values where input == 0, 1 where input > 0. PyTorch has no
    derivative for it: backward raises."""

    node_name = "torch::autograd::NotImplemented"

    jvp = auto_element_wise

    @staticmethod
    def forward(ctx: Any, a: Any, values: Any) -> Any:
        backend = ctx.backend
        if a.dtype != values.dtype:
            raise RuntimeError(
                "heaviside is not yet implemented for tensors with different dtypes.")
        if a.shape != values.shape:
            check_broadcast(a.shape, values.shape)
        if backend.is_bool(a.dtype):  # False -> values, True -> True
            return backend.where(a, a, values)
        step = backend.astype(backend.greater(a, 0), backend.dtype_name(a))
        return backend.where(backend.equal(a, 0), values, step)

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> Any:
        raise RuntimeError("derivative for aten::heaviside is not implemented")


def heaviside(input: Tensor, values: Tensor) -> Tensor:
    require_tensors("heaviside", ("input", input), ("values", values))
    same_device(input, values)
    return Heaviside.apply(input, values)


# ----------------------------------------------------------------------------- nan_to_num
class NanToNum(Function):
    """NaN, +inf and -inf replaced by `nan`, `posinf`, `neginf` (by default 0 and the dtype's
    largest and lowest finite numbers); integers and bools are copied."""

    sparse_form = OnValues()
    compressed_form = NoKernel("aten::nan_to_num.out")
    node_name = "NanToNumBackward0"
    saved_fields = fields(self=saved(0))

    jvp = auto_element_wise

    @staticmethod
    def forward(ctx: Any, a: Any, *, nan: float, posinf: float | None,
                neginf: float | None) -> Any:
        backend = ctx.backend
        if not backend.is_floating(a.dtype):
            return backend.asarray(a, copy=True)
        ctx.save_for_backward(a)
        largest = _LARGEST[backend.dtype_name(a)]
        dtype = backend.dtype_name(a)
        out = backend.where(backend.isnan(a), backend.full(a.shape, nan, dtype), a)
        high = largest if posinf is None else posinf
        low = -largest if neginf is None else neginf
        positive = backend.logical_and(backend.isinf(a), backend.greater(a, 0))
        negative = backend.logical_and(backend.isinf(a), backend.less(a, 0))
        out = backend.where(positive, backend.full(a.shape, high, dtype), out)
        return backend.where(negative, backend.full(a.shape, low, dtype), out)

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> Tensor:
        a, = ctx.saved_tensors
        return grad * a.isfinite()


_LARGEST = {"float16": 65504.0, "bfloat16": 3.3895313892515355e38,
            "float32": 3.4028234663852886e38,
            "float64": 1.7976931348623157e308}


def nan_to_num(input: Tensor, nan: float = 0.0, posinf: float | None = None,
               neginf: float | None = None) -> Tensor:
    return NanToNum.apply(input, nan=nan, posinf=posinf, neginf=neginf)


def nan_to_num_(input: Tensor, nan: float = 0.0, posinf: float | None = None,
                neginf: float | None = None) -> Tensor:
    """In place: `input.nan_to_num_(nan, posinf, neginf)`."""
    require_tensors("nan_to_num_", ("input", input))
    return input.nan_to_num_(nan, posinf, neginf)


# ----------------------------------------------------------------------------- signbit
@elementwise_op
def signbit(input: Tensor) -> Tensor:
    """Whether the sign bit is set (True for -0.0); a bool tensor outside the graph."""
    backend = input._backend

    def test(data: Any) -> Any:
        if backend.is_bool(data.dtype):
            return backend.zeros(data.shape, "bool")
        if backend.is_floating(data.dtype):
            return backend.signbit(data)
        return backend.less(data, 0)

    return value_test(input, test)
