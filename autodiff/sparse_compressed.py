"""A compressed sparse tensor's arrays (PyTorch's layouts `torch.sparse_csr`, `sparse_csc`,
`sparse_bsr` and `sparse_bsc`) and the array-level work on them: expanding the compressed
indices, densifying, gathering a dense array at the specified elements, building one from a
dense array or a COO one, transposing, the product with a dense matrix, PyTorch's invariant
checks. No gradients here: the ops in `ops/sparse_compressed.py` and
`ops/sparse_compressed_products.py` record them.

Rows are compressed in CSR and BSR (`crow_indices`, then `col_indices`), columns in CSC and BSC
(`ccol_indices`, then `row_indices`). The blocked layouts index blocks of `blocksize` elements,
and their values are (nnz, *blocksize, *dense sizes). Batch dims come first, as in PyTorch:
compressed indices (*batch, compressed size + 1), plain indices (*batch, nnz), values (*batch,
nnz, ...), every batch with the same nnz; the array work runs on the batches stacked along the
compressed dim as one unbatched tensor (`stacked`, `stacked_dense`).
"""

from __future__ import annotations

import itertools
from typing import Any, NoReturn

from . import layouts, sparse_dispatch
from . import sparse_coo as coo
from .layout_dispatch import LayoutData

COMPRESSED_LAYOUTS = (layouts.sparse_csr, layouts.sparse_csc, layouts.sparse_bsr,
                      layouts.sparse_bsc)
ROW_COMPRESSED = (layouts.sparse_csr, layouts.sparse_bsr)
BLOCKED = (layouts.sparse_bsr, layouts.sparse_bsc)

# The names of the two index arrays, per layout (PyTorch's accessors).
INDEX_NAMES = {layouts.sparse_csr: ("crow_indices", "col_indices"),
               layouts.sparse_bsr: ("crow_indices", "col_indices"),
               layouts.sparse_csc: ("ccol_indices", "row_indices"),
               layouts.sparse_bsc: ("ccol_indices", "row_indices")}
# PyTorch's names of the layouts in its messages.
LAYOUT_NAMES = {layouts.sparse_csr: "SparseCsr", layouts.sparse_csc: "SparseCsc",
                layouts.sparse_bsr: "SparseBsr", layouts.sparse_bsc: "SparseBsc",
                layouts.sparse_coo: "Sparse", layouts.strided: "Strided"}



def no_strides(data: SparseCompressed, what: str) -> NoReturn:
    """PyTorch's refusal of strided-memory questions (strides, is_contiguous)."""
    raise RuntimeError(f"Sparse {LAYOUT_NAMES[data.layout][6:].upper()} tensors do not have "
                       f"{what}")


class SparseCompressed(LayoutData):
    """layout: one of COMPRESSED_LAYOUTS; compressed_indices: (*batch, compressed size + 1);
    plain_indices: (*batch, nnz); values: (*batch, nnz, *blocksize, *dense sizes); shape: the
    full sizes (*batch, rows, columns, *dense sizes); blocksize: (rows, columns) of a block,
    (1, 1) for CSR and CSC."""

    __slots__ = ("blocksize", "compressed_indices", "layout", "plain_indices", "shape",
                 "values")
    layout_name = "sparse compressed"

    def __init__(self, layout: Any, compressed_indices: Any, plain_indices: Any, values: Any,
                 shape: tuple[int, ...], blocksize: tuple[int, int] = (1, 1)) -> None:
        self.layout = layout
        self.compressed_indices = compressed_indices
        self.plain_indices = plain_indices
        self.values = values
        self.shape = tuple(shape)
        self.blocksize = (int(blocksize[0]), int(blocksize[1]))

    def dispatch(self, op: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        return sparse_dispatch.dispatch_compressed(op, args, kwargs)

    def refuse(self, operator: str, tensor: Any) -> NoReturn:
        sparse_dispatch.refuse_operator(operator, tensor.device, "SparseCsr")

    @property
    def ndim(self) -> int:
        return len(self.shape)

    @property
    def dtype(self) -> Any:
        return self.values.dtype

    @property
    def batch_dim(self) -> int:
        return len(self.compressed_indices.shape) - 1

    @property
    def dense_dim(self) -> int:
        return len(self.shape) - self.batch_dim - 2

    @property
    def nnz(self) -> int:
        """The specified elements (blocks) of each batch."""
        return int(self.plain_indices.shape[-1])

    @property
    def sparse_shape(self) -> tuple[int, int]:
        batch = self.batch_dim
        return (self.shape[batch], self.shape[batch + 1])

    @property
    def blocked(self) -> bool:
        return self.layout in BLOCKED

    @property
    def rows_compressed(self) -> bool:
        return self.layout in ROW_COMPRESSED

    def with_values(self, values: Any) -> SparseCompressed:
        """The same indices with other values (of the same leading length)."""
        return SparseCompressed(self.layout, self.compressed_indices, self.plain_indices, values,
                                self.shape, self.blocksize)

    def copied(self, backend: Any) -> SparseCompressed:
        return SparseCompressed(self.layout, backend.asarray(self.compressed_indices, copy=True),
                                backend.asarray(self.plain_indices, copy=True),
                                backend.asarray(self.values, copy=True), self.shape,
                                self.blocksize)

    def same_indices(self, other: SparseCompressed) -> bool:
        """Whether both hold the very same index arrays (a gradient of this tensor does)."""
        return (self.layout is other.layout and self.shape == other.shape
                and self.compressed_indices is other.compressed_indices
                and self.plain_indices is other.plain_indices)


# ----------------------------------------------------------------------------- batches
def _batches(data: SparseCompressed) -> int:
    count = 1
    for size in data.shape[:data.batch_dim]:
        count *= size
    return count


def stacked(backend: Any, data: SparseCompressed) -> SparseCompressed:
    """A batched tensor as one unbatched tensor: its batches stacked along the compressed dim
    (rows in CSR and BSR, columns in CSC and BSC), the compressed indices offset by the
    elements before each batch. An unbatched one as it is."""
    if not data.batch_dim:
        return data
    batches, nnz = _batches(data), data.nnz
    count = data.compressed_indices.shape[-1] - 1
    index_dtype = backend.dtype_name(data.compressed_indices)
    compressed = backend.astype(backend.reshape(data.compressed_indices, (batches, count + 1)),
                                "int64")
    offsets = backend.reshape(backend.multiply(backend.arange(0, batches, 1, "int64"), nnz),
                              (batches, 1))
    body = backend.reshape(backend.add(compressed[:, :-1], offsets), (batches * count,))
    end = backend.full((1,), batches * nnz, "int64")
    compressed = backend.astype(backend.concat([body, end], axis=0), index_dtype)
    plain = backend.reshape(data.plain_indices, (batches * nnz,))
    values = backend.reshape(data.values, (batches * nnz, *data.values.shape[data.batch_dim + 1:]))
    rows, columns = data.sparse_shape
    dense = data.shape[data.batch_dim + 2:]
    shape = (batches * rows, columns, *dense) if data.rows_compressed else \
        (rows, batches * columns, *dense)
    return SparseCompressed(data.layout, compressed, plain, values, shape, data.blocksize)


def stacked_dense(backend: Any, dense: Any, batch_dim: int, rows_compressed: bool) -> Any:
    """A dense (*batch, rows, columns, *dense sizes) array laid out as `stacked` lays out a
    tensor of its size: the batches along rows, or along columns."""
    if not batch_dim:
        return dense
    batch = dense.shape[:batch_dim]
    batches = 1
    for size in batch:
        batches *= size
    rows, columns = dense.shape[batch_dim], dense.shape[batch_dim + 1]
    rest = dense.shape[batch_dim + 2:]
    flat = backend.reshape(dense, (batches, rows, columns, *rest))
    if rows_compressed:
        return backend.reshape(flat, (batches * rows, columns, *rest))
    flat = backend.permute_dims(flat, (1, 0, *range(2, flat.ndim)))
    return backend.reshape(flat, (rows, batches * columns, *rest))


def unstacked_dense(backend: Any, dense: Any, shape: tuple[int, ...], batch_dim: int,
                    rows_compressed: bool) -> Any:
    """The inverse of `stacked_dense`: the (*batch, rows, columns, ...) array of `shape`."""
    if not batch_dim or rows_compressed:
        return backend.reshape(dense, shape)
    batches = 1
    for size in shape[:batch_dim]:
        batches *= size
    rows, columns = shape[batch_dim], shape[batch_dim + 1]
    rest = shape[batch_dim + 2:]
    flat = backend.reshape(dense, (rows, batches, columns, *rest))
    flat = backend.permute_dims(flat, (1, 0, *range(2, flat.ndim)))
    return backend.reshape(flat, shape)


def unstacked(backend: Any, data: SparseCompressed, batch: tuple[int, ...]) -> SparseCompressed:
    """The inverse of `stacked`: a stacked tensor split into `batch` batches, each with the
    same nnz, or PyTorch's refusal."""
    if not batch:
        return data
    batches = 1
    for size in batch:
        batches *= size
    count = (data.compressed_indices.shape[0] - 1) // batches
    index_dtype = backend.dtype_name(data.compressed_indices)
    compressed = backend.astype(data.compressed_indices, "int64")
    positions = backend.multiply(backend.arange(0, batches + 1, 1, "int64"), count)
    starts = backend.take(compressed, positions, axis=0)
    counts = backend.tolist(backend.subtract(starts[1:], starts[:-1]))
    if any(count_ != counts[0] for count_ in counts):
        raise RuntimeError("Expect the same number of specified elements per batch.")
    nnz = counts[0] if counts else 0
    body = backend.reshape(compressed[:-1], (batches, count))
    body = backend.subtract(body, backend.reshape(starts[:-1], (batches, 1)))
    end = backend.full((batches, 1), nnz, "int64")
    compressed = backend.astype(backend.concat([body, end], axis=1), index_dtype)
    compressed = backend.reshape(compressed, (*batch, count + 1))
    plain = backend.reshape(data.plain_indices, (*batch, nnz))
    values = backend.reshape(data.values, (*batch, nnz, *data.values.shape[1:]))
    rows, columns = data.shape[0], data.shape[1]
    if data.rows_compressed:
        rows //= batches
    else:
        columns //= batches
    shape = (*batch, rows, columns, *data.shape[2:])
    return SparseCompressed(data.layout, compressed, plain, values, shape, data.blocksize)


# ----------------------------------------------------------------------------- indices
def expand(backend: Any, compressed: Any, nnz: int) -> Any:
    """Each entry's compressed index (its row in CSR): the compressed indices expanded."""
    positions = backend.arange(0, nnz, 1, "int64")
    bounds = backend.astype(compressed[1:], "int64")
    return backend.searchsorted(bounds, positions, right=True)


def compress(backend: Any, sorted_indices: Any, count: int) -> Any:
    """The compressed indices (count + 1,) of sorted indices below `count`."""
    return backend.searchsorted(sorted_indices, backend.arange(0, count + 1, 1, "int64"))


def block_indices(backend: Any, data: SparseCompressed) -> tuple[Any, Any]:
    """Each entry's (row, column) in blocks (in elements for CSR and CSC), int64."""
    compressed = expand(backend, data.compressed_indices, data.nnz)
    plain = backend.astype(data.plain_indices, "int64")
    return (compressed, plain) if data.rows_compressed else (plain, compressed)


def element_indices(backend: Any, data: SparseCompressed) -> tuple[Any, Any, Any]:
    """Every specified element's row and column, and the values as (elements, *dense sizes),
    in the order of the values (each block row-major)."""
    rows, columns = block_indices(backend, data)
    values = data.values
    if not data.blocked:
        return rows, columns, values
    height, width = data.blocksize
    within_rows = backend.reshape(backend.arange(0, height, 1, "int64"), (1, height, 1))
    within_columns = backend.reshape(backend.arange(0, width, 1, "int64"), (1, 1, width))
    rows = backend.add(backend.multiply(backend.reshape(rows, (-1, 1, 1)), height), within_rows)
    columns = backend.add(backend.multiply(backend.reshape(columns, (-1, 1, 1)), width),
                          within_columns)
    shape = (data.nnz, height, width)
    rows = backend.reshape(backend.broadcast_to(rows, shape), (-1,))
    columns = backend.reshape(backend.broadcast_to(columns, shape), (-1,))
    return rows, columns, backend.reshape(values, (-1, *values.shape[3:]))


def _keys(backend: Any, rows: Any, columns: Any, width: int) -> Any:
    return backend.add(backend.multiply(rows, width), columns)


# ----------------------------------------------------------------------------- conversions
def to_dense(backend: Any, data: SparseCompressed) -> Any:
    if data.batch_dim:
        dense = to_dense(backend, stacked(backend, data))
        return unstacked_dense(backend, dense, data.shape, data.batch_dim, data.rows_compressed)
    rows, columns, values = element_indices(backend, data)
    keys = _keys(backend, rows, columns, data.shape[1])
    dense = coo.scatter_rows(backend, keys, data.shape[0] * data.shape[1], values)
    return backend.reshape(dense, data.shape)


def gather(backend: Any, dense: Any, data: SparseCompressed) -> Any:
    """dense's elements at data's specified elements, shaped as data's values."""
    if data.batch_dim:
        flat = stacked_dense(backend, dense, data.batch_dim, data.rows_compressed)
        return backend.reshape(gather(backend, flat, stacked(backend, data)), data.values.shape)
    rows, columns, _ = element_indices(backend, data)
    flat = backend.reshape(dense, (dense.shape[0] * dense.shape[1], *dense.shape[2:]))
    picked = backend.take(flat, _keys(backend, rows, columns, dense.shape[1]), axis=0)
    return backend.reshape(picked, data.values.shape)


def to_coo(backend: Any, data: SparseCompressed) -> coo.SparseCOO:
    """The same specified elements as a coalesced COO tensor (the batch dims sparse too)."""
    if data.batch_dim:
        flat = to_coo(backend, stacked(backend, data))
        rows, columns = flat.indices[0, :], flat.indices[1, :]
        height, width = data.sparse_shape
        stacked_index, within = (rows, columns) if data.rows_compressed else (columns, rows)
        size = height if data.rows_compressed else width
        batch = backend.floor_divide(stacked_index, size)
        inner = backend.subtract(stacked_index, backend.multiply(batch, size))
        rows, columns = (inner, within) if data.rows_compressed else (within, inner)
        leading = coo.unflatten_keys(backend, batch, data.shape[:data.batch_dim])
        indices = backend.concat([leading, backend.stack([rows, columns], axis=0)], axis=0)
        return coo.coalesce(backend, coo.SparseCOO(indices, flat.values, data.shape, False))
    rows, columns, values = element_indices(backend, data)
    indices = backend.stack([rows, columns], axis=0)
    in_order = data.layout is layouts.sparse_csr  # CSR's entries are row-major already
    return coo.coalesce(backend, coo.SparseCOO(indices, values, data.shape, in_order))


def from_coo(backend: Any, sparse: coo.SparseCOO, layout: Any) -> SparseCompressed:
    """A COO tensor with two sparse dims in CSR or CSC."""
    sparse = coo.coalesce(backend, sparse)
    rows, columns = sparse.indices[0, :], sparse.indices[1, :]
    values = sparse.values
    if layout is layouts.sparse_csr:
        return SparseCompressed(layout, compress(backend, rows, sparse.shape[0]), columns,
                                values, sparse.shape)
    order = backend.sort_order(_keys(backend, columns, rows, sparse.shape[0]))
    columns = backend.take(columns, order, axis=0)
    return SparseCompressed(layout, compress(backend, columns, sparse.shape[1]),
                            backend.take(rows, order, axis=0),
                            backend.take(values, order, axis=0), sparse.shape)


def from_dense(backend: Any, dense: Any, layout: Any, blocksize: tuple[int, int] = (1, 1),
               batch_dim: int = 0) -> SparseCompressed:
    """dense in a compressed layout: the blocks (elements) with a non-zero are specified;
    its first `batch_dim` dims are batch dims, each batch with the same nnz."""
    if batch_dim:
        rows_compressed = layout in ROW_COMPRESSED
        flat = from_dense(backend, stacked_dense(backend, dense, batch_dim, rows_compressed),
                          layout, blocksize)
        return unstacked(backend, flat, tuple(dense.shape[:batch_dim]))
    height, width = blocksize
    rows, columns = dense.shape[0] // height, dense.shape[1] // width
    # (block rows, block columns, height, width, *dense sizes)
    blocks = backend.reshape(dense, (rows, height, columns, width, *dense.shape[2:]))
    blocks = backend.permute_dims(blocks, (0, 2, 1, 3, *range(4, dense.ndim + 2)))
    present = backend.not_equal(blocks, backend.zeros((), backend.dtype_name(dense)))
    present = backend.any(present, axis=tuple(range(2, dense.ndim + 2)))
    if layout in ROW_COMPRESSED:
        block_rows, block_columns = backend.nonzero(present)
        compressed, plain, count = block_rows, block_columns, rows
    else:
        block_columns, block_rows = backend.nonzero(backend.permute_dims(present, (1, 0)))
        compressed, plain, count = block_columns, block_rows, columns
    compressed = backend.astype(compressed, "int64")
    plain = backend.astype(plain, "int64")
    keys = _keys(backend, backend.astype(block_rows, "int64"),
                 backend.astype(block_columns, "int64"), columns)
    flat = backend.reshape(blocks, (rows * columns, *blocks.shape[2:]))
    values = backend.take(flat, keys, axis=0)
    if layout not in BLOCKED:
        values = backend.reshape(values, (values.shape[0], *dense.shape[2:]))
    return SparseCompressed(layout, compress(backend, compressed, count), plain, values,
                            dense.shape, blocksize)


def emptied(backend: Any, data: SparseCompressed, dtype: str) -> SparseCompressed:
    """The same size, layout and blocksize with no specified elements."""
    batch = data.compressed_indices.shape[:-1]
    values_shape = (*batch, 0, *data.values.shape[data.batch_dim + 1:])
    index_dtype = backend.dtype_name(data.plain_indices)
    return SparseCompressed(data.layout, backend.zeros(data.compressed_indices.shape, index_dtype),
                            backend.zeros((*batch, 0), index_dtype),
                            backend.zeros(values_shape, dtype), data.shape, data.blocksize)


def transposed(backend: Any, data: SparseCompressed) -> SparseCompressed:
    """The transpose of the two sparse dims: the same arrays in the other layout (CSR <-> CSC,
    BSR <-> BSC, each block transposed)."""
    other = {layouts.sparse_csr: layouts.sparse_csc, layouts.sparse_csc: layouts.sparse_csr,
             layouts.sparse_bsr: layouts.sparse_bsc,
             layouts.sparse_bsc: layouts.sparse_bsr}[data.layout]
    values, batch = data.values, data.batch_dim
    if data.blocked:
        order = (*range(batch + 1), batch + 2, batch + 1, *range(batch + 3, values.ndim))
        values = backend.permute_dims(values, order)
    shape = (*data.shape[:batch], data.shape[batch + 1], data.shape[batch],
             *data.shape[batch + 2:])
    return SparseCompressed(other, data.compressed_indices, data.plain_indices, values, shape,
                            (data.blocksize[1], data.blocksize[0]))


def matmul(backend: Any, data: SparseCompressed, dense: Any) -> Any:
    """data (m, k) @ dense (k, n): each specified element's row of dense, scaled, added into
    its row of the result."""
    rows, columns, values = element_indices(backend, data)
    picked = backend.take(dense, columns, axis=0)
    scaled = backend.multiply(picked, backend.reshape(values, (-1, 1)))
    return coo.scatter_rows(backend, rows, data.shape[0], scaled)


# ----------------------------------------------------------------------------- invariants
def check_invariants(backend: Any, data: SparseCompressed) -> None:
    """PyTorch's checks of a compressed tensor's indices (check_invariants=True), in its
    order: the ends of the compressed indices, the plain indices' range, each run of plain
    indices sorted and distinct, the compressed indices' steps (batch by batch)."""
    if data.batch_dim:
        batches = _batches(data)
        compressed_all = backend.reshape(data.compressed_indices, (batches, -1))
        plain_all = backend.reshape(data.plain_indices, (batches, data.nnz))
        values = backend.reshape(data.values, (batches, *data.values.shape[data.batch_dim:]))
        for batch in range(batches):
            check_invariants(backend, SparseCompressed(
                data.layout, compressed_all[batch], plain_all[batch], values[batch],
                data.shape[data.batch_dim:], data.blocksize))
        return
    compressed_name, plain_name = INDEX_NAMES[data.layout]
    plain_dim, compressed_dim = ("ncols", "nrows") if data.rows_compressed else \
        ("nrows", "ncols")
    count = (data.shape[1] // data.blocksize[1] if data.rows_compressed
             else data.shape[0] // data.blocksize[0])
    compressed = backend.tolist(data.compressed_indices)
    plain = backend.tolist(data.plain_indices)
    if compressed[0] != 0:
        _unsatisfied(f"{compressed_name}[..., 0] == 0")
    if compressed[-1] != data.nnz:
        _unsatisfied(f"{compressed_name}[..., -1] == nnz")
    if plain and (min(plain) < 0 or max(plain) >= count):
        _unsatisfied(f"0 <= {plain_name} < {plain_dim}")
    for start, stop in itertools.pairwise(compressed):
        run = plain[start:stop]
        if any(later <= earlier for earlier, later in itertools.pairwise(run)):
            _unsatisfied(f"{plain_name}[..., {compressed_name}[..., i - 1]:{compressed_name}"
                         f"[..., i]] for all i = 1, ..., {compressed_dim} are sorted and "
                         "distinct along the last dimension values")
    if any(not 0 <= later - earlier <= count
           for earlier, later in itertools.pairwise(compressed)):
        _unsatisfied(f"0 <= {compressed_name}[..., 1:] - {compressed_name}[..., :-1] <= "
                     f"{plain_dim}")


def _unsatisfied(condition: str) -> NoReturn:
    raise RuntimeError(f"`{condition}` is not satisfied.")
