"""Op table entries: activations, losses and layers of autodiff.nn.functional.

Class indices, embedding indices and class weights are constants baked into the op (made on the
input's device); differentiable targets and weights come after `grad_inputs` where they exist.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any

import numpy as np

import autodiff
import autodiff.nn.functional as F
from autodiff.ops.normalization import weight_norm as _weight_norm

from .info import OpInfo, Sample

TARGET = np.array([1, 0, 3])
TARGET_IGNORED = np.array([1, -100, 3])
TARGET_2D = np.array([[0, 2, 3], [1, 1, 0]])  # (N=2, d1=3) for an input (2, 4, 3)
TARGET_3D = np.array([[[0, 2], [3, 1], [1, 1]], [[2, 0], [0, 3], [3, 2]]])  # (2, 3, 2)
CLASS_WEIGHT = np.array([0.5, 1.0, 2.0, 1.5])
INDICES = np.array([[0, 2, 2], [4, 1, 0]])


def _const(values: np.ndarray, like: autodiff.Tensor, dtype: Any = None) -> autodiff.Tensor:
    dtype = like.dtype if dtype is None and values.dtype.kind == "f" else dtype
    return autodiff.tensor(values, dtype=dtype, device=like.device)


def _quiet(function: Callable[..., autodiff.Tensor]) -> Callable[..., autodiff.Tensor]:
    """Broadcasting losses warn (as PyTorch does); the table means to broadcast."""

    def call(*args: Any) -> autodiff.Tensor:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            return function(*args)

    return call


def _reduce(loss: np.ndarray, reduction: str) -> np.ndarray:
    if reduction == "mean" and loss.size == 0:
        return np.array(np.nan)
    return {"mean": np.mean, "sum": np.sum, "none": lambda v: v}[reduction](loss)


# ----------------------------------------------------------------------------- references
def _log_softmax(x: np.ndarray, axis: int) -> np.ndarray:
    if x.size == 0:
        return x
    shifted = x - x.max(axis=axis, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=axis, keepdims=True))


def _softmax(x: np.ndarray, axis: int) -> np.ndarray:
    return np.exp(_log_softmax(x, axis))


def _nll(log_probs: np.ndarray, target: np.ndarray, weight: Any = None, ignore: int = -100,
         reduction: str = "mean") -> np.ndarray:
    class_axis = 0 if log_probs.ndim == 1 else 1
    valid = target != ignore
    safe = np.where(valid, target, 0)
    picked = np.take_along_axis(log_probs, np.expand_dims(safe, class_axis), class_axis)
    picked = picked.squeeze(class_axis)
    scale = valid * (1.0 if weight is None else weight[safe])
    loss = -picked * scale
    if reduction == "mean":
        return loss.sum() / scale.sum()
    return _reduce(loss, reduction)


def _cross_entropy(x: np.ndarray, target: np.ndarray, weight: Any = None, ignore: int = -100,
                   reduction: str = "mean", smoothing: float = 0.0) -> np.ndarray:
    class_axis = 0 if x.ndim == 1 else 1
    log_probs = _log_softmax(x, class_axis)
    nll = _nll(log_probs, target, weight, ignore, reduction)
    if not smoothing:
        return nll
    classes = x.shape[class_axis]
    shape = [1] * x.ndim
    shape[class_axis] = classes
    w = np.ones(classes) if weight is None else weight
    valid = target != ignore
    smooth = -(log_probs * w.reshape(shape)).sum(class_axis) * valid
    if reduction == "mean":
        smooth = smooth.sum() / (valid * w[np.where(valid, target, 0)]).sum()
    else:
        smooth = _reduce(smooth, reduction)
    return (1 - smoothing) * nll + smooth * smoothing / classes


def _cross_entropy_probs(x: np.ndarray, p: np.ndarray, weight: Any = None,
                         reduction: str = "mean", smoothing: float = 0.0) -> np.ndarray:
    classes = x.shape[1]
    p = p * (1 - smoothing) + smoothing / classes
    w = np.ones(classes) if weight is None else weight
    loss = -(_log_softmax(x, 1) * p * w.reshape(1, -1, *([1] * (x.ndim - 2)))).sum(1)
    if reduction == "mean":
        return loss.sum() / (x.size / classes)
    return _reduce(loss, reduction)


def _smooth_l1(d: np.ndarray, beta: float) -> np.ndarray:
    return np.where(np.abs(d) < beta, 0.5 * d * d / beta, np.abs(d) - 0.5 * beta)


def _huber(d: np.ndarray, delta: float) -> np.ndarray:
    return np.where(np.abs(d) < delta, 0.5 * d * d, delta * (np.abs(d) - 0.5 * delta))


def _bce(x: np.ndarray, y: np.ndarray, weight: Any = None) -> np.ndarray:
    loss = -(y * np.maximum(np.log(x), -100) + (1 - y) * np.maximum(np.log(1 - x), -100))
    return loss if weight is None else loss * weight


def _softplus(x: np.ndarray) -> np.ndarray:
    return np.logaddexp(0.0, x)


def _bce_logits(z: np.ndarray, y: np.ndarray, weight: Any = None, pos_weight: Any = None,
                reduction: str = "mean") -> np.ndarray:
    log_weight = 1 + (pos_weight - 1) * y if pos_weight is not None else 1
    loss = (1 - y) * z + log_weight * _softplus(-z)
    if weight is not None:
        loss = loss * weight
    return _reduce(loss, reduction)


def _kl(x: np.ndarray, y: np.ndarray, reduction: str, log_target: bool) -> np.ndarray:
    loss = np.exp(y) * (y - x) if log_target else y * np.log(y) - y * x
    if reduction == "batchmean":
        return loss.sum() / x.shape[0]
    return _reduce(loss, reduction)


def _layer_norm(x: np.ndarray, axes: tuple[int, ...], weight: Any = None,
                bias: Any = None) -> np.ndarray:
    centered = x - x.mean(axis=axes, keepdims=True)
    out = centered / np.sqrt((centered ** 2).mean(axis=axes, keepdims=True) + 1e-5)
    if weight is not None:
        out = out * weight
    return out if bias is None else out + bias


# ----------------------------------------------------------------------------- entries
def _ce(name: str, target: np.ndarray, shapes: tuple[tuple[int, ...], ...], grad_fn: str,
        **options: Any) -> OpInfo:
    weight = options.pop("weight", None)

    def op(x: autodiff.Tensor) -> autodiff.Tensor:
        w = None if weight is None else _const(weight, x)
        return F.cross_entropy(x, _const(target, x), weight=w, **options)

    def ref(x: np.ndarray) -> np.ndarray:
        return _cross_entropy(x, target, weight, options.get("ignore_index", -100),
                              options.get("reduction", "mean"),
                              options.get("label_smoothing", 0.0))

    return OpInfo(name, op, ref, (Sample(shapes),), grad_fn)


LOSS: list[OpInfo] = [
    # softmax, log_softmax
    OpInfo("F.softmax", lambda x: F.softmax(x, 1), lambda x: _softmax(x, 1),
           (Sample(((3, 4),)), Sample(((2, 3, 2),)), Sample(((0, 3),))), "SoftmaxBackward0"),
    OpInfo("softmax_dim0", lambda x: autodiff.softmax(x, 0), lambda x: _softmax(x, 0),
           (Sample(((3, 4),)), Sample(((),)), Sample(((5,),))), "SoftmaxBackward0"),
    OpInfo("F.log_softmax", lambda x: F.log_softmax(x, -1), lambda x: _log_softmax(x, -1),
           (Sample(((3, 4),)), Sample(((),)), Sample(((2, 0),)), Sample(((2, 3, 2),))),
           "LogSoftmaxBackward0"),
    OpInfo("log_softmax_method", lambda x: x.log_softmax(0), lambda x: _log_softmax(x, 0),
           (Sample(((3, 4),)),), "LogSoftmaxBackward0"),
    # cross_entropy with class indices: every option, every input rank
    _ce("cross_entropy", TARGET, ((3, 4),), "NllLossBackward0"),
    _ce("cross_entropy_sum", TARGET, ((3, 4),), "NllLossBackward0", reduction="sum"),
    _ce("cross_entropy_none", TARGET, ((3, 4),), "NllLossBackward0", reduction="none"),
    _ce("cross_entropy_weight", TARGET, ((3, 4),), "NllLossBackward0", weight=CLASS_WEIGHT),
    _ce("cross_entropy_ignore", TARGET_IGNORED, ((3, 4),), "NllLossBackward0",
        weight=CLASS_WEIGHT),
    _ce("cross_entropy_ignore_class", TARGET, ((3, 4),), "NllLossBackward0", ignore_index=0,
        reduction="none"),
    _ce("cross_entropy_smoothing", TARGET, ((3, 4),), "AddBackward0", label_smoothing=0.2),
    _ce("cross_entropy_smoothing_weight", TARGET_IGNORED, ((3, 4),), "AddBackward0",
        label_smoothing=0.3, weight=CLASS_WEIGHT),
    _ce("cross_entropy_smoothing_none", TARGET, ((3, 4),), "AddBackward0",
        label_smoothing=0.1, reduction="none", ignore_index=3),
    _ce("cross_entropy_3d", TARGET_2D, ((2, 4, 3),), "NllLoss2DBackward0"),
    _ce("cross_entropy_3d_none", TARGET_2D, ((2, 4, 3),), "ViewBackward0", reduction="none"),
    _ce("cross_entropy_4d", TARGET_3D, ((2, 4, 3, 2),), "NllLoss2DBackward0",
        weight=CLASS_WEIGHT, label_smoothing=0.0),
    _ce("cross_entropy_4d_smoothing", TARGET_3D, ((2, 4, 3, 2),), "AddBackward0",
        label_smoothing=0.25, reduction="sum"),
    _ce("cross_entropy_unbatched", np.array(2), ((4,),), "NllLossBackward0"),
    # linear_cross_entropy: cross_entropy of linear(x, W); with options (PyTorch's chunked
    # kernel) the same loss
    OpInfo("F.linear_cross_entropy",
           lambda x, w: F.linear_cross_entropy(x, w, _const(TARGET, x, autodiff.int64)),
           lambda x, w: _cross_entropy(x @ w.T, TARGET, None, -100, "mean", 0.0),
           (Sample(((3, 5), (4, 5))),), "NllLossBackward0"),
    OpInfo("F.linear_cross_entropy_options",
           lambda x, w: F.linear_cross_entropy(
               x, w, _const(TARGET, x, autodiff.int64), reduction="sum",
               options=autodiff.nn.LinearCrossEntropyOptions(batch_chunk_size=2)),
           lambda x, w: _cross_entropy(x @ w.T, TARGET, None, -100, "sum", 0.0),
           (Sample(((3, 5), (4, 5))),), "NllLossBackward0"),
    OpInfo("cross_entropy_probs", lambda x, p: F.cross_entropy(x, p),
           _cross_entropy_probs, (Sample(((3, 4), (3, 4))), Sample(((2, 4, 3), (2, 4, 3)))),
           "DivBackward1", domain=(0.0, 1.0)),
    OpInfo("cross_entropy_probs_options",
           lambda x, p: F.cross_entropy(x, p, weight=_const(CLASS_WEIGHT, x),
                                        label_smoothing=0.2, reduction="none"),
           lambda x, p: _cross_entropy_probs(x, p, CLASS_WEIGHT, "none", 0.2),
           (Sample(((3, 4), (3, 4))),), "NegBackward0", domain=(0.0, 1.0)),
    OpInfo("nll_loss", lambda x: F.nll_loss(x, _const(TARGET, x)), lambda x: _nll(x, TARGET),
           (Sample(((3, 4),)),), "NllLossBackward0"),
    OpInfo("nll_loss_weight_none",
           lambda x: F.nll_loss(x, _const(TARGET_IGNORED, x), weight=_const(CLASS_WEIGHT, x),
                                reduction="none"),
           lambda x: _nll(x, TARGET_IGNORED, CLASS_WEIGHT, reduction="none"),
           (Sample(((3, 4),)),), "NllLossBackward0"),
    # regression losses
    *[OpInfo(f"mse_loss_{reduction}",
             _quiet(lambda x, y, r=reduction: F.mse_loss(x, y, reduction=r)),
             lambda x, y, r=reduction: _reduce((x - y) ** 2, r),
             (Sample(((3, 4), (3, 4))), Sample(((3, 1), (4,))), Sample(((), ())),
              Sample(((0, 2), (0, 2)))), "MseLossBackward0")
      for reduction in ("mean", "sum", "none")],
    OpInfo("l1_loss", _quiet(F.l1_loss), lambda x, y: np.abs(x - y).mean(),
           (Sample(((3, 4), (3, 4))), Sample(((3, 1), (4,)))), "MeanBackward0"),
    OpInfo("l1_loss_none", lambda x, y: F.l1_loss(x, y, reduction="none"),
           lambda x, y: np.abs(x - y), (Sample(((3, 4), (3, 4))),), "AbsBackward0"),
    OpInfo("smooth_l1_loss", _quiet(lambda x, y: F.smooth_l1_loss(x, y, beta=0.5)),
           lambda x, y: _smooth_l1(x - y, 0.5).mean(),
           (Sample(((3, 4), (3, 4))), Sample(((3, 1), (4,)))), "SmoothL1LossBackward0"),
    OpInfo("smooth_l1_loss_none", lambda x, y: F.smooth_l1_loss(x, y, reduction="none"),
           lambda x, y: _smooth_l1(x - y, 1.0), (Sample(((3, 4), (3, 4))),),
           "SmoothL1LossBackward0"),
    OpInfo("huber_loss", _quiet(lambda x, y: F.huber_loss(x, y, reduction="sum", delta=0.7)),
           lambda x, y: _huber(x - y, 0.7).sum(),
           (Sample(((3, 4), (3, 4))), Sample(((3, 1), (4,)))), "HuberLossBackward0"),
    # binary cross-entropy
    OpInfo("binary_cross_entropy", F.binary_cross_entropy, lambda x, y: _bce(x, y).mean(),
           (Sample(((3, 4), (3, 4))), Sample(((), ()))), "BinaryCrossEntropyBackward0",
           domain=(0.05, 0.95)),
    OpInfo("binary_cross_entropy_weight",
           lambda x, y, w: F.binary_cross_entropy(x, y, w, reduction="none"),
           lambda x, y, w: _bce(x, y, w), (Sample(((3, 4), (3, 4), (4,))),),
           "BinaryCrossEntropyBackward0", domain=(0.05, 0.95), grad_inputs=2),
    OpInfo("binary_cross_entropy_with_logits",
           lambda z, y: F.binary_cross_entropy_with_logits(z, y),
           _bce_logits, (Sample(((3, 4), (3, 4))), Sample(((5,), (5,)))),
           "BinaryCrossEntropyWithLogitsBackward0", domain=(-4.0, 4.0)),
    OpInfo("binary_cross_entropy_with_logits_none",
           lambda z, y: F.binary_cross_entropy_with_logits(z, y, reduction="none"),
           lambda z, y: _bce_logits(z, y, reduction="none"), (Sample(((3, 4), (3, 4))),),
           "BinaryCrossEntropyWithLogitsBackward0", domain=(-4.0, 4.0)),
    OpInfo("binary_cross_entropy_with_logits_weights",
           lambda z, y, w, p: F.binary_cross_entropy_with_logits(
               z, y, weight=w, pos_weight=p, reduction="sum"),
           lambda z, y, w, p: _bce_logits(z, y, w, p, reduction="sum"),
           (Sample(((3, 4), (3, 4), (4,), (4,))), Sample(((3, 4), (3, 4), (3, 1), (1,)))),
           "BinaryCrossEntropyWithLogitsBackward0", domain=(0.1, 3.0), grad_inputs=2),
    # kl_div
    *[OpInfo(f"kl_div_{reduction}{'_log_target' if log_target else ''}",
             _quiet(lambda x, y, r=reduction, t=log_target: F.kl_div(x, y, reduction=r,
                                                                     log_target=t)),
             lambda x, y, r=reduction, t=log_target: _kl(x, y, r, t),
             (Sample(((3, 4), (3, 4))),), name, domain=(0.1, 1.0))
      for reduction, log_target, name in (
          ("batchmean", False, "DivBackward0"), ("sum", True, "SumBackward0"),
          ("mean", False, "MeanBackward0"), ("none", False, "SubBackward0"),
          ("none", True, "MulBackward0"))],
    # layers
    OpInfo("linear", F.linear, lambda x, w, b: x @ w.T + b,
           (Sample(((2, 3), (4, 3), (4,))), Sample(((2, 3), (4, 3), (2, 4))),
            Sample(((0, 3), (4, 3), (4,)))), "AddmmBackward0"),
    OpInfo("linear_no_bias", F.linear, lambda x, w: x @ w.T,
           (Sample(((2, 3), (4, 3))),), "MmBackward0"),
    OpInfo("linear_vector", F.linear, lambda x, w, b: x @ w.T + b,
           (Sample(((3,), (4, 3), (4,))),), "ViewBackward0"),
    OpInfo("linear_vector_no_bias", F.linear, lambda x, w: x @ w.T,
           (Sample(((3,), (4, 3))),), "SqueezeBackward4"),
    OpInfo("linear_batched", F.linear, lambda x, w, b: x @ w.T + b,
           (Sample(((5, 2, 3), (4, 3), (4,))), Sample(((2, 1, 2, 3), (4, 3), (1,)))),
           "ViewBackward0"),
    OpInfo("linear_batched_no_bias", F.linear, lambda x, w: x @ w.T,
           (Sample(((5, 2, 3), (4, 3))),), "UnsafeViewBackward0"),
    OpInfo("layer_norm", lambda x, w, b: F.layer_norm(x, (4,), w, b),
           lambda x, w, b: _layer_norm(x, (-1,), w, b),
           (Sample(((3, 4), (4,), (4,))), Sample(((2, 3, 4), (4,), (4,)))),
           "NativeLayerNormBackward0"),
    OpInfo("layer_norm_2d", lambda x: F.layer_norm(x, (3, 4)),
           lambda x: _layer_norm(x, (-2, -1)), (Sample(((2, 3, 4),)), Sample(((3, 4),))),
           "NativeLayerNormBackward0"),
    OpInfo("normalize", F.normalize,
           lambda x: x / np.maximum(np.sqrt((x * x).sum(1, keepdims=True)), 1e-12),
           (Sample(((3, 4),)), Sample(((2, 3, 2),))), "DivBackward0"),
    OpInfo("normalize_p1", lambda x: F.normalize(x, p=1.0, dim=0),
           lambda x: x / np.maximum(np.abs(x).sum(0, keepdims=True), 1e-12),
           (Sample(((3, 4),)),), "DivBackward0"),
    OpInfo("embedding", lambda w: F.embedding(_const(INDICES, w), w), lambda w: w[INDICES],
           (Sample(((5, 3),)),), "EmbeddingBackward0"),
    OpInfo("one_hot", lambda x: F.one_hot(x.long(), 4), lambda x: np.eye(4)[x.astype(np.int64)],
           (Sample(((3,),)), Sample(((2, 3),)), Sample(((0,),))), domain=(0.0, 3.99),
           differentiable=False, out_dtype=autodiff.int64),
    OpInfo("dropout_all", lambda x: F.dropout(x, 1.0), lambda x: x * 0.0,
           (Sample(((3, 4),)),), "MulBackward0"),
]


# ----------------------------------------------------------------------------- more losses
SIGNS = np.array([[1.0, -1.0, -1.0, 1.0], [-1.0, 1.0, 1.0, 1.0], [1.0, 1.0, -1.0, -1.0]])
SIGNS_1D = np.array([1.0, -1.0, 1.0])
MULTI_LABELS = np.array([[3, 0, -1, 1], [0, 1, 2, 3], [1, -1, 0, 0]])
CTC_TARGETS = np.array([[1, 2, 2], [3, 1, 0]])


def _logsigmoid(x: np.ndarray) -> np.ndarray:
    return -_softplus(-x)


def _poisson(x: np.ndarray, y: np.ndarray, log_input: bool, full: bool,
             reduction: str) -> np.ndarray:
    loss = np.exp(x) - y * x if log_input else x - y * np.log(x + 1e-8)
    if full:
        stirling = y * np.log(y) - y + 0.5 * np.log(2 * np.pi * y)
        loss = loss + np.where(y <= 1, 0.0, stirling)
    return _reduce(loss, reduction)


def _gaussian(x: np.ndarray, y: np.ndarray, var: np.ndarray, full: bool,
              reduction: str) -> np.ndarray:
    if var.shape != x.shape and var.shape == x.shape[:-1]:
        var = var[..., None]
    var = np.maximum(var, 1e-6)
    loss = 0.5 * (np.log(var) + (x - y) ** 2 / var) + (0.5 * np.log(2 * np.pi) if full else 0)
    return _reduce(loss, reduction)


def _cosine(x1: np.ndarray, x2: np.ndarray, axis: int) -> np.ndarray:
    norms1 = np.maximum(np.sqrt((x1 * x1).sum(axis, keepdims=True)), 1e-8)
    norms2 = np.maximum(np.sqrt((x2 * x2).sum(axis, keepdims=True)), 1e-8)
    return ((x1 / norms1) * (x2 / norms2)).sum(axis)


def _pairwise(x1: np.ndarray, x2: np.ndarray, p: float = 2.0) -> np.ndarray:
    difference = np.abs(x1 - x2 + 1e-6)
    if np.isinf(p):
        return difference.max(-1)
    return (difference ** p).sum(-1) ** (1 / p)


def _pdist(x: np.ndarray, p: float) -> np.ndarray:
    rows = x.shape[0]
    return np.array([_pairwise(x[i], x[j] + 1e-6, p) for i in range(rows)
                     for j in range(i + 1, rows)]).reshape(-1)


def _cosine_embedding(x1: np.ndarray, x2: np.ndarray, margin: float,
                      reduction: str) -> np.ndarray:
    cos = (x1 * x2).sum(-1) / np.sqrt(((x1 * x1).sum(-1) + 1e-12) * ((x2 * x2).sum(-1) + 1e-12))
    loss = np.where(SIGNS_1D == 1, 1 - cos, np.maximum(cos - margin, 0))
    return _reduce(loss, reduction)


def _multi_margin(x: np.ndarray, p: int, margin: float, weight: Any,
                  reduction: str) -> np.ndarray:
    losses = []
    for row, label in zip(x, TARGET):
        terms = [max(0.0, margin - row[label] + row[i]) ** p for i in range(len(row))
                 if i != label]
        losses.append(sum(terms) * (1.0 if weight is None else weight[label]) / len(row))
    return _reduce(np.array(losses), reduction)


def _multilabel_margin(x: np.ndarray, reduction: str) -> np.ndarray:
    losses = []
    for row, labels in zip(x, MULTI_LABELS):
        kept = []
        for label in labels:
            if label < 0:
                break
            kept.append(label)
        others = [d for d in range(len(row)) if d not in kept]
        losses.append(sum(max(0.0, 1 - row[k] + row[d]) for k in kept for d in others)
                      / len(row))
    return _reduce(np.array(losses), reduction)


def _triplet(a: np.ndarray, p: np.ndarray, n: np.ndarray, margin: float, norm: float,
             swap: bool, reduction: str) -> np.ndarray:
    negative = _pairwise(a, n, norm)
    if swap:
        negative = np.minimum(negative, _pairwise(p, n, norm))
    return _reduce(np.maximum(margin + _pairwise(a, p, norm) - negative, 0), reduction)


def _ctc_brute_force(x: np.ndarray, reduction: str) -> np.ndarray:
    """-log of the summed probability of every path that collapses to the target, by listing
    all C^T paths (independent of the lattice recursion)."""
    import itertools
    log_probs = _log_softmax(x, 2)
    lengths, target_lengths = (6, 5), (3, 2)
    losses = []
    for sample, (frames, length) in enumerate(zip(lengths, target_lengths)):
        target = tuple(CTC_TARGETS[sample][:length])
        total = 0.0
        for path in itertools.product(range(x.shape[2]), repeat=frames):
            collapsed = [c for k, c in enumerate(path) if c != 0 and (k == 0 or path[k - 1] != c)]
            if tuple(collapsed) == target:
                total += np.exp(sum(log_probs[t, sample, c] for t, c in enumerate(path)))
        losses.append(-np.log(total))
    loss = np.array(losses)
    if reduction == "mean":
        return (loss / np.maximum(target_lengths, 1)).mean()
    return _reduce(loss, reduction)


_CTC_NOT_TWICE = "PyTorch's _ctc_loss_backward has no derivative (ours neither)"

LOSS += [
    # weighted regression losses
    *[OpInfo(f"{name}_weight_{reduction}",
             lambda x, y, w, f=function, r=reduction: f(x, y, weight=w, reduction=r),
             lambda x, y, w, ref=ref, r=reduction, by=by: (
                 (ref(x - y) * w).sum() / (w.sum() if by else w.size) if r == "mean"
                 else _reduce(ref(x - y) * w, r)),
             (Sample(((3, 4), (3, 4), (3, 4))),), grad_fn, grad_inputs=2, domain=(0.1, 2.0))
      for name, function, ref, by in (
          ("mse_loss", F.mse_loss, lambda d: d * d, True),
          ("l1_loss", F.l1_loss, np.abs, True),
          ("huber_loss", lambda x, y, **k: F.huber_loss(x, y, delta=0.3, **k),
           lambda d: _huber(d, 0.3), False))
      for reduction, grad_fn in (("mean", "DivBackward0" if name != "huber_loss"
                                   else "MeanBackward0"), ("sum", "SumBackward0"),
                                  ("none", "MulBackward0"))],
    # likelihoods
    *[OpInfo(f"poisson_nll_loss_{log_input}_{full}_{reduction}",
             lambda x, y, li=log_input, fu=full, r=reduction: F.poisson_nll_loss(
                 x, y, li, fu, reduction=r),
             lambda x, y, li=log_input, fu=full, r=reduction: _poisson(x, y, li, fu, r),
             (Sample(((3, 4), (3, 4))),), grad_fn, domain=(0.2, 3.0))
      for log_input, full, reduction, grad_fn in (
          (True, False, "mean", "MeanBackward0"), (False, False, "sum", "SumBackward0"),
          (True, True, "none", "AddBackward0"), (False, True, "mean", "MeanBackward0"))],
    *[OpInfo(f"gaussian_nll_loss_{index}",
             lambda x, y, v, fu=full, r=reduction: F.gaussian_nll_loss(x, y, v, fu,
                                                                       reduction=r),
             lambda x, y, v, fu=full, r=reduction: _gaussian(x, y, v, fu, r),
             (Sample(((3, 4), (3, 4), var_shape)),), grad_fn, domain=(0.2, 2.0))
      for index, (var_shape, full, reduction, grad_fn) in enumerate((
          ((3, 4), False, "mean", "MeanBackward0"), ((3,), True, "sum", "SumBackward0"),
          ((3, 1), False, "none", "MulBackward0"), ((1, 4), True, "mean", "MeanBackward0")))],
    # margins
    *[OpInfo(f"margin_ranking_loss_{reduction}",
             lambda x, y, r=reduction: F.margin_ranking_loss(x, y, _const(SIGNS_1D, x), 0.3,
                                                             reduction=r),
             lambda x, y, r=reduction: _reduce(np.maximum(-SIGNS_1D * (x - y) + 0.3, 0), r),
             (Sample(((3,), (3,))),), grad_fn)
      for reduction, grad_fn in (("mean", "MeanBackward0"), ("none", "ClampMinBackward0"))],
    *[OpInfo(f"hinge_embedding_loss_{reduction}",
             lambda x, r=reduction: F.hinge_embedding_loss(x, _const(SIGNS, x), 0.7,
                                                           reduction=r),
             lambda x, r=reduction: _reduce(np.where(SIGNS == 1, x, np.maximum(0.7 - x, 0)), r),
             (Sample(((3, 4),)),), grad_fn)
      for reduction, grad_fn in (("sum", "SumBackward0"), ("none", "AddBackward0"))],
    *[OpInfo(f"soft_margin_loss_{reduction}",
             lambda x, r=reduction: F.soft_margin_loss(x, _const(SIGNS, x), reduction=r),
             lambda x, r=reduction: _reduce(_softplus(-SIGNS * x), r), (Sample(((3, 4),)),),
             "SoftMarginLossBackward0", domain=(-4.0, 4.0))
      for reduction in ("mean", "none")],
    *[OpInfo(f"multilabel_soft_margin_loss_{reduction}",
             lambda x, r=reduction, w=weighted: F.multilabel_soft_margin_loss(
                 x, _const((SIGNS > 0) * 1.0, x), _const(CLASS_WEIGHT, x) if w else None,
                 reduction=r),
             lambda x, r=reduction, w=weighted: _reduce(
                 (-((SIGNS > 0) * _logsigmoid(x) + (SIGNS < 0) * _logsigmoid(-x))
                  * (CLASS_WEIGHT if w else 1.0)).mean(-1), r),
             (Sample(((3, 4),)),), grad_fn)
      for reduction, weighted, grad_fn in (("mean", False, "MeanBackward0"),
                                           ("none", True, "DivBackward0"))],
    *[OpInfo(f"cosine_embedding_loss_{reduction}",
             lambda x, y, r=reduction: F.cosine_embedding_loss(x, y, _const(SIGNS_1D, x), 0.2,
                                                               reduction=r),
             lambda x, y, r=reduction: _cosine_embedding(x, y, 0.2, r),
             (Sample(((3, 4), (3, 4))),), grad_fn)
      for reduction, grad_fn in (("mean", "MeanBackward0"), ("none", "AddBackward0"))],
    *[OpInfo(f"multi_margin_loss_{p}_{reduction}",
             lambda x, p=p, r=reduction, w=weighted: F.multi_margin_loss(
                 x, _const(TARGET, x), p, 0.8, _const(CLASS_WEIGHT, x) if w else None,
                 reduction=r),
             lambda x, p=p, r=reduction, w=weighted: _multi_margin(
                 x, p, 0.8, CLASS_WEIGHT if w else None, r),
             (Sample(((3, 4),)),), "MultiMarginLossBackward0")
      for p, reduction, weighted in ((1, "mean", False), (2, "none", True), (2, "sum", False))],
    *[OpInfo(f"multilabel_margin_loss_{reduction}",
             lambda x, r=reduction: F.multilabel_margin_loss(x, _const(MULTI_LABELS, x),
                                                             reduction=r),
             lambda x, r=reduction: _multilabel_margin(x, r), (Sample(((3, 4),)),),
             "MultilabelMarginLossBackward0")
      for reduction in ("mean", "none")],
    *[OpInfo(f"triplet_margin_loss_{swap}_{reduction}",
             lambda a, p, n, s=swap, r=reduction: F.triplet_margin_loss(
                 a, p, n, 1.5, 1.5, swap=s, reduction=r),
             lambda a, p, n, s=swap, r=reduction: _triplet(a, p, n, 1.5, 1.5, s, r),
             (Sample(((3, 4), (3, 4), (3, 4))), Sample(((4,), (4,), (4,)))), grad_fn)
      for swap, reduction, grad_fn in ((False, "mean", "MeanBackward0"),
                                       (True, "none", "ClampMinBackward0"))],
    OpInfo("triplet_margin_with_distance_loss",
           lambda a, p, n: F.triplet_margin_with_distance_loss(
               a, p, n, distance_function=lambda x, y: 1 - F.cosine_similarity(x, y), swap=True),
           lambda a, p, n: np.maximum(1 + (1 - _cosine(a, p, 1)) - np.minimum(
               1 - _cosine(a, n, 1), 1 - _cosine(p, n, 1)), 0).mean(),
           (Sample(((3, 4), (3, 4), (3, 4))),), "MeanBackward0"),
    # CTC, checked against the sum over every path (T = 6, C = 4)
    *[OpInfo(f"ctc_loss_{reduction}",
             lambda x, r=reduction: F.ctc_loss(x.log_softmax(2), _const(CTC_TARGETS, x), (6, 5),
                                               (3, 2), reduction=r),
             lambda x, r=reduction: _ctc_brute_force(x, r), (Sample(((6, 2, 4),)),), grad_fn,
             gradgrad=_CTC_NOT_TWICE)
      for reduction, grad_fn in (("mean", "MeanBackward0"), ("sum", "SumBackward0"),
                                 ("none", "CtcLossBackward0"))],
    # distances
    *[OpInfo(f"pairwise_distance_{p}", lambda x, y, p=p: F.pairwise_distance(x, y, p),
             lambda x, y, p=p: _pairwise(x, y, p),
             (Sample(((3, 4), (3, 4))), Sample(((3, 4), (4,))), Sample(((5,), (5,)))),
             "NormBackward1")
      for p in (2.0, 1.0, 3.0, float("inf"))],
    OpInfo("cosine_similarity", F.cosine_similarity, lambda x, y: _cosine(x, y, 1),
           (Sample(((3, 4), (3, 4))), Sample(((2, 3, 2), (2, 3, 1)))), "SumBackward1"),
    OpInfo("cosine_similarity_dim0", lambda x, y: F.cosine_similarity(x, y, 0),
           lambda x, y: _cosine(x, y, 0), (Sample(((3, 4), (3, 4))), Sample(((4,), (4,)))),
           "SumBackward1"),
    *[OpInfo(f"pdist_{p}", lambda x, p=p: F.pdist(x, p), lambda x, p=p: _pdist(x, p),
             (Sample(((4, 3),)), Sample(((1, 3),)), Sample(((5, 2),))), "PdistBackward0")
      for p in (2.0, 1.0, 0.5, 3.0, float("inf"))],
]


# ----------------------------------------------------------------------------- layers
BAG_INDICES = np.array([1, 2, 4, 4, 3, 0])
BAG_OFFSETS = np.array([0, 2, 2, 5])


def _rms_norm(x: np.ndarray, axes: tuple[int, ...], weight: Any = None,
              eps: float = 2.220446049250313e-16) -> np.ndarray:
    out = x / np.sqrt((x * x).mean(axis=axes, keepdims=True) + eps)
    return out if weight is None else out * weight


def _norm_except_dim(v: np.ndarray, dim: int) -> np.ndarray:
    if dim == -1:
        return np.sqrt((v * v).sum())
    axes = tuple(axis for axis in range(v.ndim) if axis != dim)
    return np.sqrt((v * v).sum(axis=axes, keepdims=True))


def _embedding_bag(weight: np.ndarray, mode: str, per_sample: Any = None,
                   padding_idx: Any = None) -> np.ndarray:
    bags = []
    ends = [*BAG_OFFSETS[1:], len(BAG_INDICES)]
    for start, end in zip(BAG_OFFSETS, ends):
        picked = [k for k in range(start, end) if BAG_INDICES[k] != padding_idx]
        rows = weight[BAG_INDICES[picked]]
        if per_sample is not None:
            rows = rows * per_sample[picked][:, None]
        if not picked:
            bags.append(np.zeros(weight.shape[1]))
        else:
            bags.append({"sum": rows.sum(0), "mean": rows.mean(0), "max": rows.max(0)}[mode])
    return np.array(bags)


LOSS += [
    OpInfo("bilinear", F.bilinear, lambda a, b, w, c: np.einsum("...i,oij,...j->...o", a, w, b) + c,
           (Sample(((3, 4), (3, 5), (6, 4, 5), (6,))), Sample(((2, 3, 4), (2, 3, 5), (2, 4, 5),
                                                                  (2,)))), "AddBackward0"),
    OpInfo("bilinear_no_bias", F.bilinear, lambda a, b, w: np.einsum("...i,oij,...j->...o", a, w,
                                                                       b),
           (Sample(((3, 4), (3, 5), (6, 4, 5))), Sample(((4,), (5,), (2, 4, 5)))),
           "ViewBackward0"),
    OpInfo("rms_norm", lambda x: F.rms_norm(x, (4,)), lambda x: _rms_norm(x, (-1,)),
           (Sample(((3, 4),)), Sample(((2, 3, 4),))), "MulBackward0", domain=(0.2, 2.0)),
    OpInfo("rms_norm_weight", lambda x, w: F.rms_norm(x, (3, 4), w, eps=1e-3),
           lambda x, w: _rms_norm(x, (-2, -1), w, 1e-3), (Sample(((2, 3, 4), (3, 4))),),
           "MulBackward0"),
    *[OpInfo(f"embedding_bag_{mode}",
             lambda w, m=mode, p=padding: F.embedding_bag(_const(BAG_INDICES, w), w,
                                                          _const(BAG_OFFSETS, w), mode=m,
                                                          padding_idx=p),
             lambda w, m=mode, p=padding: _embedding_bag(w, m, padding_idx=p),
             (Sample(((5, 3),)),), "EmbeddingBagBackward0")
      for mode, padding in (("sum", None), ("mean", 4), ("max", None), ("max", 4))],
    OpInfo("embedding_bag_per_sample_weights",
           lambda w, p: F.embedding_bag(_const(BAG_INDICES, w), w, _const(BAG_OFFSETS, w),
                                        mode="sum", per_sample_weights=p),
           lambda w, p: _embedding_bag(w, "sum", p), (Sample(((5, 3), (6,))),),
           "EmbeddingBagBackward0"),
    # torch.embedding_bag (ATen's: weight first, an integer mode): its bags, the first of its
    # four results (the others, indices and counts, in tests/nn/test_torch_embedding_bag.py)
    *[OpInfo(f"torch.embedding_bag_{mode}",
             lambda w, m=mode, p=padding: autodiff.embedding_bag(
                 w, _const(BAG_INDICES, w), _const(BAG_OFFSETS, w), False, m, False, None,
                 False, p)[0],
             lambda w, m=mode, p=padding: _embedding_bag(w, ("sum", "mean", "max")[m],
                                                         padding_idx=p),
             (Sample(((5, 3),)),), "EmbeddingBagBackward0")
      for mode, padding in ((0, None), (1, 4), (2, None), (2, 4))],
    OpInfo("embedding_bag_2d", lambda w: F.embedding_bag(_const(INDICES, w), w),
           lambda w: w[INDICES].mean(1), (Sample(((5, 3),)),), "EmbeddingBagBackward0"),
    *[OpInfo(f"norm_except_dim_{dim}", lambda v, d=dim: autodiff.norm_except_dim(v, 2, d),
             lambda v, d=dim: _norm_except_dim(v, d), (Sample(((2, 3, 4),)),), grad_fn)
      for dim, grad_fn in ((0, "ViewBackward0"), (1, "TransposeBackward0"),
                           (2, "ViewBackward0"), (-1, "NormBackward0"))],
    # PyTorch's _weight_norm: its fused node for dims 0 and -1 of v, composed otherwise
    *[OpInfo(f"weight_norm[{dim}]", lambda v, g, d=dim: _weight_norm(v, g, d),
             lambda v, g, d=dim: v * g / _norm_except_dim(v, d),
             (Sample(((2, 3, 4), g_shape)),), grad_fn)
      for dim, g_shape, grad_fn in ((0, (2, 1, 1), "WeightNormInterfaceBackward0"),
                                    (2, (1, 1, 4), "WeightNormInterfaceBackward0"),
                                    (1, (1, 3, 1), "MulBackward0"), (-1, (), "MulBackward0"))],
]
