"""`autodiff.linalg`, shaped like `torch.linalg`.

Differentiable (twice, their backwards are written with these same ops): inv, solve, det,
slogdet (through log|det|; the sign is piecewise constant), cholesky (for symmetric input),
solve_triangular, eigh and eigvalsh,
vector_norm (every order), matrix_norm and norm with ord 'fro', 1, -1, inf, -inf, and matmul.
matrix_norm/norm with ord 2, -2 or 'nuc' go through singular values and are differentiable
to first order only. det and slogdet need an invertible matrix for their gradient (PyTorch
falls back to an SVD for singular ones). A singular or not positive-definite input raises
`LinAlgError` (a RuntimeError) with PyTorch's message.
"""

from __future__ import annotations

from backends.decompositions import LinAlgError

from .ops.decompositions import SlogdetResult, cholesky, det, inv, slogdet, solve
from .ops.eigh import eigh, eigvalsh
from .ops.matmul import matmul
from .ops.norm import matrix_norm, norm, vector_norm
from .ops.products import linalg_cross as cross
from .ops.products import multi_dot
from .ops.triangular import solve_triangular

__all__ = [
    "LinAlgError", "SlogdetResult", "cholesky", "cross", "det", "eigh", "eigvalsh", "inv",
    "matmul", "matrix_norm", "multi_dot", "norm", "slogdet", "solve", "solve_triangular",
    "vector_norm",
]
