"""A sparse COO tensor's arrays (PyTorch's layout `torch.sparse_coo`) and the array-level work
on them: coalescing, densifying, gathering a dense array at the indices, the product with a
dense matrix. No gradients here: the ops in `ops/sparse_coo.py` and `ops/sparse_products.py`
record them.

A sparse tensor is a `Tensor` whose `_data` is a `SparseCOO` in place of an array: layout data
(`layout_dispatch.py`), so `Function.apply` hands a dense op given one to `SparseCOO.dispatch`,
which runs the op's `sparse_form` or refuses it in PyTorch's words (`sparse_dispatch.py`).
"""

from __future__ import annotations

from typing import Any, NoReturn

from . import sparse_dispatch
from .layout_dispatch import LayoutData


class SparseCOO(LayoutData):
    """indices: int64 (sparse_dim, nnz); values: (nnz, *dense sizes); shape: the full sizes;
    coalesced: the indices are known sorted (row-major) and unique."""

    __slots__ = ("coalesced", "indices", "shape", "values")
    layout_name = "sparse COO"

    def __init__(self, indices: Any, values: Any, shape: tuple[int, ...],
                 coalesced: bool) -> None:
        self.indices = indices
        self.values = values
        self.shape = tuple(shape)
        self.coalesced = coalesced

    def dispatch(self, op: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        return sparse_dispatch.dispatch(op, args, kwargs)

    def refuse(self, operator: str, tensor: Any) -> NoReturn:
        sparse_dispatch.refuse_operator(operator, tensor.device)

    @property
    def ndim(self) -> int:
        return len(self.shape)

    @property
    def dtype(self) -> Any:
        return self.values.dtype

    @property
    def sparse_dim(self) -> int:
        return int(self.indices.shape[0])

    @property
    def dense_dim(self) -> int:
        return len(self.shape) - self.sparse_dim

    @property
    def nnz(self) -> int:
        return int(self.indices.shape[1])

    def copied(self, backend: Any) -> SparseCOO:
        return SparseCOO(backend.asarray(self.indices, copy=True),
                         backend.asarray(self.values, copy=True), self.shape, self.coalesced)

    def with_values(self, values: Any, coalesced: bool | None = None) -> SparseCOO:
        """The same indices with other values (of the same leading length)."""
        return SparseCOO(self.indices, values, self.shape,
                         self.coalesced if coalesced is None else coalesced)


class InvariantChecks:
    """torch.sparse.check_sparse_tensor_invariants' global switch: whether a new sparse
    tensor's indices are checked when sparse_coo_tensor is not told (off, as in PyTorch)."""

    enabled = False


invariant_checks = InvariantChecks()


def _product(sizes: tuple[int, ...]) -> int:
    total = 1
    for size in sizes:
        total *= size
    return total


def flat_keys(backend: Any, indices: Any, sizes: tuple[int, ...]) -> Any:
    """Each index column's row-major position among the sparse dims `sizes` (int64)."""
    keys = backend.zeros((indices.shape[1],), "int64")
    for dim, size in enumerate(sizes):
        keys = backend.add(backend.multiply(keys, size), indices[dim, :])
    return keys


def unflatten_keys(backend: Any, keys: Any, sizes: tuple[int, ...]) -> Any:
    """flat_keys' inverse: the (len(sizes), n) indices of row-major positions."""
    rows = []
    for size in reversed(sizes):
        rows.append(backend.remainder(keys, size))
        keys = backend.floor_divide(keys, size)
    if not rows:
        return backend.zeros((0, keys.shape[0]), "int64")
    return backend.stack(rows[::-1], axis=0)


def _rows(values: Any, backend: Any) -> Any:
    """values (nnz, *dense) as a 2-D (nnz, dense elements) array."""
    return backend.reshape(values, (values.shape[0], _product(values.shape[1:])))


def scatter_rows(backend: Any, keys: Any, count: int, values: Any) -> Any:
    """A (count, *dense) array of zeros with each row of `values` added at its key (repeated
    keys summed)."""
    rows = _rows(values, backend)
    width = rows.shape[1]
    out = backend.zeros((count, width), backend.dtype_name(values))
    # Every element addressed by integer arrays (rows x columns): the portable scatter key.
    columns = backend.reshape(backend.arange(0, width, 1, "int64"), (1, width))
    out = backend.index_add(out, (backend.reshape(keys, (-1, 1)), columns), rows)
    return backend.reshape(out, (count, *values.shape[1:]))


def coalesce(backend: Any, sparse: SparseCOO) -> SparseCOO:
    """The same tensor with sorted, unique indices (repeated indices' values summed)."""
    if sparse.coalesced:
        return sparse
    sizes = sparse.shape[:sparse.sparse_dim]
    keys = flat_keys(backend, sparse.indices, sizes)
    unique, inverse, _ = backend.unique(keys, return_inverse=True)
    values = scatter_rows(backend, inverse, unique.shape[0], sparse.values)
    return SparseCOO(unflatten_keys(backend, unique, sizes), values, sparse.shape, True)


def to_dense(backend: Any, sparse: SparseCOO) -> Any:
    sizes = sparse.shape[:sparse.sparse_dim]
    keys = flat_keys(backend, sparse.indices, sizes)
    dense = scatter_rows(backend, keys, _product(sizes), sparse.values)
    return backend.reshape(dense, sparse.shape)


def gather(backend: Any, dense: Any, indices: Any) -> Any:
    """dense's elements (or dense sub-arrays) at each index column: (nnz, *dense sizes)."""
    sparse_dim = indices.shape[0]
    sizes = tuple(dense.shape[:sparse_dim])
    flat = backend.reshape(dense, (_product(sizes), *dense.shape[sparse_dim:]))
    return backend.take(flat, flat_keys(backend, indices, sizes), axis=0)


def lookup(backend: Any, sparse: SparseCOO, indices: Any) -> Any:
    """sparse's values at each index column of `indices` (zero where it has none): a binary
    search of the coalesced keys, so nothing of the dense size is made."""
    sparse = coalesce(backend, sparse)
    sizes = sparse.shape[:sparse.sparse_dim]
    keys = flat_keys(backend, sparse.indices, sizes)
    wanted = flat_keys(backend, indices, sizes)
    count = keys.shape[0]
    dtype = backend.dtype_name(sparse.values)
    if count == 0:
        return backend.zeros((wanted.shape[0], *sparse.shape[sparse.sparse_dim:]), dtype)
    position = backend.clip(backend.searchsorted(keys, wanted), 0, count - 1)
    found = backend.equal(backend.take(keys, position, axis=0), wanted)
    values = backend.take(sparse.values, position, axis=0)
    mask = backend.reshape(found, (found.shape[0], *(1,) * (values.ndim - 1)))
    return backend.where(mask, values, backend.zeros((), dtype))


def intersection(backend: Any, a: SparseCOO, b: SparseCOO) -> tuple[Any, Any, Any]:
    """The entries a and b (of one shape) both have: their indices, row-major, and a's and b's
    values there."""
    a, b = coalesce(backend, a), coalesce(backend, b)
    sizes = a.shape[:a.sparse_dim]
    present = backend.isin(flat_keys(backend, a.indices, sizes),
                           flat_keys(backend, b.indices, sizes))
    kept = backend.astype(backend.nonzero(present)[0], "int64")
    indices = backend.take(a.indices, kept, axis=1)
    return indices, backend.take(a.values, kept, axis=0), lookup(backend, b, indices)


def nonzero_indices(backend: Any, dense: Any, sparse_dim: int) -> Any:
    """The (sparse_dim, nnz) row-major indices of dense's non-zero entries over its first
    `sparse_dim` dims (an entry whose dense part has any non-zero)."""
    present = backend.not_equal(dense, backend.zeros((), backend.dtype_name(dense)))
    if sparse_dim < dense.ndim:
        present = backend.any(present, axis=tuple(range(sparse_dim, dense.ndim)))
    if sparse_dim == 0:
        return backend.zeros((0, 1), "int64")
    found = backend.nonzero(present)
    return backend.stack([backend.astype(row, "int64") for row in found], axis=0)


def sparse_matmul(backend: Any, a: SparseCOO, b: SparseCOO) -> SparseCOO:
    """a (m, k) @ b (k, n), both sparse: every non-zero of a meets the run of b's rows with its
    column (b coalesced: rows sorted, found by binary search); the products are summed per
    result index. O(pairs), coalesced; sums that cancel stay as zeros, as in PyTorch."""
    a, b = coalesce(backend, a), coalesce(backend, b)
    a_rows, a_columns = a.indices[0, :], a.indices[1, :]
    b_rows, b_columns = b.indices[0, :], b.indices[1, :]
    start = backend.searchsorted(b_rows, a_columns)
    counts = backend.subtract(backend.searchsorted(b_rows, a_columns, right=True), start)
    ends = backend.cumulative_sum(counts)
    total = int(backend.item(ends[-1])) if counts.shape[0] else 0
    pair = backend.arange(0, total, 1, "int64")
    from_a = backend.searchsorted(ends, pair, right=True)  # each pair's entry of a
    within = backend.subtract(pair, backend.take(backend.subtract(ends, counts), from_a, axis=0))
    from_b = backend.add(backend.take(start, from_a, axis=0), within)
    values = backend.multiply(backend.take(a.values, from_a, axis=0),
                              backend.take(b.values, from_b, axis=0))
    indices = backend.stack([backend.take(a_rows, from_a, axis=0),
                             backend.take(b_columns, from_b, axis=0)], axis=0)
    return coalesce(backend, SparseCOO(indices, values, (a.shape[0], b.shape[1]), False))


def matmul(backend: Any, sparse: SparseCOO, dense: Any) -> Any:
    """sparse (m, k) @ dense (k, n): each non-zero's row of dense, scaled, added into its row
    of the result (one gather and one scatter-add)."""
    rows, columns = sparse.indices[0, :], sparse.indices[1, :]
    picked = backend.take(dense, columns, axis=0)
    scaled = backend.multiply(picked, backend.reshape(sparse.values, (-1, 1)))
    return scatter_rows(backend, rows, sparse.shape[0], scaled)
