"""Averaged SGD (Polyak & Juditsky, 1992; Bottou's schedule): SGD with a decaying step
eta_t = lr / (1 + lambd lr t)^alpha and a running average `ax` of the iterates after t0."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, ClassVar

from .. import dtypes
from ..creation import tensor as _tensor
from ..tensor import Tensor
from .checks import check_differentiable_hyperparameters, check_tensor_lr, refuse_capturable
from .multi_tensor import asgd_foreach, use_foreach
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


class ASGD(Optimizer):
    _option_defaults_on_load: ClassVar[dict[str, Any]] = {
        "foreach": None, "maximize": False, "differentiable": False, "capturable": False}

    def __init__(self, params: Iterable[Any], lr: Any = 1e-2, lambd: float = 1e-4,
                 alpha: float = 0.75, t0: float = 1e6, weight_decay: float = 0,
                 foreach: bool | None = None, maximize: bool = False,
                 differentiable: bool = False, capturable: bool = False) -> None:
        check_tensor_lr(lr)
        if not lr >= 0.0:
            raise ValueError(f"Invalid learning rate: {lr}")
        if not weight_decay >= 0.0:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        refuse_capturable(capturable)
        defaults = dict(lr=lr, lambd=lambd, alpha=alpha, t0=t0, weight_decay=weight_decay,
                        foreach=foreach, maximize=maximize, differentiable=differentiable,
                        capturable=capturable)
        super().__init__(params, defaults)

    @use_grad_for_differentiable
    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """p = p (1 - lambd eta) - eta g;  ax += (p - ax) mu (ax = p while mu is 1);
        then eta = lr / (1 + lambd lr t)^alpha and mu = 1 / max(1, t - t0)."""
        loss = self._closure_loss(closure)
        refuse_sparse_grads(self, "ASGD does not support sparse gradients")
        for group in self.param_groups:
            refuse_capturable(group["capturable"])
            check_differentiable_hyperparameters(group, "lr")
            lr, lambd = hyperparameter(group["lr"]), group["lambd"]
            if use_foreach(group):
                asgd_foreach(self, group, lr)
                continue
            differentiable = group["differentiable"]
            for param in group["params"]:
                if param._grad is None:
                    continue
                state = self.state[param]
                if not state:
                    # ASGD's scalar state lives on the parameter's device, in the scalar dtype.
                    state["step"] = self._step_tensor(0.0, param)
                    state["eta"] = self._step_tensor(lr, param)
                    state["mu"] = self._step_tensor(1.0, param)
                    state["ax"] = self._zeros_like(param)
                step = increment_step(state["step"])
                if not differentiable:
                    _update(param, state, step, lr=lr, lambd=lambd, alpha=group["alpha"],
                            t0=group["t0"], weight_decay=group["weight_decay"],
                            maximize=group["maximize"])
                    continue
                eta, mu = state["eta"].item(), state["mu"].item()
                xp, data, grad, ax = operands(differentiable, param, param._grad, state["ax"])
                grad = gradient_with_decay(xp, grad, data, group["maximize"],
                                           group["weight_decay"])
                data *= 1 - lambd * eta  # decay term
                data -= eta * grad  # add_(grad, alpha=-eta)
                if mu != 1:
                    ax += (data - ax) * mu
                else:
                    ax[...] = data
                _set(state["eta"], lr / ((1 + lambd * lr * step) ** group["alpha"]))
                _set(state["mu"], 1 / max(1, step - group["t0"]))
        return loss


def _update(param: Tensor, state: dict[str, Tensor], step: float, **options: Any) -> None:
    """The step on the arrays, as the backend's `asgd_update` (one call: a compiled step
    records it whole, so its branches on eta, mu and the step count run again at replay)."""
    backend, data, grad, ax = operands(False, param, param._grad, state["ax"])
    eta, mu = state["eta"], state["mu"]
    backend.asgd_update(data, grad, ax, eta._data, mu._data, step=step,
                        scalar_dtype=dtypes.get_default_dtype().name, **options)
    bump_versions(param, state["ax"], eta, mu)


def _set(scalar: Tensor, value: float) -> None:
    """eta.copy_(torch.as_tensor(value)), as PyTorch writes eta and mu: the number is rounded
    to the default dtype first (so a float64 state loaded from a checkpoint still holds
    float32-rounded values while the default dtype is float32), then to the state's dtype."""
    scalar._backend.setitem(scalar._data, (), _tensor(value).item())
    scalar._bump_version()
