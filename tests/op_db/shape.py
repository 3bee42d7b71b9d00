"""Op table entries: shape ops."""

from __future__ import annotations

import numpy as np

from . import UNARY_SHAPES, OpInfo, Sample

SHAPE: list[OpInfo] = [
    OpInfo("reshape", lambda a: a.reshape(2, -1), lambda a: a.reshape(2, -1),
           (Sample(((3, 4),)), Sample(((2, 3, 2),))), "ViewBackward0"),
    OpInfo("expand", lambda a: a.expand(3, 4), lambda a: np.broadcast_to(a, (3, 4)),
           (Sample(((4,),)), Sample(((3, 1),))), "ExpandBackward0"),
    OpInfo("permute", lambda a: a.permute(2, 0, 1), lambda a: a.transpose(2, 0, 1),
           (Sample(((2, 3, 4),)),), "PermuteBackward0"),
    OpInfo("transpose", lambda a: a.transpose(0, 1), lambda a: a.swapaxes(0, 1),
           (Sample(((3, 4),)),), "TransposeBackward0"),
    OpInfo("t", lambda a: a.t(), lambda a: a.T, (Sample(((3, 4),)),), "TBackward0"),
    OpInfo("T", lambda a: a.T, lambda a: a.T, (Sample(((3, 4),)),), "PermuteBackward0"),
    OpInfo("unsqueeze", lambda a: a.unsqueeze(1), lambda a: np.expand_dims(a, 1),
           (Sample(((3, 4),)),), "UnsqueezeBackward0"),
    OpInfo("squeeze", lambda a: a.squeeze(1), lambda a: a.squeeze(1), (Sample(((3, 1, 4),)),),
           "SqueezeBackward1"),
    OpInfo("clone", lambda a: a.clone(), np.copy, UNARY_SHAPES, "CloneBackward0"),
]
