"""RMSprop (Hinton's lecture 6e), with momentum, centering and weight decay, in PyTorch's
formulation (eps added outside the square root)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from .optimizer import Optimizer, gradient_with_decay, lerp_


class RMSprop(Optimizer):
    def __init__(self, params: Iterable[Any], lr: float = 1e-2, alpha: float = 0.99,
                 eps: float = 1e-8, weight_decay: float = 0, momentum: float = 0,
                 centered: bool = False, capturable: bool = False, foreach: bool | None = None,
                 maximize: bool = False, differentiable: bool = False) -> None:
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
        defaults = dict(lr=lr, momentum=momentum, alpha=alpha, eps=eps, centered=centered,
                        weight_decay=weight_decay, capturable=capturable, foreach=foreach,
                        maximize=maximize, differentiable=differentiable)
        super().__init__(params, defaults)

    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """v = α v + (1 - α) g²;  avg = sqrt(v - ḡ²) if centered else sqrt(v);
        p -= lr * (buf = momentum * buf + g / (avg + eps)) or lr * g / (avg + eps)."""
        loss = self._closure_loss(closure)
        state = self.state
        for group in self.param_groups:
            lr = group["lr"]
            alpha = group["alpha"]
            eps = group["eps"]
            weight_decay = group["weight_decay"]
            momentum = group["momentum"]
            centered = group["centered"]
            for param in group["params"]:
                grad_tensor = param._grad
                if grad_tensor is None:
                    continue
                param_state = state[param]
                if not param_state:
                    param_state["step"] = self._step_tensor()
                    param_state["square_avg"] = self._zeros_like(param)
                    if momentum > 0:
                        param_state["momentum_buffer"] = self._zeros_like(param)
                    if centered:
                        param_state["grad_avg"] = self._zeros_like(param)
                param_state["step"]._data += 1
                backend = param._backend
                data = param._data
                grad = gradient_with_decay(grad_tensor._data, data, group["maximize"],
                                           weight_decay)
                square_avg = param_state["square_avg"]._data
                square_avg *= alpha
                square_avg += (1 - alpha) * grad * grad
                if centered:
                    grad_avg = param_state["grad_avg"]._data
                    lerp_(grad_avg, grad, 1 - alpha)
                    avg = backend.sqrt(square_avg - grad_avg * grad_avg)
                else:
                    avg = backend.sqrt(square_avg)
                avg += eps
                if momentum > 0:
                    buffer = param_state["momentum_buffer"]._data
                    buffer *= momentum
                    buffer += grad / avg
                    data -= lr * buffer
                else:
                    data -= lr * (grad / avg)
                param._bump_version()
        return loss

