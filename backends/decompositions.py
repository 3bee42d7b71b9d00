"""The matrix factorizations of the generic `Backend` and what is computed from them (inv, solve,
solve_triangular, det, slogdet, cholesky, eigh, eigvalsh, svd, qr), from the array API's
`linalg` extension (`xp.linalg`). `Backend` binds these functions as methods; NumPy's backend
binds `numpy.linalg`'s own instead (and SciPy's triangular solve).

A factorization that fails (a singular matrix, a matrix that is not positive-definite) raises
`LinAlgError`, whatever the library raised, so the tape catches one exception type. Libraries
that do not check (CuPy returns nan) raise nothing.
"""

from __future__ import annotations

import math
from typing import Any

import numpy

Array = Any

__all__ = ["LinAlgError", "cholesky", "det", "eigh", "eigvalsh", "inv", "qr", "slogdet", "solve",
           "solve_triangular", "svd", "translate_errors"]


class _LinAlgError(RuntimeError):
    """A matrix the factorization cannot handle. PyTorch's `torch.linalg.LinAlgError` is its
    class `torch._C._LinAlgError`, so a traceback names this one the same way."""


LinAlgError = _LinAlgError


def translate_errors(function: Any) -> Any:
    """Wrap a library's linalg function so its LinAlgError (by name: NumPy's, a strict
    namespace's) becomes ours."""

    def call(*args: Any, **kwargs: Any) -> Any:
        try:
            return function(*args, **kwargs)
        except Exception as error:
            if type(error).__name__ == "LinAlgError":
                raise LinAlgError(str(error)) from None
            raise

    call.__name__ = getattr(function, "__name__", "linalg")
    call.__doc__ = function.__doc__
    return call


def inv(self: Any, a: Array) -> Array:
    return translate_errors(self.xp.linalg.inv)(a)


def solve(self: Any, a: Array, b: Array) -> Array:
    """a x = b for batches of matrices a (..., n, n) and b (..., n, k) of the same batch shape."""
    return translate_errors(self.xp.linalg.solve)(a, b)


def solve_triangular(self: Any, a: Array, b: Array, *, upper: bool, unitriangular: bool) -> Array:
    """x with a x = b for triangular matrices a (..., n, n) (the other triangle is not read; nor
    is the diagonal when `unitriangular`) and b (..., n, k), batch dims broadcast together.
    By substitution, row by row, so a zero on the diagonal gives inf/nan as LAPACK's trtrs
    does, never an error."""
    xp = self.xp
    batch = _batch_shape(a.shape[:-2], b.shape[:-2])
    a = xp.broadcast_to(a, (*batch, *a.shape[-2:]))
    b = xp.broadcast_to(b, (*batch, *b.shape[-2:]))
    n = a.shape[-1]
    rows: list[Array] = [b[..., 0:0, :]] * n
    for i in (range(n - 1, -1, -1) if upper else range(n)):
        row = b[..., i:i + 1, :]
        known = slice(i + 1, n) if upper else slice(0, i)
        if known.stop > known.start:
            solved = xp.concat(rows[known], axis=-2)
            row = row - xp.matmul(a[..., i:i + 1, known], solved)
        if not unitriangular:
            row = row / a[..., i:i + 1, i:i + 1]
        rows[i] = row
    return xp.concat(rows, axis=-2) if n else b


def _batch_shape(first: tuple[int, ...], second: tuple[int, ...]) -> tuple[int, ...]:
    """The broadcast shape of two shapes known to broadcast."""
    width = max(len(first), len(second))
    first = (1,) * (width - len(first)) + tuple(first)
    second = (1,) * (width - len(second)) + tuple(second)
    return tuple(x if y == 1 else y for x, y in zip(first, second))


def det(self: Any, a: Array) -> Array:
    return self.xp.linalg.det(a)


def slogdet(self: Any, a: Array) -> tuple[Array, Array]:
    sign, logabsdet = self.xp.linalg.slogdet(a)
    return sign, logabsdet


def cholesky(self: Any, a: Array) -> Array:
    """The lower factor L of a = L L^T."""
    return translate_errors(self.xp.linalg.cholesky)(a)


def eigh(self: Any, a: Array) -> tuple[Array, Array]:
    """Eigenvalues (ascending) and orthonormal eigenvectors (columns) of symmetric (Hermitian)
    matrices."""
    values, vectors = translate_errors(self.xp.linalg.eigh)(a)
    return values, vectors


def eigvalsh(self: Any, a: Array) -> Array:
    """The eigenvalues of symmetric matrices (the lower triangle is read), ascending."""
    return translate_errors(self.xp.linalg.eigvalsh)(a)


def svd(self: Any, a: Array) -> tuple[Array, Array, Array]:
    """u, s, vh with full_matrices=False."""
    u, s, vh = self.xp.linalg.svd(a, full_matrices=False)
    return u, s, vh


def qr(self: Any, a: Array) -> tuple[Array, Array]:
    """q, r of a = q r for a matrix or a batch (mode 'reduced': q is (..., m, k), r is
    (..., k, n), k = min(m, n)); Householder, as LAPACK's geqrf."""
    q, r = self.xp.linalg.qr(a, mode="reduced")
    return q, r


def svd_full(self: Any, a: Array, full_matrices: bool) -> tuple[Array, Array, Array]:
    """u, s, vh; with full_matrices u is (..., m, m) and vh (..., n, n)."""
    u, s, vh = self.xp.linalg.svd(a, full_matrices=full_matrices)
    return u, s, vh


def svdvals(self: Any, a: Array) -> Array:
    return self.xp.linalg.svdvals(a)


def qr_complete(self: Any, a: Array) -> tuple[Array, Array]:
    q, r = self.xp.linalg.qr(a, mode="complete")
    return q, r


def _on_host(name: str) -> Any:
    """A function of `host_linalg` run on host copies of this backend's arrays (NumPy's are
    the host arrays themselves), its results moved back; SciPy is imported on first use."""

    def call(self: Any, *args: Any, **kwargs: Any) -> Any:
        from . import host_linalg
        from .special import on_host
        return on_host(self, getattr(host_linalg, name))(*args, **kwargs)

    call.__name__ = name
    return call


cholesky_ex = _on_host("cholesky_ex")
eig = _on_host("eig")
lu_factor = _on_host("lu_factor")
lu_permutation = _on_host("lu_permutation")
lu_solve_lapack = _on_host("lu_solve_lapack")
ldl_factor = _on_host("ldl_factor")
ldl_solve = _on_host("ldl_solve")
geqrf = _on_host("geqrf")
householder_product = _on_host("householder_product")
ormqr = _on_host("ormqr")
lstsq = _on_host("lstsq")


# Pade [13/13] approximant of exp (Higham 2005, "The scaling and squaring method for the matrix
# exponential revisited"): its coefficients and the 1-norm up to which it is exact to float64.
_PADE_13 = (64764752532480000.0, 32382376266240000.0, 7771770303897600.0, 1187353796428800.0,
            129060195264000.0, 10559470521600.0, 670442572800.0, 33522128640.0, 1323241920.0,
            40840800.0, 960960.0, 16380.0, 182.0, 1.0)
_THETA_13 = 5.371920351148152


def matrix_exp(self: Any, a: Array) -> Array:
    """exp(A) of each square matrix by scaling and squaring with a [13/13] Pade approximant:
    matrix products and one solve, so every backend computes it on its own device."""
    xp = self.xp
    n = a.shape[-1]
    if a.size == 0:
        return xp.asarray(a, copy=True)
    norms = xp.max(xp.sum(xp.abs(a), axis=-2), axis=-1)  # the 1-norm of each matrix
    host_norms = [float(value) for value in
                  self.host_operand(xp.reshape(norms, (-1,))).tolist()]
    steps = [max(0, math.ceil(math.log2(value / _THETA_13))) if value > _THETA_13 else 0
             for value in host_norms]
    dtype = a.dtype
    scale = self.from_numpy(numpy.asarray([2.0 ** -k for k in steps]))
    scale = xp.reshape(xp.astype(scale, dtype), (*a.shape[:-2], 1, 1))
    x = a * scale
    eye = xp.eye(n, dtype=dtype, device=self.native_device)
    b = _PADE_13
    x2 = xp.matmul(x, x)
    x4 = xp.matmul(x2, x2)
    x6 = xp.matmul(x4, x2)
    u = xp.matmul(x6, b[13] * x6 + b[11] * x4 + b[9] * x2) \
        + b[7] * x6 + b[5] * x4 + b[3] * x2 + b[1] * eye
    u = xp.matmul(x, u)
    v = xp.matmul(x6, b[12] * x6 + b[10] * x4 + b[8] * x2) \
        + b[6] * x6 + b[4] * x4 + b[2] * x2 + b[0] * eye
    result = xp.linalg.solve(v - u, v + u)
    count = xp.reshape(self.from_numpy(numpy.asarray(steps)), (*a.shape[:-2], 1, 1))
    for step in range(max(steps)):
        result = xp.where(count > step, xp.matmul(result, result), result)
    return result


def lu_solve(self: Any, lu: Array, pivots: Array, b: Array, trans: int) -> Array:
    """X with A X = B (trans 0), A^T X = B (1) or A^H X = B (2), A = P L U from getrf's packed
    LU and 1-based pivots."""
    xp = self.xp
    m = lu.shape[-1]
    order = self.lu_permutation(pivots, m)  # row i of P^T A is row order[i] of A
    index = xp.broadcast_to(xp.reshape(order, (*order.shape, 1)), b.shape)
    factors = xp.conj(lu) if trans == 2 and xp.isdtype(lu.dtype, "complex floating") else lu
    if trans == 0:
        y = self.take_along_axis(b, index, axis=b.ndim - 2)
        y = self.solve_triangular(factors, y, upper=False, unitriangular=True)
        return self.solve_triangular(factors, y, upper=True, unitriangular=False)
    transposed = xp.matrix_transpose(factors)
    z = self.solve_triangular(transposed, b, upper=False, unitriangular=False)  # U^T is lower
    w = self.solve_triangular(transposed, z, upper=True, unitriangular=True)  # L^T: unit upper
    inverse = xp.broadcast_to(xp.reshape(xp.argsort(order, axis=-1), (*order.shape, 1)),
                              b.shape)
    return self.take_along_axis(w, inverse, axis=b.ndim - 2)
