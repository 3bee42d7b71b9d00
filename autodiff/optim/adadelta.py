"""Adadelta (Zeiler, 2012): steps scaled by the ratio of running RMS of past updates to running
RMS of gradients, times lr (PyTorch's formulation)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, ClassVar

from .checks import check_differentiable_hyperparameters, check_tensor_lr, refuse_capturable
from .multi_tensor import adadelta_foreach, use_foreach
from .optimizer import Optimizer
from .sparse_grad import refuse_sparse_grads
from .update import (
    bump_versions,
    gradient_with_decay,
    hyperparameter,
    increment_step,
    operands,
    use_grad_for_differentiable,
)


class Adadelta(Optimizer):
    _option_defaults_on_load: ClassVar[dict[str, Any]] = {
        "foreach": None, "maximize": False, "differentiable": False, "capturable": False}

    def __init__(self, params: Iterable[Any], lr: Any = 1.0, rho: float = 0.9,
                 eps: float = 1e-6, weight_decay: float = 0, foreach: bool | None = None, *,
                 capturable: bool = False, maximize: bool = False,
                 differentiable: bool = False) -> None:
        check_tensor_lr(lr)
        if not lr >= 0.0:
            raise ValueError(f"Invalid learning rate: {lr}")
        if not 0.0 <= rho <= 1.0:
            raise ValueError(f"Invalid rho value: {rho}")
        if not eps >= 0.0:
            raise ValueError(f"Invalid epsilon value: {eps}")
        if not weight_decay >= 0.0:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        refuse_capturable(capturable)
        defaults = dict(lr=lr, rho=rho, eps=eps, weight_decay=weight_decay, maximize=maximize,
                        capturable=capturable, foreach=foreach, differentiable=differentiable)
        super().__init__(params, defaults)

    @use_grad_for_differentiable
    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """v = ρ v + (1 - ρ) g²;  Δ = sqrt(u + eps) / sqrt(v + eps) * g;
        u = ρ u + (1 - ρ) Δ²;  p -= lr Δ."""
        loss = self._closure_loss(closure)
        refuse_sparse_grads(self, "Adadelta does not support sparse gradients")
        for group in self.param_groups:
            refuse_capturable(group["capturable"])
            check_differentiable_hyperparameters(group, "lr")
            lr, rho, eps = hyperparameter(group["lr"]), group["rho"], group["eps"]
            if use_foreach(group):
                adadelta_foreach(self, group, lr)
                continue
            differentiable = group["differentiable"]
            for param in group["params"]:
                if param._grad is None:
                    continue
                state = self.state[param]
                if not state:
                    state["step"] = self._step_tensor()
                    state["square_avg"] = self._zeros_like(param)
                    state["acc_delta"] = self._zeros_like(param)
                increment_step(state["step"])
                xp, data, grad, square_avg, acc_delta = operands(
                    differentiable, param, param._grad, state["square_avg"], state["acc_delta"])
                grad = gradient_with_decay(xp, grad, data, group["maximize"],
                                           group["weight_decay"])
                square_avg *= rho
                square_avg += (1 - rho) * grad * grad  # addcmul_(grad, grad, value=1 - rho)
                std = xp.sqrt(square_avg + eps)
                delta = xp.sqrt(acc_delta + eps) / std * grad
                acc_delta *= rho
                acc_delta += (1 - rho) * delta * delta
                data -= lr * delta  # add_(delta, alpha=-lr)
                if not differentiable:
                    bump_versions(param, state["square_avg"], state["acc_delta"])
        return loss
