"""Products of a sparse COO matrix with a dense one: mm / matmul / @ / spmm (a sparse form of
mm, `MmBackward0`, dense gradients as PyTorch's), and torch.sparse.mm / torch.sparse.addmm
(`SparseAddmmBackward0`: the sparse operand's gradient is sparse, masked to its indices).

The product is one gather of the dense rows the non-zeros address and one scatter-add into the
result's rows (`sparse_coo.matmul`): O(nnz * n), nothing of the sparse operand's dense size.
"""

from __future__ import annotations

from typing import Any

from .. import dtypes
from ..function import Function
from ..jvp_rules import auto_multilinear, sum_terms
from ..sparse_coo import SparseCOO, coalesce, sparse_matmul
from ..sparse_coo import matmul as coo_matmul
from ..tensor import Tensor
from . import sparse_compressed_products as compressed_products
from .sparse_compressed import is_compressed
from .sparse_coo import SparseMask


def _transposed(sparse: SparseCOO, backend: Any) -> SparseCOO:
    indices = backend.stack([sparse.indices[1, :], sparse.indices[0, :]], axis=0)
    return SparseCOO(indices, sparse.values, (sparse.shape[1], sparse.shape[0]), False)


def _product(backend: Any, a: Any, b: Any) -> Any:
    """a @ b with one of them sparse (dense @ sparse as (sparse.T @ dense.T).T), or both (a
    sparse result)."""
    if type(a) is SparseCOO and type(b) is SparseCOO:
        return sparse_matmul(backend, a, b)
    if type(a) is SparseCOO:
        return coo_matmul(backend, a, b)
    swapped = coo_matmul(backend, _transposed(b, backend), backend.permute_dims(a, (1, 0)))
    return backend.permute_dims(swapped, (1, 0))


class SparseMm(Function):
    """mm with a sparse operand: a dense result and dense gradients; two sparse operands give
    a sparse result and (unmasked) sparse gradients, as in PyTorch."""

    node_name = "MmBackward0"
    jvp = auto_multilinear
    takes_layout_data = True

    @staticmethod
    def forward(ctx: Any, a: Any, b: Any) -> Any:
        ctx.save_for_backward(a, b)
        return _product(ctx.backend, a, b)

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> tuple[Tensor | None, Tensor | None]:
        a, b = ctx.saved_tensors
        needs = ctx.needs_input_grad
        grad_a = mm(grad, b.t()) if needs[0] else None
        grad_b = mm(a.t(), grad) if needs[1] else None
        return grad_a, grad_b


class SparseMv(Function):
    """A sparse matrix times a dense vector; the matrix's gradient is dense, as in PyTorch."""

    node_name = "MvBackward0"
    takes_layout_data = True

    jvp = auto_multilinear

    @staticmethod
    def forward(ctx: Any, a: Any, v: Any) -> Any:
        backend = ctx.backend
        if type(v) is SparseCOO or type(a) is not SparseCOO:
            raise RuntimeError("mv: autodiff multiplies a sparse matrix by a dense vector")
        if a.dense_dim != 0 or a.ndim != 2:
            raise RuntimeError("vector + matrix @ vector expected, got 1, 2, 1")
        if a.shape[1] != v.shape[0]:
            raise RuntimeError(f"size mismatch, got input ({a.shape[0]}), mat "
                               f"({a.shape[0]}x{a.shape[1]}), vec ({v.shape[0]})")
        ctx.save_for_backward(a, v)
        column = coo_matmul(backend, a, backend.reshape(v, (-1, 1)))
        return backend.reshape(column, (a.shape[0],))

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> tuple[Tensor | None, Tensor | None]:
        a, v = ctx.saved_tensors
        needs = ctx.needs_input_grad
        return (grad.outer(v) if needs[0] else None,
                a.t().mv(grad) if needs[1] else None)


def _scalar_name(tensor: Tensor) -> str:
    return dtypes.SCALAR_TYPE_NAMES[tensor.dtype.name]


def _check(input: Tensor, mat2: Tensor, function: str) -> None:
    """PyTorch's checks of a sparse-dense product (addmm's, whose kernel it is)."""
    first, second = input._data, mat2._data
    for name, tensor in (("self", input), ("mat2", mat2)):
        if tensor.dim() != 2:
            raise RuntimeError(f"{name if name == 'mat2' else 'self'} must be a matrix")
    for sparse in (first, second):
        if type(sparse) is SparseCOO and sparse.dense_dim != 0:
            raise RuntimeError(f"{function}: expected a sparse matrix with 2 sparse dims and 0 "
                               f"dense dims, but got {sparse.sparse_dim} sparse and "
                               f"{sparse.dense_dim} dense dims")
    if input.shape[1] != mat2.shape[0]:
        if type(first) is SparseCOO:
            raise RuntimeError(f"addmm: Argument #3 (dense): Expected dim 0 size "
                               f"{input.shape[1]}, got {mat2.shape[0]}")
        raise RuntimeError(f"mat1 and mat2 shapes cannot be multiplied ({input.shape[0]}x"
                           f"{input.shape[1]} and {mat2.shape[0]}x{mat2.shape[1]})")
    if input.dtype is not mat2.dtype:
        raise RuntimeError(f"expected scalar type {_scalar_name(input)} but found "
                           f"{_scalar_name(mat2)}")


def mm(input: Tensor, mat2: Tensor) -> Tensor:
    """mm (matmul, @, spmm) with a sparse operand: dense @ sparse or sparse @ dense."""
    if not (type(input._data) is SparseCOO or type(mat2._data) is SparseCOO):
        return input.mm(mat2)
    _check(input, mat2, "mm")
    return SparseMm.apply(input, mat2)


class SparseAddmm(Function):
    """beta * input + alpha * (sparse @ dense); the sparse operand's gradient is sparse, at its
    (coalesced) indices, and `input` may be absent (torch.sparse.mm: no term)."""

    node_name = "SparseAddmmBackward0"
    takes_layout_data = True

    @staticmethod
    def forward(ctx: Any, input: Any, sparse: Any, dense: Any, *, beta: Any,
                alpha: Any) -> Any:
        backend = ctx.backend
        ctx.beta, ctx.alpha = beta, alpha
        ctx.indices = coalesce(backend, sparse).indices
        ctx.save_for_backward(sparse, dense)
        product = coo_matmul(backend, sparse, dense)
        return compressed_products.addmm_sum(backend, input, product, beta=beta, alpha=alpha)

    backward = staticmethod(compressed_products.sparse_addmm_backward)

    @staticmethod
    def sparse_grad(ctx: Any, grad: Tensor, dense: Tensor) -> Tensor:
        """The sparse operand's gradient (before alpha): sparse, at its coalesced indices."""
        return SparseMask.apply(grad.mm(dense.t()), indices=ctx.indices, coalesced=False)

    @staticmethod
    def jvp(ctx: Any, input: Tensor | None, sparse: Tensor | None,
            dense: Tensor | None) -> Tensor | None:
        args, kwargs, _ = ctx._dual_call
        alpha = kwargs["alpha"]
        terms = [None if input is None or kwargs["beta"] == 0 else input * kwargs["beta"]]
        if sparse is not None:
            terms.append(SparseAddmm.apply(None, sparse, args[2], beta=0, alpha=alpha))
        if dense is not None:
            terms.append(SparseAddmm.apply(None, args[1], dense, beta=0, alpha=alpha))
        return sum_terms(terms)


class SparseAddmmDense(SparseAddmm):
    """torch.addmm with a sparse mat1: as torch.sparse.addmm, with PyTorch's dense gradient
    for mat1."""

    node_name = "AddmmBackward0"

    @staticmethod
    def sparse_grad(ctx: Any, grad: Tensor, dense: Tensor) -> Tensor:
        return grad.mm(dense.t())


class SparseSparseMatmul(Function):
    """torch.sparse.mm of two sparse matrices: a sparse result; each operand's gradient is
    sparse, at its own coalesced indices."""

    node_name = "SparseSparseMatmulBackward0"
    takes_layout_data = True

    jvp = auto_multilinear

    @staticmethod
    def forward(ctx: Any, a: Any, b: Any) -> Any:
        backend = ctx.backend
        ctx.save_for_backward(a, b)
        ctx.a_indices = coalesce(backend, a).indices
        ctx.b_indices = coalesce(backend, b).indices
        return sparse_matmul(backend, a, b)

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> tuple[Tensor | None, Tensor | None]:
        a, b = ctx.saved_tensors
        needs = ctx.needs_input_grad
        grad_a = grad_b = None
        if needs[0]:
            grad_a = SparseMask.apply(mm(grad, b.t()), indices=ctx.a_indices, coalesced=True)
        if needs[1]:
            grad_b = SparseMask.apply(mm(a.t(), grad), indices=ctx.b_indices, coalesced=True)
        return grad_a, grad_b


def sparse_mm(mat1: Tensor, mat2: Tensor, reduce: str = "sum") -> Tensor:
    """torch.sparse.mm: a sparse matrix times a dense one."""
    if reduce != "sum":
        raise RuntimeError(f"torch.sparse.mm: reduce={reduce!r} is not supported: autodiff's "
                           "sparse products sum (reduce='sum')")
    if is_compressed(mat1):
        return compressed_products.sparse_mm(mat1, mat2)
    if type(mat1._data) is not SparseCOO:
        return mm(mat1, mat2)
    _check(mat1, mat2, "sparse.mm")
    if type(mat2._data) is SparseCOO:
        return SparseSparseMatmul.apply(mat1, mat2)
    return SparseAddmm.apply(None, mat1, mat2, beta=0, alpha=1)


def sparse_addmm(input: Tensor, mat1: Tensor, mat2: Tensor, *, beta: Any = 1,
                 alpha: Any = 1) -> Tensor:
    """torch.sparse.addmm: beta * input + alpha * (mat1 @ mat2), mat1 sparse, input dense."""
    if is_compressed(mat1) and not (input.is_sparse or is_compressed(input)):
        return compressed_products.sparse_addmm(input, mat1, mat2, beta=beta, alpha=alpha)
    if type(mat1._data) is not SparseCOO:
        raise RuntimeError("addmm: expected mat1 to be a sparse COO tensor (torch.sparse.addmm)")
    if type(input._data) is SparseCOO:
        raise RuntimeError("torch.sparse.addmm: autodiff takes a dense input here")
    _check(mat1, mat2, "sparse.addmm")
    expected = (mat1.shape[0], mat2.shape[1])
    if tuple(input.shape) != expected:
        try:
            input = input.expand(expected)
        except RuntimeError:
            raise RuntimeError(
                f"The expanded size of the tensor ({expected[1]}) must match the existing size "
                f"({input.shape[-1]}) at non-singleton dimension {input.dim() - 1}.  Target "
                f"sizes: {list(expected)}.  Tensor sizes: {list(input.shape)}") from None
    if input.dtype is not mat1.dtype:
        raise RuntimeError(f"expected scalar type {_scalar_name(mat1)} but found "
                           f"{_scalar_name(input)}")
    return SparseAddmm.apply(input, mat1, mat2, beta=beta, alpha=alpha)
