"""Op table entries: linalg ops."""

from __future__ import annotations

import numpy as np

import autodiff

from . import OpInfo, Sample

LINALG: list[OpInfo] = [
    OpInfo("matmul_mm", autodiff.matmul, np.matmul, (Sample(((3, 4), (4, 5))),), "MmBackward0"),
    OpInfo("matmul_dot", autodiff.matmul, np.matmul, (Sample(((4,), (4,))),), "DotBackward0"),
    OpInfo("matmul_mv", autodiff.matmul, np.matmul, (Sample(((3, 4), (4,))),), "MvBackward0"),
    OpInfo("matmul_vm", autodiff.matmul, np.matmul, (Sample(((4,), (4, 3))),),
           "SqueezeBackward4"),
    OpInfo("matmul_batched", autodiff.matmul, np.matmul,
           (Sample(((2, 3, 4), (2, 4, 5))), Sample(((2, 3, 4), (4, 5))),
            Sample(((4,), (2, 4, 3))), Sample(((2, 1, 3, 4), (5, 4, 2))),
            Sample(((2, 3, 4), (4,)))),
           "UnsafeViewBackward0"),
]
