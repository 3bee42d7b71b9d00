"""Counting into bins: bincount, histc, histogram and histogramdd.

histc maps an element to its bin by arithmetic (PyTorch's "linear interpolation": the position
in the range times the bin count, truncated); histogram and histogramdd search the bin edges,
so their counts agree with the edges they return. Every bin includes its left edge; the last
also its right one; elements outside the range (and NaN) are left out. None of them has a
derivative: like PyTorch's, the ones that take differentiable inputs record a node whose
backward raises.
"""

from __future__ import annotations

import math
from typing import Any

from .. import dtypes, return_types
from ..batching.dispatch import dynamic_shape_op, function_rule, looped_op
from ..function import Function
from ..layout_dispatch import dense_only
from ..tensor import Tensor, _wrap
from ._checks import scalar_type_name

_NOT_IMPLEMENTED = "torch::autograd::NotImplemented"


def _kernel_error(kernel: str, backend: Any, tensor: Tensor) -> NotImplementedError:
    device = "cuda" if backend.device.type == "cuda" else "cpu"
    return NotImplementedError(
        f'"{kernel}_{device}" not implemented for \'{scalar_type_name(tensor)}\'')


# ----------------------------------------------------------------------------- bincount
class Bincount(Function):
    """Sums of `weights` per value of the index array (only weights can carry a gradient)."""

    node_name = _NOT_IMPLEMENTED
    forward_ad_name = "aten::bincount"

    @staticmethod
    def forward(ctx: Any, weights: Any, *, index: Any, length: int, dtype: str) -> Any:
        return ctx.backend.bincount(index, weights, length, dtype)

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> Any:
        raise RuntimeError("derivative for aten::bincount is not implemented")


@dynamic_shape_op
def bincount(input: Tensor, weights: Tensor | None = None, minlength: int = 0) -> Tensor:
    """How often each value 0, 1, ... occurs in the 1-d non-negative integer `input` (or the
    sum of `weights` at its positions): at least `minlength` counts."""
    backend, a = input._backend, input._data
    backend.needs_values("aten::bincount")
    if input.dtype.category != 1:
        raise _kernel_error("bincount", backend, input)
    if minlength < 0:
        raise RuntimeError("minlength should be >= 0")
    if a.ndim != 1 or (a.shape[0] and backend.any_true(backend.less(a, 0))):
        raise RuntimeError("bincount only supports 1-d non-negative integral inputs.")
    if weights is not None and (weights._data.ndim != 1
                                or weights._data.shape[0] != a.shape[0]):
        raise RuntimeError("weights should be 1-d and have the same length as input")
    length = max(int(backend.item(backend.max(a))) + 1 if a.shape[0] else 0, int(minlength))
    index = a if backend.dtype_name(a) == "int64" else backend.astype(a, "int64")
    if weights is None:
        return _wrap(backend.bincount(index, None, length, "int64"), backend)
    kind = "float32" if weights.dtype is dtypes.float32 else "float64"
    return Bincount.apply(weights, index=index, length=length, dtype=kind)


# ----------------------------------------------------------------------------- binning
def _bin_of(backend: Any, values: Any, edges: Any) -> tuple[Any, Any]:
    """Each value's bin (the last edge belongs to the last bin) and whether it has one."""
    count = edges.shape[0] - 1
    inside = backend.logical_and(backend.greater_equal(values, edges[0]),
                                 backend.less_equal(values, edges[-1]))
    position = backend.subtract(backend.searchsorted(edges, values, right=True), 1)
    return backend.clip(position, 0, count - 1), inside


def _count(backend: Any, positions: list[Any], inside: Any, sizes: list[int],
           weight: Any | None, dtype: str) -> Any:
    """The histogram of shape `sizes` from each point's bin along every dim."""
    flat = backend.zeros(inside.shape, "int64")
    stride = 1
    for position, size in zip(reversed(positions), reversed(sizes)):
        flat = backend.add(flat, backend.multiply(position, stride))
        stride *= size
    kept = backend.nonzero(inside)[0]
    flat = backend.take(flat, kept, axis=0)
    weights = None if weight is None else backend.take(weight, kept, axis=0)
    total = math.prod(sizes)
    hist = backend.bincount(flat, weights, total, dtype)
    return backend.reshape(hist, tuple(sizes))


def _density(backend: Any, hist: Any, edges: list[Any]) -> Any:
    hist = backend.divide(hist, backend.sum(hist))
    for dim, edge in enumerate(edges):
        lengths = backend.subtract(edge[1:], edge[:-1])
        shape = [1] * len(edges)
        shape[dim] = lengths.shape[0]
        hist = backend.divide(hist, backend.reshape(lengths, tuple(shape)))
    return hist


def linear_edges(backend: Any, low: float, high: float, bins: int, dtype: str) -> Any:
    """bins + 1 evenly spaced edges from low to high (torch.linspace's values)."""
    return backend.linspace(low, high, bins + 1, dtype)


# ----------------------------------------------------------------------------- histc
@function_rule("histc")
def histc(input: Tensor, bins: int = 100, min: float = 0, max: float = 0) -> Tensor:
    """Counts in `bins` equal bins between min and max (the data's range when both are
    equal), computed in input's dtype."""
    dense_only("aten::histc", input)
    backend, a = input._backend, input._data
    check_histc(input, bins)
    rows = backend.reshape(a, (1, -1))
    return _wrap(backend.reshape(histc_rows(backend, rows, bins, min, max), (bins,)), backend)


def check_histc(input: Tensor, bins: int) -> None:
    if not input.dtype.is_floating_point:
        raise _kernel_error("histogram", input._backend, input)
    if bins <= 0:
        raise RuntimeError(f"torch.histogram(): bins must be > 0, but got {bins} for dimension 0")


def histc_rows(backend: Any, rows: Any, bins: int, min: float, max: float) -> Any:
    """histc of each row of `rows` (R, N): (R, bins), each row binned over its own range."""
    kind = backend.dtype_name(rows)
    if not backend.holds_values:  # meta: the counts' shape alone
        return backend.zeros((rows.shape[0], bins), kind)
    low, high = float(min), float(max)
    lows, highs = [low] * rows.shape[0], [high] * rows.shape[0]
    if low == high and rows.shape[1]:
        lows = [float(v) for v in backend.tolist(backend.min(rows, axis=1))]
        highs = [float(v) for v in backend.tolist(backend.max(rows, axis=1))]
    for index, (low, high) in enumerate(zip(lows, highs)):
        if low == high:
            low, high = low - 1, high + 1
        if not (math.isfinite(low) and math.isfinite(high)):
            raise RuntimeError(
                f"torch.histc: range of [{_number(low, '-nan')}, {_number(high, '-nan')}] is "
                "not finite")
        if not low < high:
            raise RuntimeError("torch.histc: max must be larger than min")
        lows[index], highs[index] = low, high
    # PyTorch's arithmetic, in the input's dtype: (x - low) * bins / (high - low), truncated.
    left = backend.reshape(backend.asarray(lows, dtype=kind), (-1, 1))
    right = backend.reshape(backend.asarray(highs, dtype=kind), (-1, 1))
    inside = backend.logical_and(backend.greater_equal(rows, left),
                                 backend.less_equal(rows, right))
    scaled = backend.divide(backend.multiply(backend.subtract(rows, left),
                                             backend.full((), bins, kind)),
                            backend.subtract(right, left))
    scaled = backend.where(inside, scaled, backend.zeros_like(scaled))
    position = backend.clip(backend.astype(scaled, "int64"), 0, bins - 1)
    # Row r's bins are bins r * bins, ...: one count of all the rows.
    first = backend.reshape(backend.arange(0, rows.shape[0] * bins, bins, "int64"), (-1, 1))
    position = backend.reshape(backend.add(position, first), (-1,))
    counts = _count(backend, [position], backend.reshape(inside, (-1,)),
                    [rows.shape[0] * bins], None, kind)
    return backend.reshape(counts, (rows.shape[0], bins))


def _number(value: float, nan: str = "nan") -> str:
    """A double as PyTorch's messages print it (C++ stream: inf, 2.5; histc's NaN range comes
    out of its min/max kernel as "-nan")."""
    if math.isnan(value):
        return nan
    if math.isinf(value):
        return "inf" if value > 0 else "-inf"
    return f"{value:g}"


# ----------------------------------------------------------------------------- histogramdd
def _histogram_array(backend: Any, points: Any, weight: Any, edges: tuple[Any, ...],
                     density: bool) -> Any:
    """The histogram of points (M, N) over one edge array per dim."""
    kind = backend.dtype_name(points)
    positions, inside = [], None
    for dim, edge in enumerate(edges):
        position, valid = _bin_of(backend, points[:, dim], edge)
        positions.append(position)
        inside = valid if inside is None else backend.logical_and(inside, valid)
    sizes = [edge.shape[0] - 1 for edge in edges]
    if inside is None:
        hist = backend.zeros(tuple(sizes), kind)
    else:
        flat_weight = None if weight is None else backend.reshape(weight, (-1,))
        hist = _count(backend, positions, inside, sizes, flat_weight, kind)
    return _density(backend, hist, list(edges)) if density else hist


class _NoDerivative(Function):
    """A node whose backward raises PyTorch's "derivative ... is not implemented"."""

    node_name = _NOT_IMPLEMENTED
    derivative = ""

    @staticmethod
    def backward(ctx: Any, *grads: Any) -> Any:
        raise RuntimeError(f"derivative for aten::{ctx.derivative} is not implemented")

    @property
    def forward_ad_name(self) -> str:  # type: ignore[override]
        return f"aten::{self.derivative}"


class Histogram(_NoDerivative):
    """torch.histogram: (hist, bin_edges) from one node."""

    derivative = "histogram"

    @staticmethod
    def forward(ctx: Any, points: Any, weight: Any = None, *, edges: tuple[Any, ...],
                density: bool) -> Any:
        backend = ctx.backend
        hist = _histogram_array(backend, points, weight, edges, density)
        return hist, backend.asarray(edges[0], copy=True)


class HistogramddFromBins(_NoDerivative):
    """histogramdd's histogram over edges already made (PyTorch's _histogramdd_from_bin_cts,
    or _from_bin_tensors for edges the caller gave)."""

    derivative = "_histogramdd_from_bin_cts"

    @staticmethod
    def forward(ctx: Any, points: Any, weight: Any = None, *, edges: tuple[Any, ...],
                density: bool, given: bool = False) -> Any:
        if given:
            ctx.derivative = "_histogramdd_from_bin_tensors"
        return _histogram_array(ctx.backend, points, weight, edges, density)


class HistogramddBinEdges(_NoDerivative):
    """histogramdd's equal-width edges, one array per dim (PyTorch's _histogramdd_bin_edges,
    a node of its own)."""

    derivative = "_histogramdd_bin_edges"

    @staticmethod
    def forward(ctx: Any, points: Any, weight: Any = None, *, edges: tuple[Any, ...]) -> Any:
        return tuple(ctx.backend.asarray(edge, copy=True) for edge in edges)


def _points(name: str, input: Tensor) -> Tensor:
    if input.dtype.name not in ("float32", "float64"):  # PyTorch's kernel: float and double
        raise NotImplementedError(
            f'"histogramdd" not implemented for \'{scalar_type_name(input)}\'')
    if input.ndim < 2:
        raise RuntimeError(f"torch.{name}: input tensor should have at least 2 dimensions")
    return input


def _outer_edges(backend: Any, points: Any, count: int,
                 bounds: Any) -> tuple[list[float], list[float]]:
    """The first and last edge per dim: `range`, else the data's extremes ([0, 1] without
    data); an empty range widened by 0.5 either side (NumPy's rule)."""
    low, high = [0.0] * count, [1.0] * count
    if bounds is not None:
        values = [float(v) for v in bounds]
        if len(values) != 2 * count:
            raise RuntimeError(
                f"torch.histogramdd: for a {count}-dimensional histogram range should have "
                f"{2 * count} elements, but got {len(values)}"
            )
        low, high = values[0::2], values[1::2]
    elif points.shape[0]:
        low = [float(v) for v in backend.tolist(backend.min(points, axis=0))]
        high = [float(v) for v in backend.tolist(backend.max(points, axis=0))]
    for dim in range(count):
        if not (math.isfinite(low[dim]) and math.isfinite(high[dim])):
            raise RuntimeError(
                f"torch.histogramdd: dimension {dim}'s range [{_number(low[dim])}, "
                f"{_number(high[dim])}] is not finite"
            )
        if low[dim] > high[dim]:
            raise RuntimeError(
                "torch.histogramdd: min should not exceed max, but got min "
                f"{_number(low[dim])} max {_number(high[dim])} for dimension {dim}"
            )
        if low[dim] == high[dim]:
            low[dim] -= 0.5
            high[dim] += 0.5
    return low, high


def _histogramdd(name: str, input: Tensor, bins: Any, bounds: Any, weight: Tensor | None,
                 density: bool) -> tuple[Tensor, tuple[Tensor, ...]]:
    backend = input._backend
    count = input._data.shape[-1]
    points = input.reshape(-1, count)
    kind = input.dtype.name
    if isinstance(bins, int) or (isinstance(bins, (list, tuple)) and bins
                                 and all(isinstance(b, int) for b in bins)):
        counts = [bins] * count if isinstance(bins, int) else list(bins)
        if len(counts) != count:
            raise RuntimeError(
                f"torch.histogramdd: expected {count} sequences of bin edges for a {count}-"
                f"dimensional histogram but got {len(counts)}"
            )
        for dim, size in enumerate(counts):
            if size <= 0:
                raise RuntimeError(
                    f"torch.histogram(): bins must be > 0, but got {size} for dimension {dim}")
        low, high = _outer_edges(backend, points._data, count, bounds)
        edges = [linear_edges(backend, low[d], high[d], counts[d], kind) for d in range(count)]
    else:
        sequences = list(bins)
        if len(sequences) != count:
            raise RuntimeError(
                f"torch.histogramdd: expected {count} sequences of bin edges for a {count}-"
                f"dimensional histogram but got {len(sequences)}"
            )
        edges = []
        for dim, edge in enumerate(sequences):
            if edge.dtype is not input.dtype:
                raise RuntimeError(
                    "torch.histogramdd: input tensor and bins tensors should have the same "
                    f"dtype, but got input with dtype {input.dtype} and bins for dimension "
                    f"{dim} with dtype {edge.dtype}"
                )
            if edge.ndim != 1:
                raise RuntimeError(
                    "torch.histogramdd: bins tensor should have one dimension, but got "
                    f"{edge.ndim} dimensions in the bins tensor for dimension {dim}"
                )
            if edge.numel() == 0:
                raise RuntimeError(
                    "torch.histogramdd: bins tensor should have at least 1 element, but got 0 "
                    f"elements in the bins tensor for dimension {dim}"
                )
            edges.append(edge._data)
    arguments: list[Any] = [points]
    if weight is not None:
        if weight.dtype is not input.dtype:
            raise RuntimeError(
                "torch.histogramdd: if weight tensor is provided, input tensor and weight "
                f"tensor should have the same dtype, but got input({input.dtype}), and "
                f"weight({weight.dtype})"
            )
        expected = list(input._data.shape[:-1])
        if list(weight._data.shape or (1,)) != expected:
            raise RuntimeError(
                "torch.histogramdd: if weight tensor is provided it should have the same shape "
                "as the input tensor excluding its innermost dimension, but got input with "
                f"shape {list(input._data.shape)} and weight with shape "
                f"{list(weight._data.shape)}"
            )
        arguments.append(weight)
    given = not isinstance(bins, int) and not all(isinstance(b, int) for b in bins)
    if name == "histogram":
        hist, edge = Histogram.apply(*arguments, edges=tuple(edges), density=bool(density))
        return hist, (edge,)
    hist = HistogramddFromBins.apply(*arguments, edges=tuple(edges), density=bool(density),
                                     given=given)
    if given:
        return hist, tuple(bins)
    made = HistogramddBinEdges.apply(*arguments, edges=tuple(edges))
    return hist, tuple(made) if isinstance(made, tuple) else (made,)


@looped_op
def histogramdd(input: Tensor, bins: Any, *, range: Any = None, weight: Tensor | None = None,
                density: bool = False) -> Any:
    """The histogram of points (..., N) in N dims: `bins` an int or one int per dim (equal
    bins over `range`, [min0, max0, min1, ...], or the data's), or one edge tensor per dim."""
    _points("histogramdd", input)
    hist, edges = _histogramdd("histogramdd", input, bins, range, weight, density)
    return return_types.histogramdd((hist, edges))


@looped_op
def histogram(input: Tensor, bins: Any, *, range: Any = None, weight: Tensor | None = None,
              density: bool = False) -> Any:
    """(hist, bin_edges) of the elements of `input`: `bins` equal bins over `range` (the
    data's by default), or the edges given as a 1-d tensor."""
    if input.dtype.name not in ("float32", "float64"):  # PyTorch's kernel: float and double
        raise NotImplementedError(
            f'"histogramdd" not implemented for \'{scalar_type_name(input)}\'')
    if isinstance(bins, Tensor):
        if bins.ndim != 1:
            raise RuntimeError(
                "torch.histogramdd: bins tensor should have one dimension, but got "
                f"{bins.ndim} dimensions in the bins tensor for dimension 0"
            )
        bins = [bins]
    points = input.reshape(-1, 1)
    weight = None if weight is None else weight.reshape(-1)
    if weight is not None and weight.numel() != points.shape[0]:
        raise RuntimeError(
            "torch.histogramdd: if weight tensor is provided it should have the same shape as "
            f"the input tensor excluding its innermost dimension, but got input with shape "
            f"{[points.shape[0], 1]} and weight with shape {list(weight.shape)}"
        )
    bounds = None if range is None else tuple(range)
    hist, edges = _histogramdd("histogram", points, bins, bounds, weight, density)
    return return_types.histogram((hist, edges[0]))
