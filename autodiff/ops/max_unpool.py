"""max_unpool1d/2d/3d: the partial inverse of max pooling. Each value goes to its index in a
zero output plane (the last value wins where indices repeat, as on PyTorch's CPU); the gradient
gathers from the same indices."""

from __future__ import annotations

import math
from typing import Any

from backends import Backend

from .. import dtypes
from ..autocast_state import autocast_op
from ..function import Function
from ..jvp_rules import auto_linear
from ..saved_fields import fields, saved_array
from ..tensor import Tensor
from ._checks import same_device
from .scatter import Gather


def _plane_key(backend: Backend, index: Any) -> tuple[Any, ...]:
    """The advanced key that addresses, for each element of `index` (..., positions), its
    value's place in an output of shape (..., plane size)."""
    key = []
    for axis, size in enumerate(index.shape[:-1]):
        shape = [1] * index.ndim
        shape[axis] = size
        key.append(backend.reshape(backend.arange(0, size, 1, "int64"), tuple(shape)))
    key.append(index)
    return tuple(key)


class MaxUnpool2D(Function):
    node_name = "MaxUnpool2DBackward0"
    saved_fields = fields(indices=saved_array("indices"))

    jvp = auto_linear

    @staticmethod
    def forward(ctx: Any, x: Any, *, indices: Any, spatial: tuple[int, ...]) -> Any:
        backend = ctx.backend
        count = len(spatial)
        lead = x.shape[:x.ndim - count]
        flat_index = backend.reshape(indices, (*lead, -1))
        ctx.index, ctx.indices, ctx.shape = flat_index, indices, x.shape
        out = backend.zeros((*lead, math.prod(spatial)), backend.dtype_name(x))
        backend.setitem(out, _plane_key(backend, flat_index), backend.reshape(x, (*lead, -1)))
        return backend.reshape(out, (*lead, *spatial))

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> Tensor:
        lead = ctx.index.shape[:-1]
        flat = grad.reshape(*lead, -1)
        return Gather.apply(flat, dim=len(lead), index=ctx.index).reshape(ctx.shape)


class MaxUnpool3D(MaxUnpool2D):
    node_name = "MaxUnpool3DBackward0"


def _output_size(input: Tensor, kernel: tuple[int, ...], stride: tuple[int, ...],
                 padding: tuple[int, ...], output_size: Any) -> tuple[int, ...]:
    """PyTorch's _unpool_output_size: the default (the max pooling's input size), or the
    given size when it is within a stride of it."""
    count = len(kernel)
    shape = input._data.shape
    default = [(shape[axis - count] - 1) * s + k - 2 * p
               for axis, (k, s, p) in enumerate(zip(kernel, stride, padding))]
    if output_size is None:
        result = default
    else:
        sizes = list(output_size)
        if len(sizes) == count + 2:
            sizes = sizes[2:]
        if len(sizes) != count:
            raise ValueError(
                f"output_size should be a sequence containing {count} or {count + 2} elements, "
                f"but it has a length of '{len(sizes)}'")
        for axis in range(count):
            low, high = default[axis] - stride[axis], default[axis] + stride[axis]
            if not low < sizes[axis] < high:
                raise ValueError(f'invalid output_size "{output_size}" (dim {axis} must be '
                                 f"between {low} and {high})")
        result = sizes
    for axis, size in enumerate(result):
        if size < 0:
            raise ValueError("max_unpooling: output_size must contain non-negative spatial "
                             f"dimensions, but got output_size[{axis}]={size}")
    return tuple(int(size) for size in result)


def _tuple(value: Any, count: int) -> tuple[int, ...]:
    return (int(value),) * count if isinstance(value, int) else tuple(int(v) for v in value)


def _max_unpool(input: Tensor, indices: Tensor, kernel_size: Any, stride: Any, padding: Any,
                output_size: Any, count: int) -> Tensor:
    kernel = _tuple(kernel_size, count)
    strides = kernel if stride is None else _tuple(stride, count)
    spatial = _output_size(input, kernel, strides, _tuple(padding, count), output_size)
    return _unpool(input, indices, spatial, strides)


def _unpool(input: Tensor, indices: Tensor, spatial: tuple[int, ...],
            strides: tuple[int, ...]) -> Tensor:
    """max_unpool2d/3d's checks (in PyTorch's order), then one node."""
    count = len(spatial)
    same_device(input, indices)
    shape = list(input._data.shape)
    if indices.dtype is not dtypes.int64:
        raise RuntimeError("elements in indices should be type int64 but got: "
                           f"{dtypes.SCALAR_TYPE_NAMES[indices.dtype.name]}")
    if len(shape) not in (count + 1, count + 2):
        raise RuntimeError(
            f"Input to max_unpooling{count}d should be a {count + 1}d or {count + 2}d Tensor, but "
            f"got a tensor with {len(shape)} dimensions.")
    if list(indices._data.shape) != shape:
        raise RuntimeError(
            f"Expected shape of indices to be same as that of the input tensor ({shape}) but got "
            f"indices tensor with shape: {list(indices._data.shape)}")
    if count == 3 and min(strides) <= 0:
        raise RuntimeError(f"strides should be greater than zero, but got stride: {list(strides)}")
    if not input.dtype.is_floating_point:
        raise NotImplementedError(f'"max_unpool{count}d" not implemented for '
                                  f"'{dtypes.SCALAR_TYPE_NAMES[input.dtype.name]}'")
    backend = input._backend
    index = indices._data
    plane = math.prod(spatial)
    if index.size:
        outside = backend.logical_or(backend.less(index, 0),
                                     backend.greater_equal(index, plane))
        if backend.item(backend.any(outside)):
            # PyTorch's kernel reports the last invalid index it meets (one thread's order).
            flat = backend.reshape(index, (-1,))
            last = flat.shape[0] - 1 - backend.argmax(
                backend.flip(backend.reshape(outside, (-1,)), axis=0))
            bad = backend.item(backend.take(flat, backend.reshape(last, (1,))))
            sizes = "x".join(str(size) for size in spatial)
            raise RuntimeError(f"Found an invalid max index: {bad} (output volumes are of size "
                               f"{sizes})")
    op = MaxUnpool3D if count == 3 else MaxUnpool2D
    return op.apply(input, indices=index, spatial=spatial)


def max_unpool1d(input: Tensor, indices: Tensor, kernel_size: Any, stride: Any = None,
                 padding: Any = 0, output_size: Any = None) -> Tensor:
    """The values of (N, C, L_out) put back at their max_pool1d indices in zeros."""
    kernel = _tuple(kernel_size, 1)
    strides = kernel if stride is None else _tuple(stride, 1)
    spatial = _output_size(input, kernel, strides, _tuple(padding, 1), output_size)
    return _unpool(input.unsqueeze(-1), indices.unsqueeze(-1), (*spatial, 1),
                   (*strides, 1)).squeeze(-1)


@autocast_op("max_unpool2d")
def max_unpool2d(input: Tensor, indices: Tensor, kernel_size: Any, stride: Any = None,
                 padding: Any = 0, output_size: Any = None) -> Tensor:
    """The values of (N, C, H_out, W_out) put back at their max_pool2d indices in zeros."""
    return _max_unpool(input, indices, kernel_size, stride, padding, output_size, 2)


@autocast_op("max_unpool3d")
def max_unpool3d(input: Tensor, indices: Tensor, kernel_size: Any, stride: Any = None,
                 padding: Any = 0, output_size: Any = None) -> Tensor:
    """The values of (N, C, D_out, H_out, W_out) put back at their max_pool3d indices."""
    return _max_unpool(input, indices, kernel_size, stride, padding, output_size, 3)
