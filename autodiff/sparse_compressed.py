"""A compressed sparse tensor's arrays (PyTorch's layouts `torch.sparse_csr`, `sparse_csc`,
`sparse_bsr` and `sparse_bsc`) and the array-level work on them: expanding the compressed
indices, densifying, gathering a dense array at the specified elements, building one from a
dense array or a COO one, transposing, the product with a dense matrix, PyTorch's invariant
checks. No gradients here: the ops in `ops/sparse_compressed.py` and
`ops/sparse_compressed_products.py` record them.

Rows are compressed in CSR and BSR (`crow_indices`, then `col_indices`), columns in CSC and BSC
(`ccol_indices`, then `row_indices`). The blocked layouts index blocks of `blocksize` elements,
and their values are (nnz, *blocksize, *dense sizes). No batch dims: the two sparse dims come
first, then the dense ones.
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
    """layout: one of COMPRESSED_LAYOUTS; compressed_indices: (compressed size + 1,);
    plain_indices: (nnz,); values: (nnz, *blocksize, *dense sizes); shape: the full sizes;
    blocksize: (rows, columns) of a block, (1, 1) for CSR and CSC."""

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
    def dense_dim(self) -> int:
        return len(self.shape) - 2

    @property
    def nnz(self) -> int:
        return int(self.plain_indices.shape[0])

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
    rows, columns, values = element_indices(backend, data)
    keys = _keys(backend, rows, columns, data.shape[1])
    dense = coo.scatter_rows(backend, keys, data.shape[0] * data.shape[1], values)
    return backend.reshape(dense, data.shape)


def gather(backend: Any, dense: Any, data: SparseCompressed) -> Any:
    """dense's elements at data's specified elements, shaped as data's values."""
    rows, columns, _ = element_indices(backend, data)
    flat = backend.reshape(dense, (dense.shape[0] * dense.shape[1], *dense.shape[2:]))
    picked = backend.take(flat, _keys(backend, rows, columns, dense.shape[1]), axis=0)
    return backend.reshape(picked, data.values.shape)


def to_coo(backend: Any, data: SparseCompressed) -> coo.SparseCOO:
    """The same specified elements as a coalesced COO tensor."""
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


def from_dense(backend: Any, dense: Any, layout: Any,
               blocksize: tuple[int, int] = (1, 1)) -> SparseCompressed:
    """dense in a compressed layout: the blocks (elements) with a non-zero are specified."""
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
    count = data.compressed_indices.shape[0]
    values_shape = (0, *data.values.shape[1:])
    index_dtype = backend.dtype_name(data.plain_indices)
    return SparseCompressed(data.layout, backend.zeros((count,), index_dtype),
                            backend.zeros((0,), index_dtype), backend.zeros(values_shape, dtype),
                            data.shape, data.blocksize)


def transposed(backend: Any, data: SparseCompressed) -> SparseCompressed:
    """The transpose of the two sparse dims: the same arrays in the other layout (CSR <-> CSC,
    BSR <-> BSC, each block transposed)."""
    other = {layouts.sparse_csr: layouts.sparse_csc, layouts.sparse_csc: layouts.sparse_csr,
             layouts.sparse_bsr: layouts.sparse_bsc,
             layouts.sparse_bsc: layouts.sparse_bsr}[data.layout]
    values = data.values
    if data.blocked:
        values = backend.permute_dims(values, (0, 2, 1, *range(3, values.ndim)))
    shape = (data.shape[1], data.shape[0], *data.shape[2:])
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
    indices sorted and distinct, the compressed indices' steps."""
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
