"""ONNX forms of losses: nll_loss (and so cross_entropy's last step) as ONNX's
NegativeLogLikelihoodLoss, whose weighted mean divides by the summed weights as PyTorch's; the
elementwise losses (mse, huber, smooth_l1, soft_margin, binary_cross_entropy with and without
logits) written out in PyTorch's formulas, then reduced."""

from __future__ import annotations

from typing import Any

from .composite import log1p
from .convert import Unsupported, converts, dtype_of, onnx_type, operand, output, reduce_over
from .graph import Graph, Record


@converts("NllLoss", "NllLoss2d")
def _nll_loss(g: Graph, record: Record, other: Record | None) -> list[Any]:
    x, target, weight = record.args
    dtype = dtype_of(output(record))
    inputs = [operand(g, x, dtype), operand(g, target, "int64")]
    if x.ndim < 2:  # an unbatched (C,) input: a batch of one
        inputs = [g.node("Unsqueeze", [inputs[0], g.ints([0])]),
                  g.node("Unsqueeze", [inputs[1], g.ints([0])])]
    if weight is not None:
        inputs.append(operand(g, weight, dtype))
    out = g.node("NegativeLogLikelihoodLoss", inputs, reduction=record.kwargs["reduction"],
                 ignore_index=int(record.kwargs["ignore_index"]))
    if x.ndim < 2 and record.kwargs["reduction"] == "none":
        out = g.node("Squeeze", [out, g.ints([0])])
    return [out]


def _reduce(g: Graph, loss: str, record: Record) -> list[Any]:
    reduction = record.kwargs["reduction"]
    if reduction == "none":
        return [loss]
    if reduction not in ("mean", "sum"):
        raise Unsupported(f"reduction={reduction!r}")
    flat = g.node("Reshape", [loss, g.ints([-1])])
    total = g.node("ReduceSum", [flat, g.ints([0])], keepdims=0)
    if reduction == "sum":
        return [total]
    # the sum over the count (ReduceMean of nothing is 0 in onnxruntime; PyTorch's is NaN)
    count = g.node("Cast", [g.node("Size", [flat])], to=onnx_type(dtype_of(output(record))))
    return [g.node("Div", [total, count])]


def _pair(g: Graph, record: Record) -> tuple[str, str, str]:
    dtype = dtype_of(output(record))
    if "float" not in dtype:
        raise Unsupported(f"dtype {dtype}")
    x, y = (operand(g, item, dtype) for item in record.args[:2])
    return x, y, dtype


@converts("MseLoss")
def _mse_loss(g: Graph, record: Record, other: Record | None) -> list[Any]:
    x, y, _ = _pair(g, record)
    difference = g.node("Sub", [x, y])
    return _reduce(g, g.node("Mul", [difference, difference]), record)


@converts("HuberLoss", "SmoothL1Loss")
def _huber_loss(g: Graph, record: Record, other: Record | None) -> list[Any]:
    """|d| < delta: 0.5 d^2 (smooth_l1: / beta), else delta (|d| - 0.5 delta) (smooth_l1:
    |d| - 0.5 beta); smooth_l1 with beta 0 is |d|."""
    x, y, dtype = _pair(g, record)
    parameter = float(record.kwargs["parameter"])
    size = g.node("Abs", [g.node("Sub", [x, y])])
    if record.op == "SmoothL1Loss" and parameter == 0:
        return _reduce(g, size, record)
    half = g.scalar(0.5, dtype)
    square = g.node("Mul", [half, g.node("Mul", [size, size])])
    linear = g.node("Sub", [size, g.scalar(0.5 * parameter, dtype)])
    if record.op == "HuberLoss":
        linear = g.node("Mul", [linear, g.scalar(parameter, dtype)])
    else:
        square = g.node("Div", [square, g.scalar(parameter, dtype)])
    small = g.node("Less", [size, g.scalar(parameter, dtype)])
    return _reduce(g, g.node("Where", [small, square, linear]), record)


@converts("SoftMarginLoss")
def _soft_margin_loss(g: Graph, record: Record, other: Record | None) -> list[Any]:
    """log(1 + exp(-y x))."""
    x, y, dtype = _pair(g, record)
    exponent = g.node("Exp", [g.node("Neg", [g.node("Mul", [x, y])])])
    return _reduce(g, log1p(g, exponent, dtype), record)


@converts("BinaryCrossEntropy")
def _binary_cross_entropy(g: Graph, record: Record, other: Record | None) -> list[Any]:
    """(y - 1) log(1 - x) - y log(x), each log at least -100 (PyTorch's clamp), times the
    weight."""
    x, y, dtype = _pair(g, record)
    weight = record.args[2] if len(record.args) > 2 else None
    floor = g.scalar(-100, dtype)
    one = g.scalar(1, dtype)
    log_x = g.node("Max", [g.node("Log", [x]), floor])
    log_rest = g.node("Max", [g.node("Log", [g.node("Sub", [one, x])]), floor])
    loss = g.node("Sub", [g.node("Mul", [g.node("Sub", [y, one]), log_rest]),
                          g.node("Mul", [y, log_x])])
    if weight is not None:
        loss = g.node("Mul", [loss, operand(g, weight, dtype)])
    return _reduce(g, loss, record)


@converts("BinaryCrossEntropyWithLogits")
def _bce_with_logits(g: Graph, record: Record, other: Record | None) -> list[Any]:
    """(1 - y) z + (1 + (pos_weight - 1) y) (log1p(exp(-|z|)) + max(-z, 0)), times the
    weight (PyTorch's stable form)."""
    z, y, dtype = _pair(g, record)
    weight, pos_weight = record.args[2], record.args[3]
    one = g.scalar(1, dtype)
    softplus = g.node("Add", [log1p(g, g.node("Exp", [g.node("Neg", [g.node("Abs", [z])])]),
                                    dtype),
                              g.node("Max", [g.node("Neg", [z]), g.scalar(0, dtype)])])
    if pos_weight is not None:
        scale = g.node("Add", [one, g.node("Mul", [g.node("Sub", [operand(g, pos_weight, dtype),
                                                                  one]), y])])
        softplus = g.node("Mul", [scale, softplus])
    loss = g.node("Add", [g.node("Mul", [g.node("Sub", [one, y]), z]), softplus])
    if weight is not None:
        loss = g.node("Mul", [loss, operand(g, weight, dtype)])
    return _reduce(g, loss, record)


def _rows(g: Graph, record: Record, dtype: str) -> tuple[str, int]:
    """The input as (samples, classes) rows, and the count of classes."""
    x = record.args[0]
    classes = int(x.shape[-1]) if x.ndim else 1
    return g.node("Reshape", [operand(g, x, dtype), g.ints([-1, classes])]), classes


def _per_sample(g: Graph, loss: str, record: Record) -> list[Any]:
    """One loss per row, reduced; unreduced, 0-d for a single unbatched sample."""
    if record.kwargs["reduction"] == "none" and record.args[0].ndim < 2:
        return [g.node("Reshape", [loss, g.ints([])])]
    return _reduce(g, loss, record)


@converts("MultiMarginLoss")
def _multi_margin_loss(g: Graph, record: Record, other: Record | None) -> list[Any]:
    """sum over classes i != y of max(0, margin - x[y] + x[i])^p (times weight[y]) / C."""
    _, target, weight = record.args
    dtype = dtype_of(output(record))
    rows, classes = _rows(g, record, dtype)
    labels = g.node("Reshape", [g.value(target), g.ints([-1, 1])])
    z = g.node("Add", [g.node("Sub", [rows, g.node("GatherElements", [rows, labels], axis=1)]),
                       g.scalar(record.kwargs["margin"], dtype)])
    others = g.node("Not", [g.node("Equal", [g.node("Unsqueeze", [
        g.ints(range(classes)), g.ints([0])]), labels])])
    terms = g.node("Where", [g.node("And", [g.node("Greater", [z, g.scalar(0, dtype)]), others]),
                             z, g.scalar(0, dtype)])
    if record.kwargs["p"] == 2:
        terms = g.node("Mul", [terms, terms])
    if weight is not None:
        terms = g.node("Mul", [terms, g.node("Gather", [operand(g, weight, dtype), labels],
                                             axis=0)])
    terms = g.node("Div", [terms, g.scalar(classes, dtype)])
    return _per_sample(g, g.node("ReduceSum", [terms, g.ints([1])], keepdims=0), record)


@converts("MultilabelMarginLoss")
def _multilabel_margin_loss(g: Graph, record: Record, other: Record | None) -> list[Any]:
    """For each sample, sum over its labels k (its target row up to the first -1) and the
    classes d that are not labels of max(0, 1 - (x[k] - x[d])), over C: every label slot at
    once, as (samples, slot, class), the slots after the row's first -1 masked."""
    target = record.args[1]
    dtype = dtype_of(output(record))
    rows, classes = _rows(g, record, dtype)
    labels = g.node("Reshape", [g.value(target), g.ints([-1, classes])])
    ended = g.node("CumSum", [g.node("Cast", [g.node("Less", [labels, g.constant_int(0)])],
                                     to=onnx_type("int64")), g.constant_int(1)])
    kept = g.node("Equal", [ended, g.constant_int(0)])  # (samples, slot)
    safe = g.node("Where", [kept, labels, g.constant_int(0)])
    ids = g.node("Reshape", [g.ints(range(classes)), g.ints([1, 1, classes])])
    hits = g.node("And", [g.node("Equal", [g.node("Unsqueeze", [safe, g.ints([2])]), ids]),
                          g.node("Unsqueeze", [kept, g.ints([2])])])
    is_target = g.node("Cast", [reduce_over(g, "ReduceMax", g.node(
        "Cast", [hits], to=onnx_type("int32")), [1], 1)],
                       to=onnx_type("bool"))  # (samples, 1, class)
    picked = g.node("Unsqueeze", [g.node("GatherElements", [rows, safe], axis=1), g.ints([2])])
    z = g.node("Add", [g.node("Sub", [g.node("Unsqueeze", [rows, g.ints([1])]), picked]),
                       g.scalar(1, dtype)])
    mask = g.node("And", [g.node("And", [g.node("Greater", [z, g.scalar(0, dtype)]),
                                         g.node("Unsqueeze", [kept, g.ints([2])])]),
                          g.node("Not", [is_target])])
    total = g.node("ReduceSum", [g.node("Where", [mask, z, g.scalar(0, dtype)]),
                                 g.ints([1, 2])], keepdims=0)
    return _per_sample(g, g.node("Div", [total, g.scalar(classes, dtype)]), record)
