"""Bessel functions and their kin: the modified Bessel functions i0, i0e, i1, i1e (with
gradients), and the functions of `torch.special` that PyTorch does not differentiate (their
results never require grad, as in PyTorch): bessel_j0/j1/y0/y1, modified_bessel_i0/i1/k0/k1,
scaled_modified_bessel_k0/k1, spherical_bessel_j0 and airy_ai.

Values come from the backend's special functions (SciPy's on the CPU; `spherical_bessel_j0` is
built from primitives, with PyTorch's series near 0).
"""

from __future__ import annotations

from typing import Any

from .. import dtypes
from ..batching.dispatch import elementwise_op
from ..jvp_rules import auto_element_wise
from ..saved_fields import fields, saved
from ..tensor import Tensor, _wrap
from ._checks import not_implemented_for, require_tensors
from ._promotion import in_float
from .selection import where
from .unary import SpecialOfInput, SpecialOfOutput, sgn


# ----------------------------------------------------------------------------- differentiable
class I0(SpecialOfInput):
    """The modified Bessel function of the first kind, order 0."""

    node_name = "I0Backward0"
    kernel = "i0"

    jvp = auto_element_wise

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> Tensor:
        a, = ctx.saved_tensors
        return grad * i1(a)


def i0(input: Tensor) -> Tensor:
    return I0.apply(input)


def i0_(input: Tensor) -> Tensor:
    """In place: `input.i0_()`."""
    require_tensors("i0_", ("input", input))
    return input.i0_()


class I0e(SpecialOfOutput):
    """exp(-|x|) i0(x)."""

    node_name = "SpecialI0EBackward0"
    saved_fields = fields(self=saved(0), result=saved(1))
    kernel = "i0e"

    jvp = auto_element_wise

    @staticmethod
    def forward(ctx: Any, a: Any) -> Any:
        out = SpecialOfOutput.forward(ctx, a)
        ctx.save_for_backward(a, out)
        return out

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> Tensor:
        a, out = ctx.saved_tensors
        return grad * (i1e(a) - sgn(a) * out)


def i0e(input: Tensor) -> Tensor:
    return I0e.apply(input)


class I1(I0e):
    """The modified Bessel function of the first kind, order 1."""

    node_name = "SpecialI1Backward0"
    kernel = "i1"

    jvp = auto_element_wise

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> Tensor:
        a, out = ctx.saved_tensors
        # i0(x) - i1(x) / x, whose limit at 0 is 1/2 (PyTorch takes it below machine epsilon).
        tiny, safe = _away_from_zero(a)
        return grad * where(tiny, 0.5, i0(safe) - out / safe)


def i1(input: Tensor) -> Tensor:
    return I1.apply(input)


class I1e(I0e):
    """exp(-|x|) i1(x)."""

    node_name = "SpecialI1EBackward0"
    kernel = "i1e"

    jvp = auto_element_wise

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> Tensor:
        a, out = ctx.saved_tensors
        tiny, safe = _away_from_zero(a)
        return grad * where(tiny, 0.5, i0e(safe) - out * (sgn(safe) + 1 / safe))


def i1e(input: Tensor) -> Tensor:
    return I1e.apply(input)


def _away_from_zero(a: Tensor) -> tuple[Tensor, Tensor]:
    """Where |a| is at most machine epsilon, and `a` with those elements set to epsilon."""
    eps = _EPSILON[a.dtype.name]
    tiny = a.abs() <= eps
    return tiny, where(tiny, eps, a)


_EPSILON = {"float16": 2.0 ** -10, "bfloat16": 2.0 ** -7,
            "float32": 2.0 ** -23, "float64": 2.0 ** -52}


# ----------------------------------------------------------------------------- not differentiable
@elementwise_op
def _values(name: str, input: Tensor, compute: Any) -> Tensor:
    """`compute(array)` in PyTorch's floating dtype (no float16 kernel: PyTorch has none for
    these), as a tensor outside the graph."""
    backend = input._backend
    data = input._data
    if input.dtype is dtypes.float16:
        raise not_implemented_for(name, backend, data)
    return _wrap(in_float(backend, compute, data), backend)


def bessel_j0(input: Tensor) -> Tensor:
    """The Bessel function of the first kind, order 0."""
    return _values("bessel_j0", input, input._backend.j0)


def bessel_j1(input: Tensor) -> Tensor:
    return _values("bessel_j1", input, input._backend.j1)


def bessel_y0(input: Tensor) -> Tensor:
    """The Bessel function of the second kind, order 0."""
    return _values("bessel_y0", input, input._backend.y0)


def bessel_y1(input: Tensor) -> Tensor:
    return _values("bessel_y1", input, input._backend.y1)


def modified_bessel_i0(input: Tensor) -> Tensor:
    return _values("modified_bessel_i0", input, input._backend.i0)


def modified_bessel_i1(input: Tensor) -> Tensor:
    return _values("modified_bessel_i1", input, input._backend.i1)


def modified_bessel_k0(input: Tensor) -> Tensor:
    """The modified Bessel function of the second kind, order 0."""
    return _values("modified_bessel_k0", input, input._backend.k0)


def modified_bessel_k1(input: Tensor) -> Tensor:
    return _values("modified_bessel_k1", input, input._backend.k1)


def scaled_modified_bessel_k0(input: Tensor) -> Tensor:
    """exp(x) k0(x)."""
    return _values("scaled_modified_bessel_k0", input, input._backend.k0e)


def scaled_modified_bessel_k1(input: Tensor) -> Tensor:
    return _values("scaled_modified_bessel_k1", input, input._backend.k1e)


def airy_ai(input: Tensor) -> Tensor:
    """The Airy function Ai."""
    backend = input._backend
    return _values("airy_ai", input, lambda x: backend.airy(x)[0])


def spherical_bessel_j0(input: Tensor) -> Tensor:
    """sin(x) / x; below |x| = 1/2 PyTorch's Taylor series, 0 at infinity."""
    backend = input._backend

    def compute(x: Any) -> Any:
        square = backend.multiply(x, x)
        series = backend.zeros_like(x)
        for coefficient in _SPHERICAL_J0_SERIES:
            series = backend.add(backend.multiply(series, square), coefficient)
        small = backend.less(backend.abs(x), 0.5)
        safe = backend.where(small, backend.ones_like(x), x)
        large = backend.divide(backend.sin(safe), safe)
        out = backend.where(small, series, large)
        return backend.where(backend.isinf(x), backend.zeros_like(x), out)

    return _values("spherical_bessel_j0", input, compute)


# sin(x)/x = sum (-1)^k x^2k / (2k + 1)!, highest power first (Horner's scheme).
_SPHERICAL_J0_SERIES = (
    1.0 / 6227020800.0, -1.0 / 39916800.0, 1.0 / 362880.0, -1.0 / 5040.0, 1.0 / 120.0,
    -1.0 / 6.0, 1.0,
)
