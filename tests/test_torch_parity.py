"""PyTorch parity on the special inputs of the elementwise and reduction families: values,
gradients and grad_fn names at zeros, ties, kinks, infinities and NaNs, checked against
PyTorch itself (skipped when torch is not installed; test_elementwise.py and
test_reductions.py hold the same kinds of cases as literals)."""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pytest

import autodiff
import autodiff.nn.functional as AF

torch = pytest.importorskip("torch")
TF = torch.nn.functional
ad = autodiff

# name -> (function of (library, functional, *inputs), inputs). The result (or the first of a
# tuple) is differentiated with a gradient of ones.
CASES: dict[str, tuple[Any, list[Any]]] = {
    "relu": (lambda L, F, x: F.relu(x), [[0.0, -1.0, 2.0]]),
    "sqrt_at_0": (lambda L, F, x: L.sqrt(x), [[0.0, 1.0]]),
    "rsqrt_at_0": (lambda L, F, x: L.rsqrt(x), [[0.0, 1.0]]),
    "log_at_0": (lambda L, F, x: L.log(x), [[0.0, 1.0]]),
    "reciprocal_at_0": (lambda L, F, x: L.reciprocal(x), [[0.0, 2.0]]),
    "asin_at_1": (lambda L, F, x: L.asin(x), [[1.0, -1.0, 0.5]]),
    "norm_half_with_zeros": (lambda L, F, x: x.norm(0.5, dim=1), [[[0.0, 2.0], [0.0, 0.0]]]),
    "norm_3_with_zeros": (lambda L, F, x: x.norm(3, dim=1), [[[0.0, 2.0], [0.0, 0.0]]]),
    "logsumexp_all_neg_inf": (lambda L, F, x: x.logsumexp(0), [[-float("inf"), -float("inf")]]),
    "softplus_threshold": (lambda L, F, x: F.softplus(x), [[20.0, 20.5, -30.0]]),
    "clamp_nan": (lambda L, F, x: x.clamp(0, 1), [[float("nan"), 0.5]]),
    "relu_nan": (lambda L, F, x: F.relu(x), [[float("nan"), 0.5]]),
    "leaky_relu_nan": (lambda L, F, x: F.leaky_relu(x), [[float("nan"), 0.5]]),
    "elu_nan": (lambda L, F, x: F.elu(x), [[float("nan"), -0.5]]),
    "gelu_nan": (lambda L, F, x: F.gelu(x), [[float("nan"), -0.5]]),
    "silu_nan": (lambda L, F, x: F.silu(x), [[float("nan"), -0.5]]),
    "maximum_nan": (lambda L, F, x, y: L.maximum(x, y), [[float("nan"), 1.0], [1.0, float("nan")]]),
    "abs_nan": (lambda L, F, x: x.abs(), [[float("nan"), -0.5]]),
    "sign_nan": (lambda L, F, x: x.sign() + x, [[float("nan"), -0.5, 0.0]]),
    "norm_1_nan": (lambda L, F, x: x.norm(1), [[float("nan"), -0.5, 0.0]]),
    "gelu": (lambda L, F, x: F.gelu(x), [[0.0, -1.0, 2.0, 5, -5]]),
    "gelu_tanh": (lambda L, F, x: F.gelu(x, approximate="tanh"), [[0.0, -1.0, 2.0, 5, -5]]),
    "elu": (lambda L, F, x: F.elu(x, 0.7), [[0.0, -1.0, 2.0, -30, 30]]),
    "silu": (lambda L, F, x: F.silu(x), [[0.0, -1.0, 2.0, -30, 30]]),
    "leaky": (lambda L, F, x: F.leaky_relu(x, 0.2), [[0.0, -1.0, 2.0]]),
    "softplus": (lambda L, F, x: F.softplus(x, 2, 5), [[0.0, -1.0, 2.0, 3]]),
    "tanh": (lambda L, F, x: F.tanh(x), [[0.0, -1.0, 2.0]]),
    "erf": (lambda L, F, x: L.erf(x), [[0.0, -1.0, 2.0, 3.5, -7]]),
    "expm1": (lambda L, F, x: L.expm1(x), [[0.0, -1.0, 2.0]]),
    "log1p": (lambda L, F, x: L.log1p(x), [[0.0, 1.0, 2.0]]),
    "log2": (lambda L, F, x: L.log2(x), [[0.5, 1.0, 2.0]]),
    "log10": (lambda L, F, x: L.log10(x), [[0.5, 1.0, 2.0]]),
    "sqrt": (lambda L, F, x: L.sqrt(x), [[0.5, 1.0, 2.0]]),
    "rsqrt": (lambda L, F, x: L.rsqrt(x), [[0.5, 1.0, 2.0]]),
    "abs": (lambda L, F, x: L.abs(x), [[0.0, -1.0, 2.0]]),
    "sign": (lambda L, F, x: L.sign(x), [[0.0, -1.0, 2.0]]),
    "tan": (lambda L, F, x: L.tan(x), [[0.0, -1.0, 1.2]]),
    "sinh": (lambda L, F, x: L.sinh(x), [[0.0, -1.0, 1.2]]),
    "cosh": (lambda L, F, x: L.cosh(x), [[0.0, -1.0, 1.2]]),
    "asin": (lambda L, F, x: L.asin(x), [[0.0, -0.5, 0.9]]),
    "acos": (lambda L, F, x: L.acos(x), [[0.0, -0.5, 0.9]]),
    "atan": (lambda L, F, x: L.atan(x), [[0.0, -0.5, 3]]),
    "atan2": (lambda L, F, x, y: L.atan2(x, y), [[0.0, -0.5, 3, 1], [0.0, 2, -1, 0]]),
    "floor": (lambda L, F, x: L.floor(x), [[0.5, -1.5, 2.0]]),
    "ceil": (lambda L, F, x: L.ceil(x), [[0.5, -1.5, 2.0]]),
    "round": (lambda L, F, x: L.round(x), [[0.5, -1.5, 2.5, 1.4]]),
    "round1": (lambda L, F, x: L.round(x, decimals=1), [[0.25, -1.55, 2.5, 1.44]]),
    "round-1": (lambda L, F, x: L.round(x, decimals=-1), [[25.0, -155, 2.5, 14.4]]),
    "trunc": (lambda L, F, x: L.trunc(x), [[0.5, -1.5, 2.5]]),
    "square": (lambda L, F, x: L.square(x), [[0.5, -1.5, 2.5]]),
    "lerp": (lambda L, F, x, y: L.lerp(x, y, 0.7), [[0.5, -1.5, 2.5], [1.0, 2.0, 3.0]]),
    "lerp_t": (
        lambda L, F, x, y, w: L.lerp(x, y, w),
        [[0.5, -1.5, 2.5], [1.0, 2.0, 3.0], [0.2, 0.7, 1.5]],
    ),
    "clamp_t": (
        lambda L, F, x, lo, hi: L.clamp(x, lo, hi),
        [[0.0, 1.0, 2.0, 3.0, 5.0], [1.0, 1.0, 1.0, 4.0, 4.0], [2.0, 2.0, 2.0, 4.0, 3.0]],
    ),
    "clamp_min_t": (lambda L, F, x, lo: L.clamp(x, min=lo), [[0.0, 1.0, 2.0], [1.0, 1.0, 1.0]]),
    "clamp_max_t": (lambda L, F, x, hi: L.clamp(x, max=hi), [[0.0, 1.0, 2.0], [1.0, 1.0, 1.0]]),
    "clamp_s": (lambda L, F, x: L.clamp(x, 1, 2), [[0.0, 1.0, 1.5, 2.0, 3.0]]),
    "clamp_s_rev": (lambda L, F, x: L.clamp(x, 2, 1), [[0.0, 1.0, 1.5, 2.0, 3.0]]),
    "clamp_minfn": (lambda L, F, x: L.clamp_min(x, 1), [[0.0, 1.0, 1.5, 2.0, 3.0]]),
    "clamp_maxfn": (
        lambda L, F, x, y: L.clamp_max(x, y),
        [[0.0, 1.0, 1.5, 2.0, 3.0], [1.0, 1.0, 1.0, 1.0, 1.0]],
    ),
    "maximum": (lambda L, F, x, y: L.maximum(x, y), [[1.0, 2.0, 3.0], [1.0, 3.0, 2.0]]),
    "minimum": (lambda L, F, x, y: L.minimum(x, y), [[1.0, 2.0, 3.0], [1.0, 3.0, 2.0]]),
    "max_binary": (lambda L, F, x, y: L.max(x, y), [[1.0, 2.0, 3.0], [1.0, 3.0, 2.0]]),
    "where": (lambda L, F, x, y: L.where(x > 1, x, y), [[1.0, 2.0, 3.0], [1.0, 3.0, 2.0]]),
    "pow_t0": (lambda L, F, x, y: x**y, [[0.0, 0.0, 0.0, 2.0, 2.0], [0.0, 1.0, -1.0, 0.0, 0.5]]),
    "pow_s0": (lambda L, F, x: x**0, [[0.0, 1.0]]),
    "pow_s": (lambda L, F, x: x**2.5, [[0.0, 1.0, 3.0]]),
    "rpow0": (lambda L, F, x: 0.0**x, [[0.0, 1.0, -1.0]]),
    "rpow2": (lambda L, F, x: 2.0**x, [[0.0, 1.0, -1.0]]),
    "rpowneg": (lambda L, F, x: (-2.0) ** x, [[2.0, 1.0]]),
    "div_trunc": (
        lambda L, F, x, y: L.div(x, y, rounding_mode="trunc"),
        [[7.0, -7.0, 7.5, -0.5], [2.0, 2.0, -2.0, 3.0]],
    ),
    "div_floor": (
        lambda L, F, x, y: L.div(x, y, rounding_mode="floor"),
        [[7.0, -7.0, 7.5, -0.5], [2.0, 2.0, -2.0, 3.0]],
    ),
    "remainder": (
        lambda L, F, x, y: L.remainder(x, y),
        [[7.0, -7.0, 7.5, -0.5], [2.0, 2.0, -2.0, 3.0]],
    ),
    "remainder_s": (lambda L, F, x: x % 1.5, [[7.0, -7.0, 7.5, -0.5]]),
    "sum": (lambda L, F, x: x.sum((0, 1)), [[[1.0, 2.0], [3.0, 4.0]]]),
    "prod": (lambda L, F, x: x.prod(), [[2.0, 0.0, 3.0]]),
    "prod2z": (lambda L, F, x: x.prod(), [[2.0, 0.0, 0.0]]),
    "prod_dim": (lambda L, F, x: x.prod(1), [[[2.0, 0.0, 3.0], [0.0, 0.0, 1.0], [1.0, 2.0, 3.0]]]),
    "prod_dim0k": (
        lambda L, F, x: x.prod(0, keepdim=True),
        [[[2.0, 0.0, 3.0], [0.0, 0.0, 1.0], [1.0, 2.0, 3.0]]],
    ),
    "cumprod": (lambda L, F, x: x.cumprod(0), [[2.0, 0.0, 3.0, 0.0, 5.0]]),
    "cumprod2": (
        lambda L, F, x: x.cumprod(1),
        [[[2.0, 0.0, 3.0], [0.0, 4.0, 0.0], [1.0, 2.0, 3.0], [0, 0, 0]]],
    ),
    "cumprod_nz": (lambda L, F, x: x.cumprod(-1), [[[2.0, 1.0, 3.0], [-1.0, 4.0, 2.0]]]),
    "cumsum": (lambda L, F, x: x.cumsum(0), [[[2.0, 1.0, 3.0], [-1.0, 4.0, 2.0]]]),
    "max": (lambda L, F, x: x.max(), [[1.0, 3.0, 3.0, 2.0]]),
    "min": (lambda L, F, x: x.min(), [[1.0, 1.0, 3.0, 2.0]]),
    "max_nan": (lambda L, F, x: x.max(), [[1.0, float("nan"), float("nan")]]),
    "max_dim": (lambda L, F, x: x.max(0), [[[1.0, 3.0], [3.0, 3.0], [3.0, 0.0]]]),
    "max_dim_k": (lambda L, F, x: x.max(1, keepdim=True), [[[1.0, 3.0], [3.0, 3.0], [3.0, 0.0]]]),
    "min_dim": (lambda L, F, x: x.min(-1), [[[1.0, 3.0], [3.0, 3.0], [3.0, 0.0]]]),
    "amax": (lambda L, F, x: x.amax(0), [[[1.0, 3.0], [3.0, 3.0], [3.0, 0.0]]]),
    "amin": (lambda L, F, x: x.amin((0, 1), keepdim=True), [[[1.0, 3.0], [3.0, 1.0], [3.0, 0.0]]]),
    "var": (lambda L, F, x: x.var(), [[1.0, 3.0, 3.0, 2.0]]),
    "var_dim": (
        lambda L, F, x: x.var(0, keepdim=True, correction=0),
        [[[1.0, 3.0], [3.0, 3.0], [3.0, 0.0]]],
    ),
    "std": (lambda L, F, x: x.std(1), [[[1.0, 3.0], [3.0, 3.0], [3.0, 0.0]]]),
    "std_unb": (lambda L, F, x: x.std(False), [[1.0, 3.0, 3.0, 2.0]]),
    "std0": (lambda L, F, x: x.std(), [[1.0, 1.0]]),
    "lse": (lambda L, F, x: x.logsumexp(1), [[[1.0, 3.0], [3.0, 3.0], [3.0, 0.0]]]),
    "lse_all": (lambda L, F, x: L.logsumexp(x, (0, 1)), [[[1.0, 3.0], [3.0, 3.0], [3.0, 0.0]]]),
    "norm": (lambda L, F, x: x.norm(), [[[1.0, 3.0], [3.0, 3.0], [3.0, 0.0]]]),
    "norm0": (lambda L, F, x: x.norm(), [[0.0, 0.0]]),
    "norm1": (lambda L, F, x: x.norm(1, dim=1), [[[1.0, -3.0], [0.0, 3.0], [3.0, 0.0]]]),
    "norminf": (
        lambda L, F, x: x.norm(float("inf"), dim=0),
        [[[1.0, -3.0], [0.0, 3.0], [3.0, 0.0]]],
    ),
    "normninf": (lambda L, F, x: x.norm(float("-inf")), [[[1.0, -3.0], [0.5, 3.0], [3.0, 0.5]]]),
    "norm3": (lambda L, F, x: x.norm(3), [[[1.0, -3.0], [0.0, 3.0], [3.0, 0.0]]]),
    "norm1.5": (
        lambda L, F, x: x.norm(1.5, dim=1, keepdim=True),
        [[[1.0, -3.0], [0.0, 0.0], [3.0, 0.0]]],
    ),
    "norm0.5": (lambda L, F, x: x.norm(0.5, dim=1), [[[1.0, -3.0], [0.0, 2.0], [3.0, 0.0]]]),
    "normfro": (lambda L, F, x: x.norm("fro", dim=(0, 1)), [[[1.0, -3.0], [0.0, 2.0], [3.0, 0.0]]]),
    "normp0": (lambda L, F, x: x.norm(0), [[[1.0, -3.0], [0.0, 2.0], [3.0, 0.0]]]),
    "div_int": (lambda L, F, x: L.div(x, 2, rounding_mode="floor"), [[-3.5, 3.5]]),
}


def _run(
    library: Any, functional: Any, function: Any, arrays: list[np.ndarray]
) -> tuple[list[np.ndarray | None], str | None]:
    inputs = [library.tensor(a, dtype=library.float64, requires_grad=True) for a in arrays]
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")  # PyTorch computes inf/nan silently where NumPy warns
        out = function(library, functional, *inputs)
        if isinstance(out, tuple):
            out = out[0]
        name = out.grad_fn.name() if out.grad_fn is not None else None
        out.backward(library.ones(tuple(out.shape), dtype=out.dtype))
    results: list[np.ndarray | None] = [np.array(out.detach().tolist())]
    results.extend(None if x.grad is None else np.array(x.grad.tolist()) for x in inputs)
    return results, name


@pytest.mark.parametrize("name", list(CASES))
def test_matches_pytorch(name: str) -> None:
    function, values = CASES[name]
    arrays = [np.array(v, dtype=np.float64) for v in values]
    theirs, their_name = _run(torch, TF, function, arrays)
    ours, our_name = _run(autodiff, AF, function, arrays)
    assert our_name == their_name
    for their, our in zip(theirs, ours):
        assert (their is None) == (our is None)
        if their is not None:
            assert our.shape == their.shape
            np.testing.assert_allclose(our, their, rtol=1e-10, atol=1e-12, equal_nan=True)
