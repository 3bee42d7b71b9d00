"""nll_loss and cross_entropy.

cross_entropy with class indices is PyTorch's `nll_loss(log_softmax(x, 1), target)`: two nodes,
each a few array passes (the fused log_softmax kernel; a gather; a one-hot `where` in the
backward). NllLoss is linear in its input, so the op that computes its gradient has NllLoss
itself as its gradient: double backward costs nothing extra. Label smoothing and class
probabilities are compositions of Tensor ops, exactly as PyTorch composes them (so their node
names match).
"""

from __future__ import annotations

import math
from typing import Any

from .. import dtypes
from ..autocast_state import autocast_op
from ..function import Function
from ..grad_mode import state as _grad_state
from ..jvp_rules import linear_in
from ..saved_fields import Computed, fields, reduction, saved, value
from ..tensor import Tensor, _wrap
from ._checks import same_device
from .arithmetic import DivNumber
from .linear import linear
from .loss import _reduction
from .selection import where
from .softmax import log_softmax


def _total_weight(node: Any) -> Tensor:
    """The sum of the weights of the targets not ignored (0 for reduction='none'), in the
    input's dtype, as PyTorch's node saves it."""
    scale = _SCALE.read(node)
    return scale.sum() * 0 if node.reduction == "none" else scale.sum()


_SCALE = saved(1)  # each target's weight, 0 where ignored


class NllLoss(Function):
    """-weight[t] * x[t] along the class dim (1, or 0 for a (C,) input), then reduced."""

    node_name = "NllLossBackward0"
    saved_fields = fields(
        self=saved(2), target=saved(3), weight=saved(4), reduction=reduction(),
        ignore_index=value("ignore_index"), total_weight=Computed(_total_weight, tensor=True))

    jvp = linear_in(0)

    @staticmethod
    def forward(ctx: Any, x: Any, target: Any, weight: Any, *, reduction: str,
                ignore_index: int) -> Any:
        backend = ctx.backend
        axis = 0 if x.ndim == 1 else 1
        classes = x.shape[axis]
        valid, safe, out_of_range = backend.nll_loss_targets(
            target, ignore_index=ignore_index, classes=classes)
        # PyTorch checks the range of the targets it uses (this syncs, as PyTorch on the CPU;
        # a compiled program checks it as a guard).
        if target.size and backend.any_true(out_of_range):
            _raise_out_of_bounds(backend, target, ignore_index, classes)
        # One backend call: a compiled program's one step, which it may fuse with log_softmax.
        loss, scale, *total = backend.nll_loss_forward(x, safe, valid, weight,
                                                       reduction=reduction)
        ctx.total = total[0] if total else None
        ctx.axis, ctx.shape, ctx.valid = axis, x.shape, valid
        ctx.reduction, ctx.ignore_index = reduction, ignore_index
        ctx.save_for_backward(safe, scale, x, target, weight)  # the last three: PyTorch's names
        return loss

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> tuple[Tensor | None, None, None]:
        safe, scale, *_ = ctx.saved_tensors
        return NllLossBackward.apply(grad, safe, scale, axis=ctx.axis, shape=ctx.shape,
                                     total=ctx.total, valid=ctx.valid), None, None


class NllLoss2d(NllLoss):
    node_name = "NllLoss2DBackward0"


def _raise_out_of_bounds(backend: Any, target: Any, ignore_index: int, classes: int) -> None:
    for label in backend.tolist(backend.reshape(target, (-1,))):
        if label != ignore_index and not 0 <= label < classes:
            raise IndexError(f"Target {label} is out of bounds.")


class NllLossBackward(Function):
    """The input gradient: -grad * scale / total scattered to each target class, 0 elsewhere.
    `safe` is the target with ignored entries at class 0, `scale` the weight of each target
    (0 where ignored), `total` the sum of weights of a 'mean' (else None), `valid` False where
    the target is ignored (its gradient is 0 even where grad is not finite)."""

    node_name = "NllLossBackwardBackward0"

    jvp = linear_in(0)

    @staticmethod
    def forward(ctx: Any, grad: Any, safe: Any, scale: Any, *, axis: int,
                shape: tuple[int, ...], total: Any, valid: Any) -> Any:
        ctx.total, ctx.grad_shape, ctx.valid = total, grad.shape, valid
        ctx.save_for_backward(safe, scale)
        return ctx.backend.nll_loss_backward(grad, safe, scale, valid, total, axis=axis,
                                             shape=shape)

    @staticmethod
    def backward(ctx: Any, outer: Tensor) -> tuple[Tensor | None, None, None]:
        safe, scale = ctx.saved_tensors
        # This op is the transpose of the (linear) NllLoss, so its gradient is NllLoss again:
        # -scale * outer at the target classes (no index of `safe` is ignored: -1 never is).
        picked = NllLoss.apply(outer, safe, None, reduction="none", ignore_index=-1) * scale
        picked = where(_wrap(ctx.valid, outer._backend), picked, 0.0)
        # Back to grad's shape: a reduced loss's grad is 0-d (under vmap, one per example)
        shape = ctx.grad_shape
        if tuple(picked.shape) != shape:
            picked = picked.sum_to_size(shape) if shape else picked.sum()
        if ctx.total is not None:
            return picked / _wrap(ctx.total, outer._backend), None, None
        return picked, None, None


@autocast_op("nll_loss")
def nll_loss(input: Tensor, target: Tensor, weight: Tensor | None = None,
             size_average: Any = None, ignore_index: int = -100, reduce: Any = None,
             reduction: str = "mean") -> Tensor:
    """The negative log-likelihood of the target classes, given log-probabilities."""
    reduction = _reduction(size_average, reduce, reduction)
    same_device(input, target, weight)
    shape, target_shape = input._data.shape, target._data.shape
    if len(shape) < 1:
        raise ValueError(f"Expected 1 or more dimensions (got {len(shape)})")
    if len(shape) != 1 and shape[0] != (target_shape[0] if target_shape else 0):
        raise ValueError(
            f"Expected input batch_size ({shape[0]}) to match target batch_size "
            f"({target_shape[0] if target_shape else 0})."
        )
    op: type[NllLoss] = NllLoss
    view = None
    if len(shape) <= 2:
        if len(target_shape) > 1:
            raise RuntimeError("0D or 1D target tensor expected, multi-target not supported")
        if len(shape) == 1 and target_shape:
            if target_shape[0] != 1:
                raise RuntimeError(
                    f"size mismatch (got input: {list(shape)}, target: {list(target_shape)})")
            target = target.reshape(())  # one class index, as PyTorch accepts it
    elif len(shape) == 4:
        op = NllLoss2d
        if len(target_shape) != 3:
            raise RuntimeError(
                "only batches of spatial targets supported (3D tensors) but got targets of "
                f"dimension: {len(target_shape)}"
            )
        if target_shape != (shape[0], *shape[2:]):
            raise RuntimeError(
                f"size mismatch (got input: {list(shape)} , target: {list(target_shape)}")
    else:  # 3-D or 5-D and up: PyTorch views them as 4-D for nll_loss2d
        op = NllLoss2d
        expected = (shape[0], *shape[2:])
        if target_shape != expected:
            raise RuntimeError(
                f"Expected target size {list(expected)}, got {list(target_shape)}")
        if reduction == "none":
            view = expected
    _check_target(input, target, weight)
    if view is not None:  # PyTorch's nll_loss_nd ends with a view of the unreduced loss
        return op.apply(input, target, weight, reduction=reduction,
                        ignore_index=ignore_index).reshape(view)
    return op.apply(input, target, weight, reduction=reduction, ignore_index=ignore_index)


def _check_target(input: Tensor, target: Tensor, weight: Tensor | None,
                  function: str = "nll_loss_forward") -> None:
    """Weight size and dtype, target dtype, in PyTorch's order (NllLoss checks the range)."""
    classes = input._data.shape[0 if input._data.ndim == 1 else 1]
    if weight is not None:
        if weight._data.ndim != 1 or weight._data.shape[0] != classes:
            raise RuntimeError(
                f"weight tensor should be defined either for all {classes} classes or no "
                f"classes but got weight tensor of shape: {list(weight._data.shape)}"
            )
        if weight._requires_grad and _grad_state.enabled:
            raise RuntimeError(
                f"The function '{function}' is not differentiable with respect to argument "
                "'weight'. This input cannot have requires_grad True."
            )
    if target.dtype not in (dtypes.int64, dtypes.uint8):
        raise RuntimeError(
            "expected target dtype to be Long or Byte, but got "
            f"{dtypes.SCALAR_TYPE_NAMES[target.dtype.name]}"
        )
    if not input.dtype.is_floating_point:
        raise NotImplementedError(
            f"\"nll_loss_out_frame\" not implemented for "
            f"'{dtypes.SCALAR_TYPE_NAMES[input.dtype.name]}'"
        )


# ----------------------------------------------------------------------------- cross_entropy
@autocast_op("cross_entropy_loss")
def cross_entropy(input: Tensor, target: Tensor, weight: Tensor | None = None,
                  size_average: Any = None, ignore_index: int = -100, reduce: Any = None,
                  reduction: str = "mean", label_smoothing: float = 0.0) -> Tensor:
    """log_softmax over the class dim, then the negative log-likelihood of `target`: class
    indices (N,), (N, d1, ...) or (), or class probabilities of input's shape."""
    reduction = _reduction(size_average, reduce, reduction)
    class_dim = 0 if input._data.ndim == 1 else 1
    if input._data.shape == target._data.shape:
        if not target.dtype.is_floating_point:
            raise RuntimeError(
                "Expected floating point type for target with class probabilities, got "
                f"{dtypes.SCALAR_TYPE_NAMES[target.dtype.name]}"
            )
        if ignore_index >= 0:
            raise RuntimeError("ignore_index is not supported for floating point target")
        return _probabilities(input, target, weight, reduction, label_smoothing, class_dim)
    if label_smoothing > 0.0:
        _check_smoothing(label_smoothing)
        return _label_smoothing(input, target, weight, reduction, ignore_index, label_smoothing,
                                class_dim)
    return nll_loss(log_softmax(input, class_dim), target, weight, ignore_index=ignore_index,
                    reduction=reduction)


def _check_smoothing(label_smoothing: float) -> None:
    if label_smoothing > 1.0:
        raise RuntimeError(
            f"label_smoothing must be between 0.0 and 1.0. Got: {label_smoothing:g}")


def _class_weight(weight: Tensor, ndim: int, class_dim: int) -> Tensor:
    shape = [1] * ndim
    shape[class_dim] = weight._data.shape[0]
    return weight.reshape(shape)


def _probabilities(input: Tensor, target: Tensor, weight: Tensor | None, reduction: str,
                   label_smoothing: float, class_dim: int) -> Tensor:
    """PyTorch's cross_entropy_loss_prob_target."""
    classes = input._data.shape[class_dim]
    if weight is not None and (weight._data.ndim != 1 or weight._data.shape[0] != classes):
        raise RuntimeError(
            f"cross_entropy: weight tensor should be defined either for all {classes} classes "
            f"or no classes but got weight tensor of shape: {list(weight._data.shape)}"
        )
    log_probs = log_softmax(input, class_dim)
    if label_smoothing > 0.0:
        _check_smoothing(label_smoothing)
        target = target * (1 - label_smoothing) + label_smoothing / classes
    product = log_probs * target
    if weight is not None:
        product = product * _class_weight(weight, input._data.ndim, class_dim)
    if reduction == "none":
        return -product.sum(class_dim)
    total = -product.sum()
    if reduction == "sum":
        return total
    count = input.numel() // classes if classes else 0
    if count == 0:  # PyTorch fills the (negated) sum with nan
        return -(product.sum() * float("nan"))
    return DivNumber.apply(total, float(count))


def _label_smoothing(input: Tensor, target: Tensor, weight: Tensor | None, reduction: str,
                     ignore_index: int, label_smoothing: float, class_dim: int) -> Tensor:
    """PyTorch's cross_entropy_loss_label_smoothing: (1 - e) nll + e / C * smooth loss."""
    log_probs = log_softmax(input, class_dim)
    nll = nll_loss(log_probs, target, weight, ignore_index=ignore_index, reduction=reduction)
    classes = log_probs._data.shape[class_dim]
    if weight is not None:
        smooth = -(log_probs * _class_weight(weight, input._data.ndim, class_dim)).sum(class_dim)
    else:
        smooth = -log_probs.sum(class_dim)
    kept = target != ignore_index
    smooth = smooth.masked_fill(~kept, 0.0)  # PyTorch's masked_fill_: nan rows become 0 too
    if reduction == "mean":
        if weight is not None:
            # Ignored targets look up class 0, then count for nothing.
            smooth = smooth.sum() / (_take(weight, target * kept) * kept).sum()
        else:
            smooth = smooth.sum() / kept.sum()
    elif reduction == "sum":
        smooth = smooth.sum()
    return (1 - label_smoothing) * nll + smooth * (label_smoothing / classes)


def linear_cross_entropy(input: Tensor, linear_weight: Tensor, target: Tensor, *,
                         linear_bias: Tensor | None = None, weight: Tensor | None = None,
                         reduction: str = "mean", ignore_index: int | None = None,
                         label_smoothing: float = 0.0, options: Any = None) -> Tensor:
    """cross_entropy(linear(input, linear_weight, linear_bias), target): input (N, in) or
    (in,), linear_weight (C, d1, ..., in) giving logits (N, C, d1, ...). `options` selects
    PyTorch's chunked kernel, a memory saving autodiff does not have: it is refused."""
    if options is not None:
        raise NotImplementedError(
            "linear_cross_entropy: options (PyTorch's chunked kernel) is not supported by "
            "autodiff; pass options=None (the same loss, computed from the full logits)")
    if input.dim() < 1 or input.dim() > 2:
        raise RuntimeError(f"expected input with dimensionality 1 or 2, got {input.dim()}")
    if linear_weight.dim() < 2:
        raise RuntimeError("expected linear_weight with dimensionality at least 2, got "
                           f"{linear_weight.dim()}")
    batch = tuple(input.shape[:-1])
    in_features = input.shape[-1]
    if in_features != linear_weight.shape[-1]:
        raise RuntimeError(
            "expected equal input and linear_weight last dimensions (in_features), got "
            f"{input.shape[-1]} and {linear_weight.shape[-1]}, respectively")
    num_classes = linear_weight.shape[0]
    out_features = tuple(linear_weight.shape[1:-1])
    if linear_bias is not None and tuple(linear_bias.shape) != (num_classes, *out_features):
        raise RuntimeError(f"expected linear_bias shape {(num_classes, *out_features)}, got "
                           f"{tuple(linear_bias.shape)}")
    if out_features and not batch:
        raise RuntimeError(
            f"K-dimensional loss defined by linear_weight shape {tuple(linear_weight.shape)} "
            f"requires batched input, (N, {in_features}), got unbatched input with shape "
            f"{tuple(input.shape)}")
    logits_shape = (*batch, num_classes, *out_features)
    if tuple(target.shape) == logits_shape and ignore_index is not None:
        raise RuntimeError("ignore_index cannot be specified when target contains "
                           "probabilities")
    if out_features:
        rows = math.prod(out_features, start=num_classes)
        linear_weight = linear_weight.reshape(rows, in_features)
        if linear_bias is not None:
            linear_bias = linear_bias.reshape(rows)
    logits = linear(input, linear_weight, linear_bias).reshape(logits_shape)
    return cross_entropy(logits, target, weight=weight, reduction=reduction,
                         ignore_index=-100 if ignore_index is None else ignore_index,
                         label_smoothing=label_smoothing)


def _take(weight: Tensor, index: Tensor) -> Tensor:
    """weight[index] as a constant (weights take no gradient here)."""
    backend = weight._backend
    flat = backend.take(weight._data, backend.reshape(index._data, (-1,)), axis=0)
    return _wrap(backend.reshape(flat, index._data.shape), backend)
