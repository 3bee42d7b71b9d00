"""Scatters that reduce: scatter_reduce (element by element, as scatter) and index_reduce (slice
by slice, as index_add), with "sum" (scatter_reduce only), "prod", "mean", "amax" and "amin",
and `include_self` (whether the input's own value takes part).

Gradients are PyTorch's: a sum passes the gradient through; a mean divides it by the count;
amax/amin share it evenly among the elements equal to the result; a product divides the result
by the factor, with the exclusive product computed apart where a factor is zero (where two or
more zeros meet at one position the first derivative is still right, but differentiating it
again raises, as in PyTorch).
"""

from __future__ import annotations

from typing import Any

from .. import dtypes
from ..batching.dispatch import index_op
from ..creation import ones_like, zeros_like
from ..function import Function
from ..jvp_rules import jvp_from_backward
from ..saved_fields import fields, saved, saved_array, value
from ..tensor import Tensor, _wrap, _wrap_dim
from ..user_warnings import first_time, warn
from ._checks import scalar_type_name
from ._scatter_arrays import reduce_into, reduce_scattered
from .indexing import full_index_key, same_device_index
from .scatter import (
    Gather,
    IndexAdd,
    IndexFill,
    IndexSelect,
    ScatterAdd,
    ScatterValue,
    _check_index,
)
from .selection import where
from .view_scatter import SliceScatter

_REDUCTIONS = ("sum", "prod", "mean", "amax", "amin")


class _DoubleBackwardError(Function):
    """Passes a gradient on; differentiating it again raises (PyTorch's DelayedError)."""

    node_name = "DelayedError"

    @staticmethod
    def forward(ctx: Any, value: Any, *, message: str) -> Any:
        ctx.message = message
        return ctx.backend.asarray(value, copy=True)

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> Any:
        raise RuntimeError(ctx.message)


# ----------------------------------------------------------------------------- the backward
class _Along:
    """gather/scatter_add/scatter of a value (scatter_reduce) or index_select/index_add/
    index_fill (index_reduce) with one dim and index: how the shared backward moves values
    between the input's positions and the source's."""

    def __init__(self, dim: int, index: Any, by_slice: bool) -> None:
        self.dim, self.index, self.by_slice = dim, index, by_slice

    def pick(self, tensor: Tensor) -> Tensor:
        if self.by_slice:
            return IndexSelect.apply(tensor, dim=self.dim, index=self.index)
        return Gather.apply(tensor, dim=self.dim, index=self.index)

    def add(self, target: Tensor, values: Tensor) -> Tensor:
        if self.by_slice:
            return IndexAdd.apply(target, values, dim=self.dim, index=self.index, alpha=1)
        return ScatterAdd.apply(target, values, dim=self.dim, index=self.index)

    def zero(self, tensor: Tensor) -> Tensor:
        if self.by_slice:
            return IndexFill.apply(tensor, dim=self.dim, index=self.index, value=0)
        return ScatterValue.apply(tensor, dim=self.dim, index=self.index, value=0)


def _reduce_backward(ctx: Any, grad: Tensor, along: _Along, again: Any,
                     name: str) -> tuple[Tensor, Tensor]:
    """PyTorch's scatter_reduce_backward / index_reduce_backward. `again(self, source)`
    recomputes the op with other operands (for the product's exclusive products)."""
    a, src, result = ctx.saved_tensors
    reduce = ctx.reduce
    src = _source_block(src, ctx, along)
    if reduce == "sum":
        grad_self, grad_src = grad, along.pick(grad)
    elif reduce == "prod":
        masked_self = a.masked_fill(a == 0, 1)
        grad_self = grad * again(masked_self, src) / masked_self
        src_zero = src == 0
        zeros_in = along.pick(along.add(zeros_like(a), src_zero.to(a.dtype)))
        single_zero = src_zero & (zeros_in == 1)
        masked_src_result = again(a, src.masked_fill(single_zero, 1))
        grad_src = where(single_zero, along.pick(grad * masked_src_result),
                         along.pick(grad * result) / src.masked_fill(src_zero, 1))
        if zeros_in._backend.any_true((zeros_in > 1)._data):
            grad_src = _DoubleBackwardError.apply(
                grad_src, message=f"{name}(): Double backward is unsupported for "
                f"{'source' if along.by_slice else 'src'} when >1 zeros in "
                f"{'source' if along.by_slice else 'src'} are scattered to the same position "
                "in self")
    elif reduce == "mean":
        counts = ones_like(grad) if ctx.include_self else zeros_like(grad)
        counts = along.add(counts, ones_like(src))
        counts = counts.masked_fill(counts == 0, 1)
        grad_self = grad / counts
        grad_src = along.pick(grad) / along.pick(counts)
    else:
        value = along.pick(result)
        self_is_result = (a == result).to(a.dtype)
        src_is_result = (src == value).to(a.dtype)
        shared = grad / along.add(self_is_result, src_is_result)
        grad_self = self_is_result * shared
        grad_src = src_is_result * along.pick(shared)
    if not ctx.include_self:
        grad_self = along.zero(grad_self)
    return grad_self, _fit_source(grad_src, ctx.source_shape)


def _source_block(src: Tensor, ctx: Any, along: _Along) -> Tensor:
    """The part of src the op reads (scatter reads the leading block of index's shape)."""
    if along.by_slice or tuple(src.shape) == ctx.index.shape:
        return src
    return src[tuple(slice(0, size) for size in ctx.index.shape)]


def _fit_source(grad: Tensor, shape: tuple[int, ...]) -> Tensor:
    """The source's gradient, zero where the op did not read it (PyTorch's returns only the
    read block, and its engine then rejects the shape)."""
    if tuple(grad.shape) == shape:
        return grad
    backend = grad._backend
    full = _wrap(backend.zeros(shape, backend.dtype_name(grad._data)), backend)
    return SliceScatter.apply(full, grad, key=(*(slice(0, size) for size in grad.shape), ...))


# ----------------------------------------------------------------------------- scatter_reduce
class ScatterReduce(Function):
    node_name = "ScatterReduceBackward0"
    saved_fields = fields(self=saved(0), dim=value("dim"), index=saved_array("index"),
                          src=saved(1), reduce=value("reduce"),
                          include_self=value("include_self"), result=saved(2))

    jvp = jvp_from_backward

    @staticmethod
    def forward(ctx: Any, a: Any, src: Any, *, dim: int, index: Any, reduce: str,
                include_self: bool) -> Any:
        backend = ctx.backend
        ctx.dim, ctx.index, ctx.reduce, ctx.include_self = dim, index, reduce, include_self
        ctx.source_shape = src.shape
        out = reduce_scattered(backend, a, src, index, dim, reduce, include_self)
        ctx.save_for_backward(a, src, out)
        return out

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> tuple[Tensor | None, Tensor | None]:
        options = {"dim": ctx.dim, "index": ctx.index, "reduce": ctx.reduce,
                   "include_self": ctx.include_self}

        def again(a: Tensor, src: Tensor) -> Tensor:
            return ScatterReduce.apply(a, src, **options)

        along = _Along(ctx.dim, ctx.index, by_slice=False)
        grad_self, grad_src = _reduce_backward(ctx, grad, along, again, "scatter_reduce")
        needs_input, needs_src = ctx.needs_input_grad
        return (grad_self if needs_input else None), (grad_src if needs_src else None)


def _check_reduce(reduce: str, allowed: tuple[str, ...], message: str) -> None:
    if reduce not in allowed:
        raise RuntimeError(message.format(reduce=reduce))


@index_op("same_rank")
def scatter_reduce(input: Tensor, dim: int, index: Tensor, src: Tensor, reduce: str, *,
                   include_self: bool = True) -> Tensor:
    """A copy of `input` with each element of `src` reduced ("sum", "prod", "mean", "amax",
    "amin") into the element `index` names along `dim`."""
    _check_reduce(reduce, _REDUCTIONS, "reduce argument must be either sum, prod, mean, amax or "
                  "amin, got {reduce}")
    dim = _wrap_dim(dim, input._data.ndim)
    if src.dtype is not input.dtype:
        raise RuntimeError("scatter(): Expected self.dtype to be equal to src.dtype")
    array = _check_index("scatter_reduce", input, dim, index, src)
    return ScatterReduce.apply(input, src, dim=dim, index=array, reduce=reduce,
                               include_self=bool(include_self))


# ----------------------------------------------------------------------------- index_reduce
class IndexReduce(Function):
    node_name = "IndexReduceBackward0"
    saved_fields = fields(self=saved(0), dim=value("dim"), index=saved_array("index"),
                          source=saved(1), reduce=value("reduce"),
                          include_self=value("include_self"), result=saved(2))

    jvp = jvp_from_backward

    @staticmethod
    def forward(ctx: Any, a: Any, source: Any, *, dim: int, index: Any, reduce: str,
                include_self: bool) -> Any:
        backend = ctx.backend
        ctx.dim, ctx.index, ctx.reduce, ctx.include_self = dim, index, reduce, include_self
        ctx.source_shape = source.shape
        if a.ndim == 0:  # one element: every index names it
            out = reduce_into(backend, backend.reshape(a, (1,)), (index,),
                               backend.reshape(source, (-1,)), reduce, include_self)
            out = backend.reshape(out, ())
        else:
            key = full_index_key(backend, a.shape, (*(slice(None),) * dim, index))
            out = reduce_into(backend, a, key, source, reduce, include_self)
        ctx.save_for_backward(a, source, out)
        return out

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> tuple[Tensor | None, Tensor | None]:
        options = {"dim": ctx.dim, "index": ctx.index, "reduce": ctx.reduce,
                   "include_self": ctx.include_self}

        def again(a: Tensor, source: Tensor) -> Tensor:
            return IndexReduce.apply(a, source, **options)

        along = _Along(ctx.dim, ctx.index, by_slice=True)
        grad_self, grad_source = _reduce_backward(ctx, grad, along, again, "index_reduce")
        needs_input, needs_source = ctx.needs_input_grad
        return (grad_self if needs_input else None), (grad_source if needs_source else None)


_warned_beta: list[bool] = []


@index_op("index_reduce")
def index_reduce(input: Tensor, dim: int, index: Tensor, source: Tensor, reduce: str, *,
                 include_self: bool = True) -> Tensor:
    """A copy of `input` with each slice i of `source` along `dim` reduced ("prod", "mean",
    "amax", "amin") into slice index[i]."""
    if first_time(_warned_beta):
        warn("index_reduce() is in beta and the API may change at any time.",
             UserWarning, stacklevel=2)
    _check_reduce(reduce, _REDUCTIONS[1:], "index_reduce(): Expected reduce to be one of prod, "
                  "mean, amax or amin but got {reduce}.")
    shape, source_shape = input._data.shape, source._data.shape
    dim = _wrap_dim(dim, len(shape))
    if index.ndim > 1:
        raise IndexError(
            "index_reduce_(): Index is supposed to be a vector, but got dim: "
            f"{index.ndim} with type: {scalar_type_name(index)} and size: "
            f"{list(index._data.shape)}"
        )
    if index.dtype not in (dtypes.int64, dtypes.int32):
        raise RuntimeError("index_reduce_(): Expected dtype int32/int64 for index")
    if source.dtype is not input.dtype:
        raise RuntimeError(
            "index_reduce_(): self and source expected to have the same dtype, but got (self) "
            f"{scalar_type_name(input)} and (source) {scalar_type_name(source)}"
        )
    same_device_index("index_reduce", input, index)
    backend = input._backend
    array = backend.reshape(index._data, (-1,))
    if shape:
        expected = list(shape)
        expected[dim] = array.shape[0]
        if list(source_shape) != expected:
            raise RuntimeError(
                "source tensor shape must match self tensor shape, excluding the specified "
                f"dimension. Got self.shape = {list(shape)} source.shape = {list(source_shape)}"
            )
    size = shape[dim] if shape else 1
    if array.shape[0] and backend.any_true(backend.logical_or(
            backend.less(array, 0), backend.greater_equal(array, size))):
        raise IndexError("index out of range in self")
    if backend.dtype_name(array) != "int64":
        array = backend.astype(array, "int64")
    return IndexReduce.apply(input, source, dim=dim, index=array, reduce=reduce,
                             include_self=bool(include_self))
