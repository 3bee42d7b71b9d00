"""Op table entries: in-place ops, on a tensor and on views of it.

Each op copies its first input (`a * 1`, so a leaf is never modified) and modifies the copy, or
a view of it, in place; the result is differentiated w.r.t. every input. The node name is the
in-place op's own, or CopySlices when the op went through a view.
"""

from __future__ import annotations

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
