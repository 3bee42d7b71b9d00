"""max/min, amax/amin, aminmax and argmax/argmin.

Gradients follow PyTorch: a full `max()`/`min()` and `amax`/`amin` split the gradient evenly
among tied elements; `max(dim)`/`min(dim)` give it all to the element at the returned index
(the first of the ties, as NumPy and PyTorch both pick). NaN wins a max or min, and gets the
gradient.
"""

from __future__ import annotations

from typing import Any

from .. import return_types
from ..batching.dispatch import dim_op
from ..function import Function
from ..jvp_rules import jvp_from_backward, picked_jvp, reduction_jvp
from ..layout_dispatch import dense_only
from ..overrides import handle_torch_function, has_torch_function
from ..saved_fields import InputSizes, every_dim_empty, fields, saved, saved_array, value
from ..tensor import Tensor, _wrap, _wrap_dim
from ._checks import invalid_arguments
from ._dims import keep_dims, reduction_axes
from ._out import CAST, EXACT, OutRule, same, takes_out
from .selection import maximum, minimum, where


def _tied_mask(a: Tensor, out: Tensor) -> Tensor:
    """Where `a` equals its reduced value `out` (kept dims), NaN matching NaN."""
    return (a == out) | (a.isnan() & out.isnan())


def _check_full_reduction(name: str, a: Any) -> None:
    if 0 in a.shape:
        raise RuntimeError(
            f"{name}(): Expected reduction dim to be specified for input.numel() == 0. Specify "
            "the reduction dim with the 'dim' argument."
        )


def _check_dims_not_empty(name: str, a: Any, axes: tuple[int, ...] | None) -> None:
    if axes is None:
        _check_full_reduction(name, a)
        return
    for axis in axes:
        if a.shape[axis] == 0:
            raise IndexError(f"{name}(): Expected reduction dim {axis} to have non-zero size.")


# ----------------------------------------------------------------------------- max(), min()
class MaxAll(Function):
    node_name = "MaxBackward1"
    saved_fields = fields(self=saved(0), result=saved(1))
    reduce = "max"

    @staticmethod
    def forward(ctx: Any, a: Any) -> Any:
        _check_full_reduction(ctx.reduce, a)
        out = getattr(ctx.backend, ctx.reduce)(a)
        ctx.save_for_backward(a, out)
        return out

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> Tensor:
        a, out = ctx.saved_tensors
        mask = _tied_mask(a, out)
        return where(mask, grad / mask.sum(), 0.0)

    @staticmethod
    def jvp(ctx: Any, tangent: Tensor) -> Tensor:
        """The mean of the tangent over the tied extremes (PyTorch's evenly_read_jvp)."""
        a, out = ctx.saved_tensors
        mask = _tied_mask(a, out)
        return where(mask, tangent, 0.0).sum() / mask.sum()


class MinAll(MaxAll):
    node_name = "MinBackward1"
    reduce = "min"


# ----------------------------------------------------------------------------- max(dim), min(dim)
class MaxDim(Function):
    """(values, indices) along one dim; the gradient goes to the returned indices."""

    node_name = "MaxBackward0"
    saved_fields = fields(dim=value("dim"), keepdim=value("keepdim"),
                          indices=saved_array("indices"), self_sym_sizes=InputSizes())
    reduce, arg_reduce = "max", "argmax"

    jvp = picked_jvp

    @staticmethod
    def forward(ctx: Any, a: Any, *, dim: int, keepdim: bool) -> Any:
        backend = ctx.backend
        ctx.set_materialize_grads(False)  # the indices never get a gradient
        ctx.input_shape, ctx.dim, ctx.keepdim = a.shape, dim, keepdim
        if a.ndim == 0:
            values = backend.asarray(a, copy=True)
            indices = backend.zeros((), "int64")
        else:
            _check_dims_not_empty(ctx.reduce, a, (dim,))
            values = getattr(backend, ctx.reduce)(a, axis=dim, keepdims=keepdim)
            indices = getattr(backend, ctx.arg_reduce)(a, axis=dim, keepdims=keepdim)
            if backend.dtype_name(indices) != "int64":
                indices = backend.astype(indices, "int64")
        ctx.indices = indices
        ctx.mark_non_differentiable(indices)
        return values, indices

    @staticmethod
    def backward(ctx: Any, grad: Tensor | None, grad_indices: Any = None) -> Tensor | None:
        if grad is None:
            return None
        shape = ctx.input_shape
        if not shape:
            return grad
        backend = ctx.backend
        dim = ctx.dim
        indices = ctx.indices if ctx.keepdim else backend.expand_dims(ctx.indices, axis=dim)
        grad = keep_dims(grad, shape, (dim,), ctx.keepdim)
        # The selected element of each slice: its position along `dim` equals the index.
        positions = backend.reshape(backend.arange(0, shape[dim], 1, "int64"),
                                    tuple(-1 if axis == dim else 1 for axis in range(len(shape))))
        selected = _wrap(backend.equal(positions, indices), backend)
        return where(selected, grad, 0.0)


class MinDim(MaxDim):
    node_name = "MinBackward0"
    reduce, arg_reduce = "min", "argmin"


def _max_min(op_all: type[MaxAll], op_dim: type[MaxDim], binary: Any,
             result: type[Any], input: Tensor, dim: Any, keepdim: bool) -> Any:
    if dim is None:
        return op_all.apply(input)
    if isinstance(dim, Tensor):  # max(input, other): the elementwise maximum
        return binary(input, dim)
    if not isinstance(dim, int):
        raise invalid_arguments(op_all.reduce, (dim,), {},
                                ("", "Tensor other", "int dim, bool keepdim = False"))
    dim = _wrap_dim(dim, input._data.ndim)
    values, indices = op_dim.apply(input, dim=dim, keepdim=keepdim)
    return result((values, indices))


def _out_rule(input: Tensor, dim: Any = None, keepdim: bool = False, *,
              out: Any) -> OutRule | tuple[Any, ...]:
    """max(input, dim): values and indices of exactly their dtypes; max(input, other): the
    elementwise maximum's rule; max(input): the value's dtype."""
    if isinstance(dim, Tensor):
        return CAST
    return EXACT if dim is None else (EXACT, EXACT)


@takes_out(_out_rule)
def max(input: Tensor, dim: Any = None, keepdim: bool = False) -> Any:
    """The largest element; with `dim`, (values, indices) along it; with a Tensor, maximum."""
    return _max_min(MaxAll, MaxDim, maximum, return_types.max, input, dim, keepdim)


@takes_out(_out_rule)
def min(input: Tensor, dim: Any = None, keepdim: bool = False) -> Any:
    """The smallest element; with `dim`, (values, indices) along it; with a Tensor, minimum."""
    return _max_min(MinAll, MinDim, minimum, return_types.min, input, dim, keepdim)


# ----------------------------------------------------------------------------- amax, amin
class Amax(Function):
    node_name = "AmaxBackward0"
    saved_fields = fields(self=saved(0), result=saved(1), dim=value("axes", every_dim_empty),
                          keepdim=value("keepdim"))
    reduce = "amax"

    jvp = reduction_jvp

    @staticmethod
    def forward(ctx: Any, a: Any, *, axes: tuple[int, ...] | None, keepdim: bool) -> Any:
        _check_dims_not_empty(ctx.reduce, a, axes)
        ctx.input_shape, ctx.axes, ctx.keepdim = a.shape, axes, keepdim
        out = getattr(ctx.backend, ctx.reduce[1:])(a, axis=axes, keepdims=keepdim)
        ctx.save_for_backward(a, out)
        return out

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> Tensor:
        a, out = ctx.saved_tensors
        grad = keep_dims(grad, ctx.input_shape, ctx.axes, ctx.keepdim)
        mask = _tied_mask(a, keep_dims(out, ctx.input_shape, ctx.axes, ctx.keepdim))
        count = mask.sum(ctx.axes, keepdim=True) if ctx.axes is not None else mask.sum()
        return where(mask, grad / count, 0.0)


class Amin(Amax):
    node_name = "AminBackward0"
    reduce = "amin"


_AMAX_OUT = same("Expected the dtype for input and out to match, but got {result} for input's "
                 "dtype and {out} for out's dtype.")


@takes_out(_AMAX_OUT)
def amax(input: Tensor, dim: Any = (), keepdim: bool = False) -> Tensor:
    """The largest elements over `dim` (all dims by default); ties share the gradient."""
    if type(input) is not Tensor and has_torch_function((input,)):
        return handle_torch_function(amax, (input,), input, dim, keepdim)
    return Amax.apply(input, axes=reduction_axes(dim, input._data.ndim), keepdim=keepdim)


@takes_out(_AMAX_OUT)
def amin(input: Tensor, dim: Any = (), keepdim: bool = False) -> Tensor:
    """The smallest elements over `dim` (all dims by default); ties share the gradient."""
    if type(input) is not Tensor and has_torch_function((input,)):
        return handle_torch_function(amin, (input,), input, dim, keepdim)
    return Amin.apply(input, axes=reduction_axes(dim, input._data.ndim), keepdim=keepdim)


# ----------------------------------------------------------------------------- argmax, argmin
def _arg_reduce(name: str, input: Tensor, dim: Any, keepdim: bool) -> Tensor:
    dense_only(f"aten::{name}", input)
    backend, a = input._backend, input._data
    if backend.is_bool(a.dtype):
        raise RuntimeError(f"{name}(): does not support bool input")
    if dim is None:
        if 0 in a.shape:
            raise IndexError(
                f"{name}(): Expected reduction dim to be specified for input.numel() == 0."
            )
        axis = None
    else:
        axis = _wrap_dim(dim, a.ndim)
        if a.ndim:
            _check_dims_not_empty(name, a, (axis,))
    if a.ndim == 0:
        out = backend.zeros((), "int64")
    else:
        out = getattr(backend, name)(a, axis=axis, keepdims=keepdim)
        if backend.dtype_name(out) != "int64":
            out = backend.astype(out, "int64")
    return _wrap(out, backend)


@takes_out(EXACT)
@dim_op
def argmax(input: Tensor, dim: int | None = None, keepdim: bool = False) -> Tensor:
    """The index of the largest element (in the flattened tensor when `dim` is None)."""
    if type(input) is not Tensor and has_torch_function((input,)):
        return handle_torch_function(argmax, (input,), input, dim, keepdim)
    return _arg_reduce("argmax", input, dim, keepdim)


@takes_out(EXACT)
@dim_op
def argmin(input: Tensor, dim: int | None = None, keepdim: bool = False) -> Tensor:
    """The index of the smallest element (in the flattened tensor when `dim` is None)."""
    if type(input) is not Tensor and has_torch_function((input,)):
        return handle_torch_function(argmin, (input,), input, dim, keepdim)
    return _arg_reduce("argmin", input, dim, keepdim)


# ----------------------------------------------------------------------------- aminmax
class Aminmax(Function):
    """(amin, amax) over `dim` (all elements when None) in one node; ties share each
    gradient evenly, as amin's and amax's do."""

    node_name = "AminmaxBackward0"
    saved_fields = fields(self=saved(0), min=saved(1), max=saved(2),
                          dim=value("dim"), keepdim=value("keepdim"))

    jvp = jvp_from_backward

    @staticmethod
    def forward(ctx: Any, a: Any, *, dim: int | None, keepdim: bool) -> Any:
        backend = ctx.backend
        ctx.set_materialize_grads(False)
        ctx.input_shape, ctx.keepdim, ctx.dim = a.shape, keepdim, dim
        ctx.axes = None if dim is None or a.ndim == 0 else (dim,)
        if a.ndim == 0:
            low, high = backend.asarray(a, copy=True), backend.asarray(a, copy=True)
        else:
            if dim is None and 0 in a.shape:
                raise RuntimeError(
                    "aminmax(): cannot compute aminmax over an empty dimension as the operation "
                    "has no identity."
                )
            if dim is not None and a.shape[dim] == 0:
                raise IndexError(f"aminmax: Expected reduction dim {dim} to have non-zero size.")
            low = _reduce(backend, "min", a, ctx.axes, keepdim)
            high = _reduce(backend, "max", a, ctx.axes, keepdim)
        ctx.save_for_backward(a, low, high)
        return low, high

    @staticmethod
    def backward(ctx: Any, grad_min: Tensor | None, grad_max: Tensor | None) -> Tensor | None:
        a, low, high = ctx.saved_tensors
        total = None
        for grad, out in ((grad_min, low), (grad_max, high)):
            if grad is None:
                continue
            grad = keep_dims(grad, ctx.input_shape, ctx.axes, ctx.keepdim)
            mask = _tied_mask(a, keep_dims(out, ctx.input_shape, ctx.axes, ctx.keepdim))
            count = mask.sum(ctx.axes, keepdim=True) if ctx.axes is not None else mask.sum()
            part = where(mask, grad / count, 0.0)
            total = part if total is None else total + part
        return total


def _reduce(backend: Any, name: str, a: Any, axes: tuple[int, ...] | None,
            keepdim: bool) -> Any:
    if backend.is_bool(a.dtype):  # the array API orders no bools: min is all, max is any
        return (backend.all if name == "min" else backend.any)(a, axis=axes, keepdims=keepdim)
    return getattr(backend, name)(a, axis=axes, keepdims=keepdim)


def aminmax(input: Tensor, *, dim: int | None = None, keepdim: bool = False) -> Any:
    """(min, max) of all elements, or along `dim`."""
    if dim is not None:
        dim = _wrap_dim(dim, input._data.ndim)
    low, high = Aminmax.apply(input, dim=dim, keepdim=keepdim)
    return return_types.aminmax((low, high))
