"""torch.linalg's solve_triangular and eigvalsh, and torch.cholesky_solve and
cholesky_inverse, which the distributions call and autodiff's namespace does not have yet:
each written once, here, from existing ops (so gradients flow where PyTorch's do), for the
arguments the distributions pass. When autodiff.linalg gains them, these definitions become
imports of those functions.
"""

from __future__ import annotations

from ..creation import eye
from ..ops.decompositions import LinalgSolve
from ..tensor import Tensor, _wrap

__all__ = ["cholesky_inverse", "cholesky_solve", "eigvalsh", "solve_triangular"]


def solve_triangular(A: Tensor, B: Tensor, *, upper: bool) -> Tensor:
    """X with A X = B for triangular A (the other triangle of A is not read, and gets no
    gradient), batch dims broadcast."""
    triangle = A.triu() if upper else A.tril()
    return LinalgSolve.apply(triangle, B, vector=False, left=True)


# cholesky_inverse and cholesky_solve differentiate L as a full matrix, as PyTorch's do (their
# gradients are not restricted to the triangle).
def cholesky_inverse(L: Tensor) -> Tensor:
    """(L L^T)^-1 from the lower Cholesky factor L."""
    identity = eye(L.shape[-1], dtype=L.dtype, device=L.device)
    inverse = LinalgSolve.apply(L, identity, vector=False, left=True)
    return inverse.mT @ inverse


def cholesky_solve(B: Tensor, L: Tensor) -> Tensor:
    """X with (L L^T) X = B, L lower triangular."""
    return LinalgSolve.apply(L @ L.mT, B, vector=False, left=True)


def eigvalsh(A: Tensor) -> Tensor:
    """The eigenvalues of symmetric matrices, ascending (not differentiable here: the
    constraints only compare them with 0)."""
    backend = A._backend
    return _wrap(backend.eigvalsh(A.detach()._data), backend)
