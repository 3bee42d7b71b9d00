"""Batching rules of the linear algebra beyond the op table's samples: operands batched
alone or together with extra batch dims, the error checks of the factorizations (every
example's info, numbered as PyTorch's batch elements), a failed *_ex factorization (the
data-dependent case that runs one example at a time), and the memory-reading ops
(as_strided: each example's own memory; masked_select with a shared mask), each against a
loop of unbatched calls or PyTorch's values."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import autodiff
import autodiff.linalg as LA
from autodiff.func import vmap
from tests.func.vmap_helpers import no_fallback as _no_fallback
from tests.func.vmap_helpers import randn64 as _t
from tests.func.vmap_helpers import values as _np

B = 3




def _dominant(a: autodiff.Tensor) -> autodiff.Tensor:
    return a + 4 * autodiff.eye(a.shape[-1], dtype=a.dtype, device=a.device)


def test_lu_solve_with_batched_factors_and_shared_rhs(device: str) -> None:
    """Factors per example (with batch dims of their own), one right-hand side for all."""
    a = _dominant(_t(B, 2, 3, 3, device=device))
    b = _t(3, 2, seed=1, device=device)

    def solve(matrix: autodiff.Tensor, rhs: autodiff.Tensor) -> autodiff.Tensor:
        return LA.lu_solve(*LA.lu_factor(matrix), rhs)

    with _no_fallback():
        out = vmap(solve, in_dims=(0, None))(a, b)
    expected = autodiff.stack([solve(a[i], b) for i in range(B)])
    np.testing.assert_allclose(_np(out), _np(expected), rtol=1e-12)


def test_householder_product_with_shared_reflectors(device: str) -> None:
    a = _t(4, 3, device=device)
    tau = _t(B, 2, seed=1, device=device)
    with _no_fallback():
        out = vmap(LA.householder_product, in_dims=(None, 0))(a, tau)
    expected = autodiff.stack([LA.householder_product(a, tau[i]) for i in range(B)])
    np.testing.assert_allclose(_np(out), _np(expected), rtol=1e-12)


def test_pinv_with_a_tolerance_per_example(device: str) -> None:
    a = _t(B, 2, 3, 4, device=device)
    rtol = autodiff.tensor([0.0, 0.5, 0.9], dtype=autodiff.float64, device=device)
    with _no_fallback():
        out = vmap(lambda m, r: LA.pinv(m, rtol=r))(a, rtol)
        ranks = vmap(lambda m, r: LA.matrix_rank(m, rtol=r))(a, rtol)
    expected = autodiff.stack([LA.pinv(a[i], rtol=rtol[i]) for i in range(B)])
    expected_ranks = autodiff.stack([LA.matrix_rank(a[i], rtol=rtol[i]) for i in range(B)])
    np.testing.assert_allclose(_np(out), _np(expected), rtol=1e-10, atol=1e-12)
    assert ranks.tolist() == expected_ranks.tolist()


def test_solve_ex_with_a_vector_per_example(device: str) -> None:
    """B a vector of each example (A's shape minus one dim) stays a vector."""
    a = _dominant(_t(B, 2, 3, 3, device=device))
    b = _t(B, 2, 3, seed=1, device=device)
    with _no_fallback():
        out = vmap(LA.solve_ex)(a, b)
    for i in range(B):
        result, info = LA.solve_ex(a[i], b[i])
        np.testing.assert_allclose(_np(out.result[i]), _np(result), rtol=1e-12)
        assert out.info[i].tolist() == info.tolist()


def test_factorization_errors_name_their_batch_element(device: str) -> None:
    """As PyTorch's check of the batched infos: the failing example's number."""
    a = autodiff.eye(2, dtype=autodiff.float64, device=device).expand(B, 2, 2).clone()
    a[1] = 0
    with pytest.raises(RuntimeError, match=r"torch.linalg.lu_factor: \(Batch element 1\): "
                                           r"U\[1,1\] is zero"):
        vmap(LA.lu_factor)(a)
    with pytest.raises(RuntimeError, match=r"linalg.cholesky: \(Batch element 1\): The "
                                           "factorization could not be completed"):
        vmap(lambda m: LA.cholesky_ex(m, check_errors=True))(a)


def test_failed_cholesky_ex_runs_each_example_on_its_own(device: str) -> None:
    """An unchecked failure gives that example LAPACK's partial factor and the others their
    differentiable factor: a data-dependent choice, made one example at a time."""
    a = autodiff.eye(2, dtype=autodiff.float64, device=device).expand(B, 2, 2).clone()
    a[1, 1, 1] = -1.0
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        out = vmap(LA.cholesky_ex)(a)
    assert any("performance drop" in str(w.message) for w in caught)
    assert out.info.tolist() == [0, 2, 0]
    for i in range(B):
        np.testing.assert_allclose(_np(out.L[i]), _np(LA.cholesky_ex(a[i]).L))


def test_as_strided_reads_each_examples_own_memory(device: str) -> None:
    """PyTorch's rule: an explicit storage offset counts from each example's start (values
    from torch.func.vmap)."""
    x = autodiff.arange(18.0, device=device).reshape(B, 6)
    with _no_fallback():
        out = vmap(lambda a: a.as_strided((3, 2), (1, 1), 1))(x)
    assert out[1].tolist() == [[7.0, 8.0], [8.0, 9.0], [9.0, 10.0]]


def test_masked_select_with_a_shared_mask(device: str) -> None:
    x = _t(B, 4, device=device)
    mask = autodiff.tensor([True, False, True, True], device=device)
    with _no_fallback():
        out = vmap(lambda a: a.masked_select(mask))(x)
    assert tuple(out.shape) == (B, 3)
    np.testing.assert_array_equal(_np(out), _np(x)[:, [0, 2, 3]])
    with pytest.raises(RuntimeError, match="Attempted to vmap over `mask` in "
                                           r"torch.masked_select\(self, mask\)"):
        vmap(lambda a: a.masked_select(a > 0))(x)
