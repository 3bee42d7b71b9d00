"""QR and Householder reflectors: linalg.qr, torch.geqrf, linalg.householder_product
(torch.orgqr), torch.ormqr; and LDL^T (linalg.ldl_factor(_ex), ldl_solve), which PyTorch does
not differentiate.

qr's backward is PyTorch's (square and tall through a triangular solve; wide through its square
part). householder_product's and ormqr's differentiate the product H_1 ... H_k of the
reflectors H_i = I - tau_i v_i v_i^T in recorded ops, so they are differentiable again.
"""

from __future__ import annotations

from typing import Any

from .. import return_types
from ..batching.dispatch import all_examples
from ..function import Function
from ..grad_mode import state as _grad_state
from ..jvp_rules import jvp_from_backward
from ..saved_fields import fields, saved, value
from ..tensor import Tensor, _wrap
from ._checks import scalar_type_name
from .complex import conj, real
from .decompositions import _check_float, _check_square, _mh
from .diagonal import diag_embed, diagonal, tril
from .joining import cat, stack
from .triangular import solve_triangular


# ----------------------------------------------------------------------------- qr
class LinalgQr(Function):
    node_name = "LinalgQrBackward0"
    saved_fields = fields(Q=saved(1), R=saved(2), mode=value("mode"))
    jvp = jvp_from_backward

    @staticmethod
    def forward(ctx: Any, a: Any, *, mode: str) -> Any:
        backend = ctx.backend
        ctx.mode = mode
        q, r = backend.qr_complete(a) if mode == "complete" else backend.qr(a)
        ctx.save_for_backward(a, q, r)
        if mode == "r":
            q = backend.zeros((0,), backend.dtype_name(a))
        return q, r

    @staticmethod
    def backward(ctx: Any, grad_q: Tensor, grad_r: Tensor) -> Tensor:
        a, q, r = ctx.saved_tensors
        m, n = a.shape[-2], a.shape[-1]
        if ctx.mode == "r":
            raise RuntimeError(
                "The derivative of linalg.qr depends on Q, which is not computed when "
                "mode='r'. Please use linalg.qr(A, mode='reduced') if you are going to "
                "differentiate through linalg.qr.")
        if ctx.mode == "complete" and m > n:
            raise RuntimeError(
                "The QR decomposition is not differentiable when mode='complete' and "
                "nrows > ncols.")
        if m >= n:
            return _qr_backward_tall(grad_q, grad_r, q, r)
        # wide: A = [X Y], R = [U V]: Y = Q V.
        y = a[..., m:]
        grad_v = grad_r[..., m:]
        grad_x = _qr_backward_tall(grad_q + y @ _mh(grad_v), grad_r[..., :m], q, r[..., :m])
        return cat([grad_x, q @ grad_v], -1)


def _qr_backward_tall(grad_q: Tensor, grad_r: Tensor, q: Tensor, r: Tensor) -> Tensor:
    """gA = (gQ + Q copyltu(M)) R^-H, M = R gR^H - gQ^H Q, copyltu the Hermitian matrix with
    M's strict lower triangle and the real part of its diagonal."""
    m = r @ _mh(grad_r) - _mh(grad_q) @ q
    strict = tril(m, -1)
    hermitian = strict + _mh(strict) + diag_embed(real(diagonal(m, 0, -2, -1)))
    return solve_triangular(_mh(r), grad_q + q @ hermitian, upper=False, left=False)


def qr(A: Tensor, mode: str = "reduced") -> Any:
    """Q, R with A = Q R: mode 'reduced' (Q m x k), 'complete' (Q m x m) or 'r' (Q empty)."""
    if A._data.ndim < 2:
        raise RuntimeError("linalg.qr: The input tensor A must have at least 2 dimensions.")
    _check_float("linalg.qr", A, complex_ok=True, kernel="geqrf")
    if mode not in ("reduced", "complete", "r"):
        raise RuntimeError(
            f"qr received unrecognized mode '{mode}' but expected one of 'reduced' (default), "
            "'r', or 'complete'")
    return return_types.linalg_qr(LinalgQr.apply(A, mode=mode))


def torch_qr(input: Tensor, some: bool = True) -> Any:
    """torch.qr: linalg.qr with mode 'reduced' (some=True) or 'complete'."""
    return return_types.qr(qr(input, "reduced" if some else "complete"))


# ----------------------------------------------------------------------------- reflectors
def _reflectors(a: Tensor, k: int) -> list[Tensor]:
    """v_i (..., m, 1): 1 at i, a's column i below it, 0 above."""
    backend = a._backend
    m = a.shape[-2]
    name = backend.dtype_name(a._data)
    below = tril(a, -1)
    vectors = []
    for i in range(k):
        unit = backend.zeros((m, 1), name)
        unit = backend.where(backend.equal(backend.expand_dims(backend.arange(0, m, 1, "int64"),
                                                               axis=1), i),
                             backend.ones_like(unit), unit)
        vectors.append(below[..., :, i:i + 1] + _wrap(unit, backend))
    return vectors


def _householder_vjp(a: Tensor, tau: Tensor, grad: Tensor) -> tuple[Tensor, Tensor]:
    """The gradients of a and tau for Q = H_1 ... H_k E (E the first grad.shape[-1] columns
    of the identity) against grad, in recorded ops."""
    backend = a._backend
    m, columns = a.shape[-2], grad.shape[-1]
    k = tau.shape[-1]
    name = backend.dtype_name(a._data)
    vectors = _reflectors(a, k)
    eye = _wrap(backend.eye(m, None, name), backend)

    def reflector(i: int) -> Tensor:
        return eye - tau[..., i:i + 1].unsqueeze(-1) * (vectors[i] @ _mh(vectors[i]))

    suffixes: list[Tensor] = [_wrap(backend.eye(m, columns, name), backend)] * (k + 1)
    for i in range(k - 1, -1, -1):  # suffixes[i] = H_(i+1) ... H_k E (0-based: H_i+1.. )
        suffixes[i] = reflector(i) @ suffixes[i + 1]
    prefix = eye
    grad_vectors: list[Tensor] = []
    grad_taus: list[Tensor] = []
    mask_rows = backend.expand_dims(backend.arange(0, m, 1, "int64"), axis=1)
    for i in range(k):
        grad_h = _mh(prefix) @ grad @ _mh(suffixes[i + 1])
        v = vectors[i]
        # H = I - tau v v^H: PyTorch's convention gives g_tau = -v^H gH v and
        # g_v = -(conj(tau) gH + tau gH^H) v (for real tensors, -tau (gH + gH^T) v).
        scale = tau[..., i:i + 1].unsqueeze(-1)
        grad_taus.append(-(_mh(v) @ grad_h @ v).squeeze(-1))
        grad_v = -(conj(scale) * (grad_h @ v) + scale * (_mh(grad_h) @ v))
        below = _wrap(backend.astype(backend.greater(mask_rows, i), name), backend)
        grad_vectors.append((grad_v * below).squeeze(-1))
        prefix = prefix @ reflector(i)
    zeros = a[..., :, 0] * 0
    n = a.shape[-1]
    grad_a = stack(grad_vectors + [zeros] * (n - k), -1) if n else a * 0
    grad_tau = cat(grad_taus, -1) if k else tau * 0
    return grad_a, grad_tau


class LinalgHouseholderProduct(Function):
    node_name = "LinalgHouseholderProductBackward0"
    saved_fields = fields(input=saved(0), tau=saved(1), result=saved(2))
    jvp = jvp_from_backward

    @staticmethod
    def forward(ctx: Any, a: Any, tau: Any) -> Any:
        out = ctx.backend.householder_product(a, tau)
        ctx.save_for_backward(a, tau, out)
        return out

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> tuple[Tensor, Tensor]:
        a, tau, _ = ctx.saved_tensors
        return _householder_vjp(a, tau, grad)


def householder_product(A: Tensor, tau: Tensor) -> Tensor:
    """The first n columns of H_1 ... H_k, H_i = I - tau_i v_i v_i^T, v_i the i-th column of A
    below the diagonal with a 1 on it (the Q of geqrf's output)."""
    name = "torch.linalg.householder_product"
    if A._data.ndim < 2:
        raise RuntimeError(f"{name}: input must have at least 2 dimensions.")
    if A.shape[-2] < A.shape[-1]:
        raise RuntimeError(f"{name}: input.shape[-2] must be greater than or equal to "
                           "input.shape[-1]")
    if A.shape[-1] < tau.shape[-1]:
        raise RuntimeError(f"{name}: input.shape[-1] must be greater than or equal to "
                           "tau.shape[-1]")
    if tau._data.ndim != A._data.ndim - 1:
        raise RuntimeError(f"{name}: Expected tau to have one dimension less than input, but "
                           f"got tau.ndim equal to {tau._data.ndim} and input.ndim is equal to "
                           f"{A._data.ndim}")
    _check_float(name, A, complex_ok=True, kernel="orgqr", every_dtype=True)
    return LinalgHouseholderProduct.apply(A, tau)


orgqr = householder_product


class Geqrf(Function):
    node_name = "GeqrfBackward0"

    @staticmethod
    def forward(ctx: Any, a: Any) -> Any:
        return ctx.backend.geqrf(a)

    @staticmethod
    def backward(ctx: Any, grad_a: Tensor, grad_tau: Tensor) -> Tensor:
        raise RuntimeError("the derivative for 'geqrf' is not implemented.")


def geqrf(input: Tensor) -> Any:
    """LAPACK's geqrf: R on and above the diagonal, the Householder vectors below it, and the
    scales tau (householder_product(a, tau) is Q)."""
    if input._data.ndim < 2:
        raise RuntimeError("torch.geqrf: input must have at least 2 dimensions.")
    _check_float("torch.geqrf", input, complex_ok=True, kernel="geqrf", every_dtype=True)
    if input.dtype.is_complex and input.requires_grad and _grad_state.enabled:
        # PyTorch's check for an op without a derivative, made when it records the node
        raise RuntimeError("geqrf does not support automatic differentiation for outputs with "
                           "complex dtype.")
    return return_types.geqrf(Geqrf.apply(input))


class Ormqr(Function):
    node_name = "OrmqrBackward0"
    saved_fields = fields(self=saved(0), input2=saved(1), input3=saved(2), result=saved(3),
                          left=value("options", lambda options: options[0]),
                          transpose=value("options", lambda options: options[1]))

    @staticmethod
    def forward(ctx: Any, a: Any, tau: Any, c: Any, *, left: bool, transpose: bool) -> Any:
        ctx.options = (left, transpose)
        out = ctx.backend.ormqr(a, tau, c, left, transpose)
        ctx.save_for_backward(a, tau, c, out)
        return out

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> tuple[Tensor | None, Tensor | None, Tensor | None]:
        a, tau, c, _ = ctx.saved_tensors
        left, transpose = ctx.options
        needs_a, needs_tau, needs_c = ctx.needs_input_grad
        grad_c = None
        if needs_c:  # op(Q)^T grad or grad op(Q)^T
            grad_c = Ormqr.apply(a, tau, grad, left=left, transpose=not transpose)
        grad_a = grad_tau = None
        if needs_a or needs_tau:
            if left:
                grad_q = c @ _mh(grad) if transpose else grad @ _mh(c)
            else:
                grad_q = _mh(grad) @ c if transpose else _mh(c) @ grad
            grad_a, grad_tau = _householder_vjp(a, tau, grad_q)
        return grad_a, grad_tau, grad_c


def ormqr(input: Tensor, tau: Tensor, other: Tensor, left: bool = True,
          transpose: bool = False) -> Tensor:
    """op(Q) other (left) or other op(Q), Q = H_1 ... H_k from geqrf's (input, tau), op(Q) =
    Q or Q^T."""
    if input._data.ndim < 2 or other._data.ndim < 2:
        raise RuntimeError("torch.ormqr: input must have at least 2 dimensions.")
    m = other.shape[-2] if left else other.shape[-1]
    if input.shape[-2] != m:
        raise RuntimeError(
            f"torch.ormqr: other.shape[{-2 if left else -1}] must be equal to input.shape[-2]")
    if tau.shape[-1] > input.shape[-1]:
        raise RuntimeError("torch.ormqr: tau.shape[-1] must be less than or equal to "
                           "input.shape[-1]")
    _check_float("torch.ormqr", input, complex_ok=True, kernel="ormqr", every_dtype=True)
    return Ormqr.apply(input, tau, other, left=left, transpose=transpose)


# ----------------------------------------------------------------------------- LDL^T
class LinalgLdlFactorEx(Function):
    node_name = "torch::autograd::NotImplemented"

    @staticmethod
    def forward(ctx: Any, a: Any, *, hermitian: bool) -> Any:
        ld, pivots, info = ctx.backend.ldl_factor(a, hermitian)
        ctx.mark_non_differentiable(pivots, info)
        return ld, pivots, info

    @staticmethod
    def backward(ctx: Any, *grads: Any) -> Any:
        raise RuntimeError("derivative for aten::linalg_ldl_factor_ex is not implemented")


def ldl_factor_ex(A: Tensor, *, hermitian: bool = False, check_errors: bool = False
                  ) -> Any:
    """(LD, pivots, info): LAPACK sytrf's compact L D L^T of a symmetric A (lower triangle)
    and its pivots (1-based; negative for 2 x 2 blocks); for complex A, hetrf's L D L^H where
    `hermitian`, else sytrf's complex-symmetric L D L^T."""
    _check_square("torch.linalg.ldl_factor_ex", A, complex_ok=True, kernel="ldl_factor_kernel")
    ld, pivots, info = LinalgLdlFactorEx.apply(A, hermitian=hermitian)
    if check_errors:
        examples = all_examples(info)  # every example's inside vmap
        for index, value in enumerate(examples.reshape(-1).tolist()):
            if value > 0:
                where = f"(Batch element {index}): " if A.ndim > 2 or examples is not info \
                    else ""
                raise RuntimeError(
                    f"torch.linalg.ldl_factor_ex: {where}The factorization could not be "
                    f"completed because the input is not invertible (D[{value},{value}] is "
                    "zero).")
    return return_types.linalg_ldl_factor_ex((ld, pivots, info))


def ldl_factor(A: Tensor, *, hermitian: bool = False) -> Any:
    ld, pivots, _ = ldl_factor_ex(A, hermitian=hermitian, check_errors=False)
    return return_types.linalg_ldl_factor((ld, pivots))


class LinalgLdlSolve(Function):
    node_name = "torch::autograd::NotImplemented"

    @staticmethod
    def forward(ctx: Any, ld: Any, pivots: Any, b: Any, *, hermitian: bool) -> Any:
        return ctx.backend.ldl_solve(ld, pivots, b, hermitian)

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> Any:
        raise RuntimeError("derivative for aten::linalg_ldl_solve is not implemented")


def ldl_solve(LD: Tensor, pivots: Tensor, B: Tensor, *, hermitian: bool = False) -> Tensor:
    """X with A X = B from ldl_factor's (LD, pivots)."""
    _check_square("torch.linalg.ldl_solve", LD, complex_ok=True, kernel="ldl_solve_kernel")
    if B.dtype is not LD.dtype:  # before B's shape is read, as PyTorch checks
        raise RuntimeError(
            f"Expected b and A to have the same dtype, but found b of type "
            f"{scalar_type_name(B)} and A of type {scalar_type_name(LD)} instead.")
    if B._data.ndim < 2:
        raise RuntimeError("torch.linalg.ldl_solve: B must have at least 2 dimensions")
    if B.shape[-2] != LD.shape[-1]:
        raise RuntimeError(
            "torch.linalg.ldl_solve: Incompatible shapes of A and B for the equation AX = B "
            f"({LD.shape[-2]}x{LD.shape[-1]} and {B.shape[-2]}x{B.shape[-1]})")
    return LinalgLdlSolve.apply(LD, pivots, B, hermitian=hermitian)

