"""Unary math: exp and log (with their variants, exp2), erf, sqrt and rsqrt, abs and sign (sgn,
positive), rounding (frac), trigonometric and hyperbolic functions (with atan2, their inverses,
deg2rad/rad2deg and sinc).

Integer and bool inputs compute in the default float dtype, as in PyTorch, except abs, sign and
the rounding functions, which keep integer dtypes. Gradients follow PyTorch's formulas
(derivatives.yaml), written with Tensor ops so they can be differentiated again.
"""

from __future__ import annotations

import builtins
import math
from typing import Any, ClassVar

from .. import dtypes
from ..autocast_state import autocast_op
from ..creation import zeros_like
from ..function import Function
from ..jvp_rules import auto_element_wise, rule_facts, sum_terms
from ..saved_fields import fields, saved
from ..tensor import Tensor
from ._checks import not_implemented_for, require_floating, require_tensors
from ._out import CAST, SAME, takes_out
from ._promotion import default_float, in_float, promote
from .holomorphic import Holomorphic
from .selection import maximum, where
from .sparse_coo import OnValues

_PI = math.pi
_LN2 = math.log(2.0)
_LN10 = math.log(10.0)
_TWO_OVER_SQRT_PI = 2.0 / math.sqrt(math.pi)


class UnaryOfInput(Holomorphic, Function):
    """An elementwise function `backend.<kernel>` of one tensor, computed in a floating dtype
    (integers and bools in the default one), whose backward is written with its input.
    Subclasses set `node_name` and `kernel` and write `backward`."""

    kernel: ClassVar[str]
    saved_fields = fields(self=saved(0))

    jvp = auto_element_wise

    @staticmethod
    def forward(ctx: Any, a: Any) -> Any:
        ctx.save_for_backward(a)
        return getattr(ctx.backend, ctx.kernel)(default_float(ctx.backend, a))


class UnaryOfOutput(Holomorphic, Function):
    """As `UnaryOfInput`, for functions whose backward is written with their output (exp,
    sqrt, tanh, ...)."""

    kernel: ClassVar[str]
    saved_fields = fields(result=saved(0))

    jvp = auto_element_wise

    @staticmethod
    def forward(ctx: Any, a: Any) -> Any:
        out = getattr(ctx.backend, ctx.kernel)(default_float(ctx.backend, a))
        ctx.save_for_backward(out)
        return out


class SpecialOfInput(Function):
    """As `UnaryOfInput`, for a function of the backend's `SpecialFunctions` (SciPy's on the
    CPU): computed in PyTorch's floating dtype (`_promotion.in_float`: float16 in float32), or
    refused for float16 where PyTorch has no Half kernel (`half_kernel` names it)."""

    kernel: ClassVar[str]
    half_kernel: ClassVar[str | None] = None
    saved_fields = fields(self=saved(0))

    jvp = auto_element_wise

    @staticmethod
    def forward(ctx: Any, a: Any) -> Any:
        ctx.save_for_backward(a)
        return special_values(ctx, a)


class SpecialOfOutput(SpecialOfInput):
    """As `SpecialOfInput`, for functions whose backward is written with their output."""

    saved_fields = fields(result=saved(0))

    jvp = auto_element_wise

    @staticmethod
    def forward(ctx: Any, a: Any) -> Any:
        out = special_values(ctx, a)
        ctx.save_for_backward(out)
        return out


def special_values(ctx: Any, a: Any) -> Any:
    """`backend.<ctx.kernel>(a)` in PyTorch's dtype (see SpecialOfInput)."""
    backend = ctx.backend
    if ctx.half_kernel is not None and backend.dtype_name(a) == "float16":
        raise not_implemented_for(ctx.half_kernel, backend, a)
    return in_float(backend, getattr(backend, ctx.kernel), a)


# ----------------------------------------------------------------------------- exp and log
class Exp(UnaryOfOutput):
    node_name = "ExpBackward0"
    kernel = "exp"

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> Tensor:
        out, = ctx.saved_tensors
        return grad * out


@takes_out(CAST)
@autocast_op("exp")
def exp(input: Tensor) -> Tensor:
    return Exp.apply(input)


def exp_(input: Tensor) -> Tensor:
    """In place: `input.exp_()`."""
    require_tensors("exp_", ("input", input))
    return input.exp_()


class Log(UnaryOfInput):
    node_name = "LogBackward0"
    kernel = "log"

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> Tensor:
        a, = ctx.saved_tensors
        return grad / a


@takes_out(CAST)
@autocast_op("log")
def log(input: Tensor) -> Tensor:
    return Log.apply(input)


def log_(input: Tensor) -> Tensor:
    """In place: `input.log_()`."""
    require_tensors("log_", ("input", input))
    return input.log_()


class Expm1(UnaryOfOutput):
    sparse_form = OnValues()
    node_name = "Expm1Backward0"
    kernel = "expm1"

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> Tensor:
        out, = ctx.saved_tensors
        return grad * (out + 1)


@takes_out(CAST)
@autocast_op("expm1")
def expm1(input: Tensor) -> Tensor:
    return Expm1.apply(input)


def expm1_(input: Tensor) -> Tensor:
    """In place: `input.expm1_()`."""
    require_tensors("expm1_", ("input", input))
    return input.expm1_()


class Log1p(UnaryOfInput):
    sparse_form = OnValues()
    node_name = "Log1PBackward0"
    kernel = "log1p"

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> Tensor:
        a, = ctx.saved_tensors
        return grad / (a + 1)


@takes_out(CAST)
@autocast_op("log1p")
def log1p(input: Tensor) -> Tensor:
    return Log1p.apply(input)


def log1p_(input: Tensor) -> Tensor:
    """In place: `input.log1p_()`."""
    require_tensors("log1p_", ("input", input))
    return input.log1p_()


class Log2(UnaryOfInput):
    node_name = "Log2Backward0"
    kernel = "log2"
    log_of_base = _LN2

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> Tensor:
        a, = ctx.saved_tensors
        return grad / (a * ctx.log_of_base)


@takes_out(CAST)
@autocast_op("log2")
def log2(input: Tensor) -> Tensor:
    return Log2.apply(input)


def log2_(input: Tensor) -> Tensor:
    """In place: `input.log2_()`."""
    require_tensors("log2_", ("input", input))
    return input.log2_()


class Log10(Log2):
    node_name = "Log10Backward0"
    kernel = "log10"
    log_of_base = _LN10


@takes_out(CAST)
@autocast_op("log10")
def log10(input: Tensor) -> Tensor:
    return Log10.apply(input)


def log10_(input: Tensor) -> Tensor:
    """In place: `input.log10_()`."""
    require_tensors("log10_", ("input", input))
    return input.log10_()

class Exp2(UnaryOfOutput):
    node_name = "Exp2Backward0"
    kernel = "exp2"

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> Tensor:
        out, = ctx.saved_tensors
        return grad * (out * _LN2)


def exp2(input: Tensor) -> Tensor:
    """2 ** input."""
    return Exp2.apply(input)


def exp2_(input: Tensor) -> Tensor:
    """In place: `input.exp2_()`."""
    require_tensors("exp2_", ("input", input))
    return input.exp2_()


class Erf(Function):
    sparse_form = OnValues()
    node_name = "ErfBackward0"
    saved_fields = fields(self=saved(0))

    jvp = auto_element_wise

    @staticmethod
    def forward(ctx: Any, a: Any) -> Any:
        ctx.save_for_backward(a)
        backend = ctx.backend
        a = default_float(backend, a)
        name = backend.dtype_name(a)
        if name in ("float16", "bfloat16"):  # computed in float32, as PyTorch's opmath
            return backend.astype(backend.erf(backend.astype(a, "float32")), name)
        return backend.erf(a)

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> Tensor:
        a, = ctx.saved_tensors
        return grad * (exp(-(a * a)) * _TWO_OVER_SQRT_PI)


@takes_out(CAST)
def erf(input: Tensor) -> Tensor:
    return Erf.apply(input)


def erf_(input: Tensor) -> Tensor:
    """In place: `input.erf_()`."""
    require_tensors("erf_", ("input", input))
    return input.erf_()


# ----------------------------------------------------------------------------- roots
class Sqrt(UnaryOfOutput):
    sparse_form = OnValues()
    node_name = "SqrtBackward0"
    kernel = "sqrt"

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> Tensor:
        out, = ctx.saved_tensors
        return grad / (2 * out)


@takes_out(CAST)
def sqrt(input: Tensor) -> Tensor:
    return Sqrt.apply(input)


def sqrt_(input: Tensor) -> Tensor:
    """In place: `input.sqrt_()`."""
    require_tensors("sqrt_", ("input", input))
    return input.sqrt_()


class Rsqrt(Holomorphic, Function):
    node_name = "RsqrtBackward0"
    saved_fields = fields(result=saved(0))

    jvp = auto_element_wise

    @staticmethod
    def forward(ctx: Any, a: Any) -> Any:
        out = ctx.backend.divide(1.0, ctx.backend.sqrt(default_float(ctx.backend, a)))
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> Tensor:
        out, = ctx.saved_tensors
        return grad * (out * out * out * -0.5)


@takes_out(CAST)
@autocast_op("rsqrt")
def rsqrt(input: Tensor) -> Tensor:
    return Rsqrt.apply(input)


def rsqrt_(input: Tensor) -> Tensor:
    """In place: `input.rsqrt_()`."""
    require_tensors("rsqrt_", ("input", input))
    return input.rsqrt_()


# ----------------------------------------------------------------------------- abs and sign
class Abs(Function):
    sparse_form = OnValues()
    node_name = "AbsBackward0"
    saved_fields = fields(self=saved(0))

    jvp = auto_element_wise

    @staticmethod
    def forward(ctx: Any, a: Any) -> Any:
        if ctx.backend.is_bool(a.dtype):
            raise not_implemented_for("abs", ctx.backend, a)
        ctx.save_for_backward(a)
        return ctx.backend.abs(a)

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> Tensor:
        a, = ctx.saved_tensors
        return grad * (sgn(a) if a.is_complex() else sign(a))


@takes_out(SAME)
def abs(input: Tensor) -> Tensor:
    return Abs.apply(input)


def abs_(input: Tensor) -> Tensor:
    """In place: `input.abs_()`."""
    require_tensors("abs_", ("input", input))
    return input.abs_()


absolute = abs


class Sign(Function):
    sparse_form = OnValues()
    node_name = "SignBackward0"

    jvp = auto_element_wise

    @staticmethod
    def forward(ctx: Any, a: Any) -> Any:
        backend = ctx.backend
        if backend.is_bool(a.dtype):
            return backend.asarray(a, copy=True)  # sign of a bool is the bool
        out = backend.sign(a)
        if backend.is_floating(a.dtype):  # PyTorch's sign of NaN is 0 (NumPy's is NaN)
            out = backend.where(backend.isnan(out), backend.zeros_like(out), out)
        return out

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> Tensor:
        return zeros_like(grad)


@takes_out(SAME)
def sign(input: Tensor) -> Tensor:
    return Sign.apply(input)


class Sgn(Function):
    """sign, extended to complex numbers (z / |z|, 0 at 0); on real tensors it is sign."""

    sparse_form = OnValues()
    node_name = "SgnBackward0"
    saved_fields = fields(self=saved(0), result=saved(1))

    jvp = auto_element_wise

    @staticmethod
    def forward(ctx: Any, a: Any) -> Any:
        backend = ctx.backend
        if not backend.is_complex(a.dtype):
            return Sign.forward(ctx, a)
        magnitude = backend.abs(a)
        at_zero = backend.equal(magnitude, 0)
        safe = backend.where(at_zero, backend.ones_like(magnitude), magnitude)
        out = backend.where(at_zero, backend.zeros_like(a), backend.divide(a, safe))
        ctx.save_for_backward(a, out)
        return out

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> Tensor:
        if not ctx.saved_tensors:
            return zeros_like(grad)
        a, out = ctx.saved_tensors
        # z / |z| is not holomorphic: (g - sgn^2 conj(g)) / (2 |z|), 0 at 0 (PyTorch's).
        magnitude = a.abs()
        at_zero = magnitude == 0
        scaled = (grad - out * out * grad.conj()) / (where(at_zero, 1.0, magnitude) * 2)
        return where(at_zero, 0.0, scaled)


def sgn(input: Tensor) -> Tensor:
    return Sgn.apply(input)


def positive(input: Tensor) -> Tensor:
    """The input itself (`+input`), as in PyTorch; refused for bool tensors."""
    if input.dtype is dtypes.bool_:
        raise RuntimeError("The `+` operator, on a bool tensor is not supported.")
    return input


# ----------------------------------------------------------------------------- rounding
class _Rounding(Function):
    """floor/ceil/round/trunc: integers pass through unchanged; the gradient is zero."""

    sparse_form = OnValues()
    kernel: ClassVar[str]

    jvp = auto_element_wise

    @staticmethod
    def forward(ctx: Any, a: Any) -> Any:
        backend = ctx.backend
        if backend.is_floating(a.dtype):
            return getattr(backend, ctx.kernel)(a)
        if backend.is_bool(a.dtype):
            raise not_implemented_for(f"{ctx.kernel}_vml", backend, a)
        return backend.asarray(a, copy=True)

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> Tensor:
        return zeros_like(grad)


class Floor(_Rounding):
    node_name = "FloorBackward0"
    kernel = "floor"


class Ceil(_Rounding):
    node_name = "CeilBackward0"
    kernel = "ceil"


class Trunc(_Rounding):
    node_name = "TruncBackward0"
    kernel = "trunc"


class Round(_Rounding):
    node_name = "RoundBackward0"
    kernel = "round"  # half to even, as PyTorch (nearbyint)


class RoundDecimals(Function):
    node_name = "RoundBackward1"

    jvp = auto_element_wise

    @staticmethod
    def forward(ctx: Any, a: Any, *, decimals: int) -> Any:
        backend = ctx.backend
        # PyTorch's kernel for decimals=0 is the vectorised one, whose name differs.
        require_floating("round" if decimals else "round_vml", backend, a)
        if decimals == 0:
            return backend.round(a)
        # PyTorch's formula: scale by 10**|decimals|, round half to even, scale back.
        scale = 10.0 ** builtins.abs(decimals)
        if decimals > 0:
            return backend.divide(backend.round(backend.multiply(a, scale)), scale)
        return backend.multiply(backend.round(backend.divide(a, scale)), scale)

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> Tensor:
        return zeros_like(grad)


@takes_out(SAME)
def floor(input: Tensor) -> Tensor:
    return Floor.apply(input)


def floor_(input: Tensor) -> Tensor:
    """In place: `input.floor_()`."""
    require_tensors("floor_", ("input", input))
    return input.floor_()


@takes_out(SAME)
def ceil(input: Tensor) -> Tensor:
    return Ceil.apply(input)


def ceil_(input: Tensor) -> Tensor:
    """In place: `input.ceil_()`."""
    require_tensors("ceil_", ("input", input))
    return input.ceil_()


@takes_out(SAME)
def trunc(input: Tensor) -> Tensor:
    return Trunc.apply(input)


def trunc_(input: Tensor) -> Tensor:
    """In place: `input.trunc_()`."""
    require_tensors("trunc_", ("input", input))
    return input.trunc_()


fix = trunc


def fix_(input: Tensor) -> Tensor:
    """In place: `input.fix_()` (trunc_)."""
    require_tensors("fix_", ("input", input))
    return input.trunc_()


@takes_out(SAME)
def round(input: Tensor, *, decimals: int | None = None) -> Tensor:
    """Round half to even; with `decimals` (PyTorch's other overload, for floating tensors
    only, even when it is 0), to that many decimal places."""
    if decimals is None:
        return Round.apply(input)
    return RoundDecimals.apply(input, decimals=decimals)


def round_(input: Tensor, *, decimals: int | None = None) -> Tensor:
    """In place: `input.round_(decimals=decimals)`."""
    require_tensors("round_", ("input", input))
    return input.round_(decimals=decimals)


class Frac(Function):
    """input - trunc(input): the fractional part, with the input's sign."""

    sparse_form = OnValues()
    node_name = "FracBackward0"

    jvp = auto_element_wise

    @staticmethod
    def forward(ctx: Any, a: Any) -> Any:
        backend = ctx.backend
        require_floating("frac", backend, a)
        return backend.subtract(a, backend.trunc(a))

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> Tensor:
        return grad


def frac(input: Tensor) -> Tensor:
    return Frac.apply(input)


def frac_(input: Tensor) -> Tensor:
    """In place: `input.frac_()`."""
    require_tensors("frac_", ("input", input))
    return input.frac_()


# ----------------------------------------------------------------------------- trigonometry
class Sin(UnaryOfInput):
    sparse_form = OnValues()
    node_name = "SinBackward0"
    kernel = "sin"

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> Tensor:
        a, = ctx.saved_tensors
        return grad * cos(a)


@takes_out(CAST)
def sin(input: Tensor) -> Tensor:
    return Sin.apply(input)


def sin_(input: Tensor) -> Tensor:
    """In place: `input.sin_()`."""
    require_tensors("sin_", ("input", input))
    return input.sin_()


class Cos(UnaryOfInput):
    node_name = "CosBackward0"
    kernel = "cos"

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> Tensor:
        a, = ctx.saved_tensors
        return grad * -sin(a)


@takes_out(CAST)
def cos(input: Tensor) -> Tensor:
    return Cos.apply(input)


def cos_(input: Tensor) -> Tensor:
    """In place: `input.cos_()`."""
    require_tensors("cos_", ("input", input))
    return input.cos_()


class Tan(UnaryOfOutput):
    sparse_form = OnValues()
    node_name = "TanBackward0"
    kernel = "tan"

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> Tensor:
        out, = ctx.saved_tensors
        return grad * (out * out + 1)


@takes_out(CAST)
@autocast_op("tan")
def tan(input: Tensor) -> Tensor:
    return Tan.apply(input)


def tan_(input: Tensor) -> Tensor:
    """In place: `input.tan_()`."""
    require_tensors("tan_", ("input", input))
    return input.tan_()


class Asin(UnaryOfInput):
    sparse_form = OnValues()
    node_name = "AsinBackward0"
    kernel = "asin"

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> Tensor:
        a, = ctx.saved_tensors
        return grad * rsqrt(1 - a * a)


@takes_out(CAST)
@autocast_op("asin")
def asin(input: Tensor) -> Tensor:
    return Asin.apply(input)


def asin_(input: Tensor) -> Tensor:
    """In place: `input.asin_()`."""
    require_tensors("asin_", ("input", input))
    return input.asin_()


arcsin = asin


def arcsin_(input: Tensor) -> Tensor:
    """In place: `input.arcsin_()` (asin_)."""
    require_tensors("arcsin_", ("input", input))
    return input.asin_()


class Acos(UnaryOfInput):
    node_name = "AcosBackward0"
    kernel = "acos"

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> Tensor:
        a, = ctx.saved_tensors
        return grad * -rsqrt(1 - a * a)


@takes_out(CAST)
@autocast_op("acos")
def acos(input: Tensor) -> Tensor:
    return Acos.apply(input)


def acos_(input: Tensor) -> Tensor:
    """In place: `input.acos_()`."""
    require_tensors("acos_", ("input", input))
    return input.acos_()


arccos = acos


def arccos_(input: Tensor) -> Tensor:
    """In place: `input.arccos_()` (acos_)."""
    require_tensors("arccos_", ("input", input))
    return input.acos_()


class Atan(UnaryOfInput):
    sparse_form = OnValues()
    node_name = "AtanBackward0"
    kernel = "atan"

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> Tensor:
        a, = ctx.saved_tensors
        return grad / (a * a + 1)


@takes_out(CAST)
def atan(input: Tensor) -> Tensor:
    return Atan.apply(input)


def atan_(input: Tensor) -> Tensor:
    """In place: `input.atan_()`."""
    require_tensors("atan_", ("input", input))
    return input.atan_()


arctan = atan


def arctan_(input: Tensor) -> Tensor:
    """In place: `input.arctan_()` (atan_)."""
    require_tensors("arctan_", ("input", input))
    return input.atan_()


class Atan2(Function):
    node_name = "Atan2Backward0"
    saved_fields = fields(self=saved(0), other=saved(1))

    jvp = auto_element_wise

    @staticmethod
    def forward(ctx: Any, a: Any, b: Any) -> Any:
        ctx.save_for_backward(a, b)
        backend = ctx.backend
        a, b = promote(backend, a, b)
        return backend.atan2(default_float(backend, a), default_float(backend, b))

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> tuple[Tensor | None, Tensor | None]:
        a, b = ctx.saved_tensors
        # PyTorch's grad (b, -a) / (a^2 + b^2), with a and b first divided by a power of two
        # near max(|a|, |b|): a^2 + b^2 leaves float32's range below 1e-19 and above 1e19,
        # where PyTorch gives 0 or inf although the gradient is finite. Dividing by a power of
        # two is exact, so elsewhere the result is PyTorch's to the bit. The gradient is 0 at
        # the origin (as in PyTorch); infinities and NaNs are left unscaled.
        magnitude = maximum(a.abs(), b.abs())
        origin = magnitude == 0
        scaled = ~origin & magnitude.isfinite()
        power = where(scaled, 2.0 ** where(scaled, magnitude, 1.0).log2().floor(), 1.0)
        a, b = a / power, b / power
        reciprocal = where(origin, 0.0, 1 / where(origin, 1.0, a * a + b * b))
        needs_a, needs_b = ctx.needs_input_grad
        return ((grad * b * reciprocal / power if needs_a else None),
                (grad * -a * reciprocal / power if needs_b else None))


@takes_out(CAST)
@autocast_op("atan2")
def atan2(input: Tensor, other: Tensor) -> Tensor:
    require_tensors("atan2", ("input", input), ("other", other))
    return Atan2.apply(input, other)


arctan2 = atan2


class Deg2Rad(Function):
    """input * (pi / 180); integers become the default float dtype."""

    node_name = "Deg2RadBackward0"
    factor = _PI / 180.0

    jvp = auto_element_wise

    @staticmethod
    def forward(ctx: Any, a: Any) -> Any:
        return ctx.backend.multiply(default_float(ctx.backend, a), ctx.factor)

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> Tensor:
        return grad * ctx.factor


def deg2rad(input: Tensor) -> Tensor:
    return Deg2Rad.apply(input)


def deg2rad_(input: Tensor) -> Tensor:
    """In place: `input.deg2rad_()`."""
    require_tensors("deg2rad_", ("input", input))
    return input.deg2rad_()


class Rad2Deg(Deg2Rad):
    node_name = "Rad2DegBackward0"

    factor = 180.0 / _PI
    jvp = auto_element_wise


def rad2deg(input: Tensor) -> Tensor:
    return Rad2Deg.apply(input)


def rad2deg_(input: Tensor) -> Tensor:
    """In place: `input.rad2deg_()`."""
    require_tensors("rad2deg_", ("input", input))
    return input.rad2deg_()


class Sinc(SpecialOfInput):
    """The normalised sinc, sin(pi x) / (pi x), 1 at 0 (float16 computed in float32, as in
    PyTorch, so that sinc(1) is 0 there too)."""

    node_name = "SincBackward0"
    kernel = "sinc"

    jvp = auto_element_wise

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> Tensor:
        a, = ctx.saved_tensors
        # (pi x cos(pi x) - sin(pi x)) / (pi x^2), 0 at 0 (PyTorch's formula).
        at_zero = a == 0
        x = where(at_zero, 1.0, a)
        scaled = x * _PI
        slope = (scaled * cos(scaled) - sin(scaled)) / (scaled * x)
        return grad * where(at_zero, 0.0, slope)


def sinc(input: Tensor) -> Tensor:
    return Sinc.apply(input)


def sinc_(input: Tensor) -> Tensor:
    """In place: `input.sinc_()`."""
    require_tensors("sinc_", ("input", input))
    return input.sinc_()


# ----------------------------------------------------------------------------- hyperbolic
class InPlaceWithoutDerivative:
    """The in-place forms of asinh, acosh and atanh: PyTorch records them as their own nodes
    (`AsinhBackward1`, ...) whose derivative it does not implement, so backward through them
    raises its NotImplementedError."""

    kernel: ClassVar[str]

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> Tensor:
        raise NotImplementedError(
            f"the derivative for 'inplace version of {ctx.kernel}' is not implemented.")


class Tanh(UnaryOfOutput):
    sparse_form = OnValues()
    node_name = "TanhBackward0"
    kernel = "tanh"

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> Tensor:
        out, = ctx.saved_tensors
        return TanhBackward.apply(grad, out)

    @rule_facts(reads_saved=False, complex_safe=True)
    @staticmethod
    def jvp(ctx: Any, tangent: Tensor) -> Tensor:
        _, _, out = ctx._dual_call
        return TanhBackward.apply(tangent, out)


class TanhBackward(Holomorphic, Function):
    """tanh's derivative applied to a gradient (or a tangent), grad * (1 - out^2), as one op
    (PyTorch's tanh_backward), from tanh's output."""

    node_name = "TanhBackwardBackward0"

    @staticmethod
    def forward(ctx: Any, grad: Any, out: Any) -> Any:
        backend = ctx.backend
        ctx.save_for_backward(grad, out)
        return backend.multiply(grad, backend.subtract(1, backend.multiply(out, out)))

    @staticmethod
    def backward(ctx: Any, outer: Tensor) -> tuple[Tensor | None, Tensor | None]:
        grad, out = ctx.saved_tensors
        needs_grad, needs_out = ctx.needs_input_grad
        return (TanhBackward.apply(outer, out) if needs_grad else None,
                outer * grad * out * -2 if needs_out else None)

    @rule_facts(reads_saved=False, complex_safe=True)
    @staticmethod
    def jvp(ctx: Any, tangent_grad: Tensor | None, tangent_out: Tensor | None) -> Any:
        (grad, out), _, _ = ctx._dual_call
        return sum_terms([TanhBackward.apply(tangent_grad, out) if tangent_grad is not None
                          else None,
                          grad * out * tangent_out * -2 if tangent_out is not None else None])


@takes_out(CAST)
def tanh(input: Tensor) -> Tensor:
    return Tanh.apply(input)


def tanh_(input: Tensor) -> Tensor:
    """In place: `input.tanh_()`."""
    require_tensors("tanh_", ("input", input))
    return input.tanh_()


class Sinh(UnaryOfInput):
    sparse_form = OnValues()
    node_name = "SinhBackward0"
    kernel = "sinh"

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> Tensor:
        a, = ctx.saved_tensors
        return grad * cosh(a)


@takes_out(CAST)
@autocast_op("sinh")
def sinh(input: Tensor) -> Tensor:
    return Sinh.apply(input)


def sinh_(input: Tensor) -> Tensor:
    """In place: `input.sinh_()`."""
    require_tensors("sinh_", ("input", input))
    return input.sinh_()


class Cosh(UnaryOfInput):
    node_name = "CoshBackward0"
    kernel = "cosh"

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> Tensor:
        a, = ctx.saved_tensors
        return grad * sinh(a)


@takes_out(CAST)
@autocast_op("cosh")
def cosh(input: Tensor) -> Tensor:
    return Cosh.apply(input)


def cosh_(input: Tensor) -> Tensor:
    """In place: `input.cosh_()`."""
    require_tensors("cosh_", ("input", input))
    return input.cosh_()

class Asinh(UnaryOfInput):
    sparse_form = OnValues()
    node_name = "AsinhBackward0"
    kernel = "asinh"

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> Tensor:
        a, = ctx.saved_tensors
        return grad * rsqrt(a * a + 1)


def asinh(input: Tensor) -> Tensor:
    return Asinh.apply(input)


class AsinhInPlace(InPlaceWithoutDerivative, Asinh):
    node_name = "AsinhBackward1"


def asinh_(input: Tensor) -> Tensor:
    """In place: `input.asinh_()`."""
    require_tensors("asinh_", ("input", input))
    return input.asinh_()


arcsinh = asinh


def arcsinh_(input: Tensor) -> Tensor:
    """In place: `input.arcsinh_()`."""
    require_tensors("arcsinh_", ("input", input))
    return input.arcsinh_()


class Acosh(UnaryOfInput):
    node_name = "AcoshBackward0"
    kernel = "acosh"

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> Tensor:
        a, = ctx.saved_tensors
        # As PyTorch: 1 / (sqrt(a - 1) sqrt(a + 1)), the same for real a >= 1, and on the
        # right branch for complex a (where rsqrt(a^2 - 1) can differ in sign).
        return grad * rsqrt(a - 1) * rsqrt(a + 1)


def acosh(input: Tensor) -> Tensor:
    return Acosh.apply(input)


class AcoshInPlace(InPlaceWithoutDerivative, Acosh):
    node_name = "AcoshBackward1"


def acosh_(input: Tensor) -> Tensor:
    """In place: `input.acosh_()`."""
    require_tensors("acosh_", ("input", input))
    return input.acosh_()


arccosh = acosh


def arccosh_(input: Tensor) -> Tensor:
    """In place: `input.arccosh_()`."""
    require_tensors("arccosh_", ("input", input))
    return input.arccosh_()


class Atanh(UnaryOfInput):
    sparse_form = OnValues()
    node_name = "AtanhBackward0"
    kernel = "atanh"

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> Tensor:
        a, = ctx.saved_tensors
        return grad / (1 - a * a)


def atanh(input: Tensor) -> Tensor:
    return Atanh.apply(input)


class AtanhInPlace(InPlaceWithoutDerivative, Atanh):
    node_name = "AtanhBackward1"


def atanh_(input: Tensor) -> Tensor:
    """In place: `input.atanh_()`."""
    require_tensors("atanh_", ("input", input))
    return input.atanh_()


arctanh = atanh


def arctanh_(input: Tensor) -> Tensor:
    """In place: `input.arctanh_()`."""
    require_tensors("arctanh_", ("input", input))
    return input.arctanh_()
