"""The matrix factorizations of the generic `Backend` and what is computed from them (inv, solve,
solve_triangular, det, slogdet, cholesky, eigh, eigvalsh, svd, qr), from the array API's
`linalg` extension (`xp.linalg`). `Backend` binds these functions as methods; NumPy's backend
binds `numpy.linalg`'s own instead (and SciPy's triangular solve).

A factorization that fails (a singular matrix, a matrix that is not positive-definite) raises
`LinAlgError`, whatever the library raised, so the tape catches one exception type. Libraries
that do not check (CuPy returns nan) raise nothing.
"""

from __future__ import annotations

from typing import Any

Array = Any

__all__ = ["LinAlgError", "cholesky", "det", "eigh", "eigvalsh", "inv", "qr", "slogdet", "solve",
           "solve_triangular", "svd", "translate_errors"]


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
    """Eigenvalues (ascending) and eigenvectors (columns) of symmetric matrices."""
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
