"""Losses. BCE-with-logits runs on the backend's fused kernels; its gradient is an op of its own
(as in PyTorch), so the fused backward is used when no graph is recorded and the loss can still
be differentiated twice."""

from __future__ import annotations

from typing import Any

from ..function import Function
from ..tensor import Tensor
from .elementwise import sigmoid, softplus

_REDUCTIONS = ("none", "mean", "sum")


def _reduce(backend: Any, loss: Any, reduction: str) -> Any:
    if reduction == "mean":
        return backend.mean(loss)
    if reduction == "sum":
        return backend.sum(loss)
    return loss


class BinaryCrossEntropyWithLogits(Function):
    node_name = "BinaryCrossEntropyWithLogitsBackward0"

    @staticmethod
    def forward(ctx: Any, z: Any, y: Any, weight: Any, pos_weight: Any, *, reduction: str) -> Any:
        ctx.save_for_backward(z, y, weight, pos_weight)
        ctx.reduction = reduction
        loss = ctx.backend.bce_with_logits(z, y, weight, pos_weight)
        return _reduce(ctx.backend, loss, reduction)

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> tuple[Tensor | None, ...]:
        z, y, weight, pos_weight = ctx.saved_tensors
        needs_z, needs_y, needs_weight, needs_pos_weight = ctx.needs_input_grad
        if needs_weight or needs_pos_weight:
            raise RuntimeError(
                "binary_cross_entropy_with_logits: the derivative for 'weight' and 'pos_weight' "
                "is not implemented"
            )
        if ctx.reduction == "mean":
            grad = grad / z.numel()
        grad_z = grad_y = None
        if needs_z:
            grad_z = BinaryCrossEntropyWithLogitsGrad.apply(grad, z, y, weight, pos_weight)
        if needs_y:
            # d/dy [(1 - y) z + l softplus(-z)], l = 1 + (pos_weight - 1) y
            grad_y = -z if pos_weight is None else (pos_weight - 1) * softplus(-z) - z
            if weight is not None:
                grad_y = grad_y * weight
            grad_y = grad_y * grad
        return grad_z, grad_y, None, None


class BinaryCrossEntropyWithLogitsGrad(Function):
    """d loss / d z for the unreduced loss, scaled by grad: one fused kernel forward."""

    node_name = "BinaryCrossEntropyWithLogitsBackwardBackward0"

    @staticmethod
    def forward(ctx: Any, grad: Any, z: Any, y: Any, weight: Any, pos_weight: Any) -> Any:
        ctx.save_for_backward(grad, z, y, weight, pos_weight)
        return ctx.backend.bce_with_logits_backward(grad, z, y, weight, pos_weight)

    @staticmethod
    def backward(ctx: Any, outer: Tensor) -> tuple[Tensor | None, ...]:
        grad, z, y, weight, pos_weight = ctx.saved_tensors
        needs_grad, needs_z, needs_y = ctx.needs_input_grad[:3]
        s = sigmoid(z)
        log_weight = 1 if pos_weight is None else 1 + (pos_weight - 1) * y
        weight = 1 if weight is None else weight
        result_grad = result_z = result_y = None
        if needs_grad:
            factor = (s - y) if pos_weight is None else log_weight * s - pos_weight * y
            result_grad = outer * factor * weight
        if needs_z:
            result_z = outer * grad * weight * log_weight * s * (1 - s)
        if needs_y:
            factor = -1 if pos_weight is None else (pos_weight - 1) * s - pos_weight
            result_y = outer * grad * weight * factor
        return result_grad, result_z, result_y, None, None


def binary_cross_entropy_with_logits(
    input: Tensor, target: Tensor, weight: Tensor | None = None, size_average: Any = None,
    reduce: Any = None, reduction: str = "mean", pos_weight: Tensor | None = None,
) -> Tensor:
    """Sigmoid + binary cross-entropy in one numerically stable op."""
    if size_average is not None or reduce is not None:
        reduction = _legacy_reduction(size_average, reduce)
    if reduction not in _REDUCTIONS:
        raise ValueError(f"{reduction} is not a valid value for reduction")
    if not isinstance(target, Tensor) or target._data.shape != input._data.shape:
        target_shape = target.shape if isinstance(target, Tensor) else type(target).__name__
        raise ValueError(
            f"Target size ({target_shape}) must be the same as input size ({input.shape})"
        )
    return BinaryCrossEntropyWithLogits.apply(input, target, weight, pos_weight,
                                              reduction=reduction)


def _legacy_reduction(size_average: Any, reduce: Any) -> str:
    size_average = True if size_average is None else size_average
    reduce = True if reduce is None else reduce
    if not reduce:
        return "none"
    return "mean" if size_average else "sum"
