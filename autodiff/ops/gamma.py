"""The gamma function's family: lgamma, digamma, polygamma, mvlgamma (multivariate lgamma), the
regularized incomplete gamma functions igamma/igammac, and the Hurwitz zeta function.

Values come from the backend's special functions (SciPy's `gammaln`, `psi`, `polygamma`,
`gammainc`, `gammaincc`, `zeta` on the CPU); integers and bools compute in the default float
dtype, float16 in float32. As in PyTorch, igamma and zeta have no derivative with respect to
their first argument (backward raises); polygamma's derivative is polygamma of the next order.
The values agree with PyTorch's except where its own are floating noise or undefined: at the
poles of trigamma (negative integers) SciPy gives inf where PyTorch gives a huge finite number.
"""

from __future__ import annotations

import math
from typing import Any

from .. import dtypes
from ..function import Function
from ..jvp_rules import auto_element_wise
from ..saved_fields import fields, number, saved, value
from ..tensor import Tensor
from ._checks import not_implemented_for_dtype, require_tensors
from ._promotion import float_dtype, in_float
from .unary import SpecialOfInput, exp, log

_SCALARS = (bool, int, float)


# ----------------------------------------------------------------------------- lgamma, digamma
class Lgamma(SpecialOfInput):
    """log |gamma(x)|."""

    node_name = "LgammaBackward0"
    kernel = "gammaln"

    jvp = auto_element_wise

    @staticmethod
    def forward(ctx: Any, a: Any) -> Any:
        out = SpecialOfInput.forward(ctx, a)
        backend = ctx.backend
        # PyTorch's lgamma(-inf) is inf (SciPy's is -inf): log|gamma| grows without bound.
        return backend.where(backend.isinf(out), backend.abs(out), out)

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> Tensor:
        a, = ctx.saved_tensors
        return grad * digamma(a)


def lgamma(input: Tensor) -> Tensor:
    return Lgamma.apply(input)


class Digamma(SpecialOfInput):
    node_name = "DigammaBackward0"
    kernel = "psi"

    jvp = auto_element_wise

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> Tensor:
        a, = ctx.saved_tensors
        return grad * polygamma(1, a)


def digamma(input: Tensor) -> Tensor:
    return Digamma.apply(input)


psi = digamma


class Polygamma(Function):
    """The n-th derivative of digamma."""

    node_name = "PolygammaBackward0"
    saved_fields = fields(self=saved(0), n=value("n"))

    jvp = auto_element_wise

    @staticmethod
    def forward(ctx: Any, a: Any, *, n: int) -> Any:
        ctx.n = n
        ctx.save_for_backward(a)
        backend = ctx.backend
        if n == 0:
            return in_float(backend, backend.psi, a)
        out = in_float(backend, lambda x: backend.polygamma(n, x), a)
        # PyTorch computes n >= 2 as n! zeta(n + 1, x), whose zeta is nan at x = inf; trigamma
        # (n = 1) is nan at -inf. SciPy gives the limits; PyTorch's values are kept.
        infinite = backend.isinf(a) if n >= 2 else backend.logical_and(
            backend.isinf(a), backend.less(a, 0))
        return backend.where(infinite, backend.full(out.shape, math.nan,
                                                    backend.dtype_name(out)), out)

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> Tensor:
        a, = ctx.saved_tensors
        return grad * polygamma(ctx.n + 1, a)


def polygamma(n: int, input: Tensor) -> Tensor:
    if not isinstance(n, int) or isinstance(n, bool):
        raise TypeError(
            f"polygamma(): argument 'n' (position 1) must be int, not {type(n).__name__}")
    if n < 0:
        raise RuntimeError("polygamma(n, x) does not support negative n.")
    return Polygamma.apply(input, n=n)


class Mvlgamma(Function):
    """The multivariate log-gamma function of dimension p: sum over i < p of lgamma(x - i/2),
    plus p (p - 1) / 4 log(pi)."""

    node_name = "MvlgammaBackward0"
    saved_fields = fields(self=saved(0), p=value("p"))

    jvp = auto_element_wise

    @staticmethod
    def forward(ctx: Any, a: Any, *, p: int) -> Any:
        backend = ctx.backend
        ctx.p = p
        ctx.save_for_backward(a)

        def compute(x: Any) -> Any:
            total = backend.gammaln(x)
            for i in range(1, p):
                total = backend.add(total, backend.gammaln(backend.subtract(x, i / 2)))
            return backend.add(total, p * (p - 1) / 4 * math.log(math.pi))

        return in_float(backend, compute, a)

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> Tensor:
        a, = ctx.saved_tensors
        total = digamma(a)
        for i in range(1, ctx.p):
            total = total + digamma(a - i / 2)
        return grad * total


def mvlgamma(input: Tensor, p: int) -> Tensor:
    if input.dtype is dtypes.bool_:
        raise RuntimeError("The input tensor may not be a boolean tensor.")
    if p < 1:
        raise RuntimeError("p has to be greater than or equal to 1")
    return Mvlgamma.apply(input, p=p)


def multigammaln(input: Tensor, p: int) -> Tensor:
    return mvlgamma(input, p)


# ----------------------------------------------------------------------------- incomplete gamma
class Igamma(Function):
    """The regularized lower incomplete gamma function P(a, x) (SciPy's gammainc)."""

    node_name = "IgammaBackward0"
    saved_fields = fields(self=saved(0), other=saved(1))
    kernel = "gammainc"
    kernel_name = "igamma"
    sign = 1.0

    jvp = auto_element_wise

    @staticmethod
    def forward(ctx: Any, a: Any, x: Any) -> Any:
        backend = ctx.backend
        ctx.save_for_backward(a, x)
        dtype = _igamma_dtype(ctx.kernel_name, backend, a, x)
        return in_float(backend, getattr(backend, ctx.kernel), a, x, dtype=dtype)

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> tuple[None, Tensor | None]:
        a, x = ctx.saved_tensors
        needs_a = ctx.needs_input_grad[0]
        if needs_a:
            raise NotImplementedError(
                f"the derivative for '{ctx.kernel_name}: input' is not implemented.")
        # d/dx P(a, x) = x^(a - 1) e^(-x) / gamma(a)
        density = exp((a - 1) * log(x) - x - lgamma(a))
        return None, grad * density * ctx.sign


def _igamma_dtype(name: str, backend: Any, a: Any, x: Any) -> str:
    """The promoted dtype, which must be floating (PyTorch has no integer kernel)."""
    kind = dtypes.result_type((dtypes.BY_NAME[backend.dtype_name(a)], a.ndim),
                              (dtypes.BY_NAME[backend.dtype_name(x)], x.ndim))
    if not kind.is_floating_point:
        raise not_implemented_for_dtype(name, backend, kind.name)
    return kind.name


class Igammac(Igamma):
    """The regularized upper incomplete gamma function Q(a, x) = 1 - P(a, x)."""

    node_name = "IgammacBackward0"
    kernel = "gammaincc"
    kernel_name = "igammac"

    sign = -1.0
    jvp = auto_element_wise


def igamma(input: Tensor, other: Tensor) -> Tensor:
    require_tensors("igamma", ("input", input), ("other", other))
    return Igamma.apply(input, other)


def igammac(input: Tensor, other: Tensor) -> Tensor:
    require_tensors("igammac", ("input", input), ("other", other))
    return Igammac.apply(input, other)


def gammainc(input: Tensor, other: Tensor) -> Tensor:
    require_tensors("special_gammainc", ("input", input), ("other", other))
    return Igamma.apply(input, other)


def gammaincc(input: Tensor, other: Tensor) -> Tensor:
    require_tensors("special_gammaincc", ("input", input), ("other", other))
    return Igammac.apply(input, other)


# ----------------------------------------------------------------------------- zeta
class Zeta(Function):
    """The Hurwitz zeta function: the sum over k >= 0 of (q + k) ** -x."""

    node_name = "SpecialZetaBackward0"
    saved_fields = fields(self=saved(0), other=saved(1))

    jvp = auto_element_wise

    @staticmethod
    def forward(ctx: Any, x: Any, q: Any) -> Any:
        backend = ctx.backend
        ctx.save_for_backward(x, q)
        dtype = float_dtype(backend, x, q)
        if dtype == "float16":
            raise not_implemented_for_dtype("zeta", backend, dtype)
        out = in_float(backend, backend.zeta, x, q, dtype=dtype)
        # PyTorch's zeta is nan at q = inf (SciPy's is the limit, 0); PyTorch's is kept.
        q_array = q if type(q) not in _SCALARS else backend.full(out.shape, q,
                                                                 backend.dtype_name(out))
        return backend.where(backend.isinf(q_array), backend.full(
            out.shape, math.nan, backend.dtype_name(out)), out)

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> tuple[None, Tensor | None]:
        x, q = ctx.saved_tensors
        needs_x = ctx.needs_input_grad[0]
        if needs_x:
            raise NotImplementedError("the derivative for 'zeta' is not implemented.")
        return None, grad * -x * zeta(x + 1.0, q)


class ZetaNumberSelf(Zeta):

    node_name = "SpecialZetaBackward1"
    saved_fields = fields(self=number(0), other=saved(1))
    jvp = auto_element_wise


class ZetaNumberOther(Zeta):

    node_name = "SpecialZetaBackward2"
    saved_fields = fields(self=saved(0), other=number(1))
    jvp = auto_element_wise


def zeta(input: Any, other: Any) -> Tensor:
    if not isinstance(input, Tensor):
        if not isinstance(other, Tensor):
            raise TypeError(
                "special_zeta() received an invalid combination of arguments - got "
                f"({type(input).__name__}, {type(other).__name__}), but expected one of:\n"
                " * (Tensor input, Tensor other, *, Tensor out = None)\n"
                " * (Number self, Tensor other, *, Tensor out = None)\n"
                " * (Tensor input, Number other, *, Tensor out = None)\n")
        return ZetaNumberSelf.apply(input, other)
    if not isinstance(other, Tensor):
        return ZetaNumberOther.apply(input, other)
    return Zeta.apply(input, other)
