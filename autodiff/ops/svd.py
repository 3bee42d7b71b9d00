"""The singular value decomposition and what is computed from it: linalg.svd, svdvals, pinv,
matrix_rank, cond; torch.svd (its legacy `some`/`compute_uv`) and torch.pinverse.

svd's backward is PyTorch's svd_backward written in recorded ops, so it is differentiable again.
As in PyTorch, a loss that depends on the singular vectors of a matrix with repeated singular
values gets infinities or NaNs (the gradient divides by s_j^2 - s_i^2), and full_matrices=True
differentiates only the first min(m, n) singular vectors.
"""

from __future__ import annotations

import math
from typing import Any

from .. import dtypes, return_types
from ..batching.dispatch import all_examples, function_rule
from ..function import Function
from ..grad_mode import state as _grad_state
from ..jvp_rules import jvp_from_backward
from ..saved_fields import fields, saved, value
from ..tensor import Tensor, _wrap
from .complex import imag
from .decompositions import _check_float, _mh
from .diagonal import diag_embed, diagonal


def _check_matrix(function: str, A: Tensor) -> None:
    if A._data.ndim < 2:
        raise RuntimeError(f"{function}: The input tensor A must have at least 2 dimensions.")
    _check_float(function, A, complex_ok=True, kernel="linalg_svd")


def _eye(like: Tensor, n: int) -> Tensor:
    backend = like._backend
    return _wrap(backend.eye(n, None, backend.dtype_name(like._data)), backend)


class LinalgSvd(Function):
    node_name = "LinalgSvdBackward0"
    saved_fields = fields(U=saved(0), S=saved(1), Vh=saved(2),
                          full_matrices=value("full_matrices"),
                          S_sym_argsize_minus_1=value("rank_size"))
    jvp = jvp_from_backward

    @staticmethod
    def forward(ctx: Any, a: Any, *, full_matrices: bool) -> Any:
        ctx.set_materialize_grads(False)
        u, s, vh = ctx.backend.svd_full(a, full_matrices)
        ctx.full_matrices, ctx.rank_size = full_matrices, min(a.shape[-2:])
        ctx.save_for_backward(u, s, vh)
        return u, s, vh

    @staticmethod
    def backward(ctx: Any, grad_u: Tensor | None, grad_s: Tensor | None,
                 grad_vh: Tensor | None) -> Tensor | None:
        u, s, vh = ctx.saved_tensors
        return svd_backward(grad_u, grad_s, grad_vh, u, s, vh)


def svd_backward(gu: Tensor | None, gs: Tensor | None, gvh: Tensor | None, u: Tensor,
                 s: Tensor, vh: Tensor) -> Tensor | None:
    """PyTorch's svd_backward: the gradient of A = U diag(S) Vh (real or complex; for complex
    A, a loss that depends on the phases of the singular vectors raises PyTorch's error)."""
    if gu is None and gs is None and gvh is None:
        return None
    m, n = u.shape[-2], vh.shape[-1]
    k = s.shape[-1]
    if gu is None and gvh is None:
        assert gs is not None
        return (u[..., :k] * gs.unsqueeze(-2)) @ vh[..., :k, :]
    u, vh = u[..., :k], vh[..., :k, :]
    if gu is not None:
        gu = gu[..., :k]
    if gvh is not None:
        gvh = gvh[..., :k, :]
    uhgu = _skew(_mh(u) @ gu) if gu is not None else None
    vhgv = _skew(vh @ _mh(gvh)) if gvh is not None else None
    complex_input = u.dtype.is_complex
    if complex_input:
        # Im diag(U^H gU) + Im diag(V^H gV) = 0 for a loss invariant under U -> U e^{i phi},
        # V -> V e^{i phi}; PyTorch's tolerance.
        zeros = s * 0
        im_u = imag(diagonal(uhgu, 0, -2, -1)) if uhgu is not None else zeros
        im_v = imag(diagonal(vhgv, 0, -2, -1)) if vhgv is not None else zeros
        if not bool(all_examples((im_u + im_v).abs() <= 1e-2 + 1e-2 * im_v.abs()).all()):
            raise RuntimeError(
                "svd_backward: The singular vectors in the complex case are specified up to "
                "multiplication by e^{i phi}. The specified loss function depends on this phase "
                "term, making it ill-defined.")
    s2 = s * s
    e = s2.unsqueeze(-2) - s2.unsqueeze(-1) + _eye(s, k)
    if uhgu is not None and vhgv is not None:
        ga = (uhgu * s.unsqueeze(-2) + s.unsqueeze(-1) * vhgv) / e
    elif uhgu is not None:
        ga = (uhgu / e) * s.unsqueeze(-2)
    else:
        assert vhgv is not None
        ga = s.unsqueeze(-1) * (vhgv / e)
    if gs is not None:
        ga = ga + diag_embed(gs)
    if complex_input and uhgu is not None and vhgv is not None:
        ga = ga + diag_embed(diagonal(uhgu, 0, -2, -1) / (2 * s))
    if m > n and gu is not None:
        ga = u @ ga
        gu_sinv = gu / s.unsqueeze(-2)
        ga = ga + gu_sinv - u @ (_mh(u) @ gu_sinv)
        return ga @ vh
    if m < n and gvh is not None:
        ga = ga @ vh
        sinv_gvh = gvh / s.unsqueeze(-1)
        ga = ga + sinv_gvh - (sinv_gvh @ _mh(vh)) @ vh
        return u @ ga
    return u @ ga @ vh


def _skew(a: Tensor) -> Tensor:
    return a - _mh(a)


def svd(A: Tensor, full_matrices: bool = True, *, driver: str | None = None) -> Any:
    """U, S, Vh with A = U diag(S) Vh; S descending. full_matrices=True gives square U and Vh."""
    _check_matrix("linalg.svd", A)
    if driver is not None:
        raise RuntimeError("torch.linalg.svd: keyword argument `driver=` is only supported on "
                           "CUDA inputs with cuSOLVER backend.")
    return return_types.linalg_svd(LinalgSvd.apply(A, full_matrices=full_matrices))


def svdvals(A: Tensor, *, driver: str | None = None) -> Tensor:
    """The singular values of each matrix, descending."""
    _check_matrix("linalg.svd", A)
    if driver is not None:
        raise RuntimeError("torch.linalg.svd: keyword argument `driver=` is only supported on "
                           "CUDA inputs with cuSOLVER backend.")
    if not ((A.requires_grad and _grad_state.enabled) or A._fw_grads
            or getattr(A, "_batched", False)):
        # Nothing to differentiate: the singular values alone (no U, V), as PyTorch does
        return _wrap(A._backend.svdvals(A._data), A._backend)
    return LinalgSvd.apply(A, full_matrices=False)[1]


def torch_svd(input: Tensor, some: bool = True, compute_uv: bool = True) -> Any:
    """torch.svd: U, S, V (not Vh); some=False gives square U and V; compute_uv=False gives
    zero-filled U and V of the full shapes (as PyTorch)."""
    if input._data.ndim < 2:
        raise RuntimeError("linalg.svd: input should have at least 2 dimensions, but has "
                           f"{input._data.ndim} dimensions instead")
    _check_matrix("linalg.svd", input)
    u, s, vh = LinalgSvd.apply(input, full_matrices=not some)
    if not compute_uv:
        m, n = input.shape[-2:]
        batch = tuple(input.shape[:-2])
        backend = input._backend
        name = backend.dtype_name(input._data)
        zeros_u = _wrap(backend.zeros((*batch, m, m), name), backend)
        zeros_v = _wrap(backend.zeros((*batch, n, n), name), backend)
        return return_types.svd((zeros_u, s, zeros_v))
    return return_types.svd((u, s, _mh(vh)))


# ----------------------------------------------------------------------------- pinv
class LinalgPinv(Function):
    node_name = "LinalgPinvBackward0"
    saved_fields = fields(self=saved(0), result=saved(1))
    jvp = jvp_from_backward

    @staticmethod
    def forward(ctx: Any, a: Any, atol: Any, rtol: Any, *, hermitian: bool) -> Any:
        backend = ctx.backend
        name = backend.dtype_name(a)
        if hermitian:
            w, v = backend.eigh(a)
            magnitude = backend.abs(w)
            largest = backend.max(magnitude, axis=w.ndim - 1, keepdims=True) if w.shape[-1] \
                else backend.zeros((*w.shape[:-1], 1), name)
            keep = backend.greater(magnitude, _cutoff(backend, largest, atol, rtol))
            inverse = backend.where(keep, backend.divide(backend.ones_like(w),
                                                         backend.where(keep, w, 1.0)), 0.0)
            vh = _adjoint(backend, v)
            out = backend.matmul(backend.multiply(v, backend.expand_dims(inverse, axis=w.ndim - 1)),
                                 vh)
        else:
            u, s, vh = backend.svd(a)
            largest = backend.getitem(s, (..., slice(0, 1))) if s.shape[-1] \
                else backend.zeros((*s.shape[:-1], 1), name)
            keep = backend.greater(s, _cutoff(backend, largest, atol, rtol))
            inverse = backend.where(keep, backend.divide(backend.ones_like(s),
                                                         backend.where(keep, s, 1.0)), 0.0)
            scaled = backend.multiply(_adjoint(backend, vh),
                                      backend.expand_dims(inverse, axis=s.ndim - 1))
            out = backend.matmul(scaled, _adjoint(backend, u))
        ctx.save_for_backward(a, out)
        return out

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> tuple[Tensor, None, None]:
        a, pinv_a = ctx.saved_tensors
        return pinv_backward(grad, pinv_a, a), None, None


def _cutoff(backend: Any, largest: Any, atol: Any, rtol: Any) -> Any:
    """max(atol, rtol * largest), atol and rtol arrays (broadcast against the batch)."""
    scaled = backend.multiply(largest, backend.expand_dims(rtol, axis=rtol.ndim))
    return backend.maximum(backend.expand_dims(atol, axis=atol.ndim), scaled)


def _adjoint(backend: Any, array: Any) -> Any:
    """The conjugate transpose of each matrix."""
    axes = tuple(range(array.ndim))
    out = backend.permute_dims(array, (*axes[:-2], axes[-1], axes[-2]))
    return backend.conj(out) if backend.is_complex(out.dtype) else out


def pinv_backward(grad: Tensor, pinv_a: Tensor, a: Tensor) -> Tensor:
    """PyTorch's pinv_backward: the gradient of A^+ (exact where the rank does not change)."""
    m, n = a.shape[-2], a.shape[-1]
    pinv_ah = _mh(pinv_a)
    gradh = _mh(grad)
    if m <= n:
        k = gradh @ pinv_a
        k_pinv_ah = k @ pinv_ah
        return (-_mh(pinv_a @ k) + k_pinv_ah - (a @ pinv_a) @ k_pinv_ah
                + (pinv_ah @ pinv_a) @ (gradh - k @ a))
    k = pinv_a @ gradh
    pinv_ah_k = pinv_ah @ k
    return (-_mh(k @ pinv_a) + (gradh - a @ k) @ pinv_a @ pinv_ah + pinv_ah_k
            - pinv_ah_k @ pinv_a @ a)


def _tolerances(A: Tensor, atol: Any, rtol: Any) -> tuple[Tensor, Tensor]:
    """atol and rtol as real tensors on A's device, with PyTorch's defaults: rtol is
    eps * max(m, n) when neither is given, 0 when only atol is."""
    backend = A._backend
    real = "float64" if backend.dtype_name(A._data) in ("float64", "complex128") else "float32"

    def value(tol: Any, default: float) -> Tensor:
        if tol is None:
            return _wrap(backend.full((), default, real), backend)
        if isinstance(tol, Tensor):
            return tol.to(dtypes.BY_NAME[real])
        return _wrap(backend.full((), float(tol), real), backend)

    eps = 2.220446049250313e-16 if real == "float64" else 1.1920928955078125e-07
    default_rtol = eps * max(A.shape[-2], A.shape[-1]) if atol is None else 0.0
    atol_t = value(atol, 0.0)
    rtol_t = value(rtol, default_rtol)
    return atol_t.detach(), rtol_t.detach()


def pinv(A: Tensor, *, atol: Any = None, rtol: Any = None, hermitian: bool = False) -> Tensor:
    """The Moore-Penrose pseudo-inverse; singular values at most max(atol, rtol * s_max) are
    treated as zero."""
    _check_pinv(A)
    atol_t, rtol_t = _tolerances(A, atol, rtol)
    if hermitian and A.shape[-1] != A.shape[-2]:
        raise RuntimeError(
            f"linalg.eigh: A must be batches of square matrices, but they are {A.shape[-2]} by "
            f"{A.shape[-1]} matrices")
    return LinalgPinv.apply(A, atol_t, rtol_t, hermitian=hermitian)


def _check_pinv(A: Tensor) -> None:
    name = A._backend.dtype_name(A._data)
    if A._data.ndim < 2 or name not in ("float32", "float64", "complex64", "complex128"):
        shape = ", ".join(str(size) for size in A.shape)
        raise RuntimeError(
            f"linalg.pinv({dtypes.SCALAR_TYPE_NAMES[name]}{{[{shape}]}}): expected a tensor "
            "with 2 or more dimensions of float, double, cfloat or cdouble types")


def _check_double_or_float(A: Tensor) -> None:
    """The dtype check of PyTorch's matrix_rank and lstsq (complex passes too)."""
    if A._backend.dtype_name(A._data) not in ("float32", "float64", "complex64", "complex128"):
        raise RuntimeError("This function doesn't handle types other than float and double")


def pinverse(input: Tensor, rcond: float = 1e-15) -> Tensor:
    """torch.pinverse: linalg.pinv with rtol=rcond."""
    return pinv(input, rtol=rcond)


# ----------------------------------------------------------------------------- rank, cond
@function_rule("matrix_rank")
def matrix_rank(A: Tensor, tol: Any = None, hermitian: bool = False, *, atol: Any = None,
                rtol: Any = None) -> Tensor:
    """The number of singular values above max(atol, rtol * s_max), as int64."""
    _check_double_or_float(A)
    if A._data.ndim < 2:
        raise RuntimeError(
            "torch.linalg.matrix_rank: The input tensor input must have at least 2 dimensions.")
    if tol is not None:
        if atol is not None or rtol is not None:
            raise RuntimeError("linalg.matrix_rank: tol cannot be used with atol or rtol")
        atol, rtol = tol, 0.0
    atol_t, rtol_t = _tolerances(A, atol, rtol)
    backend = A._backend
    data = A._data
    values = backend.abs(backend.eigh(data)[0]) if hermitian else backend.svdvals(data)
    if values.shape[-1] == 0:
        count = backend.zeros(values.shape[:-1], "int64")
    else:
        largest = backend.max(values, axis=values.ndim - 1, keepdims=True)
        keep = backend.greater(values, _cutoff(backend, largest, atol_t._data, rtol_t._data))
        count = backend.sum(backend.astype(keep, "int64"), axis=values.ndim - 1)
    return _wrap(count, backend)


def cond(A: Tensor, p: Any = None) -> Tensor:
    """The condition number in the norm p (None and 2: s_max / s_min; -2: s_min / s_max;
    'fro', 'nuc', inf, -inf, 1, -1: norm(A) norm(A^-1))."""
    from .norm import matrix_norm

    if p is None or p in (2, -2):
        if A._data.ndim < 2:
            raise RuntimeError("linalg.cond: The input tensor must have at least 2 dimensions.")
        s = svdvals(A)
        if p == -2:
            return (s[..., -1:] / s[..., :1]).squeeze(-1)
        return (s[..., :1] / s[..., -1:]).squeeze(-1)
    if A._data.ndim < 2:
        raise RuntimeError(
            f"linalg.cond(ord={p}): The input tensor A must have at least 2 dimensions.")
    if A.shape[-1] != A.shape[-2]:
        raise RuntimeError(
            f"linalg.cond(ord={p}): A must be batches of square matrices, but they are "
            f"{A.shape[-2]} by {A.shape[-1]} matrices")
    from .matrix_functions import inv_ex
    from .selection import where
    inverse, info = inv_ex(A)
    # A singular matrix has an infinite condition number (its "inverse" filled with inf).
    inverse = where((info > 0).unsqueeze(-1).unsqueeze(-1), math.inf, inverse)
    result = matrix_norm(A, p) * matrix_norm(inverse, p)
    if p == "nuc":
        return result
    # 0 * inf (a zero matrix) is inf, as NumPy's (PyTorch leaves 'nuc' alone)
    from .floating import nan_to_num
    return nan_to_num(result, math.inf, math.inf, -math.inf)
