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
from ..jvp_rules import auto_element_wise, auto_linear, rule_facts
from ..saved_fields import fields, saved
from ..tensor import Tensor
from ..user_warnings import warn
from ._checks import require_tensors, same_device, scalar_type_name
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
    out = Imag.apply(input)
    out._is_neg = input._is_conj  # PyTorch's imag of a conjugate view is a negative view
    return out


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
    """The complex conjugate; a real tensor itself. The result reports is_conj() as PyTorch's
    lazy conjugate does (here its values are conjugated at once)."""
    # The backend's dtype set, not `input.dtype`: no dtype object per call (backward formulas
    # conjugate every real saved tensor on their way).
    if input._data.dtype not in input._backend.complex_dtypes:
        return input
    out = Conj.apply(input)
    out._is_conj = not input._is_conj
    return out


def conj_physical_(input: Tensor) -> Tensor:
    """In place: `input.conj_physical_()`."""
    require_tensors("conj_physical_", ("input", input))
    return input.conj_physical_()


def is_conj(input: Tensor) -> bool:
    """Whether the tensor is a conjugate view (conj() of a complex tensor) not yet resolved."""
    require_tensors("is_conj", ("input", input))
    return input._is_conj


def is_neg(input: Tensor) -> bool:
    """Whether the tensor is a negated view (the imag of a conjugate view) not yet resolved."""
    require_tensors("is_neg", ("input", input))
    return input._is_neg


def resolve_conj(input: Tensor) -> Tensor:
    """A tensor with is_conj() False and the same values: a copy of a conjugate view, the
    tensor itself otherwise."""
    require_tensors("resolve_conj", ("input", input))
    if not input._is_conj:
        return input
    out = input.clone()
    out._is_conj = False
    return out


def resolve_neg(input: Tensor) -> Tensor:
    require_tensors("resolve_neg", ("input", input))
    if not input._is_neg:
        return input
    out = input.clone()
    out._is_neg = False
    return out


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


def _check_parts(first: Tensor, second: Tensor) -> None:
    """complex's and polar's argument checks, in PyTorch's order and words: one device, both
    float32 or float64, the same dtype, broadcastable shapes."""
    same_device(first, second)
    for tensor in (first, second):
        if tensor.dtype not in (dtypes.float32, dtypes.float64):
            raise RuntimeError(
                "Expected both inputs to be Half, Float or Double tensors but got "
                f"{scalar_type_name(first)} and {scalar_type_name(second)}")
    if first.dtype is not second.dtype:
        raise RuntimeError(
            f"Expected object of scalar type {scalar_type_name(first)} but got scalar type "
            f"{scalar_type_name(second)} for second argument")
    if first._data.shape != second._data.shape:
        check_broadcast(first._data.shape, second._data.shape)


def complex(real: Tensor, imag: Tensor) -> Tensor:
    """The complex tensor with these real and imaginary parts (float32 gives complex64, float64
    complex128)."""
    _check_parts(real, imag)
    return Complex.apply(real, imag)


class Angle(Function):
    """The argument of each element: atan2(imag, real) for complex tensors; 0 or pi for real
    ones (pi for negative numbers; NaN stays NaN)."""

    node_name = "AngleBackward0"
    saved_fields = fields(self=saved(0))

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


class ViewAsComplex(Function):
    """A real tensor with a last dim of 2 read as (real, imaginary) pairs."""

    node_name = "ViewAsComplexBackward0"
    jvp = auto_linear  # linear over the reals: the op on the tangents

    @staticmethod
    def forward(ctx: Any, a: Any) -> Any:
        backend = ctx.backend
        return backend.complex_of(backend.getitem(a, (..., 0)), backend.getitem(a, (..., 1)))

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> Tensor:
        return view_as_real(grad)


def view_as_complex(input: Tensor) -> Tensor:
    if input.dtype not in (dtypes.float16, dtypes.float32, dtypes.float64):
        raise RuntimeError(
            "view_as_complex is only supported for half, float and double tensors, but got a "
            f"tensor of scalar type: {scalar_type_name(input)}")
    if input._data.ndim == 0 or input._data.shape[-1] != 2:
        raise RuntimeError("Tensor must have a last dimension of size 2")
    return ViewAsComplex.apply(input)


# ----------------------------------------------------------------------------- polar
class Polar(Function):
    """abs * (cos(angle) + i sin(angle))."""

    node_name = "PolarBackward0"

    @staticmethod
    def forward(ctx: Any, magnitude: Any, phase: Any) -> Any:
        backend = ctx.backend
        ctx.save_for_backward(magnitude, phase)
        return backend.complex_of(backend.multiply(magnitude, backend.cos(phase)),
                                  backend.multiply(magnitude, backend.sin(phase)))

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> tuple[Tensor | None, Tensor | None]:
        magnitude, phase = ctx.saved_tensors
        needs_abs, needs_angle = ctx.needs_input_grad
        # z = r e^{i t}: dL/dr = Re(g conj(e^{i t})), dL/dt = Re(g conj(i z)).
        cos, sin = phase.cos(), phase.sin()
        re, im = real(grad), imag(grad)
        grad_abs = re * cos + im * sin if needs_abs else None
        grad_angle = magnitude * (im * cos - re * sin) if needs_angle else None
        return grad_abs, grad_angle

    @staticmethod
    @rule_facts(complex_safe=True)
    def jvp(ctx: Any, tangent_abs: Tensor | None, tangent_angle: Tensor | None) -> Tensor:
        # dz = e^{i t} dr + i z dt, its real and imaginary parts built from real tensors
        magnitude, phase = ctx.saved_tensors
        cos, sin = phase.cos(), phase.sin()
        re_parts, im_parts = [], []
        if tangent_abs is not None:
            re_parts.append(tangent_abs * cos)
            im_parts.append(tangent_abs * sin)
        if tangent_angle is not None:
            re_parts.append(-(magnitude * sin * tangent_angle))
            im_parts.append(magnitude * cos * tangent_angle)
        re, im = re_parts[0], im_parts[0]
        if len(re_parts) == 2:
            re, im = re + re_parts[1], im + im_parts[1]
        return complex(re, im)


def polar(abs: Tensor, angle: Tensor) -> Tensor:
    """The complex tensor with these magnitudes and phases. The gradient of abs is the
    derivative e^{i angle} also where abs < 0 (PyTorch 2.13 uses sgn(result), the opposite
    sign there)."""
    _check_parts(abs, angle)
    return Polar.apply(abs, angle)


# ----------------------------------------------------------------------------- adjoints
def adjoint(input: Tensor) -> Tensor:
    """The conjugate transpose of the last two dims (Tensor.mH)."""
    if input._data.ndim < 2:
        raise RuntimeError(
            "tensor.adjoint() is only supported on matrices or batches of matrices. Got "
            f"{input._data.ndim}-D tensor.")
    return conj(input.transpose(-2, -1))


def matrix_H(input: Tensor) -> Tensor:
    """Tensor.mH: the conjugate transpose of the last two dims."""
    if input._data.ndim < 2:
        raise RuntimeError(
            "tensor.mH is only supported on matrices or batches of matrices. Got "
            f"{input._data.ndim}-D tensor.")
    return conj(input.transpose(-2, -1))


def H(input: Tensor) -> Tensor:
    """Tensor.H: the conjugate transpose of a matrix (or a 0-d/1-d tensor as it is)."""
    ndim = input._data.ndim
    if ndim == 0:
        warn("Tensor.H is deprecated on 0-D tensors. Consider using x.conj().",
             UserWarning, stacklevel=3)
        return conj(input)
    if ndim != 2:
        raise RuntimeError(
            f"tensor.H is only supported on matrices (2-D tensors). Got {ndim}-D tensor."
            + (" For batches of matrices, consider using tensor.mH" if ndim > 2 else ""))
    return conj(input.transpose(0, 1))
