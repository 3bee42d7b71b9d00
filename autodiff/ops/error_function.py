"""The error function's relatives and the standard normal distribution: erfc, erfinv, erfcx
(the scaled complement), ndtr (the normal CDF), ndtri (its inverse) and log_ndtr. (erf itself is
a fused kernel, in `unary`.)

Values come from the backend's special functions (SciPy's on the CPU); gradients are PyTorch's
formulas, written with Tensor ops so they can be differentiated again.
"""

from __future__ import annotations

import math
from typing import Any

from ..autocast_state import autocast_op
from ..jvp_rules import auto_element_wise
from ..saved_fields import fields, saved
from ..tensor import Tensor
from ._checks import require_tensors
from .sparse_coo import OnValues
from .unary import SpecialOfInput, SpecialOfOutput, exp, special_values

_TWO_OVER_SQRT_PI = 2.0 / math.sqrt(math.pi)
_HALF_SQRT_PI = 0.5 * math.sqrt(math.pi)
_SQRT_TWO_PI = math.sqrt(2.0 * math.pi)


class Erfc(SpecialOfInput):
    """1 - erf(x), accurate where erf(x) is close to 1."""

    node_name = "ErfcBackward0"
    kernel = "erfc"

    jvp = auto_element_wise

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> Tensor:
        a, = ctx.saved_tensors
        return grad * (exp(-(a * a)) * -_TWO_OVER_SQRT_PI)


def erfc(input: Tensor) -> Tensor:
    return Erfc.apply(input)


def erfc_(input: Tensor) -> Tensor:
    """In place: `input.erfc_()`."""
    require_tensors("erfc_", ("input", input))
    return input.erfc_()


class Erfinv(SpecialOfOutput):
    sparse_form = OnValues()
    node_name = "ErfinvBackward0"
    saved_fields = fields(self=saved(0))
    kernel = "erfinv"

    jvp = auto_element_wise

    @staticmethod
    def forward(ctx: Any, a: Any) -> Any:
        backend = ctx.backend
        out = special_values(ctx, a)
        out = backend.where(backend.equal(out, 0), backend.astype(a, backend.dtype_name(out)),
                            out)  # erfinv(-0) is -0, as in PyTorch
        ctx.save_for_backward(a, out)  # a: PyTorch's node keeps it (grad_fn._saved_self)
        return out

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> Tensor:
        _, out = ctx.saved_tensors
        return grad * (exp(out * out) * _HALF_SQRT_PI)


@autocast_op("erfinv")
def erfinv(input: Tensor) -> Tensor:
    return Erfinv.apply(input)


class Erfcx(SpecialOfInput):
    """exp(x^2) erfc(x), without the overflow of either factor."""

    node_name = "SpecialErfcxBackward0"
    saved_fields = fields(self=saved(0), result=saved(1))
    kernel = "erfcx"
    half_kernel = "erfcx"

    jvp = auto_element_wise

    @staticmethod
    def forward(ctx: Any, a: Any) -> Any:
        out = SpecialOfInput.forward(ctx, a)
        ctx.save_for_backward(a, out)
        return out

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> Tensor:
        a, out = ctx.saved_tensors
        return grad * (2.0 * a * out - _TWO_OVER_SQRT_PI)


def erfcx(input: Tensor) -> Tensor:
    return Erfcx.apply(input)


class Ndtr(SpecialOfInput):
    """The standard normal CDF. PyTorch composes it as (1 + erf(x / sqrt 2)) * 0.5, so its node
    is that of the last product."""

    node_name = "MulBackward1"
    kernel = "ndtr"

    jvp = auto_element_wise

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> Tensor:
        a, = ctx.saved_tensors
        return grad * (exp(a * a * -0.5) / _SQRT_TWO_PI)


def ndtr(input: Tensor) -> Tensor:
    return Ndtr.apply(input)


class Ndtri(SpecialOfOutput):
    """The inverse of ndtr (the standard normal quantile)."""

    node_name = "SpecialNdtriBackward0"
    kernel = "ndtri"
    half_kernel = "ndtri"

    jvp = auto_element_wise

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> Tensor:
        out, = ctx.saved_tensors
        return grad * (exp(out * out * 0.5) * _SQRT_TWO_PI)


def ndtri(input: Tensor) -> Tensor:
    return Ndtri.apply(input)


class LogNdtr(SpecialOfInput):
    node_name = "SpecialLogNdtrBackward0"
    saved_fields = fields(self=saved(0), result=saved(1))
    kernel = "log_ndtr"
    half_kernel = "log_ndtr"

    jvp = auto_element_wise

    @staticmethod
    def forward(ctx: Any, a: Any) -> Any:
        out = SpecialOfInput.forward(ctx, a)
        ctx.save_for_backward(a, out)
        return out

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> Tensor:
        a, out = ctx.saved_tensors
        # The normal density over the CDF, as exp(-(log_ndtr + x^2 / 2)) / sqrt(2 pi).
        return grad * (exp(-(out + a * a * 0.5)) / _SQRT_TWO_PI)


def log_ndtr(input: Tensor) -> Tensor:
    return LogNdtr.apply(input)
