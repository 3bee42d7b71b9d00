"""inv, solve, det, slogdet and cholesky: the functions of `autodiff.linalg` computed from a
matrix factorization (LU or Cholesky; an SVD for det's gradient at singular matrices).

Forwards are the backend's LAPACK-style primitives (`backend.inv`, ...), batched over leading
dims. Backwards are PyTorch's formulas written with matmul, solve and inv themselves, so every
one of them can be differentiated again. det's gradient is the cofactor matrix adj(A)^T:
det(A) A^{-T} for invertible matrices, and from an SVD for singular ones (twice
differentiable there), where PyTorch 2.13 returns zeros. cholesky's gradient assumes a
symmetric A, as its forward reads only the lower triangle.

A matrix the factorization cannot handle raises `LinAlgError` with PyTorch's message; the
detail (which batch element, which pivot) is found again, on the host, only on that path.
"""

from __future__ import annotations

import math
from typing import Any

from backends import broadcast_shapes
from backends.decompositions import LinAlgError

from .. import dtypes, return_types
from ..autocast_state import autocast_op
from ..function import Function
from ..grad_mode import state as _grad_state
from ..jvp_rules import jvp_from_backward
from ..saved_fields import Computed, fields, saved, value
from ..tensor import Tensor, _wrap
from ._checks import not_implemented_for, same_device
from ._out import EXACT, takes_out
from ._promotion import check_broadcast
from .complex import conj, imag


def _check_square(function: str, tensor: Tensor, name: str = "A",
                  complex_ok: bool = False, kernel: str | None = None,
                  every_dtype: bool = False) -> None:
    shape = tensor._data.shape
    if len(shape) < 2:
        raise RuntimeError(
            f"{function}: The input tensor {name} must have at least 2 dimensions.")
    refusal = _dtype_refusal(function, tensor, complex_ok, kernel, every_dtype)
    if isinstance(refusal, RuntimeError):  # the function's own check, before the shapes'
        raise refusal
    if shape[-1] != shape[-2]:
        raise RuntimeError(
            f"{function}: {name} must be batches of square matrices, but they are "
            f"{shape[-2]} by {shape[-1]} matrices"
        )
    if refusal is not None:  # the kernel's, once it runs
        raise refusal


def _check_float(function: str, tensor: Tensor, complex_ok: bool = False,
                 kernel: str | None = None, every_dtype: bool = False) -> None:
    refusal = _dtype_refusal(function, tensor, complex_ok, kernel, every_dtype)
    if refusal is not None:
        raise refusal


def _dtype_refusal(function: str, tensor: Tensor, complex_ok: bool, kernel: str | None,
                   every_dtype: bool) -> Exception | None:
    """PyTorch's dtype checks of a linalg function. float16 and bfloat16 are refused by the
    function itself, or, where PyTorch lets them through to a LAPACK kernel with no
    low-precision version, by that `kernel` ("lu" for `"lu_cpu" not implemented for 'Half'`);
    with `every_dtype` the kernel refuses the integer dtypes too."""
    name = tensor._backend.dtype_name(tensor._data)
    allowed = ("float32", "float64", "complex64", "complex128") if complex_ok \
        else ("float32", "float64")
    if name in allowed:
        return None
    if kernel is not None and (every_dtype or name in ("float16", "bfloat16")):
        return not_implemented_for(kernel, tensor._backend, tensor._data)
    if name in ("float16", "bfloat16"):
        return RuntimeError(f"{function}: Low precision dtypes not supported. Got "
                            f"{dtypes.SCALAR_TYPE_NAMES[name]}")
    return RuntimeError(
        f"{function}: Expected a floating point or complex tensor as input. Got "
        f"{dtypes.SCALAR_TYPE_NAMES[name]}"
    )


# ----------------------------------------------------------------------------- inv
def lu_factors(part: int, transposed: bool = False) -> Computed:
    """The packed LU (`part` 0) or the 1-based int32 pivots (1) of the node's first saved
    tensor A, as PyTorch's node saves them (`transposed`: of A^T, which its det and slogdet
    factor); factored again when read."""
    matrix = saved(0)

    def read(node: Function) -> Tensor:
        backend = node.backend
        a = matrix.read(node)._data
        return _wrap(backend.lu_factor(_transpose(backend, a) if transposed else a)[part],
                     backend)

    return Computed(read, tensor=True)


class LinalgInv(Function):
    node_name = "LinalgInvExBackward0"
    saved_fields = fields(inverse=saved(0))

    @staticmethod
    def forward(ctx: Any, a: Any) -> Any:
        try:
            out = ctx.backend.inv(a)
        except LinAlgError:
            raise LinAlgError(_singular_message(ctx.backend, a, "linalg.inv")) from None
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> Tensor:
        out, = ctx.saved_tensors
        inverse_t = _mh(out)
        return -(inverse_t @ grad @ inverse_t)

    @staticmethod
    def jvp(ctx: Any, tangent: Tensor) -> Tensor:
        out, = ctx.saved_tensors
        return -(out @ tangent @ out)


@takes_out(EXACT)
@autocast_op("linalg_inv")
def inv(A: Tensor) -> Tensor:
    """The inverse of each square matrix in A (..., n, n)."""
    _check_square("linalg.inv", A, complex_ok=True)
    return LinalgInv.apply(A)


inverse = inv


# ----------------------------------------------------------------------------- solve
class LinalgSolve(Function):
    """X with A X = B (left) or X A = B; `vector` when B is a (batch of) vector(s)."""

    node_name = "LinalgSolveExBackward0"
    saved_fields = fields(A=saved(0), LU=lu_factors(0), pivots=lu_factors(1), result=saved(1),
                          left=value("left"))

    jvp = jvp_from_backward

    @staticmethod
    def forward(ctx: Any, a: Any, b: Any, *, vector: bool, left: bool = True) -> Any:
        backend = ctx.backend
        ctx.vector, ctx.left = vector, left
        rhs = backend.expand_dims(b, axis=b.ndim) if vector else b
        if not left:  # X A = B  <=>  A^T X^T = B^T
            rhs = _transpose(backend, rhs)
        batch = broadcast_shapes(a.shape[:-2], rhs.shape[:-2])
        a_full = backend.broadcast_to(_transpose(backend, a) if not left else a,
                                      batch + a.shape[-2:])
        rhs = backend.broadcast_to(rhs, batch + rhs.shape[-2:])
        try:
            out = backend.solve(a_full, rhs)
        except LinAlgError:
            raise LinAlgError(_singular_message(backend, a_full, "torch.linalg.solve")) from None
        if vector:
            out = backend.squeeze(out, axis=out.ndim - 1)
        elif not left:
            out = _transpose(backend, out)
        ctx.save_for_backward(a, out)
        return out

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> tuple[Tensor | None, Tensor | None]:
        a, out = ctx.saved_tensors
        needs_a, needs_b = ctx.needs_input_grad
        # left: X = A^{-1} B, so gB = A^{-T} grad and gA = -gB X^T;
        # right: X = B A^{-1}, so gB = grad A^{-T} and gA = -X^T gB.
        grad_b = LinalgSolve.apply(_mh(a), grad, vector=ctx.vector, left=ctx.left)
        grad_a = None
        if needs_a:  # summed over broadcast batch dims by the base class
            if ctx.vector:
                grad_a = -(grad_b.unsqueeze(-1) * conj(out).unsqueeze(-2))
            elif ctx.left:
                grad_a = -(grad_b @ _mh(out))
            else:
                grad_a = -(_mh(out) @ grad_b)
        return grad_a, (grad_b if needs_b else None)


def _mh(a: Tensor) -> Tensor:
    """The conjugate transpose (the transpose of a real tensor)."""
    return conj(a.mT)


def _transpose(backend: Any, array: Any) -> Any:
    axes = tuple(range(array.ndim))
    return backend.permute_dims(array, (*axes[:-2], axes[-1], axes[-2]))


@autocast_op("linalg_solve")
def solve(A: Tensor, B: Tensor, *, left: bool = True) -> Tensor:
    """X with A X = B (or X A = B for left=False); B is (..., n) or (..., n, k)."""
    same_device(A, B)
    a_shape, b_shape = A._data.shape, B._data.shape
    _check_square("linalg.solve", A, complex_ok=True, kernel="lu")
    _check_float("linalg.solve", B, complex_ok=True, kernel="lu")
    if A._data.dtype != B._data.dtype:
        raise RuntimeError(
            "linalg.solve: Expected A and B to have the same dtype, but found A of type "
            f"{dtypes.SCALAR_TYPE_NAMES[A.dtype.name]} and B of type "
            f"{dtypes.SCALAR_TYPE_NAMES[B.dtype.name]} instead"
        )
    # PyTorch's rule: B is a vector (batch) when 1-D, or when it is A's shape minus one dim.
    vector = len(b_shape) == 1 or (len(b_shape) == len(a_shape) - 1
                                   and b_shape == a_shape[:-1])
    if not vector and len(b_shape) < 2:
        raise RuntimeError("linalg.solve: The input tensor B must have at least 2 dimensions.")
    n = a_shape[-1]
    # (PyTorch takes no vector B with left=False: a (n,) B reads as n x 1 and cannot fit.)
    fits = (b_shape[-1] == n and left) if vector else \
        (b_shape[-2] == n if left else b_shape[-1] == n)
    if not fits:
        shown = f"{b_shape[-1]}x1" if vector else f"{b_shape[-2]}x{b_shape[-1]}"
        raise RuntimeError(
            "linalg.solve: Incompatible shapes of A and B for the equation "
            f"{'AX = B' if left else 'XA = B'} ({n}x{n} and {shown})"
        )
    check_broadcast(a_shape[:-2], b_shape[:-1] if vector else b_shape[:-2])
    return LinalgSolve.apply(A, B, vector=vector, left=left)


# ----------------------------------------------------------------------------- det, slogdet
class LinalgDet(Function):
    node_name = "LinalgDetBackward0"
    saved_fields = fields(A=saved(0), LU=lu_factors(0, transposed=True),
                          pivots=lu_factors(1, transposed=True), result=saved(1))

    jvp = jvp_from_backward

    @staticmethod
    def forward(ctx: Any, a: Any) -> Any:
        out = ctx.backend.det(a)
        ctx.save_for_backward(a, out)
        return out

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> Tensor:
        a, out = ctx.saved_tensors
        # d det(A) / dA is the cofactor matrix adj(A)^T, which every square matrix has; det is
        # holomorphic, so a complex A's gradient is grad times its conjugate.
        return grad.unsqueeze(-1).unsqueeze(-1) * conj(_cofactors(a, out))


def det(A: Tensor) -> Tensor:
    """The determinant of each square matrix in A. Its gradient is the cofactor matrix
    adj(A)^T, singular A included: det([[1, 2], [2, 4]]) has gradient [[4, -2], [-2, 1]]
    (PyTorch 2.13 returns zeros there)."""
    _check_square("linalg.det", A, complex_ok=True, kernel="lu")
    return LinalgDet.apply(A)


def _cofactors(a: Tensor, determinant: Tensor) -> Tensor:
    """adj(A)^T in recorded ops. det(A) A^{-T} while every matrix is invertible: accurate to
    rounding even near singular matrices, and differentiable to any order through inv and
    det. Its own derivative cancels terms of size cond(A) times the result, though, so a
    recorded backward (create_graph) takes it only for well-conditioned matrices, as PyTorch
    does; otherwise (and for singular matrices) it is the SVD formula of `Cofactors`."""
    backend = a._backend
    if backend.all_true(backend.not_equal(determinant._data, 0)) and (
            not _grad_state.enabled or _well_conditioned(backend, a._data)):
        return determinant.unsqueeze(-1).unsqueeze(-1) * inv(a).mT
    return Cofactors.apply(a)


def _well_conditioned(backend: Any, a: Any) -> bool:
    """Every matrix's condition number below 1 / sqrt(eps) of its dtype."""
    if a.size == 0:
        return True
    _, s, _ = backend.svd(a)
    largest = backend.getitem(s, (..., 0))
    smallest = backend.getitem(s, (..., -1))
    limit = _INVERSE_SQRT_EPSILON[backend.dtype_name(s)]  # real for complex a too
    return backend.all_true(backend.less(largest, backend.multiply(smallest, limit)))


_INVERSE_SQRT_EPSILON = {"float32": 2.0 ** 11.5, "float64": 2.0 ** 26}


class Cofactors(Function):
    """The cofactor matrix adj(A)^T of each square matrix, singular ones included, from an SVD
    A = U diag(s) V^H: adj(A)^T = det(U) det(V^H) conj(U diag(prod_{j != i} s_j) V^H), the
    products taken without division (no inverse, no division by a zero singular value)."""

    node_name = "LinalgCofactorsBackward0"

    jvp = jvp_from_backward

    @staticmethod
    def forward(ctx: Any, a: Any) -> Any:
        ctx.save_for_backward(a)
        backend = ctx.backend
        if a.shape[-1] == 0:
            return backend.asarray(a, copy=True)
        u, s, vh, alpha = _svd_with_sign(backend, a)
        others = _products_of_others(backend, s)
        product = backend.matmul(backend.multiply(u, backend.expand_dims(others, axis=s.ndim - 1)),
                                 vh)
        if backend.is_complex(product.dtype):
            product = backend.conj(product)
        return backend.multiply(product,
                                backend.expand_dims(backend.expand_dims(alpha, axis=alpha.ndim),
                                                    axis=alpha.ndim + 1))

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> Tensor:
        a, = ctx.saved_tensors
        return CofactorsBackward.apply(grad, a)


class CofactorsBackward(Function):
    """d <W, adj(A)^T> / dA, the Hessian of det(A) applied to W, also from the SVD: in its
    coordinates (W' = U^T W V) it is G with G_kk = sum_{i != k} W'_ii P_ik and
    G_kl = -W'_lk P_kl, P_kl the product of the singular values other than s_k and s_l; the
    gradient is det(U) det(V) U G V^T. For complex A = U diag(s) V^H (adj(A)^T holomorphic,
    the gradient conj(J)^T W) it is conj(det(U) det(V^H)) U G V^H with W' = U^T W conj(V).
    Linear in W; a further derivative raises."""

    node_name = "LinalgCofactorsBackwardBackward0"

    jvp = jvp_from_backward

    @staticmethod
    def forward(ctx: Any, w: Any, a: Any) -> Any:
        backend = ctx.backend
        n = a.shape[-1]
        if n < 2:  # adj of a 1 x 1 matrix is constant
            return backend.zeros(backend.broadcast_to(a, w.shape).shape, backend.dtype_name(a))
        u, s, vh, alpha = _svd_with_sign(backend, a)
        rotated = backend.matmul(backend.matmul(_transpose(backend, u), w), _transpose(backend, vh))
        pairs = _products_of_other_pairs(backend, s)
        diagonal = _diagonal(backend, rotated)
        g = backend.multiply(_transpose(backend, rotated), pairs)
        g = backend.negative(g)
        eye = backend.eye(n, None, backend.dtype_name(a))
        weights = backend.matmul(pairs, backend.expand_dims(diagonal, axis=diagonal.ndim))
        g = backend.add(g, backend.multiply(eye, weights))  # weights (..., n, 1) on the diagonal
        if backend.is_complex(alpha.dtype):
            alpha = backend.conj(alpha)
        g = backend.multiply(g, backend.expand_dims(backend.expand_dims(alpha, axis=alpha.ndim),
                                                    axis=alpha.ndim + 1))
        return backend.matmul(backend.matmul(u, g), vh)

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> Any:
        raise RuntimeError(
            "the third derivative of linalg.det (and of linalg.slogdet) at a singular matrix is "
            "not implemented"
        )


def _svd_with_sign(backend: Any, a: Any) -> tuple[Any, Any, Any, Any]:
    """u, s, vh of a, and det(u) det(vh) (+1 or -1 per matrix; a unit complex number for
    complex a)."""
    u, s, vh = backend.svd(a)
    return u, s, vh, backend.multiply(backend.det(u), backend.det(vh))


def _products_of_others(backend: Any, s: Any) -> Any:
    """prod_{j != i} s_j for each i along the last axis: an exclusive prefix product times an
    exclusive suffix product, so a zero s_i leaves its own entry nonzero."""
    axis = s.ndim - 1
    ones = backend.ones((*s.shape[:-1], 1), backend.dtype_name(s))
    before = backend.concat([ones, backend.getitem(s, (..., slice(None, -1)))], axis=axis)
    after = backend.concat([backend.getitem(s, (..., slice(1, None))), ones], axis=axis)
    prefix = backend.cumulative_prod(before, axis=axis)
    suffix = backend.flip(backend.cumulative_prod(backend.flip(after, axis=axis), axis=axis),
                          axis=axis)
    return backend.multiply(prefix, suffix)


def _products_of_other_pairs(backend: Any, s: Any) -> Any:
    """P_kl = prod_{m not in {k, l}} s_m for k != l (0 on the diagonal), without division:
    (prod_{m < k} s_m) (prod_{k < m < l} s_m) (prod_{m > l} s_m) for k < l, symmetric."""
    n = s.shape[-1]
    dtype = backend.dtype_name(s)
    axis = s.ndim  # the last axis of the (..., n, n) arrays below
    index = backend.arange(0, n, 1, "int64")
    later = backend.greater(backend.expand_dims(index, axis=0), backend.expand_dims(index, axis=1))
    row = backend.expand_dims(s, axis=s.ndim - 1)  # (..., 1, n): s_m along m
    # between[k, m] = prod_{k < m' <= m} s_m'; shifted one place right it is prod_{k < m' < l}.
    between = backend.cumulative_prod(backend.where(later, row, backend.ones_like(row)), axis=axis)
    ones = backend.ones((*between.shape[:-1], 1), dtype)
    between = backend.concat([ones, backend.getitem(between, (..., slice(None, -1)))], axis=axis)
    ones = backend.ones((*s.shape[:-1], 1), dtype)
    prefix = backend.cumulative_prod(
        backend.concat([ones, backend.getitem(s, (..., slice(None, -1)))], axis=axis - 1),
        axis=axis - 1)
    after = backend.concat([backend.getitem(s, (..., slice(1, None))), ones], axis=axis - 1)
    suffix = backend.flip(backend.cumulative_prod(backend.flip(after, axis=axis - 1),
                                                  axis=axis - 1), axis=axis - 1)
    upper = backend.multiply(backend.multiply(backend.expand_dims(prefix, axis=axis), between),
                             backend.expand_dims(suffix, axis=axis - 1))
    upper = backend.where(later, upper, backend.zeros_like(upper))
    return backend.add(upper, _transpose(backend, upper))


def _diagonal(backend: Any, matrices: Any) -> Any:
    """The diagonals of a batch of square matrices, (..., n)."""
    n = matrices.shape[-1]
    eye = backend.eye(n, None, backend.dtype_name(matrices))
    return backend.sum(backend.multiply(matrices, eye), axis=matrices.ndim - 1)


class LinalgSlogdet(Function):
    node_name = "LinalgSlogdetBackward0"
    saved_fields = fields(A=saved(0), LU=lu_factors(0, transposed=True),
                          pivots=lu_factors(1, transposed=True), sign=saved(1))

    jvp = jvp_from_backward

    @staticmethod
    def forward(ctx: Any, a: Any) -> Any:
        sign, logabsdet = ctx.backend.slogdet(a)
        ctx.save_for_backward(a, sign)
        return sign, logabsdet

    @staticmethod
    def backward(ctx: Any, grad_sign: Tensor, grad_logabsdet: Tensor) -> Tensor:
        a, sign = ctx.saved_tensors
        # d log|det A| = Re(t) and d sign = sign i Im(t), t = tr(A^{-1} dA). A real sign is
        # piecewise constant; a complex one turns with Im(t), which folds the two gradients into
        # one scale c = g_logabsdet - i Im(conj(g_sign) sign) of conj(A^{-T}).
        scale = grad_logabsdet
        if a.dtype.is_complex:
            scale = scale - 1j * imag(conj(grad_sign) * sign)
        scale = scale.unsqueeze(-1).unsqueeze(-1)
        backend = a._backend
        # For a singular A, A^{-T} is adj(A)^T / det(A): inf where a cofactor is nonzero, nan
        # where it is zero (PyTorch solves against the zero pivot of an LU factorization:
        # infinities and nans in a pattern that depends on the factorization).
        if backend.all_true(backend.not_equal(sign._data, 0)):
            return scale * conj(inv(a).mT)
        return scale * conj(Cofactors.apply(a) / det(a).unsqueeze(-1).unsqueeze(-1))


def slogdet(A: Tensor) -> Any:
    """(sign, log|det A|) of each square matrix in A; a singular matrix gives (0, -inf)."""
    _check_square("linalg.slogdet", A, complex_ok=True)
    return return_types.linalg_slogdet(LinalgSlogdet.apply(A))


def torch_slogdet(input: Tensor) -> Any:
    """torch.slogdet: linalg.slogdet as the `slogdet` return type."""
    return return_types.slogdet(slogdet(input))


# ----------------------------------------------------------------------------- cholesky
class LinalgCholesky(Function):
    node_name = "LinalgCholeskyExBackward0"
    saved_fields = fields(L=saved(0), upper=value("upper"))

    jvp = jvp_from_backward

    @staticmethod
    def forward(ctx: Any, a: Any, *, upper: bool) -> Any:
        backend = ctx.backend
        try:
            out = backend.cholesky(a)
        except LinAlgError:
            raise LinAlgError(_not_positive_definite_message(backend, a)) from None
        if upper:  # U = L^H
            out = _transpose(backend, out)
            if backend.is_complex(out.dtype):
                out = backend.conj(out)
        ctx.upper = upper
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> Tensor:
        factor, = ctx.saved_tensors
        lower, grad_lower = (_mh(factor), _mh(grad)) if ctx.upper else (factor, grad)
        # PyTorch's cholesky_backward: with Phi = tril(L^T gL),
        # gA = L^{-T} (Phi + tril(Phi, -1)^T) / 2 L^{-1}  (symmetric).
        n = lower._data.shape[-1]
        product = _mh(lower) @ grad_lower
        strict = product * _tril_mask(lower, n, -1)
        diagonal = product * (_tril_mask(lower, n, 0) - _tril_mask(lower, n, -1))
        if diagonal.dtype.is_complex:  # the Hermitian part's diagonal is real
            diagonal = (diagonal + conj(diagonal)) * 0.5
        phi = 0.5 * (strict + _mh(strict)) + 0.5 * diagonal
        left = LinalgSolve.apply(_mh(lower), phi, vector=False)  # L^{-H} Phi
        return _mh(LinalgSolve.apply(_mh(lower), _mh(left), vector=False))  # (...) L^{-1}


@autocast_op("linalg_cholesky")
def cholesky(A: Tensor, *, upper: bool = False) -> Tensor:
    """L (lower, A = L L^T) or, with upper=True, U = L^T of each symmetric positive-definite A."""
    _check_square("linalg.cholesky", A, complex_ok=True, kernel="cholesky")
    return LinalgCholesky.apply(A, upper=upper)


def _tril_mask(like: Tensor, n: int, diagonal: int) -> Tensor:
    """1 on and below the `diagonal`-th diagonal, 0 above, as a constant of like's dtype."""
    backend = like._backend
    rows = backend.expand_dims(backend.arange(0, n, 1, "int64"), axis=1)
    cols = backend.arange(-diagonal, n - diagonal, 1, "int64")
    mask = backend.greater_equal(rows, cols)
    return _wrap(backend.astype(mask, backend.dtype_name(like._data)), backend)


# ----------------------------------------------------------------------------- error details
def _first_failure(backend: Any, a: Any, find: Any) -> tuple[int, int]:
    """(batch element, detail) of the first matrix in `a` for which `find` reports a detail."""
    n = a.shape[-1]
    for index, matrix in enumerate(backend.tolist(backend.reshape(a, (-1, n, n)))):
        detail = find(matrix)
        if detail is not None:
            return index, detail
    return 0, n  # the library saw a failure our float64 recomputation did not


def _singular_message(backend: Any, a: Any, function: str) -> str:
    """PyTorch's message for a singular matrix, naming the batch element and the first zero
    pivot of an LU factorization with partial pivoting (LAPACK getrf's info)."""
    index, pivot = _first_failure(backend, a, _zero_pivot)
    where = f"(Batch element {index}): " if a.ndim > 2 else ""
    if function == "torch.linalg.solve":
        return f"{function}: {where}The solver failed because the input matrix is singular."
    return (
        f"{function}: {where}The diagonal element {pivot} is zero, the inversion could not be "
        "completed because the input matrix is singular."
    )


def _zero_pivot(matrix: list[list[float]]) -> int | None:
    rows = [list(row) for row in matrix]
    n = len(rows)
    for k in range(n):
        pivot = max(range(k, n), key=lambda i: abs(rows[i][k]))
        if rows[pivot][k] == 0:
            return k + 1
        rows[k], rows[pivot] = rows[pivot], rows[k]
        for i in range(k + 1, n):
            factor = rows[i][k] / rows[k][k]
            for j in range(k + 1, n):
                rows[i][j] -= factor * rows[k][j]
    return None


def _not_positive_definite_message(backend: Any, a: Any) -> str:
    if backend.is_complex(a.dtype):  # LAPACK's potrf says where
        infos = backend.tolist(backend.reshape(backend.cholesky_ex(a)[1], (-1,)))
        index = next((i for i, info in enumerate(infos) if info > 0), 0)
        order = infos[index] if infos and infos[index] > 0 else a.shape[-1]
    else:
        index, order = _first_failure(backend, a, _failing_minor)
    where = f"(Batch element {index}): " if a.ndim > 2 else ""
    return (
        f"linalg.cholesky: {where}The factorization could not be completed because the input "
        f"is not positive-definite (the leading minor of order {order} is not "
        "positive-definite)."
    )


def _failing_minor(matrix: list[list[float]]) -> int | None:
    """The order of the first leading minor whose Cholesky pivot is not positive."""
    n = len(matrix)
    lower = [[0.0] * n for _ in range(n)]
    for j in range(n):
        pivot = matrix[j][j] - sum(lower[j][k] ** 2 for k in range(j))
        if not pivot > 0:
            return j + 1
        lower[j][j] = math.sqrt(pivot)
        for i in range(j + 1, n):
            lower[i][j] = (matrix[i][j] - sum(lower[i][k] * lower[j][k] for k in range(j))) \
                / lower[j][j]
    return None
