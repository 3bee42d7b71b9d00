"""The matrix factorizations of the generic `Backend` and what is computed from them (inv, solve,
det, slogdet, cholesky, svd, qr), from the array API's `linalg` extension (`xp.linalg`). `Backend`
binds these functions as methods; NumPy's backend binds `numpy.linalg`'s own instead.

A factorization that fails (a singular matrix, a matrix that is not positive-definite) raises
`LinAlgError`, whatever the library raised, so the tape catches one exception type. Libraries
that do not check (CuPy returns nan) raise nothing.
"""

from __future__ import annotations

from typing import Any

Array = Any

__all__ = ["LinAlgError", "cholesky", "det", "inv", "qr", "slogdet", "solve", "svd",
           "translate_errors"]


class LinAlgError(RuntimeError):
    """A matrix the factorization cannot handle (PyTorch's `torch.linalg.LinAlgError`)."""


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


def det(self: Any, a: Array) -> Array:
    return self.xp.linalg.det(a)


def slogdet(self: Any, a: Array) -> tuple[Array, Array]:
    sign, logabsdet = self.xp.linalg.slogdet(a)
    return sign, logabsdet


def cholesky(self: Any, a: Array) -> Array:
    """The lower factor L of a = L L^T."""
    return translate_errors(self.xp.linalg.cholesky)(a)


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


def eigh(self: Any, a: Array) -> tuple[Array, Array]:
    """Eigenvalues (ascending) and orthonormal eigenvectors of symmetric (Hermitian) matrices."""
    w, v = self.xp.linalg.eigh(a)
    return w, v


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
lu_solve = _on_host("lu_solve")
lu_permutation = _on_host("lu_permutation")
solve_triangular = _on_host("solve_triangular")
matrix_exp = _on_host("matrix_exp")
ldl_factor = _on_host("ldl_factor")
ldl_solve = _on_host("ldl_solve")
geqrf = _on_host("geqrf")
householder_product = _on_host("householder_product")
ormqr = _on_host("ormqr")
lstsq = _on_host("lstsq")
