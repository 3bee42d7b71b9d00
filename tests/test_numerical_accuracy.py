"""Accuracy where float32 runs out: running sums (cumsum accumulates in float64, as PyTorch's
CPU kernel), norms of very large and very small values (scaled by a power of two),
layer_norm of a constant row (a second pass over the centred values), and gradients whose
textbook formula overflows where the gradient does not (y / x, atan2).

Expected values are exact or worked out in float64; the parity tests compare with PyTorch when
it is installed, and say where we deliberately differ (PyTorch overflows).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import autodiff
import autodiff.nn.functional as F


def f32(values: Any, device: str = "cpu", requires_grad: bool = False) -> autodiff.Tensor:
    return autodiff.tensor(np.asarray(values, dtype=np.float32), device=device,
                           requires_grad=requires_grad)


def host(tensor: autodiff.Tensor) -> np.ndarray:
    return tensor.detach().cpu().numpy()


# ----------------------------------------------------------------------------- cumsum
def test_float32_cumsum_of_ten_million_values() -> None:
    values = np.random.default_rng(0).random(10_000_000).astype(np.float32)
    exact = np.cumsum(values.astype(np.float64))
    ours = autodiff.tensor(values).cumsum(0).numpy()
    # Each running sum accumulated in float64 and rounded once: within half a float32 ulp.
    # (A float32 running sum is off by 5e-6 of the total after 1e7 values.)
    assert np.max(np.abs(ours - exact) / exact[-1]) < 6e-8
    np.testing.assert_array_equal(ours, exact.astype(np.float32))


def test_cumprod_accumulates_in_float64(device: str) -> None:
    values = np.full(1000, 1.0001, dtype=np.float32)
    ours = f32(values, device).cumprod(0)
    expected = np.cumprod(values.astype(np.float64)).astype(np.float32)
    np.testing.assert_array_equal(host(ours), expected)


# ----------------------------------------------------------------------------- norms
@pytest.mark.parametrize(("values", "ord", "expected"), [
    ([1e30], 2, 1e30),
    ([1e30, 1e30], 2, math.sqrt(2) * 1e30),  # PyTorch: inf
    ([-1e-30] * 4, 2, 2e-30),  # PyTorch: 0
    ([3e-39, 4e-39], 2, 5e-39),  # subnormal inputs
    ([1e30], 3, 1e30),
    ([1e20, 1e20, 1e20], 4, 3 ** 0.25 * 1e20),
    ([1e-25, 2e-25], 0.5, (1e-25 ** 0.5 + 2e-25 ** 0.5) ** 2),
    ([1e-30, 1e30], -1, 1 / (1e30 + 1e-30)),
    ([1e30, 2e30], -2, 1 / math.sqrt(1e-60 + 0.25e-60)),
    ([0.0, 0.0], 2, 0.0),
    ([0.0, 1e-30], -1, 0.0),
])
def test_vector_norm_does_not_overflow_or_underflow(values: list[float], ord: float,
                                                    expected: float, device: str) -> None:
    x = f32(values, device, requires_grad=True)
    out = autodiff.linalg.vector_norm(x, ord)
    np.testing.assert_allclose(out.item(), expected, rtol=3e-7)
    out.backward()
    assert np.all(np.isfinite(host(x.grad)))


def test_norm_gradients_at_large_values(device: str) -> None:
    for ord in (2, 3, 0.5, 4):
        x = f32([1e30], device, requires_grad=True)
        autodiff.linalg.vector_norm(x, ord).backward()
        np.testing.assert_allclose(host(x.grad), [1.0], rtol=1e-6)  # PyTorch: nan for 3 and 4
    x = f32([3e30, -4e30], device, requires_grad=True)
    autodiff.linalg.vector_norm(x).backward()
    np.testing.assert_allclose(host(x.grad), [0.6, -0.8], rtol=1e-6)


def test_functions_built_on_vector_norm(device: str) -> None:
    big = f32([[3e30, 4e30]], device)
    np.testing.assert_allclose(autodiff.norm(big).item(), 5e30, rtol=1e-6)
    np.testing.assert_allclose(autodiff.linalg.norm(big).item(), 5e30, rtol=1e-6)
    np.testing.assert_allclose(autodiff.linalg.matrix_norm(big).item(), 5e30, rtol=1e-6)
    np.testing.assert_allclose(host(F.normalize(big)), [[0.6, 0.8]], rtol=1e-6)
    # normalize divides by max(norm, eps = 1e-12): here the norm, 5e-30, is below eps.
    np.testing.assert_allclose(host(F.normalize(f32([[3e-30, 4e-30]], device))),
                               [[3e-18, 4e-18]], rtol=1e-6)


# ----------------------------------------------------------------------------- layer_norm, var
def test_layer_norm_of_a_constant_row(device: str) -> None:
    x = f32([[1000.1] * 3], device, requires_grad=True)
    out = F.layer_norm(x, (3,))
    assert out.tolist() == [[0.0, 0.0, 0.0]]
    out.backward(f32([[1.0, 2.0, 3.0]], device))
    assert np.all(np.isfinite(host(x.grad)))


def test_std_of_float32_accumulates_in_float64(device: str) -> None:
    for scale in (1e30, 1e-30):
        x = f32([scale, -scale], device, requires_grad=True)
        out = x.std()
        np.testing.assert_allclose(out.item(), math.sqrt(2) * scale, rtol=1e-6)
        out.backward()
        np.testing.assert_allclose(host(x.grad), [0.5 ** 0.5, -(0.5 ** 0.5)], rtol=1e-6)


# ----------------------------------------------------------------------------- gradients
def test_division_gradient_at_tiny_and_huge_values(device: str) -> None:
    for value in (1e-30, 1e30, 3e-39):
        y = f32([value], device, requires_grad=True)
        x = f32([value], device, requires_grad=True)
        (y / x).backward()
        # d/dx y / x = -(y / x) / x: -1 / x, which float32 holds (y / x^2 does not).
        np.testing.assert_allclose(x.grad.item(), -1 / np.float32(value), rtol=1e-6)
        np.testing.assert_allclose(y.grad.item(), 1 / np.float32(value), rtol=1e-6)


def test_atan2_gradient_at_tiny_and_huge_values(device: str) -> None:
    for value in (1e-30, 1e-20, 1e20, 1e30):
        y = f32([value], device, requires_grad=True)
        x = f32([value], device, requires_grad=True)
        autodiff.atan2(y, x).backward()
        # x / (x^2 + y^2) = 1 / (2 value): finite, where a^2 + b^2 is 0 or inf in float32.
        np.testing.assert_allclose(y.grad.item(), 0.5 / value, rtol=1e-6)
        np.testing.assert_allclose(x.grad.item(), -0.5 / value, rtol=1e-6)
    origin = f32([0.0], device, requires_grad=True)
    autodiff.atan2(origin, f32([0.0], device)).backward()
    assert origin.grad.tolist() == [0.0]


# ----------------------------------------------------------------------------- PyTorch
_BITWISE: list[tuple[str, Callable[[Any, Any], Any]]] = [
    ("cumsum", lambda t, x: x.cumsum(0)),
    ("cumprod", lambda t, x: (x * 0.01 + 1).cumprod(0)),
    ("std", lambda t, x: x.std(0)),
    ("var", lambda t, x: x.var()),
    ("div_grad", lambda t, x: x / (x.detach() * 0 + 1e-30)),
]


@pytest.mark.parametrize(("name", "case"), _BITWISE, ids=[name for name, _ in _BITWISE])
def test_matches_pytorch_to_the_bit(name: str, case: Callable[[Any, Any], Any]) -> None:
    torch = pytest.importorskip("torch")
    values = np.random.default_rng(0).standard_normal((100_000, 3)).astype(np.float32)
    results = []
    for library in (autodiff, torch):
        x = library.tensor(values, requires_grad=True)
        out = case(library, x)
        out.sum().backward()
        results.append((out.detach().numpy(), x.grad.numpy()))
    np.testing.assert_array_equal(results[0][0], results[1][0])
    # Gradients: (x - mean) cancels near the mean, whose last bit differs (summation order).
    expected = results[1][1]
    np.testing.assert_allclose(results[0][1], expected, rtol=1e-6,
                               atol=1e-6 * float(np.abs(expected).max()))


def test_division_and_atan2_gradients_match_pytorch() -> None:
    torch = pytest.importorskip("torch")
    values = [1e-30, 1e30, 3e-39]
    divisions = []
    for library in (autodiff, torch):
        y = library.tensor(values, requires_grad=True)
        x = library.tensor(values, requires_grad=True)
        (y / x).sum().backward()
        divisions.append(x.grad.numpy())
    np.testing.assert_array_equal(divisions[0], divisions[1])
    # atan2 in the normal range: PyTorch's formula to the bit (scaled by a power of two).
    rng = np.random.default_rng(0)
    y0 = (rng.standard_normal(1000) * np.exp(rng.uniform(-5, 5, 1000))).astype(np.float32)
    x0 = rng.standard_normal(1000).astype(np.float32)
    grads = []
    for library in (autodiff, torch):
        y, x = library.tensor(y0, requires_grad=True), library.tensor(x0, requires_grad=True)
        library.atan2(y, x).sum().backward()
        grads.append((y.grad.numpy(), x.grad.numpy()))
    np.testing.assert_array_equal(grads[0][0], grads[1][0])
    np.testing.assert_array_equal(grads[0][1], grads[1][1])


def test_norm_and_layer_norm_match_pytorch() -> None:
    torch = pytest.importorskip("torch")
    for values in ([1e30], [3e-39], [1.0, -2.0, 3.0]):
        results = []
        for library in (autodiff, torch):
            x = library.tensor(values, requires_grad=True)
            out = library.linalg.vector_norm(x)
            out.backward()
            results.append((out.item(), x.grad.numpy()))
        np.testing.assert_allclose(results[0][0], results[1][0], rtol=1e-6)
        np.testing.assert_allclose(results[0][1], results[1][1], rtol=1e-6)
    # Where PyTorch over- or underflows (more than one element) we differ on purpose (see
    # vector_norm): the cases of test_vector_norm_does_not_overflow_or_underflow.
    assert torch.linalg.vector_norm(torch.tensor([1e30, 1e30])).item() == math.inf
    assert torch.linalg.vector_norm(torch.tensor([3e-39, 4e-39])).item() == 0.0
    row = [[1000.1] * 3]
    assert torch.nn.functional.layer_norm(torch.tensor(row), (3,)).tolist() == \
        F.layer_norm(autodiff.tensor(row), (3,)).tolist()
