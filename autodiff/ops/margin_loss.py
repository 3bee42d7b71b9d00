"""Margin and embedding losses: margin_ranking, hinge_embedding, soft_margin,
multilabel_soft_margin, cosine_embedding, multi_margin, multilabel_margin, triplet_margin and
triplet_margin_with_distance.

Where PyTorch composes a loss of other ops (in C++ or in Python) so do we, in its order, so the
nodes are its nodes; soft_margin, multi_margin and multilabel_margin are nodes of their own, as in
PyTorch, with backwards in Tensor ops (twice differentiable, where PyTorch's margin losses are
not). Differences from PyTorch: soft_margin computes log(1 + exp(-y x)) without overflow
(PyTorch's kernel gives inf once exp overflows); multi_margin and multilabel_margin of an empty
batch have the mean nan, as every other loss, where PyTorch returns uninitialised memory.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .. import dtypes
from ..autocast_state import autocast_op
from ..creation import zeros_like
from ..function import Function
from ..jvp_rules import jvp_from_backward
from ..saved_fields import REDUCTIONS, Computed, fields, reduction, saved, value
from ..tensor import Tensor, _wrap
from ._checks import same_device
from ._promotion import check_broadcast
from .activation import logsigmoid, sigmoid
from .arithmetic import AddNumber, SubNumber
from .distance import pairwise_distance
from .loss import _check_not_differentiable, _reduce, _reduction
from .selection import minimum, where

_EPSILON = 1e-12  # cosine_embedding_loss's guard on the squared norms, as PyTorch's


def _apply_reduction(loss: Tensor, reduction: str) -> Tensor:
    """PyTorch's apply_loss_reduction: a mean or sum node over the unreduced loss."""
    if reduction == "mean":
        return loss.mean()
    return loss.sum() if reduction == "sum" else loss


# ----------------------------------------------------------------------------- composites
@autocast_op("margin_ranking_loss")
def margin_ranking_loss(input1: Tensor, input2: Tensor, target: Tensor, margin: float = 0,
                        size_average: Any = None, reduce: Any = None,
                        reduction: str = "mean") -> Tensor:
    """max(0, -target (input1 - input2) + margin): target 1 wants input1 ranked higher."""
    reduction = _reduction(size_average, reduce, reduction)
    dims = (input1._data.ndim, input2._data.ndim, target._data.ndim)
    if dims[0] != dims[1] or dims[0] != dims[2]:
        raise RuntimeError(
            "margin_ranking_loss : All input tensors should have same dimension but got sizes: "
            f"input1: {input1.shape}, input2: {input2.shape}, target: {target.shape} ")
    loss = AddNumber.apply(-target * (input1 - input2), float(margin)).clamp_min(0)
    return _apply_reduction(loss, reduction)


@autocast_op("hinge_embedding_loss")
def hinge_embedding_loss(input: Tensor, target: Tensor, margin: float = 1.0,
                         size_average: Any = None, reduce: Any = None,
                         reduction: str = "mean") -> Tensor:
    """input where target is 1, max(0, margin - input) where it is -1 (both elsewhere)."""
    reduction = _reduction(size_average, reduce, reduction)
    check_broadcast(target._data.shape, input._data.shape)
    zeros = zeros_like(input)
    margin_clamp = (margin - input).clamp_min(0)
    output_margin = where(target != 1, margin_clamp, zeros)
    output_self = where(target != -1, input, zeros)
    return _apply_reduction(output_margin + output_self, reduction)


@autocast_op("cosine_embedding_loss")
def cosine_embedding_loss(input1: Tensor, input2: Tensor, target: Tensor, margin: float = 0,
                          size_average: Any = None, reduce: Any = None,
                          reduction: str = "mean") -> Tensor:
    """1 - cos(x1, x2) where target is 1, max(0, cos(x1, x2) - margin) where it is -1."""
    reduction = _reduction(size_average, reduce, reduction)
    target_dim = target._data.ndim
    if target_dim not in (0, 1):
        raise RuntimeError("0D or 1D target tensor expected, multi-target not supported")
    sizes = f"{list(input1._data.shape)} and {list(input2._data.shape)}"
    if target_dim == 1 and (input1._data.ndim != 2 or input2._data.ndim != 2):
        raise RuntimeError(
            f"1D target tensor expects 2D input tensors, but found inputs with sizes {sizes}.")
    if target_dim == 0 and (input1._data.ndim != 1 or input2._data.ndim != 1):
        raise RuntimeError(
            f"0D target tensor expects 1D input tensors, but found inputs with sizes {sizes}.")
    product = (input1 * input2).sum(target_dim)
    squared1 = AddNumber.apply((input1 * input1).sum(target_dim), _EPSILON)
    squared2 = AddNumber.apply((input2 * input2).sum(target_dim), _EPSILON)
    cos = product / (squared1 * squared2).sqrt()
    zeros = zeros_like(cos)
    positive = 1 - cos
    negative = SubNumber.apply(cos, float(margin)).clamp_min(0)
    output = where(target == 1, positive, zeros) + where(target == -1, negative, zeros)
    return _apply_reduction(output, reduction)


def multilabel_soft_margin_loss(input: Tensor, target: Tensor, weight: Tensor | None = None,
                                size_average: Any = None, reduce: Any = None,
                                reduction: str = "mean") -> Tensor:
    """Binary cross-entropy of sigmoid(input) against 0/1 targets, averaged over the classes
    (the last dim), then reduced over the samples."""
    if size_average is not None or reduce is not None:
        reduction = _reduction(size_average, reduce, reduction)
    loss = -(target * logsigmoid(input) + (1 - target) * logsigmoid(-input))
    if weight is not None:
        loss = loss * weight
    class_dim = input.dim() - 1
    loss = loss.sum(class_dim) / input._data.shape[class_dim]
    if reduction == "none":
        return loss
    if reduction == "mean":
        return loss.mean()
    if reduction == "sum":
        return loss.sum()
    raise ValueError(f"{reduction} is not valid")


@autocast_op("triplet_margin_loss")
def triplet_margin_loss(anchor: Tensor, positive: Tensor, negative: Tensor, margin: float = 1.0,
                        p: float = 2, eps: float = 1e-6, swap: bool = False,
                        size_average: Any = None, reduce: Any = None,
                        reduction: str = "mean") -> Tensor:
    """max(0, d(a, p) - d(a, n) + margin) with d the pairwise p-norm distance; with swap, d(a,
    n) is min(d(a, n), d(p, n))."""
    reduction = _reduction(size_average, reduce, reduction)
    if margin <= 0:
        raise ValueError(f"margin must be greater than 0, got {margin}")
    _check_triplet_dims(anchor, positive, negative)
    distance_positive = pairwise_distance(anchor, positive, p, eps)
    distance_negative = pairwise_distance(anchor, negative, p, eps)
    if swap:
        distance_negative = minimum(distance_negative,
                                    pairwise_distance(positive, negative, p, eps))
    loss = (AddNumber.apply(distance_positive, float(margin)) - distance_negative).clamp_min(0)
    return _apply_reduction(loss, reduction)


def _check_triplet_dims(anchor: Tensor, positive: Tensor, negative: Tensor) -> None:
    a, p, n = anchor._data.ndim, positive._data.ndim, negative._data.ndim
    if not a == p == n:
        raise RuntimeError(
            "The anchor, positive, and negative tensors are expected to have the same number of "
            f"dimensions, but got: anchor {a}D, positive {p}D, and negative {n}D inputs")


def triplet_margin_with_distance_loss(
    anchor: Tensor, positive: Tensor, negative: Tensor, *,
    distance_function: Callable[[Tensor, Tensor], Tensor] | None = None, margin: float = 1.0,
    swap: bool = False, reduction: str = "mean",
) -> Tensor:
    """triplet_margin_loss with any distance (pairwise_distance by default)."""
    if reduction not in ("mean", "sum", "none"):
        raise ValueError(f"{reduction} is not a valid value for reduction")
    if margin <= 0:
        raise ValueError(f"margin must be greater than 0, got {margin}")
    _check_triplet_dims(anchor, positive, negative)
    if distance_function is None:
        distance_function = pairwise_distance
    distance_positive = distance_function(anchor, positive)
    distance_negative = distance_function(anchor, negative)
    if swap:
        distance_negative = minimum(distance_negative, distance_function(positive, negative))
    loss = (margin + distance_positive - distance_negative).clamp_min(0)
    if reduction == "sum":
        return loss.sum()
    return loss.mean() if reduction == "mean" else loss


# ----------------------------------------------------------------------------- soft margin
class SoftMarginLoss(Function):
    """log(1 + exp(-y x)), computed as softplus(-y x)."""

    node_name = "SoftMarginLossBackward0"
    saved_fields = fields(self=saved(0), target=saved(1), reduction=reduction())

    jvp = jvp_from_backward

    @staticmethod
    def forward(ctx: Any, x: Any, y: Any, *, reduction: str) -> Any:
        backend = ctx.backend
        ctx.save_for_backward(x, y)
        loss = backend.softplus(backend.negative(backend.multiply(x, y)))
        ctx.reduction, ctx.count = reduction, loss.size
        return _reduce(backend, loss, reduction)

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> tuple[Tensor, None]:
        x, y = ctx.saved_tensors
        if ctx.reduction == "mean" and ctx.count:
            grad = grad / ctx.count
        return -y * sigmoid(-(x * y)) * grad, None


@autocast_op("soft_margin_loss")
def soft_margin_loss(input: Tensor, target: Tensor, size_average: Any = None,
                     reduce: Any = None, reduction: str = "mean") -> Tensor:
    """The two-class logistic loss log(1 + exp(-target * input)), target in {-1, 1}."""
    reduction = _reduction(size_average, reduce, reduction)
    same_device(input, target)
    check_broadcast(input._data.shape, target._data.shape)
    _check_not_differentiable("soft_margin_loss", "target", target)
    if not input.dtype.is_floating_point:
        raise RuntimeError(
            "result type Float can't be cast to the desired output type "
            f"{dtypes.SCALAR_TYPE_NAMES[input.dtype.name]}")
    return SoftMarginLoss.apply(input, target, reduction=reduction)


# ----------------------------------------------------------------------------- multi-class margins
def _check_batch(input: Tensor) -> tuple[int, int]:
    """(samples, classes) of a (C,) or (N, C) input, with PyTorch's message otherwise."""
    shape = input._data.shape
    if not ((len(shape) == 2 and shape[1] != 0) or (len(shape) == 1 and shape[0] != 0)
            or len(shape) == 0):
        raise RuntimeError(
            "Expected non-empty vector or matrix with optional 0-dim batch size, but got: "
            f"{list(shape)}")
    if len(shape) <= 1:
        return 1, shape[0] if shape else 1
    return shape[0], shape[1]


def _check_long(target: Tensor) -> None:
    if target.dtype is not dtypes.int64:
        raise RuntimeError(
            f"expected scalar type Long but found {dtypes.SCALAR_TYPE_NAMES[target.dtype.name]}")


class MultiMarginLoss(Function):
    """sum over i != y of max(0, margin - x[y] + x[i])^p * weight[y] / C, per sample."""

    node_name = "MultiMarginLossBackward0"
    saved_fields = fields(
        self=saved(0), target=saved(1), weight=saved(2),
        p=value("options", lambda options: options[0]),
        margin=value("options", lambda options: options[1]),
        reduction=value("options", lambda options: REDUCTIONS[options[2]]))

    jvp = jvp_from_backward

    @staticmethod
    def forward(ctx: Any, x: Any, target: Any, weight: Any, *, p: int, margin: float,
                reduction: str) -> Any:
        backend = ctx.backend
        rows = backend.reshape(x, (-1, x.shape[-1] if x.ndim else 1))
        labels = backend.reshape(target, (-1, 1))
        ctx.save_for_backward(x, target, weight)
        ctx.options = (p, margin, reduction, rows.shape)
        loss = backend.sum(_multi_margin_terms(backend, rows, labels, weight, p, margin), axis=1)
        if reduction == "none":  # one loss per sample; a single (C,) sample gives a 0-d one
            return loss if x.ndim == 2 else backend.reshape(loss, ())
        return _reduce(backend, loss, reduction)

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> tuple[Tensor, None, None]:
        x, target, weight = ctx.saved_tensors
        p, margin, reduction, shape = ctx.options
        rows = x.reshape(shape)
        labels = target.reshape(-1, 1)
        picked = rows.gather(1, labels)
        z = margin - picked + rows
        classes = _class_ids(rows)
        active = (z > 0) & (classes != labels)
        slope = where(active, 2 * z, 0.0) if p == 2 else active.to(rows.dtype)
        if weight is not None:
            slope = slope * weight.index_select(0, target.reshape(-1)).reshape(-1, 1)
        slope = slope / shape[1]
        if reduction == "mean":
            slope = slope / shape[0]
        slope = slope * (grad.reshape(-1, 1) if grad._data.ndim else grad)
        # Each active term adds its slope at i and takes it away at the label's class.
        grad_rows = slope - where(classes == labels, slope.sum(1, keepdim=True), 0.0)
        return grad_rows.reshape(x._data.shape), None, None


def _class_ids(rows: Tensor) -> Tensor:
    backend = rows._backend
    return _wrap(backend.reshape(backend.arange(0, rows._data.shape[1], 1, "int64"), (1, -1)),
                 backend)


def _multi_margin_terms(backend: Any, rows: Any, labels: Any, weight: Any, p: int,
                        margin: float) -> Any:
    picked = backend.take_along_axis(rows, labels, axis=1)
    z = backend.add(backend.subtract(rows, picked), margin)
    classes = backend.reshape(backend.arange(0, rows.shape[1], 1, "int64"), (1, -1))
    terms = backend.where(backend.logical_and(backend.greater(z, 0),
                                              backend.not_equal(classes, labels)), z, 0.0)
    if p == 2:
        terms = backend.multiply(terms, terms)
    if weight is not None:
        terms = backend.multiply(terms, backend.reshape(backend.take(
            weight, backend.reshape(labels, (-1,)), axis=0), (-1, 1)))
    return backend.divide(terms, rows.shape[1])


@autocast_op("multi_margin_loss")
def multi_margin_loss(input: Tensor, target: Tensor, p: int = 1, margin: float = 1.0,
                      weight: Tensor | None = None, size_average: Any = None,
                      reduce: Any = None, reduction: str = "mean") -> Tensor:
    """The multi-class hinge loss of (N, C) scores (or (C,)) against class indices."""
    reduction = _reduction(size_average, reduce, reduction)
    if p not in (1, 2):
        raise ValueError("only p == 1 and p == 2 supported")
    if weight is not None and weight._data.ndim != 1:
        raise ValueError("weight must be one-dimensional")
    same_device(input, target, weight)
    samples, classes = _check_batch(input)
    if target._data.ndim > 1 or target._data.size != samples:
        raise RuntimeError(
            "multi_margin_loss: target tensor should be 1-D with size equal to the number of "
            f"input samples (batch size). Expected target size [{samples}], but got "
            f"{list(target._data.shape)}. Input has shape {list(input._data.shape)}.")
    if weight is not None:
        if weight._data.size != classes:
            raise RuntimeError(
                f"inconsistent weight size, expected {classes} but got "
                f"{list(weight._data.shape)}")
        if weight.dtype is not input.dtype:
            raise RuntimeError(
                f"expected scalar type {dtypes.SCALAR_TYPE_NAMES[input.dtype.name]} but found "
                f"{dtypes.SCALAR_TYPE_NAMES[weight.dtype.name]}")
    _check_long(target)
    _check_not_differentiable("multi_margin_loss", "weight", weight)
    backend = target._backend
    if target._data.size:
        outside = backend.logical_or(backend.less(target._data, 0),
                                     backend.greater_equal(target._data, classes))
        if backend.item(backend.any(outside)):
            raise RuntimeError("target out of range")
    return MultiMarginLoss.apply(input, target, weight, p=p, margin=float(margin),
                                 reduction=reduction)


def _is_target(node: Any) -> Tensor:
    """1 where a class is one of the sample's targets, in the input's dtype and shape."""
    backend = node.backend
    is_target, dtype, shape = node.is_target
    return _wrap(backend.reshape(backend.astype(is_target, dtype), shape), backend)


class MultilabelMarginLoss(Function):
    """For each sample, sum over its labels k (target up to the first -1) and the classes d
    that are not labels of max(0, 1 - (x[k] - x[d])), divided by C. A label listed twice
    counts twice, as in PyTorch's kernel."""

    node_name = "MultilabelMarginLossBackward0"
    saved_fields = fields(self=saved(0), target=saved(1), reduction=reduction(),
                          is_target=Computed(_is_target, tensor=True))

    jvp = jvp_from_backward

    @staticmethod
    def forward(ctx: Any, x: Any, target: Any, *, reduction: str) -> Any:
        backend = ctx.backend
        classes = x.shape[-1] if x.ndim else 1
        rows = backend.reshape(x, (-1, classes))
        slots, valid, is_target = _label_slots(backend, backend.reshape(target, (-1, classes)))
        dtype = backend.dtype_name(x)
        loss = backend.zeros((rows.shape[0],), dtype)
        for slot, kept in zip(slots, valid):
            picked = backend.take_along_axis(rows, slot, axis=1)
            z = backend.add(backend.subtract(rows, picked), 1.0)
            mask = backend.logical_and(backend.logical_and(backend.greater(z, 0), kept),
                                       backend.logical_not(is_target))
            loss = backend.add(loss, backend.sum(backend.where(mask, z, 0.0), axis=1))
        loss = backend.divide(loss, classes)
        ctx.save_for_backward(x, target)
        ctx.reduction, ctx.shape = reduction, rows.shape
        ctx.is_target = (is_target, dtype, x.shape)
        if reduction == "none":
            return loss if x.ndim == 2 else backend.reshape(loss, ())
        return _reduce(backend, loss, reduction)

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> tuple[Tensor, None]:
        x, target = ctx.saved_tensors
        samples, classes = ctx.shape
        backend = x._backend
        rows = x.reshape(samples, classes)
        slots, valid, is_target = _label_slots(backend, backend.reshape(target._data,
                                                                        (-1, classes)))
        ids = _class_ids(rows)
        scale = 1.0 / classes / (samples if ctx.reduction == "mean" else 1)
        grad_rows = None
        for slot, kept in zip(slots, valid):
            slot_tensor = _wrap(slot, backend)
            z = 1.0 - rows.gather(1, slot_tensor) + rows
            mask = (z > 0) & _wrap(backend.logical_and(kept, backend.logical_not(is_target)),
                                   backend)
            active = mask.to(rows.dtype) * scale
            term = active - where(ids == slot_tensor, active.sum(1, keepdim=True), 0.0)
            grad_rows = term if grad_rows is None else grad_rows + term
        if grad_rows is None:
            grad_rows = rows * 0.0
        grad_rows = grad_rows * (grad.reshape(-1, 1) if grad._data.ndim else grad)
        return grad_rows.reshape(x._data.shape), None


def _label_slots(backend: Any, target: Any) -> tuple[list[Any], list[Any], Any]:
    """The label columns of a (N, C) target, each as (N, 1) indices with a mask of the rows
    where it is a label (before the row's first -1), and the (N, C) mask of label classes."""
    samples, classes = target.shape
    ended = backend.zeros((samples, 1), "bool")
    is_target = backend.zeros((samples, classes), "bool")
    ids = backend.reshape(backend.arange(0, classes, 1, "int64"), (1, -1))
    slots, valid = [], []
    for column in range(classes):
        labels = backend.take(target, backend.asarray([column], dtype="int64"), axis=1)
        ended = backend.logical_or(ended, backend.less(labels, 0))
        kept = backend.logical_not(ended)
        if not backend.item(backend.any(kept)):
            break
        safe = backend.where(kept, labels, 0)
        slots.append(safe)
        valid.append(kept)
        is_target = backend.logical_or(is_target, backend.logical_and(
            backend.equal(ids, safe), kept))
    return slots, valid, is_target


@autocast_op("multilabel_margin_loss")
def multilabel_margin_loss(input: Tensor, target: Tensor, size_average: Any = None,
                           reduce: Any = None, reduction: str = "mean") -> Tensor:
    """The multi-label hinge loss: each sample's labels (its target row up to the first -1)
    should score at least 1 above every other class."""
    reduction = _reduction(size_average, reduce, reduction)
    same_device(input, target)
    shape, target_shape = input._data.shape, target._data.shape
    _, classes = _check_batch(input)
    consistent = (len(target_shape) <= 1 and target._data.size == classes) if len(shape) <= 1 \
        else (len(target_shape) == 2 and target_shape == shape)
    if not consistent:
        raise RuntimeError(
            f"inconsistent target size: {list(target_shape)} for input of size: {list(shape)}")
    _check_long(target)
    backend = target._backend
    if target._data.size:
        outside = backend.logical_or(backend.less(target._data, -1),
                                     backend.greater_equal(target._data, classes))
        if backend.item(backend.any(outside)):
            raise RuntimeError("argument #2 'target' is out of range")
    return MultilabelMarginLoss.apply(input, target, reduction=reduction)
