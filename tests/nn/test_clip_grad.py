"""clip_grad_norm_ / clip_grad_value_ against NumPy."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest

import autodiff
from autodiff import nn
from autodiff.nn.utils import clip_grad_norm_, clip_grad_value_


def _params(device: str) -> tuple[list[nn.Parameter], list[np.ndarray]]:
    rng = np.random.default_rng(0)
    grads = [rng.standard_normal((3, 4)), rng.standard_normal(5), rng.standard_normal(())]
    params = []
    for grad in grads:
        p = nn.Parameter(autodiff.zeros(grad.shape, dtype=autodiff.float64, device=device))
        p.grad = autodiff.tensor(grad, device=device)
        params.append(p)
    no_grad = nn.Parameter(autodiff.zeros(2, device=device))
    return [*params, no_grad], grads


@pytest.mark.parametrize("norm_type", [2.0, 1.0, 3.0, math.inf])
def test_clip_grad_norm_scales_to_max_norm(norm_type: float, device: str) -> None:
    params, grads = _params(device)
    flat = np.concatenate([g.ravel() for g in grads])
    total = np.max(np.abs(flat)) if norm_type == math.inf else \
        np.sum(np.abs(flat) ** norm_type) ** (1 / norm_type)
    result = clip_grad_norm_(params, max_norm=0.5, norm_type=norm_type)
    assert result.device == params[0].device
    np.testing.assert_allclose(result.item(), total, rtol=1e-12)
    scale = 0.5 / (total + 1e-6)
    for p, g in zip(params, grads):
        np.testing.assert_allclose(p.grad.cpu().numpy(), g * scale, rtol=1e-12)
    # Already small enough: gradients are left as they are (the factor is clamped to 1).
    again = clip_grad_norm_(params, max_norm=100.0, norm_type=norm_type)
    np.testing.assert_allclose(again.item(), 0.5 / (total + 1e-6) * total, rtol=1e-9)
    for p, g in zip(params, grads):
        np.testing.assert_allclose(p.grad.cpu().numpy(), g * scale, rtol=1e-12)


def test_clip_grad_norm_edge_cases() -> None:
    assert clip_grad_norm_([nn.Parameter(autodiff.ones(2))], 1.0).item() == 0.0
    p = nn.Parameter(autodiff.ones(2))
    p.grad = autodiff.tensor([float("inf"), 1.0])
    with pytest.raises(RuntimeError, match=r"The total norm of order 2\.0 for gradients from "
                       r"`parameters` is non-finite, so it cannot be clipped"):
        clip_grad_norm_(p, 1.0, error_if_nonfinite=True)
    assert p.grad.tolist() == [float("inf"), 1.0]  # nothing changed before the error


def test_clip_grad_value(device: str) -> None:
    params, grads = _params(device)
    grad_objects = [p.grad for p in params[:3]]
    clip_grad_value_(params, 0.3)
    for p, g, before in zip(params, grads, grad_objects):
        assert p.grad is before  # in place
        np.testing.assert_array_equal(p.grad.cpu().numpy(), np.clip(g, -0.3, 0.3))


@pytest.mark.parametrize("norm_type", [2.0, 1.0, 3.0, 0.0, math.inf, -math.inf])
def test_foreach_goes_through_the_foreach_ops_with_the_same_numbers(
        norm_type: float, device: str, monkeypatch: Any) -> None:
    from autodiff.nn.utils import clip_grad

    calls: list[str] = []
    for name in ("_foreach_norm", "_foreach_mul_", "_foreach_clamp_min_", "_foreach_clamp_max_"):
        original = getattr(clip_grad, name)
        monkeypatch.setattr(clip_grad, name, lambda *a, _n=name, _f=original, **k:
                            calls.append(_n) or _f(*a, **k))
    results = []
    for foreach in (False, True):
        params, _ = _params(device)
        params[-1].grad = autodiff.ones(2, device=device) * 3  # a second (device, dtype) group
        total = clip_grad_norm_(params, 0.5, norm_type, foreach=foreach)
        clip_grad_value_(params, 0.01, foreach=foreach)
        results.append((total.item(), [p.grad.cpu().numpy() for p in params]))
    assert set(calls) == {"_foreach_norm", "_foreach_mul_", "_foreach_clamp_min_",
                          "_foreach_clamp_max_"}
    assert results[0][0] == results[1][0]
    for ours, expected in zip(results[1][1], results[0][1]):
        np.testing.assert_array_equal(ours, expected)
