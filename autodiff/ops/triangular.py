"""Solves with triangular matrices: linalg.solve_triangular and torch.triangular_solve, and
what is built on a Cholesky factor: cholesky_solve, cholesky_inverse, linalg.cholesky_ex and
torch.cholesky.

Forwards are the backend's `solve_triangular` (LAPACK's trtrs on the CPU; substitution
elsewhere), so a zero on the diagonal gives inf/nan rather than an error, as in PyTorch.
Backwards are PyTorch's formulas written with these same ops and matmul, so each is
differentiable again. solve_triangular's gradient for A stays in A's triangle (the other
triangle is never read); cholesky_solve's and cholesky_inverse's are PyTorch's full-matrix
formulas. Complex matrices take conjugate transposes throughout (A = L L^H), and the
gradients follow PyTorch's convention (the conjugate Wirtinger derivative).
"""

from __future__ import annotations

from typing import Any

from .. import dtypes, return_types
from ..batching.dispatch import function_rule
from ..function import Function
from ..jvp_rules import jvp_from_backward
from ..saved_fields import fields, saved, value
from ..tensor import Tensor, _wrap
from ._checks import not_implemented_for, require_tensors, same_device
from ._promotion import check_broadcast
from .complex import conj
from .decompositions import LinalgCholesky, _mh, cholesky
from .decompositions import _check_square as _check_square_float

__all__ = ["CholeskyInverse", "CholeskySolve", "LinalgSolveTriangular", "TriangularSolve",
           "cholesky_ex", "cholesky_inverse", "cholesky_solve", "solve_triangular",
           "torch_cholesky", "triangular_solve"]


def _transpose(backend: Any, array: Any) -> Any:
    axes = tuple(range(array.ndim))
    return backend.permute_dims(array, (*axes[:-2], axes[-1], axes[-2]))


def _adjoint(backend: Any, array: Any) -> Any:
    """The conjugate transpose of each matrix (the transpose of a real one)."""
    out = _transpose(backend, array)
    return backend.conj(out) if backend.is_complex(out.dtype) else out


def _solve(backend: Any, a: Any, b: Any, *, upper: bool, left: bool,
           unitriangular: bool) -> Any:
    """X with op(A) X = B (left) or X op(A) = B, A triangular; batch dims broadcast."""
    if left:
        return backend.solve_triangular(a, b, upper=upper, unitriangular=unitriangular)
    # X A = B  <=>  A^T X^T = B^T, and A^T has the other triangle.
    out = backend.solve_triangular(_transpose(backend, a), _transpose(backend, b),
                                   upper=not upper, unitriangular=unitriangular)
    return _transpose(backend, out)


def _require_floating(kernel: str, *tensors: Tensor) -> None:
    for tensor in tensors:
        name = tensor._backend.dtype_name(tensor._data)
        if name not in ("float32", "float64", "complex64", "complex128"):
            raise not_implemented_for(kernel, tensor._backend, tensor._data)


def _check_matrices(function: str, tensor: Tensor, name: str) -> None:
    shape = tensor._data.shape
    if len(shape) < 2:
        raise RuntimeError(
            f"{function}: The input tensor {name} must have at least 2 dimensions.")


def _check_square(function: str, tensor: Tensor, name: str = "A") -> None:
    _check_matrices(function, tensor, name)
    shape = tensor._data.shape
    if shape[-1] != shape[-2]:
        raise RuntimeError(
            f"{function}: {name} must be batches of square matrices, but they are "
            f"{shape[-2]} by {shape[-1]} matrices")


# ----------------------------------------------------------------------------- solve_triangular
class LinalgSolveTriangular(Function):
    """X with A X = B (left) or X A = B, for triangular A."""

    node_name = "LinalgSolveTriangularBackward0"
    saved_fields = fields(self=saved(0), result=saved(1), upper=value("upper"),
                          left=value("left"), unitriangular=value("unitriangular"))
    jvp = jvp_from_backward

    @staticmethod
    def forward(ctx: Any, a: Any, b: Any, *, upper: bool, left: bool,
                unitriangular: bool) -> Any:
        _refuse_low_precision("triangular_solve", ctx.backend, a)
        ctx.upper, ctx.left, ctx.unitriangular = upper, left, unitriangular
        out = _solve(ctx.backend, a, b, upper=upper, left=left, unitriangular=unitriangular)
        ctx.save_for_backward(a, out)
        return out

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> tuple[Tensor | None, Tensor | None]:
        a, out = ctx.saved_tensors
        needs_a, needs_b = ctx.needs_input_grad
        # left: X = A^{-1} B, so gB = A^{-H} grad and gA = -gB X^H (right: -X^H gB), kept to
        # the triangle the forward read.
        grad_b = type(ctx).apply(_mh(a), grad, upper=not ctx.upper, left=ctx.left,
                                 unitriangular=ctx.unitriangular)
        grad_a = None
        if needs_a:  # summed over broadcast batch dims by the base class
            grad_a = -(grad_b @ _mh(out)) if ctx.left else -(_mh(out) @ grad_b)
            offset = int(ctx.unitriangular)
            grad_a = grad_a.triu(offset) if ctx.upper else grad_a.tril(-offset)
        return grad_a, (grad_b if needs_b else None)


def solve_triangular(A: Tensor, B: Tensor, *, upper: bool, left: bool = True,
                     unitriangular: bool = False) -> Tensor:
    """X with A X = B (or X A = B for left=False) for triangular A: the triangle `upper` names
    is read (without its diagonal, taken as ones, when `unitriangular`)."""
    require_tensors("linalg_solve_triangular", ("input", A), ("B", B))
    same_device(A, B)
    function = "linalg.solve_triangular"
    _check_matrices(function, A, "A")
    _check_matrices(function, B, "B")
    _check_square(function, A)
    a_shape, b_shape = A._data.shape, B._data.shape
    n = a_shape[-1]
    if (b_shape[-2] if left else b_shape[-1]) != n:
        raise RuntimeError(
            f"{function}: Incompatible shapes of A and B for the equation "
            f"{'AX = B' if left else 'XA = B'} ({n}x{n} and {b_shape[-2]}x{b_shape[-1]})")
    common = dtypes.result_type((A.dtype, A.ndim), (B.dtype, B.ndim))
    if A.dtype is not common:
        A = A.to(common)
    if B.dtype is not common:
        B = B.to(common)
    _require_floating("triangular_solve", A)
    check_broadcast(b_shape[:-2], a_shape[:-2])
    return LinalgSolveTriangular.apply(A, B, upper=bool(upper), left=bool(left),
                                       unitriangular=bool(unitriangular))


# ----------------------------------------------------------------------------- triangular_solve
class TriangularSolve(Function):
    """torch.triangular_solve's node: X with op(A) X = B (op(A) = A, or A^T when `transpose`),
    and A's copy as a second output."""

    node_name = "TriangularSolveBackward0"
    saved_fields = fields(self=saved(2), A=saved(0), solution=saved(1), upper=value("upper"),
                          transpose=value("transpose"), unitriangular=value("unitriangular"))
    jvp = jvp_from_backward

    @staticmethod
    def forward(ctx: Any, b: Any, a: Any, *, upper: bool, transpose: bool,
                unitriangular: bool) -> Any:
        backend = ctx.backend
        _refuse_low_precision("triangular_solve", backend, a)
        ctx.upper, ctx.transpose, ctx.unitriangular = upper, transpose, unitriangular
        coefficient = _transpose(backend, a) if transpose else a
        out = _solve(backend, coefficient, b, upper=upper != transpose, left=True,
                     unitriangular=unitriangular)
        ctx.save_for_backward(a, out, b)
        ctx.set_materialize_grads(False)
        return out, backend.asarray(a, copy=True)

    @staticmethod
    def backward(ctx: Any, grad: Tensor | None, grad_copy: Tensor | None
                 ) -> tuple[Tensor | None, Tensor | None]:
        a, out, _ = ctx.saved_tensors
        needs_b, needs_a = ctx.needs_input_grad
        grad_a: Tensor | None = None
        grad_b: Tensor | None = None
        if grad is not None:
            # PyTorch's triangular_solve_backward: gB = op(A)^{-H} grad, gA = -gB X^H (or its
            # transpose), kept to A's triangle.
            grad_b, _ = TriangularSolve.apply(grad, conj(a), upper=ctx.upper,
                                              transpose=not ctx.transpose,
                                              unitriangular=ctx.unitriangular)
            if needs_a:
                grad_a = -(conj(out) @ grad_b.mT) if ctx.transpose else -(grad_b @ _mh(out))
                offset = int(ctx.unitriangular)
                grad_a = grad_a.triu(offset) if ctx.upper else grad_a.tril(-offset)
        if grad_copy is not None and needs_a:
            grad_a = grad_copy if grad_a is None else grad_a + grad_copy
        return (grad_b if needs_b else None), grad_a


def triangular_solve(b: Tensor, A: Tensor, upper: bool = True, transpose: bool = False,
                     unitriangular: bool = False) -> Any:
    """torch.triangular_solve: (X, a copy of A) with op(A) X = b, op(A) = A or A^T, for
    triangular A (deprecated in PyTorch in favour of linalg.solve_triangular)."""
    require_tensors("triangular_solve", ("input", b), ("A", A))
    same_device(b, A)
    for tensor, name in ((b, "b"), (A, "A")):
        if tensor._data.ndim < 2:
            raise RuntimeError(
                f"torch.triangular_solve: Expected {name} to have at least 2 dimensions, but "
                f"it has {tensor._data.ndim} dimensions instead")
    if b.dtype is not A.dtype:
        raise RuntimeError(
            "Expected b and A to have the same dtype, but found b of type "
            f"{dtypes.SCALAR_TYPE_NAMES[b.dtype.name]} and A of type "
            f"{dtypes.SCALAR_TYPE_NAMES[A.dtype.name]} instead.")
    a_shape, b_shape = A._data.shape, b._data.shape
    if a_shape[-1] != a_shape[-2]:
        raise RuntimeError(
            f"A must be batches of square matrices, but they are {a_shape[-2]} by "
            f"{a_shape[-1]} matrices")
    if a_shape[-1] != b_shape[-2]:
        raise RuntimeError(
            f"Incompatible matrix sizes for triangular_solve: each A matrix is {a_shape[-2]} "
            f"by {a_shape[-1]} but each b matrix is {b_shape[-2]} by {b_shape[-1]}")
    _require_floating("triangular_solve", A)
    check_broadcast(b_shape[:-2], a_shape[:-2])
    solution, copy = TriangularSolve.apply(b, A, upper=bool(upper), transpose=bool(transpose),
                                           unitriangular=bool(unitriangular))
    return return_types.triangular_solve((solution, copy))


# ----------------------------------------------------------------------------- cholesky_solve
class CholeskySolve(Function):
    """X with A X = B, A = L L^T (or U^T U) given by its Cholesky factor."""

    node_name = "CholeskySolveBackward0"
    saved_fields = fields(self=saved(2), input2=saved(0), result=saved(1),
                          upper=value("upper"))
    jvp = jvp_from_backward

    @staticmethod
    def forward(ctx: Any, b: Any, factor: Any, *, upper: bool) -> Any:
        backend = ctx.backend
        _refuse_low_precision("cholesky_solve", backend, factor)
        ctx.upper = upper
        # L L^H X = B: solve L Y = B, then L^H X = Y (U^H U: U^H first).
        first = _adjoint(backend, factor) if upper else factor
        middle = backend.solve_triangular(first, b, upper=False, unitriangular=False)
        out = backend.solve_triangular(_adjoint(backend, first), middle, upper=True,
                                       unitriangular=False)
        ctx.save_for_backward(factor, out, b)
        return out

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> tuple[Tensor | None, Tensor | None]:
        factor, out, _ = ctx.saved_tensors
        needs_b, needs_factor = ctx.needs_input_grad
        # PyTorch's cholesky_solve_backward: gB = A^{-1} grad; with C = gB X^H + X gB^H,
        # gL = -C L (lower) or -U C (upper).
        grad_b = CholeskySolve.apply(grad, factor, upper=ctx.upper)
        grad_factor = None
        if needs_factor:
            common = grad_b @ _mh(out)
            common = common + _mh(common)
            grad_factor = -(factor @ common) if ctx.upper else -(common @ factor)
        return (grad_b if needs_b else None), grad_factor


def cholesky_solve(input: Tensor, input2: Tensor, upper: bool = False) -> Tensor:
    """X with A X = B for B = `input` and A = L L^T (U^T U when `upper`) from its Cholesky
    factor `input2`; batch dims broadcast."""
    require_tensors("cholesky_solve", ("input", input), ("input2", input2))
    same_device(input, input2)
    b_shape, l_shape = input._data.shape, input2._data.shape
    if len(b_shape) < 2:
        raise RuntimeError(
            f"b should have at least 2 dimensions, but has {len(b_shape)} dimensions instead")
    if len(l_shape) < 2:
        raise RuntimeError(
            f"u should have at least 2 dimensions, but has {len(l_shape)} dimensions instead")
    if input.dtype is not input2.dtype:
        raise RuntimeError(
            "Expected b and A to have the same dtype, but found b of type "
            f"{dtypes.SCALAR_TYPE_NAMES[input.dtype.name]} and A of type "
            f"{dtypes.SCALAR_TYPE_NAMES[input2.dtype.name]} instead.")
    _require_floating("cholesky_solve", input)
    if l_shape[-1] != l_shape[-2] or l_shape[-1] != b_shape[-2]:
        raise RuntimeError(
            f"Incompatible matrix sizes for cholesky_solve: each A matrix is {l_shape[-2]} by "
            f"{l_shape[-1]} but each b matrix is {b_shape[-2]} by {b_shape[-1]}")
    check_broadcast(b_shape[:-2], l_shape[:-2])
    return CholeskySolve.apply(input, input2, upper=bool(upper))


# ----------------------------------------------------------------------------- cholesky_inverse
class CholeskyInverse(Function):
    """(L L^T)^{-1} (or (U^T U)^{-1}) from the Cholesky factor."""

    node_name = "CholeskyInverseBackward0"
    saved_fields = fields(self=saved(0), result=saved(1), upper=value("upper"))
    jvp = jvp_from_backward

    @staticmethod
    def forward(ctx: Any, factor: Any, *, upper: bool) -> Any:
        backend = ctx.backend
        _refuse_low_precision("cholesky_inverse_out", backend, factor)
        ctx.upper = upper
        n = factor.shape[-1]
        identity = backend.broadcast_to(backend.eye(n, None, backend.dtype_name(factor)),
                                        factor.shape)
        lower = _adjoint(backend, factor) if upper else factor
        # (L L^H)^{-1} = L^{-H} L^{-1} = M^H M with M = L^{-1}.
        inverse = backend.solve_triangular(lower, identity, upper=False, unitriangular=False)
        out = backend.matmul(_adjoint(backend, inverse), inverse)
        ctx.save_for_backward(factor, out)
        return out

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> Tensor:
        factor, out = ctx.saved_tensors
        # PyTorch's cholesky_inverse_backward: with C = A^{-1} (G + G^H) A^{-1},
        # gL = -C L (lower) or -U C (upper).
        common = out @ ((grad + _mh(grad)) @ out)
        return -(factor @ common) if ctx.upper else -(common @ factor)


def cholesky_inverse(input: Tensor, upper: bool = False) -> Tensor:
    """The inverse of A = L L^T (U^T U when `upper`) from its Cholesky factor `input`."""
    require_tensors("cholesky_inverse", ("input", input))
    _check_square("cholesky_inverse", input)
    _require_floating("cholesky_inverse_out", input)
    return CholeskyInverse.apply(input, upper=bool(upper))


def _refuse_low_precision(kernel: str, backend: Any, a: Any) -> None:
    """PyTorch's LAPACK kernels have no float16/bfloat16 versions."""
    if backend.dtype_name(a) in ("float16", "bfloat16"):
        raise not_implemented_for(kernel, backend, a)


# ----------------------------------------------------------------------------- cholesky_ex
@function_rule("factorization_ex")
def cholesky_ex(A: Tensor, *, upper: bool = False, check_errors: bool = False) -> Any:
    """(L, info): info is 0, or the order of the first leading minor that is not
    positive-definite (L is then LAPACK's partial factor, as PyTorch's)."""
    require_tensors("linalg_cholesky_ex", ("input", A))
    _check_square_float("linalg.cholesky", A, complex_ok=True, kernel="cholesky")
    backend = A._backend
    factor, info = backend.cholesky_ex(A._data)
    if not bool(backend.any(backend.not_equal(info, 0))):
        return return_types.linalg_cholesky_ex((cholesky(A, upper=upper), _wrap(info, backend)))
    if check_errors:
        cholesky(A)  # raises PyTorch's message
    if upper:
        factor = _adjoint(backend, factor)
    return return_types.linalg_cholesky_ex((_wrap(factor, backend), _wrap(info, backend)))


class TorchCholesky(LinalgCholesky):
    """torch.cholesky's node (linalg.cholesky's forward and backward, PyTorch's other name)."""

    node_name = "CholeskyBackward0"
    saved_fields = fields(result=saved(0), upper=value("upper"))


def torch_cholesky(input: Tensor, upper: bool = False) -> Tensor:
    """torch.cholesky (deprecated in PyTorch in favour of linalg.cholesky)."""
    require_tensors("cholesky", ("input", input))
    _check_square_float("cholesky", input, complex_ok=True, kernel="cholesky", every_dtype=True)
    return TorchCholesky.apply(input, upper=bool(upper))
