"""`autodiff.linalg`, shaped like `torch.linalg`.

Every function is differentiable as PyTorch's is (ldl_factor and ldl_solve are not, as in
PyTorch); the backwards are written with these same ops, so most are differentiable twice
(matrix_norm with ord 2, -2 or 'nuc' to first order only). A singular or not
positive-definite input raises `LinAlgError` (a RuntimeError) with PyTorch's message; the
`*_ex` functions return LAPACK's info instead.
"""

from __future__ import annotations

from backends.decompositions import LinAlgError

from .ops.decompositions import cholesky, det, inv, slogdet, solve
from .ops.diagonal import diagonal as _diagonal
from .ops.eig import eig, eigvals
from .ops.eigh import eigh, eigvalsh
from .ops.householder import householder_product, ldl_factor, ldl_factor_ex, ldl_solve, qr
from .ops.lu import lu, lu_factor, lu_factor_ex, lu_solve
from .ops.matmul import matmul
from .ops.matrix_functions import (
    inv_ex,
    lstsq,
    matrix_exp,
    matrix_power,
    solve_ex,
    tensorinv,
    tensorsolve,
    vander,
    vecdot,
)
from .ops.norm import matrix_norm, norm, vector_norm
from .ops.products import linalg_cross as cross
from .ops.products import multi_dot
from .ops.svd import cond, matrix_rank, pinv, svd, svdvals
from .ops.triangular import cholesky_ex, solve_triangular
from .tensor import Tensor
from .torch_function import make_namespace_overridable as _make_namespace_overridable


def diagonal(A: Tensor, *, offset: int = 0, dim1: int = -2, dim2: int = -1) -> Tensor:
    """torch.diagonal with the last two dims as defaults."""
    return _diagonal(A, offset, dim1, dim2)


__all__ = [
    "LinAlgError", "cholesky", "cholesky_ex", "cond", "cross", "det",
    "diagonal", "eig", "eigh", "eigvals", "eigvalsh", "householder_product", "inv", "inv_ex",
    "ldl_factor", "ldl_factor_ex", "ldl_solve", "lstsq", "lu", "lu_factor", "lu_factor_ex",
    "lu_solve", "matmul", "matrix_exp", "matrix_norm", "matrix_power", "matrix_rank",
    "multi_dot", "norm", "pinv", "qr", "slogdet", "solve", "solve_ex", "solve_triangular",
    "svd", "svdvals", "tensorinv", "tensorsolve", "vander", "vecdot", "vector_norm",
]

# Last: the public functions become their `__torch_function__` wrappers (torch_function.py)
# now, so the modules importing this one bind the wrappers, in defaults too (an
# `activation=F.relu` default is then the `F.relu` a user passes).
_make_namespace_overridable(globals(), __name__)
