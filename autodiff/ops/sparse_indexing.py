"""select and index_select of a sparse COO tensor (and so `s[i]`, `s[:, i]`).

Along a sparse dim both keep the entries whose index there is wanted, in the input's entry
order (index_select: output position by output position), as PyTorch's kernels do; a select
that leaves no sparse dim gives the dense sum of the kept values. Along a dense dim the values
are indexed and the indices stay. Each entry of the result comes from one entry of the input;
the gradient goes back to the positions the result's entries came from (a sparse gradient),
written with recorded ops.
(PyTorch 2.13 runs these forwards but its backward of them refuses a sparse gradient.)
"""

from __future__ import annotations

from typing import Any

from .. import sparse_coo as coo
from ..creation import zeros
from ..function import Function
from ..jvp_rules import auto_linear
from ..tensor import Tensor, _wrap
from .sparse_coo import SparseCooTensor, sparse_values

_FULL = slice(None)


def _int64(backend: Any, array: Any) -> Any:
    return backend.astype(array, "int64")


class _SparseIndexing(Function):
    """What select and index_select share: the backward. The gradient at the result, coalesced
    (each position once), goes back to the positions of the input it came from: along a
    sparse dim its index rows are mapped back, along a dense dim its values are placed in
    zeros. The input's duplicate entries so get the gradient once, as their sum does."""

    takes_layout_data = True
    jvp = auto_linear

    @staticmethod
    def _keep(ctx: Any, input: coo.SparseCOO, dim: int) -> None:
        ctx.shape, ctx.dim = input.shape, dim
        ctx.sparse_dim, ctx.dense_sizes = input.sparse_dim, input.values.shape[1:]
        ctx.dense_sum = False

    @staticmethod
    def _entries(ctx: Any, input: coo.SparseCOO, dim: int, sources: Any,
                 dim_row: Any | None, shape: tuple[int, ...]) -> coo.SparseCOO:
        """The result made of input's entries `sources`: `dim`'s index row replaced by
        `dim_row` (index_select) or dropped (select)."""
        backend = ctx.backend
        rows = []
        for row in range(input.sparse_dim):
            if row == dim:
                if dim_row is not None:
                    rows.append(dim_row)
            else:
                rows.append(backend.take(input.indices[row, :], sources, axis=0))
        indices = backend.stack(rows, axis=0)
        values = backend.take(input.values, sources, axis=0)
        return coo.SparseCOO(indices, values, shape, sources.shape[0] < 2)

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> Tensor:
        backend = ctx.backend
        if ctx.dense_sum:  # the one position selected, all of the gradient
            indices = backend.full((1, 1), ctx.index, "int64")
            return SparseCooTensor.apply(grad.unsqueeze(0), indices=indices, shape=ctx.shape,
                                         coalesced=True)
        if not grad.is_sparse:
            grad = grad.to_sparse(ctx.sparse_dim if ctx.dim >= ctx.sparse_dim
                                  else ctx.sparse_dim - ctx.drops_dim)
        grad = grad.coalesce()
        indices, values = grad._data.indices, sparse_values(grad)
        dim = ctx.dim
        if dim >= ctx.sparse_dim:  # the values' own indexing, undone into zeros
            axis = dim - ctx.sparse_dim + 1
            zero = zeros((values.shape[0], *ctx.dense_sizes), dtype=values.dtype,
                         device=values.device)
            if ctx.drops_dim:
                values = values.unsqueeze(axis)
            values = zero.index_add(axis, _wrap(ctx.positions, backend), values)
        else:
            rows = [indices[row, :] for row in range(indices.shape[0])]
            if ctx.drops_dim:
                rows.insert(dim, backend.full((indices.shape[1],), ctx.index, "int64"))
            else:
                rows[dim] = backend.take(ctx.positions, rows[dim], axis=0)
            indices = backend.stack(rows, axis=0)
        return SparseCooTensor.apply(values, indices=indices, shape=ctx.shape, coalesced=False)


class SparseSelect(_SparseIndexing):
    node_name = "SelectBackward0"
    drops_dim = True

    @staticmethod
    def forward(ctx: Any, input: Any, *, dim: int, index: int) -> Any:
        backend = ctx.backend
        _SparseIndexing._keep(ctx, input, dim)
        ctx.index, ctx.positions = index, backend.full((1,), index, "int64")
        shape = input.shape[:dim] + input.shape[dim + 1:]
        if dim >= input.sparse_dim:
            axis = dim - input.sparse_dim + 1
            values = backend.getitem(input.values, (*(_FULL,) * axis, index, ...))
            return coo.SparseCOO(input.indices, values, shape, input.coalesced)
        sources = _int64(backend, backend.nonzero(backend.equal(input.indices[dim, :],
                                                                index))[0])
        if input.sparse_dim == 1:  # no sparse dim left: the values' sum, dense
            ctx.dense_sum = True
            total = backend.sum(backend.take(input.values, sources, axis=0), axis=0)
            return backend.astype(total, backend.dtype_name(input.values), copy=False)
        return _SparseIndexing._entries(ctx, input, dim, sources, None, shape)


class SparseIndexSelect(_SparseIndexing):
    node_name = "IndexSelectBackward0"
    drops_dim = False

    @staticmethod
    def forward(ctx: Any, input: Any, *, dim: int, index: Any) -> Any:
        backend = ctx.backend
        _SparseIndexing._keep(ctx, input, dim)
        ctx.positions = index
        shape = (*input.shape[:dim], index.shape[0], *input.shape[dim + 1:])
        if dim >= input.sparse_dim:
            values = backend.take(input.values, index, axis=dim - input.sparse_dim + 1)
            return coo.SparseCOO(input.indices, values, shape, input.coalesced)
        # Each wanted index meets the run of entries that have it (entries sorted by it,
        # stably): the pairs enumerated as in sparse_coo.sparse_matmul.
        keys = input.indices[dim, :]
        order = _int64(backend, backend.argsort(keys, stable=True))
        ordered = backend.take(keys, order, axis=0)
        start = backend.searchsorted(ordered, index)
        counts = backend.subtract(backend.searchsorted(ordered, index, right=True), start)
        ends = backend.cumulative_sum(counts)
        total = int(backend.item(ends[-1])) if counts.shape[0] else 0
        pair = backend.arange(0, total, 1, "int64")
        position = _int64(backend, backend.searchsorted(ends, pair, right=True))
        within = backend.subtract(pair, backend.take(backend.subtract(ends, counts), position,
                                                     axis=0))
        sources = backend.take(order, backend.add(backend.take(start, position, axis=0),
                                                  within), axis=0)
        return _SparseIndexing._entries(ctx, input, dim, _int64(backend, sources), position,
                                        shape)


def select(input: Tensor, dim: int, index: int) -> Tensor:
    """select of a sparse tensor: dim wrapped and index checked and made non-negative."""
    return SparseSelect.apply(input, dim=dim, index=index)


def index_select(input: Tensor, dim: int, index: Tensor) -> Tensor:
    """index_select of a sparse tensor along a wrapped dim; PyTorch's checks of `index`."""
    backend = input._backend
    if index.ndim != 1 or index.dtype.name != "int64" or index.is_sparse:
        raise IndexError("index_select() argument index must be 1-D strided (non-sparse) "
                         "long-tensor.")
    array = index.to(input.device)._data
    size = input.shape[dim]
    if array.shape[0]:
        for bound in (backend.min(array), backend.max(array)):
            value = int(backend.item(bound))
            if not -size <= value < size:
                raise IndexError(f"index_select(): index contains {value} that is out of "
                                 f"range for tensor of size {list(input.shape)} at dimension "
                                 f"{dim}")
        array = backend.remainder(array, size)
    return SparseIndexSelect.apply(input, dim=dim, index=array)
