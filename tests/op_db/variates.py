"""Op table entries: the draws of ops/variates.py whose results are certain for some
parameters (binomial with p = 0 or 1: no success or every trial). Their randomness and the
gamma and Dirichlet samplers are tested in tests/distributions/test_variates.py."""

from __future__ import annotations

import numpy as np

import autodiff

from .info import BINARY_SHAPES, OpInfo

VARIATES: list[OpInfo] = [
    OpInfo("binomial", lambda count, p: autodiff.binomial(count.abs(), (p > 0).to(p.dtype)),
           lambda count, p: np.abs(count) * (p > 0), BINARY_SHAPES, differentiable=False),
]
