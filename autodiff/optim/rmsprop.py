"""RMSprop (Hinton's lecture 6e), with momentum, centering and weight decay, in PyTorch's
formulation (eps added outside the square root)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, ClassVar

from .checks import check_differentiable_hyperparameters, check_tensor_lr, refuse_capturable
from .multi_tensor import rmsprop_foreach, use_foreach
from .optimizer import Optimizer
from .sparse_grad import refuse_sparse_grads
from .update import (
    bump_versions,
    gradient_with_decay,
    hyperparameter,
    increment_step,
    lerp_,
    operands,
    saved,
    use_grad_for_differentiable,
)


class RMSprop(Optimizer):
    _option_defaults_on_load: ClassVar[dict[str, Any]] = {
        "momentum": 0, "centered": False, "foreach": None, "maximize": False, "differentiable":
        False, "capturable": False}

    def __init__(self, params: Iterable[Any], lr: Any = 1e-2, alpha: float = 0.99,
                 eps: float = 1e-8, weight_decay: float = 0, momentum: float = 0,
                 centered: bool = False, capturable: bool = False, foreach: bool | None = None,
                 maximize: bool = False, differentiable: bool = False) -> None:
        check_tensor_lr(lr)
        if not lr >= 0.0:
            raise ValueError(f"Invalid learning rate: {lr}")
        if not eps >= 0.0:
            raise ValueError(f"Invalid epsilon value: {eps}")
        if not momentum >= 0.0:
            raise ValueError(f"Invalid momentum value: {momentum}")
        if not weight_decay >= 0.0:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        if not alpha >= 0.0:
            raise ValueError(f"Invalid alpha value: {alpha}")
        refuse_capturable(capturable)
        defaults = dict(lr=lr, momentum=momentum, alpha=alpha, eps=eps, centered=centered,
                        weight_decay=weight_decay, capturable=capturable, foreach=foreach,
                        maximize=maximize, differentiable=differentiable)
        super().__init__(params, defaults)

    @use_grad_for_differentiable
    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """v = α v + (1 - α) g²;  avg = sqrt(v - ḡ²) if centered else sqrt(v);
        p -= lr * (buf = momentum * buf + g / (avg + eps)) or lr * g / (avg + eps)."""
        loss = self._closure_loss(closure)
        refuse_sparse_grads(self, "RMSprop does not support sparse gradients")
        for group in self.param_groups:
            refuse_capturable(group["capturable"])
            check_differentiable_hyperparameters(group, "lr")
            if use_foreach(group):
                rmsprop_foreach(self, group, hyperparameter(group["lr"]))
                continue
            momentum = group["momentum"]
            centered = group["centered"]
            differentiable = group["differentiable"]
            for param in group["params"]:
                if param._grad is None:
                    continue
                state = self.state[param]
                if not state:
                    state["step"] = self._step_tensor()
                    state["square_avg"] = self._zeros_like(param)
                    if momentum > 0:
                        state["momentum_buffer"] = self._zeros_like(param)
                    if centered:
                        state["grad_avg"] = self._zeros_like(param)
                increment_step(state["step"])
                square_avg, buffer, grad_avg = (state["square_avg"],
                                                state.get("momentum_buffer"),
                                                state.get("grad_avg"))
                xp, *arrays = operands(differentiable, param, param._grad, square_avg,
                                       buffer if momentum > 0 else None,
                                       grad_avg if centered else None)
                rmsprop_update(xp, *arrays, lr=hyperparameter(group["lr"]),
                               alpha=group["alpha"], eps=group["eps"],
                               weight_decay=group["weight_decay"], momentum=momentum,
                               maximize=group["maximize"])
                if not differentiable:
                    bump_versions(param, square_avg, buffer, grad_avg)
        return loss


def rmsprop_update(xp: Any, param: Any, grad: Any, square_avg: Any, momentum_buffer: Any,
                   grad_avg: Any, *, lr: float, alpha: float, eps: float, weight_decay: float,
                   momentum: float, maximize: bool) -> None:
    """One RMSprop step, in place (PyTorch's single-tensor operations in its order); centered
    when `grad_avg` is given."""
    grad = gradient_with_decay(xp, grad, param, maximize, weight_decay)
    square_avg *= alpha
    square_avg += (1 - alpha) * grad * grad  # addcmul_(grad, grad, value=1 - alpha)
    if grad_avg is not None:
        lerp_(grad_avg, grad, 1 - alpha)
        mean = saved(grad_avg)
        avg = xp.sqrt(square_avg + -1 * mean * mean)  # addcmul(.., value=-1).sqrt_()
    else:
        avg = xp.sqrt(square_avg)
    avg = avg + eps
    if momentum > 0:
        momentum_buffer *= momentum
        momentum_buffer += grad / avg  # addcdiv_(grad, avg)
        param -= lr * momentum_buffer  # add_(buf, alpha=-lr)
    else:
        param -= lr * grad / avg  # addcdiv_(grad, avg, value=-lr)
