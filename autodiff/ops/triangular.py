"""Triangular systems: linalg.solve_triangular, torch.triangular_solve, and the Cholesky
helpers built on them (cholesky_solve, cholesky_inverse, linalg.cholesky_ex, torch.cholesky).

solve_triangular's backward is PyTorch's (itself a triangular solve, projected onto the
triangle the forward reads), so it is differentiable again.
"""

from __future__ import annotations

from typing import Any, NamedTuple

from backends import broadcast_shapes

from ..function import Function
from ..tensor import Tensor, _wrap
from .decompositions import _check_float, _check_square, _mh, _transpose, cholesky
from .diagonal import tril, triu


class TriangularSolveResult(NamedTuple):
    solution: Tensor
    cloned_coefficient: Tensor


class CholeskyExResult(NamedTuple):
    L: Tensor
    info: Tensor


class LinalgSolveTriangular(Function):
    node_name = "LinalgSolveTriangularBackward0"

    @staticmethod
    def forward(ctx: Any, a: Any, b: Any, *, upper: bool, left: bool, unitriangular: bool
                ) -> Any:
        backend = ctx.backend
        ctx.options = (upper, left, unitriangular)
        out = _solve(backend, a, b, upper, left, unitriangular)
        ctx.save_for_backward(a, out)
        return out

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> tuple[Tensor | None, Tensor | None]:
        a, out = ctx.saved_tensors
        upper, left, unitriangular = ctx.options
        needs_a, needs_b = ctx.needs_input_grad
        grad_b = LinalgSolveTriangular.apply(_mh(a), grad, upper=not upper, left=left,
                                             unitriangular=unitriangular)
        grad_a = None
        if needs_a:
            grad_a = -(grad_b @ _mh(out)) if left else -(_mh(out) @ grad_b)
            grad_a = triu(grad_a, int(unitriangular)) if upper \
                else tril(grad_a, -int(unitriangular))
        return grad_a, (grad_b if needs_b else None)


def _solve(backend: Any, a: Any, b: Any, upper: bool, left: bool, unitriangular: bool) -> Any:
    """X with A X = B (left) or X A = B, batches broadcast."""
    if not left:  # X A = B  <=>  A^T X^T = B^T
        a, b = _transpose(backend, a), _transpose(backend, b)
        upper = not upper
    batch = broadcast_shapes(a.shape[:-2], b.shape[:-2])
    a = backend.broadcast_to(a, batch + a.shape[-2:])
    b = backend.broadcast_to(b, batch + b.shape[-2:])
    out = backend.solve_triangular(a, b, not upper, unitriangular)
    return _transpose(backend, out) if not left else out


def solve_triangular(A: Tensor, B: Tensor, *, upper: bool, left: bool = True,
                     unitriangular: bool = False) -> Tensor:
    """X with A X = B (or X A = B) for triangular A; only the `upper` or lower triangle of A
    is read (and not its diagonal when unitriangular)."""
    _check_float("linalg.solve_triangular", A)
    _check_float("linalg.solve_triangular", B)
    for tensor, name in ((A, "A"), (B, "B")):
        if tensor._data.ndim < 2:
            raise RuntimeError(f"linalg.solve_triangular: The input tensor {name} must have at "
                               "least 2 dimensions.")
    if A.dtype != B.dtype:
        raise RuntimeError(
            "linalg.solve_triangular: Expected A and B to have the same dtype, but found A of "
            f"type {_type_name(A)} and B of type {_type_name(B)} instead")
    n = A.shape[-1]
    if A.shape[-2] != n:
        raise RuntimeError(
            "linalg.solve_triangular: A must be batches of square matrices, but they are "
            f"{A.shape[-2]} by {n} matrices")
    if (B.shape[-2] if left else B.shape[-1]) != n:
        raise RuntimeError(
            "linalg.solve_triangular: Incompatible shapes of A and B for the equation "
            f"{'AX = B' if left else 'XA = B'} ({n}x{n} and {B.shape[-2]}x{B.shape[-1]})")
    return LinalgSolveTriangular.apply(A, B, upper=upper, left=left, unitriangular=unitriangular)


def _type_name(tensor: Tensor) -> str:
    from .. import dtypes
    return dtypes.SCALAR_TYPE_NAMES[tensor.dtype.name]


class TriangularSolve(LinalgSolveTriangular):
    node_name = "TriangularSolveBackward0"

    @staticmethod
    def forward(ctx: Any, a: Any, b: Any, *, upper: bool, left: bool, unitriangular: bool
                ) -> Any:
        return LinalgSolveTriangular.forward(ctx, a, b, upper=upper, left=left,
                                             unitriangular=unitriangular)


def triangular_solve(b: Tensor, A: Tensor, upper: bool = True, transpose: bool = False,
                     unitriangular: bool = False) -> TriangularSolveResult:
    """torch.triangular_solve: (X, a copy of A) with op(A) X = b, op(A) = A or A^T."""
    for tensor, name in ((b, "self"), (A, "A")):
        if tensor._data.ndim < 2:
            raise RuntimeError(f"torch.triangular_solve: The input tensor {name} must have at "
                               "least 2 dimensions.")
    coefficient = A.mT if transpose else A
    solution = TriangularSolve.apply(coefficient, b, upper=upper != transpose, left=True,
                                     unitriangular=unitriangular)
    return TriangularSolveResult(solution, A.clone())


# ----------------------------------------------------------------------------- Cholesky helpers
class CholeskySolve(Function):
    node_name = "CholeskySolveBackward0"

    @staticmethod
    def forward(ctx: Any, b: Any, factor: Any, *, upper: bool) -> Any:
        backend = ctx.backend
        ctx.upper = upper
        y = _solve(backend, factor, b, upper, True, False) if not upper else \
            _solve(backend, _transpose(backend, factor), b, False, True, False)
        x = _solve(backend, _transpose(backend, factor), y, True, True, False) if not upper else \
            _solve(backend, factor, y, True, True, False)
        ctx.save_for_backward(factor, x)
        return x

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> tuple[Tensor | None, Tensor | None]:
        factor, x = ctx.saved_tensors
        needs_b, needs_factor = ctx.needs_input_grad
        # X = (L L^H)^{-1} B: gB = (L L^H)^{-1} grad; gA = -gB X^H, symmetrised, pulled back
        # onto the factor: gL = (gA + gA^H) L (lower) or U (gA + gA^H) (upper).
        grad_b = CholeskySolve.apply(grad, factor, upper=ctx.upper)
        grad_factor = None
        if needs_factor:
            grad_a = -(grad_b @ _mh(x))
            symmetric = grad_a + _mh(grad_a)
            grad_factor = factor @ symmetric if ctx.upper else symmetric @ factor
            grad_factor = triu(grad_factor) if ctx.upper else tril(grad_factor)
        return (grad_b if needs_b else None), grad_factor


def cholesky_solve(B: Tensor, L: Tensor, upper: bool = False) -> Tensor:
    """X with A X = B for A = L L^T (or U^T U with upper=True), from its Cholesky factor."""
    for tensor, name in ((B, "B"), (L, "A")):
        if tensor._data.ndim < 2:
            raise RuntimeError(f"b should have at least 2 dimensions, but has {B.ndim} "
                               "dimensions instead" if name == "B" else
                               f"u should have at least 2 dimensions, but has {L.ndim} "
                               "dimensions instead")
    if B.dtype != L.dtype:
        raise RuntimeError(f"Expected b and A to have the same dtype, but found b of type "
                           f"{_type_name(B)} and A of type {_type_name(L)} instead.")
    return CholeskySolve.apply(B, L, upper=upper)


def cholesky_inverse(L: Tensor, upper: bool = False) -> Tensor:
    """(L L^T)^{-1} from a Cholesky factor (U^T U with upper=True)."""
    _check_square("cholesky_inverse", L)
    backend = L._backend
    eye = _wrap(backend.eye(L.shape[-1], None, backend.dtype_name(L._data)), backend)
    return _CholeskyInverse.apply(eye.expand(*L.shape), L, upper=upper)


class _CholeskyInverse(CholeskySolve):
    node_name = "CholeskyInverseBackward0"

    @staticmethod
    def forward(ctx: Any, b: Any, factor: Any, *, upper: bool) -> Any:
        return CholeskySolve.forward(ctx, b, factor, upper=upper)


def cholesky_ex(A: Tensor, *, upper: bool = False, check_errors: bool = False
                ) -> CholeskyExResult:
    """(L, info): info is 0, or the order of the first leading minor that is not
    positive-definite (L is then LAPACK's partial factor, as PyTorch's)."""
    _check_square("linalg.cholesky", A)
    backend = A._backend
    factor, info = backend.cholesky_ex(A._data)
    if not bool(backend.any(backend.not_equal(info, 0))):
        return CholeskyExResult(cholesky(A, upper=upper), _wrap(info, backend))
    if check_errors:
        cholesky(A)  # raises PyTorch's message
    if upper:
        factor = _transpose(backend, factor)
    return CholeskyExResult(_wrap(factor, backend), _wrap(info, backend))


def torch_cholesky(input: Tensor, upper: bool = False) -> Tensor:
    """torch.cholesky (deprecated in PyTorch): linalg.cholesky under the node CholeskyBackward0."""
    _check_square("cholesky", input)
    return _TorchCholesky.apply(input, upper=upper)


class _TorchCholesky(Function):
    node_name = "CholeskyBackward0"

    @staticmethod
    def forward(ctx: Any, a: Any, *, upper: bool) -> Any:
        from .decompositions import LinalgCholesky
        return LinalgCholesky.forward(ctx, a, upper=upper)

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> Tensor:
        from .decompositions import LinalgCholesky
        return LinalgCholesky.backward(ctx, grad)
