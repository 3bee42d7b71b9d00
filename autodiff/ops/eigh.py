"""linalg.eigh and linalg.eigvalsh: the eigenvalues (ascending, real) and orthonormal
eigenvectors of real symmetric or complex Hermitian matrices, of which one triangle (`UPLO`)
is read.

The forward is the backend's `eigh` (LAPACK's syevd/heevd on the CPU) of the matrix rebuilt
Hermitian from that triangle. The backward is PyTorch's linalg_eig_backward for Hermitian
input: with A = V diag(L) V^H, gA = V (diag(gL) + skew(V^H gV) / E) V^H, E_ij = L_j - L_i off
the diagonal, written with matmul on the saved outputs, so it is differentiable again. As in
PyTorch, a repeated eigenvalue makes the eigenvectors' gradient infinite (a loss of the
eigenvalues alone is fine), a loss that depends on the phase of complex eigenvectors raises
PyTorch's error, and the gradient is that of the Hermitian function of the whole matrix: it is
not restricted to the triangle read.
"""

from __future__ import annotations

from typing import Any

from .. import return_types
from ..creation import eye
from ..function import Function
from ..jvp_rules import jvp_from_backward
from ..saved_fields import fields, saved
from ..tensor import Tensor
from ._checks import not_implemented_for, require_tensors
from .complex import imag
from .decompositions import _mh
from .diagonal import diagonal

__all__ = ["LinalgEigh", "eigh", "eigvalsh"]


def _symmetric(backend: Any, a: Any, lower: bool) -> Any:
    """The Hermitian matrix whose `lower` (or upper) triangle is a's (the imaginary part of
    the diagonal, which LAPACK ignores, dropped)."""
    n = a.shape[-1]
    rows = backend.reshape(backend.arange(0, n, 1, "int64"), (n, 1))
    cols = backend.reshape(backend.arange(0, n, 1, "int64"), (1, n))
    keep = backend.less(cols, rows) if lower else backend.greater(cols, rows)
    axes = tuple(range(a.ndim))
    mirrored = backend.permute_dims(a, (*axes[:-2], axes[-1], axes[-2]))
    diagonal = backend.equal(cols, rows)
    if backend.is_complex(a.dtype):
        mirrored = backend.conj(mirrored)
        diagonal_values = backend.astype(backend.real(a), backend.dtype_name(a))
        return backend.where(keep, a, backend.where(diagonal, diagonal_values, mirrored))
    return backend.where(keep, a, backend.where(diagonal, a, mirrored))


def _decompose(backend: Any, a: Any, lower: bool) -> tuple[Any, Any]:
    return backend.eigh(_symmetric(backend, a, lower))


def _backward(values: Tensor, vectors: Tensor, grad_values: Tensor | None,
              grad_vectors: Tensor | None) -> Tensor:
    n = values.shape[-1]
    vectors_h = _mh(vectors)
    if grad_vectors is None:
        assert grad_values is not None  # the engine calls a backward with some gradient
        return (vectors * grad_values.unsqueeze(-2)) @ vectors_h  # V diag(gL) V^H
    projected = vectors_h @ grad_vectors
    if vectors.dtype.is_complex:
        # The eigenvectors are defined up to a phase each: a loss that sees it is ill-posed.
        phase = imag(diagonal(projected, 0, -2, -1))
        if not bool((phase.abs() <= 1e-2).all()):
            raise RuntimeError(
                "linalg_eigh_backward: The eigenvectors in the complex case are specified up "
                "to multiplication by e^{i phi}. The specified loss function depends on this "
                "quantity, so it is ill-defined.")
    identity = eye(n, dtype=values.dtype, device=values.device)
    gaps = values.unsqueeze(-2) - values.unsqueeze(-1)  # L_j - L_i
    # Only the skew-Hermitian part of V^H gV moves orthonormal eigenvectors. The diagonal of
    # gaps is 0: it becomes 1, and the quotient's diagonal is replaced by gL when there is one.
    projected = 0.5 * (projected - _mh(projected))
    inner = projected / (gaps + identity)
    if grad_values is not None:
        inner = inner * (1 - identity) + identity * grad_values.unsqueeze(-1)
    return vectors @ inner @ vectors_h


class LinalgEigh(Function):
    node_name = "LinalgEighBackward0"
    saved_fields = fields(eigenvalues=saved(0), eigenvectors=saved(1))
    jvp = jvp_from_backward

    @staticmethod
    def forward(ctx: Any, a: Any, *, lower: bool) -> Any:
        if ctx.backend.dtype_name(a) in ("float16", "bfloat16"):  # no LAPACK kernel
            raise not_implemented_for("linalg_eigh", ctx.backend, a)
        values, vectors = _decompose(ctx.backend, a, lower)
        ctx.save_for_backward(values, vectors)
        # An unused output's gradient stays None: zeros for the eigenvectors would still
        # divide by the gaps, and a repeated eigenvalue would give nan.
        ctx.set_materialize_grads(False)
        return values, vectors

    @staticmethod
    def backward(ctx: Any, grad_values: Tensor | None, grad_vectors: Tensor | None) -> Tensor:
        values, vectors = ctx.saved_tensors
        return _backward(values, vectors, grad_values, grad_vectors)


def _check(A: Tensor, UPLO: str) -> bool:
    """PyTorch's checks; True for the lower triangle."""
    require_tensors("linalg_eigh", ("input", A))
    shape = A._data.shape
    if len(shape) < 2:
        raise RuntimeError("linalg.eigh: The input tensor A must have at least 2 dimensions.")
    if shape[-1] != shape[-2]:
        raise RuntimeError(
            f"linalg.eigh: A must be batches of square matrices, but they are {shape[-2]} by "
            f"{shape[-1]} matrices")
    if UPLO not in ("L", "U", "l", "u"):
        raise RuntimeError(f"Expected UPLO argument to be 'L' or 'U', but got {UPLO}")
    if A._backend.dtype_name(A._data) not in ("float32", "float64", "complex64", "complex128"):
        raise not_implemented_for("linalg_eigh", A._backend, A._data)
    return UPLO in ("L", "l")


def eigh(A: Tensor, UPLO: str = "L") -> Any:
    """(eigenvalues, eigenvectors) of each symmetric matrix, eigenvalues ascending, the
    eigenvectors as columns."""
    lower = _check(A, UPLO)
    values, vectors = LinalgEigh.apply(A, lower=lower)
    return return_types.linalg_eigh((values, vectors))


def eigvalsh(A: Tensor, UPLO: str = "L") -> Tensor:
    """The eigenvalues of each symmetric matrix, ascending. The eigenvectors are computed too
    and kept by the node (as PyTorch's, of the same name): the gradient's own derivative
    needs them as outputs."""
    values, _ = LinalgEigh.apply(A, lower=_check(A, UPLO))
    return values
