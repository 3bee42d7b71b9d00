"""Division that rounds: div(rounding_mode="trunc" | "floor"), floor_divide (`//`) and
remainder (`%`). Integer inputs stay integers; dividing an integer by zero raises, as in PyTorch.
"""

from __future__ import annotations

from typing import Any

from ..creation import zeros_like
from ..dtypes import scalar_dtype
from ..function import Function
from ..jvp_rules import auto_element_wise
from ..saved_fields import fields, saved, value
from ..tensor import Tensor, _wrap
from ._checks import is_number, not_implemented_for
from ._out import CAST, takes_out
from ._promotion import promote

_SCALARS = (bool, int, float)


def div_rounded(input: Any, other: Any, rounding_mode: str) -> Tensor:
    return DivMode.apply(_as_tensor(input, other), other, mode=rounding_mode)


def _as_tensor(value: Any, like: Tensor) -> Tensor:
    """A Python number in first place becomes a 0-d tensor (PyTorch wraps it the same way)."""
    if isinstance(value, Tensor):
        return value
    if not is_number(value):  # None, a string: what PyTorch's parser refuses
        raise TypeError(f"expected a Tensor or a number, got {type(value).__name__}")
    backend = like._backend
    return _wrap(backend.asarray(value, dtype=scalar_dtype(value).name), backend)


def _divide_rounded(backend: Any, a: Any, b: Any, mode: str) -> Any:
    """a / b rounded towards zero ("trunc") or down ("floor"), in the promoted dtype."""
    a, b = promote(backend, a, b)
    array = a if type(a) not in _SCALARS else b
    if backend.is_floating(array.dtype):
        if mode == "floor":  # Python's floor division, as PyTorch (exact, unlike floor(a / b))
            return backend.floor_divide(a, b)
        return backend.trunc(backend.divide(a, b))
    if backend.is_bool(array.dtype):
        raise not_implemented_for(f"div_{mode}", backend, array)
    _check_integer_divisor(backend, a, b)
    quotient = backend.floor_divide(a, b)
    if mode == "trunc":  # floor rounds down; undo that where the exact quotient is negative
        inexact = backend.not_equal(backend.remainder(a, b), 0)
        b_negative = b < 0 if type(b) in _SCALARS else backend.less(b, 0)
        negative = backend.not_equal(backend.less(a, 0), b_negative)
        quotient = backend.where(backend.logical_and(inexact, negative), quotient + 1, quotient)
    return quotient


def _check_integer_divisor(backend: Any, a: Any, b: Any) -> None:
    """Integer division by zero raises, as in PyTorch (NumPy would give 0 and warn); nothing
    is divided when either operand is empty."""
    if any(type(x) not in _SCALARS and x.size == 0 for x in (a, b)):
        return
    if b == 0 if type(b) in _SCALARS else backend.any_true(backend.equal(b, 0)):
        raise RuntimeError("ZeroDivisionError")


class DivMode(Function):
    """div with rounding_mode; the result is piecewise constant, so both gradients are zero."""

    node_name = "DivBackward2"
    saved_fields = fields(self=saved(0), other=saved(1), rounding_mode=value("mode"))

    jvp = auto_element_wise

    @staticmethod
    def forward(ctx: Any, a: Any, b: Any, *, mode: str) -> Any:
        ctx.mode = mode
        ctx.save_for_backward(a, b)  # as PyTorch's node, though the gradients are zeros
        return _divide_rounded(ctx.backend, a, b, mode)

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> tuple[Tensor | None, Tensor | None]:
        needs_a, needs_b = ctx.needs_input_grad
        zeros = zeros_like(grad)
        return (zeros if needs_a else None), (zeros if needs_b else None)


class FloorDivide(Function):
    """floor_divide (`//`): PyTorch has no derivative for it and says so at backward time."""

    node_name = "torch::autograd::NotImplemented"
    forward_ad_name = "aten::floor_divide"

    @staticmethod
    def forward(ctx: Any, a: Any, b: Any) -> Any:
        return _divide_rounded(ctx.backend, a, b, "floor")

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> Any:
        raise RuntimeError("derivative for aten::floor_divide is not implemented")


@takes_out(CAST)
def floor_divide(input: Any, other: Any) -> Tensor:
    return FloorDivide.apply(_as_tensor(input, other), other)


class FloorDivideInPlace(FloorDivide):
    """x.floor_divide_(y): the same op; PyTorch names the in-place form in its error."""

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> Any:
        raise RuntimeError("derivative for aten::floor_divide_ is not implemented")


def floor_divide_of(input: Tensor, other: Any) -> Tensor:
    """floor_divide recorded as the in-place form's node (Tensor.floor_divide_)."""
    return FloorDivideInPlace.apply(input, other)


class Remainder(Function):
    """Python's modulo (the sign of the divisor), as PyTorch's remainder and `%`."""

    node_name = "RemainderBackward0"

    jvp = auto_element_wise

    @staticmethod
    def forward(ctx: Any, a: Any, b: Any) -> Any:
        ctx.save_for_backward(a, b)
        backend = ctx.backend
        a, b = promote(backend, a, b)
        array = a if type(a) not in _SCALARS else b
        if backend.is_bool(array.dtype):
            raise not_implemented_for("remainder", backend, array)
        if not backend.is_floating(array.dtype):
            _check_integer_divisor(backend, a, b)
            return backend.remainder(a, b)
        result = backend.remainder(a, b)
        # A zero remainder keeps the dividend's sign (C's fmod, which PyTorch adjusts only for
        # non-zero results); NumPy's takes the divisor's.
        dividend = a if type(a) not in _SCALARS else backend.full(result.shape, a, result.dtype)
        return backend.where(backend.equal(result, 0), backend.copysign(result, dividend),
                             result)

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> tuple[Tensor | None, Tensor | None]:
        a, b = ctx.saved_tensors
        needs_a, needs_b = ctx.needs_input_grad
        # remainder = a - b * floor(a / b): d/da = 1, d/db = -floor(a / b).
        grad_b = -grad * DivMode.apply(a, b, mode="floor") if needs_b else None
        return (grad if needs_a else None), grad_b


class RemainderTensor(Remainder):
    node_name = "RemainderBackward1"
    saved_fields = fields(self=saved(0), other=saved(1))


class RemainderNumber(FloorDivide):
    """number % tensor: not differentiable in PyTorch either."""

    forward_ad_name = "aten::remainder"

    @staticmethod
    def forward(ctx: Any, a: Any, b: Any) -> Any:
        return Remainder.forward(ctx, a, b)

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> Any:
        raise RuntimeError("derivative for aten::remainder is not implemented")


@takes_out(CAST)
def remainder(input: Any, other: Any) -> Tensor:
    if not isinstance(input, Tensor):
        return RemainderNumber.apply(_as_tensor(input, other), other)
    if isinstance(other, Tensor):
        return RemainderTensor.apply(input, other)
    return Remainder.apply(input, other)
