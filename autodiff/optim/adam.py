"""Adam and AdamW (Kingma & Ba, 2015; Loshchilov & Hutter, 2019), with amsgrad, maximize and
weight decay (L2 for Adam, decoupled for AdamW), in PyTorch's formulation."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from typing import Any

from .optimizer import Optimizer, lerp_


class Adam(Optimizer):
    def __init__(self, params: Iterable[Any], lr: float = 1e-3,
                 betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0, amsgrad: bool = False, *, foreach: bool | None = None,
                 maximize: bool = False, capturable: bool = False, differentiable: bool = False,
                 fused: bool | None = None, decoupled_weight_decay: bool = False) -> None:
        if not lr >= 0.0:
            raise ValueError(f"Invalid learning rate: {lr}")
        if not eps >= 0.0:
            raise ValueError(f"Invalid epsilon value: {eps}")
        if not 0.0 <= betas[0] < 1.0:
            raise ValueError(f"Invalid beta parameter at index 0: {betas[0]}")
        if not 0.0 <= betas[1] < 1.0:
            raise ValueError(f"Invalid beta parameter at index 1: {betas[1]}")
        if not weight_decay >= 0.0:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        defaults = dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, amsgrad=amsgrad,
                        maximize=maximize, foreach=foreach, capturable=capturable,
                        differentiable=differentiable, fused=fused,
                        decoupled_weight_decay=decoupled_weight_decay)
        super().__init__(params, defaults)

    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """m = β1 m + (1 - β1) g;  v = β2 v + (1 - β2) g²;
        p -= lr / (1 - β1^t) * m / (sqrt(v) / sqrt(1 - β2^t) + eps)."""
        loss = self._closure_loss(closure)
        state = self.state
        for group in self.param_groups:
            beta1, beta2 = group["betas"]
            amsgrad = group["amsgrad"]
            for param in group["params"]:
                grad_tensor = param._grad
                if grad_tensor is None:
                    continue
                param_state = state[param]
                if not param_state:
                    param_state["step"] = self._step_tensor()
                    param_state["exp_avg"] = self._zeros_like(param)
                    param_state["exp_avg_sq"] = self._zeros_like(param)
                    if amsgrad:
                        param_state["max_exp_avg_sq"] = self._zeros_like(param)
                step_tensor = param_state["step"]
                step_tensor._data += 1
                step = step_tensor._backend.item(step_tensor._data)
                backend = param._backend
                grad = grad_tensor._data
                if group["maximize"]:
                    grad = -grad
                if amsgrad:
                    _amsgrad_update(
                        backend, param._data, grad, param_state["exp_avg"]._data,
                        param_state["exp_avg_sq"]._data, param_state["max_exp_avg_sq"]._data,
                        step=step, lr=group["lr"], beta1=beta1, beta2=beta2, eps=group["eps"],
                        weight_decay=group["weight_decay"],
                        decoupled=group["decoupled_weight_decay"])
                else:  # the backend's fused kernel (one launch on a GPU)
                    backend.adam_update(
                        param._data, grad, param_state["exp_avg"]._data,
                        param_state["exp_avg_sq"]._data, lr=group["lr"], beta1=beta1,
                        beta2=beta2, eps=group["eps"], weight_decay=group["weight_decay"],
                        step=step, decoupled=group["decoupled_weight_decay"])
                param._bump_version()
        return loss


class AdamW(Adam):
    """Adam with decoupled weight decay: p *= 1 - lr * weight_decay before the Adam step."""

    def __init__(self, params: Iterable[Any], lr: float = 1e-3,
                 betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 1e-2, amsgrad: bool = False, *,
                 maximize: bool = False, foreach: bool | None = None, capturable: bool = False,
                 differentiable: bool = False, fused: bool | None = None) -> None:
        super().__init__(params, lr, betas, eps, weight_decay, amsgrad, foreach=foreach,
                         maximize=maximize, capturable=capturable, differentiable=differentiable,
                         fused=fused, decoupled_weight_decay=True)


def _amsgrad_update(backend: Any, param: Any, grad: Any, exp_avg: Any, exp_avg_sq: Any,
                    max_exp_avg_sq: Any, *, step: float, lr: float, beta1: float, beta2: float,
                    eps: float, weight_decay: float, decoupled: bool) -> None:
    """One amsgrad Adam step on backend arrays, in place: the operations of PyTorch's
    single-tensor Adam, in its order (the fused kernel covers the non-amsgrad case)."""
    if weight_decay != 0:
        if decoupled:
            param *= 1 - lr * weight_decay
        else:
            grad = grad + weight_decay * param
    lerp_(exp_avg, grad, 1 - beta1)
    exp_avg_sq *= beta2
    exp_avg_sq += (1 - beta2) * grad * grad  # addcmul_(grad, grad, value=1 - beta2)
    step_size = lr / (1 - beta1**step)
    bias_correction2_sqrt = math.sqrt(1 - beta2**step)
    backend.setitem(max_exp_avg_sq, (...,), backend.maximum(max_exp_avg_sq, exp_avg_sq))
    denom = backend.sqrt(max_exp_avg_sq) / bias_correction2_sqrt
    denom += eps
    param -= step_size * exp_avg / denom  # addcdiv_(exp_avg, denom, value=-step_size)
