"""linalg.eigh and linalg.eigvalsh: the eigenvalues (ascending) and eigenvectors of real
symmetric matrices, of which one triangle (`UPLO`) is read.

The forward is the backend's `eigh` (LAPACK's syevd on the CPU) of the matrix rebuilt
symmetric from that triangle. The backward is PyTorch's: with A = V diag(L) V^T,
gA = V (diag(gL) + skew(V^T gV) / E) V^T, E_ij = L_j - L_i off the diagonal, written with
matmul on the saved outputs, so it is differentiable again. As in PyTorch, a repeated
eigenvalue makes the eigenvectors' gradient infinite (a loss of the eigenvalues alone is fine),
and the gradient is that of the symmetric function of the whole matrix: it is not restricted to
the triangle read.
"""

from __future__ import annotations

from typing import Any

from .. import return_types
from ..creation import eye
from ..function import Function
from ..jvp_rules import jvp_from_backward
from ..tensor import Tensor
from ._checks import not_implemented_for, require_tensors

__all__ = ["LinalgEigh", "eigh", "eigvalsh"]


def _symmetric(backend: Any, a: Any, lower: bool) -> Any:
    """The symmetric matrix whose `lower` (or upper) triangle is a's."""
    n = a.shape[-1]
    rows = backend.reshape(backend.arange(0, n, 1, "int64"), (n, 1))
    cols = backend.reshape(backend.arange(0, n, 1, "int64"), (1, n))
    keep = backend.less_equal(cols, rows) if lower else backend.greater_equal(cols, rows)
    axes = tuple(range(a.ndim))
    mirrored = backend.permute_dims(a, (*axes[:-2], axes[-1], axes[-2]))
    return backend.where(keep, a, mirrored)


def _decompose(backend: Any, a: Any, lower: bool) -> tuple[Any, Any]:
    return backend.eigh(_symmetric(backend, a, lower))


def _backward(values: Tensor, vectors: Tensor, grad_values: Tensor | None,
              grad_vectors: Tensor | None) -> Tensor:
    n = values.shape[-1]
    if grad_vectors is None:
        assert grad_values is not None  # the engine calls a backward with some gradient
        return (vectors * grad_values.unsqueeze(-2)) @ vectors.mT  # V diag(gL) V^T
    identity = eye(n, dtype=values.dtype, device=values.device)
    gaps = values.unsqueeze(-2) - values.unsqueeze(-1)  # L_j - L_i
    # Only the skew-symmetric part of V^T gV moves orthonormal eigenvectors. The diagonal of
    # gaps is 0: it becomes 1 and the quotient's diagonal is replaced.
    projected = vectors.mT @ grad_vectors
    projected = 0.5 * (projected - projected.mT)
    inner = projected / (gaps + identity) * (1 - identity)
    if grad_values is not None:
        inner = inner + identity * grad_values.unsqueeze(-1)
    return vectors @ inner @ vectors.mT


class LinalgEigh(Function):
    node_name = "LinalgEighBackward0"
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
    if A._backend.dtype_name(A._data) not in ("float32", "float64"):
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
