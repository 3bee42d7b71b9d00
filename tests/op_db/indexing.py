"""Op table entries: indexing, assignment, gather/scatter, diagonals and padding.

Index arrays are baked into the lambdas (the table hands ops only random float tensors). A
random boolean mask is made from an extra float input (`m > 0`), listed after the
differentiable inputs with `grad_inputs` set.
"""

from __future__ import annotations

from typing import Any

import numpy as np

import autodiff
import autodiff.nn.functional as F

from .info import OpInfo, Sample


def _index(values: Any, like: autodiff.Tensor) -> autodiff.Tensor:
    """An int64 index tensor on `like`'s device (the device under test: gather, scatter and the
    like refuse an index on another device, and CPU indices index any device)."""
    return autodiff.tensor(values, dtype=autodiff.int64, device=like.device)


def _assigned(a: autodiff.Tensor, key: Any, value: Any) -> autodiff.Tensor:
    """`x = a * 1; x[key] = value`: assignment as an op of (a, value)."""
    out = a * 1
    out[key] = value
    return out


def _np_assigned(a: np.ndarray, key: Any, value: Any) -> np.ndarray:
    out = a.copy()
    out[key] = value
    return out


def _np_accumulated(a: np.ndarray, key: Any, value: Any) -> np.ndarray:
    out = a.copy()
    np.add.at(out, key, value)
    return out


def _np_scatter(a: np.ndarray, index: np.ndarray, src: Any, axis: int,
                add: bool = False) -> np.ndarray:
    out = a.copy()
    grid = list(np.indices(index.shape, sparse=True))
    grid[axis] = index
    values = src[tuple(slice(0, size) for size in index.shape)] if np.ndim(src) else src
    if add:
        np.add.at(out, tuple(grid), values)
    else:
        out[tuple(grid)] = values
    return out


def _np_diagonal(a: np.ndarray, offset: int = 0, axis1: int = 0, axis2: int = 1) -> np.ndarray:
    return np.diagonal(a, offset, axis1, axis2).copy()


def _np_put(a: np.ndarray, index: Any, source: np.ndarray,
            accumulate: bool = False) -> np.ndarray:
    out = a.copy().reshape(-1)
    if accumulate:
        np.add.at(out, index, source.reshape(-1))
    else:
        out[index] = source.reshape(-1)
    return out.reshape(a.shape)


def _np_masked_scatter(a: np.ndarray, mask: np.ndarray, source: np.ndarray) -> np.ndarray:
    shape = np.broadcast_shapes(a.shape, mask.shape)
    out = np.broadcast_to(a, shape).copy()
    mask = np.broadcast_to(mask, shape)
    out[mask] = source.reshape(-1)[:int(mask.sum())]
    return out


def _np_scatter_reduce(a: np.ndarray, index: np.ndarray, src: np.ndarray, reduce: str,
                       include_self: bool) -> np.ndarray:
    """scatter_reduce along dim 0, one element at a time."""
    out = a.copy()
    groups: dict[tuple[int, int], list[float]] = {}
    for (row, col), target in np.ndenumerate(index):
        groups.setdefault((int(target), col), []).append(float(src[row, col]))
    for position, values in groups.items():
        values = ([float(a[position])] if include_self else []) + values
        out[position] = _REDUCE[reduce](values)
    return out


def _np_index_reduce(a: np.ndarray, index: list[int], source: np.ndarray, reduce: str,
                     include_self: bool) -> np.ndarray:
    """index_reduce along dim 0, row by row."""
    out = a.copy()
    for target in set(index):
        rows = [source[i] for i, t in enumerate(index) if t == target]
        stacked = np.stack(([a[target]] if include_self else []) + rows)
        out[target] = np.apply_along_axis(_REDUCE[reduce], 0, stacked)
    return out


_REDUCE: dict[str, Any] = {"sum": np.sum, "prod": np.prod, "mean": np.mean, "amax": np.max,
                           "amin": np.min}
_REDUCE_INDEX = [[0, 2, 0], [0, 1, 2]]


def _np_diag_embed(a: np.ndarray, offset: int = 0) -> np.ndarray:
    size = a.shape[-1] + abs(offset)
    out = np.zeros((*a.shape[:-1], size, size))
    rows = np.arange(a.shape[-1]) + max(-offset, 0)
    out[..., rows, rows + offset] = a
    return out


def _np_diagonal_scatter(a: np.ndarray, s: np.ndarray, offset: int) -> np.ndarray:
    out = a.copy()
    rows = np.arange(s.shape[-1]) + max(-offset, 0)
    out[rows, rows + offset] = np.moveaxis(s, -1, 0)
    return out


def _np_block_diag(*arrays: np.ndarray) -> np.ndarray:
    blocks = [a.reshape(1, -1) if a.ndim < 2 else a for a in arrays]
    out = np.zeros((sum(b.shape[0] for b in blocks), sum(b.shape[1] for b in blocks)))
    row = col = 0
    for block in blocks:
        out[row:row + block.shape[0], col:col + block.shape[1]] = block
        row, col = row + block.shape[0], col + block.shape[1]
    return out


_GATHER_INDEX = [[0, 3], [2, 2], [1, 0]]
_SCATTER_INDEX = [[2, 0, 1], [1, 2, 0]]  # no repeats along dim 0 within a column
_MASK = [[True, False, True, False], [False, False, True, True], [True, True, True, False]]

INDEXING: list[OpInfo] = [
    # ------------------------------------------------------------------------- basic keys
    OpInfo("getitem_int", lambda a: a[1], lambda a: a[1],
           (Sample(((3, 4),)), Sample(((2, 0),)), Sample(((3,),))), "SelectBackward0"),
    OpInfo("getitem_negative", lambda a: a[-1, 1:], lambda a: a[-1, 1:], (Sample(((3, 4),)),),
           "SliceBackward0"),
    OpInfo("getitem_steps", lambda a: a[::2, 1::2], lambda a: a[::2, 1::2],
           (Sample(((5, 4),)), Sample(((0, 3),))), "SliceBackward0"),
    OpInfo("getitem_slice", lambda a: a[1:10], lambda a: a[1:10],
           (Sample(((3, 4),)), Sample(((0, 2),))), "SliceBackward0"),
    OpInfo("getitem_none_ellipsis", lambda a: a[None, ..., 0], lambda a: a[None, ..., 0],
           (Sample(((3, 4),)), Sample(((2, 3, 2),))), "SelectBackward0"),
    OpInfo("getitem_ellipsis", lambda a: a[...], lambda a: a.copy(),
           (Sample(((3, 4),)), Sample(((),))), "AliasBackward0"),
    OpInfo("getitem_none_0d", lambda a: a[None], lambda a: a[None], (Sample(((),)),),
           "UnsqueezeBackward0"),
    OpInfo("select", lambda a: a.select(1, -1), lambda a: a[:, -1], (Sample(((3, 4),)),),
           "SelectBackward0"),
    OpInfo("narrow", lambda a: a.narrow(1, 1, 2), lambda a: a[:, 1:3],
           (Sample(((3, 4),)), Sample(((0, 3),))), "SliceBackward0"),
    # ------------------------------------------------------------------------- advanced keys
    OpInfo("getitem_list", lambda a: a[[0, 2, 0, 0]], lambda a: a[[0, 2, 0, 0]],
           (Sample(((3, 4),)), Sample(((3,),)), Sample(((3, 0),))), "IndexBackward0"),
    OpInfo("getitem_tensor_2d", lambda a: a[_index([[0, 1], [1, 1]], a)],
           lambda a: a[np.array([[0, 1], [1, 1]])], (Sample(((2, 3),)),), "IndexBackward0"),
    OpInfo("getitem_broadcast", lambda a: a[[[0], [2]], [1, 1, 3]],
           lambda a: a[[[0], [2]], [1, 1, 3]], (Sample(((3, 4),)),), "IndexBackward0"),
    OpInfo("getitem_separated", lambda a: a[[1, 0, 1], :, [3, 3, 0]],
           lambda a: a[[1, 0, 1], :, [3, 3, 0]], (Sample(((2, 3, 4),)),), "IndexBackward0"),
    OpInfo("getitem_int_then_array", lambda a: a[0, :, [1, 2, 2]],
           lambda a: a[0][:, [1, 2, 2]], (Sample(((2, 3, 4),)),), "IndexBackward0"),
    OpInfo("getitem_slice_array", lambda a: a[1:, [-1, 0]], lambda a: a[1:, [-1, 0]],
           (Sample(((3, 4),)),), "IndexBackward0"),
    OpInfo("getitem_mask", lambda a: a[_index(_MASK, a).bool()], lambda a: a[np.array(_MASK)],
           (Sample(((3, 4),)),), "IndexBackward0"),
    OpInfo("getitem_random_mask", lambda a, m: a[m > 0], lambda a, m: a[m > 0],
           (Sample(((3, 4), (3, 4))), Sample(((4, 3), (4,))), Sample(((0, 2), (0, 2)))),
           "IndexBackward0", grad_inputs=1),
    OpInfo("getitem_mask_and_index", lambda a, m: a[:, m > 0, [1]],
           lambda a, m: a[:, m > 0, [1]], (Sample(((2, 3, 2), (3,))),), "IndexBackward0",
           grad_inputs=1),
    OpInfo("getitem_empty_list", lambda a: a[[]], lambda a: a[np.array([], dtype=int)],
           (Sample(((3, 4),)),), "IndexBackward0"),
    OpInfo("getitem_true", lambda a: a[True], lambda a: a[None], (Sample(((3,),)),),
           "IndexBackward0"),
    # ------------------------------------------------------------------------- assignment
    OpInfo("setitem_basic", lambda a, b: _assigned(a, (1, slice(None, None, 2)), b),
           lambda a, b: _np_assigned(a, (1, slice(None, None, 2)), b),
           (Sample(((3, 4), (2,))), Sample(((3, 4), ()))), "CopySlices"),
    OpInfo("setitem_number", lambda a: _assigned(a, (slice(1, None), 0), 2.5),
           lambda a: _np_assigned(a, (slice(1, None), 0), 2.5), (Sample(((3, 4),)),),
           "CopySlices"),
    OpInfo("setitem_all", lambda a, b: _assigned(a, ..., b), lambda a, b: _np_assigned(a, ..., b),
           (Sample(((3, 4), (4,))),), "CopyBackwards"),
    OpInfo("setitem_advanced", lambda a, b: _assigned(a, [2, 0], b),
           lambda a, b: _np_assigned(a, [2, 0], b),
           (Sample(((3, 4), (2, 4))), Sample(((3, 4), (4,))), Sample(((3, 4), ()))),
           "IndexPutBackward0"),
    OpInfo("setitem_view_advanced", lambda a, b: _assigned(a, (1, [0, 3]), b),
           lambda a, b: _np_assigned(a, (1, [0, 3]), b), (Sample(((3, 4), (2,))),),
           "CopySlices"),
    OpInfo("setitem_mask", lambda a, m: _assigned(a, m > 0, -1.0),
           lambda a, m: _np_assigned(a, m > 0, -1.0), (Sample(((3, 4), (3, 4))),),
           "IndexPutBackward0", grad_inputs=1),
    OpInfo("index_put_accumulate",
           lambda a, b: (a * 1).index_put_((_index([0, 2, 0], a),), b, accumulate=True),
           lambda a, b: _np_accumulated(a, ([0, 2, 0],), b),
           (Sample(((3, 4), (3, 4))), Sample(((3, 4), (4,)))), "IndexPutBackward0"),
    # ------------------------------------------------------------------------- gather and scatter
    OpInfo("gather", lambda a: a.gather(1, _index(_GATHER_INDEX, a)),
           lambda a: np.take_along_axis(a, np.array(_GATHER_INDEX), 1), (Sample(((3, 4),)),),
           "GatherBackward0"),
    OpInfo("gather_smaller", lambda a: a.gather(0, _index([[1, 0]], a)),
           lambda a: np.take_along_axis(a[:, :2], np.array([[1, 0]]), 0), (Sample(((3, 4),)),),
           "GatherBackward0"),
    OpInfo("take_along_dim", lambda a: autodiff.take_along_dim(a, _index([[0], [3]], a), 1),
           lambda a: np.take_along_axis(a, np.array([[0], [3]]), 1), (Sample(((2, 4),)),),
           "GatherBackward0"),
    OpInfo("take_along_dim_broadcast",
           lambda a: autodiff.take_along_dim(a, _index([[[0, 2, 2]]], a), 2),
           lambda a: np.take_along_axis(np.broadcast_to(a, (2, 1, 4)),
                                        np.broadcast_to(np.array([[[0, 2, 2]]]), (2, 1, 3)), 2),
           (Sample(((2, 1, 4),)),), "GatherBackward0"),
    OpInfo("take_along_dim_flat", lambda a: autodiff.take_along_dim(a, _index([5, 0, 5], a)),
           lambda a: a.reshape(-1)[[5, 0, 5]], (Sample(((2, 3),)),), "GatherBackward0"),
    OpInfo("scatter", lambda a, s: a.scatter(0, _index(_SCATTER_INDEX, a), s),
           lambda a, s: _np_scatter(a, np.array(_SCATTER_INDEX), s, 0),
           (Sample(((3, 3), (2, 3))), Sample(((3, 4), (2, 3)))), "ScatterBackward0"),
    OpInfo("scatter_value", lambda a: a.scatter(0, _index(_SCATTER_INDEX, a), 1.5),
           lambda a: _np_scatter(a, np.array(_SCATTER_INDEX), 1.5, 0), (Sample(((3, 3),)),),
           "ScatterBackward1"),
    OpInfo("scatter_add", lambda a, s: a.scatter_add(1, _index([[0, 0, 2], [1, 1, 1]], a), s),
           lambda a, s: _np_scatter(a, np.array([[0, 0, 2], [1, 1, 1]]), s, 1, add=True),
           (Sample(((2, 3), (2, 3))), Sample(((3, 4), (2, 3)))), "ScatterAddBackward0"),
    OpInfo("index_select", lambda a: a.index_select(1, _index([3, 0, 3], a)),
           lambda a: a[:, [3, 0, 3]], (Sample(((2, 4),)), Sample(((0, 4),))),
           "IndexSelectBackward0"),
    OpInfo("index_add", lambda a, s: a.index_add(0, _index([1, 1, 0], a), s, alpha=2),
           lambda a, s: _np_accumulated(a, ([1, 1, 0],), 2 * s), (Sample(((2, 3), (3, 3))),),
           "IndexAddBackward0"),
    OpInfo("masked_fill", lambda a, m: a.masked_fill(m > 0, 0.5),
           lambda a, m: np.where(m > 0, 0.5, a),
           (Sample(((3, 4), (3, 4))), Sample(((3, 4), (4,))), Sample(((), ())),
            Sample(((0, 3), (3,)))), "MaskedFillBackward0", grad_inputs=1),
    OpInfo("masked_fill_tensor", lambda a, v, m: a.masked_fill(m > 0, v),
           lambda a, v, m: np.where(m > 0, v, a),
           (Sample(((3, 4), (), (3, 4))), Sample(((2, 3), (), (2, 1)))), "MaskedFillBackward1",
           grad_inputs=2),
    OpInfo("index_copy", lambda a, s: a.index_copy(1, _index([3, 0], a), s),
           lambda a, s: _np_assigned(a, (slice(None), [3, 0]), s),
           (Sample(((2, 4), (2, 2))),), "IndexCopyBackward0"),
    OpInfo("index_copy_", lambda a, s: (a * 1).index_copy_(0, _index([1], a), s),
           lambda a, s: _np_assigned(a, [1], s), (Sample(((3, 2), (1, 2))),),
           "IndexCopyBackward0"),
    OpInfo("index_fill", lambda a: a.index_fill(0, _index([2, -3], a), -1.5),
           lambda a: _np_assigned(a, [2, 0], -1.5), (Sample(((3, 4),)),), "IndexFillBackward0"),
    OpInfo("index_fill_tensor", lambda a, v: autodiff.index_fill(a, -1, _index([1], a), v),
           lambda a, v: _np_assigned(a, (Ellipsis, [1]), v), (Sample(((2, 3), ())),),
           "IndexFillBackward1"),
    OpInfo("index_fill_", lambda a: (a * 1).index_fill_(1, _index([0], a), 2.0),
           lambda a: _np_assigned(a, (slice(None), [0]), 2.0), (Sample(((2, 2),)),),
           "IndexFillBackward0"),
    # ------------------------------------------------------------------------- scatters that reduce
    *[OpInfo(f"scatter_reduce_{reduce}{'' if include_self else '_exclude_self'}",
             lambda a, s, reduce=reduce, include_self=include_self: a.scatter_reduce(
                 0, _index(_REDUCE_INDEX, a), s, reduce, include_self=include_self),
             lambda a, s, reduce=reduce, include_self=include_self: _np_scatter_reduce(
                 a, np.array(_REDUCE_INDEX), s, reduce, include_self),
             (Sample(((3, 3), (2, 3))), Sample(((3, 4), (2, 4)))), "ScatterReduceBackward0",
             domain=(0.5, 2.0) if reduce == "prod" else (-2.0, 2.0))
      for reduce in ("sum", "prod", "mean", "amax", "amin") for include_self in (True, False)],
    OpInfo("scatter_reduce_", lambda a, s: (a * 1).scatter_reduce_(
        1, _index([[0, 0, 1]], a), s, "amax"),
        lambda a, s: _np_scatter_reduce(a.T, np.array([[0], [0], [1]]), s.T, "amax", True).T,
        (Sample(((1, 3), (1, 3))),), "ScatterReduceBackward0"),
    *[OpInfo(f"index_reduce_{reduce}{'' if include_self else '_exclude_self'}",
             lambda a, s, reduce=reduce, include_self=include_self: a.index_reduce(
                 0, _index([2, 0, 2], a), s, reduce, include_self=include_self),
             lambda a, s, reduce=reduce, include_self=include_self: _np_index_reduce(
                 a, [2, 0, 2], s, reduce, include_self),
             (Sample(((3, 2), (3, 2))),), "IndexReduceBackward0",
             domain=(0.5, 2.0) if reduce == "prod" else (-2.0, 2.0))
      for reduce in ("prod", "mean", "amax", "amin") for include_self in (True, False)],
    OpInfo("index_reduce_", lambda a, s: (a * 1).index_reduce_(1, _index([1, 1], a), s, "mean"),
           lambda a, s: _np_index_reduce(a.T, [1, 1], s.T, "mean", True).T,
           (Sample(((2, 3), (2, 2))),), "IndexReduceBackward0"),
    # ------------------------------------------------------------------------- writes through views
    OpInfo("select_scatter", lambda a, s: autodiff.select_scatter(a, s, 1, -1),
           lambda a, s: _np_assigned(a, (slice(None), -1), s), (Sample(((3, 4), (3,))),),
           "SelectScatterBackward0"),
    OpInfo("slice_scatter", lambda a, s: a.slice_scatter(s, 1, 1, None, 2),
           lambda a, s: _np_assigned(a, (slice(None), slice(1, None, 2)), s),
           (Sample(((3, 5), (3, 2))),), "SliceScatterBackward0"),
    OpInfo("slice_scatter_default", lambda a, s: autodiff.slice_scatter(a, s),
           lambda a, s: s.copy(), (Sample(((2, 3), (2, 3))),), "SliceScatterBackward0"),
    OpInfo("narrow_copy", lambda a: a.narrow_copy(0, 1, 2), lambda a: a[1:3].copy(),
           (Sample(((3, 4),)),), "NarrowCopyBackward0"),
    # ------------------------------------------------------------------------- flat positions
    OpInfo("take", lambda a: a.take(_index([[0, -1], [5, 2]], a)),
           lambda a: a.reshape(-1)[[[0, -1], [5, 2]]], (Sample(((2, 3),)), Sample(((6,),))),
           "TakeBackward0"),
    OpInfo("take_repeated", lambda a: autodiff.take(a, _index([3, 3, 0], a)),
           lambda a: a.reshape(-1)[[3, 3, 0]], (Sample(((2, 2),)),), "TakeBackward0"),
    OpInfo("put", lambda a, s: a.put(_index([4, 0, -1], a), s),
           lambda a, s: _np_put(a, [4, 0, -1], s), (Sample(((2, 3), (3,))),), "PutBackward0"),
    OpInfo("put_accumulate", lambda a, s: autodiff.put(a, _index([[1, 1], [0, 1]], a), s, True),
           lambda a, s: _np_put(a, [1, 1, 0, 1], s, accumulate=True),
           (Sample(((3, 2), (2, 2))),), "PutBackward0"),
    OpInfo("put_", lambda a, s: (a * 1).put_(_index([2, 1], a), s),
           lambda a, s: _np_put(a, [2, 1], s), (Sample(((4,), (2,))),), "PutBackward0"),
    OpInfo("masked_select", lambda a, m: a.masked_select(m > 0),
           lambda a, m: np.broadcast_to(a, np.broadcast_shapes(a.shape, m.shape))[
               np.broadcast_to(m > 0, np.broadcast_shapes(a.shape, m.shape))],
           (Sample(((3, 4), (3, 4))), Sample(((3, 1), (4,))), Sample(((), ())),
            Sample(((0, 3), (3,)))), "MaskedSelectBackward0", grad_inputs=1),
    OpInfo("masked_scatter", lambda a, s, m: a.masked_scatter(m > 0, s),
           lambda a, s, m: _np_masked_scatter(a, m > 0, s),
           (Sample(((3, 4), (3, 5), (3, 4))), Sample(((2, 3), (7,), (3,))),
            Sample(((2, 1), (9,), (2, 3)))), "MaskedScatterBackward0", grad_inputs=2),
    OpInfo("masked_scatter_", lambda a, s, m: (a * 1).masked_scatter_(m > 0, s),
           lambda a, s, m: _np_masked_scatter(a, m > 0, s), (Sample(((3, 4), (12,), (4,))),),
           "MaskedScatterBackward0", grad_inputs=2),
    OpInfo("unravel_index", lambda a: autodiff.unravel_index(
        _index([[7, -1], [0, 11]], a), (3, 4))[1] * a,
           lambda a: np.unravel_index([[7, 11], [0, 11]], (3, 4))[1] * a, (Sample(((2, 2),)),),
           "MulBackward0"),
    # ------------------------------------------------------------------------- matrix structure
    OpInfo("tril", lambda a: a.tril(), np.tril,
           (Sample(((3, 4),)), Sample(((2, 3, 3),)), Sample(((0, 3),))), "TrilBackward0"),
    OpInfo("tril_offset", lambda a: autodiff.tril(a, -1), lambda a: np.tril(a, -1),
           (Sample(((4, 3),)),), "TrilBackward0"),
    OpInfo("triu", lambda a: a.triu(1), lambda a: np.triu(a, 1),
           (Sample(((3, 4),)), Sample(((2, 3, 3),))), "TriuBackward0"),
    OpInfo("diagonal", lambda a: a.diagonal(), _np_diagonal,
           (Sample(((3, 4),)), Sample(((4, 3),)), Sample(((0, 3),))), "DiagonalBackward0"),
    OpInfo("diagonal_offset", lambda a: a.diagonal(1), lambda a: _np_diagonal(a, 1),
           (Sample(((3, 4),)), Sample(((3, 1),))), "DiagonalBackward0"),
    OpInfo("diagonal_negative_offset", lambda a: autodiff.diagonal(a, -1),
           lambda a: _np_diagonal(a, -1), (Sample(((3, 4),)),), "DiagonalBackward0"),
    OpInfo("diagonal_dims", lambda a: a.diagonal(1, 2, 0), lambda a: _np_diagonal(a, 1, 2, 0),
           (Sample(((3, 2, 4),)),), "DiagonalBackward0"),
    OpInfo("diagonal_transposed", lambda a: a.t().diagonal(-1), lambda a: _np_diagonal(a.T, -1),
           (Sample(((4, 3),)),), "DiagonalBackward0"),
    OpInfo("diagonal_of_slice", lambda a: a[:, :3].diagonal(), lambda a: _np_diagonal(a[:, :3]),
           (Sample(((4, 5),)),), "DiagonalBackward0"),
    OpInfo("trace", lambda a: a.trace(), np.trace, (Sample(((3, 4),)), Sample(((4, 2),))),
           "TraceBackward0"),
    OpInfo("diag", lambda a: a.diag(), np.diag, (Sample(((3,),)), Sample(((3, 4),))),
           "DiagEmbedBackward0"),
    OpInfo("diag_matrix", lambda a: autodiff.diag(a, -1), lambda a: np.diag(a, -1),
           (Sample(((3, 4),)), Sample(((1, 2),))), "DiagonalBackward0_copy"),
    OpInfo("diag_offset", lambda a: autodiff.diag(a, 2), lambda a: np.diag(a, 2),
           (Sample(((2,),)), Sample(((0,),))), "DiagEmbedBackward0"),
    OpInfo("diagflat", lambda a: a.diagflat(-1), lambda a: np.diagflat(a, -1),
           (Sample(((2, 2),)), Sample(((),))), "DiagEmbedBackward0"),
    OpInfo("diag_embed", lambda a: a.diag_embed(), _np_diag_embed,
           (Sample(((2, 3),)), Sample(((3,),)), Sample(((2, 0),))), "DiagEmbedBackward0"),
    OpInfo("diag_embed_dims", lambda a: autodiff.diag_embed(a, 1, 0, 2),
           lambda a: np.moveaxis(_np_diag_embed(a, 1), (-2, -1), (0, 2)),
           (Sample(((2, 3),)),), "DiagEmbedBackward0"),
    OpInfo("diagonal_scatter", lambda a, s: autodiff.diagonal_scatter(a, s, 1),
           lambda a, s: _np_diagonal_scatter(a, s, 1), (Sample(((3, 4), (3,))),),
           "DiagonalScatterBackward0"),
    OpInfo("diagonal_scatter_dims", lambda a, s: a.diagonal_scatter(s, -1, 2, 0),
           lambda a, s: np.moveaxis(_np_diagonal_scatter(np.moveaxis(a, (2, 0), (0, 1)), s, -1),
                                    (0, 1), (2, 0)),
           (Sample(((3, 2, 4), (2, 3))),),
           "DiagonalScatterBackward0"),
    OpInfo("block_diag", lambda a, b, c: autodiff.block_diag(a, b, c), _np_block_diag,
           (Sample(((2, 3), (), (2,))), Sample(((0, 2), (1, 1), (3,)))), "BlockDiagBackward0"),
    # ------------------------------------------------------------------------- padding
    OpInfo("pad", lambda a: F.pad(a, (1, 2)), lambda a: np.pad(a, [(0, 0), (1, 2)]),
           (Sample(((3, 4),)), Sample(((2, 0),))), "ConstantPadNdBackward0"),
    OpInfo("pad_value_2d", lambda a: F.pad(a, (0, 1, 2, 0), value=-1.5),
           lambda a: np.pad(a, [(0, 0), (2, 0), (0, 1)], constant_values=-1.5),
           (Sample(((2, 3, 4),)),), "ConstantPadNdBackward0"),
    OpInfo("pad_negative", lambda a: F.pad(a, (-1, 2)),
           lambda a: np.pad(a[:, 1:], [(0, 0), (0, 2)]),
           (Sample(((3, 4),)),), "ConstantPadNdBackward0"),
    OpInfo("pad_reflect", lambda a: F.pad(a, (2, 1), mode="reflect"),
           lambda a: np.pad(a, [(0, 0)] * (a.ndim - 1) + [(2, 1)], mode="reflect"),
           (Sample(((2, 2, 4),)), Sample(((2, 3),))), "ReflectionPad1DBackward0"),
    OpInfo("pad_reflect_2d", lambda a: F.pad(a, (1, 1, 2, 0), mode="reflect"),
           lambda a: np.pad(a, [(0, 0), (2, 0), (1, 1)], mode="reflect"),
           (Sample(((2, 3, 4),)),), "ReflectionPad2DBackward0"),
    OpInfo("pad_replicate", lambda a: F.pad(a, (3, 1), mode="replicate"),
           lambda a: np.pad(a, [(0, 0), (0, 0), (3, 1)], mode="edge"),
           (Sample(((1, 2, 3),)),), "ReplicationPad1DBackward0"),
    OpInfo("pad_replicate_3d", lambda a: F.pad(a, (1, 0, 0, 1, 1, 1), mode="replicate"),
           lambda a: np.pad(a, [(0, 0), (1, 1), (0, 1), (1, 0)], mode="edge"),
           (Sample(((1, 2, 2, 3),)),), "ReplicationPad3DBackward0"),
]
