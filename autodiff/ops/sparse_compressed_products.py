"""Products with a compressed sparse matrix (CSR, CSC, BSR, BSC): mm / matmul / @ and mv
(dense gradients for the compressed operand, `MmBackward0` / `MvBackward0`), torch.addmm
(`AddmmBackward0`, dense), torch.sparse.mm / torch.sparse.addmm (`SparseAddmmBackward0`: the
compressed operand's gradient is compressed, masked to its indices) and
torch.sparse.sampled_addmm (`SparseSampledAddmmBackward0`), as PyTorch gives them.

The product gathers the dense rows the specified elements address and scatter-adds them into
the result's rows (`sparse_compressed.matmul`): O(elements * n).
"""

from __future__ import annotations

from typing import Any

from .. import dtypes
from .. import sparse_compressed as compressed
from .. import sparse_coo as coo
from ..function import Function
from ..jvp_rules import auto_multilinear, sum_terms
from ..layout_dispatch import LayoutData
from ..sparse_dispatch import refuse_operator
from ..tensor import Tensor
from .sparse_compressed import CompressedMask, is_compressed

SparseCompressed = compressed.SparseCompressed


def refuse_batched_compressed(a: Tensor, b: Tensor) -> None:
    """PyTorch 2.13's CPU matmul of a batched compressed tensor: refused, as an expand of it
    (the other operand batched too) or a stride of it."""
    for tensor, other in ((a, b), (b, a)):
        data = tensor._data
        if type(data) is SparseCompressed and data.batch_dim:
            if other._data.ndim > 2:
                raise RuntimeError("expand is unsupported for "
                                   f"{compressed.LAYOUT_NAMES[data.layout]} tensors")
            compressed.no_strides(data, "strides")


def _scalar_name(tensor: Tensor) -> str:
    return dtypes.SCALAR_TYPE_NAMES[tensor.dtype.name]


def _product(backend: Any, a: Any, b: Any) -> Any:
    """a @ b with one of them compressed (dense @ compressed as (b.T @ a.T).T), or both (a CSR
    result)."""
    if type(a) is coo.SparseCOO or type(b) is coo.SparseCOO:
        raise RuntimeError("mm: autodiff multiplies a compressed sparse matrix by a dense or a "
                           "compressed one")
    if type(a) is SparseCompressed and type(b) is SparseCompressed:
        product = coo.sparse_matmul(backend, compressed.to_coo(backend, a),
                                    compressed.to_coo(backend, b))
        return compressed.from_coo(backend, product, compressed.layouts.sparse_csr)
    if type(a) is SparseCompressed:
        return compressed.matmul(backend, a, b)
    swapped = compressed.matmul(backend, compressed.transposed(backend, b),
                                backend.permute_dims(a, (1, 0)))
    return backend.permute_dims(swapped, (1, 0))


def _check_dtypes(backend: Any, a: Any, b: Any) -> None:
    first, second = backend.dtype_name(a), backend.dtype_name(b)
    if first != second:
        raise RuntimeError(f"expected scalar type {dtypes.SCALAR_TYPE_NAMES[first]} but found "
                           f"{dtypes.SCALAR_TYPE_NAMES[second]}")


def addmm_sum(backend: Any, input: Any, product: Any, *, beta: Any, alpha: Any) -> Any:
    """beta * input + alpha * product; no input (torch.sparse.mm) adds nothing, and beta == 0
    ignores input, nan and inf included, as PyTorch's addmm does."""
    if alpha != 1:
        product = backend.multiply(product, alpha)
    if input is None:
        return product
    if beta == 0:
        return backend.add(product, backend.zeros_like(product))
    term = input if beta == 1 else backend.multiply(input, beta)
    return backend.add(backend.broadcast_to(term, product.shape), product)


def sparse_addmm_backward(ctx: Any, grad: Tensor) -> tuple[Any, Any, Any]:
    """The backward of beta * input + alpha * (sparse @ dense), either sparse layout: the
    sparse operand's gradient is the class's `sparse_grad` (its layout's, or dense)."""
    sparse, dense = ctx.saved_tensors
    needs = ctx.needs_input_grad
    grad_input = grad_sparse = grad_dense = None
    if needs[0]:
        grad_input = grad if ctx.beta == 1 else grad * ctx.beta
    if needs[1]:
        grad_sparse = type(ctx).sparse_grad(ctx, grad, dense)
        if ctx.alpha != 1:
            grad_sparse = grad_sparse * ctx.alpha
    if needs[2]:
        grad_dense = sparse.t().mm(grad)
        if ctx.alpha != 1:
            grad_dense = grad_dense * ctx.alpha
    return grad_input, grad_sparse, grad_dense


class CompressedMm(Function):
    """mm with a compressed operand: a dense result and dense gradients, as in PyTorch."""

    node_name = "MmBackward0"
    jvp = auto_multilinear
    takes_layout_data = True

    @staticmethod
    def forward(ctx: Any, a: Any, b: Any) -> Any:
        _check_dtypes(ctx.backend, a, b)
        ctx.save_for_backward(a, b)
        return _product(ctx.backend, a, b)

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> tuple[Tensor | None, Tensor | None]:
        a, b = ctx.saved_tensors
        needs = ctx.needs_input_grad
        return (grad.mm(b.t()) if needs[0] else None,
                a.t().mm(grad) if needs[1] else None)


class CompressedMv(Function):
    """A compressed matrix times a dense vector; the matrix's gradient is dense."""

    node_name = "MvBackward0"
    jvp = auto_multilinear
    takes_layout_data = True

    @staticmethod
    def forward(ctx: Any, a: Any, v: Any) -> Any:
        backend = ctx.backend
        if type(a) is not SparseCompressed or isinstance(v, LayoutData):
            raise RuntimeError("mv: autodiff multiplies a compressed matrix by a dense vector")
        _check_dtypes(backend, a, v)
        ctx.save_for_backward(a, v)
        column = compressed.matmul(backend, a, backend.reshape(v, (-1, 1)))
        return backend.reshape(column, (a.shape[0],))

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> tuple[Tensor | None, Tensor | None]:
        a, v = ctx.saved_tensors
        needs = ctx.needs_input_grad
        return (grad.outer(v) if needs[0] else None,
                a.t().mv(grad) if needs[1] else None)


class CompressedVectorMatrix(Function):
    """A dense vector times a compressed matrix (PyTorch: unsqueeze, mm, squeeze_); the
    matrix's gradient is dense."""

    node_name = "SqueezeBackward4"
    jvp = auto_multilinear
    takes_layout_data = True

    @staticmethod
    def forward(ctx: Any, v: Any, a: Any) -> Any:
        backend = ctx.backend
        if type(a) is not SparseCompressed or isinstance(v, LayoutData):
            raise RuntimeError("matmul: autodiff multiplies a dense vector by a compressed "
                               "matrix")
        _check_dtypes(backend, v, a)
        ctx.save_for_backward(v, a)
        column = compressed.matmul(backend, compressed.transposed(backend, a),
                                   backend.reshape(v, (-1, 1)))
        return backend.reshape(column, (a.shape[1],))

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> tuple[Tensor | None, Tensor | None]:
        v, a = ctx.saved_tensors
        needs = ctx.needs_input_grad
        return (a.mv(grad) if needs[0] else None,
                v.outer(grad) if needs[1] else None)


class CompressedAddmm(Function):
    """torch.addmm with a compressed mat1 or mat2: beta * input + alpha * (mat1 @ mat2), with
    PyTorch's dense gradients for both factors."""

    node_name = "AddmmBackward0"
    takes_layout_data = True

    @staticmethod
    def forward(ctx: Any, input: Any, mat1: Any, mat2: Any, *, beta: Any, alpha: Any) -> Any:
        backend = ctx.backend
        if isinstance(input, LayoutData):
            raise RuntimeError("addmm: autodiff adds a dense input to a compressed product")
        _check_dtypes(backend, mat1, mat2)
        ctx.beta, ctx.alpha = beta, alpha
        ctx.save_for_backward(mat1, mat2)
        product = _product(backend, mat1, mat2)
        if type(product) is SparseCompressed:
            raise RuntimeError("addmm: autodiff multiplies one compressed matrix by a dense one")
        return addmm_sum(backend, input, product, beta=beta, alpha=alpha)

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> tuple[Any, Any, Any]:
        mat1, mat2 = ctx.saved_tensors
        needs = ctx.needs_input_grad
        scaled = grad if ctx.alpha == 1 else grad * ctx.alpha
        return ((grad if ctx.beta == 1 else grad * ctx.beta) if needs[0] else None,
                scaled.mm(mat2.t()) if needs[1] else None,
                mat1.t().mm(scaled) if needs[2] else None)

    @staticmethod
    def jvp(ctx: Any, input: Tensor | None, mat1: Tensor | None,
            mat2: Tensor | None) -> Tensor | None:
        args, kwargs, _ = ctx._dual_call
        alpha, beta = kwargs["alpha"], kwargs["beta"]
        terms = [None if input is None or beta == 0 else input * beta]
        if mat1 is not None:
            terms.append(_product_term(mat1, args[2], alpha))
        if mat2 is not None:
            terms.append(_product_term(args[1], mat2, alpha))
        return sum_terms(terms)


class CompressedSparseAddmm(Function):
    """beta * input + alpha * (compressed @ dense); the compressed operand's gradient is
    compressed, at its indices; `input` may be absent (torch.sparse.mm)."""

    node_name = "SparseAddmmBackward0"
    takes_layout_data = True

    @staticmethod
    def forward(ctx: Any, input: Any, sparse: Any, dense: Any, *, beta: Any,
                alpha: Any) -> Any:
        backend = ctx.backend
        if type(sparse) is not SparseCompressed or type(dense) in (SparseCompressed,
                                                                   coo.SparseCOO):
            raise RuntimeError("addmm: autodiff multiplies a compressed sparse matrix by a "
                               "dense one here")
        _check_dtypes(backend, sparse, dense)
        ctx.beta, ctx.alpha, ctx.like = beta, alpha, sparse
        ctx.save_for_backward(sparse, dense)
        product = compressed.matmul(backend, sparse, dense)
        return addmm_sum(backend, input, product, beta=beta, alpha=alpha)

    backward = staticmethod(sparse_addmm_backward)

    @staticmethod
    def sparse_grad(ctx: Any, grad: Tensor, dense: Tensor) -> Tensor:
        """The compressed operand's gradient (before alpha): at its indices."""
        return CompressedMask.apply(grad.mm(dense.t()), like=ctx.like)


    @staticmethod
    def jvp(ctx: Any, input: Tensor | None, sparse: Tensor | None,
            dense: Tensor | None) -> Tensor | None:
        args, kwargs, _ = ctx._dual_call
        alpha = kwargs["alpha"]
        terms = [None if input is None or kwargs["beta"] == 0 else input * kwargs["beta"]]
        if sparse is not None:
            terms.append(_product_term(sparse, args[2], alpha))
        if dense is not None:
            terms.append(CompressedSparseAddmm.apply(None, args[1], dense, beta=0, alpha=alpha))
        return sum_terms(terms)


def _product_term(first: Tensor, second: Tensor, alpha: Any) -> Tensor:
    """alpha * (first @ second), either of any layout (a tangent's)."""
    product = first.mm(second)
    return product if alpha == 1 else product * alpha


def sparse_mm(mat1: Tensor, mat2: Tensor) -> Tensor:
    """torch.sparse.mm with a compressed mat1."""
    if is_compressed(mat2):
        return mat1.mm(mat2)
    _check_matrices(mat1, mat2)
    return CompressedSparseAddmm.apply(None, mat1, mat2, beta=0, alpha=1)


def sparse_addmm(input: Tensor, mat1: Tensor, mat2: Tensor, *, beta: Any = 1,
                 alpha: Any = 1) -> Tensor:
    """torch.sparse.addmm with a compressed mat1."""
    _check_matrices(mat1, mat2)
    expected = (mat1.shape[0], mat2.shape[1])
    if tuple(input.shape) != expected:
        input = input.expand(expected)
    if input.dtype is not mat1.dtype:
        raise RuntimeError(f"expected scalar type {_scalar_name(mat1)} but found "
                           f"{_scalar_name(input)}")
    return CompressedSparseAddmm.apply(input, mat1, mat2, beta=beta, alpha=alpha)


def _check_matrices(mat1: Tensor, mat2: Tensor) -> None:
    if mat1.dim() != 2 or mat2.dim() != 2:
        raise RuntimeError(f"{'mat1' if mat1.dim() != 2 else 'mat2'} must be a matrix")
    if mat1.shape[1] != mat2.shape[0]:
        raise RuntimeError(f"mat1 and mat2 shapes cannot be multiplied ({mat1.shape[0]}x"
                           f"{mat1.shape[1]} and {mat2.shape[0]}x{mat2.shape[1]})")


# ----------------------------------------------------------------------------- sampled_addmm
class SampledAddmm(Function):
    """beta * input + alpha * (mat1 @ mat2) at input's specified elements only: a CSR result
    with input's indices. Each element's product is one row of mat1 dotted with one column of
    mat2: O(nnz * k), nothing of the dense product's size."""

    node_name = "SparseSampledAddmmBackward0"
    takes_layout_data = True

    @staticmethod
    def forward(ctx: Any, input: Any, mat1: Any, mat2: Any, *, beta: Any, alpha: Any) -> Any:
        backend = ctx.backend
        ctx.beta, ctx.alpha, ctx.like = beta, alpha, input
        ctx.save_for_backward(mat1, mat2)
        rows, columns = compressed.block_indices(backend, input)
        left = backend.take(mat1, rows, axis=0)  # (nnz, k)
        right = backend.take(backend.permute_dims(mat2, (1, 0)), columns, axis=0)
        products = backend.sum(backend.multiply(left, right), axis=1)
        if alpha != 1:
            products = backend.multiply(products, alpha)
        if beta == 0:
            return input.with_values(products)
        term = input.values if beta == 1 else backend.multiply(input.values, beta)
        return input.with_values(backend.add(term, products))

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> tuple[Any, Any, Any]:
        mat1, mat2 = ctx.saved_tensors
        needs = ctx.needs_input_grad
        grad = CompressedMask.apply(grad, like=ctx.like)
        grad_input = grad_mat1 = grad_mat2 = None
        if needs[0]:
            grad_input = grad if ctx.beta == 1 else grad * ctx.beta
        if needs[1]:
            grad_mat1 = grad.mm(mat2.t())
            if ctx.alpha != 1:
                grad_mat1 = grad_mat1 * ctx.alpha
        if needs[2]:
            grad_mat2 = mat1.t().mm(grad)
            if ctx.alpha != 1:
                grad_mat2 = grad_mat2 * ctx.alpha
        return grad_input, grad_mat1, grad_mat2

    @staticmethod
    def jvp(ctx: Any, input: Tensor | None, mat1: Tensor | None,
            mat2: Tensor | None) -> Tensor | None:
        args, kwargs, _ = ctx._dual_call
        primal, beta, alpha = args[0], kwargs["beta"], kwargs["alpha"]
        terms: list[Tensor | None] = []
        if input is not None and beta != 0:
            term = CompressedMask.apply(input, like=primal._data)
            terms.append(term if beta == 1 else term * beta)
        if mat1 is not None:
            terms.append(SampledAddmm.apply(primal, mat1, args[2], beta=0, alpha=alpha))
        if mat2 is not None:
            terms.append(SampledAddmm.apply(primal, args[1], mat2, beta=0, alpha=alpha))
        return sum_terms(terms)


def sampled_addmm(input: Tensor, mat1: Tensor, mat2: Tensor, *, beta: Any = 1,
                  alpha: Any = 1, out: Tensor | None = None) -> Tensor:
    """torch.sparse.sampled_addmm: beta * input + alpha * (mat1 @ mat2) at the specified
    elements of input, a sparse CSR matrix."""
    if out is not None:
        raise RuntimeError("sampled_addmm: autodiff takes no out= tensor here")
    data = input._data
    if type(data) is not SparseCompressed:
        key = "Sparse" if type(data) is coo.SparseCOO else ""
        refuse_operator("aten::sparse_sampled_addmm", input.device, key)
    if data.layout is not compressed.layouts.sparse_csr:
        raise RuntimeError("sampled_addmm: Expected result to have sparse csr layout, but got "
                           f"{compressed.LAYOUT_NAMES[data.layout]}")
    if mat1.dtype is not mat2.dtype:
        raise RuntimeError("sampled_addmm: Expected mat1 and mat2 to have the same dtype, but "
                           f"got {_scalar_name(mat1)} and {_scalar_name(mat2)}")
    if mat1.dim() != 2 or mat2.dim() != 2 or data.dense_dim or data.batch_dim:
        raise RuntimeError("sampled_addmm: autodiff samples products of matrices into a CSR "
                           "matrix without batch or dense dims")
    if mat1.shape[1] != mat2.shape[0]:
        raise RuntimeError(f"sampled_addmm: mat1 and mat2 shapes cannot be multiplied "
                           f"({mat1.shape[0]}x{mat1.shape[1]} and {mat2.shape[0]}x"
                           f"{mat2.shape[1]})")
    if data.shape[0] != mat1.shape[0]:
        raise RuntimeError("sampled_addmm: self.shape[-2] must match mat1.shape[-2]")
    if data.shape[1] != mat2.shape[1]:
        raise RuntimeError("sampled_addmm: self.shape[-1] must match mat2.shape[-1]")
    if input.dtype is not mat1.dtype:
        raise RuntimeError(f"sampled_addmm: Expected mat1 and self to have the same dtype, but "
                           f"got {_scalar_name(mat1)} and {_scalar_name(input)}")
    return SampledAddmm.apply(input, mat1, mat2, beta=beta, alpha=alpha)
