"""Normalization over each sample's own values: layer_norm, group_norm (one node each, with a
plain backward on arrays and a recorded one under create_graph), local_response_norm (composed
of average pooling, as PyTorch), rms_norm (composed, as PyTorch) and normalize. Statistics are
two-pass: the mean (accumulated in float64 for group_norm), then the mean squared deviation.
Also the weight normalization that `nn.utils` reparametrizes weights with: norm_except_dim and
weight_norm (PyTorch's `_weight_norm`)."""

from __future__ import annotations

import math
from typing import Any

from backends import Backend

from .. import dtypes
from ..autocast_state import autocast_op
from ..function import Function
from ..grad_mode import state as _grad_state
from ..jvp_rules import jvp_from_backward, sum_terms
from ..saved_fields import Computed, fields, saved, saved_array, value
from ..tensor import Tensor, _wrap, _wrap_dim
from ._promotion import opmath, rounded
from .arithmetic import div
from .avg_pool import avg_pool2d, avg_pool3d
from .norm import NormAll, vector_norm
from .padding import pad


def _layer_mean(node: Any) -> Tensor:
    mean, shift = node.mean
    return _wrap(node.backend.add(mean, shift), node.backend)


class NativeLayerNorm(Function):
    """(x - mean) / sqrt(var + eps) * weight + bias over the trailing `axes`."""

    node_name = "NativeLayerNormBackward0"
    saved_fields = fields(
        input=saved(0), normalized_shape=value("normalized_shape"), weight=saved(1),
        bias=saved(2), result1=Computed(_layer_mean, tensor=True),
        result2=saved_array("rstd"))

    @staticmethod
    def forward(ctx: Any, x: Any, weight: Any, bias: Any, *, axes: tuple[int, ...],
                eps: float) -> Any:
        backend = ctx.backend
        ctx.save_for_backward(x, weight, bias)
        ctx.normalized_shape = tuple(x.shape[axis] for axis in axes)
        x, dtype = opmath(backend, x)  # float16 in float32, rounded once at the end
        mean = backend.mean(x, axis=axes, keepdims=True)
        normalized = x - mean
        # A second pass takes out the mean's own rounding error, which is all that is left in
        # a constant row: [1000.1] * 3 would normalize to 0.0193 (PyTorch's Welford: 0).
        shift = backend.mean(normalized, axis=axes, keepdims=True)
        normalized -= shift
        variance = backend.mean(backend.multiply(normalized, normalized), axis=axes,
                                keepdims=True)
        rstd = 1.0 / backend.sqrt(variance + eps)
        normalized *= rstd
        ctx.axes, ctx.eps, ctx.normalized, ctx.rstd = axes, eps, normalized, rstd
        ctx.mean = (mean, shift)  # the mean is their sum, added only if it is read
        if weight is None and bias is None:
            return rounded(backend, normalized, dtype)
        out = normalized if weight is None else backend.multiply(normalized, weight)
        return rounded(backend, out if bias is None else backend.add(out, bias), dtype)

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> tuple[Tensor | None, ...]:
        x, weight, _ = ctx.saved_tensors
        needs_x, needs_weight, needs_bias = ctx.needs_input_grad
        if not _grad_state.enabled:  # a plain backward: the same formulas on arrays
            return _layer_norm_backward(ctx, grad, weight, needs_x, needs_weight, needs_bias)
        # create_graph: recomputed from x with Tensor ops, so the gradient is differentiable.
        axes = ctx.axes
        centered = x - x.mean(axes, keepdim=True)
        centered = centered - centered.mean(axes, keepdim=True)  # as the forward's second pass
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

    @staticmethod
    def jvp(ctx: Any, tangent_x: Tensor | None, tangent_weight: Tensor | None,
            tangent_bias: Tensor | None) -> Tensor | None:
        """d normalized = rstd (dx - mean(dx) - normalized mean(normalized dx)), then the
        affine part's product rule."""
        x, weight, _ = ctx.saved_tensors
        axes = ctx.axes
        if _grad_state.enabled:  # recorded: the tangent is differentiable w.r.t. x
            centered = x - x.mean(axes, keepdim=True)
            centered = centered - centered.mean(axes, keepdim=True)
            rstd = ((centered * centered).mean(axes, keepdim=True) + ctx.eps) ** -0.5
            normalized = centered * rstd
        else:
            backend = ctx.backend
            rstd, normalized = _wrap(ctx.rstd, backend), _wrap(ctx.normalized, backend)
        terms: list[Tensor | None] = [None, None, tangent_bias]
        if tangent_x is not None:
            tangent = rstd * (tangent_x - tangent_x.mean(axes, keepdim=True) - normalized
                              * (normalized * tangent_x).mean(axes, keepdim=True))
            terms[0] = tangent if weight is None else tangent * weight
        if tangent_weight is not None:
            terms[1] = normalized * tangent_weight
        return sum_terms(terms)


def _layer_norm_backward(ctx: Any, grad: Tensor, weight: Tensor | None, needs_x: bool,
                         needs_weight: bool, needs_bias: bool) -> tuple[Tensor | None, ...]:
    """rstd (g - mean(g) - xhat mean(g xhat)) with g = grad * weight, on saved xhat and rstd."""
    backend, axes = ctx.backend, ctx.axes
    # float16 in float32, as the forward (the engine rounds each gradient to its input's dtype)
    normalized, (g, _) = ctx.normalized, opmath(backend, grad._data)
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


@autocast_op("layer_norm")
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
    """input / max(||input||_p along dim, eps); into `out` when given (torch.div's out=)."""
    denominator = vector_norm(input, p, dim, keepdim=True).clamp(min=eps)
    if out is not None:
        return div(input, denominator.expand(input._data.shape),  # type: ignore[call-arg]
                   out=out)  # takes_out gives div its out= keyword
    return input / denominator.expand(input._data.shape)


_EPSILON = {"float16": 1.1920928955078125e-07, "bfloat16": 1.1920928955078125e-07,
            "float32": 1.1920928955078125e-07,
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


# ----------------------------------------------------------------------------- shared
def channel_shape(ndim: int, channels: int) -> tuple[int, ...]:
    """The shape that broadcasts a per-channel vector over (N, C, *spatial)."""
    return (1, channels, *(1,) * (ndim - 2))


def accurate_mean(backend: Backend, x: Any, axis: Any) -> Any:
    """The mean over `axis` (kept), accumulated in float64 and rounded once to x's dtype, so a
    constant slice's mean is the constant itself and its deviations are exactly zero."""
    if backend.dtype_name(x) == "float64":
        return backend.mean(x, axis=axis, keepdims=True)
    total = backend.sum(x, axis=axis, keepdims=True, dtype=backend.native_dtype("float64"))
    count = math.prod(x.shape[a] for a in ((axis,) if isinstance(axis, int) else axis))
    return backend.astype(backend.divide(total, max(count, 1)), backend.dtype_name(x))


def affine_per_channel(backend: Backend, normalized: Any, weight: Any, bias: Any) -> Any:
    shape = channel_shape(normalized.ndim, normalized.shape[1])
    if weight is not None:
        out = backend.multiply(normalized, backend.reshape(weight, shape))
        if bias is not None:
            out += backend.reshape(bias, shape)  # a fresh array: in place
        return out
    return normalized if bias is None else backend.add(normalized, backend.reshape(bias, shape))


# ----------------------------------------------------------------------------- group_norm
def _group_statistic(attribute: str) -> Computed:
    """Each sample's and group's mean or 1 / std, (N, groups), as PyTorch's node saves them."""
    def read(node: Any) -> Tensor:
        statistic = getattr(node, attribute)
        return _wrap(node.backend.reshape(statistic, statistic.shape[:2]), node.backend)

    return Computed(read, tensor=True)


class NativeGroupNorm(Function):
    """Normalize each group of channels of each sample, then scale and shift per channel."""

    node_name = "NativeGroupNormBackward0"
    saved_fields = fields(
        input=saved(0), weight=saved(1), N=value("sizes", lambda sizes: sizes[0]),
        C=value("sizes", lambda sizes: sizes[1]), HxW=value("sizes", lambda sizes: sizes[2]),
        group=value("groups"), eps=value("eps"), result1=_group_statistic("mean"),
        result2=_group_statistic("rstd"))

    jvp = jvp_from_backward

    @staticmethod
    def forward(ctx: Any, x: Any, weight: Any, bias: Any, *, groups: int, eps: float) -> Any:
        backend = ctx.backend
        grouped = backend.reshape(x, (x.shape[0], groups, -1))
        mean = accurate_mean(backend, grouped, 2)
        centered = backend.subtract(grouped, mean)
        variance = backend.mean(backend.multiply(centered, centered), axis=2, keepdims=True)
        rstd = backend.divide(1.0, backend.sqrt(backend.add(variance, eps)))
        normalized = backend.reshape(backend.multiply(centered, rstd), x.shape)
        ctx.groups, ctx.eps, ctx.rstd, ctx.normalized = groups, eps, rstd, normalized
        ctx.mean, ctx.sizes = mean, (x.shape[0], x.shape[1], math.prod(x.shape[2:]))
        ctx.save_for_backward(x, weight)
        return affine_per_channel(backend, normalized, weight, bias)

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> tuple[Tensor | None, ...]:
        x, weight = ctx.saved_tensors
        needs_x, needs_weight, needs_bias = ctx.needs_input_grad
        shape = tuple(x._data.shape)
        batch, groups = shape[0], ctx.groups
        channels = channel_shape(len(shape), shape[1])
        per_channel = (0, *range(2, len(shape)))
        if _grad_state.enabled:  # create_graph: recomputed from x in Tensor ops
            grouped = x.reshape(batch, groups, -1)
            centered = grouped - grouped.mean(2, keepdim=True)
            rstd = ((centered * centered).mean(2, keepdim=True) + ctx.eps) ** -0.5
            normalized = (centered * rstd).reshape(shape)
        else:
            backend = ctx.backend
            rstd = _wrap(ctx.rstd, backend)
            normalized = _wrap(ctx.normalized, backend)
        grad_x = grad_weight = grad_bias = None
        if needs_x:
            scaled = grad if weight is None else grad * weight.reshape(channels)
            scaled_groups = scaled.reshape(batch, groups, -1)
            normalized_groups = normalized.reshape(batch, groups, -1)
            grad_x = (rstd * (scaled_groups - scaled_groups.mean(2, keepdim=True)
                              - normalized_groups
                              * (scaled_groups * normalized_groups).mean(2, keepdim=True))
                      ).reshape(shape)
        if needs_weight:
            grad_weight = (grad * normalized).sum(per_channel)
        if needs_bias:
            grad_bias = grad.sum(per_channel)
        return grad_x, grad_weight, grad_bias


@autocast_op("group_norm")
def group_norm(input: Tensor, num_groups: int, weight: Tensor | None = None,
               bias: Tensor | None = None, eps: float = 1e-5) -> Tensor:
    """Normalize each group of num_groups channels of each sample of (N, C, *)."""
    if input.dim() < 2:
        raise RuntimeError(
            f"Expected at least 2 dimensions for input tensor but received {input.dim()}")
    shape = list(input._data.shape)
    size = [shape[0] * shape[1] // num_groups, num_groups, *shape[2:]]
    if math.prod([size[0], *size[2:]]) == 1:
        raise ValueError(f"Expected more than 1 value per channel when training, got input size "
                         f"{size}")
    channels = shape[1]
    if channels % num_groups:
        raise RuntimeError("Expected number of channels in input to be divisible by num_groups, "
                           f"but got input of shape {shape} and num_groups={num_groups}")
    weight_shape = [] if weight is None else list(weight._data.shape)
    for name, tensor in (("weight", weight), ("bias", bias)):
        if tensor is not None and (tensor.dim() != 1 or tensor.numel() != channels):
            # PyTorch prints the weight's shape in both messages ([0] without a weight).
            printed = weight_shape if weight is not None else [0]
            raise RuntimeError(
                f"Expected {name} to be a vector of size equal to the number of channels in "
                f"input, but got {name} of shape {printed} and input of shape {shape}")
    if not input.dtype.is_floating_point:
        raise NotImplementedError(
            f'"group_norm" not implemented for '
            f"'{dtypes.SCALAR_TYPE_NAMES[input.dtype.name]}'")
    return NativeGroupNorm.apply(input, weight, bias, groups=num_groups, eps=eps)


# ----------------------------------------------------------------------------- LRN
def local_response_norm(input: Tensor, size: int, alpha: float = 1e-4, beta: float = 0.75,
                        k: float = 1.0) -> Tensor:
    """x / (k + alpha * mean of x^2 over `size` neighbouring channels)^beta."""
    dim = input.dim()
    if dim < 3:
        raise ValueError(f"Expected 3D or higher dimensionality                          input "
                         f"(got {dim} dimensions)")
    if input.numel() == 0:
        return input
    div = input.mul(input)
    if dim == 3:
        div = pad(div.unsqueeze(1), (0, 0, size // 2, (size - 1) // 2))
        div = avg_pool2d(div, (size, 1), stride=1).squeeze(1)
    else:
        sizes = tuple(input._data.shape)
        div = div.view(sizes[0], 1, sizes[1], sizes[2], -1)
        div = pad(div, (0, 0, 0, 0, size // 2, (size - 1) // 2))
        div = avg_pool3d(div, (size, 1, 1), stride=1).squeeze(1)
        div = div.view(*sizes)
    div = div.mul(alpha).add(k).pow(beta)
    return input / div


# ----------------------------------------------------------------------------- weight norm
def norm_except_dim(v: Tensor, pow: float = 2, dim: int = 0) -> Tensor:
    """The p-norm of v over every dim but `dim`, kept as size-1 dims (dim=-1: the norm of the
    whole tensor). Composed as PyTorch composes it."""
    if dim == -1:
        return NormAll.apply(v, ord=float(pow), axes=None, keepdim=False)
    ndim = v._data.ndim
    _wrap_dim(dim, ndim)  # PyTorch's range check; the paths below test the value as given
    shape = v._data.shape
    if dim == 0:
        sizes = [shape[0]] + [1] * (ndim - 1)
        return v.reshape(shape[0], -1).norm(pow, dim=1).view(sizes)
    if dim == ndim - 1:
        sizes = [1] * (ndim - 1) + [shape[-1]]
        return v.reshape(-1, shape[-1]).norm(pow, dim=0).view(sizes)
    return norm_except_dim(v.transpose(0, dim), pow, 0).transpose(0, dim)


class WeightNormInterface(Function):
    """w = g * v / ||v||, the norm over every dim of v but `dim` (0 or the last; PyTorch's
    fused `_weight_norm_interface`). The backward is written in Tensor ops, so its second
    derivative is right (PyTorch's is not: its gradgradcheck fails)."""

    node_name = "WeightNormInterfaceBackward0"

    jvp = jvp_from_backward

    @staticmethod
    def forward(ctx: Any, v: Any, g: Any, *, dim: int) -> Any:
        backend = ctx.backend
        axes = tuple(axis for axis in range(v.ndim) if axis != dim)
        norm = backend.sqrt(backend.sum(backend.multiply(v, v), axis=axes, keepdims=True))
        ctx.axes = axes
        ctx.save_for_backward(v, g)
        return backend.multiply(v, backend.divide(backend.reshape(g, norm.shape), norm))

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> tuple[Tensor | None, Tensor | None]:
        v, g = ctx.saved_tensors
        needs_v, needs_g = ctx.needs_input_grad
        axes = ctx.axes
        norm = (v * v).sum(axes, keepdim=True).sqrt()
        g_kept = g.reshape(norm.shape)
        # d w / d g = v / ||v||; d w / d v = g / ||v|| (grad - v <grad, v> / ||v||^2).
        projection = (grad * v).sum(axes, keepdim=True)
        grad_v = g_kept / norm * (grad - v * (projection / (norm * norm))) if needs_v else None
        grad_g = (projection / norm).reshape(g._data.shape) if needs_g else None
        return grad_v, grad_g


def weight_norm(v: Tensor, g: Tensor, dim: int = 0) -> Tensor:
    """PyTorch's `_weight_norm(v, g, dim)`: g * v / norm_except_dim(v, 2, dim)."""
    if v._data.dtype != g._data.dtype:
        raise RuntimeError(
            f"expected scalar type {dtypes.SCALAR_TYPE_NAMES[v.dtype.name]} but found "
            f"{dtypes.SCALAR_TYPE_NAMES[g.dtype.name]}")
    if dim == 0 or dim == v._data.ndim - 1:
        return WeightNormInterface.apply(v, g, dim=dim)
    return v * (g / norm_except_dim(v, 2, dim))
