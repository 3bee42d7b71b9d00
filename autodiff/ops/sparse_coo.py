"""Sparse COO tensors (layout `torch.sparse_coo`): sparse_coo_tensor, to_sparse and to_dense,
coalesce, indices and values, sparse_mask (the copies of a sparse tensor are in
`sparse_copies.py`).

A sparse tensor's `_data` is a `SparseCOO` (`sparse_coo.py`). Gradients follow PyTorch's
layouts: a sparse tensor made from values gives them the gradient's values at its indices
(`SparseCooTensorWithDimsAndTensorsBackward0`); to_dense hands a sparse input the gradient
masked to its coalesced indices.
"""

from __future__ import annotations

from typing import Any

from .. import dtypes, layouts
from .. import sparse_coo as coo
from ..creation import tensor as make_tensor
from ..function import Function
from ..jvp_rules import auto_linear
from ..sparse_dispatch import refuse
from ..tensor import Tensor, _wrap
from ..user_warnings import warn
from . import sparse_compressed as _compressed


def is_sparse(tensor: Any) -> bool:
    return type(getattr(tensor, "_data", None)) is coo.SparseCOO


def refuse_batched(tensor: Tensor, function: str) -> None:
    """vmap has no batching rules for sparse tensors (nor has PyTorch's): making one from a
    batched tensor is refused."""
    if tensor._batched:
        raise RuntimeError(f"vmap: {function}: sparse tensors are not supported inside vmap")


def require_sparse(tensor: Tensor, what: str) -> coo.SparseCOO:
    data = tensor._data
    if type(data) is not coo.SparseCOO:
        layout = _compressed.compressed.LAYOUT_NAMES[data.layout] \
            if type(data) is _compressed.SparseCompressed else "Strided"
        raise RuntimeError(f"{what} expected sparse coordinate tensor layout but got {layout}")
    return data


# ----------------------------------------------------------------------------- construction
class SparseCooTensor(Function):
    """Values at given indices; the gradient of the values is the gradient at the indices."""

    node_name = "SparseCooTensorWithDimsAndTensorsBackward0"
    jvp = auto_linear
    takes_layout_data = True

    @staticmethod
    def forward(ctx: Any, values: Any, *, indices: Any, shape: tuple[int, ...],
                coalesced: bool) -> Any:
        ctx.indices = indices
        return coo.SparseCOO(indices, values, shape, coalesced)

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> Tensor:
        return sparse_values(SparseMask.apply(grad, indices=ctx.indices, coalesced=False))


class SparseMask(Function):
    """A tensor (dense or sparse) read at given indices, as a sparse tensor with them."""

    node_name = "SparseMaskBackward0"
    jvp = auto_linear
    takes_layout_data = True

    @staticmethod
    def forward(ctx: Any, input: Any, *, indices: Any, coalesced: bool) -> Any:
        backend = ctx.backend
        ctx.input_sparse = type(input) is coo.SparseCOO
        if ctx.input_sparse:
            values = coo.lookup(backend, input, indices)
        else:
            values = coo.gather(backend, input, indices)
        return coo.SparseCOO(indices, values, input.shape, coalesced)

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> Tensor:
        return grad if ctx.input_sparse else to_dense(grad)


class SparseValues(Function):
    """The values array of a sparse tensor, coalesced or not; the gradient comes back as a
    sparse tensor with the same indices."""

    node_name = "ValuesBackward0"
    jvp = auto_linear
    takes_layout_data = True

    @staticmethod
    def forward(ctx: Any, input: Any) -> Any:
        ctx.sparse = input
        return input.values

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> Tensor:
        sparse = ctx.sparse
        return SparseCooTensor.apply(grad, indices=sparse.indices, shape=sparse.shape,
                                     coalesced=sparse.coalesced)


def sparse_values(input: Tensor) -> Tensor:
    return SparseValues.apply(input)


def values_mapped(input: Tensor, compute: Any) -> Tensor:
    """Outside the graph: a sparse tensor at input's coalesced indices holding
    compute(values), for an array function that maps 0 to 0 or False (isnan, signbit)."""
    backend = input._backend
    sparse = coo.coalesce(backend, input._data)
    return _wrap(sparse.with_values(compute(sparse.values)), backend)


class OnValues:
    """The sparse form of an elementwise op that maps 0 to 0 (sin, abs, sqrt, relu, pow and
    div by a number, ...): the op on a coalesced sparse tensor's values, at the same indices.
    Read from the op's class it is that class's form (`__get__`), so subclasses get theirs."""

    def __get__(self, instance: Any, owner: type[Function]) -> _OnValuesOf:
        return _OnValuesOf(owner)


_VALUES_NODES: dict[type[Function], type[Function]] = {}


class _OnValuesOf:
    # Serves the compressed layouts as well (`sparse_dispatch.dispatch_compressed`).
    maps_values = True

    def __init__(self, op: type[Function]) -> None:
        self.op = op

    def apply(self, input: Any, *args: Any, **kwargs: Any) -> Tensor:
        op = self.op
        if _compressed.is_compressed(input) and not any(isinstance(arg, Tensor)
                                                        for arg in args):
            return _compressed.on_values(op, input, args, kwargs)
        if not is_sparse(input) or any(isinstance(arg, Tensor) for arg in args):
            refuse(op(), (input, *args))
        sparse = coalesce(input)  # f of a sum is not the sum of f: duplicates summed first
        values = op.apply(sparse_values(sparse), *args, **kwargs)
        node = _VALUES_NODES.get(op)
        if node is None:  # the result's node carries the op's name, as PyTorch's does
            node = _VALUES_NODES[op] = type(f"Sparse{op._op_name}", (SparseCooTensor,),
                                             {"node_name": op.node_name})
        data = sparse._data
        return node.apply(values, indices=data.indices, shape=data.shape, coalesced=True)


_implicit_warning_given = [False]


def _warn_implicit_checks() -> None:
    if not _implicit_warning_given[0]:
        _implicit_warning_given[0] = True
        warn(
            "Sparse invariant checks are implicitly disabled. Memory errors (e.g. SEGFAULT) will "
            "occur when operating on a sparse tensor which violates the invariants, but checks "
            "incur performance overhead. To silence this warning, explicitly opt in or out. See "
            "`torch.sparse.check_sparse_tensor_invariants.__doc__` for guidance.",
            UserWarning, stacklevel=3)


def sparse_coo_tensor(indices: Any, values: Any, size: Any = None, *, dtype: Any = None,
                      device: Any = None, pin_memory: bool = False, requires_grad: bool = False,
                      check_invariants: bool | None = None,
                      is_coalesced: bool | None = None) -> Tensor:
    """A sparse COO tensor with `values` at the columns of `indices` (sparse_dim x nnz)."""
    if pin_memory:
        raise RuntimeError("sparse_coo_tensor(): pin_memory=True is not supported: autodiff "
                           "pins dense tensors only")
    if not isinstance(values, Tensor):
        values = make_tensor(values, dtype=dtype, device=device)
    elif dtype is not None and values.dtype is not dtypes.to_dtype(dtype):
        values = values.to(dtypes.to_dtype(dtype))
    if device is not None:
        values = values.to(device)
    refuse_batched(values, "sparse_coo_tensor")
    if not isinstance(indices, Tensor):
        indices = make_tensor(indices, dtype=dtypes.int64, device=values.device)
    indices = indices.detach().to(values.device, dtypes.int64)
    index_shape = tuple(indices.shape)
    if len(index_shape) > 2:
        raise RuntimeError(f"indices must be sparse_dim x nnz, but got: {list(index_shape)}")
    sparse_dim = index_shape[0] if index_shape else 0
    dense_dim = max(values.dim() - 1, 0)
    if values.dim() == 0:
        values = values.reshape(1)
    if size is not None and len(size) != sparse_dim + dense_dim:
        raise RuntimeError(
            "'len(size) == sparse_dim + dense_dim' is not satisfied: len(size) = "
            f"{len(size)}, sparse_dim = {sparse_dim}, dense_dim = {dense_dim}")
    nnz = index_shape[1] if len(index_shape) == 2 else 1
    if nnz != values.shape[0]:
        raise RuntimeError("indices and values must have same nnz, but got nnz from indices: "
                           f"{nnz}, nnz from values: {values.shape[0]}")
    backend = values._backend
    index_array = indices._data
    if len(index_shape) == 1:
        index_array = backend.reshape(index_array, (sparse_dim, 1))
    if size is None:
        if nnz:
            bounds = backend.max(index_array, axis=1)
            sparse_sizes = tuple(int(bound) + 1 for bound in backend.tolist(bounds))
        else:
            sparse_sizes = (0,) * sparse_dim
        shape = (*sparse_sizes, *values.shape[1:])
    else:
        shape = tuple(int(extent) for extent in size)
        if tuple(values.shape[1:]) != shape[sparse_dim:]:
            raise RuntimeError(
                f"values has incorrect size, expected {list((nnz, *shape[sparse_dim:]))}, got "
                f"{list(values.shape)}")
    if check_invariants is None:
        check = coo.invariant_checks.enabled
        if not check:
            _warn_implicit_checks()
    else:
        check = check_invariants
    if check:
        _check_indices(backend, index_array, shape[:sparse_dim])
    if requires_grad and not (values.dtype.is_floating_point or values.dtype.is_complex):
        raise RuntimeError("Only Tensors of floating point and complex dtype can require "
                           "gradients")
    if requires_grad:
        values = values.detach()
    out = SparseCooTensor.apply(values, indices=index_array, shape=shape,
                                coalesced=bool(is_coalesced))
    if requires_grad:
        out.requires_grad_()
    return out


def _check_indices(backend: Any, indices: Any, sizes: tuple[int, ...]) -> None:
    """PyTorch's index checks of a sparse tensor with invariants checked."""
    if indices.shape[1] == 0:
        return
    low = backend.tolist(backend.min(indices, axis=1))
    high = backend.tolist(backend.max(indices, axis=1))
    for dim, size in enumerate(sizes):
        if low[dim] < 0:
            raise RuntimeError(f"found negative index {low[dim]} for dim {dim}")
        if high[dim] >= size:
            raise RuntimeError(f"size is inconsistent with indices: for dim {dim}, size is "
                               f"{size} but found index {high[dim]}")


# ----------------------------------------------------------------------------- conversions
class ToDense(Function):
    node_name = "ToDenseBackward0"
    jvp = auto_linear
    takes_layout_data = True

    @staticmethod
    def forward(ctx: Any, input: Any, *, masked_grad: bool) -> Any:
        ctx.sparse, ctx.masked_grad = input, masked_grad
        return coo.to_dense(ctx.backend, input)

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> Tensor:
        if not ctx.masked_grad:  # the whole gradient, in the sparse layout
            return to_sparse(grad)
        coalesced = coo.coalesce(ctx.backend, ctx.sparse)
        return SparseMask.apply(grad, indices=coalesced.indices, coalesced=True)


def to_dense(input: Tensor, dtype: Any = None, *, masked_grad: bool | None = None) -> Tensor:
    """A sparse tensor's dense form (a dense tensor itself, cast to `dtype` when given). Its
    gradient is masked to the sparse tensor's indices unless `masked_grad=False`."""
    if _compressed.is_compressed(input):
        if dtype is not None:
            raise RuntimeError("dtype argument is not supported by sparse_csr_to_dense")
        return _compressed.to_dense(input, masked_grad)
    if not is_sparse(input):
        return input if dtype is None else input.to(dtypes.to_dtype(dtype))
    if dtype is not None:
        raise RuntimeError("dtype argument is not supported by sparse_to_dense")
    return ToDense.apply(input, masked_grad=masked_grad is None or bool(masked_grad))


class ToSparse(Function):
    node_name = "ToSparseBackward1"
    jvp = auto_linear
    takes_layout_data = True

    @staticmethod
    def forward(ctx: Any, input: Any, *, sparse_dim: int) -> Any:
        backend = ctx.backend
        indices = coo.nonzero_indices(backend, input, sparse_dim)
        values = coo.gather(backend, input, indices)
        return coo.SparseCOO(indices, values, input.shape, True)

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> Tensor:
        return to_dense(grad)


class ToSparseDims(ToSparse):
    node_name = "ToSparseBackward0"  # to_sparse(sparse_dim)


def to_sparse(input: Tensor, sparse_dim: int | None = None, *, layout: Any = None,
              blocksize: Any = None, dense_dim: int | None = None) -> Tensor:
    """The sparse COO form of a dense tensor (the first `sparse_dim` dims sparse, all by
    default); a sparse COO tensor itself. With `layout`, the form in that layout (a compressed
    one takes `blocksize` and `dense_dim`)."""
    if layout is not None and layout is not layouts.sparse_coo:
        if layout is layouts.strided:
            return to_dense(input)
        if layout in _compressed.compressed.COMPRESSED_LAYOUTS:
            if sparse_dim is not None:
                raise RuntimeError("to_sparse: sparse_dim argument must be None when layout is "
                                   f"{_compressed.compressed.LAYOUT_NAMES[layout]}")
            return _compressed.to_sparse_compressed(input, layout, blocksize, dense_dim,
                                                    generic=True)
        raise TypeError(f"to_sparse(): argument 'layout' must be torch.layout, not "
                        f"{type(layout).__name__}")
    if _compressed.is_compressed(input):
        if sparse_dim is not None and sparse_dim != 2:
            raise RuntimeError("sparse_compressed_to_sparse: expected sparse_dim to be 2, "
                               f"but got {sparse_dim}")
        return _compressed.to_sparse_coo(input)
    if blocksize is not None:
        raise RuntimeError("to_sparse for Strided to SparseCOO conversion does not use "
                           "specified blocksize")
    if dense_dim is not None:
        raise RuntimeError("to_sparse for Strided to SparseCOO conversion does not use the "
                           "dense_dim argument")
    refuse_batched(input, "to_sparse")
    if is_sparse(input):
        if sparse_dim is not None and sparse_dim != input._data.sparse_dim:
            raise RuntimeError("to_sparse: conversion from Sparse to Sparse with sparse_dim "
                               "argument !=self.sparse_dim() is not supported")
        return input
    ndim = input.dim()
    if sparse_dim is None:
        return ToSparse.apply(input, sparse_dim=ndim)
    if not 0 < sparse_dim <= ndim:
        raise RuntimeError(f"sparse_dim argument must be in [1,{ndim}] range, but {sparse_dim} "
                           "is given")
    return ToSparseDims.apply(input, sparse_dim=sparse_dim)


class Coalesce(Function):
    node_name = "CoalesceBackward0"
    jvp = auto_linear
    takes_layout_data = True

    @staticmethod
    def forward(ctx: Any, input: Any) -> Any:
        return coo.coalesce(ctx.backend, input)

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> Tensor:
        return grad


def coalesce(input: Tensor) -> Tensor:
    """The same sparse tensor with sorted, unique indices (itself when it has them)."""
    data = require_sparse(input, "coalesce")
    return input if data.coalesced else Coalesce.apply(input)


class Values(SparseValues):
    """values() of a coalesced tensor."""


def values(input: Tensor) -> Tensor:
    if _compressed.is_compressed(input):
        return _compressed.values(input)
    data = require_sparse(input, "values")
    if not data.coalesced:
        raise RuntimeError("Cannot get values on an uncoalesced tensor, please call .coalesce() "
                           "first")
    return Values.apply(input)


def indices(input: Tensor) -> Tensor:
    data = require_sparse(input, "indices")
    if not data.coalesced:
        raise RuntimeError("Cannot get indices on an uncoalesced tensor, please call "
                           ".coalesce() first")
    return _wrap(data.indices, input._backend)


def raw_indices(input: Tensor) -> Tensor:
    """_indices(): the indices as stored, coalesced or not, outside the graph."""
    return _wrap(require_sparse(input, "_indices").indices, input._backend)


def raw_values(input: Tensor) -> Tensor:
    """_values(): the values as stored, coalesced or not, outside the graph."""
    return _wrap(require_sparse(input, "_values").values, input._backend)


def is_coalesced(input: Tensor) -> bool:
    return require_sparse(input, "is_coalesced").coalesced


def nnz(input: Tensor) -> int:
    if _compressed.is_compressed(input):
        return input._data.nnz
    return require_sparse(input, "_nnz").nnz


def sparse_dim(input: Tensor) -> int:
    data = input._data
    if _compressed.is_compressed(input):
        return 2
    return data.sparse_dim if type(data) is coo.SparseCOO else 0


def dense_dim(input: Tensor) -> int:
    data = input._data
    if type(data) in (coo.SparseCOO, _compressed.SparseCompressed):
        return data.dense_dim
    return data.ndim


def sparse_mask(input: Tensor, mask: Tensor) -> Tensor:
    """input's entries at mask's indices, as a sparse tensor with mask's indices."""
    if _compressed.is_compressed(mask):
        return _compressed.sparse_mask(input, mask)
    if _compressed.is_compressed(input):
        layout = "Sparse" if is_sparse(mask) else "Strided"
        raise RuntimeError("sparse_mask_sparse_compressed expects mask to have sparse compressed "
                           f"layout, got {layout}")
    data = require_sparse(mask, "sparse_mask")
    if tuple(input.shape) != data.shape:
        raise RuntimeError("sparse_mask(): operands have incompatible sizes; self has size "
                           f"{list(input.shape)} but mask has size {list(data.shape)}")
    return SparseMask.apply(input, indices=data.indices, coalesced=data.coalesced)
