"""The matrix factorizations of the generic `Backend` and what is computed from them (inv, solve,
det, slogdet, cholesky, eigvalsh, svd, qr), from the array API's `linalg` extension
(`xp.linalg`). `Backend` binds these functions as methods; NumPy's backend binds
`numpy.linalg`'s own instead.

A factorization that fails (a singular matrix, a matrix that is not positive-definite) raises
`LinAlgError`, whatever the library raised, so the tape catches one exception type. Libraries
that do not check (CuPy returns nan) raise nothing.
"""

from __future__ import annotations

from typing import Any

Array = Any

__all__ = ["LinAlgError", "cholesky", "det", "eigvalsh", "inv", "qr", "slogdet", "solve", "svd",
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
