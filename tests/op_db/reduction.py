"""Op table entries: reduction ops."""

from __future__ import annotations

import numpy as np

from . import UNARY_SHAPES, OpInfo, Sample

REDUCTION: list[OpInfo] = [
    OpInfo("sum", lambda a: a.sum(), np.sum, UNARY_SHAPES, "SumBackward0"),
    OpInfo("sum_dim", lambda a: a.sum(-1), lambda a: a.sum(-1),
           (Sample(((3, 4),)), Sample(((2, 3, 2),))), "SumBackward1"),
    OpInfo("sum_dims_keepdim", lambda a: a.sum((0, 2), keepdim=True),
           lambda a: a.sum((0, 2), keepdims=True), (Sample(((2, 3, 2),)),), "SumBackward1"),
    OpInfo("mean", lambda a: a.mean(), np.mean, (Sample(((3, 4),)), Sample(((),))),
           "MeanBackward0"),
    OpInfo("mean_dim", lambda a: a.mean(0, keepdim=True), lambda a: a.mean(0, keepdims=True),
           (Sample(((3, 4),)), Sample(((2, 3, 2),))), "MeanBackward1"),
]
