"""Adamax (Kingma & Ba, 2015, section 7.1): Adam with the infinity norm of past gradients in
place of the second moment."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, ClassVar

from .checks import check_betas_eps, check_differentiable_hyperparameters, refuse_capturable
from .multi_tensor import adamax_foreach, use_foreach
from .optimizer import Optimizer
from .sparse_grad import refuse_sparse_grads
from .update import (
    bump_versions,
    gradient_with_decay,
    hyperparameter,
    increment_step,
    lerp_,
    operands,
    use_grad_for_differentiable,
)


class Adamax(Optimizer):
    _option_defaults_on_load: ClassVar[dict[str, Any]] = {
        "foreach": None, "maximize": False, "differentiable": False, "capturable": False}

    def __init__(self, params: Iterable[Any], lr: Any = 2e-3,
                 betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0, foreach: bool | None = None, *,
                 maximize: bool = False, differentiable: bool = False,
                 capturable: bool = False) -> None:
        check_betas_eps(lr, betas, eps, weight_decay)
        refuse_capturable(capturable)
        defaults = dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                        foreach=foreach, maximize=maximize, differentiable=differentiable,
                        capturable=capturable)
        super().__init__(params, defaults)

    @use_grad_for_differentiable
    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """m = β1 m + (1 - β1) g;  u = max(β2 u, |g| + eps);  p -= lr / (1 - β1^t) * m / u."""
        loss = self._closure_loss(closure)
        refuse_sparse_grads(self, "Adamax does not support sparse gradients")
        for group in self.param_groups:
            refuse_capturable(group["capturable"])
            check_differentiable_hyperparameters(group, "lr")
            lr = hyperparameter(group["lr"])
            if use_foreach(group):
                adamax_foreach(self, group, lr)
                continue
            beta1, beta2 = group["betas"]
            differentiable = group["differentiable"]
            for param in group["params"]:
                if param._grad is None:
                    continue
                state = self.state[param]
                if not state:
                    state["step"] = self._step_tensor()
                    state["exp_avg"] = self._zeros_like(param)
                    state["exp_inf"] = self._zeros_like(param)
                step = increment_step(state["step"])
                xp, data, grad, exp_avg, exp_inf = operands(
                    differentiable, param, param._grad, state["exp_avg"], state["exp_inf"])
                grad = gradient_with_decay(xp, grad, data, group["maximize"],
                                           group["weight_decay"])
                lerp_(exp_avg, grad, 1 - beta1)
                # exp_inf = max(exp_inf * beta2, |grad| + eps), in place
                norm = xp.maximum(exp_inf * beta2, xp.abs(grad) + group["eps"])
                exp_inf[...] = norm
                clr = lr / (1 - beta1 ** step)
                data -= clr * exp_avg / norm  # addcdiv_(exp_avg, exp_inf, value=-clr)
                if not differentiable:
                    bump_versions(param, state["exp_avg"], state["exp_inf"])
        return loss
