"""Normalization functions of `nn.functional`: layer_norm (one node, with a plain backward on
arrays and a recorded one under create_graph), rms_norm and normalize."""

from __future__ import annotations

from typing import Any

from .. import dtypes
from ..function import Function
from ..grad_mode import state as _grad_state
from ..tensor import Tensor, _wrap
from .norm import vector_norm


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


_EPSILON = {"float16": 1.1920928955078125e-07, "float32": 1.1920928955078125e-07,
            "float64": 2.220446049250313e-16}  # the machine epsilon of each compute dtype


def rms_norm(input: Tensor, normalized_shape: Any, weight: Tensor | None = None,
             eps: float | None = None) -> Tensor:
    """x / sqrt(mean(x^2) + eps) over the trailing dims `normalized_shape`, times weight;
    eps defaults to the machine epsilon of the compute dtype (float32 for float16). Composed
    as PyTorch composes it (x * rsqrt(...), a MulBackward0 node)."""
    if isinstance(normalized_shape, int):
        raise TypeError(
            "rms_norm(): argument 'normalized_shape' (position 2) must be tuple of ints, not int")
    normalized = tuple(int(size) for size in normalized_shape)
    shape = input._data.shape
    if not normalized:
        raise RuntimeError(
            "Expected normalized_shape to be at least 1-dimensional, i.e., containing at least "
            "one element, but got normalized_shape = []")
    if len(normalized) > len(shape):
        raise ValueError(
            f"Input tensor must have at least {len(normalized)} dimensions, but got "
            f"{len(shape)}")
    if shape[len(shape) - len(normalized):] != normalized:
        raise RuntimeError(
            f"Given normalized_shape={list(normalized)}, expected input with shape "
            f"[*{', '.join(str(size) for size in normalized)}], but got input of size"
            f"{list(shape)}")
    if weight is not None and weight._data.shape != normalized:
        raise RuntimeError(
            "Expected weight to be of same shape as normalized_shape, but got weight of shape "
            f"{list(weight._data.shape)} and normalized_shape = {list(normalized)}")
    if not input.dtype.is_floating_point:
        raise NotImplementedError(
            f"\"rms_norm\" not implemented for '{dtypes.SCALAR_TYPE_NAMES[input.dtype.name]}'")
    half = input.dtype is dtypes.float16
    upcast = input.float() if half else input
    if eps is None:
        eps = _EPSILON[upcast.dtype.name]
    dims = tuple(range(len(shape) - len(normalized), len(shape)))
    result = upcast * (upcast.pow(2).mean(dims, keepdim=True) + eps).rsqrt()
    if weight is not None:
        result = result * weight
    return result.to(input.dtype) if result.dtype is not input.dtype else result
