"""Op table entries: reductions (sum, mean, prod, max/min, var/std, norms, ...) and scans."""

from __future__ import annotations

import numpy as np

import autodiff

from .info import UNARY_SHAPES, OpInfo, Sample

# Shapes for a reduction over dims: a matrix, a 3-d tensor, a 0-d tensor.
MATRIX = Sample(((3, 4),))
CUBE = Sample(((2, 3, 4),))
SCALAR = Sample(((),))
EMPTY_ROWS = Sample(((0, 3),))  # reduced along the non-empty dim, or summed to zeros


def _values(result: tuple[autodiff.Tensor, autodiff.Tensor]) -> autodiff.Tensor:
    return result[0]


def _sum_pair(result: tuple[autodiff.Tensor, autodiff.Tensor]) -> autodiff.Tensor:
    """min + 2 max: both outputs of aminmax reach the gradient (with different weights)."""
    return result[0] + 2 * result[1]


def _norm(a: np.ndarray, p: float, axis: object = None, keepdims: bool = False) -> np.ndarray:
    magnitude = np.abs(a)
    if p == np.inf:
        return magnitude.max(axis=axis, keepdims=keepdims)
    if p == -np.inf:
        return magnitude.min(axis=axis, keepdims=keepdims)
    if p == 0:
        return (a != 0).sum(axis=axis, keepdims=keepdims).astype(a.dtype)
    return (magnitude ** p).sum(axis=axis, keepdims=keepdims) ** (1 / p)


def _logsumexp(a: np.ndarray, axis: object, keepdims: bool = False) -> np.ndarray:
    peak = a.max(axis=axis, keepdims=True)
    out = np.log(np.exp(a - peak).sum(axis=axis, keepdims=True)) + peak
    return out if keepdims else np.squeeze(out, axis=axis)


def _scan(function: object, a: np.ndarray) -> np.ndarray:
    """NumPy's cumsum/cumprod along the last dim; a 0-d input stays 0-d, as in PyTorch."""
    return function(a, -1) if a.ndim else a  # type: ignore[operator]


SUM_MEAN: list[OpInfo] = [
    OpInfo("sum", lambda a: a.sum(), np.sum, UNARY_SHAPES, "SumBackward0", complex_grad=True),
    OpInfo("sum_dim", lambda a: a.sum(-1), lambda a: a.sum(-1), (MATRIX, CUBE, EMPTY_ROWS),
           "SumBackward1", complex_grad=True),
    OpInfo("sum_dims_keepdim", lambda a: a.sum((0, 2), keepdim=True),
           lambda a: a.sum((0, 2), keepdims=True), (CUBE,), "SumBackward1"),
    OpInfo("sum_empty_dims", lambda a: autodiff.sum(a, ()), np.sum, (MATRIX, SCALAR),
           "SumBackward1"),
    OpInfo("mean", lambda a: a.mean(), np.mean, (MATRIX, SCALAR, CUBE), "MeanBackward0",
           complex_grad=True),
    OpInfo("mean_dim", lambda a: a.mean(0, keepdim=True), lambda a: a.mean(0, keepdims=True),
           (MATRIX, CUBE), "MeanBackward1", complex_grad=True),
    OpInfo("mean_dims", lambda a: autodiff.mean(a, (-1, 0)), lambda a: a.mean((-1, 0)),
           (MATRIX, CUBE), "MeanBackward1"),
]

PROD: list[OpInfo] = [
    OpInfo("prod", lambda a: a.prod(), np.prod, UNARY_SHAPES, "ProdBackward0", complex_grad=True),
    OpInfo("prod_dim", lambda a: autodiff.prod(a, 1), lambda a: a.prod(1), (MATRIX, CUBE),
           "ProdBackward1", complex_grad=True),
    OpInfo("prod_dim_keepdim", lambda a: a.prod(-1, keepdim=True),
           lambda a: a.prod(-1, keepdims=True), (MATRIX, CUBE, SCALAR, EMPTY_ROWS),
           "ProdBackward1"),
]

MINMAX: list[OpInfo] = [
    OpInfo("aminmax", lambda a: a.aminmax().min, np.min, (MATRIX, SCALAR, CUBE),
           "AminmaxBackward0"),
    OpInfo("aminmax_max", lambda a: autodiff.aminmax(a).max, np.max, (MATRIX, CUBE),
           "AminmaxBackward0"),
    OpInfo("aminmax_dim", lambda a: autodiff.aminmax(a, dim=1).max, lambda a: a.max(1),
           (MATRIX, CUBE), "AminmaxBackward0"),
    OpInfo("aminmax_both", lambda a: _sum_pair(autodiff.aminmax(a, dim=-1, keepdim=True)),
           lambda a: a.min(-1, keepdims=True) + 2 * a.max(-1, keepdims=True),
           (MATRIX, CUBE, EMPTY_ROWS), "AddBackward0"),
    OpInfo("aminmax_ties", lambda a: _sum_pair(autodiff.aminmax((a * 2).round(), dim=0)),
           lambda a: np.round(a * 2).min(0) + 2 * np.round(a * 2).max(0), (Sample(((6, 3),)),),
           "AddBackward0"),
    OpInfo("max", lambda a: a.max(), np.max, (MATRIX, SCALAR, CUBE), "MaxBackward1"),
    OpInfo("min", lambda a: autodiff.min(a), np.min, (MATRIX, SCALAR, CUBE), "MinBackward1"),
    OpInfo("max_dim", lambda a: _values(a.max(1)), lambda a: a.max(1), (MATRIX, CUBE),
           "MaxBackward0"),
    OpInfo("max_dim_keepdim", lambda a: autodiff.max(a, -1, keepdim=True).values,
           lambda a: a.max(-1, keepdims=True), (MATRIX, CUBE, SCALAR, EMPTY_ROWS),
           "MaxBackward0"),
    OpInfo("min_dim", lambda a: a.min(dim=0).values, lambda a: a.min(0), (MATRIX, CUBE),
           "MinBackward0"),
    OpInfo("max_dim_indices", lambda a: a.max(1).indices, lambda a: a.argmax(1),
           (MATRIX, CUBE), differentiable=False, out_dtype=autodiff.int64),
    OpInfo("min_dim_indices", lambda a: autodiff.min(a, 0, keepdim=True)[1],
           lambda a: a.argmin(0, keepdims=True), (MATRIX, CUBE), differentiable=False,
           out_dtype=autodiff.int64),
    OpInfo("amax", lambda a: a.amax(), np.max, (MATRIX, SCALAR, CUBE), "AmaxBackward0"),
    OpInfo("amax_dims", lambda a: autodiff.amax(a, (0, -1), keepdim=True),
           lambda a: a.max((0, -1), keepdims=True), (MATRIX, CUBE), "AmaxBackward0"),
    OpInfo("amin_dim", lambda a: a.amin(1), lambda a: a.min(1), (MATRIX, CUBE, EMPTY_ROWS),
           "AminBackward0"),
    # Inputs on a coarse grid tie often: the gradient is split evenly among the tied elements,
    # which central differences cannot see, so only values are checked here (ties are tested
    # against PyTorch's gradients in test_reductions.py).
    OpInfo("amax_ties", lambda a: (a * 2).round().amax(0), lambda a: np.round(a * 2).max(0),
           (Sample(((6, 3),)),), differentiable=False),
    OpInfo("argmax", lambda a: a.argmax(), lambda a: np.argmax(a), (MATRIX, SCALAR, CUBE),
           differentiable=False, out_dtype=autodiff.int64),
    OpInfo("argmax_dim", lambda a: autodiff.argmax(a, 1, keepdim=True),
           lambda a: np.argmax(a, 1, keepdims=True), (MATRIX, CUBE, EMPTY_ROWS),
           differentiable=False, out_dtype=autodiff.int64),
    OpInfo("argmin", lambda a: autodiff.argmin(a), lambda a: np.argmin(a), (MATRIX, CUBE),
           differentiable=False, out_dtype=autodiff.int64),
    OpInfo("argmin_dim", lambda a: a.argmin(-1), lambda a: np.argmin(a, -1), (MATRIX, CUBE),
           differentiable=False, out_dtype=autodiff.int64),
]

STATISTICS: list[OpInfo] = [
    OpInfo("var", lambda a: a.var(), lambda a: np.var(a, ddof=1), (MATRIX, CUBE), "VarBackward0"),
    OpInfo("var_dim", lambda a: autodiff.var(a, 1), lambda a: np.var(a, 1, ddof=1),
           (MATRIX, CUBE, EMPTY_ROWS), "VarBackward0"),
    OpInfo("var_correction", lambda a: a.var((0, 2), keepdim=True, correction=0),
           lambda a: np.var(a, (0, 2), keepdims=True), (CUBE,), "VarBackward0"),
    OpInfo("var_unbiased_false", lambda a: a.var(0, unbiased=False),
           lambda a: np.var(a, 0), (MATRIX,), "VarBackward0"),
    OpInfo("var_legacy_positional", lambda a: autodiff.var(a, False), np.var, (MATRIX,),
           "VarBackward0"),
    OpInfo("std", lambda a: a.std(), lambda a: np.std(a, ddof=1), (MATRIX, CUBE),
           "StdBackward0"),
    OpInfo("std_dim", lambda a: autodiff.std(a, -1, keepdim=True, correction=2),
           lambda a: np.std(a, -1, keepdims=True, ddof=2), (MATRIX, CUBE), "StdBackward0"),
    OpInfo("logsumexp", lambda a: a.logsumexp(1), lambda a: _logsumexp(a, 1), (MATRIX, CUBE),
           "LogsumexpBackward0", domain=(-5.0, 5.0)),
    OpInfo("logsumexp_dims", lambda a: autodiff.logsumexp(a, (0, 2), keepdim=True),
           lambda a: _logsumexp(a, (0, 2), keepdims=True), (CUBE,), "LogsumexpBackward0"),
    OpInfo("logsumexp_0d", lambda a: a.logsumexp(0), lambda a: a, (SCALAR,),
           "LogsumexpBackward0"),
]

NORMS: list[OpInfo] = [
    OpInfo("norm", lambda a: a.norm(), lambda a: _norm(a, 2), UNARY_SHAPES,
           "LinalgVectorNormBackward0"),
    OpInfo("norm_fro_dim", lambda a: autodiff.norm(a, "fro", dim=1),
           lambda a: _norm(a, 2, 1), (MATRIX, CUBE), "LinalgVectorNormBackward0"),
    OpInfo("norm_1", lambda a: a.norm(1, dim=-1, keepdim=True),
           lambda a: _norm(a, 1, -1, True), (MATRIX, CUBE), "LinalgVectorNormBackward0"),
    OpInfo("norm_inf", lambda a: a.norm(float("inf"), dim=0), lambda a: _norm(a, np.inf, 0),
           (MATRIX, CUBE), "LinalgVectorNormBackward0"),
    OpInfo("norm_neg_inf", lambda a: a.norm(float("-inf")), lambda a: _norm(a, -np.inf),
           (MATRIX,), "LinalgVectorNormBackward0"),
    OpInfo("norm_3", lambda a: a.norm(3, dim=(0, 1)), lambda a: _norm(a, 3, (0, 1)),
           (MATRIX, CUBE), "LinalgVectorNormBackward0"),
    OpInfo("norm_1_5", lambda a: a.norm(1.5), lambda a: _norm(a, 1.5), (MATRIX,),
           "LinalgVectorNormBackward0"),
    OpInfo("norm_0_5", lambda a: a.norm(0.5, dim=1), lambda a: _norm(a, 0.5, 1), (MATRIX,),
           "LinalgVectorNormBackward0", domain=(0.5, 2.0)),
    # The number of nonzeros: no gradient (None, as PyTorch).
    OpInfo("norm_0", lambda a: (a * 2).round().norm(0), lambda a: _norm(np.round(a * 2), 0),
           (MATRIX,), "LinalgVectorNormBackward0"),
]

SCANS: list[OpInfo] = [
    OpInfo("cumsum", lambda a: a.cumsum(1), lambda a: np.cumsum(a, 1), (MATRIX, CUBE),
           "CumsumBackward0", complex_grad=True),
    OpInfo("cumsum_neg_dim", lambda a: autodiff.cumsum(a, -1), lambda a: _scan(np.cumsum, a),
           (MATRIX, SCALAR, EMPTY_ROWS), "CumsumBackward0"),
    OpInfo("cumsum_of_cumsum", lambda a: a.cumsum(0).cumsum(0) * a,
           lambda a: np.cumsum(np.cumsum(a, 0), 0) * a, (MATRIX,), "MulBackward0"),
    OpInfo("cumprod", lambda a: a.cumprod(1), lambda a: np.cumprod(a, 1), (MATRIX, CUBE),
           "CumprodBackward0"),
    OpInfo("cumprod_neg_dim", lambda a: autodiff.cumprod(a, -1), lambda a: _scan(np.cumprod, a),
           (MATRIX, SCALAR, EMPTY_ROWS), "CumprodBackward0"),
    OpInfo("cummax", lambda a: a.cummax(1).values, lambda a: np.maximum.accumulate(a, 1),
           (MATRIX, CUBE), "CummaxBackward0"),
    OpInfo("cummax_indices", lambda a: autodiff.cummax(a, 0).indices,
           lambda a: _running_extreme_index(a, 0, np.maximum), (MATRIX, CUBE),
           differentiable=False, out_dtype=autodiff.int64),
    OpInfo("cummin", lambda a: autodiff.cummin(a, -1).values,
           lambda a: _scan(np.minimum.accumulate, a), (MATRIX, SCALAR, EMPTY_ROWS),
           "CumminBackward0"),
    # Ties: every tied element after the first takes the gradient (the later index).
    OpInfo("cummin_ties", lambda a: (a * 2).round().cummin(0).indices,
           lambda a: _running_extreme_index(np.round(a * 2), 0, np.minimum), (Sample(((8, 3),)),),
           differentiable=False, out_dtype=autodiff.int64),
    OpInfo("logcumsumexp", lambda a: a.logcumsumexp(1),
           lambda a: np.logaddexp.accumulate(a, 1), (MATRIX, CUBE), "LogcumsumexpBackward0",
           domain=(-30.0, 30.0), rtol=1e-2),
    OpInfo("logcumsumexp_neg_dim", lambda a: autodiff.logcumsumexp(a, -1),
           lambda a: _scan(np.logaddexp.accumulate, a), (MATRIX, SCALAR, EMPTY_ROWS),
           "LogcumsumexpBackward0"),
]


def _running_extreme_index(a: np.ndarray, axis: int, extreme: np.ufunc) -> np.ndarray:
    """The index where the running max (min) was last reached: ties take the later one."""
    running = extreme.accumulate(a, axis)
    shape = [1] * a.ndim
    shape[axis] = -1
    positions = np.arange(a.shape[axis]).reshape(shape)
    return np.maximum.accumulate(np.where(a == running, positions, 0), axis)

LOGICAL: list[OpInfo] = [
    OpInfo("any", lambda a: (a > 1.5).any(), lambda a: np.any(a > 1.5), (MATRIX, SCALAR, CUBE),
           differentiable=False, out_dtype=autodiff.bool),
    OpInfo("all_dim", lambda a: autodiff.all(a > -1.5, 1), lambda a: np.all(a > -1.5, 1),
           (MATRIX, CUBE, EMPTY_ROWS), differentiable=False, out_dtype=autodiff.bool),
    OpInfo("any_dims_keepdim", lambda a: a.any((0, 1), keepdim=True),
           lambda a: np.any(a, (0, 1), keepdims=True), (CUBE,), differentiable=False,
           out_dtype=autodiff.bool),
]

REDUCTION: list[OpInfo] = [*SUM_MEAN, *PROD, *MINMAX, *STATISTICS, *NORMS, *SCANS, *LOGICAL]
