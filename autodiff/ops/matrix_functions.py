"""Functions of matrices and the linalg helpers composed of other ops: matrix_exp,
matrix_power, lstsq, inv_ex, solve_ex, logdet, vander (linalg's and torch's), vecdot, vdot,
tensorinv, tensorsolve.

matrix_exp's backward is the exponential of a block matrix (so it is differentiable again);
lstsq's is PyTorch's, through the pseudo-inverse.
"""

from __future__ import annotations

import math
from typing import Any

from backends import broadcast_shapes

from .. import dtypes, return_types
from ..batching.dispatch import function_rule
from ..function import Function
from ..jvp_rules import jvp_from_backward
from ..saved_fields import fields, saved
from ..tensor import Tensor, _wrap
from ._promotion import opmath, rounded
from .decompositions import (
    LinAlgError,
    _check_square,
    _mh,
    _singular_message,
    inv,
    slogdet,
    solve,
)
from .shape import reshape_alias
from .svd import _check_double_or_float, pinv, pinv_backward


# ----------------------------------------------------------------------------- matrix_exp
class LinalgMatrixExp(Function):
    node_name = "LinalgMatrixExpBackward0"
    saved_fields = fields(self=saved(0))

    jvp = jvp_from_backward

    @staticmethod
    def forward(ctx: Any, a: Any) -> Any:
        ctx.save_for_backward(a)
        backend = ctx.backend
        wide, dtype = opmath(backend, a)  # float16 and bfloat16 through float32
        return rounded(backend, backend.matrix_exp(wide), dtype)

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> Tensor:
        a, = ctx.saved_tensors
        # d exp(A)^* [G] is the upper-right block of exp([[A^H, G], [0, A^H]]).
        from .joining import cat
        n = a.shape[-1]
        ah = _mh(a)
        top = cat([ah, grad], -1)
        bottom = cat([grad * 0, ah], -1)
        return matrix_exp(cat([top, bottom], -2))[..., :n, n:]


def matrix_exp(A: Tensor) -> Tensor:
    """The matrix exponential of each square matrix (scaling and squaring with a Pade
    approximant); float16 and bfloat16 are computed in float32, as PyTorch's matmuls do."""
    if A.dtype.name in ("float16", "bfloat16"):
        _check_square("linalg.matrix_exp", A.float())  # the shape checks
    else:
        _check_square("linalg.matrix_exp", A, complex_ok=True)
    return LinalgMatrixExp.apply(A)


# ----------------------------------------------------------------------------- matrix_power
def matrix_power(A: Tensor, n: int) -> Tensor:
    """A^n by repeated squaring (A^-n = inv(A)^n; A^0 the identity)."""
    if A._data.ndim < 2:
        raise RuntimeError(
            "linalg.matrix_power: The input tensor A must have at least 2 dimensions.")
    if A.shape[-1] != A.shape[-2]:
        raise RuntimeError(
            "linalg.matrix_power: A must be batches of square matrices, but they are "
            f"{A.shape[-2]} by {A.shape[-1]} matrices")
    if not isinstance(n, int) or isinstance(n, bool):
        raise TypeError(f"matrix_power(): argument 'n' must be int, not {type(n).__name__}")
    backend = A._backend
    if n == 0:
        eye = backend.eye(A.shape[-1], None, backend.dtype_name(A._data))
        return _wrap(backend.asarray(backend.broadcast_to(eye, A._data.shape), copy=True),
                     backend)
    if n < 0:
        A = inv(A)
        n = -n
        if n == 1:
            return A
    if n == 1:
        return A.clone()
    result: Tensor | None = None
    power = A
    while n:
        if n & 1:
            result = power if result is None else result @ power
        n >>= 1
        if n:
            power = power @ power
    assert result is not None
    return result


# ----------------------------------------------------------------------------- *_ex
def _lu_infos(A: Tensor) -> Any:
    backend = A._backend
    return backend.lu_factor(A._data)[2]


@function_rule("factorization_ex")
def inv_ex(A: Tensor, *, check_errors: bool = False) -> Any:
    """(inverse, info): info > 0 names the first zero pivot of A's LU factorization; the
    inverse of a singular matrix is then what the LU solve gives (infinities, NaNs)."""
    _check_square("linalg.inv", A, complex_ok=True)
    backend = A._backend
    info = _lu_infos(A)
    if not backend.any_true(backend.not_equal(info, 0)):
        return return_types.linalg_inv_ex((inv(A), _wrap(info, backend)))
    if check_errors:
        raise LinAlgError(_singular_message(backend, A._data, "linalg.inv_ex"))
    eye = backend.eye(A.shape[-1], None, backend.dtype_name(A._data))
    lu, pivots, _ = backend.lu_factor(A._data)
    out = backend.lu_solve_lapack(lu, pivots, backend.broadcast_to(eye, A._data.shape), 0)
    return return_types.linalg_inv_ex((_wrap(out, backend), _wrap(info, backend)))


@function_rule("factorization_ex")
def solve_ex(A: Tensor, B: Tensor, *, left: bool = True, check_errors: bool = False
             ) -> Any:
    """(X, info) of linalg.solve; info > 0 names the first zero pivot (X is then not a
    solution)."""
    backend = A._backend
    _check_square("linalg.solve", A, complex_ok=True, kernel="lu")
    info = _lu_infos(A)
    if not backend.any_true(backend.not_equal(info, 0)) or check_errors:
        return return_types.linalg_solve_ex((solve(A, B, left=left), _wrap(info, backend)))
    nan = backend.full(tuple(solve(_eye_like(A), B, left=left).shape), math.nan,
                       backend.dtype_name(B._data))
    return return_types.linalg_solve_ex((_wrap(nan, backend), _wrap(info, backend)))


def _eye_like(A: Tensor) -> Tensor:
    backend = A._backend
    eye = backend.eye(A.shape[-1], None, backend.dtype_name(A._data))
    return _wrap(backend.broadcast_to(eye, A._data.shape), backend)


def logdet(input: Tensor) -> Tensor:
    """log det(A): NaN for a negative determinant, -inf for a singular matrix; for complex A
    the principal logarithm log(sign) + log|det A|."""
    from .selection import where
    _check_square("logdet", input, complex_ok=True)
    sign, logabsdet = slogdet(input)
    if input.dtype.is_complex:
        return sign.log() + logabsdet
    return where(sign == -1, math.nan, logabsdet)


# ----------------------------------------------------------------------------- lstsq
class LinalgLstsq(Function):
    node_name = "LinalgLstsqBackward0"
    saved_fields = fields(self=saved(0), b=saved(1), solution=saved(2))
    jvp = jvp_from_backward

    @staticmethod
    def forward(ctx: Any, a: Any, b: Any, *, rcond: float | None, driver: str, vector: bool
                ) -> Any:
        backend = ctx.backend
        ctx.set_materialize_grads(False)
        rhs = backend.expand_dims(b, axis=b.ndim) if vector else b
        # The batch dims broadcast; the ranks and singular values stay those of A's own batch.
        a_batch = tuple(a.shape[:-2])
        batch = tuple(broadcast_shapes(a_batch, tuple(rhs.shape[:-2])))
        matrices = backend.broadcast_to(a, (*batch, *a.shape[-2:]))
        rhs = backend.broadcast_to(rhs, (*batch, *rhs.shape[-2:]))
        solution, rank, singular = backend.lstsq(matrices, rhs, rcond, driver)
        if batch != a_batch:
            rank, singular = (_unbroadcast(part, batch, a_batch) for part in (rank, singular))
        m, n = a.shape[-2:]
        name = backend.dtype_name(a)
        full_rank = driver == "gels" or backend.all_true(backend.equal(rank, min(m, n)))
        if m > n and driver != "gelsy" and full_rank:
            residual = backend.subtract(backend.matmul(matrices, solution), rhs)
            residuals = backend.sum(backend.multiply(residual, residual), axis=residual.ndim - 2)
        else:
            residuals = backend.zeros((0,), name)
        if vector:  # the residuals keep their last dim of 1, as PyTorch's do
            solution = backend.squeeze(solution, axis=solution.ndim - 1)
        if driver == "gels":
            rank = backend.zeros((0,), "int64")
        if driver not in ("gelsd", "gelss"):  # no singular values: one empty tensor, unbatched
            singular = backend.zeros((0,), backend.dtype_name(singular))
        ctx.vector = vector
        ctx.save_for_backward(a, b, solution)
        ctx.mark_non_differentiable(residuals, rank, singular)
        return solution, residuals, rank, singular

    @staticmethod
    def backward(ctx: Any, grad: Tensor | None, *unused: Any
                 ) -> tuple[Tensor | None, Tensor | None]:
        a, b, _ = ctx.saved_tensors
        if grad is None:
            return None, None
        needs_a, needs_b = ctx.needs_input_grad
        pinv_a = pinv(a)
        rhs = b.unsqueeze(-1) if ctx.vector else b
        g = grad.unsqueeze(-1) if ctx.vector else grad
        grad_a = pinv_backward(g @ _mh(rhs), pinv_a, a) if needs_a else None
        grad_b = None
        if needs_b:
            grad_b = _mh(pinv_a) @ g
            if ctx.vector:
                grad_b = grad_b.squeeze(-1)
        return grad_a, grad_b


def _unbroadcast(array: Any, batch: tuple[int, ...], own: tuple[int, ...]) -> Any:
    """The first of the broadcast copies of a result over `own`, a batch shape that
    broadcast to `batch` (each copy holds the same values)."""
    if not array.shape:
        return array
    extra = len(batch) - len(own)
    index = (0,) * extra + tuple(slice(0, 1) if size == 1 else slice(None) for size in own)
    return array[index]


def lstsq(A: Tensor, B: Tensor, rcond: float | None = None, *, driver: str | None = None
          ) -> Any:
    """The least-squares solution of A X = B, with LAPACK's drivers 'gelsy' (the default),
    'gels' (full-rank A), 'gelsd' and 'gelss' (SVD: singular values returned)."""
    _check_double_or_float(A)
    if A._data.ndim < 2:
        raise RuntimeError(
            "torch.linalg.lstsq: input must have at least 2 dimensions.")
    if A.dtype != B.dtype:
        raise RuntimeError(
            "torch.linalg.lstsq: Expected input and other to have the same dtype, but got "
            f"input's dtype {A.dtype} and other's dtype {B.dtype}")
    driver = "gelsy" if driver is None else driver
    if driver not in ("gels", "gelsy", "gelsd", "gelss"):
        raise RuntimeError(
            "torch.linalg.lstsq: parameter `driver` should be one of (gels, gelsy, gelsd, gelss)")
    if not 0 <= A._data.ndim - B._data.ndim <= 1:
        raise RuntimeError(
            "torch.linalg.lstsq: input.dim() must be greater or equal to other.dim() and "
            "(input.dim() - other.dim()) <= 1")
    # B is a batch of vectors only where its shape is A's less the last dim.
    vector = B._data.ndim == A._data.ndim - 1 and tuple(B.shape) == tuple(A.shape[:-1])
    if (B.shape[-1] if vector else B.shape[-2]) != A.shape[-2]:
        raise RuntimeError(
            "torch.linalg.lstsq: input.size(-2) should match other.size(-2)")
    return return_types.linalg_lstsq(
        LinalgLstsq.apply(A, B, rcond=rcond, driver=driver, vector=vector))


# ----------------------------------------------------------------------------- helpers
def vander(x: Tensor, *, N: int | None = None) -> Tensor:
    """linalg.vander: the columns x^0, x^1, ..., x^(N-1) (increasing powers)."""
    if x._data.ndim < 1:
        raise RuntimeError("linalg.vander: x must have at least 1 dimension.")
    if x.dtype.name in ("float16", "bfloat16", "bool"):
        raise RuntimeError("linalg.vander supports floating point, complex, and integer "
                           f"tensors, but got {dtypes.SCALAR_TYPE_NAMES[x.dtype.name]}")
    if not (x.dtype.is_floating_point or x.dtype.is_complex):
        x = x.to(dtypes.int64)  # integer powers in int64, as PyTorch
    count = x.shape[-1] if N is None else N
    if count <= 1:
        if count < 1:
            raise RuntimeError("N must be greater than 1.")
        return x.unsqueeze(-1) ** 0
    return _increasing_powers(x, count)


def _increasing_powers(x: Tensor, count: int) -> Tensor:
    """x^0, ..., x^(count-1) along a new last dim, count >= 2."""
    from .cumulative import cumprod
    from .joining import cat
    backend = x._backend
    ones = _wrap(backend.ones((*x.shape, 1), backend.dtype_name(x._data)), backend)
    powers = cumprod(x.unsqueeze(-1).expand(*x.shape, count - 1), -1)
    return cat([ones, powers], -1)


@function_rule("vander")
def torch_vander(x: Tensor, N: int | None = None, increasing: bool = False) -> Tensor:
    """torch.vander: powers x^(N-1), ..., x^0 of a 1-D x (increasing=True: the other order)."""
    if x._data.ndim != 1:
        raise RuntimeError("x must be a one-dimensional tensor.")
    if N is not None and N < 0:
        raise RuntimeError("N must be non-negative.")
    return vander_rows(x, N, increasing)


def vander_rows(x: Tensor, N: int | None, increasing: bool, *, in_place: bool = True
                ) -> Tensor:
    """torch.vander of each vector along x's last dim (its rows along a new last dim).
    in_place=False joins the columns instead of writing them into a new tensor (inside
    vmap, where a new tensor is one example's and x's values may be batched more deeply)."""
    from .cumulative import cumprod
    from .joining import flip
    if not (x.dtype.is_floating_point or x.dtype.is_complex):
        x = x.to(dtypes.int64)  # integer (and bool) powers in int64, as PyTorch
    count = x.shape[-1] if N is None else N
    if not in_place:
        columns = x.unsqueeze(-1)[..., :0] if count == 0 else x.unsqueeze(-1) ** 0 \
            if count == 1 else _increasing_powers(x, count)
        return columns if increasing else flip(columns, (-1,))
    backend = x._backend
    shape = tuple(x.shape)
    # PyTorch's composite, whose in-place writes make the node CopySlices: a column of ones
    # and the running products of x written into the others. (PyTorch 2.13 writes x there and
    # then its cumprod over it, in place, so its backward fails on the version counter: this
    # one differentiates.)
    result = _wrap(backend.empty((*shape, count), backend.dtype_name(x._data)), backend)
    if count > 0:
        result[..., 0] = 1
        if count > 1:
            result[..., 1:] = cumprod(x.unsqueeze(-1).expand(*shape, count - 1), -1)
        if not increasing:
            return flip(result, (-1,))
    return result


def vecdot(x: Tensor, y: Tensor, *, dim: int = -1) -> Tensor:
    """The dot product of vectors along dim: sum(conj(x) * y)."""
    from .complex import conj
    if x.dtype != y.dtype:
        raise RuntimeError(
            "linalg.vecdot: Expected x and y to have the same dtype, but found x of type "
            f"{dtypes.SCALAR_TYPE_NAMES[x.dtype.name]} and y of type "
            f"{dtypes.SCALAR_TYPE_NAMES[y.dtype.name]} instead")
    if not (x.dtype.is_floating_point or x.dtype.is_complex):
        raise RuntimeError("linalg.vecdot: Expected a floating point or complex tensor as "
                           f"input. Got {dtypes.SCALAR_TYPE_NAMES[x.dtype.name]}")
    return (conj(x) * y).sum(dim)


class Vdot(Function):
    node_name = "VdotBackward0"
    saved_fields = fields(self=saved(0), other=saved(1))
    jvp = jvp_from_backward

    @staticmethod
    def forward(ctx: Any, a: Any, b: Any) -> Any:
        backend = ctx.backend
        ctx.save_for_backward(a, b)
        out = backend.sum(backend.multiply(backend.conj(a) if backend.is_complex(a.dtype)
                                           else a, b))
        return backend.astype(out, backend.dtype_name(a))  # an integer sum keeps its dtype

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> tuple[Tensor | None, Tensor | None]:
        from .complex import conj
        a, b = ctx.saved_tensors
        needs_a, needs_b = ctx.needs_input_grad
        # out = sum(conj(a) b): ga = b conj(grad), gb = a grad.
        return ((b * conj(grad)) if needs_a else None), ((a * grad) if needs_b else None)


def vdot(input: Tensor, other: Tensor) -> Tensor:
    """sum(conj(input) * other) of two 1-D tensors."""
    if input._data.ndim != 1 or other._data.ndim != 1:
        raise RuntimeError(f"1D tensors expected, but got {input._data.ndim}D and "
                           f"{other._data.ndim}D tensors")
    if input.dtype != other.dtype:
        raise RuntimeError(
            "dot : expected both vectors to have same dtype, but found "
            f"{dtypes.SCALAR_TYPE_NAMES[input.dtype.name]} and "
            f"{dtypes.SCALAR_TYPE_NAMES[other.dtype.name]}")
    if input.shape[0] != other.shape[0]:
        raise RuntimeError(
            f"inconsistent tensor size, expected tensor [{input.shape[0]}] and src "
            f"[{other.shape[0]}] to have the same number of elements, but got "
            f"{input.shape[0]} and {other.shape[0]} elements respectively")
    return Vdot.apply(input, other)


def tensorinv(A: Tensor, ind: int = 2) -> Tensor:
    """The inverse of A read as a linear map from its first `ind` dims to the rest."""
    if ind <= 0:
        raise RuntimeError(f"Expected a strictly positive integer for 'ind', but got {ind}")
    shape = tuple(A.shape)
    rows = math.prod(shape[:ind])
    cols = math.prod(shape[ind:])
    if rows != cols:
        raise RuntimeError(
            f"Expected self to satisfy the requirement prod(self.shape[ind:]) == "
            f"prod(self.shape[:ind]), but got {cols} != {rows}")
    # (the inverse is a new array, so the reshape is always a view)
    return reshape_alias(inv(A.reshape(rows, cols)), (*shape[ind:], *shape[:ind]))


def tensorsolve(A: Tensor, B: Tensor, dims: Any = None) -> Tensor:
    """X with tensordot(A, X, X.ndim) = B."""
    if dims is not None:
        ndim = A._data.ndim
        moved = [d % ndim for d in dims]
        rest = [d for d in range(ndim) if d not in moved]
        A = A.permute(*rest, *moved)
    shape = tuple(A.shape)
    result_shape = shape[B._data.ndim:]
    rows = B.numel()
    cols = math.prod(result_shape)
    if rows != cols:
        raise RuntimeError(
            "Expected self to satisfy the requirement prod(self.shape[other.ndim:]) == "
            f"prod(self.shape[:other.ndim]), but got {cols} != {rows}")
    return solve(A.reshape(rows, cols), B.reshape(rows)).reshape(*result_shape)
