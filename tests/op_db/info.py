"""The op table's records: an `OpInfo` per entry, its `Sample` input shapes, and the shape sets
most entries share."""

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
    # PyTorch's OpInfo supports complex autograd for the op: gradcheck (and gradgradcheck
    # where `gradgrad` is True) also run on complex128 samples, real and imaginary parts each
    # drawn from `domain` (inputs after `grad_inputs` stay float64).
    complex_grad: bool = False
    # Otherwise the reason gradgradcheck fails on complex samples (tests list it).
    complex_gradgrad: bool | str = True


BINARY_SHAPES = (
    Sample(((3, 4), (3, 4))),
    Sample(((3, 4), (4,))),      # broadcast the second
    Sample(((1, 4), (3, 1))),    # broadcast both
    Sample(((), (2, 3))),        # 0-d with a matrix
    Sample(((0, 3), (3,))),      # empty
)
UNARY_SHAPES = (Sample(((3, 4),)), Sample(((),)), Sample(((2, 0),)), Sample(((2, 3, 2),)))
