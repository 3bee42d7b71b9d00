"""ONNX forms of the normalizations: layer_norm as LayerNormalization, batch_norm in eval
mode as BatchNormalization (with the batch's statistics, and instance_norm, written out),
weight_norm, group_norm written out (ONNX's GroupNormalization, opset 18, scales
each group rather than each channel until opset 21): the mean and biased variance of each
(sample, group), then PyTorch's per-channel affine."""

from __future__ import annotations

from typing import Any

from ..tensor import _wrap
from .convert import converts, dtype_of, operand, output
from .graph import Graph, Record


@converts("NativeLayerNorm")
def _layer_norm(g: Graph, record: Record, other: Record | None) -> list[Any]:
    x, weight, bias = record.args[:3]
    dtype = dtype_of(output(record))
    axes = record.kwargs["axes"]
    normalized = [int(size) for size in x.shape[axes[0]:]]
    backend = x._backend
    inputs = [operand(g, x, dtype)]
    for given, fill in ((weight, 1.0), (bias, 0.0)):
        if given is None:
            given = _wrap(backend.full(tuple(normalized), fill, dtype=dtype),
                                       backend)
        inputs.append(operand(g, given, dtype))
    out = g.node("LayerNormalization", inputs, axis=int(axes[0]),
                 epsilon=float(record.kwargs["eps"]))
    return [out] + [None] * (len(record.outputs) - 1)


@converts("NativeBatchNorm")
def _batch_norm(g: Graph, record: Record, other: Record | None) -> list[Any]:
    x, weight, bias = record.args[:3]
    kwargs = record.kwargs
    if kwargs["training"] or kwargs["running_mean"] is None:
        return [_batch_statistics(g, record)] + [None] * (len(record.outputs) - 1)
    dtype = dtype_of(output(record))
    channels = (int(x.shape[1]),)
    backend = x._backend
    inputs = [operand(g, x, dtype)]
    for given, fill in ((weight, 1.0), (bias, 0.0)):
        if given is None:
            given = _wrap(backend.full(channels, fill, dtype=dtype), backend)
        inputs.append(operand(g, given, dtype))
    inputs += [operand(g, kwargs["running_mean"], dtype),
               operand(g, kwargs["running_var"], dtype)]
    out = g.node("BatchNormalization", inputs, epsilon=float(kwargs["eps"]))
    return [out] + [None] * (len(record.outputs) - 1)


def _batch_statistics(g: Graph, record: Record) -> str:
    """batch_norm with the batch's statistics (training mode, or no running statistics;
    instance_norm's too): the mean and biased variance over every axis but the channels.
    (Updating running_mean and running_var is eager's side effect, not the graph's.)"""
    x, weight, bias = record.args[:3]
    dtype = dtype_of(output(record))
    value = operand(g, x, dtype)
    axes = [0, *range(2, x.ndim)]
    mean = _mean(g, value, axes)
    centered = g.node("Sub", [value, mean])
    variance = _mean(g, g.node("Mul", [centered, centered]), axes)
    scale = g.node("Sqrt", [g.node("Add", [variance, g.scalar(record.kwargs["eps"], dtype)])])
    return _affine(g, g.node("Div", [centered, scale]), weight, bias, x.ndim, dtype)


def _affine(g: Graph, out: str, weight: Any, bias: Any, ndim: int, dtype: str) -> str:
    """out * weight + bias, each (C,) laid along axis 1."""
    channel = [-1] + [1] * (ndim - 2)
    if weight is not None:
        out = g.node("Mul", [out, g.node("Reshape", [operand(g, weight, dtype),
                                                     g.ints(channel)])])
    if bias is not None:
        out = g.node("Add", [out, g.node("Reshape", [operand(g, bias, dtype),
                                                     g.ints(channel)])])
    return out


@converts("WeightNormInterface")
def _weight_norm(g: Graph, record: Record, other: Record | None) -> list[Any]:
    """v * g / ||v||, the norm over every dim but `dim` (over all for -1)."""
    v, magnitude = record.args[:2]
    dtype = dtype_of(output(record))
    dim = int(record.kwargs["dim"])
    value = operand(g, v, dtype)
    axes = list(range(v.ndim)) if dim == -1 else [
        axis for axis in range(v.ndim) if axis != dim % v.ndim]
    if not axes:
        norm = g.node("Abs", [value])
    elif g.opset >= 18:
        norm = g.node("ReduceL2", [value, g.ints(axes)], keepdims=1)
    else:
        norm = g.node("ReduceL2", [value], axes=axes, keepdims=1)
    return [g.node("Mul", [value, g.node("Div", [operand(g, magnitude, dtype), norm])])] + \
        [None] * (len(record.outputs) - 1)


@converts("NativeGroupNorm")
def _group_norm(g: Graph, record: Record, other: Record | None) -> list[Any]:
    x, weight, bias = record.args[:3]
    dtype = dtype_of(output(record))
    groups = int(record.kwargs["groups"])
    value = operand(g, x, dtype)
    grouped = g.node("Reshape", [value, g.ints([0, groups, -1])])
    mean = _mean(g, grouped, [2])
    centered = g.node("Sub", [grouped, mean])
    variance = _mean(g, g.node("Mul", [centered, centered]), [2])
    scale = g.node("Sqrt", [g.node("Add", [variance, g.scalar(record.kwargs["eps"], dtype)])])
    normalized = g.node("Div", [centered, scale])
    out = g.node("Reshape", [normalized, g.node("Shape", [value])])
    return [_affine(g, out, weight, bias, x.ndim, dtype)] + [None] * (len(record.outputs) - 1)


def _mean(g: Graph, value: str, axes: list[int]) -> str:
    """The mean over `axes`, kept."""
    if g.opset >= 18:
        return g.node("ReduceMean", [value, g.ints(axes)], keepdims=1)
    return g.node("ReduceMean", [value], axes=axes, keepdims=1)
