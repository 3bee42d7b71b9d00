"""Complex numbers: real and imag, conj and conj_physical, complex (from real and imaginary
parts), angle, view_as_real; and the rule that a complex gradient reaching a real tensor keeps
its real part.

Gradients follow PyTorch's convention: the gradient of a real loss L with respect to
z = x + iy is dL/dx + i dL/dy (the conjugate Wirtinger derivative, doubled), so a backward
multiplies by the conjugate of a holomorphic function's derivative.

real, imag and view_as_real return new tensors here (PyTorch's are views of the same memory):
their values, dtypes and gradients are PyTorch's, and their nodes carry PyTorch's names
(real(z) is view_as_real(z)[..., 0] there, hence SelectBackward0).
"""

from __future__ import annotations

from typing import Any

from .. import dtypes
from ..function import Function
from ..jvp_rules import auto_element_wise, auto_linear
from ..tensor import Tensor
from ._checks import same_device, scalar_type_name
from ._promotion import check_broadcast
from .selection import where


def is_complex(input: Tensor) -> bool:
    return input.dtype.is_complex


# ----------------------------------------------------------------------------- real, imag
class Real(Function):
    """The real part of a complex tensor."""

    node_name = "SelectBackward0"
    jvp = auto_linear  # linear over the reals: the op on the tangents

    @staticmethod
    def forward(ctx: Any, a: Any) -> Any:
        return ctx.backend.real(a)

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> Tensor:
        return complex(grad, grad * 0)


class Imag(Function):
    """The imaginary part of a complex tensor."""

    node_name = "SelectBackward0"
    jvp = auto_linear  # linear over the reals: the op on the tangents

    @staticmethod
    def forward(ctx: Any, a: Any) -> Any:
        return ctx.backend.imag(a)

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> Tensor:
        return complex(grad * 0, grad)


def real(input: Tensor) -> Tensor:
    """The real part (a real tensor itself, as in PyTorch)."""
    if not input.dtype.is_complex:
        return input
    return Real.apply(input)


def imag(input: Tensor) -> Tensor:
    if not input.dtype.is_complex:
        raise RuntimeError("imag is not implemented for tensors with non-complex dtypes.")
    return Imag.apply(input)


# ----------------------------------------------------------------------------- conj
class Conj(Function):
    """The complex conjugate. (PyTorch's is a lazy view with a conjugate bit; the values are
    the same.)"""

    node_name = "ConjBackward0"
    jvp = auto_linear  # linear over the reals: the op on the tangents

    @staticmethod
    def forward(ctx: Any, a: Any) -> Any:
        return ctx.backend.conj(a)

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> Tensor:
        return conj(grad)


class ConjPhysical(Conj):
    node_name = "ConjPhysicalBackward0"

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> Tensor:
        return conj_physical(grad)


def conj(input: Tensor) -> Tensor:
    """The complex conjugate; a real tensor itself."""
    if not input.dtype.is_complex:
        return input
    return Conj.apply(input)


def conj_physical(input: Tensor) -> Tensor:
    if not input.dtype.is_complex:
        return input
    return ConjPhysical.apply(input)


# ----------------------------------------------------------------------------- complex, angle
class Complex(Function):
    """real + i imag, from two real tensors of one floating dtype (broadcast)."""

    node_name = "ComplexBackward0"
    jvp = auto_linear  # linear over the reals: the op on the tangents

    @staticmethod
    def forward(ctx: Any, re: Any, im: Any) -> Any:
        return ctx.backend.complex_of(re, im)

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> tuple[Tensor | None, Tensor | None]:
        needs_re, needs_im = ctx.needs_input_grad
        return (real(grad) if needs_re else None), (imag(grad) if needs_im else None)


def complex(real: Tensor, imag: Tensor) -> Tensor:
    """The complex tensor with these real and imaginary parts (float32 gives complex64, float64
    complex128)."""
    same_device(real, imag)
    for tensor in (real, imag):
        if tensor.dtype not in (dtypes.float32, dtypes.float64):
            raise RuntimeError(
                "Expected both inputs to be Half, Float or Double tensors but got "
                f"{scalar_type_name(real)} and {scalar_type_name(imag)}")
    if real.dtype is not imag.dtype:
        raise RuntimeError(
            f"Expected object of scalar type {scalar_type_name(real)} but got scalar type "
            f"{scalar_type_name(imag)} for second argument")
    if real._data.shape != imag._data.shape:
        check_broadcast(real._data.shape, imag._data.shape)
    return Complex.apply(real, imag)


class Angle(Function):
    """The argument of each element: atan2(imag, real) for complex tensors; 0 or pi for real
    ones (pi for negative numbers; NaN stays NaN)."""

    node_name = "AngleBackward0"

    jvp = auto_element_wise

    @staticmethod
    def forward(ctx: Any, a: Any) -> Any:
        backend = ctx.backend
        ctx.save_for_backward(a)
        if backend.is_complex(a.dtype):
            return backend.atan2(backend.imag(a), backend.real(a))
        if not backend.is_floating(a.dtype):
            a = backend.astype(a, dtypes.get_default_dtype().name)
        pi = backend.full(a.shape, 3.141592653589793, backend.dtype_name(a))
        out = backend.where(backend.less(a, 0), pi, backend.zeros_like(a))
        return backend.where(backend.isnan(a), a, out)

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> Tensor:
        a, = ctx.saved_tensors
        if not a.dtype.is_complex:
            return grad * 0
        # PyTorch's angle_backward: grad * z / |z|^2 * i, 0 at z = 0.
        magnitude = a.abs()
        at_zero = magnitude == 0
        scale = grad / where(at_zero, 1.0, magnitude * magnitude)
        return where(at_zero, 0.0, scale * a * 1j)


def angle(input: Tensor) -> Tensor:
    return Angle.apply(input)


# ----------------------------------------------------------------------------- view_as_real
class ViewAsReal(Function):
    """A complex tensor as a real one with a last dim of 2 (real, imaginary)."""

    node_name = "ViewAsRealBackward0"
    jvp = auto_linear  # linear over the reals: the op on the tangents

    @staticmethod
    def forward(ctx: Any, a: Any) -> Any:
        backend = ctx.backend
        return backend.stack([backend.real(a), backend.imag(a)], axis=-1)

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> Tensor:
        return complex(grad[..., 0], grad[..., 1])


def view_as_real(input: Tensor) -> Tensor:
    if not input.dtype.is_complex:
        raise RuntimeError("view_as_real is only supported for complex tensors")
    return ViewAsReal.apply(input)
