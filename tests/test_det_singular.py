"""det and slogdet at singular matrices: det's gradient is the cofactor matrix adj(A)^T, which
every square matrix has (PyTorch 2.13's plain backward returns zeros at rank n - 1; its
create_graph backward, which goes through an SVD, agrees with ours); slogdet gives (0, -inf)
and an infinite gradient instead of raising.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import autodiff
from autodiff.autograd import gradcheck, gradgradcheck
from tests.helpers import leaf, raises

LA = autodiff.linalg


def cofactors(matrix: np.ndarray) -> np.ndarray:
    """adj(A)^T by its definition: signed (n-1) x (n-1) minors."""
    n = matrix.shape[0]
    out = np.empty_like(matrix)
    for i in range(n):
        for j in range(n):
            minor = np.delete(np.delete(matrix, i, 0), j, 1)
            out[i, j] = (-1) ** (i + j) * (np.linalg.det(minor) if n > 1 else 1.0)
    return out


def rank_deficient(n: int, rank: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return rng.standard_normal((n, rank)) @ rng.standard_normal((rank, n))


def host(tensor: autodiff.Tensor) -> np.ndarray:
    return tensor.detach().cpu().numpy()


@pytest.mark.parametrize(("matrix", "expected"), [
    ([[1.0, 2.0], [2.0, 4.0]], [[4.0, -2.0], [-2.0, 1.0]]),
    ([[0.0]], [[1.0]]),
    ([[1.0, 0.0], [0.0, 0.0]], [[0.0, 0.0], [0.0, 1.0]]),
    ([[0.0, 0.0], [0.0, 0.0]], [[0.0, 0.0], [0.0, 0.0]]),
    ([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0], [7.0, 8.0, 9.0]],
     [[-3.0, 6.0, -3.0], [6.0, -12.0, 6.0], [-3.0, 6.0, -3.0]]),
])
def test_det_gradient_is_the_cofactor_matrix(matrix: list[list[float]],
                                             expected: list[list[float]], device: str) -> None:
    a = leaf(matrix, device)
    out = LA.det(a)
    assert out.item() == pytest.approx(0.0, abs=1e-12)
    out.backward()
    np.testing.assert_allclose(host(a.grad), expected, atol=1e-12)


def test_det_gradient_batched_and_rank_deficient(device: str) -> None:
    matrices = np.stack([rank_deficient(4, 3), rank_deficient(4, 2, 1), rank_deficient(4, 4, 2),
                         np.zeros((4, 4))])
    a = leaf(matrices, device)
    LA.det(a).sum().backward()
    expected = np.stack([cofactors(m) for m in matrices])
    np.testing.assert_allclose(host(a.grad), expected, atol=1e-10)
    assert np.abs(expected[1]).max() < 1e-10  # rank n - 2: every cofactor vanishes


@pytest.mark.parametrize("matrix", [
    np.array([[1.0, 2.0], [2.0, 4.0]]), np.zeros((1, 1)), np.zeros((3, 3)),
    rank_deficient(3, 2), rank_deficient(4, 2), np.stack([rank_deficient(3, 2), np.eye(3)]),
    np.zeros((0, 0)),
], ids=["2x2", "1x1", "zeros", "rank2of3", "rank2of4", "batch", "empty"])
def test_det_gradcheck_and_gradgradcheck_at_singular_matrices(matrix: np.ndarray,
                                                              device: str) -> None:
    a = leaf(matrix, device)
    assert gradcheck(LA.det, (a,))
    assert gradgradcheck(LA.det, (a,))


def test_det_third_derivative_at_a_singular_matrix_raises() -> None:
    a = leaf(rank_deficient(3, 2))
    grad, = autodiff.autograd.grad(LA.det(a), a, create_graph=True)
    second, = autodiff.autograd.grad(grad.sum(), a, create_graph=True)
    with raises(RuntimeError, "the third derivative of linalg.det (and of linalg.slogdet) at a "
                              "singular matrix is not implemented"):
        autodiff.autograd.grad(second.sum(), a)
    # At an invertible matrix every order goes through inv and det.
    b = leaf(np.eye(3) + rank_deficient(3, 3) * 0.1)
    grad, = autodiff.autograd.grad(LA.det(b), b, create_graph=True)
    second, = autodiff.autograd.grad(grad.sum(), b, create_graph=True)
    third, = autodiff.autograd.grad(second.sum(), b)
    assert third.shape == (3, 3)


def test_slogdet_of_a_singular_matrix(device: str) -> None:
    a = leaf([[1.0, 2.0], [2.0, 4.0]], device)
    sign, logabsdet = LA.slogdet(a)
    assert sign.item() == 0.0 and logabsdet.item() == -np.inf
    logabsdet.backward()
    # adj(A)^T / det(A): infinite where a cofactor is nonzero.
    assert host(a.grad).tolist() == [[np.inf, -np.inf], [-np.inf, np.inf]]
    zero = leaf([[0.0, 0.0], [0.0, 0.0]], device)
    LA.slogdet(zero).logabsdet.backward()
    assert np.all(np.isnan(host(zero.grad)))  # every cofactor is 0: 0 / 0
    assert autodiff.slogdet(leaf(np.zeros((2, 3, 3)), device)).logabsdet.tolist() == \
        [-np.inf, -np.inf]


def test_slogdet_gradient_of_an_invertible_matrix_is_unchanged(device: str) -> None:
    matrix = np.array([[2.0, 1.0], [1.0, 3.0]])
    a = leaf(matrix, device)
    LA.slogdet(a).logabsdet.backward()
    np.testing.assert_allclose(host(a.grad), np.linalg.inv(matrix).T)
    assert gradgradcheck(lambda x: LA.slogdet(x).logabsdet, (leaf(matrix, device),))


# ----------------------------------------------------------------------------- PyTorch
def _det_gradients(library: Any, matrix: np.ndarray, create_graph: bool) -> np.ndarray:
    a = library.tensor(matrix, requires_grad=True)
    grad, = library.autograd.grad(library.linalg.det(a).sum(), a, create_graph=create_graph)
    return grad.detach().numpy()


@pytest.mark.parametrize("matrix", [
    np.array([[1.0, 2.0], [2.0, 4.0]]), rank_deficient(3, 2), rank_deficient(4, 3, 1),
    np.stack([rank_deficient(3, 2), rank_deficient(3, 3)]),
], ids=["2x2", "rank2of3", "rank3of4", "batch"])
def test_det_gradient_matches_pytorch_svd_path(matrix: np.ndarray) -> None:
    torch = pytest.importorskip("torch")
    ours = _det_gradients(autodiff, matrix, create_graph=False)
    # PyTorch's create_graph backward takes its SVD formula at singular matrices; its plain
    # backward returns zeros there for rank n - 1 (the documented difference).
    np.testing.assert_allclose(ours, _det_gradients(torch, matrix, create_graph=True),
                               atol=1e-10)
    plain = _det_gradients(torch, np.array([[1.0, 2.0], [2.0, 4.0]]), create_graph=False)
    assert np.all(plain == 0)
    # Second derivatives (a Hessian-vector product) agree too.
    direction = np.random.default_rng(3).standard_normal(matrix.shape)
    hessians = []
    for library in (autodiff, torch):
        a = library.tensor(matrix, requires_grad=True)
        grad, = library.autograd.grad(library.linalg.det(a).sum(), a, create_graph=True)
        hessian, = library.autograd.grad((grad * library.tensor(direction)).sum(), a)
        hessians.append(hessian.numpy())
    np.testing.assert_allclose(hessians[0], hessians[1], atol=1e-9)


def test_slogdet_of_singular_matrices_matches_pytorch() -> None:
    torch = pytest.importorskip("torch")
    for matrix in ([[1.0, 2.0], [2.0, 4.0]], [[0.0]], np.zeros((2, 2)),
                   [[1.0, 2.0, 3.0], [4.0, 5.0, 6.0], [7.0, 8.0, 9.0]]):
        results = []
        for library in (autodiff, torch):
            a = library.tensor(np.asarray(matrix, dtype=np.float64), requires_grad=True)
            sign, logabsdet = library.linalg.slogdet(a)
            logabsdet.backward()
            results.append((sign.item(), logabsdet.item(), a.grad.numpy()))
        (sign, logabsdet, grad), (their_sign, their_logabsdet, their_grad) = results
        assert sign == their_sign == 0.0 and logabsdet == their_logabsdet == -np.inf
        # Both infinite or nan everywhere; where the inf/nan fall differs (see slogdet).
        assert not np.any(np.isfinite(grad)) and not np.any(np.isfinite(their_grad))
