"""Eigendecompositions: linalg.eigh/eigvalsh (symmetric, one triangle read) and linalg.eig/
eigvals (general square matrices, complex results).

Both backwards are PyTorch's linalg_eig_backward in recorded ops. eigh's gradient is symmetric
(PyTorch's too, though the forward reads one triangle); eig's of a real matrix is the real part
of the complex one. A loss that depends on the phase of complex eigenvectors raises PyTorch's
error; repeated eigenvalues give infinities or NaNs, as in PyTorch.
"""

from __future__ import annotations

from typing import Any, NamedTuple

from ..function import Function
from ..tensor import Tensor, _wrap
from .complex import conj, imag, real
from .decompositions import _check_square, solve
from .diagonal import diag_embed, diagonal


class EighResult(NamedTuple):
    eigenvalues: Tensor
    eigenvectors: Tensor


class EigResult(NamedTuple):
    eigenvalues: Tensor
    eigenvectors: Tensor


def _eye(like: Tensor, n: int) -> Tensor:
    backend = like._backend
    return _wrap(backend.eye(n, None, backend.dtype_name(like._data)), backend)


def _mh(a: Tensor) -> Tensor:
    return conj(a.mT)


class LinalgEigh(Function):
    node_name = "LinalgEighBackward0"

    @staticmethod
    def forward(ctx: Any, a: Any, *, upper: bool) -> Any:
        backend = ctx.backend
        ctx.set_materialize_grads(False)
        # The named triangle mirrored: what LAPACK's syevd reads.
        n = a.shape[-1]
        index = backend.arange(0, n, 1, "int64")
        below = backend.greater_equal(backend.expand_dims(index, axis=1),
                                      backend.expand_dims(index, axis=0))
        mask = _transpose(backend, below) if upper else below
        kept = backend.where(mask, a, backend.zeros_like(a))
        strict = backend.where(backend.eye(n, None, "bool"), backend.zeros_like(a), kept)
        w, v = backend.eigh(backend.add(kept, _transpose(backend, strict)))
        ctx.save_for_backward(w, v)
        return w, v

    @staticmethod
    def backward(ctx: Any, grad_w: Tensor | None, grad_v: Tensor | None) -> Tensor | None:
        w, v = ctx.saved_tensors
        return eig_backward(grad_w, grad_v, w, v, hermitian=True)


def _transpose(backend: Any, array: Any) -> Any:
    axes = tuple(range(array.ndim))
    return backend.permute_dims(array, (*axes[:-2], axes[-1], axes[-2]))


def eig_backward(gl: Tensor | None, gv: Tensor | None, values: Tensor, v: Tensor, *,
                 hermitian: bool) -> Tensor | None:
    """PyTorch's linalg_eig_backward: the gradient of A V = V diag(L)."""
    if gl is None and gv is None:
        return None
    vh = _mh(v)
    if gv is None:
        assert gl is not None
        if hermitian:
            return (v * gl.unsqueeze(-2)) @ vh
        return solve(vh, gl.unsqueeze(-1) * vh)
    vhgv = vh @ gv
    diag = diagonal(vhgv, 0, -2, -1)
    if v.dtype.is_complex:
        phase = imag(diag)
        if not bool((phase.abs() <= 1e-2).all()):
            raise RuntimeError(
                f"{'linalg_eigh_backward' if hermitian else 'linalg_eig_backward'}: The "
                "eigenvectors in the complex case are specified up to multiplication by "
                "e^{i phi}. The specified loss function depends on this quantity, so it is "
                "ill-defined.")
    n = values.shape[-1]
    # Hermitian: the skew-Hermitian part; otherwise the projection that keeps columns unit.
    vhgv = 0.5 * (vhgv - _mh(vhgv)) if hermitian \
        else vhgv - vh @ (v * real(diag).unsqueeze(-2))
    lc = conj(values)
    eye = _eye(real(values), n)
    ga = vhgv / (lc.unsqueeze(-2) - lc.unsqueeze(-1) + eye)
    if gl is not None:
        ga = ga * (1 - eye) + diag_embed(gl)
    if hermitian:
        return v @ ga @ vh
    return solve(vh, ga @ vh)


def _check_uplo(function: str, UPLO: str) -> bool:
    if UPLO not in ("L", "U", "l", "u"):
        raise RuntimeError(f"Expected UPLO argument to be 'L' or 'U', but got {UPLO}")
    return UPLO in ("U", "u")


def eigh(A: Tensor, UPLO: str = "L") -> EighResult:
    """Ascending eigenvalues and orthonormal eigenvectors of symmetric matrices, from the
    lower (UPLO='L') or upper triangle."""
    _check_square("linalg.eigh", A)
    return EighResult(*LinalgEigh.apply(A, upper=_check_uplo("linalg.eigh", UPLO)))


def eigvalsh(A: Tensor, UPLO: str = "L") -> Tensor:
    _check_square("linalg.eigvalsh", A)
    return LinalgEigh.apply(A, upper=_check_uplo("linalg.eigvalsh", UPLO))[0]


class LinalgEig(Function):
    node_name = "LinalgEigBackward0"

    @staticmethod
    def forward(ctx: Any, a: Any) -> Any:
        ctx.set_materialize_grads(False)
        w, v = ctx.backend.eig(a)
        ctx.save_for_backward(w, v)
        return w, v

    @staticmethod
    def backward(ctx: Any, grad_w: Tensor | None, grad_v: Tensor | None) -> Tensor | None:
        w, v = ctx.saved_tensors
        return eig_backward(grad_w, grad_v, w, v, hermitian=False)


def eig(A: Tensor) -> EigResult:
    """Eigenvalues and unit eigenvectors of general square matrices, always complex (complex64
    for float32 input, complex128 for float64)."""
    _check_square("linalg.eig", A, complex_ok=True)
    return EigResult(*LinalgEig.apply(A))


def eigvals(A: Tensor) -> Tensor:
    _check_square("linalg.eigvals", A, complex_ok=True)
    return LinalgEig.apply(A)[0]


