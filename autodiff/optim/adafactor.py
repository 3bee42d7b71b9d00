"""Adafactor (Shazeer & Stern, 2018), PyTorch's version: the second moment of a matrix is kept
factored as row and column means (O(n + m) memory), the decay 1 - t^beta2_decay tends to 1,
the step is relative to the parameter's RMS and the update is clipped to RMS d."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from typing import Any, ClassVar

from ..grad_mode import no_grad
from ..tensor import Tensor, _wrap
from .checks import check_tensor_lr
from .multi_tensor import adafactor_foreach, use_foreach
from .optimizer import Optimizer
from .sparse_grad import refuse_sparse_grads
from .update import bump_versions, hyperparameter, increment_step, lerp_, norm_value


class Adafactor(Optimizer):
    _option_defaults_on_load: ClassVar[dict[str, Any]] = {
        "foreach": None}

    def __init__(self, params: Iterable[Any], lr: Any = 1e-2, beta2_decay: float = -0.8,
                 eps: tuple[float | None, float] = (None, 1e-3), d: float = 1.0,
                 weight_decay: float = 0.0, *, foreach: bool | None = None,
                 maximize: bool = False) -> None:
        check_tensor_lr(lr)
        if not lr >= 0.0:
            raise ValueError(f"Learning rate should be >= 0 but is: {lr}")
        if not beta2_decay <= 0.0:
            raise ValueError(f"beta2_decay should be <= 0 but is: {beta2_decay}")
        if eps[0] is not None and not eps[0] >= 0.0:
            raise ValueError(f"epsilon1 should be >= 0 but is: {eps[0]}")
        if not eps[1] >= 0.0:
            raise ValueError(f"epsilon2 should be >= 0 but is: {eps[1]}")
        if not d >= 1.0:
            raise ValueError(f"Clipping threshold d should be >= 1 but is: {d}")
        if not weight_decay >= 0.0:
            raise ValueError(f"weight_decay should be >= 0 but is: {weight_decay}")
        defaults = dict(lr=lr, beta2_decay=beta2_decay, eps=eps, d=d,
                        weight_decay=weight_decay, foreach=foreach, maximize=maximize)
        super().__init__(params, defaults)

    @no_grad()
    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """rho = min(lr, 1 / sqrt(t));  alpha = max(eps2, RMS(p)) rho;
        V = lerp(V, mean of g² per row / column, t^beta2_decay);  U = g / sqrt(V̂);
        p -= alpha U / max(1, RMS(U) / d)."""
        loss = self._closure_loss(closure)
        refuse_sparse_grads(self, "Adafactor does not support sparse gradients")
        for group in self.param_groups:
            lr = hyperparameter(group["lr"])
            if use_foreach(group):
                adafactor_foreach(self, group, lr)
                continue
            eps1, eps2 = group["eps"]
            for param in group["params"]:
                if param._grad is None:
                    continue
                state = self.state[param]
                if not state:
                    state["step"] = self._step_tensor()
                    shape = param._grad.shape
                    if param._grad.dim() > 1:
                        state["row_var"] = self._zeros_of(param._grad, (*shape[:-1], 1))
                        state["col_var"] = self._zeros_of(param._grad,
                                                          (*shape[:-2], 1, shape[-1]))
                    else:
                        state["variance"] = self._zeros_like(param._grad)
                step = increment_step(state["step"])
                self._update(param, state, step, lr=lr, eps1=eps1, eps2=eps2,
                             beta2_decay=group["beta2_decay"], d=group["d"],
                             weight_decay=group["weight_decay"], maximize=group["maximize"])
                bump_versions(param, state.get("row_var"), state.get("col_var"),
                              state.get("variance"))
        return loss

    @staticmethod
    def _zeros_of(like: Tensor, shape: tuple[int, ...]) -> Tensor:
        backend = like._backend
        return _wrap(backend.zeros(shape, backend.dtype_name(like._data)), backend)

    @staticmethod
    def _update(param: Tensor, state: dict[str, Any], step: float, *, lr: float,
                eps1: float | None, eps2: float, beta2_decay: float, d: float,
                weight_decay: float, maximize: bool) -> None:
        """One Adafactor step on the backend arrays, in PyTorch's order of operations."""
        xp = param._backend
        data = param._data
        grad = -param._grad._data if maximize else param._grad._data  # type: ignore[union-attr]
        if eps1 is None:
            eps1 = float(xp.xp.finfo(data.dtype).eps)
        numel = math.prod(data.shape)
        one_minus_beta2_t = step**beta2_decay
        rho_t = min(lr, 1 / (step**0.5))
        alpha = max(eps2, norm_value(xp, data) / (numel**0.5)) * rho_t
        if weight_decay != 0:
            data *= 1 - lr * weight_decay
        if grad.ndim > 1:
            # The row and column means of g², each as the squared norm over the other axis / n.
            row_mean = xp.sqrt(xp.sum(grad * grad, axis=-1, keepdims=True))
            row_mean *= row_mean
            row_mean /= grad.shape[-1]
            row_var = state["row_var"]._data
            lerp_(row_var, row_mean, one_minus_beta2_t)
            col_mean = xp.sqrt(xp.sum(grad * grad, axis=-2, keepdims=True))
            col_mean *= col_mean
            col_mean /= grad.shape[-2]
            col_var = state["col_var"]._data
            lerp_(col_var, col_mean, one_minus_beta2_t)
            var_estimate = xp.matmul(row_var, col_var)
            var_estimate /= xp.clip(xp.mean(row_var, axis=-2, keepdims=True), min=eps1)
        else:
            variance = state["variance"]._data
            lerp_(variance, grad * grad, one_minus_beta2_t)
            var_estimate = xp.asarray(variance, copy=True)
        update = 1.0 / xp.sqrt(xp.clip(var_estimate, min=eps1 * eps1))  # clamp_(min).rsqrt_()
        update *= grad
        denom = max(1.0, norm_value(xp, update) / ((numel**0.5) * d))
        data += (-alpha / denom) * update  # add_(update, alpha=-alpha / denom)

