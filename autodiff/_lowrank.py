"""svd_lowrank and pca_lowrank (torch._lowrank): randomized low-rank SVD and PCA of a matrix,
a batch of matrices or a sparse COO matrix, after Halko, Martinsson and Tropp, "Finding
structure with randomness" (arXiv:0909.4061), algorithms 4.4 and 5.1.

A random Gaussian block R (q columns) is multiplied by A, its range orthonormalized with QR,
then refined by `niter` power iterations (QR after each product with A^H and with A); the small
matrix Q^H A is decomposed with linalg.svd. A mean M (dense, broadcast to A's shape) is
subtracted through products only, so a sparse A is never made dense. Everything is composed of
differentiable ops (matmul, sparse.mm, linalg.qr, linalg.svd), so the factors are
differentiable in A and M as PyTorch's are, for the random block drawn.
"""

from __future__ import annotations

from typing import Any

from . import dtypes
from .creation import ones, randn, zeros
from .layouts import sparse_coo
from .ops.householder import qr
from .ops.matmul import matmul
from .ops.sparse_coo import sparse_coo_tensor
from .ops.sparse_elementwise import sparse_sum
from .ops.sparse_products import sparse_mm
from .ops.svd import svd
from .tensor import Tensor

__all__ = ["get_approximate_basis", "pca_lowrank", "svd_lowrank"]


def is_sparse(A: Any) -> bool:
    """Whether A is a sparse COO tensor (other sparse layouts are not)."""
    if isinstance(A, Tensor):
        return A.layout == sparse_coo
    raise TypeError(f"expected Tensor but got {type(A)}")


def get_floating_dtype(A: Tensor) -> Any:
    """A's dtype where it is a real floating one, float32 otherwise (integers)."""
    if A.dtype in (dtypes.float16, dtypes.float32, dtypes.float64):
        return A.dtype
    return dtypes.float32


def sparse_aware_matmul(A: Tensor | None, B: Tensor) -> Tensor:
    """A @ B for a dense or sparse COO A and a dense B; B itself when A is None (identity)."""
    if A is None:
        return B
    if is_sparse(A):
        return sparse_mm(A, B)
    return matmul(A, B)


def get_approximate_basis(A: Tensor, q: int, niter: int | None = 2,
                          M: Tensor | None = None) -> Tensor:
    """Q with q orthonormal columns such that Q Q^H (A - M) approximates A - M (M: None for
    zero), without making any tensor of A's size (Halko et al., algorithm 4.4)."""
    niter = 2 if niter is None else niter
    dtype = A.dtype if A.is_complex() else get_floating_dtype(A)
    R = randn(A.shape[-1], q, dtype=dtype, device=A.device)
    X = sparse_aware_matmul(A, R)
    if M is not None:
        X = X - sparse_aware_matmul(M, R)
    Q = qr(X).Q
    for _ in range(niter):
        X = sparse_aware_matmul(A.mH, Q)
        if M is not None:
            X = X - sparse_aware_matmul(M.mH, Q)
        Q = qr(X).Q
        X = sparse_aware_matmul(A, Q)
        if M is not None:
            X = X - sparse_aware_matmul(M, Q)
        Q = qr(X).Q
    return Q


def svd_lowrank(A: Tensor, q: int | None = 6, niter: int | None = 2,
                M: Tensor | None = None) -> tuple[Tensor, Tensor, Tensor]:
    """(U, S, V) with A - M ~= U diag(S) V^H, of rank q, by a randomized range finder with
    `niter` power iterations (M, broadcast to A's shape, defaults to zero). A may be dense,
    batched or sparse COO."""
    q = 6 if q is None else q
    m, n = A.shape[-2:]
    if M is not None:
        M = M.broadcast_to(A.size())
    # The range is found on the tall orientation: A^H when A is wide.
    if m < n:
        A = A.mH
        if M is not None:
            M = M.mH
    Q = get_approximate_basis(A, q, niter=niter, M=M)
    B = sparse_aware_matmul(Q.mH, A) if not is_sparse(A) else sparse_aware_matmul(A.mH, Q).mH
    if M is not None:
        B = B - matmul(Q.mH, M)
    U, S, Vh = svd(B, full_matrices=False)
    V = Vh.mH
    U = Q.matmul(U)
    if m < n:
        U, V = V, U
    return U, S, V


def pca_lowrank(A: Tensor, q: int | None = None, center: bool = True,
                niter: int = 2) -> tuple[Tensor, Tensor, Tensor]:
    """(U, S, V): the randomized SVD of A's centered form (its column means subtracted, unless
    `center` is False), q components (default min(6, m, n)); V's columns are the principal
    directions and S ** 2 / (m - 1) the variances along them."""
    m, n = A.shape[-2:]
    if q is None:
        q = min(6, m, n)
    elif not (q >= 0 and q <= min(m, n)):
        raise ValueError(
            f"q(={q}) must be non-negative integer and not greater than min(m, n)={min(m, n)}")
    if not (niter >= 0):
        raise ValueError(f"niter(={niter}) must be non-negative integer")
    dtype = get_floating_dtype(A)
    if not center:
        return svd_lowrank(A, q, niter=niter, M=None)
    if is_sparse(A):
        if len(A.shape) != 2:
            raise ValueError("pca_lowrank input is expected to be 2-dimensional tensor")
        # The column means as a sparse (n, 1) matrix times a row of ones: M, the (m, n) mean,
        # stays a product of small factors until svd_lowrank multiplies it by thin blocks.
        means = sparse_sum(A, dim=(-2,)) / m
        columns = means.indices()[0]
        indices = zeros(2, len(columns), dtype=columns.dtype, device=columns.device)
        indices[0] = columns
        means_column = sparse_coo_tensor(indices, means.values(), (n, 1), dtype=dtype,
                                         device=A.device)
        ones_row = ones((1, m), dtype=dtype, device=A.device)
        M = sparse_mm(means_column, ones_row).mT
        return svd_lowrank(A, q, niter=niter, M=M)
    return svd_lowrank(A - A.mean(dim=(-2,), keepdim=True), q, niter=niter, M=None)
