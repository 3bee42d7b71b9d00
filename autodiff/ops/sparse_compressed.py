"""Compressed sparse tensors (layouts `torch.sparse_csr`, `sparse_csc`, `sparse_bsr`,
`sparse_bsc`): sparse_compressed_tensor and its four forms, the conversions from and to dense
and COO tensors and between the layouts, the index and value accessors, and the forms of the
dense ops PyTorch runs on them (elementwise ops on the values, add, sum, transpose). The
products are in `sparse_compressed_products.py`.

A compressed tensor's `_data` is a `SparseCompressed` (`sparse_compressed.py`), batch dims
first where it has them. Gradients keep
PyTorch's layouts: a compressed input gets a compressed gradient with its own indices (the
gradient masked to them: `CompressedMask`) from to_dense, values, the conversions and the
elementwise ops, and a dense one from sum and add with a dense tensor.
"""

from __future__ import annotations

from typing import Any

from .. import dtypes, layouts
from .. import sparse_compressed as compressed
from .. import sparse_coo as coo
from ..creation import tensor as make_tensor
from ..function import Function
from ..jvp_rules import auto_linear, sum_terms
from ..sparse_dispatch import refuse, refuse_operator
from ..tensor import Tensor, _wrap
from ._promotion import promote

SparseCompressed = compressed.SparseCompressed
_SCALARS = (bool, int, float, complex)


def is_compressed(tensor: Any) -> bool:
    return type(getattr(tensor, "_data", None)) is SparseCompressed


def _layout_name(tensor: Tensor) -> str:
    data = tensor._data
    if type(data) is SparseCompressed:
        return compressed.LAYOUT_NAMES[data.layout]
    return "Sparse" if type(data) is coo.SparseCOO else "Strided"


# ----------------------------------------------------------------------------- the values
class SparseCompressedTensor(Function):
    """Values with the indices of `like`; the gradient of the values is the gradient at those
    indices."""

    node_name = "SparseCompressedTensorBackward0"
    jvp = auto_linear
    takes_layout_data = True

    @staticmethod
    def forward(ctx: Any, values: Any, *, like: SparseCompressed) -> Any:
        ctx.like = like
        return like.with_values(values)

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> Tensor:
        return compressed_values(CompressedMask.apply(grad, like=ctx.like))


class CompressedMask(Function):
    """A tensor of any layout read at the specified elements of `like`, as a compressed tensor
    with like's indices (sparse_mask with a compressed mask)."""

    node_name = "SparseMaskBackward0"
    jvp = auto_linear
    takes_layout_data = True

    @staticmethod
    def forward(ctx: Any, input: Any, *, like: SparseCompressed) -> Any:
        backend = ctx.backend
        ctx.input = input
        if type(input) is SparseCompressed:
            if input.same_indices(like):
                return like.with_values(input.values)
            input = compressed.to_dense(backend, input)
        elif type(input) is coo.SparseCOO:
            input = coo.to_dense(backend, input)
        return like.with_values(compressed.gather(backend, input, like))

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> Tensor:
        input = ctx.input
        if type(input) is SparseCompressed:
            return CompressedMask.apply(grad, like=input)
        dense = grad.to_dense()
        if type(input) is coo.SparseCOO:
            return dense.sparse_mask(_wrap(input, ctx.backend))
        return dense


class CompressedValues(Function):
    """values(): the values array; its gradient comes back with the tensor's indices."""

    node_name = "ValuesBackward0"
    jvp = auto_linear
    takes_layout_data = True

    @staticmethod
    def forward(ctx: Any, input: Any) -> Any:
        ctx.like = input
        return input.values

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> Tensor:
        return SparseCompressedTensor.apply(grad, like=ctx.like)


def compressed_values(input: Tensor) -> Tensor:
    return CompressedValues.apply(input)


_VALUES_NODES: dict[type[Function], type[Function]] = {}


def on_values(op: type[Function], input: Tensor, args: tuple[Any, ...],
              kwargs: dict[str, Any]) -> Tensor:
    """An elementwise op that maps 0 to 0 on a compressed tensor: the op on its values, at the
    same indices; the result's node carries the op's name, as PyTorch's does."""
    values = op.apply(compressed_values(input), *args, **kwargs)
    node = _VALUES_NODES.get(op)
    if node is None:
        node = _VALUES_NODES[op] = type(f"Compressed{op._op_name}", (SparseCompressedTensor,),
                                         {"node_name": op.node_name})
    return node.apply(values, like=input._data)


class CompressedMulForm:
    """The compressed form of mul (`__get__` binds the op, as OnValues does): a compressed
    tensor times a number or a 0-d dense tensor (either order) on the values; any other
    factor through `CompressedMul`."""

    def __get__(self, instance: Any, owner: type[Function]) -> _MulOf:
        return _MulOf(owner)


class _MulOf:
    def __init__(self, op: type[Function]) -> None:
        self.op = op

    def apply(self, a: Any, b: Any) -> Tensor:
        if _is_factor(a):
            a, b = b, a
        if _is_factor(b):
            return on_values(self.op, a, (b,), {})
        return CompressedMul.apply(a, b)


def _is_factor(value: Any) -> bool:
    """A number, or a 0-d dense tensor: PyTorch scales the values by it."""
    return type(value) in _SCALARS or (isinstance(value, Tensor) and not value.is_sparse
                                        and not is_compressed(value) and value.dim() == 0)


class CompressedMul(Function):
    """A CSR tensor times a CSR, CSC or COO tensor, or times a dense one of its size (either
    order), as PyTorch's mul_sparse_csr: a CSR result. With a dense factor it has the CSR
    operand's indices; with a sparse one, the elements both have (the other's elements,
    where the other is not coalesced: CSC, an uncoalesced COO). The gradients are
    `grad * other`; PyTorch refuses one whose layout is not its input's (a dense or CSC
    factor's), and so does this."""

    node_name = "MulBackward0"
    takes_layout_data = True

    @staticmethod
    def forward(ctx: Any, a: Any, b: Any) -> Any:
        ctx.save_for_backward(a, b)
        return _multiply(ctx.backend, a, b)

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> tuple[Tensor | None, Tensor | None]:
        a, b = ctx.saved_tensors
        grads: list[Tensor | None] = []
        for index, (input, other) in enumerate(((a, b), (b, a))):
            if not ctx.needs_input_grad[index]:
                grads.append(None)
                continue
            input_grad = grad * (other.conj() if other.is_complex() else other)
            if input_grad.layout is not input.layout:
                raise RuntimeError(
                    f"Function MulBackward0 returned an invalid gradient at index {index} - "
                    f"expected layout {_layout_name(input)} but got {_layout_name(input_grad)}")
            grads.append(input_grad)
        return grads[0], grads[1]

    @staticmethod
    def jvp(ctx: Any, first: Tensor | None, second: Tensor | None) -> Tensor | None:
        args, _, _ = ctx._dual_call
        return sum_terms([None if first is None else first * args[1],
                          None if second is None else args[0] * second])


def _times_dense(backend: Any, a: Any, b: Any) -> SparseCompressed:
    """A CSR tensor times a dense one of its size (either order): the CSR operand's
    elements, each times the dense element there."""
    sparse, dense = (a, b) if type(a) is SparseCompressed else (b, a)
    if tuple(dense.shape) != sparse.shape:
        raise RuntimeError("sparse_mask(): operands have incompatible sizes; self has size "
                           f"{list(dense.shape)} but mask has size {list(sparse.shape)}")
    picked = compressed.gather(backend, dense, sparse)
    left, right = (sparse.values, picked) if sparse is a else (picked, sparse.values)
    left, right = promote(backend, left, right, elementwise=False)
    return sparse.with_values(backend.multiply(left, right))


def _multiply(backend: Any, a: Any, b: Any) -> SparseCompressed:
    """a * b, one of them compressed, the other not a number (CompressedMul's forward), with
    PyTorch's refusals in its order."""
    if type(a) is SparseCompressed and a.blocked:
        raise RuntimeError("empty_sparse_compressed expected sparse compressed (non-block) "
                           f"tensor layout but got {compressed.LAYOUT_NAMES[a.layout]}")
    if (a if type(a) is SparseCompressed else b).layout is not layouts.sparse_csr:
        raise RuntimeError("Expected result Tensor to be of format CSR")
    if type(b) is SparseCompressed and b.blocked:
        raise RuntimeError("mul: autodiff multiplies a CSR tensor by a CSR, CSC, COO or dense "
                           f"one, but got {compressed.LAYOUT_NAMES[b.layout]}")
    if type(a) is not SparseCompressed or not isinstance(b, (SparseCompressed, coo.SparseCOO)):
        return _times_dense(backend, a, b)
    if a.batch_dim or (type(b) is SparseCompressed and b.batch_dim):
        raise RuntimeError("coo_to_sparse_csr: conversion from Sparse to SparseCsr for input "
                           "tensors with sparse_dim()!=2 is not supported")
    if a.shape != tuple(b.shape):
        raise RuntimeError("sparse_binary_op_intersection_cpu(): expects sparse inputs with "
                           "equal dimensionality, number of sparse dimensions, and shape of "
                           "sparse dimensions")
    first = compressed.to_coo(backend, a)
    if isinstance(b, coo.SparseCOO):
        second, ordered = b, b.coalesced
    else:
        second = compressed.to_coo(backend, b)
        # PyTorch's COO form of a CSC tensor is not marked coalesced (column-major order).
        ordered = b.layout is layouts.sparse_csr
    left_dtype = backend.dtype_name(first.values)
    if left_dtype == "bool" and backend.dtype_name(second.values) == "bool":
        raise NotImplementedError('"mul_out_sparse" not implemented for \'Bool\'')
    if ordered:  # the elements both have
        indices, left, right = coo.intersection(backend, first, second)
    else:  # the other's elements, a's values there (0 where it has none)
        second = coo.coalesce(backend, second)
        indices, right = second.indices, second.values
        left = coo.lookup(backend, first, indices)
    left, right = promote(backend, left, right, elementwise=False)
    product = coo.SparseCOO(indices, backend.multiply(left, right), a.shape, True)
    return compressed.from_coo(backend, product, layouts.sparse_csr)


class UnsupportedLayout:
    """The compressed form of an op PyTorch's kernel refuses for the compressed layouts by
    name (div, pow): "unsupported tensor layout: SparseCsr"."""

    def apply(self, *args: Any, **kwargs: Any) -> Tensor:
        data = next(arg._data for arg in args if is_compressed(arg))
        raise RuntimeError(f"unsupported tensor layout: {compressed.LAYOUT_NAMES[data.layout]}")


class NoKernel:
    """The compressed form of an elementwise op whose sparse COO form maps values but which
    has no kernel for the compressed layouts (nan_to_num): PyTorch's dispatcher refusal of
    `operator`."""

    def __init__(self, operator: str) -> None:
        self.operator = operator

    def apply(self, *args: Any, **kwargs: Any) -> Tensor:
        tensor = next(arg for arg in args if is_compressed(arg))
        refuse_operator(self.operator, tensor.device, "SparseCsr")


# ----------------------------------------------------------------------------- construction
def _index_tensor(indices: Any, device: Any) -> Tensor:
    if not isinstance(indices, Tensor):
        indices = make_tensor(indices, dtype=dtypes.int64, device=device)
    return indices.detach().to(device)


def _compressed_count(layout: Any, shape: tuple[int, ...], blocksize: tuple[int, int]) -> int:
    if layout in compressed.ROW_COMPRESSED:
        return shape[0] // blocksize[0]
    return shape[1] // blocksize[1]


def _check_sizes(layout: Any, compressed_indices: Tensor, plain_indices: Tensor, values: Tensor,
                 shape: tuple[int, ...], blocksize: tuple[int, int]) -> None:
    """PyTorch's checks of the arrays' sizes against each other and the size."""
    compressed_name, plain_name = compressed.INDEX_NAMES[layout]
    block_dims = 2 if layout in compressed.BLOCKED else 0
    if compressed_indices.dtype is not plain_indices.dtype:
        raise RuntimeError(
            f"{compressed_name} and {plain_name} must have the same dtype, bot got "
            f"{dtypes.SCALAR_TYPE_NAMES[compressed_indices.dtype.name]} and "
            f"{dtypes.SCALAR_TYPE_NAMES[plain_indices.dtype.name]}, respectively")
    if compressed_indices.dim() != plain_indices.dim():
        raise RuntimeError(f"{compressed_name} and {plain_name} dimensionalities must be equal "
                           f"but got {compressed_indices.dim()} and {plain_indices.dim()}, "
                           "respectively")
    if compressed_indices.dim() < 1:
        raise RuntimeError(f"{compressed_name}.dim() must be greater or equal to 1, but got "
                           f"{compressed_indices.dim()}")
    batch_dim = compressed_indices.dim() - 1
    if values.dim() < batch_dim + 1 + block_dims:
        raise RuntimeError(f"values must have dimensionality > sum of batch and block "
                           f"dimensionalities (={batch_dim} + {block_dims}) but got "
                           f"{values.dim()}")
    dense_dim = values.dim() - batch_dim - 1 - block_dims
    if len(shape) != batch_dim + 2 + dense_dim:
        raise RuntimeError(f"tensor dimensionality must be sum of batch, base, and dense "
                           f"dimensionalities (={batch_dim} + 2 + {dense_dim}) but got "
                           f"{len(shape)}")
    batch = tuple(shape[:batch_dim])
    batches = (tuple(compressed_indices.shape[:-1]), tuple(plain_indices.shape[:-1]),
               tuple(values.shape[:batch_dim]))
    if any(sizes != batch for sizes in batches):
        raise RuntimeError(f"all batch dimensions of {compressed_name} (={list(batches[0])}), "
                           f"{plain_name} (={list(batches[1])}), and values "
                           f"(={list(batches[2])}) must be equal to tensor batch dimensions "
                           f"(={list(batch)})")
    sparse = shape[batch_dim:batch_dim + 2]
    for dim in range(2):
        if sparse[dim] % blocksize[dim]:
            raise RuntimeError(f"tensor shape[{batch_dim + dim}] (={sparse[dim]}) must be "
                               f"divisible with blocksize[{dim}] (={blocksize[dim]}) as defined "
                               "by values shape")
    count = _compressed_count(layout, sparse, blocksize)
    dimension = "rows" if layout in compressed.ROW_COMPRESSED else "columns"
    if compressed_indices.shape[-1] != count + 1:
        raise RuntimeError(f"{compressed_name}.shape[-1] must be equal to the number of "
                           f"{dimension} + 1 (={count + 1}), but got "
                           f"{compressed_indices.shape[-1]}")
    nnz = values.shape[batch_dim]
    if plain_indices.shape[-1] != nnz:
        raise RuntimeError(f"{plain_name}.shape[-1] must be equal to nnz (={nnz}) as defined by "
                           f"values.shape[{batch_dim}], but got {plain_indices.shape[-1]}")
    dense_start = batch_dim + 1 + block_dims
    if tuple(values.shape[dense_start:]) != tuple(shape[batch_dim + 2:]):
        raise RuntimeError(f"values.shape[{dense_start}:] must be equal to the dense sizes "
                           f"{list(shape[batch_dim + 2:])}, but got "
                           f"{list(values.shape[dense_start:])}")


def _inferred_size(layout: Any, compressed_indices: Tensor, plain_indices: Tensor,
                   values: Tensor, blocksize: tuple[int, int]) -> tuple[int, ...]:
    """PyTorch's size of a compressed tensor made without one: the compressed dim from the
    compressed indices, the plain one from the largest plain index."""
    block_dims = 2 if layout in compressed.BLOCKED else 0
    batch = tuple(compressed_indices.shape[:-1])
    count = compressed_indices.shape[-1] - 1
    plain = int(plain_indices.max().item()) + 1 if plain_indices.numel() else 0
    if layout in compressed.ROW_COMPRESSED:
        sparse = (count * blocksize[0], plain * blocksize[1])
    else:
        sparse = (plain * blocksize[0], count * blocksize[1])
    return (*batch, *sparse, *values.shape[len(batch) + 1 + block_dims:])


def sparse_compressed_tensor(compressed_indices: Any, plain_indices: Any, values: Any,
                             size: Any = None, *, dtype: Any = None, layout: Any = None,
                             device: Any = None, pin_memory: bool = False,
                             requires_grad: bool = False,
                             check_invariants: bool | None = None) -> Tensor:
    """A compressed sparse tensor of `layout` (sparse_csr, sparse_csc, sparse_bsr or
    sparse_bsc) from its compressed and plain indices and its values."""
    if layout not in compressed.COMPRESSED_LAYOUTS:
        name = "none" if layout is None else compressed.LAYOUT_NAMES.get(layout, layout)
        raise RuntimeError("sparse_compressed_tensor expected sparse compressed tensor layout "
                           f"but got {name}")
    if pin_memory:
        raise RuntimeError("sparse_compressed_tensor(): pin_memory=True is not supported: "
                           "autodiff pins dense tensors only")
    if not isinstance(values, Tensor):
        values = make_tensor(values, dtype=dtype, device=device)
    elif dtype is not None and values.dtype is not dtypes.to_dtype(dtype):
        values = values.to(dtypes.to_dtype(dtype))
    if device is not None:
        values = values.to(device)
    if values._batched:
        raise RuntimeError("vmap: sparse_compressed_tensor: sparse tensors are not supported "
                           "inside vmap")
    compressed_indices = _index_tensor(compressed_indices, values.device)
    plain_indices = _index_tensor(plain_indices, values.device)
    blocked = layout in compressed.BLOCKED
    batch_dim = max(compressed_indices.dim() - 1, 0)
    if blocked and values.dim() < batch_dim + 3:
        raise RuntimeError("values must have dimensionality > sum of batch and block "
                           f"dimensionalities (={batch_dim} + 2) but got {values.dim()}")
    blocksize = (int(values.shape[batch_dim + 1]), int(values.shape[batch_dim + 2])) \
        if blocked else (1, 1)
    if size is None:
        shape = _inferred_size(layout, compressed_indices, plain_indices, values, blocksize)
    else:
        shape = tuple(int(extent) for extent in size)
    _check_sizes(layout, compressed_indices, plain_indices, values, shape, blocksize)
    data = SparseCompressed(layout, compressed_indices._data, plain_indices._data, values._data,
                            shape, blocksize)
    check = coo.invariant_checks.enabled if check_invariants is None else check_invariants
    if check:
        compressed.check_invariants(values._backend, data)
    if requires_grad and not (values.dtype.is_floating_point or values.dtype.is_complex):
        raise RuntimeError("Only Tensors of floating point and complex dtype can require "
                           "gradients")
    if requires_grad:
        values = values.detach()
    out = SparseCompressedTensor.apply(values, like=data)
    if requires_grad:
        out.requires_grad_()
    return out


def sparse_csr_tensor(crow_indices: Any, col_indices: Any, values: Any, size: Any = None,
                      **kwargs: Any) -> Tensor:
    """A sparse CSR tensor: `values` at columns `col_indices`, row i's entries from
    crow_indices[i] to crow_indices[i + 1]."""
    return sparse_compressed_tensor(crow_indices, col_indices, values, size,
                                    layout=layouts.sparse_csr, **kwargs)


def sparse_csc_tensor(ccol_indices: Any, row_indices: Any, values: Any, size: Any = None,
                      **kwargs: Any) -> Tensor:
    """A sparse CSC tensor: `values` at rows `row_indices`, column j's entries from
    ccol_indices[j] to ccol_indices[j + 1]."""
    return sparse_compressed_tensor(ccol_indices, row_indices, values, size,
                                    layout=layouts.sparse_csc, **kwargs)


def sparse_bsr_tensor(crow_indices: Any, col_indices: Any, values: Any, size: Any = None,
                      **kwargs: Any) -> Tensor:
    """A sparse BSR tensor: CSR over blocks, `values` (nnz, block rows, block columns)."""
    return sparse_compressed_tensor(crow_indices, col_indices, values, size,
                                    layout=layouts.sparse_bsr, **kwargs)


def sparse_bsc_tensor(ccol_indices: Any, row_indices: Any, values: Any, size: Any = None,
                      **kwargs: Any) -> Tensor:
    """A sparse BSC tensor: CSC over blocks, `values` (nnz, block rows, block columns)."""
    return sparse_compressed_tensor(ccol_indices, row_indices, values, size,
                                    layout=layouts.sparse_bsc, **kwargs)


# ----------------------------------------------------------------------------- conversions
class CompressedToDense(Function):
    node_name = "ToDenseBackward0"
    jvp = auto_linear
    takes_layout_data = True

    @staticmethod
    def forward(ctx: Any, input: Any, *, masked_grad: bool) -> Any:
        ctx.input, ctx.masked_grad = input, masked_grad
        return compressed.to_dense(ctx.backend, input)

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> Tensor:
        input = ctx.input
        if not ctx.masked_grad:  # the whole gradient, in the input's layout
            return ToSparseCompressed.of(input.layout).apply(
                grad, layout=input.layout, blocksize=input.blocksize,
                batch_dim=input.batch_dim)
        return CompressedMask.apply(grad, like=input)


def to_dense(input: Tensor, masked_grad: bool | None = None) -> Tensor:
    return CompressedToDense.apply(input, masked_grad=masked_grad is None or bool(masked_grad))


class ToSparseCompressed(Function):
    """A dense, COO or compressed tensor in a compressed layout; the gradient goes back to
    the input's layout, unmasked (PyTorch's to_sparse_backward)."""

    jvp = auto_linear
    takes_layout_data = True

    @staticmethod
    def forward(ctx: Any, input: Any, *, layout: Any, blocksize: tuple[int, int],
                batch_dim: int = 0) -> Any:
        backend = ctx.backend
        ctx.input = input
        if type(input) is SparseCompressed:
            if not (input.blocked or input.batch_dim) and layout not in compressed.BLOCKED:
                return compressed.from_coo(backend, compressed.to_coo(backend, input), layout)
            input = compressed.to_dense(backend, input)
        elif type(input) is coo.SparseCOO:
            if layout not in compressed.BLOCKED:
                return compressed.from_coo(backend, input, layout)
            input = coo.to_dense(backend, input)
        return compressed.from_dense(backend, input, layout, blocksize, batch_dim)

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> Tensor:
        return to_layout_of(grad, ctx.input)

    @staticmethod
    def of(layout: Any) -> type[ToSparseCompressed]:
        return _TO_LAYOUT[layout]


class ToSparseCsr(ToSparseCompressed):
    node_name = "ToSparseCsrBackward0"


class ToSparseCsc(ToSparseCompressed):
    node_name = "ToSparseCscBackward0"


class ToSparseBsr(ToSparseCompressed):
    node_name = "ToSparseBsrBackward0"


class ToSparseBsc(ToSparseCompressed):
    node_name = "ToSparseBscBackward0"


_TO_LAYOUT: dict[Any, type[ToSparseCompressed]] = {
    layouts.sparse_csr: ToSparseCsr, layouts.sparse_csc: ToSparseCsc,
    layouts.sparse_bsr: ToSparseBsr, layouts.sparse_bsc: ToSparseBsc}

_CONVERSION_NAMES = {layouts.sparse_csr: "sparse_csr", layouts.sparse_csc: "sparse_csc",
                     layouts.sparse_bsr: "sparse_bsr", layouts.sparse_bsc: "sparse_bsc"}


def _blocksize(value: Any) -> tuple[int, int]:
    if isinstance(value, int):
        return (value, value)
    sizes = tuple(int(size) for size in value)
    if len(sizes) != 2:
        raise RuntimeError(f"blocksize needs to be a tuple of two integers, but got {value}")
    return (sizes[0], sizes[1])


def to_sparse_compressed(input: Tensor, layout: Any, blocksize: Any = None,
                         dense_dim: int | None = None, *, generic: bool = False) -> Tensor:
    """input (dense, COO or compressed) in `layout`, one of the compressed layouts.
    generic: called as `to_sparse(layout=...)`, whose kernel names its errors
    `dense_to_sparse`, `sparse_coo_to_sparse`, `sparse_compressed_to_sparse`."""
    target = _CONVERSION_NAMES[layout]
    blocked = layout in compressed.BLOCKED
    data = input._data
    source = _layout_name(input)
    if blocked and blocksize is None:
        if type(data) is SparseCompressed and data.layout is layout:
            return input
        raise RuntimeError(f"{_conversion(data)}_to_{target}: conversion from {source} to "
                           f"{compressed.LAYOUT_NAMES[layout]} without blocksize argument given "
                           "is not supported" if type(data) is SparseCompressed else
                           f"dense_to_sparse: conversion from {source} to "
                           f"{compressed.LAYOUT_NAMES[layout]} without blocksize argument given "
                           "is not supported")
    if not blocked and blocksize is not None:
        kernel = f"{_generic_conversion(data)}_to_sparse" if generic else "to_sparse"
        raise RuntimeError(f"{kernel}: conversion from {source} to "
                           f"{compressed.LAYOUT_NAMES[layout]} with blocksize argument given is "
                           "not supported")
    sizes = _blocksize(blocksize) if blocked else (1, 1)
    if input._batched:
        raise RuntimeError(f"vmap: to_{target}: sparse tensors are not supported inside vmap")
    if type(data) is SparseCompressed:
        if data.layout is layout and data.blocksize == sizes and dense_dim in (None,
                                                                                data.dense_dim):
            return input
        if dense_dim not in (None, data.dense_dim):
            raise RuntimeError(f"to_{target}: conversion with dense_dim != self.dense_dim() is "
                               "not supported")
        if data.dense_dim:
            raise RuntimeError(f"to_{target}: autodiff converts compressed tensors without "
                               "dense dims between layouts")
    elif type(data) is coo.SparseCOO:
        if data.sparse_dim != 2:
            raise RuntimeError(f"sparse_coo_to_{target}: conversion from Sparse to "
                               f"{compressed.LAYOUT_NAMES[layout]} for input tensors with "
                               f"sparse_dim()!=2 is not supported")
        if dense_dim not in (None, data.dense_dim):
            raise RuntimeError(f"to_{target}: conversion with dense_dim != self.dense_dim() is "
                               "not supported")
    else:
        ndim = input.dim()
        dense = 0 if dense_dim is None else dense_dim
        if not 0 <= dense <= ndim - 2:
            raise RuntimeError(f"dense_to_{target}: dense_dim argument must be in "
                               f"[0,{max(ndim - 2, 0)}] range, but {dense} is given")
        if ndim < 2:
            raise RuntimeError(f"to_{target}: expected a tensor of at least 2 dims, but got "
                               f"{ndim}")
    batch_dim = input.dim() - 2 - (dense_dim or 0) if type(data) not in (
        SparseCompressed, coo.SparseCOO) else getattr(data, "batch_dim", 0)
    rows, columns = input.shape[batch_dim], input.shape[batch_dim + 1]
    source_name = _generic_conversion(data)
    kernel = (f"{source_name}_to_sparse" if generic else
              f"{'coo' if source_name == 'sparse_coo' else source_name}_to_{target}")
    for dim in range(2):
        if (rows, columns)[dim] % sizes[dim]:
            raise RuntimeError(
                f"{kernel}: tensor sparse size ({rows},{columns}) must be "
                f"divisible by given blocksize ({sizes[0]},{sizes[1]})")
    return _TO_LAYOUT[layout].apply(input, layout=layout, blocksize=sizes, batch_dim=batch_dim)


def _generic_conversion(data: Any) -> str:
    if type(data) is SparseCompressed:
        return "sparse_compressed"
    return "sparse_coo" if type(data) is coo.SparseCOO else "dense"


def _conversion(data: Any) -> str:
    if type(data) is SparseCompressed:
        return _CONVERSION_NAMES[data.layout]
    return "sparse_coo" if type(data) is coo.SparseCOO else "dense"


class CompressedToCoo(Function):
    """A compressed tensor's specified elements as a COO tensor (coalesced)."""

    node_name = "ToSparseBackward1"
    jvp = auto_linear
    takes_layout_data = True

    @staticmethod
    def forward(ctx: Any, input: Any) -> Any:
        ctx.input = input
        return compressed.to_coo(ctx.backend, input)

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> Tensor:
        return to_layout_of(grad, ctx.input)


def to_layout_of(grad: Tensor, input: Any) -> Tensor:
    """A conversion's gradient in its input's layout (PyTorch's to_sparse_backward): the whole
    gradient converted, not masked to the input's elements."""
    if type(input) is SparseCompressed:
        return to_sparse_compressed(grad, input.layout,
                                    input.blocksize if input.blocked else None, input.dense_dim)
    if type(input) is coo.SparseCOO:
        return grad.to_sparse(input.sparse_dim)
    return grad.to_dense()


def to_sparse_coo(input: Tensor) -> Tensor:
    return CompressedToCoo.apply(input)


# ----------------------------------------------------------------------------- accessors
def _require(input: Tensor, what: str, row_compressed: bool | None) -> SparseCompressed:
    data = input._data
    wanted = {True: "sparse row compressed", False: "sparse column compressed",
              None: "sparse compressed"}[row_compressed]
    if type(data) is not SparseCompressed or (
            row_compressed is not None and data.rows_compressed is not row_compressed):
        raise RuntimeError(f"{what} expected {wanted} tensor layout but got "
                           f"{_layout_name(input)}")
    return data


def crow_indices(input: Tensor) -> Tensor:
    return _wrap(_require(input, "crow_indices", True).compressed_indices, input._backend)


def col_indices(input: Tensor) -> Tensor:
    return _wrap(_require(input, "col_indices", True).plain_indices, input._backend)


def ccol_indices(input: Tensor) -> Tensor:
    return _wrap(_require(input, "ccol_indices", False).compressed_indices, input._backend)


def row_indices(input: Tensor) -> Tensor:
    return _wrap(_require(input, "row_indices", False).plain_indices, input._backend)


def values(input: Tensor) -> Tensor:
    return compressed_values(input)


def sparse_mask(input: Tensor, mask: Tensor) -> Tensor:
    """input's elements at mask's specified elements, with mask's indices."""
    data = mask._data
    if tuple(input.shape) != data.shape:
        raise RuntimeError("sparse_mask(): operands have incompatible sizes; self has size "
                           f"{list(input.shape)} but mask has size {list(data.shape)}")
    return CompressedMask.apply(input, like=data)


# ----------------------------------------------------------------------------- add
class CompressedAdd(Function):
    """compressed + compressed (CSR: the union of their elements, CSR) and the sum of a
    compressed tensor and a dense one of its size (dense), with PyTorch's refusals in its
    order."""

    node_name = "AddBackward0"
    takes_layout_data = True

    @staticmethod
    def forward(ctx: Any, a: Any, b: Any, *, alpha: Any = 1) -> Any:
        # `alpha` already scaled b, as for the dense Add.
        backend = ctx.backend
        shape_a = () if type(a) in _SCALARS else tuple(a.shape)
        shape_b = () if type(b) in _SCALARS else tuple(b.shape)
        if type(a) is not SparseCompressed or type(b) is not SparseCompressed:
            dense_shape, sparse_shape = (shape_b, shape_a) if type(a) is SparseCompressed \
                else (shape_a, shape_b)
            if dense_shape != sparse_shape:
                raise RuntimeError(
                    f"add: expected 'self' and 'other' to have same size, but self has size "
                    f"{list(dense_shape)} while other has size {list(sparse_shape)} (FYI: "
                    "op2-sparse addition does not currently support broadcasting)")
            first = compressed.to_dense(backend, a) if type(a) is SparseCompressed else a
            second = compressed.to_dense(backend, b) if type(b) is SparseCompressed else b
            if type(first) is coo.SparseCOO or type(second) is coo.SparseCOO:
                raise RuntimeError("add: autodiff adds a compressed sparse tensor to a dense "
                                   "or a compressed one")
            first, second = promote(backend, first, second, elementwise=False)
            return backend.add(first, second)
        if a.batch_dim or b.batch_dim:  # PyTorch 2.13's result drops the batches' indices
            raise RuntimeError("add: autodiff adds batched compressed tensors to dense ones "
                               "only")
        if shape_a != shape_b:
            raise RuntimeError("torch.add: Expected input tensors to have the same shape, but "
                               f"got tensor `self` with shape {list(shape_a)} and tensor "
                               f"`other` with shape {list(shape_b)}")
        for operand in (a, b):
            if not operand.rows_compressed:
                raise RuntimeError("crow_indices expected sparse row compressed tensor layout "
                                   f"but got {compressed.LAYOUT_NAMES[operand.layout]}")
        if any(operand.blocked and operand.blocksize[0] != operand.blocksize[1]
               for operand in (a, b)):
            raise RuntimeError("MKL Sparse doesn't support matrices with non-square blocks.")
        if a.blocked or b.blocked:
            raise RuntimeError(f"add: autodiff adds CSR tensors, but got "
                               f"{compressed.LAYOUT_NAMES[a.layout]} and "
                               f"{compressed.LAYOUT_NAMES[b.layout]}")
        _check_same_dtype(backend, a.values, b.values)
        left, right = compressed.to_coo(backend, a), compressed.to_coo(backend, b)
        joined = coo.SparseCOO(backend.concat([left.indices, right.indices], axis=1),
                               backend.concat([left.values, right.values], axis=0), a.shape,
                               False)
        return compressed.from_coo(backend, joined, a.layout)

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> tuple[Tensor, Tensor]:
        return grad, grad

    @staticmethod
    def jvp(ctx: Any, first: Tensor | None, second: Tensor | None) -> Tensor | None:
        # Linear in both together; a dense tangent first (its sum with a compressed one is).
        if first is not None and second is not None and is_compressed(first):
            first, second = second, first
        return sum_terms([first, second])


def _check_same_dtype(backend: Any, a: Any, b: Any) -> None:
    """PyTorch's CSR + CSR takes one dtype: "expected scalar type <the promoted one> but
    found <the other>"; bool has no kernel."""
    first = dtypes.BY_NAME[backend.dtype_name(a)]
    second = dtypes.BY_NAME[backend.dtype_name(b)]
    if first is dtypes.bool_ and second is dtypes.bool_:
        raise NotImplementedError(
            '"add_out_sparse_csr_impl_mkl" not implemented for \'Bool\'')
    if first is second:
        return
    expected = dtypes.promote_types(first, second)
    found = second if expected is first else first
    raise RuntimeError(f"expected scalar type {dtypes.SCALAR_TYPE_NAMES[expected.name]} but "
                       f"found {dtypes.SCALAR_TYPE_NAMES[found.name]}")


# ----------------------------------------------------------------------------- sums
class CompressedSum(Function):
    """The sum of every element: a dense number; the gradient is dense, as in PyTorch."""

    node_name = "SumBackward0"
    jvp = auto_linear
    takes_layout_data = True

    @staticmethod
    def forward(ctx: Any, a: Any, *, axes: Any, keepdim: bool, dtype: str | None) -> Any:
        backend = ctx.backend
        ctx.shape = a.shape
        values = a.values
        if dtype is not None:
            values = backend.astype(values, dtype)
        elif not (backend.is_floating(values.dtype) or backend.is_complex(values.dtype)):
            values = backend.astype(values, "int64")
        total = backend.sum(values)
        return backend.reshape(total, (1,) * len(a.shape)) if keepdim else total

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> Tensor:
        return grad.reshape(()).expand(ctx.shape)


class CompressedSumDim(Function):
    """sum(dim, keepdim=True) of a CSR matrix: a CSR result with the rows (columns) that hold
    elements. PyTorch's gradient expands a CSR tensor, which it refuses; so does this one."""

    node_name = "SumBackward1"
    takes_layout_data = True

    @staticmethod
    def forward(ctx: Any, a: Any, *, axes: tuple[int, ...] | None, keepdim: bool,
                dtype: str | None) -> Any:
        backend = ctx.backend
        if a.layout is not layouts.sparse_csr:
            raise RuntimeError("Currently the only compressed sparse format supported for "
                               "sum.dim_IntList is CSR, but got layout "
                               f"{compressed.LAYOUT_NAMES[a.layout]}")
        if not keepdim:
            raise RuntimeError("reduction operations on CSR tensors with keepdim=False is "
                               "unsupported")
        axes = tuple(range(a.ndim)) if axes is None else axes
        if a.dense_dim or a.batch_dim or any(axis > 1 for axis in axes):
            raise RuntimeError("sum: autodiff sums CSR tensors without dense dims over their "
                               "sparse dims")
        sparse = compressed.to_coo(backend, a)
        values = sparse.values
        if dtype is not None:
            values = backend.astype(values, dtype)
        elif not (backend.is_floating(values.dtype) or backend.is_complex(values.dtype)):
            values = backend.astype(values, "int64")
        rows = [backend.zeros_like(sparse.indices[dim, :]) if dim in axes
                else sparse.indices[dim, :] for dim in range(2)]
        shape = tuple(1 if dim in axes else a.shape[dim] for dim in range(2))
        summed = coo.SparseCOO(backend.stack(rows, axis=0), values, shape, False)
        return compressed.from_coo(backend, summed, layouts.sparse_csr)

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> Tensor:
        raise RuntimeError("expand is unsupported for SparseCsr tensors")


# ----------------------------------------------------------------------------- select
class CompressedSelectForm:
    """The compressed form of select: of a batch dim only (`CompressedSelect`); PyTorch
    refuses a sparse or dense dim of a batched tensor, and autodiff any dim of an unbatched
    one."""

    def apply(self, input: Tensor, *, dim: int, index: int) -> Tensor:
        from .indexing import Select

        batch = input._data.batch_dim
        if not batch:
            refuse(Select(), (input,), "SparseCsr")
        if dim >= batch:
            raise RuntimeError("select(): selecting sparse dimensions is not supported for "
                               "batched sparse compressed tensors.")
        return CompressedSelect.apply(input, dim=dim, index=index)


def _selected(data: SparseCompressed, dim: int, index: int) -> SparseCompressed:
    key = (*(slice(None),) * dim, index, ...)
    return SparseCompressed(data.layout, data.compressed_indices[key], data.plain_indices[key],
                            data.values[key], data.shape[:dim] + data.shape[dim + 1:],
                            data.blocksize)


class CompressedSelect(Function):
    """One batch of a batched compressed tensor: its arrays. The gradient is that batch's
    values' gradient, zeros in the other batches, at the input's indices (PyTorch 2.13's
    backward fails: "only sparse compressed tensors with the same number of specified
    elements are supported")."""

    node_name = "SelectBackward0"
    jvp = auto_linear
    takes_layout_data = True

    @staticmethod
    def forward(ctx: Any, input: Any, *, dim: int, index: int) -> Any:
        ctx.like, ctx.dim, ctx.index = input, dim, index
        return _selected(input, dim, index)

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> Tensor:
        like, dim, index = ctx.like, ctx.dim, ctx.index
        values = compressed_values(CompressedMask.apply(grad, like=_selected(like, dim, index)))
        zeros = _wrap(ctx.backend.zeros(like.values.shape, ctx.backend.dtype_name(like.values)),
                      ctx.backend)
        return SparseCompressedTensor.apply(zeros.select_scatter(values, dim, index), like=like)


# ----------------------------------------------------------------------------- transpose
class CompressedTranspose(Function):
    """The transpose of the two sparse dims: CSR <-> CSC, BSR <-> BSC, no copy."""

    node_name = "TransposeBackward0"
    jvp = auto_linear
    takes_layout_data = True

    @staticmethod
    def forward(ctx: Any, input: Any) -> Any:
        ctx.dims = (input.batch_dim, input.batch_dim + 1)
        return compressed.transposed(ctx.backend, input)

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> Tensor:
        return grad.transpose(*ctx.dims)


class CompressedT(CompressedTranspose):
    node_name = "TBackward0"


def transpose(input: Tensor, dim0: int, dim1: int) -> Tensor:
    """transpose of a compressed tensor (dims already wrapped): of its two sparse dims only."""
    if dim0 == dim1:
        return input
    batch = input._data.batch_dim
    if {dim0, dim1} != {batch, batch + 1}:
        raise RuntimeError("transpose(): hybrid sparse compressed tensors with dense dimensions "
                           "are not supported")
    return CompressedTranspose.apply(input)


def t(input: Tensor) -> Tensor:
    if input.dim() != 2:
        raise RuntimeError(f"t() expects a tensor with <= 2 dimensions, but self is "
                           f"{input.dim()}D")
    return CompressedT.apply(input)
