"""Op table entries: shape ops (views, joining and splitting, stacking by dims, grids and
combinations, rearranging copies)."""

from __future__ import annotations

import itertools
import warnings

import numpy as np

import autodiff

from .info import UNARY_SHAPES, OpInfo, Sample


def _weighted_pieces(pieces: tuple[autodiff.Tensor, ...], dim: int) -> autodiff.Tensor:
    """Join split pieces back with a different weight each, so every output's gradient counts."""
    return autodiff.cat([piece * (index + 1) for index, piece in enumerate(pieces)], dim)


def _np_weighted_split(a: np.ndarray, sections: list[int], axis: int) -> np.ndarray:
    pieces = np.split(a, np.cumsum(sections)[:-1], axis=axis)
    return np.concatenate([piece * (index + 1) for index, piece in enumerate(pieces)], axis)


SHAPE: list[OpInfo] = [
    OpInfo("reshape", lambda a: a.reshape(2, -1), lambda a: a.reshape(2, -1),
           (Sample(((3, 4),)), Sample(((2, 3, 2),)), Sample(((2, 0),))), "ViewBackward0"),
    OpInfo("reshape_0d", lambda a: a.reshape(1, 1), lambda a: a.reshape(1, 1),
           (Sample(((),)), Sample(((1,),))), "ViewBackward0"),
    OpInfo("reshape_copy", lambda a: a.t().reshape(-1), lambda a: a.T.reshape(-1),
           (Sample(((3, 4),)), Sample(((0, 2),))), "UnsafeViewBackward0"),
    OpInfo("view", lambda a: a.view(-1, 2), lambda a: a.reshape(-1, 2),
           (Sample(((3, 4),)), Sample(((0, 2),))), "ViewBackward0"),
    OpInfo("view_as", lambda a, b: a.view_as(b) * b, lambda a, b: a.reshape(b.shape) * b,
           (Sample(((6,), (2, 3))),), "MulBackward0"),
    OpInfo("flatten", lambda a: a.flatten(), lambda a: a.reshape(-1),
           (Sample(((2, 3, 2),)), Sample(((),)), Sample(((2, 0),))), "ViewBackward0"),
    OpInfo("flatten_dims", lambda a: autodiff.flatten(a, 1, 2), lambda a: a.reshape(2, 6, 2),
           (Sample(((2, 3, 2, 2),)),), "ViewBackward0"),
    OpInfo("unflatten", lambda a: a.unflatten(1, (2, -1)), lambda a: a.reshape(3, 2, 2),
           (Sample(((3, 4),)),), "ViewBackward0"),
    OpInfo("expand", lambda a: a.expand(3, 4), lambda a: np.broadcast_to(a, (3, 4)),
           (Sample(((4,),)), Sample(((3, 1),)), Sample(((),)), Sample(((3, 4),))),
           "ExpandBackward0"),
    OpInfo("expand_new_dims", lambda a: a.expand(2, -1, 3), lambda a: np.broadcast_to(a, (2, 4, 3)),
           (Sample(((4, 1),)),), "ExpandBackward0"),
    OpInfo("expand_empty", lambda a: a.expand(0, 3), lambda a: np.broadcast_to(a, (0, 3)),
           (Sample(((1, 3),)),), "ExpandBackward0"),
    OpInfo("broadcast_to", lambda a: autodiff.broadcast_to(a, (2, 3, 4)),
           lambda a: np.broadcast_to(a, (2, 3, 4)), (Sample(((3, 1),)),), "ExpandBackward0"),
    OpInfo("permute", lambda a: a.permute(2, 0, 1), lambda a: a.transpose(2, 0, 1),
           (Sample(((2, 3, 4),)), Sample(((2, 0, 3),))), "PermuteBackward0"),
    OpInfo("movedim", lambda a: a.movedim(0, -1), lambda a: np.moveaxis(a, 0, -1),
           (Sample(((2, 3, 4),)),), "PermuteBackward0"),
    OpInfo("transpose", lambda a: a.transpose(0, 1), lambda a: a.swapaxes(0, 1),
           (Sample(((3, 4),)), Sample(((2, 3, 4),)), Sample(((0, 2),))), "TransposeBackward0"),
    OpInfo("t", lambda a: a.t(), lambda a: a.T, (Sample(((3, 4),)), Sample(((3,),))),
           "TBackward0"),
    OpInfo("T", lambda a: a.T, lambda a: a.T, (Sample(((3, 4),)), Sample(((),))),
           "PermuteBackward0"),
    OpInfo("mT", lambda a: a.mT, lambda a: a.swapaxes(-1, -2), (Sample(((2, 3, 4),)),),
           "TransposeBackward0"),
    OpInfo("unsqueeze", lambda a: a.unsqueeze(1), lambda a: np.expand_dims(a, 1),
           (Sample(((3, 4),)), Sample(((2, 0),))), "UnsqueezeBackward0"),
    OpInfo("unsqueeze_0d", lambda a: a.unsqueeze(-1), lambda a: np.expand_dims(a, -1),
           (Sample(((),)),), "UnsqueezeBackward0"),
    OpInfo("squeeze", lambda a: a.squeeze(1), lambda a: a.squeeze(1),
           (Sample(((3, 1, 4),)), Sample(((0, 1),))), "SqueezeBackward1"),
    OpInfo("squeeze_all", lambda a: a.squeeze(), np.squeeze,
           (Sample(((1, 3, 1),)), Sample(((),)), Sample(((1, 1),))), "SqueezeBackward0"),
    OpInfo("squeeze_dims", lambda a: a.squeeze((0, 2)), lambda a: a.squeeze((0, 2)),
           (Sample(((1, 3, 1),)),), "SqueezeBackward2"),
    OpInfo("repeat", lambda a: a.repeat(2, 1, 3), lambda a: np.tile(a, (2, 1, 3)),
           (Sample(((3, 4),)), Sample(((),)), Sample(((2, 0),))), "RepeatBackward0"),
    OpInfo("tile", lambda a: a.tile(2), lambda a: np.tile(a, 2), (Sample(((3, 2),)),),
           "RepeatBackward0"),
    OpInfo("flip", lambda a: a.flip(0, -1), lambda a: np.flip(a, (0, -1)),
           (Sample(((3, 4),)), Sample(((2, 0, 3),))), "FlipBackward0"),
    OpInfo("flip_0d", lambda a: a.flip(0), lambda a: a.copy(), (Sample(((),)),), "FlipBackward0"),
    OpInfo("roll", lambda a: a.roll((1, -2), (0, 1)), lambda a: np.roll(a, (1, -2), (0, 1)),
           (Sample(((3, 4),)), Sample(((2, 0),))), "RollBackward0"),
    OpInfo("roll_flat", lambda a: a.roll(5), lambda a: np.roll(a, 5),
           (Sample(((3, 4),)), Sample(((),))), "RollBackward0"),
    OpInfo("cat", lambda a, b: autodiff.cat([a, b, a], 1),
           lambda a, b: np.concatenate([a, b, a], 1),
           (Sample(((2, 3), (2, 1))), Sample(((2, 0), (2, 3))), Sample(((0, 2), (0, 3)))),
           "CatBackward0"),
    OpInfo("cat_legacy_empty", lambda a, b: autodiff.cat([a, b]), lambda a, b: a,
           (Sample(((2, 3), (0,))),), "CatBackward0"),
    OpInfo("concat", lambda a, b: autodiff.concat((a, b), dim=-1),
           lambda a, b: np.concatenate([a, b], -1), (Sample(((3,), (2,))),), "CatBackward0"),
    OpInfo("stack", lambda a, b: autodiff.stack([a, b, a], 1), lambda a, b: np.stack([a, b, a], 1),
           (Sample(((2, 3), (2, 3))), Sample(((0, 2), (0, 2)))), "StackBackward0"),
    OpInfo("stack_0d", lambda a, b: autodiff.stack([a, b]), lambda a, b: np.stack([a, b]),
           (Sample(((), ())),), "StackBackward0"),
    OpInfo("split", lambda a: a.split(2)[1], lambda a: a[2:4], (Sample(((5, 3),)),),
           "SplitBackward0"),
    OpInfo("split_all", lambda a: _weighted_pieces(a.split(2, 1), 1),
           lambda a: _np_weighted_split(a, [2, 2, 1], 1), (Sample(((3, 5),)),), "CatBackward0"),
    OpInfo("split_sizes", lambda a: _weighted_pieces(a.split([1, 0, 3]), 0),
           lambda a: _np_weighted_split(a, [1, 0, 3], 0), (Sample(((4, 2),)),), "CatBackward0"),
    OpInfo("split_with_sizes", lambda a: a.split([3, 1])[0], lambda a: a[:3],
           (Sample(((4, 2),)),), "SplitWithSizesBackward0"),
    OpInfo("chunk", lambda a: _weighted_pieces(a.chunk(3, -1), -1),
           lambda a: _np_weighted_split(a, [2, 2, 1], -1), (Sample(((2, 5),)),), "CatBackward0"),
    OpInfo("chunk_node", lambda a: a.chunk(2)[0], lambda a: a[:2], (Sample(((3, 2),)),),
           "SplitBackward0"),
    OpInfo("unbind", lambda a: autodiff.stack([p * (i + 1) for i, p in enumerate(a.unbind(1))]),
           lambda a: np.stack([a[:, i] * (i + 1) for i in range(a.shape[1])]),
           (Sample(((2, 3),)), Sample(((0, 2),))), "StackBackward0"),
    OpInfo("unbind_node", lambda a: a.unbind()[1], lambda a: a[1], (Sample(((3, 2),)),),
           "UnbindBackward0"),
    OpInfo("clone", lambda a: a.clone(), np.copy, UNARY_SHAPES, "CloneBackward0"),
]


def _np_unfold(a: np.ndarray, axis: int, size: int, step: int) -> np.ndarray:
    windows = np.lib.stride_tricks.sliding_window_view(a, size, axis)
    return np.take(windows, range(0, windows.shape[axis], step), axis).copy()


def _np_tensor_split(a: np.ndarray, split: object, axis: int) -> np.ndarray:
    pieces = np.array_split(a, split, axis)  # type: ignore[call-overload]
    return np.concatenate([piece * (index + 1) for index, piece in enumerate(pieces)], axis)


def _np_combinations(a: np.ndarray, r: int, replacement: bool = False) -> np.ndarray:
    pick = itertools.combinations_with_replacement if replacement else itertools.combinations
    rows = list(pick(a.tolist(), r))
    return np.array(rows).reshape(len(rows), r)


def _sum_all(tensors: tuple[autodiff.Tensor, ...]) -> autodiff.Tensor:
    """Weighted sum of several outputs of one shape, so each output's gradient counts."""
    total = tensors[0]
    for index, tensor in enumerate(tensors[1:], start=2):
        total = total + tensor * index
    return total


SPLITTING: list[OpInfo] = [
    OpInfo("split_with_sizes", lambda a: _weighted_pieces(a.split_with_sizes([1, 3], 1), 1),
           lambda a: _np_weighted_split(a, [1, 3], 1), (Sample(((3, 4),)),),
           "CatBackward0"),
    OpInfo("tensor_split", lambda a: _weighted_pieces(autodiff.tensor_split(a, 3, 1), 1),
           lambda a: _np_tensor_split(a, 3, 1), (Sample(((2, 7),)), Sample(((2, 2),))),
           "CatBackward0"),
    OpInfo("tensor_split_indices", lambda a: _weighted_pieces(a.tensor_split([1, 4, 2]), 0),
           lambda a: _np_tensor_split(a, [1, 4, 2], 0), (Sample(((5, 2),)),), "CatBackward0"),
    OpInfo("hsplit", lambda a: _weighted_pieces(autodiff.hsplit(a, 2), 1),
           lambda a: _np_tensor_split(a, 2, 1), (Sample(((3, 4),)), Sample(((2, 4, 2),))),
           "CatBackward0"),
    OpInfo("vsplit", lambda a: _weighted_pieces(a.vsplit([1]), 0),
           lambda a: _np_tensor_split(a, [1], 0), (Sample(((3, 4),)),), "CatBackward0"),
    OpInfo("dsplit", lambda a: _weighted_pieces(a.dsplit(2), 2),
           lambda a: _np_tensor_split(a, 2, 2), (Sample(((2, 1, 4),)),), "CatBackward0"),
    OpInfo("unsafe_split", lambda a: _weighted_pieces(autodiff.unsafe_split(a, 3, 1), 1),
           lambda a: _np_weighted_split(a, [3, 1], 1), (Sample(((2, 4),)),), "CatBackward0"),
    OpInfo("unsafe_split_with_sizes",
           lambda a: _weighted_pieces(a.unsafe_split_with_sizes([1, 2]), 0),
           lambda a: _np_weighted_split(a, [1, 2], 0), (Sample(((3, 2),)),), "CatBackward0"),
    OpInfo("unsafe_chunk", lambda a: _weighted_pieces(autodiff.unsafe_chunk(a, 2, -1), 1),
           lambda a: _np_weighted_split(a, [2, 1], 1), (Sample(((2, 3),)),), "CatBackward0"),
    OpInfo("unsafe_split_node", lambda a: a.unsafe_split(2)[1],
           lambda a: a[2:], (Sample(((4, 2),)),), "UnsafeSplitBackward0"),
]

STACKING: list[OpInfo] = [
    OpInfo("hstack", lambda a, b: autodiff.hstack([a, b]), lambda a, b: np.hstack([a, b]),
           (Sample(((3, 4), (3, 2))), Sample(((4,), (2,))), Sample(((), ()))), "CatBackward0"),
    OpInfo("vstack", lambda a, b: autodiff.vstack([a, b]), lambda a, b: np.vstack([a, b]),
           (Sample(((3, 4), (2, 4))), Sample(((4,), (4,))), Sample(((), ()))), "CatBackward0"),
    OpInfo("row_stack", lambda a, b: autodiff.row_stack((a, b)), lambda a, b: np.vstack([a, b]),
           (Sample(((2,), (1, 2))),), "CatBackward0"),
    OpInfo("dstack", lambda a, b: autodiff.dstack([a, b]), lambda a, b: np.dstack([a, b]),
           (Sample(((3, 4), (3, 4))), Sample(((4,), (4,))), Sample(((2, 1, 2), (2, 1, 1)))),
           "CatBackward0"),
    OpInfo("column_stack", lambda a, b: autodiff.column_stack([a, b]),
           lambda a, b: np.column_stack([a, b]),
           (Sample(((3,), (3, 2))), Sample(((), ())), Sample(((2, 2), (2,)))), "CatBackward0"),
    OpInfo("atleast_1d", lambda a: autodiff.atleast_1d(a) * 1, lambda a: np.atleast_1d(a),
           (Sample(((),)), Sample(((3,),))), "MulBackward0"),
    OpInfo("atleast_2d", lambda a: autodiff.atleast_2d(a), np.atleast_2d,
           (Sample(((),)), Sample(((3,),))), "ViewBackward0"),
    OpInfo("atleast_3d", lambda a: autodiff.atleast_3d([a])[0], np.atleast_3d,
           (Sample(((3,),)), Sample(((),)), Sample(((2, 3),))), "UnsqueezeBackward0"),
    OpInfo("meshgrid", lambda a, b: _sum_all(autodiff.meshgrid(a, b, indexing="ij")),
           lambda a, b: _sum_all(np.meshgrid(a, b, indexing="ij")),  # type: ignore[arg-type]
           (Sample(((3,), (4,))), Sample(((), (2,)))), "AddBackward0"),
    OpInfo("meshgrid_xy", lambda a, b, c: _sum_all(autodiff.meshgrid([a, b, c], indexing="xy")),
           lambda a, b, c: _sum_all(np.meshgrid(a, b, c, indexing="xy")),  # type: ignore[arg-type]
           (Sample(((3,), (2,), (4,))),), "AddBackward0"),
    OpInfo("broadcast_tensors", lambda a, b: _sum_all(autodiff.broadcast_tensors(a, b)),
           lambda a, b: _sum_all(np.broadcast_arrays(a, b)),  # type: ignore[arg-type]
           (Sample(((3, 1), (4,))), Sample(((), (2, 3))), Sample(((2, 3), (2, 3)))),
           "AddBackward0"),
    OpInfo("cartesian_prod", lambda a, b: autodiff.cartesian_prod(a, b),
           lambda a, b: np.stack([g.reshape(-1) for g in np.meshgrid(a, b, indexing="ij")], 1),
           (Sample(((3,), (2,))), Sample(((0,), (2,)))), "StackBackward0"),
    OpInfo("cartesian_prod_one", lambda a: autodiff.cartesian_prod(a) * 1, lambda a: a,
           (Sample(((3,),)),), "MulBackward0"),
    OpInfo("combinations", lambda a: autodiff.combinations(a), lambda a: _np_combinations(a, 2),
           (Sample(((4,),)),), "StackBackward0"),
    OpInfo("combinations_3_replacement", lambda a: autodiff.combinations(a, 3, True),
           lambda a: _np_combinations(a, 3, True), (Sample(((3,),)),), "StackBackward0"),
    OpInfo("combinations_too_many", lambda a: autodiff.combinations(a, 4),
           lambda a: _np_combinations(a, 4), (Sample(((3,),)),), "StackBackward0"),
]

REARRANGING: list[OpInfo] = [
    OpInfo("repeat_interleave", lambda a: a.repeat_interleave(2),
           lambda a: np.repeat(a.reshape(-1), 2), (Sample(((2, 3),)), Sample(((),))),
           "ViewBackward0"),
    OpInfo("repeat_interleave_dim", lambda a: autodiff.repeat_interleave(a, 3, dim=1),
           lambda a: np.repeat(a, 3, 1), (Sample(((2, 3),)), Sample(((2, 0),))),
           "ViewBackward0"),
    OpInfo("repeat_interleave_tensor",
           lambda a: a.repeat_interleave(autodiff.tensor([2, 0, 1]).to(a.device), dim=0),
           lambda a: np.repeat(a, [2, 0, 1], 0), (Sample(((3, 2),)),), "IndexSelectBackward0"),
    OpInfo("fliplr", lambda a: a.fliplr(), np.fliplr, (Sample(((3, 4),)), Sample(((2, 3, 2),))),
           "FlipBackward0"),
    OpInfo("flipud", lambda a: autodiff.flipud(a), np.flipud, (Sample(((3,),)), Sample(((3, 2),))),
           "FlipBackward0"),
    OpInfo("rot90", lambda a: a.rot90(), np.rot90, (Sample(((3, 4),)), Sample(((2, 3, 2),))),
           "Rot90Backward0"),
    OpInfo("rot90_k", lambda a: autodiff.rot90(a, -3, (2, 0)),
           lambda a: np.rot90(a, -3, (2, 0)), (Sample(((2, 3, 4),)),), "Rot90Backward0"),
    OpInfo("rot90_half", lambda a: a.rot90(2, [1, 0]), lambda a: np.rot90(a, 2, (1, 0)),
           (Sample(((3, 4),)),), "Rot90Backward0"),
    OpInfo("unfold", lambda a: a.unfold(1, 2, 1), lambda a: _np_unfold(a, 1, 2, 1),
           (Sample(((3, 4),)), Sample(((2, 3, 2),))), "UnfoldBackward0"),
    OpInfo("unfold_step", lambda a: a.unfold(0, 2, 3), lambda a: _np_unfold(a, 0, 2, 3),
           (Sample(((7, 2),)), Sample(((2,),))), "UnfoldBackward0"),
    OpInfo("unfold_of_transpose", lambda a: a.t().unfold(-1, 3, 2),
           lambda a: _np_unfold(a.T, 1, 3, 2), (Sample(((5, 2),)),), "UnfoldBackward0"),
]


def _np_as_strided(a: np.ndarray, size: tuple[int, ...], stride: tuple[int, ...],
                   offset: int = 0) -> np.ndarray:
    flat = np.ascontiguousarray(a).reshape(-1)
    return np.lib.stride_tricks.as_strided(
        flat[offset:], size, tuple(s * flat.itemsize for s in stride)).copy()


def _np_as_strided_scatter(a: np.ndarray, src: np.ndarray, size: tuple[int, ...],
                           stride: tuple[int, ...], offset: int = 0) -> np.ndarray:
    out = a.copy().reshape(-1)
    positions = offset + sum(np.arange(n).reshape([-1 if d == k else 1 for d in range(len(size))])
                             * s for k, (n, s) in enumerate(zip(size, stride)))
    out[np.broadcast_to(positions, size).reshape(-1)] = src.reshape(-1)
    return out.reshape(a.shape)


def _np_fill_diagonal(a: np.ndarray, value: float, wrap: bool = False) -> np.ndarray:
    out = a.copy()
    np.fill_diagonal(out, value, wrap=wrap)
    return out


STRIDED: list[OpInfo] = [
    OpInfo("as_strided", lambda a: a.as_strided((2, 2), (1, 2)),
           lambda a: _np_as_strided(a, (2, 2), (1, 2)), (Sample(((3, 4),)),),
           "AsStridedBackward0"),
    OpInfo("as_strided_overlapping", lambda a: autodiff.as_strided(a, (3, 2), (1, 1), 1),
           lambda a: _np_as_strided(a, (3, 2), (1, 1), 1), (Sample(((6,),)),),
           "AsStridedBackward0"),
    OpInfo("as_strided_of_a_view", lambda a: a[1:].as_strided((2, 3), (4, 1)),
           lambda a: _np_as_strided(a, (2, 3), (4, 1), 4), (Sample(((3, 4),)),),
           "AsStridedBackward0"),
    # the input's elements share memory: each position's gradient is shared among them
    OpInfo("as_strided_of_an_expand",
           lambda a: a.unsqueeze(0).expand(2, 3).as_strided((2, 2), (0, 1), 1),
           lambda a: np.stack([a[1:3], a[1:3]]), (Sample(((3,),)),), "AsStridedBackward0"),
    OpInfo("as_strided_scatter", lambda a, s: autodiff.as_strided_scatter(a, s, (2, 2), (1, 3)),
           lambda a, s: _np_as_strided_scatter(a, s, (2, 2), (1, 3)),
           (Sample(((2, 3), (2, 2))),), "AsStridedScatterBackward0"),
    OpInfo("contiguous", lambda a: a.t().contiguous(), lambda a: a.T.copy(),
           (Sample(((3, 4),)),), "CloneBackward0"),
    OpInfo("contiguous_channels_last",
           lambda a: a.contiguous(memory_format=autodiff.channels_last), lambda a: a.copy(),
           (Sample(((2, 3, 2, 4),)),), "CloneBackward0"),
    OpInfo("clone_channels_last_3d",
           lambda a: a.clone(memory_format=autodiff.channels_last_3d), lambda a: a.copy(),
           (Sample(((2, 3, 2, 1, 2),)),), "CloneBackward0"),
    OpInfo("to_channels_last_of_a_view",
           lambda a: a.transpose(2, 3).to(memory_format=autodiff.channels_last),
           lambda a: a.transpose(0, 1, 3, 2).copy(), (Sample(((2, 3, 2, 4),)),),
           "ToCopyBackward0"),
    OpInfo("ravel", lambda a: autodiff.ravel(a.t()), lambda a: a.T.reshape(-1),
           (Sample(((3, 4),)), Sample(((),))), "ViewBackward0"),
    # CopySlices where the backend has strided views, IndexPutBackward0 elsewhere: the node
    # is checked in test_shape_ops.py.
    OpInfo("fill_diagonal_", lambda a: (a * 1).fill_diagonal_(0.5),
           lambda a: _np_fill_diagonal(a, 0.5), (Sample(((3, 4),)), Sample(((3, 3, 3),)))),
    OpInfo("fill_diagonal_wrap", lambda a: (a * 1).fill_diagonal_(-1.0, wrap=True),
           lambda a: _np_fill_diagonal(a, -1.0, wrap=True), (Sample(((7, 3),)),)),
]

SHAPE += [*SPLITTING, *STACKING, *REARRANGING, *STRIDED]


def _resize(*shape: int, transposed: bool = False) -> object:
    """The deprecated out-of-place Tensor.resize (its warning silenced)."""
    def op(a: autodiff.Tensor) -> autodiff.Tensor:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            return (a.t() if transposed else a).resize(*shape)
    return op


class _Subclass(autodiff.Tensor):
    pass


SHAPE += [
    OpInfo("resize", _resize(6, 2), lambda a: a.reshape(6, 2), (Sample(((3, 4),)),),
           "ResizeBackward"),
    OpInfo("resize_copy", _resize(12, transposed=True), lambda a: a.T.reshape(12),
           (Sample(((3, 4),)),), "ResizeBackward"),
    OpInfo("as_subclass", lambda a: a.as_subclass(_Subclass), lambda a: a, UNARY_SHAPES,
           "AliasBackward0"),
]
