"""Stochastic gradient descent with momentum, dampening, Nesterov momentum and weight decay
(PyTorch's formulation: the momentum buffer starts as the first gradient)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from ..tensor import _wrap
from .optimizer import Optimizer, gradient_with_decay


class SGD(Optimizer):
    def __init__(self, params: Iterable[Any], lr: float = 1e-3, momentum: float = 0,
                 dampening: float = 0, weight_decay: float = 0, nesterov: bool = False, *,
                 maximize: bool = False, foreach: bool | None = None,
                 differentiable: bool = False, fused: bool | None = None) -> None:
        if lr < 0.0:
            raise ValueError(f"Invalid learning rate: {lr}")
        if momentum < 0.0:
            raise ValueError(f"Invalid momentum value: {momentum}")
        if weight_decay < 0.0:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError("Nesterov momentum requires a momentum and zero dampening")
        defaults = dict(lr=lr, momentum=momentum, dampening=dampening,
                        weight_decay=weight_decay, nesterov=nesterov, maximize=maximize,
                        foreach=foreach, differentiable=differentiable, fused=fused)
        super().__init__(params, defaults)

    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """One update of every parameter that has a gradient:
        g = ±grad + weight_decay * p;  buf = momentum * buf + (1 - dampening) * g;
        p -= lr * (g + momentum * buf if nesterov else buf)."""
        loss = self._closure_loss(closure)
        state = self.state
        for group in self.param_groups:
            lr = group["lr"]
            momentum = group["momentum"]
            dampening = group["dampening"]
            weight_decay = group["weight_decay"]
            nesterov = group["nesterov"]
            maximize = group["maximize"]
            for param in group["params"]:
                grad_tensor = param._grad
                if grad_tensor is None:
                    continue
                data = param._data
                grad = gradient_with_decay(grad_tensor._data, data, maximize, weight_decay)
                if momentum != 0:
                    param_state = state[param]
                    buffer_tensor = param_state.get("momentum_buffer")
                    if buffer_tensor is None:
                        backend = param._backend
                        buffer = backend.asarray(grad, copy=True)
                        param_state["momentum_buffer"] = _wrap(buffer, backend)
                    else:
                        buffer = buffer_tensor._data
                        buffer *= momentum
                        if dampening == 0:
                            buffer += grad
                        else:
                            buffer += (1 - dampening) * grad
                    grad = grad + momentum * buffer if nesterov else buffer
                data -= lr * grad
                param._bump_version()
        return loss
