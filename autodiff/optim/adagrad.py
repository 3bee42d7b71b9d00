"""Adagrad (Duchi et al., 2011): each coordinate's step is divided by the root of its summed
squared gradients, with PyTorch's learning-rate decay lr / (1 + (t - 1) lr_decay)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, ClassVar

from ..tensor import Tensor
from .checks import (
    check_differentiable_hyperparameters,
    check_fused,
    check_fused_param,
    check_tensor_lr,
)
from .multi_tensor import adagrad_foreach, use_foreach
from .optimizer import Optimizer
from .sparse_grad import add_into_, coalesced, gathered, refuse_sparse_grads, scaled, sparse_grad
from .update import (
    bump_versions,
    gradient_with_decay,
    hyperparameter,
    increment_step,
    operands,
    use_grad_for_differentiable,
)


class Adagrad(Optimizer):
    _option_defaults_on_load: ClassVar[dict[str, Any]] = {
        "foreach": None, "maximize": False, "differentiable": False, "fused": None}

    def __init__(self, params: Iterable[Any], lr: Any = 1e-2, lr_decay: float = 0,
                 weight_decay: float = 0, initial_accumulator_value: float = 0,
                 eps: float = 1e-10, foreach: bool | None = None, *, maximize: bool = False,
                 differentiable: bool = False, fused: bool | None = None) -> None:
        check_tensor_lr(lr)
        if not lr >= 0.0:
            raise ValueError(f"Invalid learning rate: {lr}")
        if not lr_decay >= 0.0:
            raise ValueError(f"Invalid lr_decay value: {lr_decay}")
        if not weight_decay >= 0.0:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        if not initial_accumulator_value >= 0.0:
            raise ValueError(
                f"Invalid initial_accumulator_value value: {initial_accumulator_value}")
        if not eps >= 0.0:
            raise ValueError(f"Invalid epsilon value: {eps}")
        defaults = dict(lr=lr, lr_decay=lr_decay, eps=eps, weight_decay=weight_decay,
                        initial_accumulator_value=initial_accumulator_value, foreach=foreach,
                        maximize=maximize, differentiable=differentiable, fused=fused)
        super().__init__(params, defaults)
        check_fused(fused, foreach, differentiable)
        # PyTorch makes Adagrad's state up front, for every parameter (so a state dict saved
        # before the first step already holds the accumulators).
        for group in self.param_groups:
            for param in group["params"]:
                self._init_state(param, bool(group["fused"]))

    def _init_state(self, param: Tensor, fused: bool) -> None:
        state = self.state[param]
        state["step"] = self._step_tensor(param=param if fused else None, fused=fused)
        state["sum"] = self._full_like(param, self.defaults["initial_accumulator_value"])

    @use_grad_for_differentiable
    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """sum += g²;  p -= lr / (1 + (t - 1) lr_decay) * g / (sqrt(sum) + eps)."""
        loss = self._closure_loss(closure)
        refuse_sparse_grads(self, "`fused` does not support sparse grad or complex param",
                            fused_only=True)
        for group in self.param_groups:
            check_differentiable_hyperparameters(group, "lr")
            lr = hyperparameter(group["lr"])
            if use_foreach(group):
                adagrad_foreach(self, group, lr)
                continue
            differentiable = group["differentiable"]
            for param in group["params"]:
                if param._grad is None:
                    continue
                if group["fused"]:
                    check_fused_param(param)
                state = self.state[param]
                if not state:  # a parameter added with add_param_group
                    self._init_state(param, bool(group["fused"]))
                sparse = sparse_grad(param)
                if sparse is not None:
                    if group["weight_decay"] != 0:
                        raise RuntimeError(
                            "weight_decay option is not compatible with sparse gradients")
                    step = increment_step(state["step"])
                    clr = lr / (1 + (step - 1) * group["lr_decay"])
                    sparse_adagrad_step(param, sparse, state["sum"], clr, group["eps"],
                                        group["maximize"])
                    continue
                step = increment_step(state["step"])
                xp, data, grad, state_sum = operands(differentiable, param, param._grad,
                                                     state["sum"])
                grad = gradient_with_decay(xp, grad, data, group["maximize"],
                                           group["weight_decay"])
                clr = lr / (1 + (step - 1) * group["lr_decay"])
                state_sum += grad * grad  # addcmul_(grad, grad, value=1)
                std = xp.sqrt(state_sum) + group["eps"]
                data -= clr * grad / std  # addcdiv_(grad, std, value=-clr)
                if not differentiable:
                    bump_versions(param, state["sum"])
        return loss


def sparse_adagrad_step(param: Tensor, grad: Any, state_sum: Tensor, clr: float, eps: float,
                        maximize: bool) -> None:
    """Adagrad's rule on the entries of a sparse COO gradient (coalesced first, as PyTorch
    does): only they add to the sum, and only they move."""
    backend = param._backend
    grad = coalesced(scaled(grad, -1.0) if maximize else grad, backend)
    add_into_(state_sum._data, grad.with_values(grad.values * grad.values), backend)
    std = backend.sqrt(gathered(state_sum._data, grad, backend)) + eps
    add_into_(param._data, grad.with_values(grad.values / std), backend, -clr)
    bump_versions(param, state_sum)
