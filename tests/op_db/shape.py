"""Op table entries: shape ops (views, joining and splitting, rearranging copies)."""

from __future__ import annotations

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
