"""Op table entries: sorting, order statistics, unique values, searching and histograms.

Random inputs have no ties, so indices are checked against NumPy's; entries on rounded inputs
(`(a * 2).round()`) check ties. Ops that return indices or counts are forward-only.
"""

from __future__ import annotations

from typing import Any

import numpy as np

import autodiff

from .info import OpInfo, Sample

MATRIX = Sample(((3, 4),))
CUBE = Sample(((2, 3, 4),))
SCALAR = Sample(((),))
VECTOR = Sample(((7,),))
EMPTY_ROWS = Sample(((0, 3),))


def _stable_order(a: np.ndarray, axis: int, descending: bool = False) -> np.ndarray:
    if descending:  # stable and descending: sort the negated values
        return np.argsort(-a, axis, kind="stable")
    return np.argsort(a, axis, kind="stable")


def _lower_median(a: np.ndarray, axis: int | None = None) -> np.ndarray:
    if axis is None:
        a, axis = a.reshape(-1), 0
    return np.take(np.sort(a, axis), (a.shape[axis] - 1) // 2, axis)


def _mode(a: np.ndarray, axis: int) -> np.ndarray:
    """The most frequent value along `axis`, the smallest of equally frequent ones."""
    moved = np.moveaxis(a, axis, -1)
    out = np.empty(moved.shape[:-1])
    for index in np.ndindex(out.shape):
        values, counts = np.unique(moved[index], return_counts=True)
        out[index] = values[np.argmax(counts)]
    return out


def _bins(a: Any) -> Any:
    """Small non-negative integers from the table's floats in [-2, 2)."""
    return ((a + 2) * 2).long() if isinstance(a, autodiff.Tensor) else ((a + 2) * 2).astype(int)


SORTING: list[OpInfo] = [
    OpInfo("sort", lambda a: a.sort().values, lambda a: np.sort(a, -1) if a.ndim else a,
           (MATRIX, CUBE, SCALAR, EMPTY_ROWS), "SortBackward0"),
    OpInfo("sort_descending", lambda a: autodiff.sort(a, 0, descending=True).values,
           lambda a: -np.sort(-a, 0), (MATRIX, CUBE), "SortBackward0"),
    OpInfo("sort_stable", lambda a: a.sort(dim=1, stable=True).values,
           lambda a: np.sort(a, 1), (MATRIX, CUBE), "SortBackward1"),
    OpInfo("sort_indices", lambda a: a.sort(1, stable=True).indices,
           lambda a: _stable_order(a, 1), (MATRIX, CUBE), differentiable=False,
           out_dtype=autodiff.int64),
    OpInfo("sort_ties", lambda a: (a * 2).round().sort(0, descending=True).indices,
           lambda a: _stable_order(np.round(a * 2), 0, descending=True), (Sample(((9, 2),)),),
           differentiable=False, out_dtype=autodiff.int64),
    OpInfo("argsort", lambda a: a.argsort(), lambda a: _stable_order(a, -1), (MATRIX, CUBE),
           differentiable=False, out_dtype=autodiff.int64),
    OpInfo("argsort_descending", lambda a: autodiff.argsort(a, 0, descending=True),
           lambda a: _stable_order(a, 0, True), (MATRIX, EMPTY_ROWS), differentiable=False,
           out_dtype=autodiff.int64),
    OpInfo("msort", lambda a: autodiff.msort(a), lambda a: np.sort(a, 0), (MATRIX, VECTOR),
           "SortBackward0"),
    OpInfo("topk", lambda a: a.topk(2).values, lambda a: -np.sort(-a, -1)[..., :2],
           (MATRIX, CUBE), "TopkBackward0"),
    OpInfo("topk_smallest", lambda a: autodiff.topk(a, 3, 0, largest=False).values,
           lambda a: np.sort(a, 0)[:3], (Sample(((5, 2),)), Sample(((3, 0),))),
           "TopkBackward0"),
    OpInfo("topk_indices", lambda a: a.topk(3, dim=1).indices,
           lambda a: _stable_order(a, 1, True)[:, :3], (Sample(((4, 9),)),),
           differentiable=False, out_dtype=autodiff.int64),
    OpInfo("topk_all", lambda a: a.topk(4, 1).values, lambda a: -np.sort(-a, 1), (MATRIX,),
           "TopkBackward0"),
]

ORDER_STATISTICS: list[OpInfo] = [
    OpInfo("kthvalue", lambda a: a.kthvalue(2, 1).values, lambda a: np.sort(a, 1)[:, 1],
           (MATRIX,), "KthvalueBackward0"),
    OpInfo("kthvalue_keepdim", lambda a: autodiff.kthvalue(a, 3, 0, keepdim=True).values,
           lambda a: np.sort(a, 0)[2:3], (Sample(((4, 3),)), Sample(((3, 2, 2),))),
           "KthvalueBackward0"),
    OpInfo("kthvalue_indices", lambda a: a.kthvalue(1, -1).indices,
           lambda a: np.argmin(a, -1), (MATRIX, CUBE), differentiable=False,
           out_dtype=autodiff.int64),
    OpInfo("median", lambda a: a.median(), _lower_median, (MATRIX, Sample(((2, 3, 3),)), SCALAR),
           "MedianBackward0"),
    OpInfo("median_ties", lambda a: (a * 2).round().median() * a,
           lambda a: _lower_median(np.round(a * 2)) * a, (MATRIX,), "MulBackward0"),
    OpInfo("median_dim", lambda a: autodiff.median(a, 1).values,
           lambda a: _lower_median(a, 1), (MATRIX, CUBE), "MedianBackward1"),
    OpInfo("median_dim_indices", lambda a: a.median(0, keepdim=True).indices,
           lambda a: _stable_order(a, 0)[(a.shape[0] - 1) // 2][None],
           (Sample(((5, 3),)),), differentiable=False, out_dtype=autodiff.int64),
    OpInfo("median_dim_ties", lambda a: (a * 2).round().median(0).indices,
           lambda a: _stable_order(np.round(a * 2), 0)[(a.shape[0] - 1) // 2],
           (Sample(((7, 3),)),), differentiable=False, out_dtype=autodiff.int64),
    OpInfo("nanmedian", lambda a: a.nanmedian(), _lower_median, (MATRIX, SCALAR),
           "NanmedianBackward0"),
    OpInfo("nanmedian_dim", lambda a: autodiff.nanmedian(a, -1).values,
           lambda a: _lower_median(a, -1), (MATRIX, CUBE), "NanmedianBackward1"),
    OpInfo("nanmedian_nan", lambda a: autodiff.where(a > 1, float("nan"), a).nanmedian(1).values,
           lambda a: _nan_lower_median(np.where(a > 1, np.nan, a), 1), (Sample(((4, 6),)),),
           "NanmedianBackward1"),
    OpInfo("mode", lambda a: a.mode(1).values, lambda a: a.min(1), (MATRIX, CUBE),
           "ModeBackward0"),
    OpInfo("mode_ties", lambda a: (a * 2).round().mode(0).values,
           lambda a: _mode(np.round(a * 2), 0), (Sample(((9, 4),)),), differentiable=False),
    OpInfo("quantile", lambda a: a.quantile(0.3), lambda a: np.quantile(a, 0.3),
           (MATRIX, SCALAR, CUBE), "SqueezeBackward4"),
    OpInfo("quantile_dim", lambda a: autodiff.quantile(a, 0.75, dim=1, keepdim=True),
           lambda a: np.quantile(a, 0.75, axis=1, keepdims=True), (MATRIX, CUBE),
           "SqueezeBackward4"),
    OpInfo("quantile_vector_q", lambda a, q: autodiff.quantile(a, q.sort().values.add(2)
                                                                .div(4).detach(), dim=0),
           lambda a, q: np.quantile(a, np.sort((q + 2) / 4), axis=0),
           (Sample(((5, 3), (4,))),), "SqueezeBackward4", grad_inputs=1),
]
ORDER_STATISTICS += [
    OpInfo(f"quantile_{method}",
           lambda a, method=method: a.quantile(0.4, 0, interpolation=method),
           lambda a, method=method: np.quantile(a, 0.4, axis=0, method=method),
           (Sample(((6, 3),)), Sample(((5,),))), "SqueezeBackward4")
    for method in ("lower", "higher", "midpoint", "nearest")
]
ORDER_STATISTICS += [
    OpInfo("nanquantile", lambda a: autodiff.where(a > 1, float("nan"), a).nanquantile(0.6, 1),
           lambda a: np.nanquantile(np.where(a > 1, np.nan, a), 0.6, axis=1),
           (Sample(((4, 7),)),), "SqueezeBackward4"),
    OpInfo("nanquantile_plain", lambda a: autodiff.nanquantile(a, 0.5), np.median,
           (MATRIX,), "SqueezeBackward4"),
]


def _nan_lower_median(a: np.ndarray, axis: int) -> np.ndarray:
    ordered = np.sort(a, axis)
    count = np.sum(~np.isnan(a), axis, keepdims=True)
    position = np.maximum(count - 1, 0) // 2
    return np.take_along_axis(ordered, position, axis).squeeze(axis)


UNIQUE: list[OpInfo] = [
    OpInfo("unique", lambda a: (a * 2).round().unique(),
           lambda a: np.unique(np.round(a * 2)), (MATRIX, CUBE, SCALAR), differentiable=False),
    OpInfo("unique_inverse", lambda a: autodiff.unique((a * 2).round(), return_inverse=True)[1],
           lambda a: np.unique(np.round(a * 2), return_inverse=True)[1].reshape(a.shape),
           (MATRIX, CUBE), differentiable=False, out_dtype=autodiff.int64),
    OpInfo("unique_counts", lambda a: autodiff.unique(a.round(), return_counts=True)[1],
           lambda a: np.unique(np.round(a), return_counts=True)[1], (MATRIX, EMPTY_ROWS),
           differentiable=False, out_dtype=autodiff.int64),
    OpInfo("unique_dim", lambda a: a.round().unique(dim=1),
           lambda a: np.unique(np.round(a), axis=1), (Sample(((2, 9),)),),
           differentiable=False),
    OpInfo("unique_consecutive", lambda a: (a * 2).round().sort().values.unique_consecutive(),
           lambda a: np.unique(np.round(a * 2)), (VECTOR,), differentiable=False),
    OpInfo("unique_consecutive_counts",
           lambda a: autodiff.unique_consecutive(a.round(), return_counts=True)[1],
           lambda a: _run_lengths(np.round(a).reshape(-1)), (MATRIX, VECTOR),
           differentiable=False, out_dtype=autodiff.int64),
]


def _run_lengths(a: np.ndarray) -> np.ndarray:
    starts = np.flatnonzero(np.concatenate([[True], a[1:] != a[:-1]]))
    return np.diff(np.append(starts, a.size))


SEARCHING: list[OpInfo] = [
    OpInfo("nonzero", lambda a: (a > 0).nonzero(), lambda a: np.argwhere(a > 0),
           (MATRIX, CUBE, SCALAR, EMPTY_ROWS), differentiable=False, out_dtype=autodiff.int64),
    OpInfo("nonzero_static", lambda a: autodiff.nonzero_static(a > 0, size=5),
           lambda a: np.concatenate([np.argwhere(a > 0), np.full((5, a.ndim), -1)])[:5],
           (MATRIX, CUBE, SCALAR), differentiable=False, out_dtype=autodiff.int64),
    OpInfo("argwhere", lambda a: autodiff.argwhere(a.round()), lambda a: np.argwhere(a.round()),
           (MATRIX, CUBE), differentiable=False, out_dtype=autodiff.int64),
    OpInfo("nonzero_as_tuple", lambda a: autodiff.nonzero(a > 0.5, as_tuple=True)[1],
           lambda a: np.nonzero(a > 0.5)[1], (MATRIX,), differentiable=False,
           out_dtype=autodiff.int64),
    OpInfo("count_nonzero", lambda a: (a > 0).count_nonzero(),
           lambda a: np.count_nonzero(a > 0), (MATRIX, SCALAR), differentiable=False,
           out_dtype=autodiff.int64),
    OpInfo("count_nonzero_dims", lambda a: autodiff.count_nonzero(a.round(), (0, 2)),
           lambda a: np.count_nonzero(a.round(), (0, 2)), (CUBE,), differentiable=False,
           out_dtype=autodiff.int64),
    OpInfo("searchsorted", lambda s, v: autodiff.searchsorted(s.sort().values, v),
           lambda s, v: np.searchsorted(np.sort(s), v), (Sample(((8,), (3, 4))),),
           differentiable=False, out_dtype=autodiff.int64),
    OpInfo("searchsorted_batched", lambda s, v: autodiff.searchsorted(s.sort().values, v,
                                                                      right=True),
           lambda s, v: np.stack([np.searchsorted(np.sort(r), x, "right")
                                  for r, x in zip(s, v)]),
           (Sample(((3, 6), (3, 2))),), differentiable=False, out_dtype=autodiff.int64),
    OpInfo("searchsorted_sorter", lambda s, v: autodiff.searchsorted(
        s, v, side="right", sorter=s.argsort()), lambda s, v: np.searchsorted(
        s, v, "right", sorter=np.argsort(s)), (Sample(((9,), (5,))),), differentiable=False,
        out_dtype=autodiff.int64),
    OpInfo("searchsorted_int32", lambda s, v: autodiff.searchsorted(s.sort().values, v,
                                                                    out_int32=True),
           lambda s, v: np.searchsorted(np.sort(s), v), (Sample(((5,), ())),),
           differentiable=False, out_dtype=autodiff.int32),
    OpInfo("bucketize", lambda v, s: autodiff.bucketize(v, s.sort().values, right=True),
           lambda v, s: np.searchsorted(np.sort(s), v, "right"), (Sample(((2, 5), (4,))),),
           differentiable=False, out_dtype=autodiff.int64),
]

HISTOGRAMS: list[OpInfo] = [
    OpInfo("bincount", lambda a: autodiff.bincount(_bins(a).reshape(-1)),
           lambda a: np.bincount(_bins(a).reshape(-1)), (MATRIX, Sample(((0,),))),
           differentiable=False, out_dtype=autodiff.int64),
    OpInfo("bincount_weights", lambda a, w: _bins(a).bincount(w, minlength=10),
           lambda a, w: np.bincount(_bins(a), w, minlength=10), (Sample(((6,), (6,))),),
           differentiable=False),
    OpInfo("histc", lambda a: a.histc(5), lambda a: np.histogram(a, 5)[0],
           (MATRIX, CUBE), differentiable=False),
    OpInfo("histc_range", lambda a: autodiff.histc(a, bins=4, min=-1, max=1),
           lambda a: np.histogram(a, 4, range=(-1, 1))[0], (MATRIX,), differentiable=False),
    OpInfo("histogram", lambda a: a.histogram(6).hist, lambda a: np.histogram(a, 6)[0],
           (MATRIX, CUBE), differentiable=False),
    OpInfo("histogram_edges", lambda a: autodiff.histogram(a, 3, range=(-1.0, 2.0)).bin_edges,
           lambda a: np.histogram(a, 3, range=(-1, 2))[1], (MATRIX,), differentiable=False),
    OpInfo("histogram_weight_density",
           lambda a, w: autodiff.histogram(a, 4, weight=w.abs(), density=True).hist,
           lambda a, w: np.histogram(a, 4, weights=np.abs(w), density=True)[0],
           (Sample(((10,), (10,))),), differentiable=False),
    OpInfo("histogramdd", lambda a: autodiff.histogramdd(a, [3, 2]).hist,
           lambda a: np.histogramdd(a, [3, 2])[0], (Sample(((12, 2),)),), differentiable=False),
]

# Draws whose outcome is certain (std 0, probabilities 0 and 1, zero rates, one category): the
# forward on every device and dtype. The statistics are in test_sampling.py.
SAMPLING: list[OpInfo] = [
    OpInfo("normal_zero_std", lambda m: autodiff.normal(m, 0.0), lambda m: m,
           (MATRIX, SCALAR), differentiable=False),
    OpInfo("normal_tensors", lambda m, s: autodiff.normal(m, s * 0), lambda m, s: m + 0 * s,
           (Sample(((3, 1), (4,))),), differentiable=False),
    OpInfo("bernoulli", lambda p: autodiff.bernoulli((p > 0).to(p.dtype)),
           lambda p: (p > 0).astype(float), (MATRIX, EMPTY_ROWS), differentiable=False),
    OpInfo("poisson", lambda r: autodiff.poisson(r * 0), lambda r: r * 0, (MATRIX,),
           differentiable=False),
    OpInfo("multinomial", lambda w: autodiff.multinomial(
        autodiff.nn.functional.one_hot(w.argmax(1), 4).to(w.dtype), 3, replacement=True),
           lambda w: np.repeat(w.argmax(1)[:, None], 3, 1), (MATRIX,), differentiable=False,
           out_dtype=autodiff.int64),
]

SORTING_TABLE: list[OpInfo] = [*SORTING, *ORDER_STATISTICS, *UNIQUE, *SEARCHING, *HISTOGRAMS,
                               *SAMPLING]
