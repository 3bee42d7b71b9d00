"""Functions built around logarithms: logaddexp and logaddexp2, xlogy and xlog1py (x log y with
0 log 0 = 0), entr (-x log x), and logit (the log-odds, with an optional clamp `eps`).

Integer and bool inputs compute in the default float dtype, except logaddexp/logaddexp2, which
PyTorch implements for floating dtypes only. xlogy, xlog1py, entr come from the backend's
special functions (SciPy's on the CPU).
"""

from __future__ import annotations

import math
from typing import Any

from ..function import Function
from ..jvp_rules import auto_element_wise
from ..saved_fields import fields, number, saved, value
from ..tensor import Tensor
from ._checks import not_implemented_for_dtype, require_tensors
from ._promotion import float_dtype, in_float, promote
from .selection import where
from .unary import SpecialOfInput, log

_SCALARS = (bool, int, float)
_LN2 = math.log(2.0)


# ----------------------------------------------------------------------------- logaddexp
class Logaddexp(Function):
    """log(exp(a) + exp(b)), without overflow."""

    node_name = "LogaddexpBackward0"
    saved_fields = fields(self=saved(0), other=saved(1))
    kernel = "logaddexp"

    jvp = auto_element_wise

    @staticmethod
    def forward(ctx: Any, a: Any, b: Any) -> Any:
        backend = ctx.backend
        ctx.save_for_backward(a, b)
        a, b = promote(backend, a, b)
        if not backend.is_floating(a.dtype):
            raise not_implemented_for_dtype(ctx.kernel, backend, backend.dtype_name(a))
        return getattr(backend, ctx.kernel)(a, b)

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> tuple[Tensor | None, Tensor | None]:
        a, b = ctx.saved_tensors
        needs_a, needs_b = ctx.needs_input_grad
        return ((grad / (1 + (b - a).exp()) if needs_a else None),
                (grad / (1 + (a - b).exp()) if needs_b else None))


class Logaddexp2(Logaddexp):
    """log2(2 ** a + 2 ** b)."""

    node_name = "Logaddexp2Backward0"
    kernel = "logaddexp2"

    jvp = auto_element_wise

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> tuple[Tensor | None, Tensor | None]:
        a, b = ctx.saved_tensors
        needs_a, needs_b = ctx.needs_input_grad
        return ((grad / (1 + 2 ** (b - a)) if needs_a else None),
                (grad / (1 + 2 ** (a - b)) if needs_b else None))


def logaddexp(input: Tensor, other: Tensor) -> Tensor:
    require_tensors("logaddexp", ("input", input), ("other", other))
    return Logaddexp.apply(input, other)


def logaddexp2(input: Tensor, other: Tensor) -> Tensor:
    require_tensors("logaddexp2", ("input", input), ("other", other))
    return Logaddexp2.apply(input, other)


# ----------------------------------------------------------------------------- xlogy, xlog1py
class Xlogy(Function):
    """x * log(y), 0 where x == 0 (unless y is nan)."""

    node_name = "XlogyBackward0"
    saved_fields = fields(self=saved(0), other=saved(1))
    kernel = "xlogy"

    jvp = auto_element_wise

    @staticmethod
    def forward(ctx: Any, x: Any, y: Any) -> Any:
        backend = ctx.backend
        ctx.save_for_backward(x, y)
        return in_float(backend, getattr(backend, ctx.kernel), x, y)

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> tuple[Tensor | None, Tensor | None]:
        x, y = ctx.saved_tensors
        needs_x, needs_y = ctx.needs_input_grad
        # grad * log(y), but 0 where x == 0 and y <= 0 (where x log y is 0 for every y near)
        grad_x = where((x == 0) & (y <= 0), 0.0, xlogy(grad, y)) if needs_x else None
        grad_y = grad * x / y if needs_y else None
        return grad_x, grad_y


class XlogyNumberSelf(Xlogy):

    node_name = "XlogyBackward1"
    saved_fields = fields(self=number(0), other=saved(1))
    jvp = auto_element_wise


class XlogyNumberOther(Xlogy):

    node_name = "XlogyBackward2"
    saved_fields = fields(self=saved(0), other=number(1))
    jvp = auto_element_wise


def xlogy(input: Any, other: Any) -> Tensor:
    return _apply_binary(Xlogy, XlogyNumberSelf, XlogyNumberOther, input, other)


def xlogy_(input: Tensor, other: Any) -> Tensor:
    """In place: `input.xlogy_(other)`."""
    require_tensors("xlogy_", ("input", input))
    return input.xlogy_(other)


class Xlog1py(Xlogy):
    """x * log1p(y), 0 where x == 0 (unless y is nan)."""

    node_name = "SpecialXlog1PyBackward0"
    kernel = "xlog1py"

    jvp = auto_element_wise

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> tuple[Tensor | None, Tensor | None]:
        x, y = ctx.saved_tensors
        needs_x, needs_y = ctx.needs_input_grad
        grad_x = where((x == 0) & (y <= -1), 0.0, xlog1py(grad, y)) if needs_x else None
        grad_y = grad * x / (y + 1) if needs_y else None
        return grad_x, grad_y


class Xlog1pyNumberSelf(Xlog1py):

    node_name = "SpecialXlog1PyBackward1"
    saved_fields = fields(self=number(0), other=saved(1))
    jvp = auto_element_wise


class Xlog1pyNumberOther(Xlog1py):

    node_name = "SpecialXlog1PyBackward2"
    saved_fields = fields(self=saved(0), other=number(1))
    jvp = auto_element_wise


def xlog1py(input: Any, other: Any) -> Tensor:
    return _apply_binary(Xlog1py, Xlog1pyNumberSelf, Xlog1pyNumberOther, input, other)


def _apply_binary(tensors: type[Function], number_self: type[Function],
                  number_other: type[Function], input: Any, other: Any) -> Tensor:
    """Each of PyTorch's three overloads is a node of its own name."""
    if not isinstance(input, Tensor):
        return number_self.apply(input, other)
    if not isinstance(other, Tensor):
        return number_other.apply(input, other)
    return tensors.apply(input, other)


# ----------------------------------------------------------------------------- entr, logit
class Entr(SpecialOfInput):
    """-x log x: 0 at 0, -inf for negative x."""

    node_name = "SpecialEntrBackward0"
    kernel = "entr"

    jvp = auto_element_wise

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> Tensor:
        a, = ctx.saved_tensors
        return grad * -(1 + log(a))


def entr(input: Tensor) -> Tensor:
    return Entr.apply(input)


class Logit(Function):
    """log(p / (1 - p)); with `eps`, p is first clamped to [eps, 1 - eps]."""

    node_name = "LogitBackward0"
    saved_fields = fields(self=saved(0), eps=value("eps"))

    jvp = auto_element_wise

    @staticmethod
    def forward(ctx: Any, a: Any, *, eps: float | None) -> Any:
        backend = ctx.backend
        ctx.eps = eps
        ctx.save_for_backward(a)

        def compute(p: Any) -> Any:
            if eps is not None:
                p = backend.clip(p, eps, 1.0 - eps)
            return backend.log(backend.divide(p, backend.subtract(1.0, p)))

        return in_float(backend, compute, a, dtype=float_dtype(backend, a))

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> Tensor:
        a, = ctx.saved_tensors
        eps = ctx.eps
        slope = grad / (a * (1 - a))
        if eps is None:  # nan outside [0, 1], where the logit is not defined
            return where((a < 0) | (a > 1), math.nan, slope)
        return where((a < eps) | (a > 1 - eps), 0.0, slope)  # the clamp is flat there


def logit(input: Tensor, eps: float | None = None) -> Tensor:
    return Logit.apply(input, eps=eps)


def logit_(input: Tensor, eps: float | None = None) -> Tensor:
    """In place: `input.logit_(eps)`."""
    require_tensors("logit_", ("input", input))
    return input.logit_(eps)
