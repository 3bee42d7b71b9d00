"""RAdam (Liu et al., 2020): Adam whose adaptive step is rectified by the variance of the
adaptive learning rate, and plain momentum while that variance is intractable; decoupled
weight decay makes it RAdamW."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, ClassVar

from .checks import check_betas_eps, check_differentiable_hyperparameters, refuse_capturable
from .multi_tensor import radam_foreach, use_foreach
from .optimizer import Optimizer
from .sparse_grad import refuse_sparse_grads
from .update import (
    bump_versions,
    hyperparameter,
    increment_step,
    operands,
    update_on_tensors,
    use_grad_for_differentiable,
)


class RAdam(Optimizer):
    _option_defaults_on_load: ClassVar[dict[str, Any]] = {
        "foreach": None, "maximize": False, "differentiable": False, "capturable": False,
        "decoupled_weight_decay": False}

    def __init__(self, params: Iterable[Any], lr: Any = 1e-3,
                 betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0, decoupled_weight_decay: bool = False, *,
                 foreach: bool | None = None, maximize: bool = False, capturable: bool = False,
                 differentiable: bool = False) -> None:
        check_betas_eps(lr, betas, eps, weight_decay)
        refuse_capturable(capturable)
        defaults = dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                        maximize=maximize, foreach=foreach, capturable=capturable,
                        decoupled_weight_decay=decoupled_weight_decay,
                        differentiable=differentiable)
        super().__init__(params, defaults)

    @use_grad_for_differentiable
    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """m and v as Adam's; with ρ_t = ρ∞ - 2 t β2^t / (1 - β2^t) > 5:
        p -= lr m̂ r_t sqrt(1 - β2^t) / (sqrt(v) + eps), else p -= lr m̂."""
        loss = self._closure_loss(closure)
        refuse_sparse_grads(self, "RAdam does not support sparse gradients")
        for group in self.param_groups:
            refuse_capturable(group["capturable"])
            check_differentiable_hyperparameters(group, "lr")
            if use_foreach(group):
                radam_foreach(self, group, hyperparameter(group["lr"]))
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
                    state["exp_avg_sq"] = self._zeros_like(param)
                step = increment_step(state["step"])
                _, data, grad, exp_avg, exp_avg_sq = operands(
                    differentiable, param, param._grad, state["exp_avg"], state["exp_avg_sq"])
                if group["maximize"]:
                    grad = -grad
                options = dict(lr=hyperparameter(group["lr"]), beta1=beta1, beta2=beta2,
                               eps=group["eps"], weight_decay=group["weight_decay"],
                               step=step, decoupled=group["decoupled_weight_decay"])
                if differentiable:
                    update_on_tensors("radam", data, grad, exp_avg, exp_avg_sq, **options)
                else:  # the backend's kernel (one launch on a GPU)
                    param._backend.radam_update(data, grad, exp_avg, exp_avg_sq, **options)
                    bump_versions(param, state["exp_avg"], state["exp_avg_sq"])
        return loss
