"""LU factorization with partial pivoting: linalg.lu_factor(_ex), linalg.lu, lu_unpack,
linalg.lu_solve; torch.lu and torch.lu_solve (their older argument orders).

Pivots are LAPACK's (getrf): 1-based int32 row swaps. The backwards are PyTorch's (square,
wide and tall matrices) written with triangular solves, so they are differentiable again.
"""

from __future__ import annotations

from typing import Any

from backends import broadcast_shapes

from .. import return_types
from ..batching.dispatch import all_examples
from ..function import Function
from ..jvp_rules import jvp_from_backward
from ..saved_fields import constant, fields, saved, value
from ..tensor import Tensor, _wrap
from .decompositions import _check_float, _mh, _transpose
from .diagonal import tril, triu
from .triangular import solve_triangular


def _check(function: str, A: Tensor, kernel: str = "lu", every_dtype: bool = True) -> None:
    if A._data.ndim < 2:
        if kernel == "lu":
            raise RuntimeError(f"{function}: Expected tensor with 2 or more dimensions. Got size: "
                               f"{list(A.shape)} instead")
        raise RuntimeError(f"{function}: The input tensor A must have at least 2 dimensions.")
    _check_float(function, A, complex_ok=True, kernel=kernel, every_dtype=every_dtype)


def _adjoint(backend: Any, array: Any) -> Any:
    out = _transpose(backend, array)
    return backend.conj(out) if backend.is_complex(out.dtype) else out


def _eye(like: Tensor, rows: int, cols: int) -> Tensor:
    backend = like._backend
    return _wrap(backend.eye(rows, cols, backend.dtype_name(like._data)), backend)


def _unpack(lu: Tensor) -> tuple[Tensor, Tensor]:
    """L (unit lower, m x k) and U (upper, k x n) of a packed LU, in recorded ops."""
    m, n = lu.shape[-2], lu.shape[-1]
    k = min(m, n)
    lower = tril(lu[..., :, :k], -1) + _eye(lu, m, k)
    upper = triu(lu[..., :k, :])
    return lower, upper


def lu_factor_backward(grad_lu: Tensor, lu: Tensor, pivots: Tensor) -> Tensor:
    """PyTorch's lu_factor_ex_backward: linalg_lu_backward with gL = tril(gLU, -1) and
    gU = triu(gLU)."""
    lower, upper = _unpack(lu)
    k = min(lu.shape[-2], lu.shape[-1])
    return lu_backward(tril(grad_lu[..., :, :k], -1), triu(grad_lu[..., :k, :]),
                       _permutation(lu, pivots), lower, upper)


def lu_backward(grad_l: Tensor, grad_u: Tensor, permutation: Tensor, lower: Tensor,
                upper: Tensor) -> Tensor:
    """PyTorch's linalg_lu_backward: the gradient of A = P L U (square, wide and tall)."""
    m, k = lower.shape[-2], lower.shape[-1]
    n = upper.shape[-1]
    if m == n:
        phi = tril(_mh(lower) @ grad_l, -1) + triu(grad_u @ _mh(upper))
        x = solve_triangular(_mh(lower), phi, upper=True, unitriangular=True)
        return permutation @ solve_triangular(_mh(upper), x, upper=False, left=False)
    if m < n:  # wide: U = [U1 U2]
        u1, u2 = upper[..., :k], upper[..., k:]
        gu1, gu2 = grad_u[..., :k], grad_u[..., k:]
        phi = tril(_mh(lower) @ grad_l - gu2 @ _mh(u2), -1) + triu(gu1 @ _mh(u1))
        x1 = solve_triangular(_mh(lower), phi, upper=True, unitriangular=True)
        g1 = solve_triangular(_mh(u1), x1, upper=False, left=False)
        g2 = solve_triangular(_mh(lower), gu2, upper=True, unitriangular=True)
        return permutation @ _cat_last(g1, g2)
    # tall: L = [L1; L2]
    l1, l2 = lower[..., :k, :], lower[..., k:, :]
    gl1, gl2 = grad_l[..., :k, :], grad_l[..., k:, :]
    phi = tril(_mh(l1) @ gl1, -1) + triu(grad_u @ _mh(upper) - _mh(l2) @ gl2)
    x1 = solve_triangular(_mh(l1), phi, upper=True, unitriangular=True)
    g1 = solve_triangular(_mh(upper), x1, upper=False, left=False)
    g2 = solve_triangular(_mh(upper), gl2, upper=False, left=False)
    return permutation @ _cat_rows(g1, g2)


def lu_unpack_backward(grad_l: Tensor, grad_u: Tensor, m: int, n: int) -> Tensor:
    """PyTorch's lu_unpack_backward: the gradient of the packed LU (m x n) from those of L
    (its strict lower part) and U (its upper part)."""
    k = min(m, n)
    if m == n:
        return tril(grad_l, -1) + triu(grad_u)
    if m < n:
        return _cat_last(tril(grad_l, -1) + triu(grad_u[..., :k]), grad_u[..., k:])
    return _cat_rows(tril(grad_l[..., :k, :], -1) + triu(grad_u), grad_l[..., k:, :])


def _unpack_arrays(backend: Any, lu: Any, pivots: Any | None) -> tuple[Any, Any, Any | None]:
    """L, U and (with pivots) P of a packed LU, on arrays."""
    m, n = lu.shape[-2], lu.shape[-1]
    k = min(m, n)
    dtype = backend.dtype_name(lu)
    row = backend.reshape(backend.arange(0, m, 1, "int64"), (m, 1))
    col = backend.reshape(backend.arange(0, n, 1, "int64"), (1, n))
    zeros = backend.zeros_like(lu)
    strict_lower = backend.where(backend.greater(row, col), lu, zeros)[..., :, :k]
    lower = backend.add(strict_lower, backend.eye(m, k, dtype))
    upper = backend.where(backend.less_equal(row, col), lu, zeros)[..., :k, :]
    if pivots is None:
        return lower, upper, None
    return lower, upper, _permutation_array(backend, pivots, m, dtype)


def _cat_last(a: Tensor, b: Tensor) -> Tensor:
    from .joining import cat
    return cat([a, b], -1)


def _cat_rows(a: Tensor, b: Tensor) -> Tensor:
    from .joining import cat
    return cat([a, b], -2)


def _permutation(lu: Tensor, pivots: Tensor) -> Tensor:
    """P (m x m, a constant) with A = P L U."""
    backend = lu._backend
    return _wrap(_permutation_array(backend, pivots._data, lu.shape[-2],
                                    backend.dtype_name(lu._data)), backend)


def _permutation_array(backend: Any, pivots: Any, m: int, dtype: str) -> Any:
    order = backend.lu_permutation(pivots, m)  # row i of P^T A is row order[i] of A
    index = backend.arange(0, m, 1, "int64")
    rows = backend.expand_dims(order, axis=order.ndim)  # (..., m, 1)
    onehot = backend.equal(rows, index)  # [i, j] = (order[i] == j): P^T
    return _transpose(backend, backend.astype(onehot, dtype))


class LinalgLuFactorEx(Function):
    node_name = "LinalgLuFactorExBackward0"
    saved_fields = fields(LU=saved(0), pivots=saved(1), pivot=constant(True))
    jvp = jvp_from_backward

    @staticmethod
    def forward(ctx: Any, a: Any) -> Any:
        lu, pivots, info = ctx.backend.lu_factor(a)
        ctx.mark_non_differentiable(pivots, info)
        ctx.save_for_backward(lu, pivots)
        return lu, pivots, info

    @staticmethod
    def backward(ctx: Any, grad_lu: Tensor, grad_pivots: Any, grad_info: Any) -> Tensor:
        lu, pivots = ctx.saved_tensors
        return lu_factor_backward(grad_lu, lu, pivots)


def lu_factor_ex(A: Tensor, *, pivot: bool = True, check_errors: bool = False
                 ) -> Any:
    """(LU, pivots, info): info > 0 names the first zero pivot U[info-1, info-1]."""
    _check("torch.lu_factor", A)
    if not pivot:
        raise RuntimeError("linalg.lu_factor: LU without pivoting is not implemented on the CPU")
    lu, pivots, info = LinalgLuFactorEx.apply(A)
    if check_errors:
        _raise_for(info, "torch.linalg.lu_factor_ex", A.ndim > 2)
    return return_types.linalg_lu_factor_ex((lu, pivots, info))


def _raise_for(info: Tensor, function: str, batched: bool) -> None:
    """PyTorch's error for the first zero pivot; every example's inside vmap (numbered as
    batch elements, as PyTorch's check of the batched infos)."""
    if not info._backend.holds_values:
        return  # PyTorch's meta kernels check no pivots
    examples = all_examples(info)
    batched = batched or examples is not info
    values = examples.reshape(-1).tolist()
    for index, code in enumerate(values):
        if code > 0:
            where = f"(Batch element {index}): " if batched else ""
            raise RuntimeError(
                f"{function}: {where}U[{code},{code}] is zero and using it on lu_solve would "
                "result in a division by zero. If you still want to perform the factorization, "
                "consider calling linalg.lu(A, pivot) or linalg.lu_factor_ex(A, pivot)")


def lu_factor(A: Tensor, *, pivot: bool = True) -> Any:
    """(LU, pivots) of A = P L U; a singular matrix raises."""
    _check("torch.lu_factor", A)
    if not pivot:
        raise RuntimeError("linalg.lu_factor: LU without pivoting is not implemented on the CPU")
    lu, pivots, info = LinalgLuFactorEx.apply(A)
    _raise_for(info, "torch.linalg.lu_factor", A.ndim > 2)
    return return_types.linalg_lu_factor((lu, pivots))


class LuUnpack(Function):
    """(P, L, U) from a packed LU and its pivots."""

    node_name = "LuUnpackBackward0"
    saved_fields = fields(LU_data_sym_argsize_minus_1=value("shape", lambda shape: shape[-1]),
                          LU_data_sym_argsize_minus_2=value("shape", lambda shape: shape[-2]))
    jvp = jvp_from_backward

    @staticmethod
    def forward(ctx: Any, lu: Any, pivots: Any, *, unpack_data: bool, unpack_pivots: bool
                ) -> Any:
        backend = ctx.backend
        ctx.shape = lu.shape[-2:]
        empty = backend.zeros((0,), backend.dtype_name(lu))
        lower, upper, permutation = _unpack_arrays(backend, lu, pivots if unpack_pivots
                                                   else None)
        if not unpack_data:
            lower, upper = empty, empty
        if permutation is None:
            permutation = backend.zeros((0,), backend.dtype_name(lu))
        ctx.mark_non_differentiable(permutation)
        return permutation, lower, upper

    @staticmethod
    def backward(ctx: Any, grad_p: Any, grad_l: Tensor, grad_u: Tensor) -> Any:
        m, n = ctx.shape
        return lu_unpack_backward(grad_l, grad_u, m, n), None


def lu_unpack(LU_data: Tensor, LU_pivots: Tensor, unpack_data: bool = True,
              unpack_pivots: bool = True) -> Any:
    """(P, L, U) from a packed LU and its pivots; empty tensors for what is not unpacked."""
    if LU_data._data.ndim < 2:
        raise RuntimeError("torch.lu_unpack: Expected tensor with 2 or more dimensions. Got "
                           f"size: {list(LU_data.shape)} instead")
    if LU_pivots.dtype.name != "int32":
        raise RuntimeError(
            "torch.lu_unpack: LU_pivots is expected to be a contiguous tensor of torch.int32 "
            "dtype. Note: this function is intended to be used with the output produced by "
            "torch.linalg.lu_factor")
    return return_types.lu_unpack(LuUnpack.apply(
        LU_data, LU_pivots, unpack_data=bool(unpack_data), unpack_pivots=bool(unpack_pivots)))


class LinalgLu(Function):
    """linalg.lu: (P, L, U) of A = P L U."""

    node_name = "LinalgLuBackward0"
    saved_fields = fields(P=saved(0), L=saved(1), U=saved(2), pivot=constant(True))
    jvp = jvp_from_backward

    @staticmethod
    def forward(ctx: Any, a: Any) -> Any:
        backend = ctx.backend
        lu, pivots, _ = backend.lu_factor(a)
        lower, upper, permutation = _unpack_arrays(backend, lu, pivots)
        ctx.mark_non_differentiable(permutation)
        ctx.save_for_backward(permutation, lower, upper)
        return permutation, lower, upper

    @staticmethod
    def backward(ctx: Any, grad_p: Any, grad_l: Tensor, grad_u: Tensor) -> Tensor:
        permutation, lower, upper = ctx.saved_tensors
        return lu_backward(grad_l, grad_u, permutation, lower, upper)


def lu(A: Tensor, *, pivot: bool = True) -> Any:
    """(P, L, U) with A = P L U (L unit lower triangular, U upper)."""
    _check("linalg.lu", A)
    if not pivot:
        raise RuntimeError("linalg.lu_factor: LU without pivoting is not implemented on the CPU")
    return return_types.linalg_lu(LinalgLu.apply(A))


def torch_lu(A: Tensor, pivot: bool = True, get_infos: bool = False) -> Any:
    """torch.lu: (LU, pivots) or, with get_infos, (LU, pivots, infos)."""
    result = lu_factor_ex(A, pivot=pivot)
    if get_infos:
        return tuple(result)
    _raise_for(result.info, "torch.linalg.lu_factor_ex", A.ndim > 2)
    return result.LU, result.pivots


# ----------------------------------------------------------------------------- lu_solve
class LinalgLuSolve(Function):
    node_name = "LinalgLuSolveBackward0"
    saved_fields = fields(LU=saved(0), pivots=saved(1), result=saved(2),
                          left=value("options", lambda options: options[0]),
                          adjoint=value("options", lambda options: options[1]))
    jvp = jvp_from_backward

    @staticmethod
    def forward(ctx: Any, lu: Any, pivots: Any, b: Any, *, left: bool, adjoint: bool) -> Any:
        backend = ctx.backend
        ctx.options = (left, adjoint)
        # getrs solves A X = B, A^T X = B or A^H X = B (trans 0, 1, 2); X A = B is
        # A^H X^H = B^H, and X A^H = B is A X^H = B^H.
        transposed = 2 if backend.is_complex(lu.dtype) else 1
        rhs = b if left else _adjoint(backend, b)
        trans = (transposed if adjoint else 0) if left else (0 if adjoint else transposed)
        batch = broadcast_shapes(lu.shape[:-2], rhs.shape[:-2])
        out = backend.lu_solve(backend.broadcast_to(lu, batch + lu.shape[-2:]),
                               backend.broadcast_to(pivots, batch + pivots.shape[-1:]),
                               backend.broadcast_to(rhs, batch + rhs.shape[-2:]), trans)
        out = out if left else _adjoint(backend, out)
        ctx.save_for_backward(lu, pivots, out)
        return out

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> tuple[Tensor | None, None, Tensor | None]:
        lu, pivots, x = ctx.saved_tensors
        left, adjoint = ctx.options
        needs_lu, _, needs_b = ctx.needs_input_grad
        # op(A) X = B with op(A) = A or A^H; X A = B is A^H X^H = B^H.
        if not left:
            grad, x = _mh(grad), _mh(x)
            adjoint = not adjoint
        grad_b = LinalgLuSolve.apply(lu, pivots, grad, left=True, adjoint=not adjoint)
        grad_lu = None
        if needs_lu:
            lower, upper = _unpack(lu)
            permutation = _permutation(lu, pivots)
            if not adjoint:
                # X = U^-1 L^-1 P^T B: gU = -gY X^H, gL = -L^-H gY (U X)^H, gY = U^-H gX.
                grad_y = solve_triangular(_mh(upper), grad, upper=False)
                grad_u = -(grad_y @ _mh(x))
                grad_l = -(solve_triangular(_mh(lower), grad_y, upper=True, unitriangular=True)
                           @ _mh(upper @ x))
            else:
                # X = P L^-H U^-H B: W = P^T X, Z = U^-H B = L^H W; gL = -W (L^-1 gW)^H,
                # gU = -Z (U^-1 L^-1 gW)^H.
                grad_w = _mh(permutation) @ grad
                m_ = solve_triangular(lower, grad_w, upper=False, unitriangular=True)
                w = _mh(permutation) @ x
                grad_l = -(w @ _mh(m_))
                n_ = solve_triangular(upper, m_, upper=True)
                grad_u = -((_mh(lower) @ w) @ _mh(n_))
            grad_lu = triu(grad_u) + tril(grad_l, -1)
        if needs_b and not left:
            grad_b = _mh(grad_b)
        return grad_lu, None, (grad_b if needs_b else None)


def lu_solve(LU: Tensor, pivots: Tensor, B: Tensor, *, left: bool = True,
             adjoint: bool = False) -> Tensor:
    """X with A X = B (A^H X = B with adjoint; X A = B with left=False), A = P L U given by
    lu_factor."""
    _check("torch.linalg.lu_solve", LU, kernel="linalg.lu_solve", every_dtype=False)
    if B._data.ndim < 2:
        raise RuntimeError("linalg.lu_solve: The input tensor B must have at least 2 dimensions.")
    if LU.shape[-1] != LU.shape[-2]:
        raise RuntimeError(
            "linalg.lu_solve: LU must be batches of square matrices, but they are "
            f"{LU.shape[-2]} by {LU.shape[-1]} matrices")
    n = LU.shape[-1]
    if (B.shape[-2] if left else B.shape[-1]) != n:
        raise RuntimeError(
            "linalg.lu_solve: Incompatible shapes of A and B for the equation "
            f"{'AX = B' if left else 'XA = B'} ({n}x{n} and {B.shape[-2]}x{B.shape[-1]})")
    if LU.dtype != B.dtype:
        raise RuntimeError(
            "linalg.lu_solve: Expected LU and B to have the same dtype, but found LU of type "
            f"{LU.dtype} and B of type {B.dtype} instead")
    return LinalgLuSolve.apply(LU, pivots, B, left=left, adjoint=adjoint)


def torch_lu_solve(b: Tensor, LU_data: Tensor, LU_pivots: Tensor) -> Tensor:
    """torch.lu_solve: linalg.lu_solve with its arguments in the older order."""
    return lu_solve(LU_data, LU_pivots, b)
