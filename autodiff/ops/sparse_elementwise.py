"""The sparse forms of elementwise ops, sums and transposes: add, mul, neg, sum (Tensor.sum
and torch.sparse.sum), t and transpose of a sparse COO tensor.

Each keeps the dense op's node name; the gradient layouts are PyTorch's: `dense + sparse`
and `sparse.sum(...)` give a sparse input a dense gradient, `torch.sparse.sum(s, dim)` a
sparse one.
"""

from __future__ import annotations

from typing import Any

from .. import dtypes
from .. import sparse_coo as coo
from ..function import Function
from ..jvp_rules import auto_linear, auto_multilinear, sum_terms
from ..layout_dispatch import LayoutData
from ..saved_fields import fields, value
from ..tensor import Tensor
from ._dims import reduction_axes
from ._promotion import promote, with_number
from .sparse_coo import SparseCooTensor, SparseMask, sparse_values, to_dense

_SCALARS = (bool, int, float, complex)


def _sizes_text(shape: tuple[int, ...]) -> str:
    return str(list(shape))


# ----------------------------------------------------------------------------- add
class SparseAdd(Function):
    """dense + sparse (dense) and sparse + sparse (sparse: the two index lists joined)."""

    node_name = "AddBackward0"
    saved_fields = fields(alpha=value("alpha", default=1))
    takes_layout_data = True

    @staticmethod
    def forward(ctx: Any, a: Any, b: Any, *, alpha: Any = 1) -> Any:
        # `alpha` already scaled b, as for the dense Add: kept for grad_fn._saved_alpha.
        if alpha != 1:
            ctx.alpha = alpha
        backend = ctx.backend
        if type(a) is not coo.SparseCOO:
            if type(b) is not coo.SparseCOO or type(a) in _SCALARS:
                raise RuntimeError("add(sparse, dense) is not supported. Use add(dense, "
                                   "sparse) instead.")
            if tuple(a.shape) != b.shape:
                raise RuntimeError(
                    f"add: expected 'self' and 'other' to have same size, but self has size "
                    f"{_sizes_text(tuple(a.shape))} while other has size {_sizes_text(b.shape)} "
                    "(FYI: dense-sparse addition does not currently support broadcasting)")
            dense, values = promote(backend, a, b.values, elementwise=False)
            return backend.add(dense, coo.to_dense(backend, b.with_values(values)))
        if type(b) is not coo.SparseCOO:
            raise RuntimeError("add(sparse, dense) is not supported. Use add(dense, sparse) "
                               "instead.")
        if a.shape != b.shape:
            raise RuntimeError("add: expected sizes of 'self' and 'other' to match, but "
                               f"{_sizes_text(a.shape)} != {_sizes_text(b.shape)}")
        left, right = promote(backend, a.values, b.values, elementwise=False)
        joined = coo.SparseCOO(backend.concat([a.indices, b.indices], axis=1),
                               backend.concat([left, right], axis=0), a.shape, False)
        # Two coalesced operands are merged (PyTorch's result is coalesced then).
        return coo.coalesce(backend, joined) if a.coalesced and b.coalesced else joined

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> tuple[Tensor, Tensor]:
        return grad, grad

    @staticmethod
    def jvp(ctx: Any, first: Tensor | None, second: Tensor | None) -> Tensor | None:
        # Linear in both together; a dense tangent first (sparse + dense is refused).
        if first is not None and first.is_sparse and second is not None:
            first, second = second, first
        return sum_terms([first, second])


class SparseSub(SparseAdd):
    """dense - sparse and sparse - sparse: the sum with the second operand negated."""

    node_name = "SubBackward0"

    @staticmethod
    def forward(ctx: Any, a: Any, b: Any, *, alpha: Any = 1) -> Any:
        if type(b) is coo.SparseCOO:
            b = b.with_values(ctx.backend.negative(b.values))
        return SparseAdd.forward(ctx, a, b, alpha=alpha)

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> tuple[Tensor, Tensor]:
        return grad, -grad

    @staticmethod
    def jvp(ctx: Any, first: Tensor | None, second: Tensor | None) -> Tensor | None:
        return SparseAdd.jvp(ctx, first, None if second is None else -second)


# ----------------------------------------------------------------------------- mul, neg
class SparseMul(Function):
    """A sparse tensor times a number or a dense tensor (broadcast to it): the same indices,
    each value scaled."""

    node_name = "MulBackward0"
    jvp = auto_multilinear
    takes_layout_data = True

    @staticmethod
    def forward(ctx: Any, a: Any, b: Any) -> Any:
        backend = ctx.backend
        if type(a) is not coo.SparseCOO:
            a, b = b, a  # multiplication commutes
            ctx.swapped = True
        else:
            ctx.swapped = False
        ctx.save_for_backward(a, b)
        if type(b) is coo.SparseCOO:
            return _intersection_product(backend, a, b)
        if isinstance(b, LayoutData):  # a compressed tensor: PyTorch makes a COO result
            raise RuntimeError("Expected result Tensor to be of format CSR")
        if type(b) in _SCALARS:
            values, number = promote(backend, a.values, b)
            return a.with_values(with_number(backend, backend.multiply, values, number))
        dense = backend.broadcast_to(b, a.shape)
        values, factors = promote(backend, a.values, coo.gather(backend, dense, a.indices))
        return a.with_values(backend.multiply(values, factors))

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> tuple[Any, Any]:
        sparse, other = ctx.saved_tensors
        sparse_grad = grad * other
        other_grad = None
        if isinstance(other, Tensor) and ctx.needs_input_grad[0 if ctx.swapped else 1]:
            other_grad = grad * sparse if other.is_sparse else to_dense(to_dense(grad) * sparse)
        return (other_grad, sparse_grad) if ctx.swapped else (sparse_grad, other_grad)


def _intersection_product(backend: Any, a: coo.SparseCOO, b: coo.SparseCOO) -> coo.SparseCOO:
    """sparse * sparse: the entries both have (a coalesced), each the product."""
    if a.shape != b.shape:
        raise RuntimeError(f"mul: expected 'self' and 'other' to have same sizes, but "
                           f"{_sizes_text(a.shape)} != {_sizes_text(b.shape)}")
    indices, left, right = coo.intersection(backend, a, b)
    left, right = promote(backend, left, right, elementwise=False)
    return coo.SparseCOO(indices, backend.multiply(left, right), a.shape, True)


class SparseNeg(Function):
    node_name = "NegBackward0"
    jvp = auto_linear
    takes_layout_data = True

    @staticmethod
    def forward(ctx: Any, a: Any) -> Any:
        return a.with_values(ctx.backend.negative(a.values))

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> Tensor:
        return -grad


# ----------------------------------------------------------------------------- sums
def _sum_dtype(backend: Any, values: Any, dtype: str | None) -> str:
    """sum's result dtype: the one asked for, else integers and bool as int64."""
    if dtype is not None:
        return dtype
    name = backend.dtype_name(values)
    if backend.is_integer(values.dtype) or backend.is_bool(values.dtype):
        return "int64"
    return name


def _sum_sparse(backend: Any, a: coo.SparseCOO, axes: tuple[int, ...], keepdim: bool,
                dtype: str | None) -> Any:
    """a summed over `axes`: a dense 0-d array over all dims, else a coalesced sparse one."""
    values = backend.astype(a.values, _sum_dtype(backend, a.values, dtype))
    if len(axes) == a.ndim and not keepdim:
        return backend.sum(values)
    sparse_dim = a.sparse_dim
    dense_axes = tuple(1 + axis - sparse_dim for axis in axes if axis >= sparse_dim)
    if dense_axes:
        values = backend.sum(values, axis=dense_axes, keepdims=keepdim)
    kept = [dim for dim in range(sparse_dim) if dim not in axes or keepdim]
    rows = [a.indices[dim, :] if dim not in axes else backend.zeros((a.nnz,), "int64")
            for dim in kept]
    shape = tuple(1 if dim in axes else size for dim, size in enumerate(a.shape)
                  if keepdim or dim not in axes)
    if not rows:  # every sparse dim summed: one entry holds the total
        return backend.sum(values, axis=0)
    indices = backend.stack(rows, axis=0)
    return coo.coalesce(backend, coo.SparseCOO(indices, values, shape, False))


def _restored(grad: Tensor, shape: tuple[int, ...], axes: tuple[int, ...],
              keepdim: bool) -> Tensor:
    """grad of a sum over `axes`, dense, expanded back to the input's shape."""
    grad = to_dense(grad)
    if not keepdim:
        for axis in sorted(axes):
            grad = grad.unsqueeze(axis)
    return grad.expand(shape)


class SparseSum(Function):
    """Tensor.sum of a sparse tensor; its input's gradient is dense, as in PyTorch."""

    node_name = "SumBackward0"
    jvp = auto_linear
    takes_layout_data = True

    @staticmethod
    def forward(ctx: Any, a: Any, *, axes: tuple[int, ...] | None, keepdim: bool,
                dtype: str | None) -> Any:
        axes = tuple(range(a.ndim)) if axes is None else axes
        ctx.shape, ctx.axes, ctx.keepdim = a.shape, axes, keepdim
        return _sum_sparse(ctx.backend, a, axes, keepdim, dtype)

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> Tensor:
        return _restored(grad, ctx.shape, ctx.axes, ctx.keepdim)


class SparseSumDim(SparseSum):
    node_name = "SumBackward1"


class SparseSumOfSparse(Function):
    """torch.sparse.sum over given dims; the input's gradient is sparse, at its coalesced
    indices (a repeated index is one entry of the tensor: its gradient is counted once)."""

    node_name = "SparseSumBackward0"
    jvp = auto_linear
    takes_layout_data = True

    @staticmethod
    def forward(ctx: Any, a: Any, *, axes: tuple[int, ...], dtype: str | None) -> Any:
        ctx.sparse, ctx.axes = coo.coalesce(ctx.backend, a), axes
        return _sum_sparse(ctx.backend, a, axes, False, dtype)

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> Tensor:
        sparse, axes = ctx.sparse, ctx.axes
        sparse_dim = sparse.sparse_dim
        kept = [dim for dim in range(sparse_dim) if dim not in axes]
        if kept:
            backend = ctx.backend
            rows = backend.stack([sparse.indices[dim, :] for dim in kept], axis=0)
            values = sparse_values(SparseMask.apply(grad, indices=rows, coalesced=False))
        else:
            values = to_dense(grad).unsqueeze(0).expand(
                sparse.nnz, *grad.shape[len(grad.shape) - (sparse.dense_dim - sum(
                    1 for axis in axes if axis >= sparse_dim)):])
        for axis in sorted(axis for axis in axes if axis >= sparse_dim):
            values = values.unsqueeze(1 + axis - sparse_dim)
        values = values.expand(sparse.nnz, *sparse.shape[sparse_dim:])
        return SparseCooTensor.apply(values, indices=sparse.indices, shape=sparse.shape,
                                     coalesced=True)


def sparse_sum(input: Tensor, dim: Any = None, dtype: Any = None) -> Tensor:
    """torch.sparse.sum: a sparse tensor summed over `dim` (all dims: a dense 0-d tensor)."""
    dtype_name = None if dtype is None else dtypes.to_dtype(dtype).name
    if type(input._data) is not coo.SparseCOO:
        return input.sum(dtype=dtype) if dim is None else input.sum(dim, dtype=dtype)
    if dim is None:
        return SparseSum.apply(input, axes=None, keepdim=False, dtype=dtype_name)
    axes = reduction_axes(dim, input.dim())
    every = tuple(range(input.dim())) if axes is None else tuple(sorted(axes))
    return SparseSumOfSparse.apply(input, axes=every, dtype=dtype_name)


# ----------------------------------------------------------------------------- transposes
class SparseTranspose(Function):
    """Two sparse dims swapped: their index rows swap (the result is not coalesced)."""

    node_name = "TransposeBackward0"
    jvp = auto_linear
    takes_layout_data = True

    @staticmethod
    def forward(ctx: Any, a: Any, *, dim0: int, dim1: int) -> Any:
        ctx.dims = (dim0, dim1)
        order = list(range(a.sparse_dim))
        order[dim0], order[dim1] = dim1, dim0
        indices = ctx.backend.stack([a.indices[row, :] for row in order], axis=0)
        shape = list(a.shape)
        shape[dim0], shape[dim1] = shape[dim1], shape[dim0]
        return coo.SparseCOO(indices, a.values, tuple(shape), a.coalesced and dim0 == dim1)

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> Tensor:
        return grad.transpose(*ctx.dims)


class SparseT(SparseTranspose):
    node_name = "TBackward0"


class SparseTransposeInPlace(SparseTranspose):
    node_name = "TransposeBackward1"


class SparseTInPlace(SparseTranspose):
    node_name = "TBackward1"


def transpose(input: Tensor, dim0: int, dim1: int, op: type[SparseTranspose]) -> Tensor:
    """transpose (or t, as `op`) of a sparse tensor: dims already wrapped."""
    sparse_dim = input._data.sparse_dim
    if dim0 >= sparse_dim or dim1 >= sparse_dim:
        raise RuntimeError("sparse transpose: transposed dimensions must be sparse Got "
                           f"sparse_dim: {sparse_dim}, d0: {dim0}, d1: {dim1}")
    return op.apply(input, dim0=dim0, dim1=dim1)


def t(input: Tensor, op: type[SparseTranspose] = SparseT) -> Tensor:
    data = input._data
    if data.sparse_dim > 2 or data.dense_dim != 0:
        raise RuntimeError(
            f"t() expects a tensor with <= 2 sparse and 0 dense dimensions, but got "
            f"{data.sparse_dim} sparse and {data.dense_dim} dense dimensions")
    return transpose(input, 0, max(data.ndim - 1, 0), op)
