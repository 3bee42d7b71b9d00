"""svd_lowrank, pca_lowrank and lobpcg: the randomized and iterative factorizations.

Their random draws differ from PyTorch's, so they are compared with PyTorch (where installed)
through what does not depend on the draws: reconstructions of low-rank matrices, singular
values, spanned subspaces, eigenvalues, gradients of gauge-invariant losses, error messages.
svd_lowrank and pca_lowrank are also in the op table (tests/op_db/decompositions.py, LOWRANK).
lobpcg is not: its iteration count and its branches depend on the values (it reads residuals
with float()), so vmap and the op table's batched harnesses refuse it, as PyTorch's do; its
forward, gradcheck, gradgradcheck, node name and devices are covered here.
"""

from __future__ import annotations

import importlib.util
from typing import Any

import numpy as np
import pytest

import autodiff
from autodiff._lobpcg import LOBPCG

HAS_TORCH = importlib.util.find_spec("torch") is not None
needs_torch = pytest.mark.skipif(not HAS_TORCH, reason="PyTorch is not installed")


def _array(tensor: autodiff.Tensor) -> np.ndarray:
    return np.array(tensor.detach().cpu().tolist())


def _low_rank(rng: np.random.Generator, shape: tuple[int, ...], rank: int) -> np.ndarray:
    *batch, m, n = shape
    return rng.standard_normal((*batch, m, rank)) @ rng.standard_normal((*batch, rank, n))


def _spd(rng: np.random.Generator, m: int, batch: tuple[int, ...] = ()) -> np.ndarray:
    """Symmetric positive definite with well separated eigenvalues 1, 2, ..., m."""
    q, _ = np.linalg.qr(rng.standard_normal((*batch, m, m)))
    return (q * np.arange(1.0, m + 1)[..., None, :]) @ np.swapaxes(q, -1, -2)


def _sparse(dense: np.ndarray, device: str) -> autodiff.Tensor:
    return autodiff.tensor(dense, device=device).to_sparse()


# ------------------------------------------------------------------------------- svd_lowrank
@pytest.mark.parametrize("shape", [(12, 7), (7, 12), (3, 10, 8)])
def test_svd_lowrank_reconstructs_a_low_rank_matrix(shape: tuple[int, ...], device: str) -> None:
    rng = np.random.default_rng(0)
    a = _low_rank(rng, shape, 3)
    U, S, V = autodiff.svd_lowrank(autodiff.tensor(a, device=device), q=5)
    assert tuple(U.shape) == (*shape[:-1], 5) and tuple(V.shape) == (*shape[:-2], shape[-1], 5)
    assert tuple(S.shape) == (*shape[:-2], 5)
    np.testing.assert_allclose(_array(U @ autodiff.diag_embed(S) @ V.mT), a, atol=1e-10)
    np.testing.assert_allclose(_array(S)[..., :3], np.linalg.svd(a, compute_uv=False)[..., :3])
    eye = np.eye(5)
    np.testing.assert_allclose(_array(U.mT @ U), np.broadcast_to(eye, (*shape[:-2], 5, 5)),
                               atol=1e-12)
    np.testing.assert_allclose(_array(V.mT @ V), np.broadcast_to(eye, (*shape[:-2], 5, 5)),
                               atol=1e-12)


def test_svd_lowrank_subtracts_the_mean(device: str) -> None:
    rng = np.random.default_rng(1)
    a = _low_rank(rng, (10, 6), 2)
    mean = rng.standard_normal((1, 6))
    U, S, V = autodiff.svd_lowrank(autodiff.tensor(a + mean, device=device), q=4,
                                   M=autodiff.tensor(mean, device=device))
    np.testing.assert_allclose(_array(U @ autodiff.diag_embed(S) @ V.mT), a, atol=1e-10)


def test_svd_lowrank_of_a_sparse_matrix() -> None:
    rng = np.random.default_rng(2)
    a = _low_rank(rng, (9, 14), 2) * (rng.uniform(size=(1, 14)) < 0.5)
    U, S, V = autodiff.svd_lowrank(_sparse(a, "cpu"), q=4, niter=3)
    np.testing.assert_allclose(_array(U @ autodiff.diag_embed(S) @ V.mT), a, atol=1e-10)


def test_svd_lowrank_is_differentiable() -> None:
    a = autodiff.tensor(np.random.default_rng(3).standard_normal((6, 4)), requires_grad=True)
    _, S, _ = autodiff.svd_lowrank(a, q=4)  # q = n: the factorization is exact
    S.sum().backward()
    exact = np.linalg.svd(_array(a))
    np.testing.assert_allclose(_array(a.grad), exact[0][:, :4] @ exact[2], atol=1e-10)
    assert autodiff.autograd.gradcheck(
        lambda x: _seeded_reconstruction(x, 3), (a.detach().requires_grad_(),))


def _seeded_reconstruction(x: autodiff.Tensor, q: int) -> autodiff.Tensor:
    autodiff.manual_seed(0)
    U, S, V = autodiff.svd_lowrank(x, q=q, niter=1)
    return U @ autodiff.diag_embed(S) @ V.mT


@needs_torch
def test_svd_lowrank_matches_torch_on_integers_and_defaults() -> None:
    import torch

    rng = np.random.default_rng(4)
    a = np.rint(_low_rank(rng, (8, 10), 2) * 3)
    ours = autodiff.svd_lowrank(autodiff.tensor(a, dtype=autodiff.float32))
    theirs = torch.svd_lowrank(torch.tensor(a, dtype=torch.float32))
    assert [tuple(t.shape) for t in ours] == [tuple(t.shape) for t in theirs]
    assert ours[1].dtype is autodiff.float32
    np.testing.assert_allclose(_array(ours[1])[:2], theirs[1][:2].numpy(), rtol=1e-4)


# ------------------------------------------------------------------------------- pca_lowrank
def test_pca_lowrank_centers(device: str) -> None:
    rng = np.random.default_rng(5)
    a = _low_rank(rng, (12, 5), 2) + rng.standard_normal((1, 5)) * 4
    centered = a - a.mean(0, keepdims=True)
    U, S, V = autodiff.pca_lowrank(autodiff.tensor(a, device=device), q=3)
    np.testing.assert_allclose(_array(U @ autodiff.diag_embed(S) @ V.mT), centered, atol=1e-10)
    U, S, V = autodiff.pca_lowrank(autodiff.tensor(centered, device=device), center=False)
    assert tuple(S.shape) == (5,)  # q defaults to min(6, m, n)
    np.testing.assert_allclose(_array(U @ autodiff.diag_embed(S) @ V.mT), centered, atol=1e-10)


def test_pca_lowrank_of_a_sparse_matrix() -> None:
    rng = np.random.default_rng(6)
    a = _low_rank(rng, (10, 7), 2) * (rng.uniform(size=(10, 1)) < 0.6)  # rank 2, zero rows
    U, S, V = autodiff.pca_lowrank(_sparse(a, "cpu"), q=4)
    centered = a - a.mean(0, keepdims=True)
    np.testing.assert_allclose(_array(S), np.linalg.svd(centered, compute_uv=False)[:4],
                               atol=1e-8)
    np.testing.assert_allclose(_array(U @ autodiff.diag_embed(S) @ V.mT), centered, atol=1e-8)


def _errors(call: Any, *args: Any, **kwargs: Any) -> tuple[type, str]:
    with pytest.raises(Exception) as info:
        call(*args, **kwargs)
    return type(info.value), str(info.value)


@pytest.mark.parametrize("kwargs", [{"q": 5}, {"q": -1}, {"niter": -1}])
def test_pca_lowrank_refuses_as_torch(kwargs: dict[str, int]) -> None:
    a = np.ones((4, 3))
    error = _errors(autodiff.pca_lowrank, autodiff.tensor(a), **kwargs)
    assert error[0] is ValueError
    if HAS_TORCH:
        import torch

        assert error == _errors(torch.pca_lowrank, torch.tensor(a), **kwargs)


def test_pca_lowrank_refuses_a_batched_sparse_matrix() -> None:
    sparse = autodiff.ones(2, 3, 4).to_sparse()
    assert _errors(autodiff.pca_lowrank, sparse) == (
        ValueError, "pca_lowrank input is expected to be 2-dimensional tensor")


# ------------------------------------------------------------------------------------ lobpcg
@pytest.mark.parametrize("method", ["ortho", "basic"])
@pytest.mark.parametrize("largest", [True, False])
def test_lobpcg_finds_the_extreme_eigenpairs(method: str, largest: bool, device: str) -> None:
    a = _spd(np.random.default_rng(7), 20)
    A = autodiff.tensor(a, device=device)
    autodiff.manual_seed(0)
    E, X = autodiff.lobpcg(A, k=3, largest=largest, method=method)
    expected = np.linalg.eigvalsh(a)
    expected = expected[::-1][:3] if largest else expected[:3]
    np.testing.assert_allclose(_array(E), expected, rtol=1e-7)
    np.testing.assert_allclose(_array(A @ X), _array(X * E), atol=1e-6)
    np.testing.assert_allclose(_array(X.mT @ X), np.eye(3), atol=1e-7)


def test_lobpcg_generalized_batched_and_initial_guess() -> None:
    rng = np.random.default_rng(8)
    a, b = _spd(rng, 15, (2,)), _spd(rng, 15, (2,)) + 3 * np.eye(15)
    x = rng.standard_normal((2, 15, 4))
    E, X = autodiff.lobpcg(autodiff.tensor(a), B=autodiff.tensor(b), X=autodiff.tensor(x), k=2)
    assert tuple(E.shape) == (2, 2) and tuple(X.shape) == (2, 15, 2)
    for index in range(2):
        L = np.linalg.cholesky(b[index])
        inverse = np.linalg.inv(L)
        expected = np.linalg.eigvalsh(inverse @ a[index] @ inverse.T)[::-1][:2]
        np.testing.assert_allclose(_array(E[index]), expected, rtol=1e-7)
    # "basic" (here its Cholesky fails on the generalized problem, as PyTorch's does) writes
    # its iterates into PyTorch's X: here the guess is left as it was.
    x = rng.standard_normal((30, 3))
    x_before = x.copy()
    X0 = autodiff.tensor(x)
    E, _ = autodiff.lobpcg(autodiff.tensor(_spd(rng, 30)), X=X0, k=2, method="basic")
    np.testing.assert_allclose(_array(E), [30.0, 29.0])
    np.testing.assert_array_equal(_array(X0), x_before)


def test_lobpcg_of_a_sparse_matrix_with_a_preconditioner() -> None:
    a = np.diag(np.arange(1.0, 31.0)) + np.diag(np.full(29, 0.3), 1) + np.diag(np.full(29, 0.3), -1)
    iK = autodiff.tensor(np.diag(1 / np.diag(a)))
    autodiff.manual_seed(0)
    E, _ = autodiff.lobpcg(_sparse(a, "cpu"), k=2, largest=False, iK=iK)
    np.testing.assert_allclose(_array(E), np.linalg.eigvalsh(a)[:2], rtol=1e-7)


def test_lobpcg_tracker_sees_and_stops_the_iteration() -> None:
    seen: list[int] = []

    def tracker(worker: LOBPCG) -> None:
        seen.append(worker.ivars["istep"])
        assert "rerr" in worker.tvars
        if worker.ivars["istep"] == 3:
            worker.bvars["force_stop"] = True

    autodiff.lobpcg(autodiff.tensor(_spd(np.random.default_rng(9), 30)), k=2, tracker=tracker,
                    tol=1e-300)
    assert seen == [1, 2, 3]
    steps: list[int] = []
    autodiff.lobpcg(autodiff.tensor(_spd(np.random.default_rng(9), 30)), k=2, niter=4,
                    tol=1e-300, tracker=lambda worker: steps.append(worker.ivars["istep"]))
    assert steps == [1, 2, 3, 4]


@needs_torch
@pytest.mark.parametrize("method", ["ortho", "basic"])
def test_lobpcg_matches_torch(method: str) -> None:
    import torch

    a = _spd(np.random.default_rng(10), 18, (2,))
    x = np.random.default_rng(11).standard_normal((2, 18, 3))
    ours = autodiff.lobpcg(autodiff.tensor(a), X=autodiff.tensor(x), k=2, method=method)
    theirs = torch.lobpcg(torch.tensor(a), X=torch.tensor(x), k=2, method=method)
    np.testing.assert_allclose(_array(ours[0]), theirs[0].numpy(), rtol=1e-9)
    # the same eigenvectors up to sign
    np.testing.assert_allclose(np.abs(_array(ours[1].mT @ autodiff.tensor(theirs[1].numpy()))),
                               np.broadcast_to(np.eye(2), (2, 2, 2)), atol=1e-6)


def _invariant_loss(E: Any, X: Any, weight: Any) -> Any:
    """A loss of the eigenvalues and of the eigenvectors' projector, blind to their signs."""
    return (E * E).sum() + ((X @ X.mT) * weight).sum()


@needs_torch
@pytest.mark.parametrize("largest", [True, False])
@pytest.mark.parametrize("k", [2, 3])
def test_lobpcg_gradient_matches_torch(largest: bool, k: int) -> None:
    import torch

    rng = np.random.default_rng(12)
    a = _spd(rng, 12) + 0.1 * rng.standard_normal((12, 12))  # symmetrized by lobpcg
    weight = rng.standard_normal((12, 12))
    grads = []
    for library in (autodiff, torch):
        A = library.tensor(a, requires_grad=True)
        E, X = library.lobpcg(A, k=k, largest=largest, tol=1e-12, niter=-1)
        _invariant_loss(E, X, library.tensor(weight)).backward()
        grads.append(np.array(A.grad.tolist()))
    np.testing.assert_allclose(grads[0], grads[1], atol=1e-6)
    np.testing.assert_allclose(grads[0], grads[0].T)  # A.grad is symmetric


def test_lobpcg_gradcheck_and_gradgradcheck(device: str) -> None:
    a = autodiff.tensor(_spd(np.random.default_rng(13), 9), device=device, requires_grad=True)
    weight = autodiff.tensor(np.random.default_rng(14).standard_normal((9, 9)), device=device)

    def loss(A: autodiff.Tensor) -> autodiff.Tensor:
        E, X = autodiff.lobpcg(A, k=2, tol=1e-13, niter=-1)
        return _invariant_loss(E, X, weight)

    assert autodiff.autograd.gradcheck(loss, (a,), atol=1e-5)
    # The first gradient, U U^T, is only as accurate as U: converged fully for finite differences.
    assert autodiff.autograd.gradgradcheck(
        lambda A: autodiff.lobpcg(A, k=1, tol=1e-13, niter=-1)[0], (a,))


def test_lobpcg_forward_ad_differentiates_the_iteration() -> None:
    """A dual A that does not require grad runs the iteration itself under forward AD (as in
    PyTorch): the eigenvalue's tangent is u^T dA u."""
    from autodiff.autograd import forward_ad

    rng = np.random.default_rng(16)
    a, direction = _spd(rng, 12), rng.standard_normal((12, 12))
    direction = direction + direction.T
    with forward_ad.dual_level():
        A = forward_ad.make_dual(autodiff.tensor(a), autodiff.tensor(direction))
        E, _ = autodiff.lobpcg(A, k=1, tol=1e-13, niter=-1)
        tangent = forward_ad.unpack_dual(E).tangent
    u = np.linalg.eigh(a)[1][:, -1]
    np.testing.assert_allclose(_array(tangent), [u @ direction @ u], rtol=1e-8)


def test_lobpcg_node_and_backward_refusals() -> None:
    a = _spd(np.random.default_rng(15), 9)
    A = autodiff.tensor(a, requires_grad=True)
    E, X = autodiff.lobpcg(A, k=1)
    assert type(E.grad_fn).__name__ == "LOBPCGAutogradFunctionBackward"
    assert E.grad_fn is X.grad_fn
    E, _ = autodiff.lobpcg(A, k=1, B=autodiff.eye(9, dtype=autodiff.float64))
    with pytest.raises(ValueError, match=r"does not support backward with B != I yet\.$"):
        E.sum().backward()
    sparse = autodiff.tensor(a).to_sparse().requires_grad_()
    E, _ = autodiff.lobpcg(sparse, k=1)
    with pytest.raises(ValueError, match=r"lobpcg.backward does not support sparse input yet\. "
                                         r"Note that lobpcg.forward does though\.$"):
        E.sum().backward()


@pytest.mark.parametrize(("shape", "kwargs"), [
    ((9, 8), {}),
    ((8, 8), {"k": 3}),
    ((8, 8), {"n": 3}),
    ((9, 9), {"B": np.eye(8)}),
    ((9, 9), {"X": np.ones((9, 4))}),
])
def test_lobpcg_refuses_as_torch(shape: tuple[int, int], kwargs: dict[str, Any]) -> None:
    a = np.eye(*shape)
    ours = _errors(autodiff.lobpcg, autodiff.tensor(a),
                   **{key: autodiff.tensor(value) if isinstance(value, np.ndarray) else value
                      for key, value in kwargs.items()})
    if HAS_TORCH:
        import torch

        theirs = _errors(torch.lobpcg, torch.tensor(a),
                         **{key: torch.tensor(value) if isinstance(value, np.ndarray) else value
                            for key, value in kwargs.items()})
        assert ours == theirs
    else:
        assert ours[0] in (ValueError, AssertionError)


def test_where_with_the_condition_alone(device: str) -> None:
    condition = autodiff.tensor([[1.0, 0.0], [0.0, 2.0]], device=device)
    rows, cols = autodiff.where(condition)
    assert rows.tolist() == [0, 1] and cols.tolist() == [0, 1]
    with pytest.raises(TypeError, match=r"where\(\) received an invalid combination"):
        autodiff.where(condition != 0, condition)
