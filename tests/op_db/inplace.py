"""Op table entries: in-place ops, on a tensor and on views of it.

Each op copies its first input (`a * 1`, so a leaf is never modified) and modifies the copy, or
a view of it, in place; the result is differentiated w.r.t. every input. The node name is the
in-place op's own, or CopySlices when the op went through a view.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
import scipy.special as sp

import autodiff

from .info import BINARY_SHAPES, UNARY_SHAPES, OpInfo, Sample


def _on_copy(method: str, *args: Any, **kwargs: Any) -> Callable[..., autodiff.Tensor]:
    """`lambda a, *others: (a * 1).<method>(*others, *args, **kwargs)`."""
    def op(a: autodiff.Tensor, *others: autodiff.Tensor) -> autodiff.Tensor:
        out = a * 1
        getattr(out, method)(*others, *args, **kwargs)
        return out
    return op


def _on_view(key: Any, method: str, *args: Any) -> Callable[..., autodiff.Tensor]:
    """`x = a * 1; x[key].<method>(*others, *args); return x`: the base gets CopySlices."""
    def op(a: autodiff.Tensor, *others: autodiff.Tensor) -> autodiff.Tensor:
        out = a * 1
        getattr(out[key], method)(*others, *args)
        return out
    return op


def _np_on_view(key: Any, function: Callable[..., np.ndarray]) -> Callable[..., np.ndarray]:
    def ref(a: np.ndarray, *others: np.ndarray) -> np.ndarray:
        out = a.copy()
        out[key] = function(out[key], *others)
        return out
    return ref


_SAME = (Sample(((3, 4), (3, 4))), Sample(((3, 4), (4,))), Sample(((), ())),
         Sample(((0, 3), (3,))))

INPLACE: list[OpInfo] = [
    OpInfo("add_", _on_copy("add_"), np.add, _SAME, "AddBackward0"),
    OpInfo("add_alpha_", _on_copy("add_", alpha=-2), lambda a, b: a - 2 * b, _SAME[:2],
           "AddBackward0"),
    OpInfo("sub_", _on_copy("sub_"), np.subtract, _SAME, "SubBackward0"),
    OpInfo("mul_", _on_copy("mul_"), np.multiply, _SAME, "MulBackward0"),
    OpInfo("mul_scalar_", _on_copy("mul_", 3.0), lambda a: a * 3, UNARY_SHAPES, "MulBackward0"),
    OpInfo("div_", _on_copy("div_"), np.divide, _SAME, "DivBackward0", domain=(0.5, 2.0)),
    OpInfo("pow_", _on_copy("pow_", 3), lambda a: a ** 3, UNARY_SHAPES, "PowBackward0"),
    OpInfo("pow_tensor_", _on_copy("pow_"), np.power, _SAME[:2], "PowBackward1",
           domain=(0.5, 2.0)),
    OpInfo("clamp_", _on_copy("clamp_", -0.5, 0.7), lambda a: np.clip(a, -0.5, 0.7),
           UNARY_SHAPES, "ClampBackward1"),
    OpInfo("zero_", _on_copy("zero_"), np.zeros_like, UNARY_SHAPES, "ZeroBackward0"),
    OpInfo("fill_", _on_copy("fill_", 1.5), lambda a: np.full_like(a, 1.5), UNARY_SHAPES,
           "FillBackward2"),
    OpInfo("fill_tensor_", _on_copy("fill_"), lambda a, v: np.broadcast_to(v, a.shape).copy(),
           (Sample(((3, 4), ())), Sample(((0,), ()))), "FillBackward3"),
    OpInfo("copy_", _on_copy("copy_"), lambda a, b: np.broadcast_to(b, a.shape).copy(),
           BINARY_SHAPES[:2], "CopyBackwards"),
    OpInfo("masked_fill_", lambda a, m: (a * 1).masked_fill_(m > 0, -1.0),
           lambda a, m: np.where(m > 0, -1.0, a), (Sample(((3, 4), (4,))),),
           "MaskedFillBackward0", grad_inputs=1),
    OpInfo("masked_fill_tensor_", lambda a, v, m: (a * 1).masked_fill_(m > 0, v),
           lambda a, v, m: np.where(m > 0, v, a), (Sample(((3, 4), (), (3, 4))),),
           "MaskedFillBackward1", grad_inputs=2),
    OpInfo("addcmul_", _on_copy("addcmul_", value=0.5), lambda a, b, c: a + 0.5 * b * c,
           (Sample(((3, 4), (3, 4), (3, 4))), Sample(((3, 4), (4,), (3, 1)))),
           "AddcmulBackward0"),
    OpInfo("addcdiv_", _on_copy("addcdiv_", value=2), lambda a, b, c: a + 2 * b / c,
           (Sample(((3, 4), (3, 4), (3, 4))),), "AddcdivBackward0", domain=(0.5, 2.0)),
    OpInfo("addcmul", lambda a, b, c: autodiff.addcmul(a, b, c, value=-1.5),
           lambda a, b, c: a - 1.5 * b * c, (Sample(((3, 4), (4,), (3, 1))), Sample(((), (), ()))),
           "AddcmulBackward0"),
    OpInfo("addcdiv", lambda a, b, c: a.addcdiv(b, c), lambda a, b, c: a + b / c,
           (Sample(((3, 4), (3, 4), (4,))),), "AddcdivBackward0", domain=(0.5, 2.0)),
    OpInfo("exp_", _on_copy("exp_"), np.exp, UNARY_SHAPES, "ExpBackward0"),
    OpInfo("neg_", _on_copy("neg_"), np.negative, UNARY_SHAPES, "NegBackward0"),
    OpInfo("sigmoid_", _on_copy("sigmoid_"), lambda a: 1 / (1 + np.exp(-a)), UNARY_SHAPES,
           "SigmoidBackward0"),
    OpInfo("scatter_",
           lambda a, s: (a * 1).scatter_(1, autodiff.tensor([[2, 0]], device=a.device), s),
           lambda a, s: np.concatenate([np.stack([s[0, 1], a[0, 1], s[0, 0], *a[0, 3:]])[None],
                                        a[1:]]),
           (Sample(((2, 4), (1, 2))),), "ScatterBackward0"),
    OpInfo("index_add_",
           lambda a, s: (a * 1).index_add_(0, autodiff.tensor([1, 1], device=a.device), s),
           lambda a, s: a + np.stack([np.zeros_like(s[0]), s[0] + s[1]]),
           (Sample(((2, 3), (2, 3))),), "IndexAddBackward0"),
    OpInfo("tril_", _on_copy("tril_"), np.tril, (Sample(((3, 4),)),), "TrilBackward0"),
    # ------------------------------------------------------------------------- through views
    OpInfo("view_mul_", _on_view(1, "mul_"), _np_on_view(1, np.multiply),
           (Sample(((3, 4), (4,))), Sample(((3, 4), ()))), "CopySlices"),
    OpInfo("view_exp_", _on_view((slice(None), slice(1, None, 2)), "exp_"),
           _np_on_view((slice(None), slice(1, None, 2)), np.exp), (Sample(((3, 4),)),),
           "CopySlices"),
    OpInfo("view_copy_", _on_view((slice(None), 0), "copy_"),
           _np_on_view((slice(None), 0), lambda v, b: np.broadcast_to(b, v.shape)),
           (Sample(((3, 4), (3,))), Sample(((3, 4), ()))), "CopySlices"),
    OpInfo("transposed_add_", lambda a, b: _transposed_add(a, b),
           lambda a, b: a + np.concatenate([b[:, None], np.zeros((a.shape[0], 1))], 1),
           (Sample(((3, 2), (3,))),), "CopySlices"),
    OpInfo("diagonal_add_", lambda a, b: _diagonal_add(a, b),
           lambda a, b: a + np.diag(b), (Sample(((3, 3), (3,))),), "CopySlices"),
    OpInfo("view_clamp_tensor_", lambda a, b: _view_clamp(a, b),
           lambda a, b: np.concatenate([a[:1], np.minimum(a[1:], b)]),
           (Sample(((3, 4), (4,))),), "CopySlices"),
]



def _torch_on_copy(function: Callable[..., autodiff.Tensor], *args: Any,
                   **kwargs: Any) -> Callable[..., autodiff.Tensor]:
    """`lambda a, *others: function(a * 1, *others, *args, **kwargs)`, the torch-level form."""
    def op(a: autodiff.Tensor, *others: autodiff.Tensor) -> autodiff.Tensor:
        out = a * 1
        assert function(out, *others, *args, **kwargs) is out
        return out
    return op


def _index_put_rows(a: autodiff.Tensor, values: autodiff.Tensor) -> autodiff.Tensor:
    """torch.index_put_ of rows 0 and 2 of a copy of `a`."""
    out = a * 1
    rows = autodiff.tensor([0, 2], device=a.device)
    assert autodiff.index_put_(out, (rows,), values) is out
    return out


def _np_index_put_rows(a: np.ndarray, values: np.ndarray) -> np.ndarray:
    out = a.copy()
    out[[0, 2]] = values
    return out


def _unary_(name: str, ref: Callable[[np.ndarray], np.ndarray], grad_fn: str,
            domain: tuple[float, float] = (-2.0, 2.0), **options: Any) -> OpInfo:
    """An elementwise op in place, through torch's function when it has one (torch.exp_) and
    through the Tensor method otherwise."""
    function = getattr(autodiff, f"{name}_", None)
    op = _torch_on_copy(function) if function is not None else _on_copy(f"{name}_")
    return OpInfo(f"{name}_", op, ref, UNARY_SHAPES, grad_fn, domain=domain, **options)


_STEP = "piecewise constant: its gradient is zero everywhere it exists"
_POSITIVE = (0.5, 2.0)


def _compared(op: str, ref: Callable[..., np.ndarray], other: Any, grad_fn: str) -> OpInfo:
    """`x.<op>_(other)`: the comparison in x's dtype, recorded with zero gradients."""
    if other is None:
        return OpInfo(f"{op}_tensor_", _on_copy(f"{op}_"), lambda a, b: ref(a, b).astype(float),
                      _SAME[:2], grad_fn)
    return OpInfo(f"{op}_", _on_copy(f"{op}_", other), lambda a: ref(a, other).astype(float),
                  UNARY_SHAPES, grad_fn)


INPLACE += [
    # elementwise math in place (torch.<op>_ where torch has one, else Tensor.<op>_)
    _unary_("abs", np.abs, "AbsBackward0"),
    _unary_("negative", np.negative, "NegBackward0"),
    _unary_("fix", np.trunc, "TruncBackward0"),
    _unary_("arcsin", np.arcsin, "AsinBackward0", (-0.9, 0.9)),
    _unary_("arccos", np.arccos, "AcosBackward0", (-0.9, 0.9)),
    _unary_("arctan", np.arctan, "AtanBackward0"),
    OpInfo("clip_", _torch_on_copy(autodiff.clip_, -0.5, 0.5), lambda a: np.clip(a, -0.5, 0.5),
           UNARY_SHAPES, "ClampBackward1"),
    OpInfo("index_put__torch", _index_put_rows, _np_index_put_rows, (Sample(((3, 4), (4,))),),
           "IndexPutBackward0"),
    _unary_("sqrt", np.sqrt, "SqrtBackward0", _POSITIVE),
    _unary_("rsqrt", lambda a: 1 / np.sqrt(a), "RsqrtBackward0", _POSITIVE),
    _unary_("log", np.log, "LogBackward0", _POSITIVE),
    _unary_("log1p", np.log1p, "Log1PBackward0", _POSITIVE),
    _unary_("log2", np.log2, "Log2Backward0", _POSITIVE),
    _unary_("log10", np.log10, "Log10Backward0", _POSITIVE),
    _unary_("expm1", np.expm1, "Expm1Backward0"),
    _unary_("erf", lambda a: np.vectorize(math.erf)(a) if a.size else a, "ErfBackward0"),
    _unary_("sin", np.sin, "SinBackward0"),
    _unary_("cos", np.cos, "CosBackward0"),
    _unary_("tan", np.tan, "TanBackward0", (-1.0, 1.0)),
    _unary_("asin", np.arcsin, "AsinBackward0", (-0.9, 0.9)),
    _unary_("acos", np.arccos, "AcosBackward0", (-0.9, 0.9)),
    _unary_("atan", np.arctan, "AtanBackward0"),
    _unary_("sinh", np.sinh, "SinhBackward0"),
    _unary_("cosh", np.cosh, "CoshBackward0"),
    _unary_("tanh", np.tanh, "TanhBackward0"),
    _unary_("reciprocal", lambda a: 1 / a, "ReciprocalBackward0", _POSITIVE),
    _unary_("square", np.square, "PowBackward0"),
    _unary_("relu", lambda a: np.maximum(a, 0), "ReluBackward0"),
    _unary_("sign", np.sign, "SignBackward0"),
    _unary_("floor", np.floor, "FloorBackward0"),
    _unary_("ceil", np.ceil, "CeilBackward0"),
    _unary_("trunc", np.trunc, "TruncBackward0"),
    _unary_("round", np.round, "RoundBackward0"),
    OpInfo("round_decimals_", _on_copy("round_", decimals=1), lambda a: np.round(a, 1),
           UNARY_SHAPES, "RoundBackward1"),
    OpInfo("atan2_", _on_copy("atan2_"), np.arctan2, _SAME[:2], "Atan2Backward0"),
    OpInfo("clamp_min_", _torch_on_copy(autodiff.clamp_min_, 0.1),
           lambda a: np.maximum(a, 0.1), UNARY_SHAPES, "ClampMinBackward0"),
    OpInfo("clamp_max_tensor_", _on_copy("clamp_max_"), np.minimum, _SAME[:2],
           "ClampMaxBackward1"),
    OpInfo("clamp_max_", _torch_on_copy(autodiff.clamp_max_, 0.3),
           lambda a: np.minimum(a, 0.3), UNARY_SHAPES, "ClampMaxBackward0"),
    OpInfo("subtract_", _on_copy("subtract_", alpha=2), lambda a, b: a - 2 * b, _SAME[:2],
           "SubBackward0"),
    OpInfo("multiply_", _on_copy("multiply_"), np.multiply, _SAME[:2], "MulBackward0"),
    OpInfo("true_divide_", _on_copy("true_divide_"), np.divide, _SAME[:2], "DivBackward0",
           domain=_POSITIVE),
    OpInfo("remainder_", _on_copy("remainder_", 0.75), lambda a: np.mod(a, 0.75), UNARY_SHAPES,
           "RemainderBackward0"),
    OpInfo("cumsum_", _on_copy("cumsum_", 1), lambda a: np.cumsum(a, 1),
           (Sample(((3, 4),)),), "CumsumBackward0"),
    OpInfo("cumprod_", _on_copy("cumprod_", 0), lambda a: np.cumprod(a, 0),
           (Sample(((3, 4),)),), "CumprodBackward0"),
    # comparisons and logical ops in place: the result in x's dtype, zero gradients
    _compared("eq", np.equal, 0.5, "EqBackward0"),
    _compared("ne", np.not_equal, 0.5, "NeBackward0"),
    _compared("lt", np.less, 0.5, "LtBackward0"),
    _compared("le", np.less_equal, 0.5, "LeBackward0"),
    _compared("gt", np.greater, 0.5, "GtBackward0"),
    _compared("ge", np.greater_equal, 0.5, "GeBackward0"),
    _compared("lt", np.less, None, "LtBackward1"),
    _compared("ge", np.greater_equal, None, "GeBackward1"),
    OpInfo("logical_and_", _on_copy("logical_and_"),
           lambda a, b: np.logical_and(a, b).astype(float), _SAME[:2], "LogicalAndBackward1"),
    OpInfo("logical_not_", _on_copy("logical_not_"),
           lambda a: np.logical_not(a).astype(float), UNARY_SHAPES, "LogicalNotBackward0"),
    # shape changes in place: the tensor takes its view's shape and the view's node
    OpInfo("t_", _on_copy("t_"), np.transpose, (Sample(((3, 4),)), Sample(((3,),))),
           "TBackward1"),
    OpInfo("transpose_", _on_copy("transpose_", 0, 2), lambda a: np.swapaxes(a, 0, 2),
           (Sample(((2, 3, 4),)),), "TransposeBackward1"),
    OpInfo("unsqueeze_", _on_copy("unsqueeze_", 1), lambda a: np.expand_dims(a, 1),
           (Sample(((3, 4),)),), "UnsqueezeBackward1"),
    OpInfo("squeeze_", _on_copy("squeeze_"), np.squeeze, (Sample(((3, 1, 4, 1),)),),
           "SqueezeBackward3"),
    OpInfo("squeeze_dim_", _on_copy("squeeze_", 1), lambda a: np.squeeze(a, 1),
           (Sample(((3, 1, 4, 1),)),), "SqueezeBackward4"),
    OpInfo("squeeze_dims_", _on_copy("squeeze_", (1, 3)), lambda a: np.squeeze(a, (1, 3)),
           (Sample(((3, 1, 4, 1),)),), "SqueezeBackward5"),
    # torch's out-of-place fill and the in-place fills through torch's functions
    OpInfo("fill", lambda a: autodiff.fill(a, 1.5), lambda a: np.full_like(a, 1.5),
           UNARY_SHAPES, "FillBackward0"),
    OpInfo("fill[tensor]", autodiff.fill, lambda a, v: np.broadcast_to(v, a.shape).copy(),
           (Sample(((3, 4), ())),), "FillBackward1"),
    OpInfo("fill__torch", _torch_on_copy(autodiff.fill_, -0.5), lambda a: np.full_like(a, -0.5),
           UNARY_SHAPES, "FillBackward2"),
    OpInfo("zero__torch", _torch_on_copy(autodiff.zero_), np.zeros_like, UNARY_SHAPES,
           "ZeroBackward0"),
    OpInfo("detach", autodiff.detach, lambda a: a, UNARY_SHAPES, differentiable=False),
    OpInfo("detach_", lambda a: autodiff.detach_(a * 1), lambda a: a, UNARY_SHAPES,
           differentiable=False),
]


def _transposed_add(a: autodiff.Tensor, b: autodiff.Tensor) -> autodiff.Tensor:
    out = a * 1
    out.t()[0].add_(b)
    return out


def _diagonal_add(a: autodiff.Tensor, b: autodiff.Tensor) -> autodiff.Tensor:
    out = a * 1
    out.diagonal().add_(b)
    return out


def _view_clamp(a: autodiff.Tensor, b: autodiff.Tensor) -> autodiff.Tensor:
    """clamp_ with a tensor bound is made of several nodes: the general CopySlices path."""
    out = a * 1
    out[1:].clamp_(max=b)
    return out


def _function_on_copy(function: Callable[..., autodiff.Tensor], *args: Any,
                      **kwargs: Any) -> Callable[..., autodiff.Tensor]:
    """`torch.<op>_(a * 1, *others, *args, **kwargs)`: the function form of an in-place op
    modifies its first argument and returns it."""
    def op(a: autodiff.Tensor, *others: autodiff.Tensor) -> autodiff.Tensor:
        out = a * 1
        if function(out, *others, *args, **kwargs) is not out:
            raise AssertionError(f"{function.__name__} returned a new tensor")
        return out
    return op


def _integer_on_copy(function: Callable[..., autodiff.Tensor]) -> Callable[..., autodiff.Tensor]:
    def op(a: autodiff.Tensor, b: autodiff.Tensor) -> autodiff.Tensor:
        out = (a * 5).long()
        function(out, (b * 5).long())
        return out
    return op


def _np_integer(function: Callable[..., np.ndarray]) -> Callable[..., np.ndarray]:
    return lambda a, b: function(np.trunc(a * 5).astype(int), np.trunc(b * 5).astype(int))


def _np_nan_to_num(a: np.ndarray) -> np.ndarray:
    return np.nan_to_num(np.where(a > 1.5, np.nan, a), nan=0.25)


def _nan_to_num_(a: autodiff.Tensor) -> autodiff.Tensor:
    out = autodiff.where(a > 1.5, float("nan"), a)
    return autodiff.nan_to_num_(out, nan=0.25)


# The torch.<op>_ functions of the math ops (torch.deg2rad_(x) is x.deg2rad_()). PyTorch records
# asinh_, acosh_ and atanh_ as nodes without a derivative: forward and node names only
# (test_math_special.py checks the refusal).
INPLACE_FUNCTIONS: list[OpInfo] = [
    OpInfo("deg2rad_", _function_on_copy(autodiff.deg2rad_), np.deg2rad, UNARY_SHAPES,
           "Deg2RadBackward0"),
    OpInfo("rad2deg_", _function_on_copy(autodiff.rad2deg_), np.rad2deg, UNARY_SHAPES,
           "Rad2DegBackward0"),
    OpInfo("exp2_", _function_on_copy(autodiff.exp2_), np.exp2, UNARY_SHAPES, "Exp2Backward0"),
    OpInfo("frac_", _function_on_copy(autodiff.frac_), lambda a: a - np.trunc(a), UNARY_SHAPES,
           "FracBackward0"),
    OpInfo("sinc_", _function_on_copy(autodiff.sinc_), np.sinc, UNARY_SHAPES, "SincBackward0"),
    OpInfo("i0_", _function_on_copy(autodiff.i0_), np.i0, UNARY_SHAPES, "I0Backward0"),
    OpInfo("erfc_", _function_on_copy(autodiff.erfc_),
           sp.erfc, UNARY_SHAPES, "ErfcBackward0"),
    OpInfo("logit_", _function_on_copy(autodiff.logit_), lambda a: np.log(a / (1 - a)),
           UNARY_SHAPES, "LogitBackward0", domain=(0.1, 0.9)),
    OpInfo("logit_eps_", _function_on_copy(autodiff.logit_, 0.2),
           lambda a: np.log(np.clip(a, 0.2, 0.8) / (1 - np.clip(a, 0.2, 0.8))),
           UNARY_SHAPES[:1], "LogitBackward0", domain=(0.25, 0.75)),
    OpInfo("nan_to_num_", _nan_to_num_, _np_nan_to_num, UNARY_SHAPES, "NanToNumBackward0"),
    OpInfo("ldexp_", _function_on_copy(autodiff.ldexp_), lambda a, b: a * 2.0 ** b,
           _SAME[:2], "LdexpBackward0"),
    OpInfo("xlogy_", _function_on_copy(autodiff.xlogy_), lambda a, b: a * np.log(b), _SAME,
           "XlogyBackward0", domain=(0.5, 2.0)),
    OpInfo("xlogy_scalar_", _function_on_copy(autodiff.xlogy_, 2.5),
           lambda a: a * np.log(2.5), UNARY_SHAPES, "XlogyBackward2"),
    OpInfo("addmv_", _function_on_copy(autodiff.addmv_, beta=2, alpha=0.5),
           lambda c, a, b: 2 * c + 0.5 * a @ b, (Sample(((3,), (3, 4), (4,))),),
           "AddmvBackward0"),
    OpInfo("gcd_", _integer_on_copy(autodiff.gcd_), _np_integer(np.gcd), _SAME[:2],
           differentiable=False, out_dtype=autodiff.int64),
    OpInfo("lcm_", _integer_on_copy(autodiff.lcm_), _np_integer(np.lcm), _SAME[:2],
           differentiable=False, out_dtype=autodiff.int64),
    OpInfo("asinh_", _function_on_copy(autodiff.asinh_), np.arcsinh, UNARY_SHAPES,
           "AsinhBackward1", differentiable=False),
    OpInfo("arcsinh_", _function_on_copy(autodiff.arcsinh_), np.arcsinh, UNARY_SHAPES[:1],
           "AsinhBackward1", differentiable=False),
    OpInfo("acosh_", _function_on_copy(autodiff.acosh_), np.arccosh, UNARY_SHAPES,
           "AcoshBackward1", domain=(1.2, 3.0), differentiable=False),
    OpInfo("arccosh_", _function_on_copy(autodiff.arccosh_), np.arccosh, UNARY_SHAPES[:1],
           "AcoshBackward1", domain=(1.2, 3.0), differentiable=False),
    OpInfo("atanh_", _function_on_copy(autodiff.atanh_), np.arctanh, UNARY_SHAPES,
           "AtanhBackward1", domain=(-0.9, 0.9), differentiable=False),
    OpInfo("arctanh_", _function_on_copy(autodiff.arctanh_), np.arctanh, UNARY_SHAPES[:1],
           "AtanhBackward1", domain=(-0.9, 0.9), differentiable=False),
]
