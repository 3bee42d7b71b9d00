"""NAdam (Dozat, 2016): Adam with Nesterov momentum and the momentum decay schedule
mu_t = β1 (1 - 0.5 * 0.96^(t ψ)); decoupled weight decay makes it NAdamW."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, ClassVar

from .checks import check_betas_eps, check_differentiable_hyperparameters, refuse_capturable
from .multi_tensor import nadam_foreach, use_foreach
from .optimizer import Optimizer
from .sparse_grad import refuse_sparse_grads
from .update import (
    bump_versions,
    hyperparameter,
    increment_step,
    operands,
    scalar_state,
    update_on_tensors,
    use_grad_for_differentiable,
)


class NAdam(Optimizer):
    _option_defaults_on_load: ClassVar[dict[str, Any]] = {
        "maximize": False, "foreach": None, "capturable": False, "differentiable": False,
        "decoupled_weight_decay": False}

    def __init__(self, params: Iterable[Any], lr: Any = 2e-3,
                 betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0, momentum_decay: float = 4e-3,
                 decoupled_weight_decay: bool = False, *, foreach: bool | None = None,
                 maximize: bool = False, capturable: bool = False,
                 differentiable: bool = False) -> None:
        check_betas_eps(lr, betas, eps, weight_decay)
        if not momentum_decay >= 0.0:
            raise ValueError(f"Invalid momentum_decay value: {momentum_decay}")
        refuse_capturable(capturable)
        defaults = dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                        momentum_decay=momentum_decay,
                        decoupled_weight_decay=decoupled_weight_decay, maximize=maximize,
                        foreach=foreach, capturable=capturable, differentiable=differentiable)
        super().__init__(params, defaults)

    @use_grad_for_differentiable
    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """m and v as Adam's; p -= lr (1 - μ_t) / (1 - Π μ) g / d + lr μ_{t+1} / (1 - Π μ ·
        μ_{t+1}) m / d, d = sqrt(v / (1 - β2^t)) + eps."""
        loss = self._closure_loss(closure)
        refuse_sparse_grads(self, "NAdam does not support sparse gradients")
        for group in self.param_groups:
            refuse_capturable(group["capturable"])
            check_differentiable_hyperparameters(group, "lr")
            if use_foreach(group):
                nadam_foreach(self, group, hyperparameter(group["lr"]))
                continue
            beta1, beta2 = group["betas"]
            momentum_decay = group["momentum_decay"]
            differentiable = group["differentiable"]
            for param in group["params"]:
                if param._grad is None:
                    continue
                state = self.state[param]
                if not state:
                    state["step"] = self._step_tensor()
                    state["mu_product"] = self._step_tensor(1.0)
                    state["exp_avg"] = self._zeros_like(param)
                    state["exp_avg_sq"] = self._zeros_like(param)
                step = increment_step(state["step"])
                mu = beta1 * (1.0 - 0.5 * (0.96 ** (step * momentum_decay)))
                mu_next = beta1 * (1.0 - 0.5 * (0.96 ** ((step + 1) * momentum_decay)))
                # The product is kept in the state's own (scalar) precision, as PyTorch does.
                mu_product = state["mu_product"]
                mu_product._data *= mu
                mu_product._bump_version()
                _, data, grad, exp_avg, exp_avg_sq = operands(
                    differentiable, param, param._grad, state["exp_avg"], state["exp_avg_sq"])
                if group["maximize"]:
                    grad = -grad
                options = dict(lr=hyperparameter(group["lr"]), beta1=beta1, beta2=beta2,
                               eps=group["eps"], weight_decay=group["weight_decay"],
                               step=step, decoupled=group["decoupled_weight_decay"], mu=mu,
                               mu_next=mu_next, mu_product=scalar_state(mu_product))
                if differentiable:
                    update_on_tensors("nadam", data, grad, exp_avg, exp_avg_sq, **options)
                else:  # the backend's kernel (one launch on a GPU)
                    param._backend.nadam_update(data, grad, exp_avg, exp_avg_sq, **options)
                    bump_versions(param, state["exp_avg"], state["exp_avg_sq"])
        return loss
