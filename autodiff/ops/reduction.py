"""Reductions. A reduction's backward puts the removed dims back and expands the gradient."""

from __future__ import annotations

from typing import Any

from .. import dtypes
from ..function import Function
from ..tensor import Tensor
from ._util import normalize_dims


def _restore_dims(grad: Tensor, input_shape: tuple[int, ...], axes: tuple[int, ...] | None,
                  keepdim: bool) -> Tensor:
    """Reshape a reduced gradient so it broadcasts against the input, then expand it."""
    if axes is None:
        axes = tuple(range(len(input_shape)))
    if not keepdim and axes:
        kept = [1 if axis in axes else size for axis, size in enumerate(input_shape)]
        grad = grad.reshape(kept)
    return grad.expand(input_shape)


class Sum(Function):
    node_name = "SumBackward0"

    @staticmethod
    def forward(ctx: Any, a: Any, *, axes: tuple[int, ...] | None, keepdim: bool,
                dtype: str | None) -> Any:
        ctx.input_shape = a.shape
        ctx.axes = axes
        ctx.keepdim = keepdim
        backend = ctx.backend
        if dtype is not None:
            a = backend.astype(a, dtype)
        elif a.dtype not in backend._floating:
            a = backend.astype(a, "int64")  # PyTorch sums bools and integers as int64
        return backend.sum(a, axis=axes, keepdims=keepdim)

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> Tensor:
        return _restore_dims(grad, ctx.input_shape, ctx.axes, ctx.keepdim)


class SumDim(Sum):
    node_name = "SumBackward1"


def sum(input: Tensor, dim: Any = None, keepdim: bool = False, *,
        dtype: Any = None) -> Tensor:
    axes = normalize_dims(dim, input._data.ndim)
    dtype_name = None if dtype is None else dtypes.to_dtype(dtype).name
    op = Sum if dim is None else SumDim
    return op.apply(input, axes=axes, keepdim=keepdim, dtype=dtype_name)


class Mean(Function):
    node_name = "MeanBackward0"

    @staticmethod
    def forward(ctx: Any, a: Any, *, axes: tuple[int, ...] | None, keepdim: bool,
                dtype: str | None) -> Any:
        backend = ctx.backend
        if dtype is not None:
            a = backend.astype(a, dtype)
        ctx.input_shape = a.shape
        ctx.axes = axes
        ctx.keepdim = keepdim
        count = 1
        for axis in range(a.ndim) if axes is None else axes:
            count *= a.shape[axis]
        ctx.count = count
        return backend.mean(a, axis=axes, keepdims=keepdim)

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> Tensor:
        return _restore_dims(grad / ctx.count, ctx.input_shape, ctx.axes, ctx.keepdim)


class MeanDim(Mean):
    node_name = "MeanBackward1"


def mean(input: Tensor, dim: Any = None, keepdim: bool = False, *,
         dtype: Any = None) -> Tensor:
    kind = input.dtype if dtype is None else dtypes.to_dtype(dtype)
    if not kind.is_floating_point:
        raise RuntimeError(
            "mean(): could not infer output dtype. Input dtype must be either a floating point "
            f"or complex dtype. Got: {dtypes.SCALAR_TYPE_NAMES[kind.name]}"
        )
    axes = normalize_dims(dim, input._data.ndim)
    op = Mean if dim is None else MeanDim
    return op.apply(input, axes=axes, keepdim=keepdim, dtype=None if dtype is None else kind.name)
