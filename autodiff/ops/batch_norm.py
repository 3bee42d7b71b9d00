"""batch_norm and instance_norm: normalization by a batch's statistics per channel, with
running statistics.

batch_norm is one node (NativeBatchNormBackward0): statistics in two passes (the mean, in
float64, then the mean squared deviation), then a per-channel scale and shift; in training the
running mean and unbiased variance are updated in place with the momentum. A plain backward runs
on the saved normalized input with array ops; under create_graph the same formulas are
recomputed from the input with Tensor ops, so the gradient is differentiable again.
instance_norm is batch_norm over a (1, N * C, ...) view, as PyTorch computes it.
"""

from __future__ import annotations

import math
from typing import Any

from .. import dtypes
from ..function import Function
from ..grad_mode import no_grad
from ..grad_mode import state as _grad_state
from ..jvp_rules import jvp_from_backward
from ..saved_fields import Computed, fields, saved, saved_array, value
from ..tensor import Tensor, _wrap
from .normalization import accurate_mean, affine_per_channel, channel_shape


def _batch_statistic(attribute: str) -> Computed:
    """The batch's mean or 1 / std per channel, as PyTorch's node saves them (result1,
    result2): a vector in the statistics' dtype in training, an empty one in evaluation."""
    def read(node: Any) -> Tensor:
        backend = node.backend
        rstd = node.rstd
        if not node.training:
            return _wrap(backend.zeros((0,), backend.dtype_name(rstd)), backend)
        statistic = backend.reshape(getattr(node, attribute), (-1,))
        return _wrap(backend.astype(statistic, backend.dtype_name(rstd)), backend)

    return Computed(read, tensor=True)


class NativeBatchNorm(Function):
    """(x - mean) / sqrt(var + eps) * weight + bias per channel. In training the statistics
    are the batch's (over N and the spatial dims) and the running ones are updated in place;
    in evaluation they are the running ones."""

    node_name = "NativeBatchNormBackward0"
    saved_fields = fields(
        input=saved(0), weight=saved(1), running_mean=saved_array("running_mean"),
        running_var=saved_array("running_var"), result1=_batch_statistic("mean"),
        result2=_batch_statistic("rstd"), training=value("training"), eps=value("eps"))

    jvp = jvp_from_backward

    @staticmethod
    def forward(ctx: Any, x: Any, weight: Any, bias: Any, *, running_mean: Tensor | None,
                running_var: Tensor | None, training: bool, momentum: float,
                eps: float) -> Any:
        backend = ctx.backend
        axes = (0, *range(2, x.ndim))
        compute = (x if backend.dtype_name(x) not in ("float16", "bfloat16")
                   else backend.astype(x, "float32"))
        if training:
            mean = accurate_mean(backend, compute, axes)
            centered = backend.subtract(compute, mean)
            variance = backend.mean(backend.multiply(centered, centered), axis=axes,
                                    keepdims=True)
            rstd = backend.divide(1.0, backend.sqrt(backend.add(variance, eps)))
            centered *= rstd  # a fresh array: normalized in place
            normalized = centered
            if running_mean is not None and running_var is not None:
                count = x.size // x.shape[1]
                unbiased = backend.multiply(variance, count / max(count - 1, 1)) if count > 1 \
                    else backend.full(variance.shape, math.nan, backend.dtype_name(variance))
                _update_running(running_mean, backend.reshape(mean, (-1,)), momentum)
                _update_running(running_var, backend.reshape(unbiased, (-1,)), momentum)
        else:
            shape = channel_shape(x.ndim, x.shape[1])
            assert running_mean is not None and running_var is not None  # checked by batch_norm
            mean = backend.reshape(running_mean._data, shape)
            variance = backend.reshape(running_var._data, shape)
            rstd = backend.divide(1.0, backend.sqrt(backend.add(variance, eps)))
            normalized = backend.multiply(backend.subtract(compute, mean), rstd)
        ctx.training, ctx.eps, ctx.axes = training, eps, axes
        ctx.running_mean, ctx.running_var = running_mean, running_var
        ctx.mean, ctx.rstd, ctx.normalized = mean, rstd, normalized
        ctx.save_for_backward(x, weight)
        out = affine_per_channel(backend, normalized, weight, bias)
        return out if out.dtype == x.dtype else backend.astype(out, backend.dtype_name(x))

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> tuple[Tensor | None, ...]:
        x, weight = ctx.saved_tensors
        if not _grad_state.enabled:
            return _backward_arrays(ctx, grad, weight, ctx.training)
        axes = ctx.axes
        channels = channel_shape(x._data.ndim, x._data.shape[1])
        scale = None if weight is None else weight.reshape(channels)
        if ctx.training:
            centered = x - x.mean(axes, keepdim=True)
            rstd = ((centered * centered).mean(axes, keepdim=True) + ctx.eps) ** -0.5
        else:
            backend = x._backend
            centered = x - _wrap(ctx.mean, backend)
            rstd = _wrap(ctx.rstd, backend)
        normalized = centered * rstd
        return _recorded_backward(ctx, grad, normalized, rstd, scale, axes, ctx.training)


def _update_running(running: Tensor, statistic: Any, momentum: float) -> None:
    """running = (1 - momentum) * running + momentum * statistic, in place, outside the graph."""
    backend = running._backend
    data = running._data
    statistic = backend.astype(statistic, backend.dtype_name(data))
    backend.setitem(data, (...,), backend.add(backend.multiply(data, 1.0 - momentum),
                                              backend.multiply(statistic, momentum)))
    running._bump_version()


def _backward_arrays(ctx: Any, grad: Tensor, weight: Tensor | None,
                     training: bool) -> tuple[Tensor | None, ...]:
    """Gradients on the saved normalized input: with gw = sum(g * xhat), gb = sum(g) over the
    statistics' axes, gx = weight * rstd * (g - (gb + xhat * gw) / count) (training) or
    weight * rstd * g (fixed statistics)."""
    backend, axes = ctx.backend, ctx.axes
    needs_x, needs_weight, needs_bias = ctx.needs_input_grad
    g = grad._data
    normalized = ctx.normalized
    if g.dtype != normalized.dtype:
        g = backend.astype(g, backend.dtype_name(normalized))
    channels = channel_shape(g.ndim, g.shape[1])
    grad_bias_sum = backend.sum(g, axis=axes, keepdims=True)
    grad_weight_sum = backend.sum(backend.multiply(g, normalized), axis=axes, keepdims=True)
    grad_x = grad_weight = grad_bias = None
    dtype = backend.dtype_name(grad._data)
    if needs_x:
        scale = ctx.rstd if weight is None else backend.multiply(
            ctx.rstd, backend.reshape(weight._data, channels))
        if training:
            # (g - (gb + xhat * gw) / count) * scale, in one fresh array.
            count = g.size // g.shape[1]
            out = backend.multiply(normalized, backend.divide(grad_weight_sum, count))
            out += backend.divide(grad_bias_sum, count)
            out -= g
            out *= backend.negative(scale)
        else:
            out = backend.multiply(g, scale)
        grad_x = _wrap(backend.astype(out, dtype), backend)
    if needs_weight:
        grad_weight = _wrap(backend.astype(backend.reshape(grad_weight_sum, (-1,)), dtype),
                            backend)
    if needs_bias:
        grad_bias = _wrap(backend.astype(backend.reshape(grad_bias_sum, (-1,)), dtype), backend)
    return grad_x, grad_weight, grad_bias


def _recorded_backward(ctx: Any, grad: Tensor, normalized: Tensor, rstd: Tensor,
                       scale: Tensor | None, axes: tuple[int, ...],
                       training: bool) -> tuple[Tensor | None, ...]:
    """The same gradients in Tensor ops (create_graph): differentiable again."""
    needs_x, needs_weight, needs_bias = ctx.needs_input_grad
    grad_x = grad_weight = grad_bias = None
    if needs_x:
        scaled = grad if scale is None else grad * scale
        if training:
            grad_x = rstd * (scaled - scaled.mean(axes, keepdim=True)
                             - normalized * (scaled * normalized).mean(axes, keepdim=True))
        else:
            grad_x = scaled * rstd
    if needs_weight:
        grad_weight = (grad * normalized).sum(axes)
    if needs_bias:
        grad_bias = grad.sum(axes)
    return grad_x, grad_weight, grad_bias


def _check_parameter(name: str, tensor: Tensor | None, channels: int) -> None:
    if tensor is not None and tensor.numel() != channels:
        raise RuntimeError(f"{name} should contain {channels} elements not {tensor.numel()}")


def _check_dtypes(input: Tensor, *parameters: Tensor | None) -> None:
    name = input.dtype.name
    if not input.dtype.is_floating_point:
        raise NotImplementedError(
            f'"batch_norm" not implemented for \'{dtypes.SCALAR_TYPE_NAMES[name]}\'')
    for parameter in parameters:
        if parameter is None or parameter.dtype is input.dtype:
            continue
        if name in ("float16", "bfloat16") and parameter.dtype is dtypes.float32:
            continue  # reduced-precision input with float parameters, as PyTorch's CPU allows
        if name in ("float32", "float16", "bfloat16"):
            raise RuntimeError("mixed dtype (CPU): expect parameter to have scalar type of "
                               f"{dtypes.SCALAR_TYPE_NAMES[name]}")
        raise RuntimeError("mixed dtype (CPU): all inputs must share same datatype.")


def batch_norm(input: Tensor, running_mean: Tensor | None, running_var: Tensor | None,
               weight: Tensor | None = None, bias: Tensor | None = None,
               training: bool = False, momentum: float = 0.1, eps: float = 1e-5) -> Tensor:
    """Normalize each channel of (N, C, *) by the batch's statistics (training, updating the
    running ones in place) or by the running statistics (evaluation)."""
    shape = input._data.shape
    if training:
        if shape and shape[0] * math.prod(shape[2:]) == 1:
            raise ValueError("Expected more than 1 value per channel when training, got input "
                             f"size {input.size()}")
        if eps <= 0.0:
            raise ValueError(f"batch_norm eps must be positive during training, but got {eps}")
    elif eps < 0.0:
        raise ValueError(f"batch_norm eps must be non-negative, but got {eps}")
    if (running_mean is None) != (running_var is None):
        raise ValueError("running_mean and running_var must either both be None or neither be "
                         "None")
    channels = shape[1] if len(shape) > 1 else 0
    for name, tensor in (("weight", weight), ("bias", bias), ("running_mean", running_mean),
                         ("running_var", running_var)):
        _check_parameter(name, tensor, channels)
    if not training and running_mean is None:
        raise RuntimeError("running_mean must be defined in evaluation mode")
    _check_dtypes(input, running_mean, running_var, weight, bias)
    return NativeBatchNorm.apply(input, weight, bias, running_mean=running_mean,
                                 running_var=running_var, training=training,
                                 momentum=momentum, eps=eps)


def instance_norm(input: Tensor, running_mean: Tensor | None = None,
                  running_var: Tensor | None = None, weight: Tensor | None = None,
                  bias: Tensor | None = None, use_input_stats: bool = True,
                  momentum: float = 0.1, eps: float = 1e-5) -> Tensor:
    """Normalize each channel of each sample by its own statistics: batch_norm over a
    (1, N * C, *) view, as PyTorch computes it."""
    shape = tuple(input._data.shape)
    if use_input_stats and math.prod(shape[2:]) == 1:
        raise ValueError("Expected more than 1 spatial element when training, got input size "
                         f"{input.size()}")
    if not use_input_stats and (running_mean is None or running_var is None):
        raise RuntimeError("Expected running_mean and running_var to be defined when "
                           "use_input_stats is false")
    batch, channels = shape[:2]
    repeated = [None if t is None else t.repeat(batch) for t in (running_mean, running_var)]
    out = batch_norm(input.reshape(1, batch * channels, *shape[2:]), repeated[0], repeated[1],
                     None if weight is None else weight.repeat(batch),
                     None if bias is None else bias.repeat(batch), use_input_stats, momentum,
                     eps)
    if use_input_stats:  # the running statistics: the mean over the batch's instances
        with no_grad():
            for running, update in zip((running_mean, running_var), repeated):
                if running is not None and update is not None:
                    running.copy_(update.view(batch, channels).mean(0))
    return out.view(*shape)
