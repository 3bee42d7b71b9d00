"""Stochastic gradient descent with momentum, dampening, Nesterov momentum and weight decay
(PyTorch's formulation: the momentum buffer starts as the first gradient)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, ClassVar

from ..tensor import _wrap
from .checks import (
    check_differentiable_hyperparameters,
    check_fused,
    check_fused_param,
    check_tensor_lr,
)
from .optimizer import Optimizer
from .update import (
    bump_versions,
    gradient_with_decay,
    hyperparameter,
    operands,
    use_grad_for_differentiable,
)


class SGD(Optimizer):
    _option_defaults_on_load: ClassVar[dict[str, Any]] = {
        "nesterov": False, "maximize": False, "foreach": None, "differentiable": False, "fused":
        False}

    def __init__(self, params: Iterable[Any], lr: Any = 1e-3, momentum: float = 0,
                 dampening: float = 0, weight_decay: float = 0, nesterov: bool = False, *,
                 maximize: bool = False, foreach: bool | None = None,
                 differentiable: bool = False, fused: bool | None = None) -> None:
        check_tensor_lr(lr)
        if lr < 0.0:
            raise ValueError(f"Invalid learning rate: {lr}")
        if momentum < 0.0:
            raise ValueError(f"Invalid momentum value: {momentum}")
        if weight_decay < 0.0:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        defaults = dict(lr=lr, momentum=momentum, dampening=dampening,
                        weight_decay=weight_decay, nesterov=nesterov, maximize=maximize,
                        foreach=foreach, differentiable=differentiable, fused=fused)
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError("Nesterov momentum requires a momentum and zero dampening")
        super().__init__(params, defaults)
        check_fused(fused, foreach, differentiable)

    @use_grad_for_differentiable
    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """One update of every parameter that has a gradient:
        g = ±grad + weight_decay * p;  buf = momentum * buf + (1 - dampening) * g;
        p -= lr * (g + momentum * buf if nesterov else buf)."""
        loss = self._closure_loss(closure)
        for group in self.param_groups:
            check_differentiable_hyperparameters(group, "lr")
            lr = hyperparameter(group["lr"])
            momentum = group["momentum"]
            differentiable = group["differentiable"]
            for param in group["params"]:
                if param._grad is None:
                    continue
                if group["fused"]:
                    check_fused_param(param)
                state = self.state[param]
                buffer = state.get("momentum_buffer") if momentum != 0 else None
                xp, data, grad, buffer_data = operands(differentiable, param, param._grad, buffer)
                grad = gradient_with_decay(xp, grad, data, group["maximize"],
                                           group["weight_decay"])
                if momentum != 0:
                    if buffer is None:
                        # buf = grad.detach().clone(): the first step's gradient, owned
                        if differentiable:
                            buffer = grad.detach().clone()
                        else:
                            backend = param._backend
                            buffer = _wrap(backend.asarray(grad, copy=True), backend)
                        state["momentum_buffer"] = buffer
                        buffer_data = buffer if differentiable else buffer._data
                    else:
                        sgd_momentum_(buffer_data, grad, momentum, group["dampening"])
                    grad = grad + momentum * buffer_data if group["nesterov"] else buffer_data
                data -= lr * grad  # param.add_(grad, alpha=-lr)
                if not differentiable:
                    bump_versions(param, buffer)
        return loss


def sgd_momentum_(buffer: Any, grad: Any, momentum: float, dampening: float) -> None:
    """buf.mul_(momentum).add_(grad, alpha=1 - dampening), in place."""
    buffer *= momentum
    if dampening == 0:
        buffer += grad
    else:
        buffer += (1 - dampening) * grad
