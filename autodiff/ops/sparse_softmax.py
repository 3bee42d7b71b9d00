"""torch.sparse.softmax and torch.sparse.log_softmax of a sparse COO tensor: along `dim`, the
entries it has are normalised among themselves (the ones it lacks count as -inf, so they stay
absent). The result has the input's coalesced indices; the gradient reaches the input's values
at them (SparseSoftmaxBackward0 / SparseLogSoftmaxBackward0), written with recorded ops."""

from __future__ import annotations

from typing import Any

from .. import dtypes
from .. import sparse_coo as coo
from ..creation import zeros
from ..function import Function
from ..sparse_compressed import SparseCompressed
from ..sparse_dispatch import refuse_operator
from ..tensor import Tensor, _wrap, _wrap_dim
from ._checks import scalar_type_name
from .sparse_coo import SparseCooTensor, SparseMask, require_sparse, sparse_values


def _groups(backend: Any, sparse: coo.SparseCOO, dim: int) -> tuple[Any, int]:
    """Each entry's group, numbered: the entries that share every sparse index but `dim`'s."""
    others = [d for d in range(sparse.sparse_dim) if d != dim]
    if not others:
        return backend.zeros((sparse.nnz,), "int64"), 1 if sparse.nnz else 0
    indices = backend.stack([sparse.indices[d, :] for d in others], axis=0)
    keys = coo.flat_keys(backend, indices, tuple(sparse.shape[d] for d in others))
    unique, inverse, _ = backend.unique(keys, return_inverse=True)
    return backend.reshape(inverse, (-1,)), int(unique.shape[0])


def _group_max(backend: Any, values: Any, groups: Any, count: int) -> Any:
    """The largest value of each group, per dense element: (count, *dense sizes)."""
    width = _size(values.shape[1:])
    rows = backend.reshape(values, (values.shape[0], width))
    out = backend.full((count, width), float("-inf"), backend.dtype_name(values))
    columns = backend.reshape(backend.arange(0, width, 1, "int64"), (1, width))
    out = backend.index_reduce(out, (backend.reshape(groups, (-1, 1)), columns), rows, "amax")
    return backend.reshape(out, (count, *values.shape[1:]))


def _size(shape: tuple[int, ...]) -> int:
    total = 1
    for size in shape:
        total *= size
    return total


class SparseSoftmax(Function):
    node_name = "SparseSoftmaxBackward0"
    forward_ad_name = "_sparse_softmax"  # PyTorch has no forward derivative for it
    takes_layout_data = True
    log = False

    @staticmethod
    def forward(ctx: Any, input: Any, *, dim: int) -> Any:
        backend = ctx.backend
        sparse = coo.coalesce(backend, input)
        values = sparse.values
        ctx.shape, ctx.indices = sparse.shape, sparse.indices
        if dim >= sparse.sparse_dim:  # a dense dim: each entry's values on their own
            axis = dim - sparse.sparse_dim + 1
            ctx.groups, ctx.axis = None, axis
            shifted = backend.subtract(values, backend.max(values, axis=axis, keepdims=True)) \
                if values.shape[axis] else values
            exp = backend.exp(shifted)
            sums = backend.sum(exp, axis=axis, keepdims=True)
        else:
            groups, count = _groups(backend, sparse, dim)
            ctx.groups, ctx.count = groups, count
            maxima = backend.take(_group_max(backend, values, groups, count), groups, axis=0)
            shifted = backend.subtract(values, maxima)
            exp = backend.exp(shifted)
            sums = backend.take(coo.scatter_rows(backend, groups, count, exp), groups, axis=0)
        out = backend.subtract(shifted, backend.log(sums)) if ctx.log else \
            backend.divide(exp, sums)
        result = coo.SparseCOO(sparse.indices, out, sparse.shape, True)
        ctx.save_for_backward(result)
        return result

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> Tensor:
        (output,) = ctx.saved_tensors
        backend = ctx.backend
        # The gradient at the output's entries (one it lacks gets none).
        grad_values = sparse_values(SparseMask.apply(grad, indices=ctx.indices, coalesced=True))
        out_values = sparse_values(output)
        if ctx.log:
            input_grad = grad_values - out_values.exp() * _group_sum(ctx, backend, grad_values)
        else:
            product = grad_values * out_values
            input_grad = product - out_values * _group_sum(ctx, backend, product)
        return SparseCooTensor.apply(input_grad, indices=ctx.indices, shape=ctx.shape,
                                     coalesced=True)


class SparseLogSoftmax(SparseSoftmax):
    node_name = "SparseLogSoftmaxBackward0"
    forward_ad_name = "_sparse_log_softmax"
    log = True


def _group_sum(ctx: Any, backend: Any, values: Tensor) -> Tensor:
    """Each entry's group total of `values` (recorded), at the entry."""
    if ctx.groups is None:
        return values.sum(ctx.axis, keepdim=True)
    groups = _wrap(ctx.groups, backend)
    totals = zeros((ctx.count, *values.shape[1:]), dtype=values.dtype, device=values.device)
    return totals.index_add(0, groups, values).index_select(0, groups)


def _softmax(op: type[SparseSoftmax], name: str, input: Tensor, dim: int,
             dtype: Any) -> Tensor:
    if type(input._data) is SparseCompressed:  # PyTorch has no kernel for them
        refuse_operator(f"aten::_sparse_{name}", input.device, "SparseCsr")
    data = require_sparse(input, name)
    dim = _wrap_dim(dim, data.ndim)
    if dtype is not None:
        input = input.to(dtypes.to_dtype(dtype))
    if not input.dtype.is_floating_point:
        raise NotImplementedError(f'"softmax" not implemented for \'{scalar_type_name(input)}\'')
    return op.apply(input, dim=dim)


def softmax(input: Tensor, dim: int, dtype: Any = None) -> Tensor:
    """torch.sparse.softmax: the softmax along `dim` of the entries a sparse tensor has."""
    return _softmax(SparseSoftmax, "softmax", input, dim, dtype)


def log_softmax(input: Tensor, dim: int, dtype: Any = None) -> Tensor:
    """torch.sparse.log_softmax: the log of `softmax`'s entries, computed stably."""
    return _softmax(SparseLogSoftmax, "log_softmax", input, dim, dtype)
