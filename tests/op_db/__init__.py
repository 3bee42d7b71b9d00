"""The op table: every differentiable op once, with sample inputs (broadcasting shapes, 0-d and
empty tensors), a NumPy reference and PyTorch's node name. `tests/test_ops.py` drives forward
checks against the reference and float64 gradient checks from it, on every device.

An entry's `op` takes Tensors (one per sample shape) and returns a Tensor; `ref` takes the same
inputs as float64 NumPy arrays. Entries live in one module per op family, like the ops.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import autodiff


@dataclass(frozen=True)
class Sample:
    shapes: tuple[tuple[int, ...], ...]
    kwargs: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class OpInfo:
    name: str
    op: Callable[..., autodiff.Tensor]
    ref: Callable[..., Any]
    samples: tuple[Sample, ...]
    grad_fn: str | None = None  # PyTorch's node name for the first sample
    domain: tuple[float, float] = (-2.0, 2.0)  # inputs are drawn uniformly from here
    differentiable: bool = True  # False: forward checks only (comparisons, argmax, ...)
    out_dtype: Any = None  # the output's dtype when it is not the inputs' (bool, int64)
    # Inputs after the first `grad_inputs` are not differentiated (targets, indices).
    grad_inputs: int | None = None
    atol: float = 1e-5
    rtol: float = 1e-3
    # True: the backward is itself differentiable and gradgradcheck runs on every sample.
    # Otherwise the reason the op is not twice differentiable (tests list it).
    gradgrad: bool | str = True


BINARY_SHAPES = (
    Sample(((3, 4), (3, 4))),
    Sample(((3, 4), (4,))),      # broadcast the second
    Sample(((1, 4), (3, 1))),    # broadcast both
    Sample(((), (2, 3))),        # 0-d with a matrix
    Sample(((0, 3), (3,))),      # empty
)
UNARY_SHAPES = (Sample(((3, 4),)), Sample(((),)), Sample(((2, 0),)), Sample(((2, 3, 2),)))

# The family modules import the names above, so they are imported after them.
from .activation import ACTIVATION  # noqa: E402
from .conv import CONV  # noqa: E402
from .elementwise import ELEMENTWISE  # noqa: E402
from .indexing import INDEXING  # noqa: E402
from .inplace import INPLACE  # noqa: E402
from .linalg import LINALG  # noqa: E402
from .loss import LOSS  # noqa: E402
from .normalization import NORMALIZATION  # noqa: E402
from .pooling import POOLING  # noqa: E402
from .reduction import REDUCTION  # noqa: E402
from .resampling import RESAMPLING  # noqa: E402
from .shape import SHAPE  # noqa: E402

OP_DB: list[OpInfo] = [
    *ELEMENTWISE, *ACTIVATION, *REDUCTION, *SHAPE, *INDEXING, *INPLACE, *LINALG, *LOSS,
    *CONV, *POOLING, *NORMALIZATION, *RESAMPLING,
]
