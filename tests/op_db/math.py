"""Op table entries: arithmetic and math beyond the basics (floating-point functions, integer
functions, logarithmic functions, products, distances, differences, statistics, norms).

References are NumPy's (and SciPy's where NumPy has no such function). Domains keep inputs
where each op is smooth, so numerical gradients are meaningful.
"""

from __future__ import annotations

import warnings

import numpy as np
import scipy.special as sp
from scipy.spatial.distance import cdist as scipy_cdist
from scipy.spatial.distance import pdist as scipy_pdist

import autodiff

from .info import BINARY_SHAPES, UNARY_SHAPES, OpInfo, Sample

_MATRIX_PAIR = (Sample(((3, 4), (5, 4))), Sample(((2, 3, 4), (1, 5, 4))))


def _int(a: autodiff.Tensor, scale: float = 5) -> autodiff.Tensor:
    return (a * scale).long()


def _np_int(a: np.ndarray, scale: float = 5) -> np.ndarray:
    return np.trunc(a * scale)


def _minkowski(a: np.ndarray, b: np.ndarray, p: float) -> np.ndarray:
    difference = np.abs(a[..., :, None, :] - b[..., None, :, :])
    if p == np.inf:
        return difference.max(-1)
    if p == 0:
        return (difference != 0).sum(-1).astype(float)
    return (difference ** p).sum(-1) ** (1 / p)


def _infinities(a: np.ndarray) -> np.ndarray:
    """a where a > 1.5, else a / 0 (signed infinities, nan at 0)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(a > 1.5, a, a / 0.0)


def _chain_matmul(a: autodiff.Tensor, b: autodiff.Tensor) -> autodiff.Tensor:
    with warnings.catch_warnings():  # deprecated in PyTorch, and it says so
        warnings.simplefilter("ignore", UserWarning)
        return autodiff.chain_matmul(a, b)


def _np_cov(a: np.ndarray) -> np.ndarray:
    return np.cov(a)


def _np_gradient(a: np.ndarray, *spacing: object, **kwargs: object) -> np.ndarray:
    return np.gradient(a, *spacing, **kwargs)  # type: ignore[call-overload, no-any-return]


FLOATING: list[OpInfo] = [
    OpInfo("fmod", autodiff.fmod, np.fmod, BINARY_SHAPES, "FmodBackward1", domain=(0.5, 3.0)),
    OpInfo("fmod_scalar", lambda a: autodiff.fmod(a, -0.75), lambda a: np.fmod(a, -0.75),
           UNARY_SHAPES, "FmodBackward0", domain=(-2.0, 2.0)),
    OpInfo("fmod_int", lambda a, b: autodiff.fmod(_int(a), _int(b) + 11),
           lambda a, b: np.fmod(_np_int(a), _np_int(b) + 11), BINARY_SHAPES[:2],
           differentiable=False, out_dtype=autodiff.int64),
    OpInfo("copysign", autodiff.copysign, np.copysign, BINARY_SHAPES, "CopysignBackward0"),
    OpInfo("copysign_scalar", lambda a: autodiff.copysign(a, -1.0), lambda a: -np.abs(a),
           UNARY_SHAPES, "CopysignBackward1"),
    OpInfo("hypot", autodiff.hypot, np.hypot, BINARY_SHAPES, "HypotBackward0"),
    OpInfo("nextafter", autodiff.nextafter, np.nextafter, BINARY_SHAPES, "NextafterBackward0"),
    OpInfo("ldexp", autodiff.ldexp, lambda a, b: a * 2.0 ** b, BINARY_SHAPES, "LdexpBackward0"),
    OpInfo("ldexp_int", lambda a, b: autodiff.ldexp(a, _int(b)),
           lambda a, b: a * 2.0 ** _np_int(b), BINARY_SHAPES[:2], "LdexpBackward0",
           grad_inputs=1),
    OpInfo("frexp", lambda a: autodiff.frexp(a).mantissa, lambda a: np.frexp(a)[0],
           UNARY_SHAPES, "FrexpBackward0"),
    OpInfo("frexp_exponent", lambda a: autodiff.frexp(a)[1].double(),
           lambda a: np.frexp(a)[1].astype(float), UNARY_SHAPES[:1], differentiable=False,
           out_dtype=autodiff.float64),
    OpInfo("float_power", autodiff.float_power, np.power, BINARY_SHAPES, "PowBackward1",
           domain=(0.5, 2.0), out_dtype=autodiff.float64),
    OpInfo("float_power_scalar", lambda a: autodiff.float_power(a, 3),
           lambda a: a ** 3, UNARY_SHAPES, "PowBackward0", out_dtype=autodiff.float64),
    OpInfo("float_power_rscalar", lambda a: autodiff.float_power(2, a),
           lambda a: 2.0 ** a, UNARY_SHAPES, "PowBackward2", out_dtype=autodiff.float64),
    OpInfo("heaviside", lambda a, b: autodiff.heaviside(a.round(), b),
           lambda a, b: np.heaviside(np.round(a), b), BINARY_SHAPES,
           "torch::autograd::NotImplemented", differentiable=False),
    OpInfo("nan_to_num", lambda a: autodiff.nan_to_num(
        autodiff.where(a > 1.5, float("nan"), autodiff.where(a < -1.5, -float("inf"), a)),
        nan=0.25, neginf=-3.0),
        lambda a: np.nan_to_num(np.where(a > 1.5, np.nan, np.where(a < -1.5, -np.inf, a)),
                                nan=0.25, neginf=-3.0), UNARY_SHAPES, "NanToNumBackward0"),
    OpInfo("signbit", lambda a: autodiff.signbit(a), np.signbit, UNARY_SHAPES,
           differentiable=False, out_dtype=autodiff.bool),
    OpInfo("fmax", autodiff.fmax, np.fmax, BINARY_SHAPES, "FmaxBackward0"),
    OpInfo("fmax_nan", lambda a, b: autodiff.fmax(autodiff.where(a > 1, float("nan"), a), b),
           lambda a, b: np.fmax(np.where(a > 1, np.nan, a), b), BINARY_SHAPES[:2],
           "FmaxBackward0"),
    OpInfo("fmin", autodiff.fmin, np.fmin, BINARY_SHAPES, "FminBackward0"),
    OpInfo("isposinf", lambda a: autodiff.isposinf(a / (a > 1.5)),
           lambda a: np.isposinf(_infinities(a)), UNARY_SHAPES, differentiable=False,
           out_dtype=autodiff.bool),
    OpInfo("isneginf", lambda a: autodiff.isneginf(a / (a > 1.5)),
           lambda a: np.isneginf(_infinities(a)), UNARY_SHAPES, differentiable=False,
           out_dtype=autodiff.bool),
    OpInfo("isreal", autodiff.isreal, np.isreal, UNARY_SHAPES, differentiable=False,
           out_dtype=autodiff.bool),
    OpInfo("isin", lambda a, b: autodiff.isin(a.round(), b.round()),
           lambda a, b: np.isin(np.round(a), np.round(b)), BINARY_SHAPES, differentiable=False,
           out_dtype=autodiff.bool),
]

INTEGER: list[OpInfo] = [
    OpInfo("gcd", lambda a, b: autodiff.gcd(_int(a), _int(b)),
           lambda a, b: np.gcd(_np_int(a).astype(int), _np_int(b).astype(int)), BINARY_SHAPES,
           differentiable=False, out_dtype=autodiff.int64),
    OpInfo("lcm", lambda a, b: autodiff.lcm(_int(a), _int(b)),
           lambda a, b: np.lcm(_np_int(a).astype(int), _np_int(b).astype(int)), BINARY_SHAPES,
           differentiable=False, out_dtype=autodiff.int64),
    OpInfo("bitwise_left_shift", lambda a, b: autodiff.bitwise_left_shift(_int(a), _int(b, 20)),
           lambda a, b: np.where((_np_int(b, 20) < 0) | (_np_int(b, 20) >= 64), 0,
                                 np.left_shift(_np_int(a).astype(int),
                                               np.clip(_np_int(b, 20), 0, 63).astype(int))),
           BINARY_SHAPES, differentiable=False, out_dtype=autodiff.int64),
    OpInfo("bitwise_right_shift", lambda a, b: _int(a, 1000) >> _int(b, 40),
           lambda a, b: np.where((_np_int(b, 40) < 0) | (_np_int(b, 40) >= 64),
                                 np.where(_np_int(a, 1000) < 0, -1, 0),
                                 np.right_shift(_np_int(a, 1000).astype(int),
                                                np.clip(_np_int(b, 40), 0, 63).astype(int))),
           BINARY_SHAPES, differentiable=False, out_dtype=autodiff.int64),
]

LOGARITHMIC: list[OpInfo] = [
    OpInfo("logaddexp", autodiff.logaddexp, np.logaddexp, BINARY_SHAPES, "LogaddexpBackward0"),
    OpInfo("logaddexp2", autodiff.logaddexp2, np.logaddexp2, BINARY_SHAPES,
           "Logaddexp2Backward0"),
    OpInfo("xlogy", autodiff.xlogy, sp.xlogy, BINARY_SHAPES, "XlogyBackward0",
           domain=(0.5, 2.0)),
    OpInfo("xlogy_zero", lambda a, b: autodiff.xlogy(a * (a > 1), b),
           lambda a, b: sp.xlogy(a * (a > 1), b), BINARY_SHAPES[:2], "XlogyBackward0",
           domain=(0.5, 2.0)),
    OpInfo("xlogy_scalar", lambda a: autodiff.xlogy(a, 2.5), lambda a: sp.xlogy(a, 2.5),
           UNARY_SHAPES, "XlogyBackward2"),
    OpInfo("xlogy_rscalar", lambda a: autodiff.xlogy(2.5, a), lambda a: sp.xlogy(2.5, a),
           UNARY_SHAPES, "XlogyBackward1", domain=(0.5, 2.0)),
    OpInfo("logit", autodiff.logit, sp.logit, UNARY_SHAPES, "LogitBackward0",
           domain=(0.1, 0.9)),
    OpInfo("logit_eps", lambda a: autodiff.logit(a, eps=0.2),
           lambda a: sp.logit(np.clip(a, 0.2, 0.8)), UNARY_SHAPES[:1], "LogitBackward0",
           domain=(0.25, 0.75)),
]

PRODUCTS: list[OpInfo] = [
    OpInfo("addmm", lambda c, a, b: autodiff.addmm(c, a, b, beta=0.5, alpha=-2),
           lambda c, a, b: 0.5 * c - 2 * a @ b,
           (Sample(((3, 5), (3, 4), (4, 5))), Sample(((5,), (3, 4), (4, 5))),
            Sample(((), (0, 4), (4, 5)))), "AddmmBackward0"),
    # The input (infinite here) is not read when beta is 0; it is the third input here, so
    # that it is not differentiated (its gradient would be 0 * inf).
    OpInfo("addmm_beta0", lambda a, b, c: autodiff.addmm(c / 0, a, b, beta=0),
           lambda a, b, c: a @ b, (Sample(((3, 4), (4, 5), (3, 5))),), "AddmmBackward0",
           grad_inputs=2),
    OpInfo("addmv", lambda c, a, b: autodiff.addmv(c, a, b, beta=2, alpha=0.5),
           lambda c, a, b: 2 * c + 0.5 * a @ b,
           (Sample(((3,), (3, 4), (4,))), Sample(((), (3, 4), (4,)))), "AddmvBackward0"),
    OpInfo("addr", lambda c, a, b: autodiff.addr(c, a, b, beta=-1, alpha=3),
           lambda c, a, b: -c + 3 * np.outer(a, b),
           (Sample(((3, 4), (3,), (4,))), Sample(((4,), (3,), (4,)))), "AddrBackward0"),
    OpInfo("baddbmm", lambda c, a, b: autodiff.baddbmm(c, a, b, beta=0.5, alpha=2),
           lambda c, a, b: 0.5 * c + 2 * a @ b,
           (Sample(((2, 3, 5), (2, 3, 4), (2, 4, 5))), Sample(((3, 5), (2, 3, 4), (2, 4, 5)))),
           "BaddbmmBackward0"),
    OpInfo("addbmm", lambda c, a, b: autodiff.addbmm(c, a, b, beta=0.5, alpha=2),
           lambda c, a, b: 0.5 * c + 2 * (a @ b).sum(0),
           (Sample(((3, 5), (2, 3, 4), (2, 4, 5))), Sample(((5,), (2, 3, 4), (2, 4, 5)))),
           "AddbmmBackward0"),
    OpInfo("linalg.multi_dot", lambda a, b, c, d: autodiff.linalg.multi_dot([a, b, c, d]),
           lambda a, b, c, d: np.linalg.multi_dot([a, b, c, d]),
           (Sample(((3,), (3, 5), (5, 2), (2, 4))), Sample(((2, 3), (3, 5), (5, 2), (2,)))),
           "ViewBackward0"),
    OpInfo("linalg.multi_dot_three", lambda a, b, c: autodiff.linalg.multi_dot([a, b, c]),
           lambda a, b, c: a @ b @ c, (Sample(((6, 2), (2, 5), (5, 3))),), "ViewBackward0"),
    OpInfo("chain_matmul", _chain_matmul, np.matmul,
           (Sample(((3, 4), (4, 2))),), "ViewBackward0"),
    OpInfo("kron", autodiff.kron, np.kron,
           (Sample(((2, 3), (3, 2))), Sample(((2,), (3, 2))), Sample(((2, 1, 2), (2, 2)))),
           "UnsafeViewBackward0"),
    OpInfo("linalg.cross", autodiff.linalg.cross, np.cross,
           (Sample(((4, 3), (4, 3))), Sample(((2, 1, 3), (1, 4, 3)))), "LinalgCrossBackward0"),
    OpInfo("cross", lambda a, b: autodiff.cross(a, b, dim=0),
           lambda a, b: np.cross(a, b, axis=0), (Sample(((3, 4), (3, 4))),),
           "LinalgCrossBackward0"),
]

DISTANCE: list[OpInfo] = [
    OpInfo("cdist", autodiff.cdist, lambda a, b: _minkowski(a, b, 2), _MATRIX_PAIR,
           "CdistBackward0"),
    OpInfo("cdist_p1", lambda a, b: autodiff.cdist(a, b, p=1),
           lambda a, b: _minkowski(a, b, 1), _MATRIX_PAIR, "CdistBackward0"),
    OpInfo("cdist_p3", lambda a, b: autodiff.cdist(a, b, p=3),
           lambda a, b: _minkowski(a, b, 3), _MATRIX_PAIR[:1], "CdistBackward0"),
    OpInfo("cdist_p_half", lambda a, b: autodiff.cdist(a, b, p=0.5),
           lambda a, b: _minkowski(a, b, 0.5), _MATRIX_PAIR[:1], "CdistBackward0"),
    OpInfo("cdist_pinf", lambda a, b: autodiff.cdist(a, b, p=float("inf")),
           lambda a, b: _minkowski(a, b, np.inf), _MATRIX_PAIR[:1], "CdistBackward0"),
    OpInfo("cdist_p0", lambda a, b: autodiff.cdist(a, b, p=0),
           lambda a, b: _minkowski(a, b, 0), _MATRIX_PAIR[:1], "CdistBackward0"),
    OpInfo("cdist_mm", autodiff.cdist, lambda a, b: scipy_cdist(a, b),
           (Sample(((30, 3), (4, 3))),), "ViewBackward0", atol=1e-4),
    OpInfo("pdist", autodiff.pdist, scipy_pdist, (Sample(((5, 3),)), Sample(((1, 3),))),
           "PdistBackward0"),
    OpInfo("pdist_p1", lambda a: autodiff.pdist(a, 1),
           lambda a: scipy_pdist(a, "minkowski", p=1), (Sample(((5, 3),)),), "PdistBackward0"),
    OpInfo("dist", autodiff.dist, lambda a, b: np.linalg.norm((a - b).ravel()),
           BINARY_SHAPES[:4], "DistBackward0"),
    OpInfo("dist_p3", lambda a, b: autodiff.dist(a, b, 3),
           lambda a, b: np.linalg.norm(np.broadcast_to(a - b, np.broadcast(a, b).shape)
                                       .ravel(), 3), BINARY_SHAPES[:2], "DistBackward0"),
]

DIFFERENCES: list[OpInfo] = [
    OpInfo("diff", autodiff.diff, np.diff, (Sample(((5,),)), Sample(((3, 4),))),
           "SubBackward0"),
    OpInfo("diff_prepend", lambda a, b: autodiff.diff(a, n=2, dim=0, prepend=b),
           lambda a, b: np.diff(a, n=2, axis=0, prepend=b), (Sample(((4, 3), (2, 3))),),
           "SubBackward0"),
    OpInfo("gradient", lambda a: autodiff.gradient(a, spacing=0.5)[-1],
           lambda a: _np_gradient(a, 0.5, axis=-1), (Sample(((5,),)), Sample(((3, 4),))),
           "CatBackward0"),
    OpInfo("gradient_edge2", lambda a: autodiff.gradient(a, dim=0, edge_order=2)[0],
           lambda a: _np_gradient(a, axis=0, edge_order=2), (Sample(((4, 3),)),),
           "CatBackward0"),
    OpInfo("gradient_coordinates", lambda a, x: autodiff.gradient(
        a, spacing=(x.detach().cumsum(0),), dim=0, edge_order=2)[0],
        lambda a, x: _np_gradient(a, np.cumsum(x), axis=0, edge_order=2),
        (Sample(((5, 2), (5,))),), "CatBackward0", domain=(0.5, 2.0), grad_inputs=1),
    OpInfo("trapezoid", lambda a: autodiff.trapezoid(a, dx=0.5),
           lambda a: np.trapezoid(a, dx=0.5), (Sample(((5,),)), Sample(((3, 4),))),
           "MulBackward1"),
    OpInfo("trapezoid_x", lambda a, x: autodiff.trapezoid(a, x, dim=0),
           lambda a, x: np.trapezoid(a, x, axis=0), (Sample(((4, 3), (4,))),),
           "DivBackward1"),
    OpInfo("trapz", lambda a, x: autodiff.trapz(a, x), lambda a, x: np.trapezoid(a, x),
           (Sample(((3, 4), (3, 4))),), "DivBackward1"),
    OpInfo("cumulative_trapezoid", lambda a: autodiff.cumulative_trapezoid(a, dx=2),
           lambda a: np.cumsum((a[..., 1:] + a[..., :-1]) * 1.0, -1),
           (Sample(((5,),)), Sample(((3, 4),))), "CumsumBackward0"),
    OpInfo("cumulative_trapezoid_x", lambda a, x: autodiff.cumulative_trapezoid(a, x),
           lambda a, x: np.cumsum((a[..., 1:] + a[..., :-1]) * np.diff(x) / 2, -1),
           (Sample(((3, 4), (4,))),), "DivBackward1"),
]

STATISTICS: list[OpInfo] = [
    OpInfo("nansum", lambda a: autodiff.nansum(autodiff.where(a > 1, float("nan"), a), 1),
           lambda a: np.nansum(np.where(a > 1, np.nan, a), 1), (Sample(((3, 4),)),),
           "NansumBackward0"),
    OpInfo("nansum_all", autodiff.nansum, np.nansum, UNARY_SHAPES, "NansumBackward0"),
    OpInfo("nanmean", lambda a: autodiff.nanmean(autodiff.where(a > 1, float("nan"), a), 0),
           lambda a: np.nanmean(np.where(a > 1, np.nan, a), 0), (Sample(((5, 3),)),),
           "DivBackward0", domain=(-2.0, 1.5)),
    OpInfo("var_mean", lambda a: autodiff.var_mean(a, 1)[0] + 3 * autodiff.var_mean(a, 1)[1],
           lambda a: np.var(a, 1, ddof=1) + 3 * np.mean(a, 1), (Sample(((3, 4),)),),
           "AddBackward0"),
    OpInfo("var_mean_var", lambda a: autodiff.var_mean(a, 0, correction=0)[0],
           lambda a: np.var(a, 0), (Sample(((3, 4),)),), "VarMeanBackward0"),
    OpInfo("std_mean", lambda a: autodiff.std_mean(a, 1, keepdim=True)[0],
           lambda a: np.std(a, 1, ddof=1, keepdims=True), (Sample(((3, 4),)),),
           "StdMeanBackward0"),
    OpInfo("std_mean_mean", lambda a: autodiff.std_mean(a)[1], np.mean, (Sample(((3, 4),)),),
           "StdMeanBackward0"),
    OpInfo("cov", autodiff.cov, _np_cov, (Sample(((3, 5),)), Sample(((5,),))),
           "SqueezeBackward0"),
    OpInfo("cov_weights", lambda a, w: autodiff.cov(a, fweights=autodiff.tensor(
        [1, 2, 1, 3, 1], device=a.device), aweights=w),
        lambda a, w: np.cov(a, fweights=[1, 2, 1, 3, 1], aweights=w),
        (Sample(((3, 5), (5,))),), "SqueezeBackward0", domain=(0.2, 2.0)),
    OpInfo("corrcoef", autodiff.corrcoef, np.corrcoef, (Sample(((3, 5),)),), "ClampBackward1"),
    OpInfo("renorm", lambda a: autodiff.renorm(a, 2, 0, 1.0),
           lambda a: a * np.where(np.linalg.norm(a, axis=1, keepdims=True) > 1.0,
                                  1.0 / (np.linalg.norm(a, axis=1, keepdims=True) + 1e-7), 1.0),
           (Sample(((4, 3),)),), "RenormBackward0"),
    OpInfo("renorm_p1", lambda a: autodiff.renorm(a, 1, 1, 2.0),
           lambda a: a * np.where(np.abs(a).sum(0, keepdims=True) > 2.0,
                                  2.0 / (np.abs(a).sum(0, keepdims=True) + 1e-7), 1.0),
           (Sample(((4, 3),)),), "RenormBackward0"),
]

MATH: list[OpInfo] = [
    *FLOATING, *INTEGER, *LOGARITHMIC, *PRODUCTS, *DISTANCE, *DIFFERENCES, *STATISTICS,
]
