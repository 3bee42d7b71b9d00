"""The factorizations the array API's `linalg` extension lacks, on host (NumPy) arrays with
LAPACK through NumPy and SciPy: eig, LU (getrf) and its row order, Cholesky with its info
(potrf), LDL^T (sytrf/sytrs), Householder QR (geqrf/orgqr/ormqr) and least squares.
(Solves with the factors run on the device, `decompositions.py`: SciPy's trsm-based
routines stall for milliseconds on a loaded machine with its threaded BLAS.)

Each takes and returns NumPy arrays and works on batches (..., m, n), one LAPACK call per
matrix where the library has no batched form. NumPy's backend binds them as they are; any
other backend runs them on host copies (`special.on_host`). Integer outputs (pivots, infos,
ranks) are int32/int64 as PyTorch's.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import scipy.linalg
from scipy.linalg import lapack

Array = Any

__all__ = [
    "cholesky_ex", "eig", "geqrf", "householder_product", "ldl_factor", "ldl_solve", "lstsq",
    "lu_factor", "lu_permutation", "lu_solve_lapack", "ormqr",
]


def _each(a: Array, function: Callable[..., tuple[Array, ...]], *others: Array
          ) -> tuple[Array, ...]:
    """function(matrix, *other matrices) for each matrix of a batch, results stacked back into
    the batch shape. `others` share a's batch shape."""
    batch = a.shape[:-2]
    flat = [x.reshape((-1, *x.shape[len(batch):])) for x in (a, *others)]
    count = flat[0].shape[0]
    results = [function(*(x[i] for x in flat)) for i in range(count)]
    if count == 0:
        sample = function(*(np.zeros(x.shape[1:], x.dtype) for x in flat))
        return tuple(np.zeros((0, *np.shape(r)), np.asarray(r).dtype).reshape(
            (*batch, *np.shape(r))) for r in sample)
    return tuple(np.stack([r[k] for r in results]).reshape((*batch, *np.shape(results[0][k])))
                 for k in range(len(results[0])))


def _lapack(name: str, a: Array) -> Any:
    return lapack.get_lapack_funcs((name,), (a,))[0]


def eig(a: Array) -> tuple[Array, Array]:
    """Eigenvalues and unit eigenvectors of general square matrices, always complex."""
    complex_dtype = np.complex64 if a.dtype in (np.float32, np.complex64) else np.complex128
    w, v = np.linalg.eig(a)
    return w.astype(complex_dtype), v.astype(complex_dtype)


def lu_factor(a: Array) -> tuple[Array, Array, Array]:
    """LAPACK getrf: the packed LU, 1-based int32 pivots and int32 infos (k > 0: U[k-1, k-1]
    is zero)."""
    def one(matrix: Array) -> tuple[Array, Array, Array]:
        lu, piv, info = _lapack("getrf", matrix)(matrix)
        return lu, (piv + 1).astype(np.int32), np.asarray(info, np.int32)
    return _each(np.asarray(a), one)


def lu_solve_lapack(lu: Array, pivots: Array, b: Array, trans: int) -> Array:
    """getrs: X with op(A) X = B from getrf's factors, also for a singular U (infinities and
    NaNs, as LAPACK gives them; the device solve refuses singular factors)."""
    def one(factors: Array, piv: Array, rhs: Array) -> tuple[Array]:
        x, _ = _lapack("getrs", factors)(factors, piv.astype(np.int32) - 1, rhs, trans=trans)
        return (x,)
    return _each(lu, one, pivots, b)[0]


def ldl_factor(a: Array, hermitian: bool) -> tuple[Array, Array, Array]:
    """LAPACK sytrf/hetrf with the lower triangle: compact LD, pivots (1-based, negative for
    2 x 2 blocks) and infos."""
    name = "hetrf" if hermitian and np.iscomplexobj(a) else "sytrf"

    def one(matrix: Array) -> tuple[Array, Array, Array]:
        ld, piv, info = _lapack(name, matrix)(matrix, lower=1)
        return np.tril(ld), piv.astype(np.int32), np.asarray(info, np.int32)
    return _each(np.asarray(a), one)


def ldl_solve(ld: Array, pivots: Array, b: Array, hermitian: bool) -> Array:
    name = "hetrs" if hermitian and np.iscomplexobj(ld) else "sytrs"

    def one(factors: Array, piv: Array, rhs: Array) -> tuple[Array]:
        x, _ = _lapack(name, factors)(factors, piv.astype(np.int32), rhs, lower=1)
        return (x,)
    return _each(ld, one, pivots, b)[0]


def geqrf(a: Array) -> tuple[Array, Array]:
    """LAPACK geqrf: R above the diagonal and the Householder vectors below it, and tau."""
    def one(matrix: Array) -> tuple[Array, Array]:
        qr, tau, _, _ = _lapack("geqrf", matrix)(matrix)
        return qr, tau
    return _each(np.asarray(a), one)


def householder_product(a: Array, tau: Array) -> Array:
    """The first n columns of H_1 ... H_k, H_i = I - tau_i v_i v_i^H (LAPACK orgqr/ungqr)."""
    name = "ungqr" if np.iscomplexobj(a) else "orgqr"

    def one(vectors: Array, scales: Array) -> tuple[Array]:
        q, _, _ = _lapack(name, vectors)(vectors, scales)
        return (q,)
    return _each(np.asarray(a), one, tau)[0]


def ormqr(a: Array, tau: Array, c: Array, left: bool, transpose: bool) -> Array:
    """Q C, C Q, Q^H C or C Q^H for Q = householder_product(a, tau) (LAPACK ormqr/unmqr)."""
    complex_ = np.iscomplexobj(a)
    name = "unmqr" if complex_ else "ormqr"
    trans = ("C" if complex_ else "T") if transpose else "N"

    def one(vectors: Array, scales: Array, other: Array) -> tuple[Array]:
        function = _lapack(name, vectors)
        lwork = max(1, other.shape[1] if left else other.shape[0]) * 64
        out, _, _ = function("L" if left else "R", trans, vectors, scales, other, lwork)
        return (out,)
    return _each(np.asarray(a), one, tau, c)[0]


def lstsq(a: Array, b: Array, rcond: float | None, driver: str
          ) -> tuple[Array, Array, Array]:
    """The least-squares solutions of A X = B with one of LAPACK's drivers, the ranks and the
    singular values (empty where the driver computes none)."""
    m, n = a.shape[-2:]
    rhs = b.shape[-1]

    def one(matrix: Array, other: Array) -> tuple[Array, Array, Array]:
        if driver == "gels":
            _, x, _ = _lapack("gels", matrix)(matrix, other)
            return x[:n], np.asarray(min(m, n), np.int64), np.zeros(0, matrix.real.dtype)
        x, _, rank, s = scipy.linalg.lstsq(matrix, other, cond=rcond, lapack_driver=driver,
                                           check_finite=False)
        singular = (np.asarray(s, matrix.real.dtype) if driver in ("gelsd", "gelss")
                    else np.zeros(0, matrix.real.dtype))
        return x.reshape(n, rhs), np.asarray(rank, np.int64), singular
    return _each(a, one, b)


def lu_permutation(pivots: Array, m: int) -> Array:
    """The row order P^T of getrf's 1-based pivots (..., k): row i of P^T A is row perm[i] of
    A, so P[perm[i], i] = 1."""
    pivots = np.asarray(pivots)
    batch = pivots.shape[:-1]
    flat = pivots.reshape(-1, pivots.shape[-1]) - 1
    perms = np.tile(np.arange(m, dtype=np.int64), (flat.shape[0], 1))
    rows = np.arange(flat.shape[0])
    for i in range(flat.shape[1]):
        j = flat[:, i]
        current, swapped = perms[rows, i].copy(), perms[rows, j].copy()
        perms[rows, i], perms[rows, j] = swapped, current
    return perms.reshape((*batch, m))


def cholesky_ex(a: Array) -> tuple[Array, Array]:
    """LAPACK potrf with the lower triangle: L (partial where it failed) and int32 infos."""
    def one(matrix: Array) -> tuple[Array, Array]:
        factor, info = _lapack("potrf", matrix)(matrix, lower=1, clean=1)
        return np.tril(factor), np.asarray(info, np.int32)
    return _each(np.asarray(a), one)
