"""Gather and scatter along a dim: gather, take_along_dim, scatter, scatter_add, index_select,
index_add, index_copy, index_fill, and masked_fill.

Index and mask tensors are options, not inputs: they get no gradient and, as in PyTorch, no
edge in `next_functions`. Each scatter's gradient is a gather and the other way round, so every
backward is differentiable again.
"""

from __future__ import annotations

from typing import Any

from backends import broadcast_shapes

from .. import dtypes
from ..autocast_state import autocast_op
from ..batching.dispatch import index_op
from ..creation import zeros_like
from ..function import Function
from ..jvp_rules import auto_linear, auto_linear_with, zero_tangent
from ..saved_fields import InputSizes, constant, fields, saved, saved_array, value
from ..sparse_coo import SparseCOO
from ..tensor import Tensor, _wrap, _wrap_dim
from ..user_warnings import warn
from . import sparse_indexing
from ._checks import invalid_arguments, require_tensor, require_tensors, same_device
from ._out import EXACT, same, takes_out
from ._promotion import check_broadcast, checked_number
from ._scatter_arrays import grid_key, leading_block, reduce_scattered
from .fill_arguments import INDEX_FILL, MASKED_FILL, SCATTER, parses
from .indexing import (
    full_index_key,
    index_array,
    out_of_bounds,
    same_device_index,
    wrap_negative,
    zeros,
)
from .selection import where


def _check_index(name: str, input: Tensor, dim: int, index: Tensor,
                 src: Tensor | None = None) -> Any:
    """PyTorch's checks for gather/scatter; returns the index array (negatives refused)."""
    same_device_index(name, input, index)
    backend = input._backend
    # scatter_add's checks name scatter, as PyTorch's do (they are scatter's).
    kernel = "scatter" if name == "scatter_add" else name
    if index.dtype.name not in ("int64", "int32"):
        raise RuntimeError(f"{kernel}(): Expected dtype int32/int64 for index")
    if src is not None and src.dtype is not input.dtype:
        raise RuntimeError(f"{kernel}(): Expected self.dtype to be equal to src.dtype")
    array = index_array(backend, index)
    shape = input._data.shape
    if array.ndim != len(shape) and not (array.ndim <= 1 and len(shape) <= 1):
        raise RuntimeError("Index tensor must have the same number of dimensions as input tensor")
    if array.ndim != len(shape):
        array = backend.reshape(array, (-1,) if shape else ())
    index_shape = array.shape
    for axis, size in enumerate(index_shape):
        too_big = axis != dim and size > shape[axis]
        too_big_src = src is not None and size > _size_or_one(src, axis)
        if too_big or too_big_src:
            if name == "gather":
                raise RuntimeError(
                    f"Size does not match at dimension {axis} expected index "
                    f"{list(index_shape)} to be no larger than self {list(shape)} apart from "
                    f"dimension {dim}"
                )
            message = (f"Expected index {list(index_shape)} to be no larger than self "
                       f"{list(shape)} apart from dimension {dim}")
            if src is not None:
                message += f" and to be no larger size than src {list(src._data.shape)}"
            raise RuntimeError(message)
    if src is not None and max(src._data.ndim, 1) != max(array.ndim, 1):
        raise RuntimeError("Index tensor must have the same number of dimensions as src tensor")
    size = shape[dim] if shape else 1
    bad = out_of_bounds(backend, array, size, allow_negative=False)
    if bad is not None:
        raise RuntimeError(f"index {bad} is out of bounds for dimension {dim} with size {size}")
    return array


def _size_or_one(tensor: Tensor, axis: int) -> int:
    """tensor.size(axis), 1 for a 0-d tensor (PyTorch's ensure_nonempty_size)."""
    shape = tensor._data.shape
    if not shape:
        return 1
    if axis >= len(shape):
        raise IndexError(
            f"Dimension out of range (expected to be in range of [{-len(shape)}, "
            f"{len(shape) - 1}], but got {axis})"
        )
    return shape[axis]


# ----------------------------------------------------------------------------- gather
class Gather(Function):
    node_name = "GatherBackward0"
    saved_fields = fields(self=saved(0), dim=value("dim"), index=saved_array("index"),
                          sparse_grad=constant(False))

    jvp = auto_linear

    @staticmethod
    def forward(ctx: Any, a: Any, *, dim: int, index: Any) -> Any:
        ctx.dim, ctx.index, ctx.shape = dim, index, a.shape
        ctx.save_for_backward(a)  # unread: PyTorch's node keeps it (grad_fn._saved_self)
        backend = ctx.backend
        if a.ndim == 0:
            return backend.asarray(a, copy=True)
        block = (*index.shape[:dim], a.shape[dim], *index.shape[dim + 1:])
        return backend.take_along_axis(leading_block(backend, a, block), index, axis=dim)

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> Tensor:
        target = zeros(grad._backend, ctx.shape, grad._data)
        return ScatterAdd.apply(target, grad, dim=ctx.dim, index=ctx.index)


@takes_out(EXACT)
@index_op("same_rank")
def gather(input: Tensor, dim: int, index: Tensor) -> Tensor:
    require_tensor("gather", "index", 3, index)
    dim = _wrap_dim(dim, input._data.ndim)
    return Gather.apply(input, dim=dim, index=_check_index("gather", input, dim, index))


@takes_out(EXACT)
def take_along_dim(input: Tensor, indices: Tensor, dim: int | None = None) -> Tensor:
    same_device_index("take_along_dim", input, indices)
    if dim is None:
        return gather(input.reshape(-1), 0, indices.reshape(-1))
    ndim = input._data.ndim
    dim = _wrap_dim(dim, ndim)
    if indices.ndim != ndim:
        raise RuntimeError(
            "torch.take_along_dim(): input and indices should have the same number of "
            f"dimensions, but got {ndim} dimensions for input, and {indices.ndim} dimensions "
            "for indices"
        )
    # The dims other than `dim` broadcast between input and indices (PyTorch's check: input's
    # shape with indices' size at dim against indices' shape).
    in_shape, index_shape = list(input._data.shape), list(indices._data.shape)
    in_shape[dim] = index_shape[dim]
    check_broadcast(tuple(in_shape), tuple(index_shape))
    in_shape[dim] = index_shape[dim] = 1
    common = list(broadcast_shapes(in_shape, index_shape))
    target = common.copy()
    target[dim] = input._data.shape[dim]
    if tuple(target) != input._data.shape:
        input = input.expand(target)
    target[dim] = indices._data.shape[dim]
    if tuple(target) != indices._data.shape:
        indices = indices.expand(target)
    return gather(input, dim, indices)


# ----------------------------------------------------------------------------- scatter
class Scatter(Function):
    """scatter with a source tensor: out = input, then out[index positions] = src."""

    node_name = "ScatterBackward0"
    saved_fields = fields(dim=value("dim"), index=saved_array("index"))
    write = "setitem"  # how src's values go in (ScatterAdd adds them)

    jvp = auto_linear

    @staticmethod
    def forward(ctx: Any, a: Any, src: Any, *, dim: int, index: Any) -> Any:
        backend = ctx.backend
        ctx.dim, ctx.index = dim, index
        out = backend.asarray(a, copy=True)
        if src.ndim == 0 and index.ndim:  # a 0-d source counts as size 1 in every dim
            src = backend.reshape(src, (1,) * index.ndim)
        values = leading_block(backend, src, index.shape)
        if values.dtype != a.dtype:
            values = backend.astype(values, backend.dtype_name(a))
        key = grid_key(backend, index, dim) if a.ndim else (...,)
        getattr(backend, ctx.write)(out, key, values)
        return out

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> tuple[Tensor | None, Tensor | None]:
        needs_input, needs_src = ctx.needs_input_grad
        grad_input = ScatterValue.apply(grad, dim=ctx.dim, index=ctx.index, value=0) \
            if needs_input else None
        grad_src = Gather.apply(grad, dim=ctx.dim, index=ctx.index) if needs_src else None
        return grad_input, grad_src


class ScatterAdd(Scatter):
    node_name = "ScatterAddBackward0"
    write = "index_add"

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> tuple[Tensor | None, Tensor | None]:
        needs_input, needs_src = ctx.needs_input_grad
        grad_src = Gather.apply(grad, dim=ctx.dim, index=ctx.index) if needs_src else None
        return (grad if needs_input else None), grad_src


class ScatterValue(Function):
    """scatter with a number: out = input, then out[index positions] = value."""

    node_name = "ScatterBackward1"
    saved_fields = fields(dim=value("dim"), index=saved_array("index"))

    jvp = auto_linear_with(value=0)

    @staticmethod
    def forward(ctx: Any, a: Any, *, dim: int, index: Any, value: Any) -> Any:
        backend = ctx.backend
        ctx.dim, ctx.index = dim, index
        out = backend.asarray(a, copy=True)
        key = grid_key(backend, index, dim) if a.ndim else (...,)
        backend.setitem(out, key, value)
        return out

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> Tensor:
        return ScatterValue.apply(grad, dim=ctx.dim, index=ctx.index, value=0)


class ScatterLegacyReduce(Function):
    """scatter(..., reduce="add" | "multiply"), the older spelling of scatter_reduce with
    include_self (whose forward it shares): PyTorch has no derivative for it (its node is
    NotImplemented)."""

    node_name = "NotImplemented"

    @staticmethod
    def forward(ctx: Any, a: Any, src: Any, *, dim: int, index: Any, reduce: str) -> Any:
        return reduce_scattered(ctx.backend, a, src, index, dim, reduce, include_self=True)

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> Any:
        raise RuntimeError("derivative for aten::scatter is not implemented")


def scatter_legacy_reduce(input: Tensor, dim: int, index: Tensor, src: Any, reduce: str
                          ) -> Tensor:
    """scatter with `reduce`: "add" sums and "multiply" multiplies each value of `src` (a
    Tensor, or a number for every index) into the element `index` names, `input`'s own value
    included."""
    if reduce not in ("add", "multiply"):
        raise RuntimeError("reduce argument must be either add or multiply.")
    dim = _wrap_dim(dim, input._data.ndim)
    backend = input._backend
    if isinstance(src, Tensor):
        warn("The reduce argument of torch.scatter with Tensor src is deprecated and "
             "will be removed in a future PyTorch release. Use torch.scatter_reduce "
             "instead for more reduction options.", UserWarning, stacklevel=3)
        if src.dtype is not input.dtype:
            raise RuntimeError("scatter(): Expected self.dtype to be equal to src.dtype")
        array = _check_index("scatter", input, dim, index, src)
    else:
        array = _check_index("scatter", input, dim, index)
        src = _wrap(backend.full(tuple(index.shape), src, backend.dtype_name(input._data)),
                    backend)
    return ScatterLegacyReduce.apply(input, src, dim=dim, index=array,
                                     reduce="sum" if reduce == "add" else "prod")


@parses("scatter", SCATTER, method=False)
@takes_out(EXACT)
@index_op("same_rank")
def scatter(input: Tensor, dim: int, index: Tensor, src: Any = None, *,
            value: Any = None, reduce: str | None = None) -> Tensor:
    if src is None:
        src = value
    if reduce is not None:  # the older spelling of scatter_reduce
        return scatter_legacy_reduce(input, dim, index, src, reduce)
    dim = _wrap_dim(dim, input._data.ndim)
    if isinstance(src, Tensor):
        array = _check_index("scatter", input, dim, index, src)
        return Scatter.apply(input, src, dim=dim, index=array)
    same_device_index("scatter_value", input, index)
    array = _check_index("scatter", input, dim, index)
    return ScatterValue.apply(input, dim=dim, index=array,
                              value=checked_number(src, input.dtype.name))


@takes_out(EXACT)
@autocast_op("scatter_add")
@index_op("same_rank")
def scatter_add(input: Tensor, dim: int, index: Tensor, src: Tensor) -> Tensor:
    dim = _wrap_dim(dim, input._data.ndim)
    array = _check_index("scatter_add", input, dim, index, src)
    return ScatterAdd.apply(input, src, dim=dim, index=array)


# ----------------------------------------------------------------------------- index_select
def _vector_index(name: str, input: Tensor, dim: int, index: Tensor) -> Any:
    same_device_index(name, input, index)
    backend = input._backend
    if index.dtype.name not in ("int64", "int32"):
        raise RuntimeError(f"{name}(): Expected dtype int32 or int64 for index")
    if index.ndim > 1:
        raise IndexError(f"{name}(): Index is supposed to be a vector")
    array = backend.reshape(index_array(backend, index), (-1,))
    size = input._data.shape[dim] if input._data.ndim else 1
    if out_of_bounds(backend, array, size, allow_negative=False) is not None:
        raise IndexError("index out of range in self")
    return array


class IndexSelect(Function):
    node_name = "IndexSelectBackward0"
    saved_fields = fields(dim=value("dim"), index=saved_array("index"),
                          self_sym_sizes=InputSizes())

    jvp = auto_linear

    @staticmethod
    def forward(ctx: Any, a: Any, *, dim: int, index: Any) -> Any:
        ctx.dim, ctx.index, ctx.shape = dim, index, a.shape
        if a.ndim == 0:
            return ctx.backend.asarray(a, copy=True)
        return ctx.backend.take(a, index, axis=dim)

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> Tensor:
        target = zeros(grad._backend, ctx.shape, grad._data)
        return IndexAdd.apply(target, grad, dim=ctx.dim, index=ctx.index, alpha=1)


@takes_out(same("index_select(): self and result must have the same scalar type"))
@index_op("index_select")
def index_select(input: Tensor, dim: int, index: Tensor) -> Tensor:
    require_tensor("index_select", "index", 3, index)
    dim = _wrap_dim(dim, input._data.ndim)
    if type(input._data) is SparseCOO:
        return sparse_indexing.index_select(input, dim, index)
    return IndexSelect.apply(input, dim=dim, index=_vector_index("index_select", input, dim, index))


class IndexAdd(Function):
    """out = input; out[..., index[i], ...] += alpha * source[..., i, ...] along `dim`."""

    node_name = "IndexAddBackward0"
    saved_fields = fields(dim=value("dim"), index=saved_array("index"),
                          source=saved(0, when=1), source_dim=value("source_dim"),
                          alpha=value("alpha"))

    jvp = auto_linear

    @staticmethod
    def forward(ctx: Any, a: Any, source: Any, *, dim: int, index: Any, alpha: Any) -> Any:
        backend = ctx.backend
        ctx.dim, ctx.index, ctx.alpha, ctx.source_dim = dim, index, alpha, source.ndim
        ctx.save_for_backward(source)  # as PyTorch's node
        out = backend.asarray(a, copy=True)
        if alpha != 1:
            source = backend.multiply(source, alpha)
        if source.dtype != a.dtype:
            source = backend.astype(source, backend.dtype_name(a))
        key = full_index_key(backend, a.shape, (*(slice(None),) * dim, index)) if a.ndim \
            else (...,)
        backend.index_add(out, key, source)
        return out

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> tuple[Tensor | None, Tensor | None]:
        needs_input, needs_source = ctx.needs_input_grad
        grad_source = None
        if needs_source:
            grad_source = IndexSelect.apply(grad, dim=ctx.dim, index=ctx.index)
            if ctx.alpha != 1:
                grad_source = grad_source * ctx.alpha
        return (grad if needs_input else None), grad_source


@takes_out(EXACT)
@index_op("index_add")
def index_add(input: Tensor, dim: int, index: Tensor, source: Tensor, *,
              alpha: Any = 1) -> Tensor:
    require_tensor("index_add", "index", 3, index)
    require_tensor("index_add", "source", 4, source)
    dim = _wrap_dim(dim, input._data.ndim)
    if index.ndim > 1:
        raise IndexError("index_add_(): Index is supposed to be a vector")
    if index.dtype.name not in ("int64", "int32"):
        raise RuntimeError("index_add_(): Expected dtype int32/int64 for index but got: "
                           f"{dtypes.SCALAR_TYPE_NAMES[index.dtype.name]}")
    if source.dtype is not input.dtype:
        raise RuntimeError(
            f"index_add_(): self ({dtypes.SCALAR_TYPE_NAMES[input.dtype.name]}) and source "
            f"({dtypes.SCALAR_TYPE_NAMES[source.dtype.name]}) must have the same scalar type")
    array = _vector_index("index_add", input, dim, index)
    expected = list(input._data.shape)
    if expected:
        expected[dim] = array.shape[0]
    if list(source._data.shape) != expected and source.numel() != 0:
        raise RuntimeError(
            f"index_add_(): Source/destination tensor must have same slice shapes. "
            f"Destination slice shape: {expected} and source slice shape: "
            f"{list(source._data.shape)}"
        )
    return IndexAdd.apply(input, source, dim=dim, index=array, alpha=alpha)


# ----------------------------------------------------------------------------- masked_fill
class MaskedFill(Function):
    """masked_fill with a number; in place (masked_fill_) when `inplace`."""

    node_name = "MaskedFillBackward0"
    saved_fields = fields(mask=saved_array("mask"))

    jvp = auto_linear_with(value=0)

    @staticmethod
    def forward(ctx: Any, a: Any, *, mask: Any, value: Any, inplace: bool = False) -> Any:
        backend = ctx.backend
        ctx.mask = mask
        if inplace:
            backend.setitem(a, backend.broadcast_to(mask, a.shape), value)
            return a
        fill = backend.full((), value, backend.dtype_name(a))
        return backend.where(mask, fill, a)

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> Tensor:
        return MaskedFill.apply(grad, mask=ctx.mask, value=0)


class MaskedFillTensor(Function):
    """masked_fill with a 0-d tensor value (differentiable w.r.t. the value too). The value
    may also broadcast against the input: a vmap rule gives one value per example."""

    node_name = "MaskedFillBackward1"
    saved_fields = fields(mask=saved_array("mask"))

    jvp = auto_linear

    @staticmethod
    def forward(ctx: Any, a: Any, value: Any, *, mask: Any, inplace: bool = False) -> Any:
        backend = ctx.backend
        ctx.mask, ctx.value_shape = mask, value.shape
        if value.dtype != a.dtype:
            value = backend.astype(value, backend.dtype_name(a))
        if inplace:
            if value.shape:
                backend.setitem(a, (...,), backend.where(mask, value, a))
            else:
                backend.setitem(a, backend.broadcast_to(mask, a.shape), value)
            return a
        return backend.where(mask, value, a)

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> tuple[Tensor | None, Tensor | None]:
        needs_input, needs_value = ctx.needs_input_grad
        mask = _wrap(ctx.mask, grad._backend)
        grad_input = MaskedFill.apply(grad, mask=ctx.mask, value=0) if needs_input else None
        grad_value = None
        if needs_value:
            grad_value = where(mask, grad, 0.0)
            grad_value = grad_value.sum_to_size(ctx.value_shape) if ctx.value_shape else \
                grad_value.sum()
        return grad_input, grad_value


def mask_array(input: Tensor, mask: Tensor, value: Any) -> Any:
    """The mask's array after PyTorch's checks (device, bool dtype, 0-d tensor value,
    broadcast)."""
    same_device_index("masked_fill", input, mask)
    if not isinstance(mask, Tensor) or mask.dtype.name != "bool":
        name = dtypes.CPP_TYPE_NAMES[mask.dtype.name] \
            if isinstance(mask, Tensor) else type(mask).__name__
        raise RuntimeError(
            f"masked_fill_ only supports boolean masks, but got mask with dtype {name}"
        )
    if isinstance(value, Tensor) and value.ndim != 0:
        raise RuntimeError(
            "masked_fill_ only supports a 0-dimensional value tensor, but got tensor with "
            f"{value.ndim} dimension(s)."
        )
    check_broadcast(input._data.shape, mask._data.shape)
    return index_array(input._backend, mask)


@parses("masked_fill", MASKED_FILL, method=False)
def masked_fill(input: Tensor, mask: Tensor, value: Any) -> Tensor:
    array = mask_array(input, mask, value)
    if isinstance(value, Tensor):
        return MaskedFillTensor.apply(input, value, mask=array)
    return MaskedFill.apply(input, mask=array, value=checked_number(value, input.dtype.name))


# ----------------------------------------------------------------------- index_copy, index_fill
def _index_vector(name: str, input: Tensor, dim: int, index: Tensor) -> Any:
    """The index for index_copy/index_fill along `dim`: int64, 0-d or 1-d, in range."""
    backend = input._backend
    if index.dtype is not dtypes.int64:
        if name == "index_fill_":
            raise IndexError("index_fill_(): Expected dtype int64 for index.")
        raise RuntimeError(
            f"{name}(): Expected a long tensor for index, but got "
            f"{dtypes.SCALAR_TYPE_NAMES[index.dtype.name]}"
        )
    if index.ndim > 1:
        if name == "index_fill_":
            raise RuntimeError("Index has to be a vector/scalar")
        raise IndexError(f"{name}(): Index should have dimension 1 or 0 (got {index.ndim})")
    if name == "index_fill_":
        same_device(input, index)
    else:
        same_device_index(name, input, index)
    array = backend.reshape(index._data, (-1,))
    size = input._data.shape[dim] if input._data.ndim else 1
    bad = out_of_bounds(backend, array, size, allow_negative=name == "index_fill_")
    if bad is not None:
        prefix = "" if name == "index_fill_" else f"{name}(): "
        raise IndexError(f"{prefix}index {bad} is out of bounds for dimension {dim} with size "
                         f"{size}")
    # (only index_fill_ takes negative indices: the others keep the view of the index)
    return wrap_negative(backend, array, size) if name == "index_fill_" else array


def _along(backend: Any, shape: tuple[int, ...], dim: int, index: Any) -> tuple[Any, ...]:
    """The key that addresses the slices `index` along `dim` (every other dim whole)."""
    if not shape:
        return (...,)
    return full_index_key(backend, shape, (*(slice(None),) * dim, index))


class IndexCopy(Function):
    """out = input; out[..., index[i], ...] = source[..., i, ...] along `dim`."""

    node_name = "IndexCopyBackward0"
    saved_fields = fields(dim=value("dim"), index=saved_array("index"),
                          source=saved(0, when=1),
                          source_dim=value("source_shape", len))

    jvp = auto_linear

    @staticmethod
    def forward(ctx: Any, a: Any, source: Any, *, dim: int, index: Any) -> Any:
        backend = ctx.backend
        ctx.dim, ctx.index, ctx.source_shape = dim, index, source.shape
        ctx.save_for_backward(source)  # as PyTorch's node
        out = backend.asarray(a, copy=True)
        if not a.ndim:
            backend.setitem(out, (...,), backend.reshape(source, ()))
            return out
        shape = list(a.shape)
        shape[dim] = index.shape[0]
        backend.setitem(out, _along(backend, a.shape, dim, index),
                        backend.reshape(source, tuple(shape)))
        return out

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> tuple[Tensor | None, Tensor | None]:
        needs_input, needs_source = ctx.needs_input_grad
        grad_input = IndexFill.apply(grad, dim=ctx.dim, index=ctx.index, value=0) \
            if needs_input else None
        grad_source = None
        if needs_source:
            grad_source = (IndexSelect.apply(grad, dim=ctx.dim, index=ctx.index)
                           .reshape(ctx.source_shape))
        return grad_input, grad_source


@autocast_op("index_copy")
@index_op("index_copy")
def index_copy(input: Tensor, dim: int, index: Tensor, source: Tensor) -> Tensor:
    """A copy of `input` with slice index[i] along `dim` replaced by source's slice i."""
    shape, source_shape = input._data.shape, source._data.shape
    dim = _wrap_dim(dim, len(shape))
    array = _index_vector("index_copy_", input, dim, index)
    if source.dtype is not input.dtype:
        raise RuntimeError(
            "index_copy_(): self and source expected to have the same dtype, but got (self) "
            f"{dtypes.SCALAR_TYPE_NAMES[input.dtype.name]} and (source) "
            f"{dtypes.SCALAR_TYPE_NAMES[source.dtype.name]}"
        )
    if shape and source_shape and len(shape) != len(source_shape):
        raise IndexError(
            "index_copy_(): When source and destination are not scalars, their dimensionality "
            f"must match. Source dimensionality ({len(source_shape)}), destination "
            f"dimensionality ({len(shape)})"
        )
    if shape and source_shape:
        slot = 0
        for axis, (size, given) in enumerate(zip(shape, source_shape)):
            if axis == dim:
                continue
            if size != given:
                raise RuntimeError(
                    "index_copy_(): Source/destination tensor must have same slice shapes. "
                    f"Destination slice shape: {size} at dimension {slot} and source slice "
                    f"shape: {given} at dimension {slot}."
                )
            slot += 1
        if array.shape[0] != source_shape[dim]:
            raise IndexError(
                f"index_copy_(): Number of indices ({array.shape[0]}) should be equal to "
                f"source.size(dim) ({source_shape[dim]})"
            )
    return IndexCopy.apply(input, source, dim=dim, index=array)


class IndexFill(Function):
    """out = input with the slices `index` along `dim` set to a number."""

    node_name = "IndexFillBackward0"
    saved_fields = fields(dim=value("dim"), index=saved_array("index"))

    jvp = auto_linear_with(value=0)

    @staticmethod
    def forward(ctx: Any, a: Any, *, dim: int, index: Any, value: Any) -> Any:
        backend = ctx.backend
        ctx.dim, ctx.index = dim, index
        out = backend.asarray(a, copy=True)
        if index.shape[0]:
            backend.setitem(out, _along(backend, a.shape, dim, index),
                            backend.full((), value, backend.dtype_name(a)))
        return out

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> Tensor:
        return IndexFill.apply(grad, dim=ctx.dim, index=ctx.index, value=0)


class IndexFillTensor(Function):
    """index_fill with a 0-d tensor value (differentiable w.r.t. the value too)."""

    node_name = "IndexFillBackward1"
    saved_fields = fields(dim=value("dim"), index=saved_array("index"))

    jvp = auto_linear

    @staticmethod
    def forward(ctx: Any, a: Any, value: Any, *, dim: int, index: Any) -> Any:
        backend = ctx.backend
        ctx.dim, ctx.index = dim, index
        out = backend.asarray(a, copy=True)
        if value.dtype != a.dtype:
            value = backend.astype(value, backend.dtype_name(a))
        if index.shape[0]:
            backend.setitem(out, _along(backend, a.shape, dim, index), value)
        return out

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> tuple[Tensor | None, Tensor | None]:
        needs_input, needs_value = ctx.needs_input_grad
        grad_input = IndexFill.apply(grad, dim=ctx.dim, index=ctx.index, value=0) \
            if needs_input else None
        grad_value = IndexSelect.apply(grad, dim=ctx.dim, index=ctx.index).sum() \
            if needs_value else None
        return grad_input, grad_value


@parses("index_fill", INDEX_FILL, method=False)
@index_op("index_fill")
def index_fill(input: Tensor, dim: int, index: Tensor, value: Any) -> Tensor:
    """A copy of `input` with the slices `index` along `dim` set to `value`."""
    dim = _wrap_dim(dim, input._data.ndim)
    array = _index_vector("index_fill_", input, dim, index)
    if isinstance(value, Tensor):
        if value.ndim != 0:
            raise RuntimeError(
                "index_fill_ only supports a 0-dimensional value tensor, but got tensor with "
                f"{value.ndim} dimension(s)."
            )
        return IndexFillTensor.apply(input, value, dim=dim, index=array)
    return IndexFill.apply(input, dim=dim, index=array, value=value)


# ----------------------------------------------------------------------------- filling
class Fill(Function):
    """torch.fill(input, value): a new tensor of input's shape and dtype, all `value`."""

    node_name = "FillBackward0"
    jvp = zero_tangent

    @staticmethod
    def forward(ctx: Any, a: Any, *, value: Any) -> Any:
        return ctx.backend.full(a.shape, value, ctx.backend.dtype_name(a))

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> Tensor:
        return zeros_like(grad)


class FillTensor(Function):
    """torch.fill(input, value) with a 0-d tensor `value`, which gets the summed gradient."""

    node_name = "FillBackward1"
    jvp = auto_linear

    @staticmethod
    def forward(ctx: Any, a: Any, value: Any) -> Any:
        backend = ctx.backend
        return backend.astype(backend.broadcast_to(value, a.shape), backend.dtype_name(a),
                              copy=True)

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> tuple[Tensor | None, Tensor | None]:
        needs_input, needs_value = ctx.needs_input_grad
        return (zeros_like(grad) if needs_input else None), (grad.sum() if needs_value else None)


def fill(input: Tensor, value: Any) -> Tensor:
    """A new tensor shaped like `input`, every element `value` (a number or a 0-d tensor)."""
    require_tensors("fill", ("input", input))
    if isinstance(value, Tensor):
        if value.ndim != 0:
            raise RuntimeError("fill_ only supports 0-dimension value tensor but got tensor with "
                               f"{value.ndim} dimensions.")
        return FillTensor.apply(input, value.to(input.device))
    return Fill.apply(input, value=checked_number(value, input.dtype.name))


def fill_(input: Tensor, value: Any) -> Tensor:
    """In place: `input.fill_(value)`."""
    if not isinstance(input, Tensor):
        raise invalid_arguments("fill_", (input, value), {},
                                ("Tensor input, Tensor value", "Tensor input, Number value"))
    return input.fill_(value)


def zero_(input: Tensor) -> Tensor:
    """In place: `input.zero_()`."""
    require_tensors("zero_", ("input", input))
    return input.zero_()
