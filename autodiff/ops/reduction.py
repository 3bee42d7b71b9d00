"""Reductions: sum, mean, prod, var/std, logsumexp, norm (torch.norm), any/all. (max/min and
their kin are in `minmax`, cumsum/cumprod in `cumulative`, the linalg norms in `norm`.) `dim` is
an int or a tuple of ints (negative counts from the end; an empty tuple means every dim, as
PyTorch); `keepdim` keeps reduced dims as size 1.

A reduction's backward puts the removed dims back (`keep_dims`) so its gradient broadcasts
against the input.
"""

from __future__ import annotations

import math
from typing import Any

from .. import dtypes
from ..autocast_state import autocast_op
from ..batching.dispatch import dim_op
from ..creation import ones_like
from ..function import Function
from ..jvp_rules import auto_linear, reduction_jvp
from ..layout_dispatch import dense_only
from ..overrides import handle_torch_function, has_torch_function
from ..saved_fields import (
    Computed,
    InputNumel,
    InputSizes,
    every_dim_empty,
    fields,
    int_tuple,
    saved,
    value,
)
from ..sparse_coo import SparseCOO
from ..tensor import Tensor, _wrap, _wrap_dim
from ..user_warnings import warn
from ._checks import invalid_arguments
from ._dims import keep_dims, reduced_count, reduction_axes
from ._out import CAST, EXACT, INTO, INTO_FLOAT, OutRule, floating, only, takes_out
from ._promotion import accumulation_dtype, cast_for_accumulation, default_float, opmath, rounded
from .joining import cat
from .norm import matrix_norm, vector_norm
from .selection import where
from .sparse_compressed import CompressedSum, CompressedSumDim
from .sparse_elementwise import SparseSum, SparseSumDim


def _restore_dims(grad: Tensor, input_shape: tuple[int, ...], axes: tuple[int, ...] | None,
                  keepdim: bool) -> Tensor:
    """Reshape a reduced gradient so it broadcasts against the input, then expand it."""
    return keep_dims(grad, input_shape, axes, keepdim).expand(input_shape)


class Sum(Function):
    node_name = "SumBackward0"
    saved_fields = fields(self_sym_sizes=InputSizes())
    sparse_form = SparseSum
    compressed_form: Any = CompressedSum

    # memory_report: the gradient handed on is a view of the one received.
    backward_is_view = True

    jvp = auto_linear

    @staticmethod
    def forward(ctx: Any, a: Any, *, axes: tuple[int, ...] | None, keepdim: bool,
                dtype: str | None) -> Any:
        ctx.input_shape = a.shape
        ctx.axes = axes
        ctx.keepdim = keepdim
        backend = ctx.backend
        if dtype is not None:
            a = backend.astype(a, dtype)
        elif not (backend.is_floating(a.dtype) or backend.is_complex(a.dtype)):
            a = backend.astype(a, "int64")  # PyTorch sums bools and integers as int64
        if backend.is_bool(a.dtype):  # a sum in bool (dtype=bool): whether any is nonzero
            return backend.any(a, axis=axes, keepdims=keepdim)
        return backend.sum(a, axis=axes, keepdims=keepdim)

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> Tensor:
        return _restore_dims(grad, ctx.input_shape, ctx.axes, ctx.keepdim)


class SumDim(Sum):
    node_name = "SumBackward1"
    saved_fields = fields(dim=value("axes", every_dim_empty), keepdim=value("keepdim"),
                          self_sym_sizes=InputSizes())
    sparse_form = SparseSumDim
    compressed_form = CompressedSumDim


def _full_reduction_without_out(name: str, dim_type: str) -> Any:
    """sum and prod over every element take no `out` (only their overloads with `dim` do)."""
    def rule(input: Any, dim: Any = None, keepdim: bool = False, **kwargs: Any) -> OutRule:
        if dim is None:
            raise invalid_arguments(name, (input,), kwargs, (
                "Tensor input, *, torch.dtype dtype = None",
                f"Tensor input, {dim_type} dim, bool keepdim = False, *, torch.dtype dtype = "
                "None, Tensor out = None"))
        return INTO
    return rule


@takes_out(_full_reduction_without_out("sum", "tuple of ints"))
@autocast_op("sum")
def sum(input: Tensor, dim: Any = None, keepdim: bool = False, *,
        dtype: Any = None) -> Tensor:
    if type(input) is not Tensor and has_torch_function((input,)):
        return handle_torch_function(sum, (input,), input, dim, keepdim, dtype=dtype)
    axes = reduction_axes(dim, input._data.ndim)
    dtype_name = None if dtype is None else dtypes.to_dtype(dtype).name
    op = Sum if dim is None else SumDim
    return op.apply(input, axes=axes, keepdim=keepdim, dtype=dtype_name)


class Mean(Function):
    node_name = "MeanBackward0"
    saved_fields = fields(self_sym_sizes=InputSizes(), self_sym_numel=InputNumel())

    jvp = auto_linear

    @staticmethod
    def forward(ctx: Any, a: Any, *, axes: tuple[int, ...] | None, keepdim: bool,
                dtype: str | None) -> Any:
        backend = ctx.backend
        if dtype is not None:
            a = backend.astype(a, dtype)
        ctx.input_shape = a.shape
        ctx.axes = axes
        ctx.keepdim = keepdim
        ctx.count = count = reduced_count(a.shape, axes)
        if count == 0:  # the mean of nothing is nan, as in PyTorch (and without NumPy's warning)
            reduced = backend.sum(a, axis=axes, keepdims=keepdim)
            return backend.full(reduced.shape, math.nan, backend.dtype_name(a))
        return backend.mean(a, axis=axes, keepdims=keepdim)

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> Tensor:
        scaled = grad / ctx.count if ctx.count else grad  # no elements: nothing to scale
        return _restore_dims(scaled, ctx.input_shape, ctx.axes, ctx.keepdim)


class MeanDim(Mean):
    node_name = "MeanBackward1"
    saved_fields = fields(dim=value("axes", int_tuple), keepdim=value("keepdim"),
                          self_sym_sizes=InputSizes(), self_sym_numel=InputNumel())


@takes_out(lambda input, *args, **kwargs: INTO_FLOAT if input.dtype.is_floating_point else CAST)
def mean(input: Tensor, dim: Any = None, keepdim: bool = False, *,
         dtype: Any = None) -> Tensor:
    if type(input) is not Tensor and has_torch_function((input,)):
        return handle_torch_function(mean, (input,), input, dim, keepdim, dtype=dtype)
    kind = input.dtype if dtype is None else dtypes.to_dtype(dtype)
    if not (kind.is_floating_point or kind.is_complex):
        raise RuntimeError(
            "mean(): could not infer output dtype. Input dtype must be either a floating point "
            f"or complex dtype. Got: {dtypes.SCALAR_TYPE_NAMES[kind.name]}"
        )
    axes = reduction_axes(dim, input._data.ndim)
    op = Mean if dim is None else MeanDim
    return op.apply(input, axes=axes, keepdim=keepdim, dtype=None if dtype is None else kind.name)


# ----------------------------------------------------------------------------- prod
class Prod(Function):
    node_name = "ProdBackward0"
    saved_fields = fields(self=saved(0), result=saved(1))

    jvp = reduction_jvp

    @staticmethod
    def forward(ctx: Any, a: Any, *, axis: int | None, keepdim: bool) -> Any:
        ctx.input_shape = a.shape
        ctx.axes = None if axis is None else (axis,)
        ctx.keepdim = keepdim
        backend = ctx.backend
        if a.ndim == 0:
            out = backend.asarray(a, copy=True)
        elif backend.is_bool(a.dtype):  # a product in bool (dtype=bool): whether all are
            out = backend.all(a, axis=axis, keepdims=keepdim)
        else:
            out = backend.prod(a, axis=axis, keepdims=keepdim)
        ctx.save_for_backward(a, out)
        return out

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> Tensor:
        a, out = ctx.saved_tensors
        if a.ndim == 0:
            return grad
        # Complex: the gradient is grad times the conjugated derivative (PyTorch's convention).
        a, out = a.conj(), out.conj()
        axes = ctx.axes
        grad = keep_dims(grad, ctx.input_shape, axes, ctx.keepdim)
        backend = ctx.backend
        if not backend.any_true(backend.equal(a._data, 0)):
            out = keep_dims(out, ctx.input_shape, axes, ctx.keepdim)
            return grad * (out / a)  # the product of the others
        # With zeros, the product of the others without dividing, so that it stays right (and
        # differentiable) with any number of zeros in a slice.
        if axes is None:
            return grad * _product_of_others(a.reshape(-1), 0).reshape(a.shape)
        return grad * _product_of_others(a, axes[0])


def _product_of_others(a: Tensor, axis: int) -> Tensor:
    """For each element, the product of the other elements of its slice along `axis`: the
    product of those before it times the product of those after it (exclusive cumulative
    products both ways)."""
    count = a.shape[axis]
    one = ones_like(a.narrow(axis, 0, 1))
    before = cat([one, a.narrow(axis, 0, count - 1).cumprod(axis)], axis)
    after = cat([a.narrow(axis, 1, count - 1).flip(axis).cumprod(axis).flip(axis), one], axis)
    return before * after


def _single_axis(node: Any) -> int:
    """prod's `dim` (one int; a 0-d input reduces over no axis: dim 0)."""
    return node.axes[0] if node.axes else 0


class ProdDim(Prod):
    node_name = "ProdBackward1"
    saved_fields = fields(self=saved(0), result=saved(1), dim=Computed(_single_axis),
                          keepdim=value("keepdim"))


@takes_out(_full_reduction_without_out("prod", "int"))
@autocast_op("prod")
def prod(input: Tensor, dim: int | None = None, keepdim: bool = False, *,
         dtype: Any = None) -> Tensor:
    """The product of the elements (along `dim`, an int as in PyTorch). Integers and bools
    multiply as int64; the gradient is right with zeros (one or several)."""
    if type(input) is not Tensor and has_torch_function((input,)):
        return handle_torch_function(prod, (input,), input, dim, keepdim, dtype=dtype)
    if dim is not None and not isinstance(dim, int):
        raise invalid_arguments("prod", (dim,), {}, (
            "*, torch.dtype dtype = None",
            "int dim, bool keepdim = False, *, torch.dtype dtype = None"))
    input = cast_for_accumulation(input, dtype)
    if dim is None:
        return Prod.apply(input, axis=None, keepdim=False)
    axis = _wrap_dim(dim, input._data.ndim)
    return ProdDim.apply(input, axis=axis if input._data.ndim else None, keepdim=keepdim)


# ----------------------------------------------------------------------------- var, std
def _correction(name: str, unbiased: Any, correction: Any) -> float:
    if unbiased is not None and correction is not None:
        raise TypeError(
            f"{name}() received an invalid combination of arguments: pass either unbiased or "
            "correction, not both"
        )
    if correction is not None:
        return correction
    return 1 if unbiased is None or unbiased else 0


def given_arguments(dim: Any, unbiased: Any, correction: Any,
                    used: float) -> tuple[tuple[int, ...] | None, Any]:
    """var's and std's dim and correction as PyTorch's node keeps them: the dims as given
    (None for none), the correction `used` unless the caller gave none of dim, unbiased and
    correction (then None)."""
    given = dim is not None or unbiased is not None or correction is not None
    return int_tuple(dim), (used if given else None)


# The saved names of var, std, var_mean and std_mean (`arguments`: `given_arguments`).
VARIANCE_FIELDS = {"self": saved(0), "keepdim": value("keepdim"),
                   "dim": value("arguments", lambda arguments: arguments[0]),
                   "correction": value("arguments", lambda arguments: arguments[1])}


def _variance(ctx: Any, a: Any, axes: tuple[int, ...] | None, correction: float,
              keepdim: bool) -> Any:
    """Var's and Std's forward on arrays: the variance, in the dtype PyTorch's CPU kernels
    accumulate it in (float32 as float64, float16 as float32; the caller rounds), with PyTorch's
    values: sum((a - mean)^2) / max(0, N - correction), so that a correction of N or more gives
    inf (nan where every deviation is 0), and no elements give nan. Keeps on ctx what
    `_var_backward` needs."""
    backend = ctx.backend
    count = reduced_count(a.shape, axes)
    ctx.input_shape, ctx.axes, ctx.keepdim = a.shape, axes, keepdim
    ctx.dof = dof = count - correction
    wide = accumulation_dtype(backend, a)
    if wide is not None:
        a = backend.astype(a, wide)
    if count == 0:
        reduced = backend.sum(a, axis=axes, keepdims=keepdim)
        return backend.full(reduced.shape, math.nan, backend.dtype_name(a))
    if dof > 0:
        return backend.var(a, axis=axes, correction=correction, keepdims=keepdim)
    centered = backend.subtract(a, backend.mean(a, axis=axes, keepdims=True))
    squares = backend.sum(backend.multiply(centered, centered), axis=axes, keepdims=keepdim)
    # A division by zero, without dividing (so nothing warns): 0 / 0 is nan, x / 0 is inf.
    nan = backend.full(squares.shape, math.nan, backend.dtype_name(a))
    inf = backend.full(squares.shape, math.inf, backend.dtype_name(a))
    return backend.where(backend.equal(squares, 0), nan, inf)


def _check_var_input(input: Tensor) -> None:
    if not input.dtype.is_floating_point:
        raise RuntimeError("std and var only support floating point and complex dtypes")


def _warn_dof(name: str, count: int, correction: float) -> None:
    if count - correction <= 0:
        warn(
            f"{name}(): degrees of freedom is <= 0. Correction should be strictly less than the "
            "reduction factor (input numel divided by output numel).",
            UserWarning, stacklevel=3,
        )


def _var_backward(grad: Tensor, a: Tensor, ctx: Any) -> Tensor:
    """PyTorch's var_backward: 2 (a - mean) / (N - correction) times the kept-dims gradient.
    Over every element (no dim, or a 0-d input) with N - correction <= 0 it is inf, or nan
    where a equals the mean; over given dims the factor 2 / (N - correction) is used as it is
    (negative, or inf at 0)."""
    grad = keep_dims(grad, ctx.input_shape, ctx.axes, ctx.keepdim)
    dof = ctx.dof
    mean = a.mean(ctx.axes, keepdim=True) if ctx.axes is not None else a.mean()
    if (ctx.axes is None or not ctx.input_shape) and dof <= 0:
        return grad * where(a == mean, math.nan, math.inf)
    scale = 2.0 / dof if dof != 0 else math.inf
    return grad * ((a - mean) * scale)


class Var(Function):
    node_name = "VarBackward0"
    saved_fields = fields(**VARIANCE_FIELDS)

    jvp = reduction_jvp

    @staticmethod
    def forward(ctx: Any, a: Any, *, axes: tuple[int, ...] | None, correction: float,
                keepdim: bool, arguments: tuple[Any, Any] = (None, None)) -> Any:
        ctx.arguments = arguments
        ctx.save_for_backward(a)
        variance = _variance(ctx, a, axes, correction, keepdim)
        return ctx.backend.astype(variance, ctx.backend.dtype_name(a))

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> Tensor:
        a, = ctx.saved_tensors
        return _var_backward(grad, a, ctx)


class Std(Function):
    node_name = "StdBackward0"
    saved_fields = fields(**VARIANCE_FIELDS, result=saved(1))

    jvp = reduction_jvp

    @staticmethod
    def forward(ctx: Any, a: Any, *, axes: tuple[int, ...] | None, correction: float,
                keepdim: bool, arguments: tuple[Any, Any] = (None, None)) -> Any:
        backend = ctx.backend
        ctx.arguments = arguments
        variance = _variance(ctx, a, axes, correction, keepdim)
        out = backend.astype(backend.sqrt(variance), backend.dtype_name(a))
        ctx.save_for_backward(a, out)
        return out

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> Tensor:
        a, out = ctx.saved_tensors
        # d std = d var / (2 std); PyTorch takes 0 where std == 0.
        at_zero = out == 0
        grad_var = where(at_zero, 0.0, grad / (where(at_zero, 1.0, out) * 2))
        return _var_backward(grad_var, a, ctx)


def _var_std(op: type[Function], name: str, input: Tensor, dim: Any, unbiased: Any,
             keepdim: bool, correction: Any) -> Tensor:
    if isinstance(dim, bool):  # the legacy positional form var(input, unbiased)
        dim, unbiased = None, dim
    _check_var_input(input)
    axes = reduction_axes(dim, input._data.ndim)
    used = _correction(name, unbiased, correction)
    _warn_dof(name, reduced_count(input._data.shape, axes), used)
    return op.apply(input, axes=axes, correction=used, keepdim=keepdim,
                    arguments=given_arguments(dim, unbiased, correction, used))


@takes_out(CAST)
def var(input: Tensor, dim: Any = None, unbiased: Any = None, keepdim: bool = False, *,
        correction: Any = None) -> Tensor:
    """Variance over `dim` with `correction` (default 1: Bessel's; `unbiased=False` is 0),
    sum((x - mean)^2) / max(0, N - correction) as in PyTorch. float32 accumulates in float64.
    dim=() reduces every dim, and so does its gradient (PyTorch's backward takes N = 1 there
    and gives inf)."""
    if type(input) is not Tensor and has_torch_function((input,)):
        return handle_torch_function(var, (input,), input, dim, unbiased=unbiased,
                                     keepdim=keepdim, correction=correction)
    return _var_std(Var, "var", input, dim, unbiased, keepdim, correction)


@takes_out(CAST)
def std(input: Tensor, dim: Any = None, unbiased: Any = None, keepdim: bool = False, *,
        correction: Any = None) -> Tensor:
    """Standard deviation over `dim` (see `var`)."""
    if type(input) is not Tensor and has_torch_function((input,)):
        return handle_torch_function(std, (input,), input, dim, unbiased=unbiased,
                                     keepdim=keepdim, correction=correction)
    return _var_std(Std, "std", input, dim, unbiased, keepdim, correction)


# ----------------------------------------------------------------------------- logsumexp
class Logsumexp(Function):
    node_name = "LogsumexpBackward0"
    saved_fields = fields(self=saved(0), result=saved(1), dim=value("axes", int_tuple),
                          keepdim=value("keepdim"))

    jvp = reduction_jvp

    @staticmethod
    def forward(ctx: Any, a: Any, *, axes: tuple[int, ...], keepdim: bool) -> Any:
        backend = ctx.backend
        ctx.input_shape, ctx.axes, ctx.keepdim = a.shape, axes, keepdim
        a = default_float(backend, a)
        if a.ndim == 0:
            out = backend.asarray(a, copy=True)
        elif reduced_count(a.shape, axes) == 0:  # an empty sum of exps: log(0) = -inf
            reduced = backend.sum(a, axis=axes, keepdims=keepdim)
            out = backend.full(reduced.shape, -math.inf, backend.dtype_name(a))
        else:
            wide, dtype = opmath(backend, a)  # float16 in float32, as PyTorch
            out = rounded(backend, backend.logsumexp(wide, axis=axes, keepdims=keepdim), dtype)
        ctx.save_for_backward(a, out)
        return out

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> Tensor:
        a, out = ctx.saved_tensors
        axes = None if not ctx.axes else ctx.axes
        grad = keep_dims(grad, ctx.input_shape, axes, ctx.keepdim)
        out = keep_dims(out, ctx.input_shape, axes, ctx.keepdim)
        return grad * (a - out).exp()


@takes_out(floating("logsumexp(): Expected floating point type for result tensor, "
                    "but got: {out}"))
@autocast_op("logsumexp")
def logsumexp(input: Tensor, dim: Any, keepdim: bool = False) -> Tensor:
    """log(sum(exp(input))) over `dim`, computed without overflow."""
    ndim = input._data.ndim
    axes = reduction_axes(dim, ndim) or tuple(range(ndim))
    return Logsumexp.apply(input, axes=axes, keepdim=keepdim)


# ----------------------------------------------------------------------------- norm
@takes_out(EXACT)
@autocast_op("norm")
def norm(input: Tensor, p: Any = "fro", dim: Any = None, keepdim: bool = False,
         dtype: Any = None) -> Tensor:
    """torch.norm, dispatched as PyTorch does: linalg.vector_norm for a number `p` and for
    'fro' over at most two dims, linalg.matrix_norm for the other strings ('nuc')."""
    if type(input) is not Tensor and has_torch_function((input,)):
        return handle_torch_function(norm, (input,), input, p, dim, keepdim, dtype=dtype)
    dims = [dim] if isinstance(dim, int) else dim
    if isinstance(p, str):
        if p == "fro" and (dims is None or len(dims) <= 2):
            return vector_norm(input, 2, dims, keepdim, dtype=dtype)
        if dims is None:
            dims = list(range(input._data.ndim))
        return matrix_norm(input, p, dims, keepdim, dtype=dtype)
    return vector_norm(input, 2.0 if p is None else p, dims, keepdim, dtype=dtype)


# ----------------------------------------------------------------------------- any, all
@takes_out(only(dtypes.bool_, "any only supports bool tensor for result, got: {out}"))
@dim_op
def any(input: Tensor, dim: Any = None, keepdim: bool = False) -> Tensor:
    """Whether any element (along `dim`) is nonzero; a bool tensor outside the graph."""
    backend = input._backend
    data = input._data
    if type(data) is SparseCOO and dim is None:  # PyTorch's sparse any: of the values
        return _wrap_bool(backend, backend.any(data.values), input)
    dense_only("aten::any.dim", input)
    axes = reduction_axes(dim, input._data.ndim)
    return _wrap_bool(backend, backend.any(input._data, axis=axes, keepdims=keepdim), input)


@takes_out(only(dtypes.bool_, "all only supports bool tensor for result, got: {out}"))
@dim_op
def all(input: Tensor, dim: Any = None, keepdim: bool = False) -> Tensor:
    """Whether every element (along `dim`) is nonzero; a bool tensor outside the graph."""
    if type(input) is not Tensor and has_torch_function((input,)):
        return handle_torch_function(all, (input,), input, dim, keepdim)
    dense_only("aten::all" if dim is None else "aten::all.dim", input)
    backend = input._backend
    axes = reduction_axes(dim, input._data.ndim)
    return _wrap_bool(backend, backend.all(input._data, axis=axes, keepdims=keepdim), input)


def _wrap_bool(backend: Any, array: Any, input: Tensor) -> Tensor:
    if input.dtype is dtypes.uint8:  # PyTorch keeps uint8 for any/all of uint8
        array = backend.astype(array, "uint8")
    return _wrap(array, backend)

