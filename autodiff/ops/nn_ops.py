"""Layers as functions for `autodiff.nn.functional`: linear, dropout, embedding, layer_norm,
normalize, one_hot."""

from __future__ import annotations

import math
from typing import Any

from .. import dtypes
from ..function import Function
from ..grad_mode import no_grad
from ..grad_mode import state as _grad_state
from ..tensor import Tensor, _wrap
from . import inplace as _inplace
from .indexing import same_device_index
from .linalg import _CPP_NAMES, matmul, same_device
from .norm import vector_norm


# ----------------------------------------------------------------------------- linear
class Linear(Function):
    """x @ W^T + b in one node. PyTorch's node depends on the shapes (addmm for a batch of
    rows with a bias, mm without, a view or unsafe view of a folded addmm/mm for more dims);
    subclasses carry those names."""

    node_name = "AddmmBackward0"

    @staticmethod
    def forward(ctx: Any, x: Any, w: Any, b: Any) -> Any:
        backend = ctx.backend
        ctx.save_for_backward(x, w)
        out = backend.matmul(x, backend.permute_dims(w, (1, 0)))
        if b is not None:
            if b.ndim <= 1:
                out += b  # a fresh result: add the bias in place
            else:
                out = backend.add(out, b)
        return out

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> tuple[Tensor | None, ...]:
        x, w = ctx.saved_tensors
        needs_x, needs_w, needs_b = ctx.needs_input_grad
        grad_x = grad_w = None
        if needs_x:
            grad_x = grad @ w
        if needs_w:
            if x._data.ndim == 1:
                grad_w = grad.unsqueeze(1) * x
            elif x._data.ndim == 2:
                grad_w = grad.mT @ x
            else:
                features = x._data.shape[-1]
                grad_w = grad.reshape(-1, grad._data.shape[-1]).mT @ x.reshape(-1, features)
        grad_b = None
        if needs_b:
            grad_b = grad
            if grad._data.ndim > 1 and len(ctx._input_meta[2][0]) == 1:
                # A 1-D bias, the usual case, is summed over the rows here: the base class's
                # general broadcast fitting would do it too, more slowly (other biases get it).
                grad_b = grad.sum(tuple(range(grad._data.ndim - 1)))
        return grad_x, grad_w, grad_b


class LinearMm(Linear):
    node_name = "MmBackward0"


class LinearFolded(Linear):
    node_name = "ViewBackward0"  # PyTorch flattens the rows, calls addmm and views the result


class LinearFoldedNoBias(Linear):
    node_name = "UnsafeViewBackward0"


class LinearVector(Linear):
    node_name = "SqueezeBackward4"


def linear(input: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """input @ weight.T + bias."""
    same_device(input, weight, bias)
    w_shape, x_shape = weight._data.shape, input._data.shape
    if len(w_shape) > 2:
        raise RuntimeError(
            f"t() expects a tensor with <= 2 dimensions, but self is {len(w_shape)}D")
    if len(w_shape) < 2 or len(x_shape) == 0:  # rare shapes: compose as PyTorch does
        out = matmul(input, weight.t())
        return out if bias is None else out + bias
    rows = math.prod(x_shape[:-1])
    if x_shape[-1] != w_shape[1]:
        raise RuntimeError(
            f"mat1 and mat2 shapes cannot be multiplied ({rows}x{x_shape[-1]} and "
            f"{w_shape[1]}x{w_shape[0]})"
        )
    if input._data.dtype != weight._data.dtype:
        raise RuntimeError(
            "expected m1 and m2 to have the same dtype, but got: "
            f"{_CPP_NAMES[input.dtype.name]} != {_CPP_NAMES[weight.dtype.name]}"
        )
    if bias is None:
        op: type[Linear] = (LinearMm if len(x_shape) == 2 else
                            LinearVector if len(x_shape) == 1 else LinearFoldedNoBias)
        return op.apply(input, weight, None)
    _check_bias(bias, weight, (rows, w_shape[0]))
    op = Linear if len(x_shape) == 2 else LinearFolded
    return op.apply(input, weight, bias)


def _check_bias(bias: Tensor, weight: Tensor, target: tuple[int, int]) -> None:
    shape = bias._data.shape
    for offset in range(1, len(shape) + 1):
        size, wanted = shape[-offset], target[-offset] if offset <= 2 else 1
        if size != wanted and size != 1:
            raise RuntimeError(
                f"The expanded size of the tensor ({wanted}) must match the existing size "
                f"({size}) at non-singleton dimension {2 - offset}.  Target sizes: "
                f"{list(target)}.  Tensor sizes: {list(shape)}"
            )
    if bias._data.dtype != weight._data.dtype:
        raise RuntimeError(
            "self and mat2 must have the same dtype, but got "
            f"{dtypes.SCALAR_TYPE_NAMES[bias.dtype.name]} and "
            f"{dtypes.SCALAR_TYPE_NAMES[weight.dtype.name]}"
        )


# ----------------------------------------------------------------------------- dropout
class DropoutMul(Function):
    """x * mask for a constant mask (PyTorch's `input * noise`). Only the mask is saved, so
    dropout in place can overwrite x without invalidating its own node."""

    node_name = "MulBackward0"

    @staticmethod
    def forward(ctx: Any, x: Any, *, mask: Any) -> Any:
        ctx.save_for_backward(mask)
        return ctx.backend.multiply(x, mask)

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> Tensor:
        mask, = ctx.saved_tensors
        return grad * mask


def dropout(input: Tensor, p: float = 0.5, training: bool = True,
            inplace: bool = False) -> Tensor:
    """Zero each element with probability p and scale the rest by 1 / (1 - p); the mask comes
    from the backend's generator (`autodiff.manual_seed` makes it reproducible)."""
    if p < 0.0 or p > 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
    if not training or p == 0.0:
        return input
    if not input.dtype.is_floating_point:
        raise RuntimeError(
            "result type Float can't be cast to the desired output type "
            f"{dtypes.SCALAR_TYPE_NAMES[input.dtype.name]}"
        )
    if inplace:  # refused before the generator moves
        _inplace.check_inplace(input, _inplace.is_recording(input))
    backend = input._backend
    dtype = backend.dtype_name(input._data)
    shape = input._data.shape
    if p == 1.0:
        mask = backend.zeros(shape, dtype)
    else:
        keep = backend.less(backend.rand(shape, dtype), 1.0 - p)
        mask = backend.multiply(backend.astype(keep, dtype), 1.0 / (1.0 - p))
    if inplace:  # an in-place op (ops/inplace.py): same node, written back into the input
        return _inplace.apply(input, (), lambda source: DropoutMul.apply(source, mask=mask))
    return DropoutMul.apply(input, mask=mask)


# ----------------------------------------------------------------------------- embedding
class Embedding(Function):
    """Rows of weight at the indices; the gradient adds into those rows (repeats accumulate)."""

    node_name = "EmbeddingBackward0"

    @staticmethod
    def forward(ctx: Any, weight: Any, indices: Any, *, padding_idx: int | None,
                scale_grad_by_freq: bool) -> Any:
        backend = ctx.backend
        ctx.options = (weight.shape[0], padding_idx, scale_grad_by_freq)
        ctx.save_for_backward(indices)
        rows = backend.take(weight, backend.reshape(indices, (-1,)), axis=0)
        return backend.reshape(rows, (*indices.shape, weight.shape[1]))

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> tuple[Tensor, None]:
        indices, = ctx.saved_tensors
        num_weights, padding_idx, by_freq = ctx.options
        return EmbeddingBackward.apply(grad, indices, num_weights=num_weights,
                                       padding_idx=padding_idx, scale_grad_by_freq=by_freq), None


class EmbeddingBackward(Function):
    """Scatter-add grad's rows into a (num_weights, dim) zero matrix, each row first scaled by
    0 (the padding index) or 1 / its count (scale_grad_by_freq)."""

    node_name = "EmbeddingDenseBackwardBackward0"

    @staticmethod
    def forward(ctx: Any, grad: Any, indices: Any, *, num_weights: int,
                padding_idx: int | None, scale_grad_by_freq: bool) -> Any:
        backend = ctx.backend
        dtype = backend.dtype_name(grad)
        flat = backend.reshape(indices, (-1,))
        dim = grad.shape[-1]
        values = backend.reshape(grad, (-1, dim))
        kept = scale = None
        if padding_idx is not None:
            kept = backend.astype(backend.not_equal(flat, padding_idx), dtype)
            scale = kept
        if scale_grad_by_freq:
            counts = backend.zeros((num_weights,), dtype)
            backend.index_add(counts, flat, backend.ones(flat.shape, dtype))
            frequency = backend.divide(1.0, backend.take(counts, flat, axis=0))
            scale = frequency if scale is None else backend.multiply(scale, frequency)
        if scale is not None:
            values = backend.multiply(values, backend.expand_dims(scale, axis=1))
        ctx.save_for_backward(indices, None if kept is None else backend.reshape(kept,
                                                                                 indices.shape))
        out = backend.zeros((num_weights, dim), dtype)
        # Every element addressed by integer arrays (rows x columns): the portable scatter key.
        columns = backend.reshape(backend.arange(0, dim, 1, "int64"), (1, dim))
        return backend.index_add(out, (backend.reshape(flat, (-1, 1)), columns), values)

    @staticmethod
    def backward(ctx: Any, outer: Tensor) -> tuple[Tensor, None]:
        indices, kept = ctx.saved_tensors
        # The lookup again, without the padding rows. As in PyTorch, the 1 / count scaling is
        # not applied here: the path back to the weight goes through Embedding's backward,
        # which scales once, so this is the derivative of the scaled first gradient.
        rows = Embedding.apply(outer, indices, padding_idx=None, scale_grad_by_freq=False)
        return (rows if kept is None else rows * kept.unsqueeze(-1)), None


def embedding(input: Tensor, weight: Tensor, padding_idx: int | None = None,
              max_norm: float | None = None, norm_type: float = 2.0,
              scale_grad_by_freq: bool = False, sparse: bool = False) -> Tensor:
    """weight[input]: a lookup table of rows; padding_idx's row gets no gradient."""
    num_weights = weight._data.shape[0] if weight._data.ndim else 0
    if padding_idx is not None:
        if padding_idx > 0:
            if padding_idx >= num_weights:
                raise AssertionError("Padding_idx must be within num_embeddings")
        elif padding_idx < 0:
            if padding_idx < -num_weights:
                raise AssertionError("Padding_idx must be within num_embeddings")
            padding_idx += num_weights
    if input.dtype not in (dtypes.int64, dtypes.int32):
        raise RuntimeError(
            "Expected tensor for argument #1 'indices' to have one of the following scalar "
            f"types: Long, Int; but got torch.{dtypes.LEGACY_NAMES[input.dtype.name]} instead "
            "(while checking arguments for embedding)"
        )
    if weight._data.ndim != 2:
        raise RuntimeError("'weight' must be 2-D")
    if sparse:
        raise NotImplementedError("embedding(sparse=True): sparse gradients are not supported")
    same_device_index("embedding", weight, input)  # PyTorch's embedding is an index_select
    backend = input._backend
    indices = input._data
    if indices.size:
        outside = backend.logical_or(backend.less(indices, 0),
                                     backend.greater_equal(indices, num_weights))
        if backend.item(backend.any(outside)):
            raise IndexError("index out of range in self")
    if max_norm is not None:
        _renorm_(weight, indices, max_norm, norm_type)
    return Embedding.apply(weight, input, padding_idx=padding_idx,
                           scale_grad_by_freq=scale_grad_by_freq)


def _renorm_(weight: Tensor, indices: Any, max_norm: float, norm_type: float) -> None:
    """Scale the looked-up rows whose norm exceeds max_norm down to it, in place (PyTorch's
    embedding_renorm_, outside the graph)."""
    with no_grad():
        backend = weight._backend
        flat = backend.reshape(indices, (-1,))
        rows = _wrap(backend.take(weight._data, flat, axis=0), backend)
        norms = vector_norm(rows, norm_type, 1)._data
        factor = backend.where(backend.greater(norms, max_norm),
                               backend.divide(max_norm, norms + 1e-7), 1.0)
        factor = backend.astype(backend.expand_dims(factor, axis=1), backend.dtype_name(rows._data))
        backend.setitem(weight._data, flat, backend.multiply(rows._data, factor))
        weight._bump_version()


# ----------------------------------------------------------------------------- normalization
class NativeLayerNorm(Function):
    """(x - mean) / sqrt(var + eps) * weight + bias over the trailing `axes`."""

    node_name = "NativeLayerNormBackward0"

    @staticmethod
    def forward(ctx: Any, x: Any, weight: Any, bias: Any, *, axes: tuple[int, ...],
                eps: float) -> Any:
        backend = ctx.backend
        normalized = x - backend.mean(x, axis=axes, keepdims=True)
        variance = backend.mean(backend.multiply(normalized, normalized), axis=axes,
                                keepdims=True)
        rstd = 1.0 / backend.sqrt(variance + eps)
        normalized *= rstd
        ctx.axes, ctx.eps, ctx.normalized, ctx.rstd = axes, eps, normalized, rstd
        ctx.save_for_backward(x, weight)
        if weight is None and bias is None:
            return normalized
        out = normalized if weight is None else backend.multiply(normalized, weight)
        return out if bias is None else backend.add(out, bias)

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> tuple[Tensor | None, ...]:
        x, weight = ctx.saved_tensors
        needs_x, needs_weight, needs_bias = ctx.needs_input_grad
        if not _grad_state.enabled:  # a plain backward: the same formulas on arrays
            return _layer_norm_backward(ctx, grad, weight, needs_x, needs_weight, needs_bias)
        # create_graph: recomputed from x with Tensor ops, so the gradient is differentiable.
        axes = ctx.axes
        centered = x - x.mean(axes, keepdim=True)
        rstd = ((centered * centered).mean(axes, keepdim=True) + ctx.eps) ** -0.5
        normalized = centered * rstd
        grad_x = grad_weight = None
        if needs_x:
            grad_normalized = grad if weight is None else grad * weight
            grad_x = rstd * (grad_normalized - grad_normalized.mean(axes, keepdim=True)
                             - normalized * (grad_normalized * normalized).mean(axes, keepdim=True))
        if needs_weight:
            grad_weight = grad * normalized  # summed over the batch dims by the base class
        return grad_x, grad_weight, (grad if needs_bias else None)


def _layer_norm_backward(ctx: Any, grad: Tensor, weight: Tensor | None, needs_x: bool,
                         needs_weight: bool, needs_bias: bool) -> tuple[Tensor | None, ...]:
    """rstd (g - mean(g) - xhat mean(g xhat)) with g = grad * weight, on saved xhat and rstd."""
    backend, axes = ctx.backend, ctx.axes
    normalized, g = ctx.normalized, grad._data
    batch = tuple(range(g.ndim - len(axes)))
    grad_x = grad_weight = grad_bias = None
    if needs_weight:
        grad_weight = _wrap(backend.sum(backend.multiply(g, normalized), axis=batch), backend)
    if needs_bias:
        grad_bias = _wrap(backend.sum(g, axis=batch), backend)
    if needs_x:
        scaled = g if weight is None else backend.multiply(g, weight._data)
        projection = backend.mean(backend.multiply(scaled, normalized), axis=axes, keepdims=True)
        out = backend.multiply(normalized, projection)
        out -= scaled
        out += backend.mean(scaled, axis=axes, keepdims=True)
        out *= -ctx.rstd
        grad_x = _wrap(out, backend)
    return grad_x, grad_weight, grad_bias


def layer_norm(input: Tensor, normalized_shape: Any, weight: Tensor | None = None,
               bias: Tensor | None = None, eps: float = 1e-5) -> Tensor:
    """Normalize over the trailing dims `normalized_shape`, then scale and shift."""
    if isinstance(normalized_shape, int):
        raise TypeError(
            "layer_norm(): argument 'normalized_shape' (position 2) must be tuple of ints, not "
            "int"
        )
    normalized = tuple(int(size) for size in normalized_shape)
    shape = input._data.shape
    count = len(normalized)
    if count == 0 or count > len(shape) or shape[len(shape) - count:] != normalized:
        raise RuntimeError(
            f"Given normalized_shape={list(normalized)}, expected input with shape "
            f"[*, {', '.join(str(size) for size in normalized)}], but got input of size"
            f"{list(shape)}"
        )
    for name, tensor in (("weight", weight), ("bias", bias)):
        if tensor is not None and tensor._data.shape != normalized:
            raise RuntimeError(
                f"Expected {name} to be of same shape as normalized_shape, but got {name} of "
                f"shape {list(tensor._data.shape)} and normalized_shape = {list(normalized)}"
            )
    axes = tuple(range(len(shape) - count, len(shape)))
    return NativeLayerNorm.apply(input, weight, bias, axes=axes, eps=eps)


def normalize(input: Tensor, p: float = 2.0, dim: int = 1, eps: float = 1e-12,
              out: Any = None) -> Tensor:
    """input / max(||input||_p along dim, eps)."""
    if out is not None:
        raise NotImplementedError("normalize(out=...) is not supported")
    denominator = vector_norm(input, p, dim, keepdim=True).clamp(min=eps)
    return input / denominator.expand(input._data.shape)


# ----------------------------------------------------------------------------- one_hot
def one_hot(tensor: Tensor, num_classes: int = -1) -> Tensor:
    """int64 one-hot vectors along a new last dim (not differentiable)."""
    if tensor.dtype is not dtypes.int64:
        raise RuntimeError("one_hot is only applicable to index tensor of type LongTensor.")
    backend = tensor._backend
    data = tensor._data
    if num_classes == -1:
        if data.size == 0:
            raise RuntimeError("Can not infer total number of classes from empty tensor.")
        num_classes = int(backend.item(backend.max(data))) + 1
    if data.size:
        if backend.item(backend.min(data)) < 0:
            raise RuntimeError("Class values must be non-negative.")
        if backend.item(backend.max(data)) >= num_classes:
            raise RuntimeError("Class values must be smaller than num_classes.")
    classes = backend.arange(0, num_classes, 1, "int64")
    hot = backend.equal(backend.expand_dims(data, axis=data.ndim), classes)
    return _wrap(backend.astype(hot, "int64"), backend)
