"""autograd.functional: jacobian, hessian, vjp, jvp, hvp, vhp against analytic values, and
their structure, options and errors against PyTorch."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest

import autodiff
from autodiff.autograd import functional
from tests.autograd._compare import error_of, same_as_torch


def _t(values: Any, device: str) -> autodiff.Tensor:
    return autodiff.tensor(values, dtype=autodiff.float64, device=device)


def _array(tensor: autodiff.Tensor) -> np.ndarray:
    return np.array(tensor.tolist(), dtype=np.float64)


def test_jacobian_single_input_and_output(device: str) -> None:
    x = [0.2, -0.5, 1.3]
    jac = functional.jacobian(lambda a: a.sin() * a, _t(x, device))
    expected = np.diag([math.cos(v) * v + math.sin(v) for v in x])
    np.testing.assert_allclose(_array(jac), expected, rtol=1e-14, atol=1e-15)
    assert jac.device == autodiff.device(device) and not jac.requires_grad


def test_jacobian_shapes_and_blocks_for_tuples(device: str) -> None:
    """f(x, y) = (x * y (2x3), sum(x)^2 (scalar)): every block against its formula."""
    rng = np.random.default_rng(0)
    xv, yv = rng.normal(size=(2, 3)), rng.normal(size=(3,))
    x, y = _t(xv, device), _t(yv, device)

    def f(a: autodiff.Tensor, b: autodiff.Tensor) -> tuple[autodiff.Tensor, autodiff.Tensor]:
        return a * b, a.sum() ** 2

    (jxx, jxy), (jsx, jsy) = functional.jacobian(f, (x, y))
    assert tuple(jxx.shape) == (2, 3, 2, 3) and tuple(jxy.shape) == (2, 3, 3)
    assert tuple(jsx.shape) == (2, 3) and tuple(jsy.shape) == (3,)
    expected_xx = np.zeros((2, 3, 2, 3))
    expected_xy = np.zeros((2, 3, 3))
    for i in range(2):
        for j in range(3):
            expected_xx[i, j, i, j] = yv[j]
            expected_xy[i, j, j] = xv[i, j]
    np.testing.assert_allclose(_array(jxx), expected_xx, rtol=1e-14)
    np.testing.assert_allclose(_array(jxy), expected_xy, rtol=1e-14)
    np.testing.assert_allclose(_array(jsx), np.full((2, 3), 2 * xv.sum()), rtol=1e-14)
    np.testing.assert_allclose(_array(jsy), np.zeros(3))


def test_jacobian_create_graph_is_differentiable(device: str) -> None:
    x = _t([0.3, 0.8], device).requires_grad_()
    jac = functional.jacobian(lambda a: a.exp() * a, x, create_graph=True)
    assert jac.requires_grad
    # d/dx_i of trace(J) = d/dx_i (e^x_i (1 + x_i)) = e^x_i (2 + x_i)
    diagonal_sum = (jac * autodiff.eye(2, dtype=autodiff.float64, device=device)).sum()
    (grad,) = autodiff.autograd.grad(diagonal_sum, x)
    np.testing.assert_allclose(_array(grad), [math.exp(v) * (2 + v) for v in (0.3, 0.8)],
                               rtol=1e-14)


def test_jacobian_vectorize_gives_the_same(device: str) -> None:
    x = _t([[0.1, 0.2], [0.3, 0.4]], device)

    def f(a: autodiff.Tensor) -> autodiff.Tensor:
        return autodiff.matmul(a, a).sigmoid()

    np.testing.assert_allclose(_array(functional.jacobian(f, x, vectorize=True)),
                               _array(functional.jacobian(f, x)), rtol=0, atol=0)


def test_hessian_against_analytic(device: str) -> None:
    xv, yv = [0.5, -1.2], [2.0, 0.7]

    def f(a: autodiff.Tensor, b: autodiff.Tensor) -> autodiff.Tensor:
        return (a ** 3 * b).sum() + (a * b).sin().sum()

    (hxx, hxy), (hyx, hyy) = functional.hessian(f, (_t(xv, device), _t(yv, device)))
    expected_xx = np.diag([6 * a * b - b * b * math.sin(a * b) for a, b in zip(xv, yv)])
    expected_xy = np.diag([3 * a * a + math.cos(a * b) - a * b * math.sin(a * b)
                           for a, b in zip(xv, yv)])
    expected_yy = np.diag([-a * a * math.sin(a * b) for a, b in zip(xv, yv)])
    np.testing.assert_allclose(_array(hxx), expected_xx, rtol=1e-13, atol=1e-15)
    np.testing.assert_allclose(_array(hxy), expected_xy, rtol=1e-13, atol=1e-15)
    np.testing.assert_allclose(_array(hyx), expected_xy.T, rtol=1e-13, atol=1e-15)
    np.testing.assert_allclose(_array(hyy), expected_yy, rtol=1e-13, atol=1e-15)


def test_vector_products_against_hessian_and_jacobian(device: str) -> None:
    rng = np.random.default_rng(1)
    xv, vv = rng.normal(size=3), rng.normal(size=3)
    x, v = _t(xv, device), _t(vv, device)

    def scalar(a: autodiff.Tensor) -> autodiff.Tensor:
        return (a.sin() * a.sum()).sum()

    def vector(a: autodiff.Tensor) -> autodiff.Tensor:
        return a.exp() * a.sum()

    hessian = _array(functional.hessian(scalar, x))
    jacobian = _array(functional.jacobian(vector, x))
    value, vhp = functional.vhp(scalar, x, v)
    _, hvp = functional.hvp(scalar, x, v)
    _, vjp = functional.vjp(vector, x, v)
    _, jvp = functional.jvp(vector, x, v)
    assert value.item() == pytest.approx(float(np.sin(xv).sum() * xv.sum()), rel=1e-14)
    np.testing.assert_allclose(_array(vhp), vv @ hessian, rtol=1e-13)
    np.testing.assert_allclose(_array(hvp), hessian @ vv, rtol=1e-13)
    np.testing.assert_allclose(_array(vjp), vv @ jacobian, rtol=1e-13)
    np.testing.assert_allclose(_array(jvp), jacobian @ vv, rtol=1e-13)
    # A scalar input or output needs no v.
    _, gradient = functional.vjp(scalar, x)
    np.testing.assert_allclose(_array(gradient), np.cos(xv) * xv.sum() + np.sin(xv).sum(),
                               rtol=1e-13)


def test_results_match_torch() -> None:
    def scenario(lib: Any) -> Any:
        F = lib.autograd.functional
        x = lib.tensor([[0.5, -0.3], [1.1, 0.2]], dtype=lib.float64)
        y = lib.tensor([0.7, -1.4], dtype=lib.float64)
        v2 = lib.tensor([[1.0, 2.0], [-1.0, 0.5]], dtype=lib.float64)

        def pair(a: Any, b: Any) -> Any:
            return (a * b).tanh(), (a.sum(0) * b).exp()

        def scalar(a: Any, b: Any) -> Any:
            return ((a * b).sigmoid() * b).sum()

        return [
            F.jacobian(pair, (x, y)),
            F.jacobian(lambda a: a.sin(), x),
            F.jacobian(lambda a: (a.sin(), a.cos()), x),
            F.jacobian(lambda a, b: (a * b).sum(), (x, y)),
            F.hessian(scalar, (x, y)),
            F.hessian(lambda a: (a ** 3).sum(), y),
            F.vjp(pair, (x, y), (v2, y)),
            F.jvp(pair, (x, y), (v2, y)),
            F.vhp(scalar, (x, y), (v2, y)),
            F.hvp(scalar, (x, y), (v2, y)),
            F.jacobian(lambda a, b: a * 2, (x, y)),  # independent of y: zeros
        ]

    same_as_torch(scenario)


def test_create_graph_results_match_torch() -> None:
    def scenario(lib: Any) -> Any:
        F = lib.autograd.functional
        x = lib.tensor([0.5, -0.3], dtype=lib.float64, requires_grad=True)
        jac = F.jacobian(lambda a: a.exp() * a.sum(), x, create_graph=True)
        hess = F.hessian(lambda a: (a.exp() * a.sum()).sum(), x, create_graph=True)
        out, vjp = F.vjp(lambda a: a.sin(), x, lib.ones(2, dtype=lib.float64),
                         create_graph=True)
        (second,) = lib.autograd.grad(jac.sum() + hess.sum() + vjp.sum(), x)
        return [jac, hess, out.requires_grad, vjp.requires_grad, second]

    same_as_torch(scenario)


def test_errors_match_torch() -> None:
    def scenario(lib: Any) -> Any:
        F = lib.autograd.functional
        x = lib.tensor([0.5, -0.3], dtype=lib.float64)
        scalar = lib.tensor(0.5, dtype=lib.float64)
        return [
            error_of(lambda: F.jacobian(lambda a: a * 2, [x])),
            error_of(lambda: F.jacobian(lambda a: a * 2, (x, 3.0))),
            error_of(lambda: F.jacobian(lambda a: 3.0, x)),
            error_of(lambda: F.jacobian(lambda a: a.detach(), x, strict=True)),
            error_of(lambda: F.jacobian(lambda a, b: a * 2, (x, x), strict=True)),
            error_of(lambda: F.jacobian(lambda a: a * 2, x, strict=True, create_graph=True)),
            error_of(lambda: F.jacobian(lambda a: a * 2, x, strict=True, vectorize=True)),
            error_of(lambda: F.jacobian(lambda a: a * 2, x, strategy="sideways")),
            error_of(lambda: F.hessian(lambda a: a * 2, x)),
            error_of(lambda: F.hessian(lambda a: (a * 2).sum(), x, strict=True)),
            error_of(lambda: F.vjp(lambda a: a * 2, x)),
            error_of(lambda: F.vjp(lambda a: a * 2, x, lib.ones(3, dtype=lib.float64))),
            error_of(lambda: F.vjp(lambda a: (a, a), x, lib.ones(2, dtype=lib.float64))),
            error_of(lambda: F.jvp(lambda a: a * 2, x)),
            error_of(lambda: F.jvp(lambda a: a.detach(), x, x, strict=True)),
            error_of(lambda: F.vhp(lambda a: a * 2, x, x)),
            error_of(lambda: F.hvp(lambda a: (a, a), x, x)),
            error_of(lambda: F.vhp(lambda a: (a * a).sum(), x)),
            F.vhp(lambda a: a * 2, scalar),  # one input element: v may be left out
        ]

    same_as_torch(scenario)


def test_forward_mode_results_match_torch() -> None:
    """jvp by forward-mode AD, jacobian(strategy="forward-mode") (PyTorch returns lists for
    several inputs or outputs there) and the forward-over-reverse hessian."""
    def scenario(lib: Any) -> Any:
        F = lib.autograd.functional
        x = lib.tensor([[0.5, -0.3], [1.1, 0.2]], dtype=lib.float64)
        y = lib.tensor([0.7, -1.4], dtype=lib.float64)
        v2 = lib.tensor([[1.0, 2.0], [-1.0, 0.5]], dtype=lib.float64)

        def pair(a: Any, b: Any) -> Any:
            return (a * b).tanh(), (a.sum(0) * b).exp()

        def scalar(a: Any, b: Any) -> Any:
            return ((a * b).sigmoid() * b).sum()

        forward = {"strategy": "forward-mode", "vectorize": True}
        return [
            F.jvp(pair, (x, y), (v2, y)),
            F.jvp(lambda a: a.exp(), lib.tensor(0.3, dtype=lib.float64)),  # v may be left out
            F.jacobian(pair, (x, y), **forward),
            F.jacobian(lambda a: a.sin(), x, **forward),
            F.jacobian(lambda a: (a.sin(), a.cos()), x, **forward),
            F.jacobian(lambda a, b: (a * b).sum(), (x, y), **forward),
            F.jacobian(lambda a, b: a * 2, (x, y), **forward),  # independent of y: zeros
            F.hessian(scalar, (x, y), vectorize=True, outer_jacobian_strategy="forward-mode"),
            F.hessian(lambda a: (a ** 3).sum(), y, vectorize=True,
                      outer_jacobian_strategy="forward-mode"),
        ]

    same_as_torch(scenario)


def test_forward_mode_jacobian_is_one_vmapped_pass(device: str) -> None:
    """As PyTorch's: func runs once, under vmap over the basis tangents (not once per input
    element), and the blocks stay connected to inputs that require grad."""
    calls = []

    def func(a: Any, b: Any) -> Any:
        calls.append(a.shape)
        return (a * b.sum()).sin(), a.exp().sum()

    x = autodiff.tensor([0.3, -1.2, 0.8, 2.0], dtype=autodiff.float64, device=device,
                        requires_grad=True)
    y = autodiff.tensor([[0.5], [1.5]], dtype=autodiff.float64, device=device)
    (jx, jy), (sx, sy) = autodiff.autograd.functional.jacobian(
        func, (x, y), strategy="forward-mode", vectorize=True)
    assert calls == [(4,)]  # inside vmap, a batched tensor shows its logical shape
    reverse = autodiff.autograd.functional.jacobian(func, (x.detach(), y))
    for ours, theirs in zip((jx, jy, sx, sy), (*reverse[0], *reverse[1])):
        assert ours.shape == theirs.shape and ours.device == x.device
        np.testing.assert_allclose(ours.detach().cpu().numpy(), theirs.cpu().numpy(),
                                   rtol=1e-12, atol=1e-15)
    assert jx.requires_grad and sx.requires_grad
    (gx,) = autodiff.autograd.grad(sx.sum(), x)  # d/dx sum_i exp(x_i) = exp(x)
    np.testing.assert_allclose(gx.cpu().numpy(), np.exp(x.detach().cpu().numpy()), rtol=1e-12)


def test_forward_mode_errors_match_torch() -> None:
    def scenario(lib: Any) -> Any:
        F = lib.autograd.functional
        x = lib.tensor([0.5, -0.3], dtype=lib.float64)
        return [
            error_of(lambda: F.jacobian(lambda a: a * 2, x, strategy="forward-mode")),
            error_of(lambda: F.jacobian(lambda a: a * 2, x, strategy="forward-mode",
                                        strict=True)),
            error_of(lambda: F.jacobian(lambda a: a * 2, x, strategy="forward-mode",
                                        vectorize=True, create_graph=True)),
            error_of(lambda: F.hessian(lambda a: (a * a).sum(), x,
                                       outer_jacobian_strategy="forward-mode")),
            error_of(lambda: F.jvp(lambda a: a * 2, x, lib.ones(3, dtype=lib.float64))),
        ]

    same_as_torch(scenario)


def test_jvp_with_create_graph_is_differentiable() -> None:
    x = autodiff.tensor([0.5, -0.3], dtype=autodiff.float64, requires_grad=True)
    v = autodiff.tensor([1.0, 2.0], dtype=autodiff.float64)
    _, tangent = functional.jvp(lambda a: (a ** 3).sum(), x, v, create_graph=True)
    assert tangent.requires_grad
    second, = autodiff.autograd.grad(tangent, x)  # d/dx (3 x^2 . v) = 6 x v
    np.testing.assert_allclose(second.numpy(), 6 * x.detach().numpy() * v.numpy())
