"""linalg.eig and linalg.eigvals: eigenvalues and unit eigenvectors of general square
matrices, always complex.

The backward is PyTorch's linalg_eig_backward in recorded ops; that of a real matrix is the
real part of the complex one. A loss that depends on the phase of the eigenvectors raises
PyTorch's error; repeated eigenvalues give infinities or NaNs, as in PyTorch.
"""

from __future__ import annotations

from typing import Any

from .. import dtypes, return_types
from ..batching.dispatch import all_examples
from ..function import Function
from ..jvp_rules import rule_facts
from ..tensor import Tensor, _wrap
from .complex import conj, imag, real
from .decompositions import _check_square, solve
from .diagonal import diag_embed, diagonal


def _eye(like: Tensor, n: int) -> Tensor:
    backend = like._backend
    return _wrap(backend.eye(n, None, backend.dtype_name(like._data)), backend)


def _mh(a: Tensor) -> Tensor:
    return conj(a.mT)


def eig_backward(gl: Tensor | None, gv: Tensor | None, values: Tensor, v: Tensor
                 ) -> Tensor | None:
    """PyTorch's linalg_eig_backward: the gradient of A V = V diag(L)."""
    if gl is None and gv is None:
        return None
    vh = _mh(v)
    if gv is None:
        assert gl is not None
        return solve(vh, gl.unsqueeze(-1) * vh)
    vhgv = vh @ gv
    diag = diagonal(vhgv, 0, -2, -1)
    if v.dtype.is_complex:
        phase = imag(diag)
        real_phase = all_examples(phase.abs() <= 1e-2)  # every example's in vmap
        if not real_phase._backend.all_true(real_phase._data):
            raise RuntimeError(
                "linalg_eig_backward: The "
                "eigenvectors in the complex case are specified up to multiplication by "
                "e^{i phi}. The specified loss function depends on this quantity, so it is "
                "ill-defined.")
    n = values.shape[-1]
    # The projection that keeps the columns unit vectors.
    vhgv = vhgv - vh @ (v * real(diag).unsqueeze(-2))
    lc = conj(values)
    eye = _eye(real(values), n)
    ga = vhgv / (lc.unsqueeze(-2) - lc.unsqueeze(-1) + eye)
    if gl is not None:
        ga = ga * (1 - eye) + diag_embed(gl)
    return solve(vh, ga @ vh)


def eig_jvp(ctx: Any, grad_a: Tensor | None) -> tuple[Tensor, Tensor] | None:
    """PyTorch's linalg_eig_jvp: with dP = V^-1 dA V, dL = diag(dP) and
    dV = V X - V Re(diag(V^H V X)), X = dP / (L_j - L_i) off the diagonal (zero on it); the
    second term keeps the columns unit vectors."""
    if grad_a is None:
        return None
    _, _, outputs = ctx._dual_call
    values, v = outputs
    if not grad_a.dtype.is_complex:
        grad_a = grad_a.to(v.dtype)
    dp = solve(v, grad_a @ v)
    grad_values = diagonal(dp, 0, -2, -1)
    eye = _eye(real(values), values.shape[-1])
    x = dp / (values.unsqueeze(-2) - values.unsqueeze(-1) + eye) * (1 - eye)
    vx = v @ x
    grad_v = vx - v * real(diagonal(_mh(v) @ vx, 0, -2, -1)).unsqueeze(-2)
    return grad_values, grad_v


class LinalgEig(Function):
    node_name = "LinalgEigBackward0"
    jvp = staticmethod(rule_facts(reads_saved=False, complex_safe=True)(eig_jvp))

    @staticmethod
    def forward(ctx: Any, a: Any) -> Any:
        ctx.set_materialize_grads(False)
        w, v = ctx.backend.eig(a)
        ctx.save_for_backward(w, v)
        return w, v

    @staticmethod
    def backward(ctx: Any, grad_w: Tensor | None, grad_v: Tensor | None) -> Tensor | None:
        w, v = ctx.saved_tensors
        return eig_backward(grad_w, grad_v, w, v)


def _check(function: str, A: Tensor) -> None:
    name = A._backend.dtype_name(A._data)
    if not (A.dtype.is_floating_point or A.dtype.is_complex):
        # PyTorch fails looking up the complex dtype of its result
        raise RuntimeError(f"Unknown Complex ScalarType for {dtypes.SCALAR_TYPE_NAMES[name]}")
    _check_square(function, A, complex_ok=True, kernel="linalg_eig_out")


def eig(A: Tensor) -> Any:
    """Eigenvalues and unit eigenvectors of general square matrices, always complex (complex64
    for float32 input, complex128 for float64)."""
    _check("linalg.eig", A)
    return return_types.linalg_eig(LinalgEig.apply(A))


def eigvals(A: Tensor) -> Tensor:
    _check("linalg.eigvals", A)
    return LinalgEig.apply(A)[0]


