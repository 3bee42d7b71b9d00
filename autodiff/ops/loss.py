"""Losses between an input and a target: mse, l1, smooth_l1, huber (with PyTorch's per-element
`weight`), binary cross-entropy (on probabilities and on logits) and kl_div. (nll_loss and
cross_entropy are in cross_entropy.py; the likelihood, margin and CTC losses in modules of
their own.)

Where PyTorch has a node of its own (MseLossBackward0, ...) the loss is one op whose backward
is written with Tensor ops; where PyTorch composes (l1_loss, kl_div), so do we. BCE-with-logits
runs on the backend's fused kernels; its gradient is an op of its own (as in PyTorch), so the
fused backward is used when no graph is recorded and the loss can still be differentiated twice.
"""

from __future__ import annotations

from typing import Any

from backends import broadcast_shapes

from .. import dtypes
from ..autocast_state import autocast_op
from ..batching.dispatch import all_examples
from ..function import Function
from ..grad_mode import state as _grad_state
from ..jvp_rules import auto_element_wise, jvp_from_backward, sum_terms
from ..saved_fields import fields, reduction, saved, value
from ..tensor import Tensor, _wrap
from ..user_warnings import warn
from ._checks import same_device
from ._promotion import check_broadcast, promote, with_number
from .activation import sigmoid, softplus
from .selection import clamp, where
from .unary import exp, log

_REDUCTIONS = ("none", "mean", "sum")


def _reduce(backend: Any, loss: Any, reduction: str) -> Any:
    if reduction == "mean":
        if loss.size == 0:  # PyTorch: the mean of nothing is nan
            return backend.full((), float("nan"), backend.dtype_name(loss))
        return backend.mean(loss)
    if reduction == "sum":
        return backend.sum(loss)
    return loss


def _legacy_reduction(size_average: Any, reduce: Any) -> str:
    size_average = True if size_average is None else size_average
    reduce = True if reduce is None else reduce
    reduction = "none" if not reduce else "mean" if size_average else "sum"
    warn(
        "size_average and reduce args will be deprecated, please use "
        f"reduction='{reduction}' instead.",
        UserWarning,
        stacklevel=4,
    )
    return reduction


def _reduction(size_average: Any, reduce: Any, reduction: str,
               valid: tuple[str, ...] = _REDUCTIONS) -> str:
    if size_average is not None or reduce is not None:
        reduction = _legacy_reduction(size_average, reduce)
    if reduction not in valid:
        raise ValueError(f"{reduction} is not a valid value for reduction")
    return reduction


def _warn_broadcast(input: Tensor, target: Tensor) -> None:
    if target._data.shape != input._data.shape:
        warn(
            f"Using a target size ({target.shape}) that is different to the input size "
            f"({input.shape}). This will likely lead to incorrect results due to broadcasting. "
            "Please ensure they have the same size.",
            UserWarning,
            stacklevel=3,
        )


def _check_not_differentiable(function: str, name: str, tensor: Tensor | None) -> None:
    if tensor is not None and tensor._requires_grad and _grad_state.enabled:
        raise RuntimeError(
            f"The function '{function}' is not differentiable with respect to argument "
            f"'{name}'. This input cannot have requires_grad True."
        )


# ----------------------------------------------------------------------------- regression
class PointwiseLoss(Function):
    """A loss of d = input - target, elementwise, then reduced. Subclasses give the loss of d
    on arrays and dloss/dd in Tensor ops; the target's gradient is minus the input's."""

    node_name = "MseLossBackward0"
    saved_fields = fields(self=saved(0), target=saved(1), reduction=reduction())
    kernel_name = "mse"

    @staticmethod
    def forward(ctx: Any, x: Any, y: Any, *, reduction: str, parameter: float) -> Any:
        backend = ctx.backend
        ctx.save_for_backward(x, y)
        x, y = promote(backend, x, y)
        if not backend.is_floating(x.dtype):
            raise NotImplementedError(
                f'"{ctx.kernel_name}_cpu" not implemented for '
                f"'{dtypes.SCALAR_TYPE_NAMES[backend.dtype_name(x)]}'"
            )
        loss = ctx.loss(backend, backend.subtract(x, y), parameter)
        ctx.reduction, ctx.parameter, ctx.count = reduction, parameter, loss.size
        return _reduce(backend, loss, reduction)

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> tuple[Tensor | None, Tensor | None]:
        x, y = ctx.saved_tensors
        needs_x, needs_y = ctx.needs_input_grad
        derivative = ctx.derivative(x - y, ctx.parameter)
        if ctx.reduction == "mean" and ctx.count:
            # As PyTorch: the derivative times the number 1/n (grad / n first would round
            # 1/n to float16, a subnormal past 16384 elements).
            derivative = derivative * (1.0 / ctx.count)
        grad_x = derivative * grad
        return (grad_x if needs_x else None), (-grad_x if needs_y else None)

    @staticmethod
    def jvp(ctx: Any, tangent_x: Tensor | None, tangent_y: Tensor | None) -> Tensor | None:
        """dloss/dd times the tangent of d = x - y, then the loss's reduction."""
        x, y = ctx.saved_tensors
        tangent_d = sum_terms([tangent_x, -tangent_y if tangent_y is not None else None])
        if tangent_d is None:
            return None
        elementwise = ctx.derivative(x - y, ctx.parameter) * tangent_d
        if ctx.reduction == "mean":
            return elementwise.mean()
        return elementwise.sum() if ctx.reduction == "sum" else elementwise


class MseLoss(PointwiseLoss):
    @staticmethod
    def loss(backend: Any, d: Any, parameter: float) -> Any:
        return backend.multiply(d, d)

    @staticmethod
    def derivative(d: Tensor, parameter: float) -> Tensor:
        return 2 * d


class SmoothL1Loss(PointwiseLoss):
    """0.5 d^2 / beta where |d| < beta, |d| - 0.5 beta elsewhere."""

    node_name = "SmoothL1LossBackward0"
    saved_fields = fields(self=saved(0), target=saved(1), reduction=reduction(),
                          beta=value("parameter"))
    kernel_name = "smooth_l1"

    @staticmethod
    def loss(backend: Any, d: Any, beta: float) -> Any:
        size = backend.abs(d)
        return backend.where(backend.less(size, beta), backend.multiply(d, d) * (0.5 / beta),
                             size - 0.5 * beta)

    @staticmethod
    def derivative(d: Tensor, beta: float) -> Tensor:
        return where(_abs(d) < beta, d / beta, _sign(d))


class HuberLoss(PointwiseLoss):
    """0.5 d^2 where |d| < delta, delta (|d| - 0.5 delta) elsewhere."""

    node_name = "HuberLossBackward0"
    saved_fields = fields(self=saved(0), target=saved(1), reduction=reduction(),
                          delta=value("parameter"))
    kernel_name = "huber"

    @staticmethod
    def loss(backend: Any, d: Any, delta: float) -> Any:
        size = backend.abs(d)
        return backend.where(backend.less(size, delta), backend.multiply(d, d) * 0.5,
                             (size - 0.5 * delta) * delta)

    @staticmethod
    def derivative(d: Tensor, delta: float) -> Tensor:
        return where(_abs(d) < delta, d, _sign(d) * delta)


def _sign(tensor: Tensor) -> Tensor:
    """sign(x) as a constant (its derivative is zero wherever it exists)."""
    return _wrap(tensor._backend.sign(tensor._data), tensor._backend)


def _abs(tensor: Tensor) -> Tensor:
    return tensor * _sign(tensor)


@autocast_op("mse_loss")
def mse_loss(input: Tensor, target: Tensor, size_average: Any = None, reduce: Any = None,
             reduction: str = "mean", weight: Tensor | None = None) -> Tensor:
    """(input - target)^2, reduced; `weight` (input's shape) scales each element, and the
    weighted mean divides by the sum of the weights."""
    _warn_broadcast(input, target)
    if weight is not None:
        reduction = _weighted_reduction(size_average, reduce, reduction)
        return _weighted(_broadcast(input, target) ** 2 * _check_weight(weight, input), weight,
                         reduction, by_weight=True)
    reduction = _reduction(size_average, reduce, reduction)
    return MseLoss.apply(input, target, reduction=reduction, parameter=0.0)


def _broadcast(input: Tensor, target: Tensor) -> Tensor:
    """input - target after PyTorch's broadcast_tensors (expands where the shapes differ)."""
    shape = broadcast_shapes(input._data.shape, target._data.shape)
    if input._data.shape != shape:
        input = input.expand(shape)
    if target._data.shape != shape:
        target = target.expand(shape)
    return input - target


def _check_weight(weight: Tensor, input: Tensor) -> Tensor:
    if weight._data.shape != input._data.shape:
        raise ValueError("Weights and input must have the same size.")
    return weight


def _weighted_reduction(size_average: Any, reduce: Any, reduction: str) -> str:
    if size_average is not None or reduce is not None:
        reduction = _legacy_reduction(size_average, reduce)
    if reduction not in _REDUCTIONS:
        raise ValueError(
            f"Invalid reduction mode: {reduction}. Expected one of 'none', 'mean', 'sum'.")
    return reduction


def _weighted(loss: Tensor, weight: Tensor, reduction: str, by_weight: bool) -> Tensor:
    """PyTorch's weighted reductions: the mean divides by sum(weight) for MSE and L1 and by
    the element count for Huber (`by_weight=False`)."""
    if reduction == "none":
        return loss
    if reduction == "sum":
        return loss.sum()
    return loss.sum() / weight.sum() if by_weight else loss.mean()


@autocast_op("smooth_l1_loss")
def smooth_l1_loss(input: Tensor, target: Tensor, size_average: Any = None, reduce: Any = None,
                   reduction: str = "mean", beta: float = 1.0) -> Tensor:
    _warn_broadcast(input, target)
    reduction = _reduction(size_average, reduce, reduction)
    if beta < 0:
        raise RuntimeError("smooth_l1_loss does not support negative values for beta.")
    if beta == 0.0:  # PyTorch: smooth L1 with beta 0 is the L1 loss
        return _l1(input, target, reduction)
    return SmoothL1Loss.apply(input, target, reduction=reduction, parameter=beta)


@autocast_op("huber_loss")
def huber_loss(input: Tensor, target: Tensor, reduction: str = "mean", delta: float = 1.0,
               weight: Tensor | None = None) -> Tensor:
    """0.5 d^2 for |d| < delta, delta (|d| - 0.5 delta) elsewhere (d = input - target);
    `weight` (input's shape) scales each element."""
    _warn_broadcast(input, target)
    if delta <= 0:
        raise RuntimeError("huber_loss does not support non-positive values for delta.")
    if weight is None:
        reduction = _reduction(None, None, reduction)
        return HuberLoss.apply(input, target, reduction=reduction, parameter=delta)
    _check_weight(weight, input)
    loss = HuberLoss.apply(input, target, reduction="none", parameter=delta) * weight
    return _weighted(loss, weight, _weighted_reduction(None, None, reduction), by_weight=False)


class Abs(Function):
    """|x| for l1_loss (PyTorch composes it as (input - target).abs() and a reduction)."""

    node_name = "AbsBackward0"

    jvp = auto_element_wise

    @staticmethod
    def forward(ctx: Any, x: Any) -> Any:
        ctx.save_for_backward(x)
        return ctx.backend.abs(x)

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> Tensor:
        x, = ctx.saved_tensors
        return grad * _sign(x)


@autocast_op("l1_loss")
def l1_loss(input: Tensor, target: Tensor, size_average: Any = None, reduce: Any = None,
            reduction: str = "mean", weight: Tensor | None = None) -> Tensor:
    """|input - target|, reduced; `weight` (input's shape) scales each element, and the
    weighted mean divides by the sum of the weights."""
    _warn_broadcast(input, target)
    if weight is not None:
        reduction = _weighted_reduction(size_average, reduce, reduction)
        loss = Abs.apply(_broadcast(input, target)) * _check_weight(weight, input)
        return _weighted(loss, weight, reduction, by_weight=True)
    return _l1(input, target, _reduction(size_average, reduce, reduction))


def _l1(input: Tensor, target: Tensor, reduction: str) -> Tensor:
    loss = Abs.apply(input - target)
    if reduction == "mean":
        return loss.mean()
    return loss.sum() if reduction == "sum" else loss


# ----------------------------------------------------------------------------- binary
class BinaryCrossEntropy(Function):
    """-(y log x + (1 - y) log(1 - x)), each log clamped at -100 as PyTorch does."""

    node_name = "BinaryCrossEntropyBackward0"
    saved_fields = fields(self=saved(0), target=saved(1), weight=saved(2),
                          reduction=reduction())

    jvp = jvp_from_backward

    @staticmethod
    def forward(ctx: Any, x: Any, y: Any, weight: Any, *, reduction: str) -> Any:
        backend = ctx.backend
        ctx.save_for_backward(x, y, weight)
        log_x = _clamped_log(backend, x)
        log_rest = _clamped_log(backend, backend.subtract(1, x))
        loss = backend.multiply(backend.subtract(y, 1), log_rest)
        loss = backend.subtract(loss, backend.multiply(y, log_x))
        if weight is not None:
            loss = backend.multiply(loss, weight)
        ctx.reduction, ctx.count = reduction, loss.size
        return _reduce(backend, loss, reduction)

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> tuple[Tensor | None, Tensor | None, None]:
        x, y, weight = ctx.saved_tensors
        needs_x, needs_y = ctx.needs_input_grad[:2]
        if weight is not None:
            grad = grad * weight
        grad_x = grad_y = None
        if needs_x:  # PyTorch's EPSILON keeps x(1 - x) away from 0
            grad_x = grad * (x - y) / clamp((1 - x) * x, min=1e-12)
        if needs_y:  # -logit(x)
            grad_y = grad * (log(1 - x) - log(x))
        if ctx.reduction == "mean" and ctx.count:  # 1/n last, as PyTorch (no float16 subnormal)
            grad_x = None if grad_x is None else grad_x / ctx.count
            grad_y = None if grad_y is None else grad_y / ctx.count
        return grad_x, grad_y, None


def _clamped_log(backend: Any, values: Any) -> Any:
    """max(log(values), -100), with log never called on 0 (no warning, no -inf)."""
    positive = backend.greater(values, 0)
    logs = backend.log(backend.where(positive, values, backend.ones_like(values)))
    return backend.where(positive, backend.maximum(logs, -100.0), -100.0)


@autocast_op("binary_cross_entropy")
def binary_cross_entropy(input: Tensor, target: Tensor, weight: Tensor | None = None,
                         size_average: Any = None, reduce: Any = None,
                         reduction: str = "mean") -> Tensor:
    """Binary cross-entropy between probabilities `input` and targets in [0, 1]."""
    reduction = _reduction(size_average, reduce, reduction)
    same_device(input, target, weight)
    if target._data.shape != input._data.shape:
        raise ValueError(
            f"Using a target size ({target.shape}) that is different to the input size "
            f"({input.shape}) is deprecated. Please ensure they have the same size."
        )
    if weight is not None:
        weight = _expand_weight(weight, target._data.shape)
    _check_not_differentiable("binary_cross_entropy", "weight", weight)
    if target._data.dtype != input._data.dtype:
        raise RuntimeError(
            f"Found dtype {dtypes.SCALAR_TYPE_NAMES[target.dtype.name]} but expected "
            f"{dtypes.SCALAR_TYPE_NAMES[input.dtype.name]}"
        )
    backend = input._backend
    for name, values in (("input", all_examples(input)._data),
                         ("target", all_examples(target)._data)):
        outside = backend.logical_or(backend.less(values, 0), backend.greater(values, 1))
        if values.size and backend.any_true(outside):
            raise RuntimeError(f"all elements of {name} should be between 0 and 1")
    return BinaryCrossEntropy.apply(input, target, weight, reduction=reduction)


def _expand_weight(weight: Tensor, shape: tuple[int, ...]) -> Tensor:
    """weight.expand(shape), with the message of PyTorch's _infer_size when it cannot."""
    sizes = weight._data.shape
    for offset in range(1, min(len(sizes), len(shape)) + 1):
        size, wanted = sizes[-offset], shape[-offset]
        if size != wanted and size != 1 and wanted != 1:
            raise RuntimeError(
                f"Attempting to broadcast a dimension of length {size} at {-offset}! "
                f"Mismatching argument at index 1 had {weight.shape}; but expected shape "
                f"should be broadcastable to {list(shape)}"
            )
    return weight if sizes == shape else weight.expand(shape)


class BinaryCrossEntropyWithLogits(Function):
    node_name = "BinaryCrossEntropyWithLogitsBackward0"
    saved_fields = fields(self=saved(0), target=saved(1), weight=saved(2),
                          pos_weight=saved(3), reduction=reduction())

    jvp = jvp_from_backward

    @staticmethod
    def forward(ctx: Any, z: Any, y: Any, weight: Any, pos_weight: Any, *, reduction: str) -> Any:
        ctx.save_for_backward(z, y, weight, pos_weight)
        loss = ctx.backend.bce_with_logits(z, y, weight, pos_weight)
        ctx.reduction, ctx.count = reduction, loss.size
        return _reduce(ctx.backend, loss, reduction)

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> tuple[Tensor | None, ...]:
        z, y, weight, pos_weight = ctx.saved_tensors
        needs_z, needs_y = ctx.needs_input_grad[:2]
        scale = 1.0 / ctx.count if ctx.reduction == "mean" and ctx.count else 1.0
        grad_z = grad_y = None
        if needs_z:  # the mean's 1/n rides along into the fused kernel
            grad_z = BinaryCrossEntropyWithLogitsGrad.apply(grad, z, y, weight, pos_weight,
                                                            scale=scale)
        if scale != 1.0 and needs_y:
            grad = grad * scale
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

    jvp = jvp_from_backward

    @staticmethod
    def forward(ctx: Any, grad: Any, z: Any, y: Any, weight: Any, pos_weight: Any, *,
                scale: float = 1.0) -> Any:
        ctx.save_for_backward(grad, z, y, weight, pos_weight)
        ctx.scale = scale
        out = ctx.backend.bce_with_logits_backward(grad, z, y, weight, pos_weight)
        if scale != 1.0:  # last, in the opmath type: 1/n in float16 would be a subnormal
            backend = ctx.backend
            out = (backend.multiply(out, scale) if out.dtype in backend.full_precision_floating
                   else with_number(backend, backend.multiply, out, scale))
        return out

    @staticmethod
    def backward(ctx: Any, outer: Tensor) -> tuple[Tensor | None, ...]:
        grad, z, y, weight, pos_weight = ctx.saved_tensors
        needs_grad, needs_z, needs_y = ctx.needs_input_grad[:3]
        if ctx.scale != 1.0:
            outer = outer * ctx.scale
        if weight is not None:
            outer = outer * weight
        s = sigmoid(z)
        result_grad = result_z = result_y = None
        if needs_grad:
            result_grad = outer * ((s - y) if pos_weight is None
                                   else (1 + (pos_weight - 1) * y) * s - pos_weight * y)
        if needs_z:
            slope = s * (1 - s)
            if pos_weight is not None:
                slope = slope * (1 + (pos_weight - 1) * y)
            result_z = outer * grad * slope
        if needs_y:
            result_y = (-(outer * grad) if pos_weight is None
                        else outer * grad * ((pos_weight - 1) * s - pos_weight))
        return result_grad, result_z, result_y, None, None


@autocast_op("binary_cross_entropy_with_logits")
def binary_cross_entropy_with_logits(
    input: Tensor, target: Tensor, weight: Tensor | None = None, size_average: Any = None,
    reduce: Any = None, reduction: str = "mean", pos_weight: Tensor | None = None,
) -> Tensor:
    """Sigmoid + binary cross-entropy in one numerically stable op."""
    reduction = _reduction(size_average, reduce, reduction)
    if not isinstance(target, Tensor) or target._data.shape != input._data.shape:
        target_shape = target.shape if isinstance(target, Tensor) else type(target).__name__
        raise ValueError(
            f"Target size ({target_shape}) must be the same as input size ({input.shape})"
        )
    function = "binary_cross_entropy_with_logits"
    _check_not_differentiable(function, "weight", weight)
    _check_not_differentiable(function, "pos_weight", pos_weight)
    shape = input._data.shape
    if pos_weight is not None:
        check_broadcast(pos_weight._data.shape, shape)
    if weight is not None:
        check_broadcast(shape, weight._data.shape)
    for extra in (pos_weight, weight):
        if extra is not None and broadcast_shapes(shape, extra._data.shape) != shape:
            raise RuntimeError(
                f"output with shape {list(shape)} doesn't match the broadcast shape "
                f"{list(broadcast_shapes(shape, extra._data.shape))}"
            )
    return BinaryCrossEntropyWithLogits.apply(input, target, weight, pos_weight,
                                              reduction=reduction)


# ----------------------------------------------------------------------------- kl_div
class XLogX(Function):
    """x log x (0 at x = 0): PyTorch's xlogy(target, target) in kl_div."""

    node_name = "XlogyBackward0"

    jvp = auto_element_wise

    @staticmethod
    def forward(ctx: Any, x: Any) -> Any:
        backend = ctx.backend
        ctx.save_for_backward(x)
        zero = backend.equal(x, 0)
        safe = backend.where(zero, backend.ones_like(x), x)
        return backend.where(zero, backend.zeros_like(x), backend.multiply(x, backend.log(safe)))

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> Tensor:
        x, = ctx.saved_tensors
        zero = x == 0
        return grad * where(zero, 0.0, log(where(zero, 1.0, x)) + 1)


@autocast_op("kl_div")
def kl_div(input: Tensor, target: Tensor, size_average: Any = None, reduce: Any = None,
           reduction: str = "mean", log_target: bool = False) -> Tensor:
    """KL divergence of `target` from the log-probabilities `input` (target as probabilities,
    or as log-probabilities with log_target=True)."""
    reduction = _reduction(size_average, reduce, reduction,
                           valid=("none", "batchmean", "sum", "mean"))
    if reduction == "mean":
        warn(
            "reduction: 'mean' divides the total loss by both the batch size and the support "
            "size.'batchmean' divides only by the batch size, and aligns with the KL div math "
            "definition.'mean' will be changed to behave the same as 'batchmean' in the next "
            "major release.",
            UserWarning,
            stacklevel=2,
        )
    # Both forms as PyTorch composes them (so 'none' ends in MulBackward0 / SubBackward0).
    loss = exp(target) * (target - input) if log_target else XLogX.apply(target) - target * input
    if reduction == "batchmean":
        total = loss.sum()
        return total / input._data.shape[0] if input._data.ndim else total
    if reduction == "mean":
        return loss.mean()
    return loss.sum() if reduction == "sum" else loss
