"""ONNX forms of the normalizations: layer_norm as LayerNormalization, batch_norm in eval
mode as BatchNormalization, group_norm written out (ONNX's GroupNormalization, opset 18, scales
each group rather than each channel until opset 21): the mean and biased variance of each
(sample, group), then PyTorch's per-channel affine."""

from __future__ import annotations

from typing import Any

from ..tensor import _wrap
from .convert import Unsupported, converts, dtype_of, operand, output
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
        raise Unsupported("training mode (batch statistics)")
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


@converts("NativeGroupNorm")
def _group_norm(g: Graph, record: Record, other: Record | None) -> list[Any]:
    x, weight, bias = record.args[:3]
    dtype = dtype_of(output(record))
    groups = int(record.kwargs["groups"])
    value = operand(g, x, dtype)
    grouped = g.node("Reshape", [value, g.ints([0, groups, -1])])
    mean = _mean(g, grouped)
    centered = g.node("Sub", [grouped, mean])
    variance = _mean(g, g.node("Mul", [centered, centered]))
    scale = g.node("Sqrt", [g.node("Add", [variance, g.scalar(record.kwargs["eps"], dtype)])])
    normalized = g.node("Div", [centered, scale])
    out = g.node("Reshape", [normalized, g.node("Shape", [value])])
    channel = [-1] + [1] * (x.ndim - 2)  # (C, 1, ...) broadcasts along the channels
    if weight is not None:
        out = g.node("Mul", [out, g.node("Reshape", [operand(g, weight, dtype),
                                                     g.ints(channel)])])
    if bias is not None:
        out = g.node("Add", [out, g.node("Reshape", [operand(g, bias, dtype),
                                                     g.ints(channel)])])
    return [out] + [None] * (len(record.outputs) - 1)


def _mean(g: Graph, value: str) -> str:
    """The mean over the last axis of a (N, groups, -1) value, kept."""
    if g.opset >= 18:
        return g.node("ReduceMean", [value, g.ints([2])], keepdims=1)
    return g.node("ReduceMean", [value], axes=[2], keepdims=1)
