"""Gradients of gradients: with create_graph=True the backward is recorded, so derivatives of
any order follow. Third derivatives of sin/exp/pow/tanh/sigmoid and of their chains against
analytic values; the Hessian of the seed graph's loss against its analytic form."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import autodiff
from autodiff import autograd

Derivatives = Callable[[float], tuple[float, float, float, float]]


def _sin(x: float) -> tuple[float, float, float, float]:
    return math.sin(x), math.cos(x), -math.sin(x), -math.cos(x)


def _exp(x: float) -> tuple[float, float, float, float]:
    value = math.exp(x)
    return value, value, value, value


def _cube(x: float) -> tuple[float, float, float, float]:
    return x ** 3, 3 * x ** 2, 6 * x, 6.0


def _pow_2_5(x: float) -> tuple[float, float, float, float]:
    return x ** 2.5, 2.5 * x ** 1.5, 3.75 * x ** 0.5, 1.875 * x ** -0.5


def _tanh(x: float) -> tuple[float, float, float, float]:
    t = math.tanh(x)
    return t, 1 - t * t, -2 * t * (1 - t * t), (1 - t * t) * (6 * t * t - 2)


def _sigmoid(x: float) -> tuple[float, float, float, float]:
    s = 1 / (1 + math.exp(-x))
    first = s * (1 - s)
    return s, first, first * (1 - 2 * s), first * (1 - 6 * s + 6 * s * s)


OPS: dict[str, tuple[Callable[[autodiff.Tensor], autodiff.Tensor], Derivatives]] = {
    "sin": (autodiff.sin, _sin),
    "exp": (autodiff.exp, _exp),
    "pow3": (lambda t: t ** 3, _cube),
    "pow2.5": (lambda t: t ** 2.5, _pow_2_5),
    "tanh": (lambda t: t.tanh(), _tanh),
    "sigmoid": (autodiff.sigmoid, _sigmoid),
}
POINTS = [0.3, 0.9, 1.7]  # positive: x ** 2.5 needs it


def _derivatives(function: Callable[[autodiff.Tensor], autodiff.Tensor], points: list[float],
                 device: str, order: int) -> list[list[float]]:
    """[f, f', f'', ...] at the points, each by autograd.grad of the previous one."""
    x = autodiff.tensor(points, dtype=autodiff.float64, device=device, requires_grad=True)
    current = function(x)
    values = [current.tolist()]
    for _ in range(order):
        (current,) = autograd.grad(current.sum(), x, create_graph=True)
        values.append(current.tolist())
    return values


@pytest.mark.parametrize("name", list(OPS))
def test_third_derivative_of_each_op(name: str, device: str) -> None:
    function, table = OPS[name]
    computed = _derivatives(function, POINTS, device, order=3)
    for index, point in enumerate(POINTS):
        expected = table(point)
        for order in range(4):
            assert computed[order][index] == pytest.approx(expected[order], rel=1e-12,
                                                           abs=1e-12), (name, order, point)


def _compose(outer: Derivatives, inner: Derivatives, x: float) -> tuple[float, ...]:
    """Derivatives of outer(inner(x)) up to the third (Faa di Bruno)."""
    g, g1, g2, g3 = inner(x)
    f, f1, f2, f3 = outer(g)
    return (f, f1 * g1, f2 * g1 ** 2 + f1 * g2,
            f3 * g1 ** 3 + 3 * f2 * g1 * g2 + f1 * g3)


# Every inner op is positive at POINTS, so x ** 2.5 can come after any of them.
CHAINS = [(outer, inner) for outer in OPS for inner in OPS if outer != inner]


@pytest.mark.parametrize(("outer", "inner"), CHAINS, ids=[f"{o}-of-{i}" for o, i in CHAINS])
def test_third_derivative_of_chains(outer: str, inner: str) -> None:
    outer_function, outer_table = OPS[outer]
    inner_function, inner_table = OPS[inner]
    computed = _derivatives(lambda t: outer_function(inner_function(t)), POINTS, "cpu", 3)
    for index, point in enumerate(POINTS):
        expected = _compose(outer_table, inner_table, point)
        for order in range(4):
            assert computed[order][index] == pytest.approx(expected[order], rel=1e-10,
                                                           abs=1e-10), (order, point)


def test_fifth_derivative(device: str) -> None:
    """Any order: d^5/dx^5 sin(2x) * exp(x) by the Leibniz rule."""
    point = 0.4
    computed = _derivatives(lambda t: (t * 2).sin() * t.exp(), [point], device, order=5)
    expected = sum(math.comb(5, k) * 2 ** k * math.sin(2 * point + k * math.pi / 2)
                   * math.exp(point) for k in range(6))
    assert computed[5][0] == pytest.approx(expected, rel=1e-11)


def test_grad_of_grad_through_mixed_partials(device: str) -> None:
    """d^2/dx dy of x^2 y^3 = 6 x y^2."""
    x = autodiff.tensor(1.5, dtype=autodiff.float64, device=device, requires_grad=True)
    y = autodiff.tensor(-0.5, dtype=autodiff.float64, device=device, requires_grad=True)
    (gx,) = autograd.grad(x ** 2 * y ** 3, x, create_graph=True)
    (gxy,) = autograd.grad(gx, y)
    assert gxy.item() == pytest.approx(6 * 1.5 * 0.25, rel=1e-14)


# ----------------------------------------------------------------------------- the seed graph
def _seed_case(device: str, batch: int | None, inputs: int = 5, outputs: int = 3
               ) -> tuple[Any, ...]:
    rng = np.random.default_rng(7)
    x_shape = (inputs,) if batch is None else (batch, inputs)
    x = rng.normal(size=x_shape)
    w = rng.normal(size=(inputs, outputs))
    b = rng.normal(size=outputs)
    y = rng.integers(0, 2, size=(*x_shape[:-1], outputs)).astype(float)
    as_tensor = [autodiff.tensor(a, dtype=autodiff.float64, device=device) for a in (x, w, b, y)]
    return (x, w, b, y), as_tensor


def _analytic_hessian(x: np.ndarray, w: np.ndarray, b: np.ndarray) -> np.ndarray:
    """d^2 loss / dw dw for loss = mean BCE-with-logits(x @ w + b, y):
    H[(i,k),(j,l)] = delta_kl sum_n x_ni x_nj s_nk (1 - s_nk) / (number of logits)."""
    x2 = x.reshape(-1, x.shape[-1])
    s = 1 / (1 + np.exp(-(x2 @ w + b)))
    curvature = s * (1 - s) / s.size
    inputs, outputs = w.shape
    hessian = np.zeros((inputs, outputs, inputs, outputs))
    for k in range(outputs):
        hessian[:, k, :, k] = (x2 * curvature[:, k:k + 1]).T @ x2
    return hessian


@pytest.mark.parametrize("batch", [None, 4], ids=["seed", "batched"])
def test_hessian_of_seed_loss(batch: int | None, device: str) -> None:
    (x, w, b, _), (xt, wt, bt, yt) = _seed_case(device, batch)
    binary_cross_entropy_with_logits = autodiff.nn.functional.binary_cross_entropy_with_logits

    def loss(weight: autodiff.Tensor) -> autodiff.Tensor:
        return binary_cross_entropy_with_logits(autodiff.matmul(xt, weight) + bt, yt)

    expected = _analytic_hessian(x, w, b)
    hessian = autograd.functional.hessian(loss, wt)
    assert tuple(hessian.shape) == w.shape * 2
    np.testing.assert_allclose(np.array(hessian.tolist()), expected, rtol=1e-10, atol=1e-14)

    # The same by hand: one recorded backward, then one backward per weight.
    weight = wt.detach().requires_grad_()
    (gradient,) = autograd.grad(loss(weight), weight, create_graph=True)
    rows = []
    for index in range(weight.numel()):
        seed = np.zeros(weight.numel())
        seed[index] = 1.0
        (row,) = autograd.grad(gradient, weight, autodiff.tensor(
            seed.reshape(w.shape), dtype=autodiff.float64, device=device), retain_graph=True)
        rows.append(row.tolist())
    np.testing.assert_allclose(np.array(rows).reshape(w.shape * 2), expected, rtol=1e-10,
                               atol=1e-14)
