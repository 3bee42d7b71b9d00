"""ONNX forms of layers: convolutions, attention, interpolation, grid sampling, affine_grid."""

from __future__ import annotations

from typing import Any

from ..ops.grid_sample import base_grid
from ..tensor import Tensor, _wrap
from .convert import (
    Unsupported,
    apply_taps,
    converts,
    dtype_of,
    onnx_type,
    operand,
    output,
)
from .graph import Graph, Record


@converts("Convolution")
def _convolution(g: Graph, record: Record, other: Record | None) -> list[Any]:
    x, weight = record.args[0], record.args[1]
    bias = record.args[2] if len(record.args) > 2 else None
    dtype = dtype_of(output(record))
    geometry = record.kwargs["geometry"]
    kernel = [int(size) for size in weight.shape[2:]]
    pads = [int(lo) for lo, _ in geometry.padding] + [int(hi) for _, hi in geometry.padding]
    inputs = [operand(g, x, dtype), operand(g, weight, dtype)]
    if bias is not None:
        inputs.append(operand(g, bias, dtype))
    value = inputs[0]
    batched = x.ndim == weight.ndim
    if not batched:  # an unbatched input: a batch of one
        inputs[0] = g.node("Unsqueeze", [value, g.ints([0])])
    attributes: dict[str, Any] = {
        "kernel_shape": kernel, "strides": list(geometry.stride),
        "dilations": list(geometry.dilation), "group": int(geometry.groups)}
    if record.kwargs["transposed"]:
        out = _conv_transpose(g, record, inputs, attributes, batched)
    else:
        out = g.node("Conv", inputs, pads=pads, **attributes)
    if not batched:
        out = g.node("Squeeze", [out, g.ints([0])])
    return [out]


def _conv_transpose(g: Graph, record: Record, inputs: list[str], attributes: dict[str, Any],
                    batched: bool) -> str:
    """The full transposed convolution (no padding, no output_padding: onnxruntime refuses an
    output_padding of at least the stride, which PyTorch allows below the dilation), then
    PyTorch's crop of `padding` from each side and the `output_padding` rows at the end
    (zeros where they lie past the full output), then the bias."""
    x, weight = record.args[0], record.args[1]
    geometry = record.kwargs["geometry"]
    spatial = [int(size) for size in record.kwargs["spatial"]]
    kernel = [int(size) for size in weight.shape[2:]]
    sizes = x.shape[2 if batched else 1:]
    full = [s * (n - 1) + d * (k - 1) + 1 for s, n, d, k in zip(
        geometry.stride, sizes, geometry.dilation, kernel)]
    out = g.node("ConvTranspose", inputs[:2], **attributes)
    starts = [int(lo) for lo, _ in geometry.padding]
    ends = [lo + want for lo, want in zip(starts, spatial)]
    axes = list(range(2, 2 + len(spatial)))
    out = g.node("Slice", [out, g.ints(starts), g.ints([min(end, size) for end, size in
                                                         zip(ends, full)]), g.ints(axes)])
    extra = [max(end - size, 0) for end, size in zip(ends, full)]
    if any(extra):
        pads = [0] * (2 + len(spatial)) + [0, 0] + extra
        out = g.node("Pad", [out, g.ints(pads)], mode="constant")
    if len(inputs) > 2:
        bias = g.node("Reshape", [inputs[2], g.ints([-1] + [1] * len(spatial))])
        out = g.node("Add", [out, bias])
    return out


@converts("ScaledDotProductAttention", "ScaledDotProductAttentionMm")
def _attention(g: Graph, record: Record, other: Record | None) -> list[Any]:
    """softmax(q k^T * scale + mask) v, as PyTorch's math path (a float mask is added, a
    boolean one keeps where True); under grouped query attention each key and value head
    repeated for its group of query heads first."""
    query, key, value = record.args[:3]
    mask = record.args[3] if len(record.args) > 3 else None
    kwargs = record.kwargs
    if kwargs.get("dropout_p", 0.0):
        raise Unsupported("dropout_p")
    dtype = dtype_of(output(record))
    keys, values = operand(g, key, dtype), operand(g, value, dtype)
    group = int(kwargs.get("group", 1))
    if group != 1:
        keys, values = (_repeat_heads(g, name, tuple(tensor.shape), group)
                        for name, tensor in ((keys, key), (values, value)))
    perm = list(range(key.ndim))
    perm[-1], perm[-2] = perm[-2], perm[-1]
    scores = g.node("MatMul", [operand(g, query, dtype),
                               g.node("Transpose", [keys], perm=perm)])
    scores = g.node("Mul", [scores, g.scalar(kwargs["scale"], dtype)])
    minus_inf = g.scalar(float("-inf"), dtype)
    bool_mask = kwargs.get("bool_mask")
    if kwargs.get("causal"):
        rows, columns = int(query.shape[-2]), int(key.shape[-2])
        if other is None or (int(other.args[0].shape[-2]), int(other.args[1].shape[-2])) == (
                rows, columns):
            ones = _wrap(query._backend.ones((rows, columns), dtype="bool"), query._backend)
            keep = g.node("Trilu", [g.value(ones), g.constant_int(0)], upper=0)
        else:  # a dynamic length: ones as large as the scores
            ones = g.node("Expand", [g.scalar(1.0, "float32"), g.node("Shape", [scores])])
            keep = g.node("Cast", [g.node("Trilu", [ones, g.constant_int(0)], upper=0)],
                          to=onnx_type("bool"))
        scores = g.node("Where", [keep, scores, minus_inf])
    if bool_mask is not None:
        keep = g.array(bool_mask, query._backend, "mask")
        scores = g.node("Where", [keep, scores, minus_inf])
    if isinstance(mask, Tensor):
        if dtype_of(mask) == "bool":
            scores = g.node("Where", [g.value(mask), scores, minus_inf])
        else:
            scores = g.node("Add", [scores, operand(g, mask, dtype)])
    weights = g.node("Softmax", [scores], axis=-1)
    if kwargs.get("causal") or bool_mask is not None or isinstance(mask, Tensor):
        # a row with every key masked attends to nothing: zeros, as PyTorch's math path
        weights = g.node("Where", [g.node("IsNaN", [weights]), g.scalar(0.0, dtype), weights])
    return [g.node("MatMul", [weights, values])]


def _repeat_heads(g: Graph, value: str, shape: tuple[int, ...], group: int) -> str:
    """(..., H, S, E) -> (..., H * group, S, E), each head repeated group times in a row
    (the batch dims and S written so that they may be dynamic)."""
    ndim = len(shape)
    spread = g.node("Unsqueeze", [value, g.ints([ndim - 2])])
    spread = g.node("Expand", [spread, g.ints([1] * (ndim - 2) + [group, 1, 1])])
    return g.node("Reshape", [spread, g.ints([0] * (ndim - 3) + [shape[-3] * group, -1,
                                                                    shape[-1]])])


@converts("UpsampleNearest1D", "UpsampleNearest2D", "UpsampleNearest3D",
          "UpsampleNearestExact1D", "UpsampleNearestExact2D", "UpsampleNearestExact3D",
          "UpsampleLinear1D", "UpsampleBilinear2D", "UpsampleBilinear2DAa",
          "UpsampleBicubic2D", "UpsampleTrilinear3D")
def _upsample(g: Graph, record: Record, other: Record | None) -> list[Any]:
    """interpolate as the op computes it: its taps along each spatial axis (`apply_taps`)."""
    x = record.args[0]
    dtype = dtype_of(output(record))
    return [apply_taps(g, x, operand(g, x, dtype), record.kwargs["taps"], dtype)]


@converts("GridSampler2D")
def _grid_sample(g: Graph, record: Record, other: Record | None) -> list[Any]:
    """ONNX's GridSample (opset 16) has PyTorch's modes, padding modes and align_corners."""
    x, grid = record.args
    if g.opset < 16:
        raise Unsupported("GridSample needs opset 16")
    dtype = dtype_of(output(record))
    mode = record.kwargs["mode"]
    if g.opset >= 20:
        mode = {"bilinear": "linear", "bicubic": "cubic"}.get(mode, mode)
    return [g.node("GridSample", [operand(g, x, dtype), operand(g, grid, dtype)], mode=mode,
                   padding_mode=record.kwargs["padding_mode"],
                   align_corners=int(bool(record.kwargs["align_corners"])))]


@converts("AffineGridGenerator")
def _affine_grid(g: Graph, record: Record, other: Record | None) -> list[Any]:
    """The base grid (each output position's normalized coordinates, then a 1) as a constant,
    times theta transposed: (N, prod(spatial), dims) put in shape (N, *spatial, dims)."""
    theta = record.args[0]
    dtype = dtype_of(output(record))
    spatial = tuple(int(size) for size in record.kwargs["spatial"])
    backend = theta._backend
    base = base_grid(backend, spatial, bool(record.kwargs["align_corners"]), dtype)
    points = g.node("MatMul", [g.constant(backend.to_numpy(base), "grid"),
                               g.node("Transpose", [operand(g, theta, dtype)], perm=[0, 2, 1])])
    return [g.node("Reshape", [points, g.ints([-1, *spatial, len(spatial)])])]
