"""ONNX forms of reductions (ReduceX with keepdims), norms, softmax, cumulative sums, sorting
(TopK), k-th values."""

from __future__ import annotations

import math
from typing import Any

from .convert import (
    CONVERTERS,
    Converter,
    Unsupported,
    converts,
    dtype_of,
    onnx_type,
    operand,
    output,
    reduce_over,
)
from .graph import Graph, Record

_REDUCTIONS = {"Sum": "ReduceSum", "SumDim": "ReduceSum", "Mean": "ReduceMean",
               "MeanDim": "ReduceMean", "Amax": "ReduceMax", "Amin": "ReduceMin",
               "MaxAll": "ReduceMax", "MinAll": "ReduceMin", "Prod": "ReduceProd",
               "ProdDim": "ReduceProd", "Logsumexp": "ReduceLogSumExp"}


def _reduction(op: str) -> Converter:
    def convert(g: Graph, record: Record, other: Record | None) -> list[Any]:
        x = record.args[0]
        kwargs = record.kwargs
        axes = kwargs.get("axes", kwargs.get("axis"))
        if isinstance(axes, int):
            axes = (axes,)
        keepdim = int(bool(kwargs.get("keepdim", False)))
        value = operand(g, x, dtype_of(output(record)))
        if axes is None or (len(axes) == 0 and x.ndim):
            axes = tuple(range(x.ndim))
        if x.ndim == 0:
            return [g.node("Identity", [value])]
        if op == "ReduceSum" or g.opset >= 18:
            return [g.node(op, [value, g.ints(axes)], keepdims=keepdim)]
        return [g.node(op, [value], axes=list(axes), keepdims=keepdim)]

    return convert


for _name, _op in _REDUCTIONS.items():
    CONVERTERS[_name] = _reduction(_op)


@converts("Softmax", "LogSoftmax")
def _softmax(g: Graph, record: Record, other: Record | None) -> list[Any]:
    x = record.args[0]
    value = operand(g, x, dtype_of(output(record)))
    if x.ndim == 0:
        value = g.node("Unsqueeze", [value, g.ints([0])])
        return [g.node("Squeeze", [g.node(record.op, [value], axis=0), g.ints([0])])]
    axis = int(record.kwargs["dim"]) % x.ndim
    if g.opset >= 13 or axis == x.ndim - 1:
        return [g.node(record.op, [value], axis=axis)]
    # Before opset 13, Softmax(axis) normalizes over all the dims from axis on (the input
    # read as a matrix): the dim goes last, and back.
    order = [*range(axis), *range(axis + 1, x.ndim), axis]
    back = [order.index(position) for position in range(x.ndim)]
    moved = g.node("Transpose", [value], perm=order)
    return [g.node("Transpose", [g.node(record.op, [moved], axis=x.ndim - 1)], perm=back)]


@converts("MaxDim", "MinDim")
def _max_dim(g: Graph, record: Record, other: Record | None) -> list[Any]:
    x = record.args[0]
    if x.ndim == 0:  # the value itself, at index 0
        return [g.node("Identity", [g.value(x)]), g.constant_int(0)]
    axis = int(record.kwargs["dim"]) % x.ndim
    keepdim = int(bool(record.kwargs["keepdim"]))
    value = g.value(x)
    reduce, arg = ("ReduceMax", "ArgMax") if record.op == "MaxDim" else ("ReduceMin", "ArgMin")
    if g.opset >= 18:
        values = g.node(reduce, [value, g.ints([axis])], keepdims=keepdim)
    else:
        values = g.node(reduce, [value], axes=[axis], keepdims=keepdim)
    return [values, g.node(arg, [value], axis=axis, keepdims=keepdim)]


@converts("Var", "Std", "VarMean", "StdMean")
def _var(g: Graph, record: Record, other: Record | None) -> list[Any]:
    """sum((x - mean)^2) / (n - correction), in the output's dtype (std its square root;
    var_mean and std_mean with the mean too)."""
    x = record.args[0]
    dtype = dtype_of(output(record))
    axes = record.kwargs["axes"]
    axes = tuple(range(x.ndim)) if axes is None else tuple(axis % x.ndim for axis in axes)
    keepdim = int(bool(record.kwargs["keepdim"]))
    value = operand(g, x, dtype)
    mean = g.node("ReduceMean", [value], axes=list(axes), keepdims=1) if g.opset < 18 else \
        g.node("ReduceMean", [value, g.ints(axes)], keepdims=1)
    centered = g.node("Sub", [value, mean])
    total = g.node("ReduceSum", [g.node("Mul", [centered, centered]), g.ints(axes)],
                   keepdims=keepdim)
    count = math.prod(int(x.shape[axis]) for axis in axes)
    out = g.node("Div", [total, g.scalar(count - record.kwargs["correction"], dtype)])
    if record.op in ("Std", "StdMean"):
        out = g.node("Sqrt", [out])
    if record.op in ("VarMean", "StdMean"):
        return [out, mean if keepdim else g.node("Squeeze", [mean, g.ints(axes)])]
    return [out]


def vector_norm(g: Graph, value: str, order: float, axes: tuple[int, ...], keepdim: int,
                dtype: str) -> str:
    """(sum |x|^p)^(1/p) over `axes`: ReduceL1 and ReduceL2 for 1 and 2, the largest or
    smallest |x| for +-inf, the count of nonzeros for 0."""
    if order == 1:
        return reduce_over(g, "ReduceL1", value, axes, keepdim)
    if order == 2:
        return reduce_over(g, "ReduceL2", value, axes, keepdim)
    size = g.node("Abs", [value])
    if math.isinf(order):
        return reduce_over(g, "ReduceMax" if order > 0 else "ReduceMin", size, axes, keepdim)
    if order == 0:
        nonzero = g.node("Cast", [g.node("Not", [g.node("Equal", [size, g.scalar(0, dtype)])])],
                         to=onnx_type(dtype))
        return reduce_over(g, "ReduceSum", nonzero, axes, keepdim)
    powered = g.node("Pow", [size, g.scalar(order, dtype)])
    return g.node("Pow", [reduce_over(g, "ReduceSum", powered, axes, keepdim),
                          g.scalar(1 / order, dtype)])


@converts("LinalgVectorNorm", "NormAll", "NormDims")
def _vector_norm(g: Graph, record: Record, other: Record | None) -> list[Any]:
    x = record.args[0]
    dtype = dtype_of(output(record))
    order = float(record.kwargs["ord"])
    axes = record.kwargs["axes"]
    if x.ndim == 0:
        return [g.node("Abs", [operand(g, x, dtype)])] if order else [g.node(
            "Cast", [g.node("Not", [g.node("Equal", [operand(g, x, dtype),
                                                     g.scalar(0, dtype)])])],
            to=onnx_type(dtype))]
    axes = tuple(range(x.ndim)) if axes is None else tuple(axis % x.ndim for axis in axes)
    keepdim = int(bool(record.kwargs["keepdim"]))
    return [vector_norm(g, operand(g, x, dtype), order, axes, keepdim, dtype)]


@converts("Renorm")
def _renorm(g: Graph, record: Record, other: Record | None) -> list[Any]:
    """Each slice along dim scaled by maxnorm / (norm + 1e-7) where its p-norm exceeds
    maxnorm (PyTorch's)."""
    x = record.args[0]
    dtype = dtype_of(output(record))
    dim = int(record.kwargs["dim"]) % x.ndim
    axes = tuple(axis for axis in range(x.ndim) if axis != dim)
    value = operand(g, x, dtype)
    maxnorm = g.scalar(record.kwargs["maxnorm"], dtype)
    if not axes:
        norm = g.node("Abs", [value])
    else:
        norm = vector_norm(g, value, float(record.kwargs["p"]), axes, 1, dtype)
    factor = g.node("Where", [g.node("Greater", [norm, maxnorm]),
                              g.node("Div", [maxnorm, g.node("Add", [norm, g.scalar(1e-7,
                                                                                    dtype)])]),
                              g.scalar(1, dtype)])
    return [g.node("Mul", [value, factor])]


@converts("Cdist")
def _cdist(g: Graph, record: Record, other: Record | None) -> list[Any]:
    """The p-norm of each row of x1 minus each row of x2: (..., P, 1, M) - (..., 1, R, M)
    reduced over M."""
    x1, x2 = record.args[:2]
    dtype = dtype_of(output(record))
    first = g.node("Unsqueeze", [operand(g, x1, dtype), g.ints([x1.ndim - 1])])
    second = g.node("Unsqueeze", [operand(g, x2, dtype), g.ints([x2.ndim - 2])])
    difference = g.node("Sub", [first, second])
    ndim = max(x1.ndim, x2.ndim) + 1
    return [vector_norm(g, difference, float(record.kwargs["p"]), (ndim - 1,), 0, dtype)]


@converts("Pdist")
def _pdist(g: Graph, record: Record, other: Record | None) -> list[Any]:
    """The p-norm of row i minus row j for each pair i < j, in PyTorch's order."""
    x = record.args[0]
    dtype = dtype_of(output(record))
    rows = int(x.shape[0])
    if other is not None and other.args[0].shape[0] != rows:
        raise Unsupported("pairs of a dynamic number of rows")
    pairs = [(i, j) for i in range(rows) for j in range(i + 1, rows)]
    value = operand(g, x, dtype)
    first = g.node("Gather", [value, g.ints([i for i, _ in pairs])], axis=0)
    second = g.node("Gather", [value, g.ints([j for _, j in pairs])], axis=0)
    return [vector_norm(g, g.node("Sub", [first, second]), float(record.kwargs["p"]), (1,), 0,
                        dtype)]


@converts("Dist")
def _dist(g: Graph, record: Record, other: Record | None) -> list[Any]:
    """The p-norm of a - b over every element."""
    dtype = dtype_of(output(record))
    a, b = (operand(g, item, dtype) for item in record.args[:2])
    ndim = max(item.ndim for item in record.args[:2])
    difference = g.node("Sub", [a, b])
    if ndim == 0:
        difference = g.node("Reshape", [difference, g.ints([1])])
    axes = tuple(range(max(ndim, 1)))
    return [vector_norm(g, difference, float(record.kwargs["p"]), axes, 0, dtype)]


@converts("Aminmax")
def _aminmax(g: Graph, record: Record, other: Record | None) -> list[Any]:
    x = record.args[0]
    dim, keepdim = record.kwargs["dim"], int(bool(record.kwargs["keepdim"]))
    value = g.value(x)
    if x.ndim == 0:
        return [g.node("Identity", [value]), g.node("Identity", [value])]
    axes = tuple(range(x.ndim)) if dim is None else (int(dim) % x.ndim,)
    return [reduce_over(g, "ReduceMin", value, axes, keepdim),
            reduce_over(g, "ReduceMax", value, axes, keepdim)]


@converts("Nansum")
def _nansum(g: Graph, record: Record, other: Record | None) -> list[Any]:
    x = record.args[0]
    dtype = dtype_of(output(record))
    value = operand(g, x, dtype)
    if "float" in dtype:
        value = g.node("Where", [g.node("IsNaN", [value]), g.scalar(0, dtype), value])
    axes = record.kwargs["axes"]
    if x.ndim == 0:
        return [g.node("Identity", [value])]
    axes = tuple(range(x.ndim)) if not axes else tuple(axis % x.ndim for axis in axes)
    return [reduce_over(g, "ReduceSum", value, axes, int(bool(record.kwargs["keepdim"])))]


@converts("Kthvalue")
def _kthvalue(g: Graph, record: Record, other: Record | None) -> list[Any]:
    """The k smallest along the dim (TopK), the last of them. (Among equal values ONNX's
    TopK may pick another index than PyTorch.)"""
    x = record.args[0]
    k = int(record.kwargs["k"])
    value = g.value(x)
    if x.ndim == 0:
        return [g.node("Identity", [value]), g.node("Cast", [g.node(
            "Mul", [value, g.scalar(0, dtype_of(x))])], to=onnx_type("int64"))]
    axis = int(record.kwargs["dim"]) % x.ndim
    values, indices = g.node("TopK", [value, g.ints([k])], outputs=2, axis=axis, largest=0,
                             sorted=1)
    keepdim = bool(record.kwargs["keepdim"])
    picked = []
    for item in (values, indices):
        item = g.node("Gather", [item, g.ints([k - 1])], axis=axis)
        picked.append(item if keepdim else g.node("Squeeze", [item, g.ints([axis])]))
    return picked


@converts("Cumsum")
def _cumsum(g: Graph, record: Record, other: Record | None) -> list[Any]:
    x = record.args[0]
    value = operand(g, x, dtype_of(output(record)))
    if x.ndim == 0:
        return [g.node("Identity", [value])]
    return [g.node("CumSum", [value, g.constant_int(int(record.kwargs["dim"]) % x.ndim)],
                   reverse=int(bool(record.kwargs.get("reverse", False))))]


class _Triangle:
    """A scan along `axis` as a reduction: the input spread to (..., i, j, ...) over the
    positions j <= i of each i (the others set to the reduction's identity), reduced along j.
    It costs n^2 per scanned slice, where ONNX has no scan of its own (its Scan would run
    element by element)."""

    def __init__(self, g: Graph, record: Record, other: Record | None) -> None:
        x = record.args[0]
        self.axis = int(record.kwargs["dim"]) % max(x.ndim, 1)
        self.size = int(x.shape[self.axis]) if x.ndim else 1
        if other is not None and int(other.args[0].shape[self.axis]) != self.size:
            raise Unsupported("a dynamic size along the scanned dim")
        self.g, self.dtype = g, dtype_of(output(record))
        self.value = operand(g, x, self.dtype)
        trailing = x.ndim - self.axis - 1
        ones = g.node("Expand", [g.scalar(True, "bool"), g.ints([self.size, self.size])])
        self.keep = g.node("Reshape", [g.node("Trilu", [ones, g.constant_int(0)], upper=0),
                                       g.ints([self.size, self.size] + [1] * trailing)])

    def masked(self, value: str, identity: float) -> str:
        """`value` spread (value's shape is the input's), j > i set to `identity`."""
        spread = self.g.node("Unsqueeze", [value, self.g.ints([self.axis])])
        return self.g.node("Where", [self.keep, spread, self.g.scalar(identity, self.dtype)])

    def reduce(self, kind: str, value: str) -> str:
        return reduce_over(self.g, kind, value, (self.axis + 1,), 0)


@converts("Cumprod", "Logcumsumexp")
def _cumulative_reduction(g: Graph, record: Record, other: Record | None) -> list[Any]:
    x = record.args[0]
    if x.ndim == 0 or 0 in x.shape:
        return [g.node("Identity", [operand(g, x, dtype_of(output(record)))])]
    scan = _Triangle(g, record, other)
    if record.op == "Cumprod":
        return [scan.reduce("ReduceProd", scan.masked(scan.value, 1.0))]
    return [scan.reduce("ReduceLogSumExp", scan.masked(scan.value, float("-inf")))]


@converts("Cummax", "Cummin")
def _cumulative_extreme(g: Graph, record: Record, other: Record | None) -> list[Any]:
    """The running max (min) and the index where it was last reached; once a NaN is met the
    value is NaN and the index the last NaN's (PyTorch's rule)."""
    x = record.args[0]
    if x.ndim == 0 or 0 in x.shape:
        value = operand(g, x, dtype_of(output(record)))
        return [g.node("Identity", [value]), g.node("Cast", [g.node(
            "Mul", [value, g.scalar(0, dtype_of(x))])], to=onnx_type("int64"))]
    scan = _Triangle(g, record, other)
    largest = record.op == "Cummax"
    reduce, arg = ("ReduceMax", "ArgMax") if largest else ("ReduceMin", "ArgMin")
    if "float" not in scan.dtype:
        masked = scan.masked(scan.value, _extreme(scan.dtype, not largest))
        return [scan.reduce(reduce, masked),
                g.node(arg, [masked], axis=scan.axis + 1, keepdims=0, select_last_index=1)]
    nan = g.node("IsNaN", [scan.value])
    clean = g.node("Where", [nan, g.scalar(float("-inf") if largest else float("inf"),
                                           scan.dtype), scan.value])
    masked = scan.masked(clean, float("-inf") if largest else float("inf"))
    values = scan.reduce(reduce, masked)
    indices = g.node(arg, [masked], axis=scan.axis + 1, keepdims=0, select_last_index=1)
    nans = scan.masked(g.node("Cast", [nan], to=onnx_type(scan.dtype)), 0.0)
    seen = g.node("Cast", [scan.reduce("ReduceMax", nans)], to=onnx_type("bool"))
    last_nan = g.node("ArgMax", [nans], axis=scan.axis + 1, keepdims=0, select_last_index=1)
    return [g.node("Where", [seen, g.scalar(float("nan"), scan.dtype), values]),
            g.node("Where", [seen, last_nan, indices])]


def _extreme(dtype: str, largest: bool) -> int:
    """The largest (smallest) value of an integer dtype: the identity of min (max)."""
    if dtype == "bool":
        return int(largest)
    bits = int(dtype.removeprefix("u").removeprefix("int"))
    if dtype.startswith("u"):
        return 2**bits - 1 if largest else 0
    return 2**(bits - 1) - 1 if largest else -(2**(bits - 1))


@converts("Sort", "SortStable", "Topk")
def _top_k(g: Graph, record: Record, other: Record | None) -> list[Any]:
    x = record.args[0]
    if x.ndim == 0:  # the value itself, at index 0
        return [g.node("Identity", [g.value(x)]), g.constant_int(0)]
    axis = int(record.kwargs["dim"]) % x.ndim
    if record.op == "Topk":
        count, largest = int(record.kwargs["k"]), int(bool(record.kwargs["largest"]))
    else:  # (ties keep no particular order in ONNX's TopK)
        count, largest = int(x.shape[axis]), int(bool(record.kwargs["descending"]))
    values, indices = g.node("TopK", [g.value(x), g.ints([count])], outputs=2, axis=axis,
                             largest=largest, sorted=1)
    return [values, indices]


@converts("Trace")
def _trace(g: Graph, record: Record, other: Record | None) -> list[Any]:
    """The sum of every (cols + 1)-th element of the flattened matrix from the first."""
    x = record.args[0]
    rows, cols = int(x.shape[0]), int(x.shape[1])
    positions = [index * (cols + 1) for index in range(min(rows, cols))]
    flat = g.node("Reshape", [operand(g, x, dtype_of(output(record))), g.ints([-1])])
    picked = g.node("Gather", [flat, g.ints(positions)], axis=0)
    return [g.node("ReduceSum", [picked, g.ints([0])], keepdims=0)]


@converts("LinalgDet")
def _det(g: Graph, record: Record, other: Record | None) -> list[Any]:
    return [g.node("Det", [operand(g, record.args[0], dtype_of(output(record)))])]


@converts("MedianAll", "NanmedianAll")
def _median_all(g: Graph, record: Record, other: Record | None) -> list[Any]:
    """The lower median of all elements: the k-th smallest by TopK, k = (n - 1) // 2 + 1 with
    n the count of elements (of non-NaN elements for nanmedian, the NaNs sorted last), NaN
    when any element is NaN (when all are, for nanmedian). (With a dim, the index PyTorch
    names among equal elements is its selection algorithm's, which TopK does not follow: not
    exported.)"""
    x = record.args[0]
    if not x.numel():
        raise Unsupported("an empty input")
    dtype = dtype_of(output(record))
    flat = g.node("Reshape", [operand(g, x, dtype), g.ints([-1])])
    one = g.ints([1])
    if "float" not in dtype:
        count = g.node("Reshape", [g.node("Size", [flat]), one])
        nan = None
    else:
        nan = g.node("IsNaN", [flat])
        if record.op == "NanmedianAll":
            count = reduce_over(g, "ReduceSum", g.node("Cast", [g.node("Not", [nan])],
                                                   to=onnx_type("int64")), (0,), 1)
            flat = g.node("Where", [nan, g.scalar(float("inf"), dtype), flat])
        else:
            count = g.node("Reshape", [g.node("Size", [flat]), one])
    k = g.node("Add", [g.node("Div", [g.node("Sub", [count, one]), g.ints([2])]), one])
    values, _ = g.node("TopK", [flat, k], outputs=2, axis=0, largest=0, sorted=1)
    median = g.node("Reshape", [g.node("Gather", [values, g.node("Sub", [k, one])], axis=0),
                                g.ints([])])
    if nan is None:
        return [median]
    if record.op == "NanmedianAll":
        undefined = g.node("Equal", [count, g.ints([0])])
    else:
        flags = g.node("Cast", [nan], to=onnx_type("int64"))
        undefined = reduce_over(g, "ReduceMax", flags, (0,), 1)
        undefined = g.node("Cast", [undefined], to=onnx_type("bool"))
    undefined = g.node("Reshape", [undefined, g.ints([])])
    return [g.node("Where", [undefined, g.scalar(float("nan"), dtype), median])]
